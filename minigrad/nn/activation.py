"""Activation layers and their functional forms, with PyTorch's names, arguments and defaults.

The functional forms are re-exported by :mod:`minigrad.nn.functional`
(``F.gelu``, ``F.silu``, ...). Where a composition of existing primitives is
accurate and stable it is used (silu = x sigmoid(x), softmin = softmax(-x),
...); the others are primitives of :mod:`minigrad.ops.activation`.

``inplace=True`` is a real in-place operation, under the version-counter
rules of :mod:`minigrad.ops.inplace`: the result is written into the input's
buffer and its version counter bumped, so a node that saved the old value
raises instead of giving a wrong gradient. While recording (grad mode on and
the input requires grad) the input takes the new node as its history, as
``add_`` does; a leaf that requires grad cannot be changed in place then
(GraphError), as in PyTorch.
"""

from __future__ import annotations

from ..errors import ArgumentError
from ..grad_mode import is_grad_enabled, no_grad
from ..ops import activation as _ops
from ..ops import inplace as _inplace
from ..tensor import Tensor
from .module import Module


def _apply(op: str, input, fn, inplace: bool):
    """``fn(input)``, or with ``inplace`` the same values written into ``input`` (see the module docstring)."""
    if not inplace:
        return fn(input)
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{op}: inplace=True needs a tensor, got {type(input).__name__}")
    if is_grad_enabled() and input.requires_grad:
        return _inplace._recorded(op, input, lambda old, _: fn(old), None)
    with no_grad():
        out = fn(input)
    if out.dtype != input.dtype:
        from ..errors import DTypeError

        raise DTypeError(f"{op}: inplace=True cannot store a {out.dtype} result in a {input.dtype} tensor")
    input.data[...] = out.data
    input._vc[0] += 1
    return input


# --- functional forms ----------------------------------------------------------------------------------------


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses
    x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2. See :func:`minigrad.ops.activation.gelu`.

    Raises ArgumentError for ``approximate`` other than 'none' or 'tanh'.
    """
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _ops.gelu(input, approximate=approximate)


# --- modules -------------------------------------------------------------------------------------------------


class GELU(Module):
    """Applies :func:`gelu` elementwise: GELU(x) = x Phi(x) (``approximate='tanh'``: its tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ArgumentError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

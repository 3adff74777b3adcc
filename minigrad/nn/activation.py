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

import numbers
import warnings

from .. import backend, creation
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, public_op
from ..grad_mode import is_grad_enabled, no_grad
from ..ops import activation as _ops
from ..ops import elementwise as _elementwise
from ..ops import inplace as _inplace
from ..ops import reduction as _reduction
from ..tensor import Tensor
from . import init as _init
from .module import Module, Parameter


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
        raise DTypeError(f"{op}: inplace=True cannot store a {out.dtype} result in a {input.dtype} tensor")
    input.array[...] = out.array
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


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise (gradient 0 at x = 0, as PyTorch); with ``inplace`` written into ``input``."""
    return _apply("relu", input, _elementwise.relu, inplace)


def relu_(input: Tensor) -> Tensor:
    """:func:`relu` in place: ``relu(input, inplace=True)``."""
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, else negative_slope * x (gradient negative_slope at x = 0, as PyTorch)."""
    return _apply("leaky_relu", input, lambda x: _elementwise.leaky_relu(x, negative_slope), inplace)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """:func:`leaky_relu` in place."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """ELU(x) = x for x > 0, else alpha (e^x - 1). d/dx at 0 is alpha (the negative branch, as PyTorch)."""
    return _apply("elu", input, lambda x: _ops.elu(x, alpha=alpha), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`elu` in place."""
    return elu(input, alpha, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU(x) = max(0, x) + min(0, alpha (e^(x / alpha) - 1)): continuously differentiable for every alpha
    (d/dx = 1 at 0). Raises ArgumentError for alpha = 0."""
    if alpha == 0:
        raise ArgumentError("celu: alpha cannot be 0 (CELU divides by it)")
    return _apply("celu", input, lambda x: _ops.elu(x, alpha=alpha, input_scale=1.0 / alpha), inplace)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """:func:`celu` in place."""
    return celu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """SELU(x) = scale * (x for x > 0, else alpha (e^x - 1)) with alpha = 1.6732632423543772848170429916717 and
    scale = 1.0507009873554804934193349852946 (Klambauer et al.); d/dx at 0 is scale * alpha, as PyTorch."""
    return _apply("selu", input, lambda x: _ops.elu(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE), inplace)


def selu_(input: Tensor) -> Tensor:
    """:func:`selu` in place."""
    return selu(input, inplace=True)


@public_op("silu")
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish) x sigmoid(x), composed of mul and the stable sigmoid; d/dx = s (1 + x (1 - s))."""
    return _apply("silu", input, lambda x: x * _elementwise.sigmoid(x), inplace)


@public_op("mish")
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish x tanh(softplus(x)), softplus in its stable form log1p(e^-|x|) + max(x, 0) (never overflows)."""
    return _apply("mish", input, lambda x: x * _elementwise.tanh(_ops.softplus(x, threshold=float("inf"))), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, reverting to x where beta x > threshold (see
    :func:`minigrad.ops.activation.softplus`)."""
    return _ops.softplus(input, beta=beta, threshold=threshold)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """min(max(x, min_val), max_val); d/dx = 1 strictly between the bounds, 0 at and beyond them.

    Raises ArgumentError when min_val > max_val.
    """
    if min_val > max_val:
        raise ArgumentError(f"hardtanh: min_val cannot be greater than max_val, got min_val={min_val}, "
                            f"max_val={max_val}")  # fmt: skip
    return _apply("hardtanh", input, lambda x: _ops.hardtanh(x, min_val=min_val, max_val=max_val), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """:func:`hardtanh` in place."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): hardtanh(x, 0, 6), so the gradient is 0 at both 0 and 6, as PyTorch."""
    return _apply("relu6", input, lambda x: _ops.hardtanh(x, min_val=0.0, max_val=6.0), inplace)


def _hardsigmoid(x):
    return _ops.hardtanh(x + 3, min_val=0.0, max_val=6.0) / 6


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 for x <= -3, 1 for x >= 3, x / 6 + 1/2 between; gradient 1/6 strictly inside
    (-3, 3) and 0 at the ends, as PyTorch."""
    return _apply("hardsigmoid", input, _hardsigmoid, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x hardsigmoid(x) = x relu6(x + 3) / 6 (Howard et al.). d/dx = x / 3 + 1/2 on (-3, 3), 0 below, 1
    above; the product rule gives 0 at x = -3 and 1 at x = 3, PyTorch's values there."""
    return _apply("hardswish", input, lambda x: x * _hardsigmoid(x), inplace)


@public_op("logsigmoid")
def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), computed as min(x, 0) - log1p(e^-|x|): no overflow, no log(0)."""
    return -_ops.softplus(-input, threshold=float("inf"))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|); d/dx = 1 / (1 + |x|)^2 (1 at 0)."""
    return input / (_elementwise.abs(input) + 1)


@public_op("tanhshrink")
def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x) (as PyTorch computes it; d/dx = tanh(x)^2)."""
    return input - _elementwise.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd above lambd, x + lambd below -lambd, 0 between; gradient 0 at +-lambd.

    Raises ArgumentError for lambd < 0.
    """
    if lambd < 0:
        raise ArgumentError(f"softshrink: lambd must be non-negative, got {lambd}")
    return _ops.softshrink(input, lambd=lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > lambd, else 0; gradient 0 at +-lambd."""
    return _ops.hardshrink(input, lambd=lambd)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value; gradient 0 at and below the threshold."""
    return _apply("threshold", input, lambda x: _ops.threshold(x, threshold=threshold, value=value), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """:func:`threshold` in place."""
    return _apply("threshold_", input, lambda x: _ops.threshold(x, threshold=threshold, value=value), True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, else weight * x, with one weight per channel (dim 1) or one for all (PyTorch's ``prelu``).

    ``weight`` is 0-d or 1-D with 1 or C elements, C = input.shape[1] (1 for inputs of fewer than 2
    dimensions); it is broadcast over every dimension but the channel one. The gradient at x = 0 is the
    negative branch's (weight for x, 0 for weight), as PyTorch.
    Raises ShapeError for a weight of more than one dimension or a count that is neither 1 nor C.
    """
    if weight.ndim > 1:
        raise ShapeError(f"prelu: weight must be 0-d or 1-D, got shape {tuple(weight.shape)}")
    count = weight.numel()
    channels = input.shape[1] if input.ndim >= 2 else 1
    if count != 1 and input.ndim == 0:
        raise ShapeError(f"prelu: a 0-d input takes a single weight, got {count}")
    if count not in (1, channels):
        raise ShapeError(
            f"prelu: {count} weights for an input of shape {tuple(input.shape)} with {channels} channels "
            "(dim 1); give 1 or one per channel"
        )
    return _ops.prelu(input, weight)


def _check_rrelu(lower, upper) -> None:
    if lower > upper:
        raise ArgumentError(f"rrelu: lower must not exceed upper, got lower={lower}, upper={upper}")


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:  # fmt: skip
    """Randomized leaky ReLU (Xu et al.): x for x > 0, else a x.

    In training each element draws its own slope a ~ U(lower, upper) from minigrad's generator (seeded by
    ``manual_seed``); the gradient is a where x <= 0 (at 0 too, as PyTorch). Otherwise a = (lower + upper) / 2
    for every element (:func:`leaky_relu`). Raises ArgumentError when lower > upper.
    """
    _check_rrelu(lower, upper)
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)

    def randomized(x):
        dtype = "float64" if x.dtype == "float64" else "float32"
        u = backend.generator(x.device).random(x.shape, dtype=dtype)
        slopes = (u * (upper - lower) + lower).astype(x.dtype if x.dtype.kind == "f" else dtype)
        return _ops.prelu(x, slopes)

    return _apply("rrelu", input, randomized, inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """:func:`rrelu` in place."""
    return rrelu(input, lower, upper, training, inplace=True)


def _softmax_dim(op: str, ndim: int) -> int:
    """PyTorch's implicit dim for softmax-like functions called with dim=None (deprecated there, with a warning):
    0 for 0-, 1- and 3-dimensional inputs, else 1 (the rule is F.softmax's, in ops.reduction)."""
    return _reduction.implicit_softmax_dim(op, ndim, stacklevel=4)


@public_op("softmin")
def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim`` (PyTorch's implicit choice, with its warning, when None); ``dtype`` casts the
    input first. Gradient: s (sum(g s) - g) along the axis."""
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return _reduction.softmax(-input, dim=dim)


@public_op("glu")
def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit a sigmoid(b), a and b the first and second halves of ``input`` along ``dim``.

    Raises ShapeError for a 0-d input or an odd size along ``dim``, IndexOutOfRange for a dim outside it.
    """
    if input.ndim == 0:
        raise ShapeError("glu: a 0-d tensor cannot be halved; glu needs at least one dimension")
    if not -input.ndim <= dim < input.ndim:
        raise IndexOutOfRange(f"glu: dim {dim} is out of range for an input of shape {tuple(input.shape)}")
    axis = dim % input.ndim
    n = input.shape[axis]
    if n % 2:
        raise ShapeError(
            f"glu: halving dimension must be even, but dimension {dim} of shape {tuple(input.shape)} has size {n}"
        )
    head = (slice(None),) * axis
    a, b = input[head + (slice(0, n // 2),)], input[head + (slice(n // 2, n),)]
    return a * _elementwise.sigmoid(b)


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


def _inplace_str(inplace: bool, first: bool = False) -> str:
    if not inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class ReLU(Module):
    """Applies :func:`relu`: max(x, 0) (in place with ``inplace=True``)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, first=True)


class LeakyReLU(Module):
    """Applies :func:`leaky_relu`: x for x > 0, else negative_slope * x."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_str(self.inplace)


class _AlphaUnit(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_str(self.inplace)


class ELU(_AlphaUnit):
    """Applies :func:`elu`: x for x > 0, else alpha (e^x - 1)."""

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha, self.inplace)


class CELU(_AlphaUnit):
    """Applies :func:`celu`: max(0, x) + min(0, alpha (e^(x / alpha) - 1))."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        if alpha == 0:
            raise ArgumentError("CELU: alpha cannot be 0 (CELU divides by it)")
        super().__init__(alpha, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return celu(input, self.alpha, self.inplace)


class _InplaceUnit(Module):
    """An activation whose only setting is ``inplace`` (shown in the repr when set, as PyTorch's)."""

    _fn = None

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_str(self.inplace, first=True)


class SELU(_InplaceUnit):
    """Applies :func:`selu`: scale * ELU(x) with SELU's fixed alpha and scale."""

    _fn = staticmethod(selu)


class SiLU(_InplaceUnit):
    """Applies :func:`silu`: x sigmoid(x)."""

    _fn = staticmethod(silu)


class Mish(_InplaceUnit):
    """Applies :func:`mish`: x tanh(softplus(x))."""

    _fn = staticmethod(mish)


class ReLU6(_InplaceUnit):
    """Applies :func:`relu6`: min(max(x, 0), 6). ``min_val`` and ``max_val`` are 0.0 and 6.0, as PyTorch's."""

    _fn = staticmethod(relu6)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.min_val, self.max_val = 0.0, 6.0


class Hardsigmoid(_InplaceUnit):
    """Applies :func:`hardsigmoid`: relu6(x + 3) / 6. Its repr shows no settings, as PyTorch's."""

    _fn = staticmethod(hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_InplaceUnit):
    """Applies :func:`hardswish`: x relu6(x + 3) / 6. Its repr shows no settings, as PyTorch's."""

    _fn = staticmethod(hardswish)

    def extra_repr(self) -> str:
        return ""


class Softplus(Module):
    """Applies :func:`softplus`: log(1 + e^(beta x)) / beta, x where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """Applies :func:`hardtanh`: min(max(x, min_val), max_val).

    ``min_value`` and ``max_value`` are PyTorch's deprecated spellings of ``min_val`` and ``max_val`` (they
    warn and win). Raises ArgumentError unless max_val > min_val (strictly, as PyTorch's module).
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:  # fmt: skip
        super().__init__()
        if min_value is not None:
            warnings.warn("keyword argument `min_value` is deprecated and renamed to `min_val`", FutureWarning, 2)
            min_val = min_value
        if max_value is not None:
            warnings.warn("keyword argument `max_value` is deprecated and renamed to `max_val`", FutureWarning, 2)
            max_val = max_value
        if not max_val > min_val:
            raise ArgumentError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_str(self.inplace)


class PReLU(Module):
    """Applies :func:`prelu` with a learned ``weight`` of shape (num_parameters,), every entry ``init``.

    ``num_parameters`` is 1 (one slope for all channels) or the number of channels (dim 1 of the input).
    state_dict key: ``weight``. Raises ArgumentError for a negative num_parameters.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        if not isinstance(num_parameters, numbers.Integral) or num_parameters < 0:
            raise ArgumentError(f"PReLU: num_parameters must be a non-negative int, got {num_parameters!r}")
        self.num_parameters, self.init = int(num_parameters), init
        self.weight = Parameter(creation.empty_tensor((self.num_parameters,), dtype, device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class _NoSettings(Module):
    _fn = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input)


class LogSigmoid(_NoSettings):
    """Applies :func:`logsigmoid`: log(sigmoid(x)), stably."""

    _fn = staticmethod(logsigmoid)


class Softsign(_NoSettings):
    """Applies :func:`softsign`: x / (1 + |x|)."""

    _fn = staticmethod(softsign)


class Tanhshrink(_NoSettings):
    """Applies :func:`tanhshrink`: x - tanh(x)."""

    _fn = staticmethod(tanhshrink)


class Softmax(Module):
    """softmax along ``dim``. ``dim=None`` (the default, as PyTorch's) takes PyTorch's implicit choice, with its
    deprecation warning: dim 0 for 0-, 1- and 3-dimensional inputs, else dim 1."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = _softmax_dim(self._op, input.ndim) if self.dim is None else self.dim
        return self._fn(input, dim=dim)

    _fn, _op = staticmethod(_reduction.softmax), "softmax"

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log_softmax along ``dim`` (PyTorch's implicit choice when None, as :class:`Softmax`)."""

    _fn, _op = staticmethod(_reduction.log_softmax), "log_softmax"


class Softmin(Module):
    """Applies :func:`softmin` along ``dim`` (PyTorch's implicit choice when None)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmin(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax2d(Module):
    """Softmax over the channels at every location: dim -3 of a (C, H, W) or (N, C, H, W) input.

    Raises ShapeError for inputs of other ranks.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise ShapeError(
                f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D (shape {tuple(input.shape)})"
            )
        return _reduction.softmax(input, dim=-3)


class _Shrink(Module):
    _fn = None

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Softshrink(_Shrink):
    """Applies :func:`softshrink`. Raises ArgumentError for lambd < 0 (when called, as PyTorch)."""

    _fn = staticmethod(softshrink)


class Hardshrink(_Shrink):
    """Applies :func:`hardshrink`."""

    _fn = staticmethod(hardshrink)


class Threshold(Module):
    """Applies :func:`threshold`: x where x > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace_str(self.inplace)


class GLU(Module):
    """Applies :func:`glu` along ``dim``: a sigmoid(b) of the two halves."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class RReLU(Module):
    """Applies :func:`rrelu`: random slopes in U(lower, upper) in training, (lower + upper) / 2 in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace_str(self.inplace)

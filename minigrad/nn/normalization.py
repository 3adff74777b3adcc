"""Normalization layers and functions, with PyTorch's names, arguments, parameters and initialisation.

All are compositions of minigrad primitives (means, products, rsqrt, norms),
so their gradients, second order included, come from the tape. The
functional forms are re-exported by :mod:`minigrad.nn.functional`.
BatchNorm lives in :mod:`minigrad.nn.layers`.
"""

from __future__ import annotations

import numbers

from .. import creation
from ..errors import ShapeError
from ..ops.pointwise import rsqrt
from ..ops.reduction import mean
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def _shape_tuple(op: str, normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise ShapeError(
            f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}"
        ) from None
    return shape


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalize over the trailing ``normalized_shape`` dimensions, then scale and shift elementwise.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the mean and the
    biased variance taken over the last ``len(normalized_shape)`` dimensions
    of each sample, as PyTorch's ``F.layer_norm``. ``weight`` and ``bias`` (if
    given) have the shape ``normalized_shape``.

    Raises ShapeError when the input's trailing dimensions are not
    ``normalized_shape`` (or it is empty), or weight/bias have another shape.
    """
    shape = _shape_tuple("layer_norm", normalized_shape)
    k = len(shape)
    if k == 0:
        raise ShapeError("layer_norm: normalized_shape must have at least one dimension, got ()")
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of shape {tuple(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected normalized_shape {shape}")
    axes = tuple(range(input.ndim - k, input.ndim))
    centered = input - mean(input, axis=axes, keepdims=True)
    var = mean(centered * centered, axis=axes, keepdims=True)
    out = centered * rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dimensions (see :func:`layer_norm`).

    As PyTorch's: with ``elementwise_affine`` a ``weight`` of ones and (with
    ``bias``) a ``bias`` of zeros, each of shape ``normalized_shape``;
    otherwise both are None. state_dict keys: ``weight``, ``bias``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.normalized_shape = _shape_tuple("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty_tensor(self.normalized_shape, dtype, device))
            self.register_parameter(
                "bias", Parameter(creation.empty_tensor(self.normalized_shape, dtype, device)) if bias else None
            )
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")  # fmt: skip

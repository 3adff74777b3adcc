"""Root-mean-square layer normalization (Zhang & Sennrich, 2019): ``nn.RMSNorm`` and ``F.rms_norm``.

y = x / sqrt(mean(x^2) + eps) * weight, the mean over the trailing ``normalized_shape`` dimensions:
LayerNorm without the centering and the bias, as the small transformers of #17 (LLaMA-style blocks)
use it. A composition of primitives (mean, rsqrt, products), so gradients of every order come from
the tape.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import creation
from ..errors import ArgumentError, ShapeError
from ..ops.pointwise import rsqrt
from ..ops.reduction import mean
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def _shape_tuple(op: str, normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    try:
        return tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise ShapeError(
            f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}"
        ) from None


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Divide by the root mean square over the trailing ``normalized_shape`` dimensions, then scale.

    y = x / sqrt(mean(x^2) + eps) * weight, as PyTorch's ``F.rms_norm``. ``eps=None`` (the default)
    means the machine epsilon of the input's dtype, ``finfo(input.dtype).eps`` (1.19e-7 in float32,
    2.2e-16 in float64), as PyTorch. ``weight`` (if given) has the shape ``normalized_shape``.

    Raises ShapeError when the input's trailing dimensions are not ``normalized_shape`` or the
    weight has another shape, ArgumentError for a negative ``eps``.
    """
    shape = _shape_tuple("rms_norm", normalized_shape)
    k = len(shape)
    if not isinstance(input, Tensor):
        raise ArgumentError(f"rms_norm: input must be a Tensor, got {type(input).__name__}")
    if k == 0:
        raise ShapeError("rms_norm: normalized_shape must have at least one dimension, got ()")
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"rms_norm: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of shape {tuple(input.shape)}"
        )
    if weight is not None and tuple(weight.shape) != shape:
        raise ShapeError(f"rms_norm: weight has shape {tuple(weight.shape)}, expected normalized_shape {shape}")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps) if input.dtype.kind == "f" else float(np.finfo(np.float32).eps)
    elif not eps >= 0:
        raise ArgumentError(f"rms_norm: eps must be non-negative, got {eps}")
    axes = tuple(range(input.ndim - k, input.ndim))
    out = input * rsqrt(mean(input * input, axis=axes, keepdims=True) + eps)
    return out if weight is None else out * weight


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing ``normalized_shape`` dimensions (see :func:`rms_norm`).

    As PyTorch's ``nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True)``: with
    ``elementwise_affine`` a ``weight`` of ones of shape ``normalized_shape`` (state_dict key
    ``weight``), otherwise None; ``eps=None`` uses the input dtype's machine epsilon.
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.normalized_shape = _shape_tuple("RMSNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty_tensor(self.normalized_shape, dtype, device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x: Tensor) -> Tensor:
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


__all__ = ["RMSNorm", "rms_norm"]

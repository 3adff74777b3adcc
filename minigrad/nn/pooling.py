"""Pooling, resampling, padding and channel-dropout layers with PyTorch's names and arguments, and the
functional channel dropouts (``F.dropout1d``, ``F.dropout2d``, ``F.alpha_dropout``).

The layers hold their settings and call the functions of :mod:`minigrad.ops.pooling` and
:mod:`minigrad.ops.resample`; they have no parameters and no state.
"""

from __future__ import annotations

import math

from .. import backend
from ..errors import ArgumentError, ShapeError
from ..ops import pooling as P
from ..ops import resample as R
from .module import Module


def _single(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _check_p(op: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: p must be in [0, 1], got {p}")


def _keep_mask(input, shape, p):
    draw_dtype = "float64" if input.dtype == "float64" else "float32"
    keep = backend.generator(input.device).random(shape, dtype=draw_dtype) >= p
    return keep


def _feature_dropout(op: str, input, p: float, training: bool, spatial: int):
    _check_p(op, p)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise ShapeError(
            f"{op}: expected a {spatial + 1}-D (C, *spatial) or {spatial + 2}-D (N, C, *spatial) input, got shape "
            f"{tuple(input.shape)}"
        )
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    if op == "dropout2d" and input.ndim == 3:  # PyTorch reads a 3-D input of dropout2d as (N, C, L)
        spatial = 1
    shape = tuple(input.shape[: input.ndim - spatial]) + (1,) * spatial  # one draw per channel
    scale = _keep_mask(input, shape, p) * (1 / (1 - p))
    return input * scale.astype(input.dtype)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels of an (N, C, L) or (C, L) input with probability p, scaling the rest by
    1 / (1 - p), as PyTorch's ``F.dropout1d``; the identity when not training."""
    return _feature_dropout("dropout1d", input, p, training, 1)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels (feature maps) of an (N, C, H, W) or (C, H, W) input with probability p,
    scaling the rest by 1 / (1 - p), as PyTorch's ``F.dropout2d``; the identity when not training.
    A 3-D input is read as (N, C, L), as PyTorch does (with a warning there): channel-wise 1-D dropout."""
    return _feature_dropout("dropout2d", input, p, training, 2)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero whole channels (volumes) of an (N, C, D, H, W) or (C, D, H, W) input with probability p,
    scaling the rest by 1 / (1 - p), as PyTorch's ``F.dropout3d``; the identity when not training."""
    return _feature_dropout("dropout3d", input, p, training, 3)


_SELU_ALPHA_SCALE = 1.7580993408473766  # SELU's scale * alpha: -that is the value SELU saturates at


def alpha_dropout(input, p: float = 0.5, training: bool = False, inplace: bool = False):
    """Dropout that keeps SELU's zero mean and unit variance, as PyTorch's ``F.alpha_dropout``.

    A dropped element becomes -alpha' (alpha' = 1.7581, SELU's saturation), then all are mapped by
    a x + b with a = ((1 - p)(1 + p alpha'^2))^(-1/2) and b = a alpha' p:
    kept: a x + a alpha' p; dropped: a alpha' (p - 1). The identity when not training.
    """
    _check_p("alpha_dropout", p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    a = 1.0 / math.sqrt((_SELU_ALPHA_SCALE**2 * p + 1) * (1 - p))
    keep = _keep_mask(input, tuple(input.shape), p).astype(input.dtype)
    shift = (keep - 1) * (_SELU_ALPHA_SCALE * a) + _SELU_ALPHA_SCALE * a * p
    return input * (keep * a) + shift


# --- pooling layers ------------------------------------------------------------------------------


class MaxPool1d(Module):
    """:func:`~minigrad.ops.pooling.max_pool1d` as a layer (PyTorch's ``nn.MaxPool1d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return P.max_pool1d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool1d(Module):
    """:func:`~minigrad.ops.pooling.avg_pool1d` as a layer (PyTorch's ``nn.AvgPool1d``)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        # PyTorch keeps these as 1-tuples (its repr shows kernel_size=(3,))
        self.kernel_size = _single(kernel_size)
        self.stride = _single(kernel_size if stride is None else stride)
        self.padding, self.ceil_mode, self.count_include_pad = _single(padding), ceil_mode, count_include_pad

    def forward(self, x):
        return P.avg_pool1d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _Adaptive(Module):
    def __init__(self, output_size, return_indices=None):
        super().__init__()
        self.output_size = output_size
        if return_indices is not None:
            self.return_indices = return_indices

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_Adaptive):
    """Mean over PyTorch's adaptive bins to ``output_size`` (``nn.AdaptiveAvgPool1d``)."""

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, x):
        return P.adaptive_avg_pool1d(x, self.output_size)


class AdaptiveAvgPool2d(_Adaptive):
    """Mean over PyTorch's adaptive bins to ``output_size`` (``nn.AdaptiveAvgPool2d``; None keeps a size)."""

    def __init__(self, output_size):
        super().__init__(output_size)

    def forward(self, x):
        return P.adaptive_avg_pool2d(x, self.output_size)


class AdaptiveMaxPool1d(_Adaptive):
    """Max over PyTorch's adaptive bins to ``output_size`` (``nn.AdaptiveMaxPool1d``)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)

    def forward(self, x):
        return P.adaptive_max_pool1d(x, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_Adaptive):
    """Max over PyTorch's adaptive bins to ``output_size`` (``nn.AdaptiveMaxPool2d``; None keeps a size)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size, return_indices)

    def forward(self, x):
        return P.adaptive_max_pool2d(x, self.output_size, self.return_indices)


class MaxUnpool2d(Module):
    """:func:`~minigrad.ops.pooling.max_unpool2d` as a layer; ``forward(input, indices, output_size=None)``."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        # PyTorch keeps these as pairs (its repr shows kernel_size=(2, 2))
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(kernel_size if stride is None else stride)
        self.padding = _pair(padding)

    def forward(self, input, indices, output_size=None):
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _LPPoolNd(Module):
    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    """:func:`~minigrad.ops.pooling.lp_pool1d` as a layer (PyTorch's ``nn.LPPool1d``)."""

    def forward(self, x):
        return P.lp_pool1d(x, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool2d(_LPPoolNd):
    """:func:`~minigrad.ops.pooling.lp_pool2d` as a layer (PyTorch's ``nn.LPPool2d``)."""

    def forward(self, x):
        return P.lp_pool2d(x, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


# --- resampling ------------------------------------------------------------------------------------


class Upsample(Module):
    """:func:`~minigrad.ops.resample.interpolate` as a layer (PyTorch's ``nn.Upsample``)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
        super().__init__()
        self.size, self.mode, self.align_corners = size, mode, align_corners
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, x):
        return R.interpolate(
            x, self.size, self.scale_factor, self.mode, self.align_corners, self.recompute_scale_factor
        )

    def extra_repr(self) -> str:
        what = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return f"{what}, mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """2-D nearest upsampling (PyTorch's ``nn.UpsamplingNearest2d``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """2-D bilinear upsampling with align_corners=True (PyTorch's ``nn.UpsamplingBilinear2d``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """(*, C r^2, H, W) -> (*, C, H r, W r) (PyTorch's ``nn.PixelShuffle``)."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, x):
        return R.pixel_shuffle(x, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H r, W r) -> (*, C r^2, H, W) (PyTorch's ``nn.PixelUnshuffle``)."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, x):
        return R.pixel_unshuffle(x, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (one entry may be -1), PyTorch's ``nn.Unflatten``."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise ArgumentError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x):
        shape = tuple(x.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise ShapeError(f"Unflatten: dim {self.dim} is out of range for an input of shape {shape}")
        d = self.dim % len(shape)
        sizes = self.unflattened_size
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != shape[d]) or (known and shape[d] % known):
            raise ShapeError(
                f"Unflatten: sizes {sizes} do not multiply to the size {shape[d]} of dimension {d} of the input of "
                f"shape {shape}"
            )
        return x.reshape(shape[:d] + sizes + shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# --- padding ----------------------------------------------------------------------------------------


class _PadNd(Module):
    """A padding layer: ``padding`` an int (every side) or a tuple of (before, after) widths from the last
    dimension backwards, as F.pad takes them (a negative width crops)."""

    _pairs = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        n = 2 * self._pairs
        if isinstance(padding, int):
            padding = (padding,) * n
        # a tuple passes to F.pad as it is (as PyTorch's _pair/_quadruple do), which checks its length
        if not isinstance(padding, (tuple, list)) or not all(isinstance(p, int) for p in padding):
            raise ArgumentError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        self.padding = tuple(padding)

    def forward(self, x):
        return R.pad(x, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float):
        super().__init__(padding)
        self.value = value

    def forward(self, x):
        return R.pad(x, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value`` (``nn.ConstantPad1d(padding, value)``; padding int or (left, right))."""


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value`` (``nn.ConstantPad2d``; padding int or (l, r, top, bottom))."""

    _pairs = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value`` (``nn.ConstantPad3d``)."""

    _pairs = 3


class ZeroPad1d(_ConstantPadNd):
    """Pad the last dimension with zeros (``nn.ZeroPad1d``)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(_ConstantPadNd):
    """Pad the last two dimensions with zeros (``nn.ZeroPad2d``; padding int or (l, r, top, bottom))."""

    _pairs = 2

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Mirror-pad the last dimension of a 2-D or 3-D input (``nn.ReflectionPad1d``)."""

    _mode = "reflect"


class ReflectionPad2d(_PadNd):
    """Mirror-pad the last two dimensions of a 3-D or 4-D input (``nn.ReflectionPad2d``)."""

    _pairs, _mode = 2, "reflect"


class ReplicationPad1d(_PadNd):
    """Edge-repeat pad of the last dimension of a 2-D or 3-D input (``nn.ReplicationPad1d``)."""

    _mode = "replicate"


class ReplicationPad2d(_PadNd):
    """Edge-repeat pad of the last two dimensions of a 3-D or 4-D input (``nn.ReplicationPad2d``)."""

    _pairs, _mode = 2, "replicate"


class CircularPad1d(_PadNd):
    """Wrap-around pad of the last dimension of a 2-D or 3-D input (``nn.CircularPad1d``)."""

    _mode = "circular"


class CircularPad2d(_PadNd):
    """Wrap-around pad of the last two dimensions of a 3-D or 4-D input (``nn.CircularPad2d``)."""

    _pairs, _mode = 2, "circular"


class ZeroPad3d(_ConstantPadNd):
    """Pad the last three dimensions with zeros (``nn.ZeroPad3d``; padding int or (l, r, top, bottom, front,
    back))."""

    _pairs = 3

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad3d(_PadNd):
    """Mirror-pad the last three dimensions of a 4-D or 5-D input (``nn.ReflectionPad3d``)."""

    _pairs, _mode = 3, "reflect"


class ReplicationPad3d(_PadNd):
    """Edge-repeat pad of the last three dimensions of a 4-D or 5-D input (``nn.ReplicationPad3d``)."""

    _pairs, _mode = 3, "replicate"


class CircularPad3d(_PadNd):
    """Wrap-around pad of the last three dimensions of a 4-D or 5-D input (``nn.CircularPad3d``)."""

    _pairs, _mode = 3, "circular"


# --- channel dropout layers --------------------------------------------------------------------------


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        _check_p(type(self).__name__, p)
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) inputs in training (``nn.Dropout1d``)."""

    def forward(self, x):
        return dropout1d(x, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) inputs in training (``nn.Dropout2d``)."""

    def forward(self, x):
        return dropout2d(x, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of (N, C, D, H, W) inputs in training (``nn.Dropout3d``)."""

    def forward(self, x):
        return dropout3d(x, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """:func:`alpha_dropout` in training, the identity in eval mode (``nn.AlphaDropout``)."""

    def forward(self, x):
        return alpha_dropout(x, self.p, self.training)

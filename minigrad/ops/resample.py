"""Resampling and padding with PyTorch's semantics: ``interpolate``, ``pad`` in every mode, pixel shuffles.

All of it is composed of primitives that carry their own vjps, so gradients
and second order come with them:

* ``interpolate`` works one spatial axis at a time. The nearest modes pick a
  source index for every output position (a gather, ``getitem`` with an index
  array, exact in every dtype; its vjp scatter-adds). The interpolating modes
  (linear, bilinear, bicubic, trilinear) are linear maps along each axis: output
  i is the weighted sum of its 2 (or 4) taps, a gather and a weighted sum per
  axis (:func:`~minigrad.ops.pooling.apply_taps`; the vjp scatter-adds), so an
  inf or nan reaches only the outputs that read it, as in PyTorch.
  'area' is :func:`~minigrad.ops.pooling.adaptive_avg_pool2d`'s bins, the same
  way. PyTorch's bilinear and bicubic weights are products of per-axis
  weights, so this separable form computes its numbers (up to rounding).
* ``pad`` with 'reflect', 'replicate' or 'circular' is a gather along each
  padded axis with the index map of the mode; negative widths crop.
* ``pixel_shuffle`` / ``pixel_unshuffle`` are a reshape, a permutation and a
  reshape.

Source positions, as PyTorch's kernels compute them, for output index ``d``
of an axis resized from ``L`` to ``n`` (``scale`` = 1 / scale_factor when a
scale factor is passed on, else L / n):

* nearest: ``min(floor(d * scale), L - 1)`` in float32 (on 4-D inputs PyTorch takes d itself when
  n == L and d // 2 when n == 2 L, whatever the scale);
* nearest-exact: ``min(floor((d + 0.5) * scale), L - 1)`` in float32;
* linear modes, ``align_corners=True``: ``d (L - 1) / (n - 1)`` (0 when n == 1);
  ``align_corners=False``: ``max(scale (d + 0.5) - 0.5, 0)``; then the two
  neighbours ``floor(src)`` and the next one (clamped) with weights 1 - t, t;
* bicubic: the same source without the clamp at 0, and the four neighbours
  ``floor(src) - 1 .. floor(src) + 2`` (clamped to the axis) weighted by Keys'
  cubic convolution with A = -0.75.

The linear modes leave an axis whose size does not change as it is, whatever the scale factor, as
PyTorch's kernels do.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor
from .pooling import adaptive_bins, apply_taps, taps_of
from .shape import getitem, permute, reshape
from .shape import pad as _constant_pad

_INTS = (int, np.integer)
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_INTERPOLATING = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_CUBIC_A = -0.75
_KEEPS_EQUAL_AXES = ("linear", "bilinear", "trilinear")


def _data(x):
    return x.array if isinstance(x, Tensor) else x


def _device(x) -> str:
    return backend.device_of(_data(x))


# --- source indices and weights ------------------------------------------------------------------------


def _scale(in_size: int, out_size: int, scale: float | None) -> float:
    """PyTorch's compute_scales_value: 1 / scale_factor when one is passed on, else in / out."""
    return 1.0 / scale if scale is not None and scale > 0 else in_size / out_size


def nearest_source(in_size: int, out_size: int, scale: float | None, exact: bool = False) -> np.ndarray:
    """The source index of each output position of 'nearest' (or 'nearest-exact'), PyTorch's float32 rule."""
    dst = np.arange(out_size, dtype=np.float32)
    factor = np.float32(_scale(in_size, out_size, scale))
    src = np.floor(((dst + np.float32(0.5)) if exact else dst) * factor).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _source_coordinate(in_size, out_size, scale, align_corners, cubic):
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        step = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        return dst * step
    src = _scale(in_size, out_size, scale) * (dst + 0.5) - 0.5
    return src if cubic else np.maximum(src, 0.0)


def _cubic_weights(t):
    """Keys' cubic convolution weights of the four neighbours at offsets -1, 0, 1, 2 from floor(src)."""
    a = _CUBIC_A

    def near(s):  # |s| <= 1
        return ((a + 2) * s - (a + 3)) * s * s + 1

    def far(s):  # 1 < |s| < 2
        return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def interpolation_taps(in_size: int, out_size: int, mode: str, align_corners: bool, scale=None):
    """(out_size, K) source indices and float64 weights of one axis of a linear-mode resize (see the
    module docstring), tap for tap as PyTorch's kernels read them (clamped taps repeat an index)."""
    if mode == "area":
        matrix = np.zeros((out_size, in_size))
        for i, (a, b) in enumerate(adaptive_bins(in_size, out_size)):
            matrix[i, a:b] = 1.0 / (b - a)
        return taps_of(matrix)
    cubic = mode == "bicubic"
    src = _source_coordinate(in_size, out_size, scale, align_corners, cubic)
    if cubic:
        base = np.floor(src).astype(np.int64)
        index = np.stack([np.clip(base + offset, 0, in_size - 1) for offset in (-1, 0, 1, 2)], axis=1)
        return index, np.stack(_cubic_weights(src - base), axis=1)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    t = np.clip(src - low, 0.0, 1.0)
    high = np.minimum(low + 1, in_size - 1)
    return np.stack([low, high], axis=1), np.stack([1.0 - t, t], axis=1)


def interpolation_matrix(in_size: int, out_size: int, mode: str, align_corners: bool, scale=None) -> np.ndarray:
    """(out_size, in_size) float64 matrix of one axis of a linear-mode resize: :func:`interpolation_taps` summed."""
    index, weight = interpolation_taps(in_size, out_size, mode, align_corners, scale)
    matrix = np.zeros((out_size, in_size + 1))
    np.add.at(matrix, (np.arange(out_size)[:, None], index), weight)
    return matrix[:, :in_size]


def _gather_along(x, index: np.ndarray, axis: int):
    key = (Ellipsis, backend.to_device(index, _device(x))) + (slice(None),) * (-axis - 1)
    return getitem(x, key)


# --- interpolate ---------------------------------------------------------------------------------------


def _sizes(op, x, size, scale_factor, recompute_scale_factor):
    """The output sizes and the scale factors PyTorch passes on to its kernels (None: use in / out)."""
    spatial = x.ndim - 2
    if (size is None) == (scale_factor is None):
        which = "only one of size or scale_factor" if size is not None else "either size or scale_factor"
        raise ArgumentError(f"{op}: {which} should be defined, got size={size!r}, scale_factor={scale_factor!r}")
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, _INTS) else tuple(size)
        if len(sizes) != spatial or not all(isinstance(s, _INTS) for s in sizes):
            raise ShapeError(
                f"{op}: size {size!r} must be an int or hold one int for each of the {spatial} spatial dimensions "
                f"of the input of shape {tuple(x.shape)}"
            )
        if min(sizes) < 1:
            raise ShapeError(f"{op}: output sizes must be positive, got {sizes}")
        return tuple(int(s) for s in sizes), (None,) * spatial
    factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(factors) != spatial or not all(isinstance(f, (int, float)) for f in factors):
        raise ShapeError(
            f"{op}: scale_factor {scale_factor!r} must be a number or hold one for each of the {spatial} spatial "
            f"dimensions of the input of shape {tuple(x.shape)}"
        )
    sizes = tuple(math.floor(float(s) * float(f)) for s, f in zip(x.shape[2:], factors))
    if min(sizes) < 1 or min(factors) <= 0:
        raise ShapeError(f"{op}: scale_factor {scale_factor!r} gives output sizes {sizes} for input {tuple(x.shape)}")
    passed = (None,) * spatial if recompute_scale_factor else tuple(float(f) for f in factors)
    return sizes, passed


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
):
    """Resize the spatial dimensions of an (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, as
    PyTorch's ``F.interpolate``.

    Give exactly one of ``size`` (an int or one per spatial dimension) and ``scale_factor`` (a number
    or one per dimension; the output is floor(in * scale_factor)). ``mode`` is 'nearest',
    'nearest-exact', 'linear' (3-D), 'bilinear' or 'bicubic' (4-D), 'trilinear' (5-D) or 'area'
    (adaptive average pooling). ``align_corners`` (interpolating modes only, default False) maps the
    corner pixels' centres onto each other: src = d (in - 1) / (out - 1); otherwise src = (d + 0.5) /
    scale - 0.5. A ``scale_factor`` is used in that formula as given unless ``recompute_scale_factor``
    is True (then in / out). Source indices and weights: see the module docstring. Differentiable in
    every mode (the nearest modes route each cotangent to its source element).

    Raises ArgumentError for a bad mode, both or neither of size and scale_factor, ``align_corners``
    with a non-interpolating mode, or ``antialias=True`` (not supported); ShapeError for sizes of the
    wrong length or a mode that needs another ndim.
    """
    op = "interpolate"
    if mode not in _MODES:
        raise ArgumentError(f"{op}: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    if antialias:
        raise ArgumentError(f"{op}: antialias=True is not supported by minigrad")
    if align_corners is not None and mode not in _INTERPOLATING:
        raise ArgumentError(
            f"{op}: align_corners option can only be set with the interpolating modes: linear | bilinear | "
            f"bicubic | trilinear, got mode {mode!r}"
        )
    if input.ndim not in (3, 4, 5):
        raise ShapeError(f"{op}: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape {tuple(input.shape)}")
    if mode in _INTERPOLATING and input.ndim != _INTERPOLATING[mode]:
        raise ShapeError(
            f"{op}: got {input.ndim}D input, but {mode} mode needs {_INTERPOLATING[mode]}D input "
            f"(shape {tuple(input.shape)})"
        )
    if mode in _INTERPOLATING or mode == "area":
        if input.dtype.kind != "f":
            raise DTypeError(f"{op}: mode {mode!r} needs a floating-point input, got dtype {input.dtype}")
    if 0 in input.shape[2:]:
        raise ShapeError(f"{op}: expected non-empty spatial dimensions, got input shape {tuple(input.shape)}")
    sizes, scales = _sizes(op, input, size, scale_factor, recompute_scale_factor)
    out = input
    spatial = input.ndim - 2
    for k in range(spatial):
        axis = k - spatial
        in_size, out_size = input.shape[2 + k], sizes[k]
        if out_size == in_size and (mode in _KEEPS_EQUAL_AXES or (mode == "nearest" and spatial == 2)):
            continue  # PyTorch's kernels leave an axis whose size does not change as it is, whatever the scale
        if mode in ("nearest", "nearest-exact"):
            if mode == "nearest" and spatial == 2 and out_size == 2 * in_size:  # PyTorch's 2-D shortcut: d >> 1
                source = np.arange(out_size, dtype=np.int64) >> 1
            else:
                source = nearest_source(in_size, out_size, scales[k], mode == "nearest-exact")
            out = _gather_along(out, source, axis)
        else:
            index, weight = interpolation_taps(in_size, out_size, mode, bool(align_corners), scales[k])
            out = apply_taps(out, index, weight, axis)
    if out is input:  # nearest to the same size: still a new tensor, as PyTorch's
        out = input * 1 if input.dtype.kind != "b" else getitem(input, (Ellipsis,))
    return out


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    """PyTorch's deprecated ``F.upsample``: :func:`interpolate`."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """PyTorch's ``F.upsample_nearest``: :func:`interpolate` with mode 'nearest'."""
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """PyTorch's ``F.upsample_bilinear``: :func:`interpolate` with mode 'bilinear' and align_corners=True."""
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --- pad -----------------------------------------------------------------------------------------------


def _pad_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Source index of each position of one padded axis (negative widths crop)."""
    if mode == "circular":  # PyTorch crops first, then wraps around what is left
        lo, hi = max(-before, 0), size - max(-after, 0)
        kept = np.arange(lo, hi)
        j = np.arange(-max(before, 0), len(kept) + max(after, 0))
        return kept[j % len(kept)] if len(kept) else kept
    j = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(j, 0, size - 1)
    j = np.abs(j)
    return np.where(j >= size, 2 * (size - 1) - j, j)


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """PyTorch's ``F.pad``: ``pad`` lists (before, after) widths from the last dimension backwards.

    'constant' fills with ``value`` (default 0) and pads any number of dimensions. 'reflect' mirrors
    about the edge element (x[1], x[0] | x[0], x[1], ...; widths below the axis length), 'replicate'
    repeats the edge element, 'circular' wraps around (widths up to the axis length). These pad the
    last 1, 2 or 3 dimensions of an input with one or two more (len(pad) 2 for 2-D or 3-D inputs, 4
    for 3-D or 4-D, 6 for 4-D or 5-D) and take no ``value``. A negative width crops: output position
    j of an axis of length L padded by (before, after) copies source j - before, brought into [0, L)
    by the mode (reflect: |i|, then 2 (L - 1) - i past the end; replicate: clamp; circular: modulo the
    length of the axis as cropped, as PyTorch). Differentiable: each padded element passes its
    cotangent back to the element it copies.

    Raises ShapeError for an odd-length ``pad``, too many pairs, an unsupported ndim for the mode,
    reflect widths >= the axis length, circular widths that wrap more than once or an empty result;
    ArgumentError for an unknown mode or a ``value`` with a non-constant mode.
    """
    pad = tuple(int(p) for p in pad)
    shape = tuple(input.shape)
    if len(pad) % 2:
        raise ShapeError(f"pad: padding length must be divisible by 2, got {pad!r}")
    pairs = len(pad) // 2
    if pairs > input.ndim:
        raise ShapeError(f"pad: {pad!r} holds {pairs} (before, after) pairs for an input of {input.ndim} dimensions")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ArgumentError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    widths = [(pad[2 * k], pad[2 * k + 1]) for k in range(pairs)]  # last dimension first
    if mode == "constant":
        return _pad_constant(input, widths, 0.0 if value is None else value)
    if value is not None and value != 0:
        raise ArgumentError(f'pad: padding mode "{mode}" doesn\'t take in value argument, got value={value!r}')
    if pairs not in (1, 2, 3) or input.ndim not in (pairs + 1, pairs + 2):
        raise ShapeError(
            f"pad: {mode} padding of {pairs} dimension(s) (len(pad) {len(pad)}) needs a {pairs + 1}-D or "
            f"{pairs + 2}-D input, got shape {shape}"
        )
    out = input
    for k, (before, after) in enumerate(widths):
        axis = -1 - k
        size = shape[axis]
        if mode == "reflect" and (before >= size or after >= size):
            raise ShapeError(
                f"pad: reflect padding ({before}, {after}) must be less than the size {size} of dimension "
                f"{input.ndim + axis} of the input of shape {shape}"
            )
        kept = size - max(-before, 0) - max(-after, 0)
        # PyTorch wraps the trailing padding around the cropped axis as often as it takes (its kernel
        # copies from the output), but leading padding longer than the cropped axis reads memory it
        # never wrote, and either width above the axis length is its "wraps around more than once"
        if mode == "circular" and (before > size or after > size or before > kept or (after > 0 and kept <= 0)):
            raise ShapeError(
                f"pad: circular padding ({before}, {after}) of dimension {input.ndim + axis} (size {size}, "
                f"{kept} after cropping) would wrap around more than once; input shape {shape}"
            )
        new = size + before + after
        if new < 0 or (new == 0 and mode != "circular") or (mode == "circular" and kept < 0):
            raise ShapeError(
                f"pad: the input of shape {shape} padded by ({before}, {after}) on dimension {input.ndim + axis} "
                f"gives size {new}"
            )
        if before or after:
            out = _gather_along(out, _pad_index(size, before, after, mode), axis)
    return out


def _pad_constant(input, widths, value):
    """Constant padding, negative widths cropping first (PyTorch's constant_pad_nd)."""
    shape = tuple(input.shape)
    crop = [slice(None)] * input.ndim
    grow = [(0, 0)] * input.ndim
    for k, (before, after) in enumerate(widths):
        d = input.ndim - 1 - k
        start, stop = max(-before, 0), shape[d] - max(-after, 0)
        if stop < start:
            raise ShapeError(
                f"pad: the input size {shape[d]} of dimension {d}, plus negative padding ({before}, {after}), "
                f"gives a negative size (input shape {shape})"
            )
        crop[d] = slice(start, stop)
        grow[d] = (max(before, 0), max(after, 0))
    out = input
    if any(s != slice(None) for s in crop):
        out = getitem(out, tuple(crop))
    return _constant_pad(out, grow, value=value)


# --- pixel shuffles -------------------------------------------------------------------------------------


def _factor(op, value, name):
    if not isinstance(value, _INTS) or value < 1:
        raise ArgumentError(f"{op}: {name} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor: int):
    """(*, C r^2, H, W) -> (*, C, H r, W r), as PyTorch's ``F.pixel_shuffle``:
    out[..., c, h r + i, w r + j] = in[..., c r^2 + i r + j, h, w]. A reshape and a permutation."""
    op = "pixel_shuffle"
    r = _factor(op, upscale_factor, "upscale_factor")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got shape {shape}")
    *lead, c, h, w = shape
    if c % (r * r):
        raise ShapeError(
            f"{op}: the channel dimension {c} of the input of shape {shape} is not divisible by upscale_factor "
            f"squared ({r * r})"
        )
    n = len(lead)
    x = reshape(input, (*lead, c // (r * r), r, r, h, w))
    order = tuple(range(n)) + (n, n + 3, n + 1, n + 4, n + 2)
    return reshape(permute(x, order), (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of :func:`pixel_shuffle`, as PyTorch's
    ``F.pixel_unshuffle``."""
    op = "pixel_unshuffle"
    r = _factor(op, downscale_factor, "downscale_factor")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ShapeError(f"{op}: expected an input of at least 3 dimensions (*, C, H, W), got shape {shape}")
    *lead, c, h, w = shape
    if h % r or w % r:
        raise ShapeError(f"{op}: the height {h} and width {w} of the input of shape {shape} must be divisible by {r}")
    n = len(lead)
    x = reshape(input, (*lead, c, h // r, r, w // r, r))
    order = tuple(range(n)) + (n, n + 2, n + 4, n + 1, n + 3)
    return reshape(permute(x, order), (*lead, c * r * r, h // r, w // r))

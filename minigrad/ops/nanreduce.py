"""NaN-aware reductions and quantiles of issue #16: ``nansum``, ``nanmean``, ``nanmedian``, ``quantile``,
``nanquantile`` and ``aminmax``, with PyTorch's arguments (``dim``/``keepdim``; NumPy's ``axis``/``keepdims``
too where the reduction takes several dims).

All are composed from primitives (``where``, ``sum``, ``sort``, ``take_along_dim``, ``amin``/``amax`` and the
median's pick), so their gradients, second order and kinks are those primitives':

- ``nansum``/``nanmean``: NaN entries count as absent; their gradient is 0 (PyTorch's).
- ``quantile(input, q)``: the values sorted along ``dim`` (NaN last); for q in [0, 1] the rank is
  ``q (n - 1)``, and ``interpolation`` says what a fractional rank gives: ``"linear"`` (the two neighbours
  lerped, the default), ``"lower"``, ``"higher"``, ``"nearest"`` (the rank rounded half to even, as
  PyTorch's round) or ``"midpoint"``. The gradient goes to the one or two sorted elements it read, so
  equal neighbours share it as in PyTorch. A slice with a NaN gives NaN.
- ``nanquantile``: the same over the non-NaN values of each slice (n is their count); an all-NaN slice
  gives NaN.
- ``nanmedian``: the lower median of the non-NaN values (an all-NaN slice: NaN at index (n - 1) // 2).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..backend import xp_of
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, public_op
from ..tensor import Tensor
from . import elementwise, reduction, selection, shape, sorting
from .sorting import _median, _median_all, _raw, _select, _sort_order

AminmaxResult = namedtuple("aminmax", ["min", "max"])
AminmaxResult.__doc__ = "What ``aminmax`` returns, as PyTorch's ``torch.return_types.aminmax``: (min, max)."
NanmedianResult = namedtuple("nanmedian", ["values", "indices"])
NanmedianResult.__doc__ = (
    "What ``nanmedian`` returns with a dim, as PyTorch's ``torch.return_types.nanmedian``: the lower median of "
    "the non-NaN values of each slice and its index."
)

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _nan_mask(input):
    raw = _raw(input)
    return xp_of(raw).isnan(raw) if raw.dtype.kind == "f" else None


def _zero_nans(input):
    mask = _nan_mask(input)
    return input if mask is None else elementwise.where(mask, 0.0, input)


def _cast(out, dtype):
    return out if dtype is None or out.dtype == np.dtype(dtype) else elementwise.astype(out, dtype=np.dtype(dtype))


@public_op("nansum")
def nansum(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """The sum over ``dim`` (all elements by default) with NaN counted as zero, ``torch.nansum``.

    d/dinput = 1, and 0 at the NaN entries. ``dtype`` casts the input first. Integer tensors sum as they are.
    """
    axis, keepdims = reduction.reduce_args("nansum", axis, keepdims if keepdims is not None else keepdim, dim, None)
    return reduction.sum(_zero_nans(_cast(input, dtype)), axis=axis, keepdims=keepdims)


@public_op("nanmean")
def nanmean(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    """The mean of the non-NaN entries over ``dim`` (all by default), ``torch.nanmean``: nansum / their count.

    A slice of NaN only gives NaN (0 / 0). d/dinput = 1 / count, 0 at NaN. Raises DTypeError for a
    non-floating input (PyTorch: "expected input to have floating point dtype").
    """
    input = _cast(input, dtype)
    if np.dtype(input.dtype).kind != "f":
        raise DTypeError(f"nanmean: expected input to have a floating point dtype, got {input.dtype}")
    axis, keepdims = reduction.reduce_args("nanmean", axis, keepdims if keepdims is not None else keepdim, dim, None)
    total = reduction.sum(_zero_nans(input), axis=axis, keepdims=keepdims)  # first: it checks the dims
    raw = _raw(input)
    xp = xp_of(raw)
    count = xp.asarray((~xp.isnan(raw)).sum(axis=axis, keepdims=keepdims), dtype=raw.dtype)
    count = xp.where(count == 0, xp.nan, count)  # an all-NaN slice: NaN, without a 0 / 0 in the gradient
    return elementwise.true_divide(total, Tensor._wrap(count) if isinstance(total, Tensor) else count)


def _nanmedian_positions(raw, axis):
    """The lower median's place among the non-NaN values (sorted first, NaN last); in an all-NaN slice the
    middle one, (n - 1) // 2, as PyTorch's."""
    xp = xp_of(raw)
    order = _sort_order(raw, axis, False)
    valid = (~xp.isnan(raw)).sum(axis=axis, keepdims=True) if raw.dtype.kind == "f" else raw.shape[axis]
    place = xp.where(valid > 0, (valid - 1) // 2, (raw.shape[axis] - 1) // 2).astype(xp.int64)
    if place.ndim == 0:
        place = xp.full(tuple(1 if d == axis else s for d, s in enumerate(raw.shape)), int(place), dtype=xp.int64)
    return xp.take_along_axis(order, place, axis=axis)


@public_op("nanmedian")
def nanmedian(input, dim=None, keepdim: bool = False):
    """The lower median ignoring NaN, ``torch.nanmedian``: without ``dim`` a 0-d tensor, with ``dim`` the
    named tuple ``(values, indices)``.

    Of the k non-NaN values of a slice, the one at place (k - 1) // 2 of the stable ascending sort; an
    all-NaN slice gives NaN, at index (n - 1) // 2 (PyTorch's index there depends on its selection kernel). Gradients as
    :func:`minigrad.median`'s: to the picked element with ``dim``, shared evenly by the elements equal to
    the median without. Raises IndexOutOfRange along an empty dim.
    """
    if dim is None:
        raw = _raw(input)
        if raw.size == 0:
            return sorting.median(input)
        picked = _nanmedian_positions(raw.reshape(-1), 0).reshape(())
        return _median_all(input, picked=picked)
    return _select(_median, "nanmedian", NanmedianResult, input, dim, keepdim, _nanmedian_positions)


@public_op("aminmax")
def aminmax(input, *, dim=None, keepdim: bool = False) -> AminmaxResult:
    """The named tuple ``(min, max)`` over ``dim`` (all elements by default), ``torch.aminmax``.

    Gradients as :func:`minigrad.amin` / :func:`minigrad.amax` (ties share). Raises IndexOutOfRange for an
    empty reduction (it has no identity).
    """
    raw = _raw(input)
    if raw.size == 0 and (dim is None or raw.ndim == 0 or raw.shape[dim] == 0):
        raise IndexOutOfRange(f"aminmax: cannot reduce over an empty dimension (shape {tuple(raw.shape)})")
    return AminmaxResult(
        reduction.amin(input, dim=dim, keepdim=keepdim), reduction.amax(input, dim=dim, keepdim=keepdim)
    )


def _quantile_args(op, input, q, interpolation):
    if np.dtype(input.dtype).kind != "f":
        raise DTypeError(f"{op}: input tensor must be float or double dtype, got {input.dtype}")
    if interpolation not in INTERPOLATIONS:
        raise ArgumentError(
            f"{op}: interpolation must be one of linear, lower, higher, midpoint or nearest, got {interpolation!r}"
        )
    scalar = not isinstance(q, (Tensor, list, tuple)) and not hasattr(q, "shape")
    qs = np.asarray(q.numpy() if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1:
        raise ArgumentError(f"{op}: q must be a scalar or a 1-d tensor, got shape {qs.shape}")
    if qs.size and (np.isnan(qs).any() or qs.min() < 0 or qs.max() > 1):
        raise ArgumentError(f"{op}: q must be in the range [0, 1], got {qs.tolist()}")
    if input.numel() == 0:
        raise ArgumentError(f"{op}: input tensor must be non-empty")
    return scalar, qs.reshape(-1)


def _quantile(op, input, q, dim, keepdim, interpolation, ignore_nan):
    scalar, qs = _quantile_args(op, input, q, interpolation)
    x = input
    if dim is None:
        x = shape.reshape(input, (-1,))
        axis = 0
    else:
        axis = sorting._one_dim(op, input, dim) if input.ndim else 0
        if input.ndim == 0:
            x = shape.reshape(input, (1,))
    raw = _raw(x)
    xp = xp_of(raw)
    n = raw.shape[axis]
    values = sorting.sort(x, dim=axis).values  # NaN last
    nans = xp.isnan(raw).sum(axis=axis, keepdims=True)
    count = n - nans if ignore_nan else xp.full(nans.shape, n)
    results = []
    for level in qs:
        rank = level * (count - 1).astype(np.float64)
        lo, hi = xp.floor(rank), xp.ceil(rank)
        if interpolation == "lower":
            picks, weight = [lo], None
        elif interpolation == "higher":
            picks, weight = [hi], None
        elif interpolation == "nearest":
            picks, weight = [xp.rint(rank)], None
        else:
            picks = [lo, hi]
            weight = (rank - lo) if interpolation == "linear" else xp.full(rank.shape, 0.5)
        gathered = [
            selection.take_along_dim(values, Tensor._wrap(xp.clip(p, 0, n - 1).astype(xp.int64)), dim=axis)
            for p in picks
        ]
        if weight is None:
            out = gathered[0]
        else:
            below, above = gathered
            out = below + (above - below) * Tensor._wrap(weight.astype(raw.dtype))
            out = elementwise.where(Tensor._wrap(weight == 0), below, out)  # no inf - inf where it reads one value
        empty = (count == 0) if ignore_nan else (nans > 0)
        out = elementwise.where(Tensor._wrap(empty), float("nan"), out)
        if not keepdim:
            out = shape.squeeze(out, dim=axis)
        elif dim is None:
            out = shape.reshape(out, (1,) * input.ndim)
        results.append(out)
    if scalar:
        return results[0]
    return shape.stack(results, dim=0)


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles of ``input`` along ``dim`` (of all elements by default), ``torch.quantile``.

    ``q`` is a number or a 1-d tensor of levels in [0, 1]; for a tensor the result has a leading dim of its
    size. See the module docstring for ``interpolation``; a slice with NaN gives NaN. Raises DTypeError for
    a non-floating input, ArgumentError for q outside [0, 1], an unknown interpolation or an empty input.
    """
    return _quantile("quantile", input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear") -> Tensor:
    """:func:`quantile` of the non-NaN values of each slice, ``torch.nanquantile``; all-NaN slices give NaN."""
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, ignore_nan=True)

"""Counting and binning: bincount, histc, histogram, bucketize, searchsorted, unique_consecutive.

Their results are counts and positions, which have no gradient (PyTorch
implements none for them either), so these are plain functions on the
backend's arrays that return tensors outside the graph. Every check runs
before anything is computed, so bad input leaves its tensors as they were.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..tensor import Tensor

__all__ = ["bincount", "histc", "histogram", "bucketize", "searchsorted", "unique_consecutive", "HistogramResult"]

HistogramResult = namedtuple("histogram", ["hist", "bin_edges"])
HistogramResult.__doc__ = "What ``histogram`` returns, as PyTorch's ``torch.return_types.histogram``: counts and edges."


def _tensor(op: str, name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _wrap(array) -> Tensor:
    return Tensor._wrap(array)


# --- bincount ---------------------------------------------------------------------------------


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max(input) occurs in a 1-D non-negative integer tensor, ``torch.bincount``.

    The result has max(input) + 1 entries, or ``minlength`` if that is
    more. With ``weights`` (one per element) entry i is the sum of the
    weights of the elements equal to i, in the weights' dtype for floats
    (float64 for integer weights, as PyTorch); without, int64 counts. No
    gradient. Raises ShapeError for input that is not 1-D or weights of
    another length, ArgumentError for negative values or minlength,
    DTypeError for non-integer input.
    """
    _tensor("bincount", "input", input)
    if input.dtype.kind not in "iu":
        raise DTypeError(f"bincount: only supports 1-d non-negative integral inputs, got dtype {input.dtype}")
    if input.ndim != 1:
        raise ShapeError(
            f"bincount: only supports 1-d non-negative integral inputs, got a tensor of shape {tuple(input.shape)}"
        )
    if isinstance(minlength, bool) or not isinstance(minlength, (int, np.integer)):
        raise DTypeError(f"bincount: minlength must be an int, got {minlength!r}")
    if minlength < 0:
        raise ArgumentError(f"bincount: minlength should be >= 0, got {minlength}")
    raw = input.array
    if raw.size and bool((raw < 0).any()):
        raise ArgumentError(f"bincount: only supports 1-d non-negative integral inputs, got the value {int(raw.min())}")
    xp = input.xp
    length = max(int(raw.max()) + 1 if raw.size else 0, int(minlength))
    if weights is None:
        return _wrap(xp.bincount(raw.astype(xp.int64), minlength=length).astype(xp.int64))
    _tensor("bincount", "weights", weights)
    if weights.ndim != 1 or weights.shape[0] != raw.shape[0]:
        raise ShapeError(
            f"bincount: weights should be 1-d and have the same length as input, got shapes {tuple(weights.shape)} "
            f"and {tuple(input.shape)}"
        )
    if weights.device != input.device:
        raise ArgumentError(f"bincount: input on {input.device} and weights on {weights.device}")
    dtype = weights.dtype if weights.dtype.kind == "f" else np.dtype(np.float64)
    w = weights.array.astype(np.float64)
    return _wrap(xp.bincount(raw.astype(xp.int64), weights=w, minlength=length).astype(dtype))


# --- histograms ---------------------------------------------------------------------------------


def _float_input(op: str, input) -> None:
    _tensor(op, "input", input)
    if input.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating-point tensor, got dtype {input.dtype}")


def _range(op: str, raw, low, high, pad: float) -> tuple:
    """The histogram's range: (low, high), or the data's min and max when both are equal (PyTorch's default 0, 0)."""
    low, high = float(low), float(high)
    if math.isnan(low) or math.isnan(high) or math.isinf(low) or math.isinf(high):
        raise ArgumentError(f"{op}: range of [{low}, {high}] is not finite")
    if low == high and raw.size:
        finite = raw[backend.xp_of(raw).isfinite(raw)]
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - pad, high + pad
    if low > high:
        raise ArgumentError(f"{op}: max must be larger than min, got min {low} and max {high}")
    return low, high


def _count_in(xp, raw, edges, weights, bins: int, dtype):
    """Counts of ``raw`` in the bins between sorted ``edges`` (the last bin closed), weighted or not."""
    flat = raw.reshape(-1)
    inside = (flat >= edges[0]) & (flat <= edges[-1])
    values = flat[inside]
    position = xp.searchsorted(edges, values, side="right") - 1
    position = xp.clip(position, 0, bins - 1)  # the right edge belongs to the last bin
    w = None if weights is None else weights.reshape(-1)[inside].astype(np.float64)
    counts = xp.bincount(position, weights=w, minlength=bins)[:bins]
    return counts.astype(dtype)


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """A histogram of ``input``'s elements in ``bins`` equal bins over [min, max], ``torch.histc``.

    With min = max (both 0 by default) the range is the data's own minimum
    and maximum (widened by 1 on each side when they are equal). Elements
    outside the range are ignored; one equal to max falls in the last bin.
    The counts have ``input``'s dtype. No gradient. Raises DTypeError for a
    non-floating input, ArgumentError for bins <= 0 or min > max.
    """
    _float_input("histc", input)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise ArgumentError(f"histc: bins must be > 0, got {bins!r}")
    xp, raw = input.xp, input.array
    low, high = _range("histc", raw, min, max, pad=1.0)
    bins = int(bins)
    flat = raw.reshape(-1)
    inside = (flat >= low) & (flat <= high)
    values = flat[inside].astype(np.float64)
    position = ((values - low) * bins / (high - low)).astype(xp.int64)  # PyTorch's linear rule, no edge search
    position = xp.clip(position, 0, bins - 1)
    return _wrap(xp.bincount(position, minlength=bins)[:bins].astype(input.dtype))


def histogram(input: Tensor, bins=100, *, range=None, weight: Tensor | None = None, density: bool = False):
    """A histogram of ``input``'s elements, ``torch.histogram``: ``(hist, bin_edges)``.

    ``bins`` is a number of equal bins over ``range`` (the data's minimum
    and maximum by default, widened by 0.5 each way when equal, [0, 1] for
    no data) or a 1-D tensor of increasing edges. Each bin holds the
    elements in [edge_i, edge_{i+1}), the last one closed; ``weight`` (of
    input's shape) weighs each element; ``density`` divides by the total
    and the bin widths so that the histogram integrates to 1. No gradient.
    Raises DTypeError for non-floating input, ArgumentError for bins <= 0,
    a bad range or edges that decrease, ShapeError for a weight of another shape.
    """
    _float_input("histogram", input)
    xp, raw = input.xp, input.array
    if weight is not None:
        _tensor("histogram", "weight", weight)
        if tuple(weight.shape) != tuple(input.shape):
            raise ShapeError(
                f"histogram: weight should have the same shape as input, got {tuple(weight.shape)} and "
                f"{tuple(input.shape)}"
            )
    if isinstance(bins, Tensor):
        if bins.ndim != 1 or bins.shape[0] < 1:
            raise ShapeError(f"histogram: bins must be a 1-D tensor of edges, got shape {tuple(bins.shape)}")
        if range is not None:
            raise ArgumentError("histogram: range is only taken with an int number of bins")
        edges = bins.array.astype(input.dtype)
        if edges.shape[0] > 1 and bool((edges[1:] < edges[:-1]).any()):
            raise ArgumentError("histogram: bin edges must be increasing")
        count = edges.shape[0] - 1
    else:
        if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
            raise ArgumentError(f"histogram: bins must be > 0, got {bins!r}")
        count = int(bins)
        if range is None:
            low, high = _range("histogram", raw, 0.0, 0.0, pad=0.5) if raw.size else (0.0, 1.0)
        else:
            low, high = (float(v) for v in range)
            if low > high:
                raise ArgumentError(f"histogram: min should not exceed max, got min {low} max {high}")
            if low == high:
                low, high = low - 0.5, high + 0.5
        edges = xp.linspace(low, high, count + 1).astype(input.dtype)
    if count == 0:
        return HistogramResult(_wrap(xp.zeros(0, dtype=input.dtype)), _wrap(edges))
    hist = _count_in(xp, raw, edges, None if weight is None else weight.array, count, input.dtype)
    if density:
        widths = (edges[1:] - edges[:-1]).astype(np.float64)
        total = hist.astype(np.float64).sum()
        with np.errstate(invalid="ignore", divide="ignore"):  # no elements: NaN, as PyTorch
            hist = (hist.astype(np.float64) / (total * widths)).astype(input.dtype)
    return HistogramResult(_wrap(hist), _wrap(edges))


# --- bucketize and searchsorted ---------------------------------------------------------------------------------


def _side(op: str, right: bool, side) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise ArgumentError(f"{op}: side can only be 'left' or 'right', got {side!r}")
    if right and side == "left":
        raise ArgumentError(f"{op}: side and right can't be set to opposites, got side of left while right was True")
    return side


def _values(op: str, values, like: Tensor):
    """The searched values as an array on ``like``'s device (a Python number becomes a 0-d array)."""
    if isinstance(values, Tensor):
        if values.device != like.device:
            raise ArgumentError(f"{op}: the values are on {values.device} and the boundaries on {like.device}")
        return values.array
    if isinstance(values, (int, float, np.integer, np.floating)) and not isinstance(values, bool):
        return like.xp.asarray(values)
    raise DTypeError(f"{op}: expects a tensor or a number to search for, got {type(values).__name__}")


def _check_sorted(op: str, name: str, raw) -> None:
    if raw.shape[-1] > 1 and bool((raw[..., 1:] < raw[..., :-1]).any()):
        raise ArgumentError(f"{op}: {name} must be sorted in increasing order along its last dimension")


def _indices(xp, positions, out_int32: bool):
    return positions.astype(xp.int32 if out_int32 else xp.int64)


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of ``input`` among 1-D sorted ``boundaries``, ``torch.bucketize``.

    With ``right=False`` the index i with boundaries[i-1] < x <= boundaries[i]
    (a value equal to a boundary goes to that boundary's bucket); with
    ``right=True`` boundaries[i-1] <= x < boundaries[i]. int64 indices in
    input's shape (int32 with ``out_int32``); ``input`` may be a number (a
    0-d result). No gradient. PyTorch leaves unsorted boundaries undefined;
    here they raise ArgumentError (one comparison pass). Raises ShapeError
    for boundaries that are not 1-D.
    """
    _tensor("bucketize", "boundaries", boundaries)
    if boundaries.ndim != 1:
        raise ShapeError(f"bucketize: boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    values = _values("bucketize", input, boundaries)
    _check_sorted("bucketize", "boundaries", boundaries.array)
    xp = boundaries.xp
    positions = xp.searchsorted(boundaries.array, values, side="right" if right else "left")
    return _wrap(_indices(xp, xp.asarray(positions), out_int32))


def searchsorted(
    sorted_sequence: Tensor,
    input,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Where each element of ``input`` would be inserted to keep ``sorted_sequence`` sorted, ``torch.searchsorted``.

    The search runs along the last dimension of ``sorted_sequence``: a
    1-D sequence serves every element of ``input``; an N-D one must share
    input's leading dimensions, row k serving input's row k. ``side="left"``
    (or ``right=False``) gives the first such position, ``"right"`` the last.
    ``sorter`` holds the indices that sort an unsorted sequence along its
    last dimension (as ``argsort`` gives). int64 results in input's shape,
    int32 with ``out_int32``. No gradient. Raises ShapeError for leading
    dimensions that differ, ArgumentError for conflicting ``side`` and
    ``right`` or a sequence that is not sorted (PyTorch leaves that undefined).
    """
    _tensor("searchsorted", "sorted_sequence", sorted_sequence)
    chosen = _side("searchsorted", right, side)
    values = _values("searchsorted", input, sorted_sequence)
    seq = sorted_sequence.array
    xp = sorted_sequence.xp
    if seq.ndim == 0:
        raise ShapeError("searchsorted: boundaries tensor should have at least 1 dimension, got a 0-d tensor")
    if seq.ndim > 1 and (values.ndim != seq.ndim or tuple(values.shape[:-1]) != tuple(seq.shape[:-1])):
        raise ShapeError(
            "searchsorted: boundaries tensor should be 1 dimension or the first N-1 dimensions of boundaries tensor "
            f"and input value tensor must match, but we got boundaries tensor {list(seq.shape)} and input value "
            f"tensor {list(values.shape)}"
        )
    if sorter is not None:
        _tensor("searchsorted", "sorter", sorter)
        if tuple(sorter.shape) != tuple(seq.shape) or sorter.dtype.kind not in "iu":
            raise ShapeError(
                f"searchsorted: sorter must be an integer tensor of the sequence's shape {tuple(seq.shape)}, got "
                f"{tuple(sorter.shape)} {sorter.dtype}"
            )
        order = sorter.array
        if order.size and (bool((order < 0).any()) or bool((order >= seq.shape[-1]).any())):
            raise IndexOutOfRange(f"searchsorted: sorter index out of range for a last dimension of {seq.shape[-1]}")
        seq = xp.take_along_axis(seq, order.astype(xp.int64), axis=-1)
    _check_sorted("searchsorted", "sorted_sequence" if sorter is None else "sorted_sequence[sorter]", seq)
    if seq.ndim == 1:
        positions = xp.asarray(xp.searchsorted(seq, values, side=chosen))
    else:
        rows = seq.reshape(math.prod(seq.shape[:-1]), seq.shape[-1])
        wanted = values.reshape(rows.shape[0], values.shape[-1])
        positions = xp.zeros(wanted.shape, dtype=xp.int64)
        for k in range(rows.shape[0]):  # one search per row of the sequence
            positions[k] = xp.searchsorted(rows[k], wanted[k], side=chosen)
        positions = positions.reshape(values.shape)
    return _wrap(_indices(xp, positions, out_int32))


# --- unique_consecutive ---------------------------------------------------------------------------------


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """``input`` with each run of equal consecutive elements (or slices along ``dim``) kept once.

    PyTorch's ``torch.unique_consecutive``.

    Without ``dim`` the tensor is flattened first. With ``return_inverse``
    also the int64 index of each element's run (input's shape, or the size
    of ``dim``), with ``return_counts`` each run's length: a tuple in that
    order, as PyTorch. Unlike :func:`minigrad.unique` nothing is sorted. No
    gradient. Raises IndexOutOfRange for a dim outside the tensor.
    """
    _tensor("unique_consecutive", "input", input)
    xp, raw = input.xp, input.array
    if dim is None:
        rows = raw.reshape(-1, 1) if raw.size else raw.reshape(0, 1)
        axis = None
    else:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
            raise DTypeError(f"unique_consecutive: dim must be an int, got {dim!r}")
        n = max(raw.ndim, 1)
        if not -n <= dim < n:
            raise IndexOutOfRange(f"unique_consecutive: dim {dim} is out of range for shape {tuple(raw.shape)}")
        axis = int(dim) % n
        moved = xp.moveaxis(raw.reshape(1) if raw.ndim == 0 else raw, axis, 0)
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
    count = rows.shape[0]
    start = xp.ones(count, dtype=bool)
    if count > 1:
        start[1:] = (rows[1:] != rows[:-1]).any(axis=1) if rows.shape[1] else False
    first = xp.nonzero(start)[0]
    if axis is None:
        values = raw.reshape(-1)[first]
    else:
        values = xp.moveaxis(moved[first], 0, axis)
    out = [_wrap(xp.ascontiguousarray(values))]
    if return_inverse:
        inverse = (xp.cumsum(start) - 1).astype(xp.int64)
        out.append(_wrap(inverse.reshape(raw.shape) if axis is None else inverse))
    if return_counts:
        out.append(_wrap(xp.diff(xp.concatenate([first, xp.asarray([count], dtype=first.dtype)])).astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)

"""Sorting and selection: argsort, sort, msort, topk, kthvalue, median, mode, unique, nonzero, argwhere.

The ops that return ``(values, indices)`` find the indices on the arrays (a stable sort, NumPy's or
CuPy's) and take the values with a *picking* primitive, one per op (:func:`_picker`): its forward is
``take_along_axis(x, indices, dim)``, its vjp scatters the cotangent back to the picked positions (an
index-scatter, whose own vjp is the picking again, so any order of derivative works). Which element was
picked is the op's branch signature: where a perturbation changes the order (a tie), gradcheck sees the
signature change and reports a kink instead of a wrong derivative. Indices never get a gradient.

Ties and NaN follow PyTorch's stable sort: equal elements keep their index order, in both directions;
NaN sorts as the largest value (last ascending, first descending).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..backend import xp_of
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .construct import _dim_list
from .shape import _index_scatter, reshape


def _named(name: str, doc: str):
    kind = namedtuple(name, ["values", "indices"])
    kind.__doc__ = f"What ``{name}`` returns, as PyTorch's ``torch.return_types.{name}``: {doc}"
    return kind


SortResult = _named("sort", "the sorted values and the indices they came from.")
TopkResult = _named("topk", "the k largest (or smallest) values and their indices.")
KthvalueResult = _named("kthvalue", "the k-th smallest value of each slice and its index.")
MedianResult = _named("median", "the lower median of each slice and its index.")
ModeResult = _named("mode", "the most frequent value of each slice and the index of its last occurrence.")


def _wrap(array) -> Tensor:
    return Tensor._wrap(array)


def _one_dim(op: str, input, dim) -> int:
    """``dim`` as a non-negative axis of ``input``: one int (PyTorch takes no tuple here), in range."""
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise DTypeError(f"{op}: dim must be an int, got {dim!r}")
    (axis,) = _dim_list(op, input, dim)
    return axis


# --- the order: a stable sort on arrays -------------------------------------------------------------


def _sort_order(x, axis: int, descending: bool):
    """The int64 indices that sort the array ``x`` along ``axis`` stably (ties in index order both ways)."""
    xp = xp_of(x)
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(xp.int64)
    # descending with ties in index order: sort the reversed slice ascending (ties then come latest
    # index first), reverse that order, and map the reversed positions back: i -> n - 1 - i
    n = x.shape[axis]
    order = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable")
    return (n - 1 - xp.flip(order, axis=axis)).astype(xp.int64)


@primitive(name="argsort", differentiable=False)
def _argsort(x, *, axis, descending):
    return _sort_order(x, axis, descending)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None):
    """The indices that sort ``input`` along ``dim``, ``torch.argsort``: int64, no gradient.

    input.gather(dim, argsort(input, dim)) is sorted ascending (descending with ``descending=True``).
    The sort is always stable -- equal elements keep their index order, in both directions -- so
    ``stable`` is accepted and changes nothing (PyTorch leaves the order of ties unspecified unless
    stable=True). NaN sorts as the largest value, as PyTorch's. NumPy's ``axis`` is accepted for
    ``dim``. Raises IndexOutOfRange for a dim outside the tensor.
    """
    if axis is not None:
        dim = axis
    axis = _one_dim("argsort", input, dim)
    return _argsort(input, axis=axis, descending=bool(descending))


# --- picking values at indices: the differentiable half ------------------------------------------


def _grid(picked, axis: int) -> tuple:
    """The integer index that reads ``x[..., picked, ...]`` elementwise: aranges on the other axes."""
    xp = xp_of(picked)
    parts = []
    for d, size in enumerate(picked.shape):
        if d == axis:
            parts.append(picked)
        else:
            shape = [1] * picked.ndim
            shape[d] = size
            parts.append(xp.arange(size).reshape(shape))
    return tuple(parts)


def _pick_forward(x, picked, axis, keepdims):
    if x.ndim == 0:
        return x.copy()
    out = xp_of(x).take_along_axis(x, picked, axis=axis)
    return out if keepdims else out.squeeze(axis)


def _pick_vjp(g, ans, x, picked, axis, keepdims=True):
    """The cotangent added back at the picked positions, zeros elsewhere (an index-scatter)."""
    if x.ndim == 0:
        return g
    if not keepdims:
        g = reshape(g, picked.shape)
    return _index_scatter(g, index=_grid(picked, axis), shape=tuple(x.shape))


def _picker(name: str, module: str = __name__):
    """A primitive ``name(x, picked=, axis=, keepdims=)``: x's elements at ``picked`` along ``axis``.

    ``picked`` (int64, x's number of dimensions) says which element won each output; it is the branch
    signature, so that a change of winner between x - h and x + h is seen as a kink.
    """

    def forward(x, *, picked, axis, keepdims=True):
        return _pick_forward(x, picked, axis, keepdims)

    forward.__name__ = forward.__qualname__ = name
    forward.__module__ = module  # the module that defines the op (the op table's coverage looks there)
    op = primitive(forward, name=name, signature=lambda x, picked, axis, keepdims=True: picked)
    op.defvjp(_pick_vjp)
    return op


_sort = _picker("sort")
_topk = _picker("topk")
_kthvalue = _picker("kthvalue")
_median = _picker("median")
_mode = _picker("mode")


# --- sort, msort, topk --------------------------------------------------------------------------------


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None) -> SortResult:
    """The values of ``input`` sorted along ``dim`` and where they came from, ``torch.sort``.

    Returns the named tuple ``(values, indices)``: values[..., i, ...] = input[..., indices[i], ...].
    Stable in both directions (``stable`` is accepted and changes nothing), NaN largest, as
    :func:`argsort`. The values' gradient is the cotangent scattered back through the permutation;
    a tie is a kink. NumPy's ``axis`` is accepted for ``dim``. Raises IndexOutOfRange for a dim
    outside the tensor.
    """
    if axis is not None:
        dim = axis
    axis = _one_dim("sort", input, dim)
    order = _sort_order(_raw(input), axis, bool(descending))
    return SortResult(_sort(input, picked=order, axis=axis), _wrap(order))


def msort(input) -> Tensor:
    """``input`` sorted along its first dimension, ``torch.msort``: ``sort(input, dim=0).values``."""
    return sort(input, dim=0).values


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _check_int(op: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DTypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> TopkResult:
    """The ``k`` largest elements of ``input`` along ``dim`` (smallest with ``largest=False``), ``torch.topk``.

    Returns the named tuple ``(values, indices)``, in sorted order (largest first, or smallest first);
    ties come in index order and NaN counts as the largest value, as PyTorch's. With ``sorted=False``
    PyTorch leaves the order unspecified; here it is the sorted order too. The values' gradient is the
    cotangent added back at the chosen positions; a tie at the k-th place is a kink. Raises
    IndexOutOfRange for a dim outside the tensor and ArgumentError for k outside [0, size of dim].
    """
    k = _check_int("topk", "k", k)
    axis = _one_dim("topk", input, dim)
    size = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= size:
        raise ArgumentError(f"topk: k = {k} is out of range for dimension {dim} of size {size} (shape {input.shape})")
    raw = _raw(input)
    order = _sort_order(raw, axis, bool(largest))
    if raw.ndim:
        order = order[(slice(None),) * axis + (slice(0, k),)]
    return TopkResult(_topk(input, picked=order, axis=axis), _wrap(order))


# --- kthvalue, median, mode -----------------------------------------------------------------------


def _select(op, name, result, input, dim, keepdim, positions_of):
    """Shared by kthvalue, median and mode: one picked element per slice along ``dim``."""
    axis = _one_dim(name, input, dim)
    raw = _raw(input)
    xp = xp_of(raw)
    if raw.ndim == 0:
        return result(
            op(input, picked=xp.zeros((), dtype=xp.int64), axis=0, keepdims=True), _wrap(xp.zeros((), xp.int64))
        )
    if raw.shape[axis] == 0:
        raise IndexOutOfRange(f"{name}: dimension {dim} of the tensor of shape {tuple(raw.shape)} is empty")
    picked = positions_of(raw, axis)
    indices = picked if keepdim else picked.squeeze(axis)
    return result(op(input, picked=picked, axis=axis, keepdims=bool(keepdim)), _wrap(indices))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False) -> KthvalueResult:
    """The ``k``-th smallest element of each slice along ``dim`` (k counts from 1), ``torch.kthvalue``.

    Returns the named tuple ``(values, indices)``: the element at place k - 1 of the stable ascending
    sort, so of equal values the k-th in index order is chosen; NaN is the largest. The value's gradient
    goes to that element; a tie across the k-th place is a kink. Raises ArgumentError for k outside
    [1, size of dim], IndexOutOfRange for a dim outside the tensor.
    """
    k = _check_int("kthvalue", "k", k)
    axis = _one_dim("kthvalue", input, dim)
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise ArgumentError(f"kthvalue: k = {k} is out of range for dimension {dim} of size {size}")

    def positions(raw, axis):
        order = _sort_order(raw, axis, False)
        return order[(slice(None),) * axis + (slice(k - 1, k),)]

    return _select(_kthvalue, "kthvalue", KthvalueResult, input, dim, keepdim, positions)


def _median_positions(raw, axis):
    """The lower median's place in the stable sort; in a slice with NaN, the first NaN (NaN propagates)."""
    xp = xp_of(raw)
    n = raw.shape[axis]
    order = _sort_order(raw, axis, False)
    nans = xp.isnan(raw).sum(axis=axis, keepdims=True) if raw.dtype.kind == "f" else 0
    place = xp.where(nans > 0, n - nans, (n - 1) // 2).astype(xp.int64)
    if place.ndim == 0:
        place = xp.full(tuple(1 if d == axis else s for d, s in enumerate(raw.shape)), int(place), dtype=xp.int64)
    return xp.take_along_axis(order, place, axis=axis)


def _ties_of(x, value):
    """Where the array ``x`` equals the 0-d ``value`` (NaN equal to NaN): the elements that tie with it."""
    xp = xp_of(x)
    same = x == value
    if x.dtype.kind == "f":
        same |= xp.isnan(x) & xp.isnan(value)
    return same


def _median_all_forward(x, *, picked):
    return x.reshape(-1)[picked].copy()


def _median_all_vjp(g, ans, x, picked):
    """The cotangent shared evenly by the elements equal to the median, as PyTorch's median() (no dim)."""
    ties = _ties_of(_raw(x), _raw(ans))
    share = (ties / ties.sum()).astype(g.dtype)
    return g * share


def _median_all_signature(x, picked):
    """Which element is the median (2) and which tie with it (1): a change of either is a kink."""
    flat = x.reshape(-1)
    mark = _ties_of(flat, flat[picked]).astype(xp_of(x).int64)
    mark[picked] = 2
    return mark.reshape(x.shape)


_median_all = primitive(
    _median_all_forward, name="median_all", saves=(0,), saves_output=True, signature=_median_all_signature
)
_median_all.defvjp(_median_all_vjp)


def median(input, dim=None, keepdim: bool = False):
    """The lower median, ``torch.median``: ``median(input)`` a 0-d tensor, ``median(input, dim)`` ``(values, indices)``.

    Of n values the one at place (n - 1) // 2 of the stable ascending sort (for even n the lower of
    the two middle ones, not their mean, as PyTorch's). A slice with NaN has the median NaN, the index
    of its first NaN. The median of an empty float tensor is NaN (an empty integer or bool tensor raises
    IndexOutOfRange: NaN is not one of its values); along an empty dim it raises IndexOutOfRange. With
    ``dim`` the value's gradient goes to the median element (the one at the index); without, it is
    shared evenly by all the elements equal to the median, as PyTorch's. A tie is a kink.
    """
    if dim is None:
        raw = _raw(input)
        if raw.size == 0:  # NaN, and on the graph when input is (its gradient: the empty one), as PyTorch
            if raw.dtype.kind == "f":
                return input.sum() + float("nan")
            raise IndexOutOfRange(
                f"median: the tensor of shape {tuple(raw.shape)} and dtype {raw.dtype} is empty, and its median, "
                "NaN, is not a value of an integer dtype (PyTorch returns whatever NaN casts to)"
            )
        picked = _median_positions(raw.reshape(-1), 0).reshape(())
        return _median_all(input, picked=picked)
    return _select(_median, "median", MedianResult, input, dim, keepdim, _median_positions)


def _mode_positions(raw, axis):
    """Per slice, the last index (in the input) of the smallest of the most frequent values."""
    xp = xp_of(raw)
    moved = xp.moveaxis(raw, axis, -1)
    order = _sort_order(moved, moved.ndim - 1, False)
    s = xp.take_along_axis(moved, order, axis=-1)
    n = s.shape[-1]
    place = xp.arange(n)
    start = xp.ones(s.shape, dtype=bool)
    start[..., 1:] = s[..., 1:] != s[..., :-1]  # NaN != NaN: each NaN is a run of its own
    begin = _running_max(xp.where(start, place, 0))  # where each element's run begins
    end = xp.ones(s.shape, dtype=bool)
    end[..., :-1] = start[..., 1:]
    length = xp.where(end, place - begin + 1, 0)
    best = length.argmax(axis=-1)[..., None]  # the first longest run: the smallest value of the modes
    picked = xp.take_along_axis(order, best, axis=-1)  # its last element: the largest index (stable sort)
    return xp.moveaxis(picked, -1, axis)


def _running_max(a):
    """The running maximum along the last axis (a doubling scan on any backend)."""
    if isinstance(a, np.ndarray):
        return np.maximum.accumulate(a, axis=-1)
    xp = xp_of(a)
    out = a.copy()
    step = 1
    while step < out.shape[-1]:
        out[..., step:] = xp.maximum(out[..., step:], out[..., :-step])
        step *= 2
    return out


def mode(input, dim: int = -1, keepdim: bool = False) -> ModeResult:
    """The most frequent value of each slice along ``dim``, ``torch.mode``: ``(values, indices)``.

    Of several equally frequent values the smallest; the index is that value's last occurrence, as
    PyTorch's. NaNs are never equal to each other, so each counts once. The value's gradient goes to
    the element at the index. Raises IndexOutOfRange for a dim outside the tensor or an empty dim.
    """
    return _select(_mode, "mode", ModeResult, input, dim, keepdim, _mode_positions)


# --- unique, nonzero, argwhere (no gradient) ------------------------------------------------------


def unique(input, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim=None):
    """The distinct elements of ``input`` (or distinct slices along ``dim``), sorted, ``torch.unique``.

    Returns the tensor of unique values; with ``return_inverse`` also the int64 indices into it that
    rebuild the input (the input's shape, or the size of ``dim``), with ``return_counts`` also how
    often each occurs -- a tuple in that order, as PyTorch. NaNs are all distinct. The result is
    always sorted (PyTorch's ``sorted=False`` gives sorted results on CPU as well). No gradient.
    Raises IndexOutOfRange for a dim outside the tensor, ShapeError (as PyTorch) for a ``dim`` when
    another dimension has size 0.
    """
    raw = _raw(input)
    xp = xp_of(raw)
    if dim is None:
        flat = raw.reshape(-1)
        values, inverse, counts = _unique_flat(xp, flat)
        inverse = inverse.reshape(raw.shape)
    else:
        if raw.ndim == 0:
            raise IndexOutOfRange(f"unique: dim {dim} was given but the tensor has no dimensions (as PyTorch)")
        axis = _one_dim("unique", input, dim)
        if any(size == 0 for d, size in enumerate(raw.shape) if d != axis):
            raise ShapeError(
                f"unique: the tensor of shape {tuple(raw.shape)} has a 0-sized dimension other than dim {dim}, "
                "so its slices along dim have no elements to compare (as PyTorch, which refuses it too)"
            )
        moved = xp.moveaxis(raw, axis, 0)
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))  # -1 cannot size a (0, n) reshape
        if moved.shape[0] == 0:
            values, inverse, counts = raw, xp.zeros(0, xp.int64), xp.zeros(0, xp.int64)  # nothing along dim
        else:
            order = xp.lexsort(rows.T[::-1]) if rows.shape[1] else xp.arange(rows.shape[0])
            s = rows[order]
            start = xp.ones(s.shape[0], dtype=bool)
            start[1:] = (s[1:] != s[:-1]).any(axis=1)
            group = xp.cumsum(start) - 1
            inverse = xp.empty_like(group)
            inverse[order] = group
            first = xp.nonzero(start)[0]
            counts = xp.diff(xp.concatenate([first, xp.asarray([s.shape[0]])]))
            values = xp.moveaxis(s[first].reshape((len(first),) + moved.shape[1:]), 0, axis)
    out = [_wrap(xp.ascontiguousarray(values))]
    if return_inverse:
        out.append(_wrap(inverse.astype(xp.int64)))
    if return_counts:
        out.append(_wrap(counts.astype(xp.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_flat(xp, flat):
    """Sorted distinct values of a 1-d array (every NaN its own), the inverse and the counts."""
    order = xp.argsort(flat, kind="stable")
    s = flat[order]
    start = xp.ones(s.shape[0], dtype=bool)
    start[1:] = s[1:] != s[:-1]
    group = xp.cumsum(start) - 1
    inverse = xp.empty(flat.shape[0], dtype=xp.int64)
    inverse[order] = group
    first = xp.nonzero(start)[0]
    counts = xp.diff(xp.concatenate([first, xp.asarray([s.shape[0]], dtype=first.dtype)]))
    return s[first], inverse, counts


def nonzero(input, *, as_tuple: bool = False):
    """The indices of the nonzero elements, ``torch.nonzero``: int64 of shape (count, ndim), in row-major order.

    With ``as_tuple=True`` one 1-d index tensor per dimension instead (NumPy's ``nonzero``), usable as
    ``x[x.nonzero(as_tuple=True)]``; a 0-d input counts as 1-d there, as PyTorch. No gradient.
    """
    raw = _raw(input)
    xp = xp_of(raw)
    if as_tuple:
        return tuple(_wrap(i.astype(xp.int64)) for i in xp.nonzero(raw.reshape(-1) if raw.ndim == 0 else raw))
    if raw.ndim == 0:
        return _wrap(xp.zeros((int(bool(raw)), 0), dtype=xp.int64))
    return _wrap(xp.stack(xp.nonzero(raw), axis=1).astype(xp.int64))


def argwhere(input) -> Tensor:
    """The indices of the nonzero elements as a (count, ndim) int64 tensor, ``torch.argwhere``: ``nonzero(input)``."""
    return nonzero(input)


__all__ = ["argsort", "sort", "msort", "topk", "kthvalue", "median", "mode", "unique", "nonzero", "argwhere"]
__all__ += ["SortResult", "TopkResult", "KthvalueResult", "MedianResult", "ModeResult"]

"""Selecting and placing slices and elements: index_select, index_add, index_copy, index_fill, take,
take_along_dim, masked_select, masked_scatter, repeat_interleave, clamp_min/clamp_max, and the in-place
Tensor methods (scatter_, scatter_add_, scatter_reduce_, index_add_, index_copy_, index_fill_,
masked_fill_, masked_scatter_, clamp_, clip_, clamp_min_, clamp_max_).

Each op is composed from the primitives of :mod:`minigrad.ops.indexing` (gather, gather_backward,
scatter) and the existing ops, so its gradient, second order and version checks are theirs; the
rules for repeated indices are indexing's (see its docstring). The in-place methods follow
:mod:`minigrad.ops.inplace`: while recording, the result is computed from a copy of the old value and
becomes the tensor's history (a leaf that requires grad is refused); otherwise it is written into the
buffer. Either way the version goes up, so a node that saved the old value raises in backward.
"""

from __future__ import annotations

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange, MinigradError, ShapeError, public_op
from ..grad_mode import is_grad_enabled, no_grad
from ..tensor import Tensor
from . import elementwise
from .construct import _dim_list
from .indexing import (
    _as_1d,
    _as_index,
    _check_dtype,
    _check_range,
    _gather,
    _gather_backward,
    _same_device,
    _scatter,
    _tensor,
    _wrapped,
    scatter,
    scatter_add,
    scatter_reduce,
)
from .inplace import _forbid_leaf, _rebase
from .shape import broadcast_to, getitem, reshape

__all__ = [
    "index_select",
    "masked_select",
    "take_along_dim",
    "take",
    "index_add",
    "index_copy",
    "index_fill",
    "masked_scatter",
    "repeat_interleave",
    "clamp_min",
    "clamp_max",
]


# --- along one dimension with a vector of indices --------------------------------------------------------


def _vector_index(op: str, x: Tensor, dim, index, negative: bool = False) -> tuple:
    """(axis, index as a 1-d integer tensor, checked) for the index_* family."""
    (axis,) = _dim_list(op, x, dim)
    index = _as_index(op, index, x)
    if index.ndim > 1:
        raise ShapeError(f"{op}: the index must be a vector (0-d or 1-d), got shape {tuple(index.shape)}")
    index = reshape(index, (-1,)) if index.ndim == 0 else index
    size = x.shape[axis] if x.ndim else 1
    _check_range(op, dim, index, size, negative)
    return axis, index


def _spread(index: Tensor, axis: int, shape: tuple) -> Tensor:
    """The 1-d ``index`` laid along ``axis`` and broadcast to ``shape`` (a view sharing its version)."""
    placed = [1] * len(shape)
    placed[axis] = index.shape[0]
    return broadcast_to(reshape(index, tuple(placed)), shape)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of input at ``index`` along ``dim``, in index's order, ``torch.index_select``:
    ``out.select(dim, i) = input.select(dim, index[i])``.

    ``index`` is a 0-d or 1-d integer tensor in [0, input.size(dim)) (negative indices are an error,
    as PyTorch's). vjp: the cotangent slices added back at index (repeats accumulate). Raises
    IndexOutOfRange, DTypeError for a non-integer index, ShapeError for an index with 2 or more dims.
    """
    x = _tensor("index_select", input)
    axis, index = _vector_index("index_select", x, dim, index)
    if x.ndim == 0:
        if index.shape[0] != 1:
            raise ShapeError(f"index_select: a 0-d tensor takes one index, got {index.shape[0]}")
        return reshape(_gather(reshape(x, (1,)), index, axis=0), ())
    shape = list(x.shape)
    shape[axis] = index.shape[0]
    return _gather(x, _spread(index, axis, tuple(shape)), axis=axis)


def _source_fits(op: str, x: Tensor, axis: int, index: Tensor, source: Tensor) -> None:
    want = list(x.shape) if x.ndim else [1]
    want[axis] = index.shape[0]
    got = list(source.shape) if source.ndim else [1]
    if got != want:
        raise ShapeError(
            f"{op}: source must have the tensor's shape {tuple(x.shape)} apart from dim {axis}, where it has "
            f"len(index) = {index.shape[0]}; got source shape {tuple(source.shape)}"
        )


def _index_prepared(op: str, input, dim, index, source):
    x = _tensor(op, input)
    source = _tensor(op, source)
    axis, index = _vector_index(op, x, dim, index)
    _check_dtype(op, x, source, "source")
    _source_fits(op, x, axis, index, source)
    shape = tuple(x.shape)
    x1, source1 = _as_1d(x), _as_1d(source)
    return x1, axis, _spread(index, axis, tuple(source1.shape)), source1, shape


@public_op("index_add")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """input with ``alpha * source`` added at ``index`` along ``dim``, ``torch.index_add``:
    ``out.select(dim, index[i]) += alpha * source.select(dim, i)``; repeated indices accumulate.

    source has input's shape apart from ``dim``, where its size is len(index). vjp: input gets the
    cotangent, source ``alpha * grad.index_select(dim, index)``. Raises IndexOutOfRange (an index
    outside [0, input.size(dim)), a dim out of range), DTypeError (a non-integer index, a source of
    another dtype), ShapeError (a source of the wrong shape, an index with 2 or more dims).
    """
    x, axis, spread, source, shape = _index_prepared("index_add", input, dim, index, source)
    if alpha != 1:
        source = source * alpha
    out = x + _gather_backward(source, spread, axis=axis, shape=tuple(x.shape))
    return reshape(out, ()) if not shape else out


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """input with the slices of ``source`` copied to ``index`` along ``dim``, ``torch.index_copy``:
    ``out.select(dim, index[i]) = source.select(dim, i)``.

    Gradients as PyTorch's: input gets the cotangent outside the copied slices, source
    ``grad.index_select(dim, index)``. A repeated index: the last copy wins (PyTorch's choice is
    nondeterministic). Shapes and errors as :func:`index_add`.
    """
    x, axis, spread, source, shape = _index_prepared("index_copy", input, dim, index, source)
    out = _scatter(x, spread, source, axis=axis)
    return reshape(out, ()) if not shape else out


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """input with the slices at ``index`` along ``dim`` set to ``value`` (a number or a 0-d tensor),
    ``torch.index_fill``; negative indices count from the end, as PyTorch's.

    It is ``masked_fill`` with the mask of the selected slices: input gets the cotangent outside
    them, a 0-d tensor value the sum of the cotangent over them (each filled element once, also
    for a repeated index). Raises IndexOutOfRange, DTypeError (a non-integer index, a value the
    dtype cannot hold), ShapeError (an index with 2 or more dims, a value that is not 0-d).
    """
    x = _tensor("index_fill", input)
    axis, index = _vector_index("index_fill", x, dim, index, negative=True)
    if not isinstance(value, Tensor):  # checked here so that the error names index_fill, not masked_fill
        try:
            x.dtype.type(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise DTypeError(f"index_fill: the value {value!r} does not fit the tensor's dtype {x.dtype}") from exc
    if x.ndim == 0:
        return elementwise.masked_fill(x, Tensor._wrap(x.xp.asarray(index.shape[0] > 0)), value)
    size = x.shape[axis]
    mask = x.xp.zeros(size, dtype=bool)
    mask[index.array] = True
    placed = [1] * x.ndim
    placed[axis] = size
    return elementwise.masked_fill(x, Tensor._wrap(mask.reshape(placed)), value)


# --- flat and broadcast indexing -------------------------------------------------------------------------


def take(input: Tensor, index: Tensor) -> Tensor:
    """input's elements at ``index`` as if input were 1-d (C order), ``torch.take``; the result has
    index's shape. Negative indices count from the end, as PyTorch's.

    vjp: the cotangent added back at the taken positions (repeats accumulate). Raises
    IndexOutOfRange for an index outside [-numel, numel), DTypeError for a non-integer index.
    """
    x = _tensor("take", input)
    index = _as_index("take", index, x)
    return reshape(_take_flat("take", x, index), tuple(index.shape))


def _take_flat(op: str, x: Tensor, index: Tensor) -> Tensor:
    """x's elements at ``index`` in C order, negative ones from the end: a 1-d tensor."""
    n = x.numel()
    a = index.array
    if a.size:
        bad = (a < -n) | (a >= n)
        if bool(bad.any()):
            value = int(a[bad].reshape(-1)[0])
            raise IndexOutOfRange(f"{op}: index {value} is out of range for a tensor of {n} elements")
    return _gather(reshape(x, (-1,)), _wrapped(reshape(index, (-1,)), n), axis=0)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Values of input at ``indices`` along ``dim``, ``torch.take_along_dim`` (NumPy's
    take_along_axis): input and indices broadcast against each other in the other dimensions, then
    it is :func:`gather`. With ``dim=None`` both are flattened first (the result is 1-d). Negative
    indices count from the end, as PyTorch's.

    vjp: the cotangent added back at the taken positions (summed over broadcasting). Raises
    IndexOutOfRange, DTypeError (a non-integer index), ShapeError (different numbers of dims,
    shapes that do not broadcast).
    """
    x = _tensor("take_along_dim", input)
    indices = _as_index("take_along_dim", indices, x, "indices")
    if dim is None:
        return _take_flat("take_along_dim", x, indices)
    (axis,) = _dim_list("take_along_dim", x, dim)
    if indices.ndim != x.ndim:
        raise ShapeError(
            f"take_along_dim: input and indices must have the same number of dimensions, got shapes "
            f"{tuple(x.shape)} and {tuple(indices.shape)}"
        )
    if x.ndim == 0:
        _check_range("take_along_dim", dim, indices, 1, negative=True)
        return reshape(_gather(reshape(x, (1,)), _wrapped(reshape(indices, (1,)), 1), axis=0), ())
    others = [1 if d == axis else s for d, s in enumerate(x.shape)]
    others_i = [1 if d == axis else s for d, s in enumerate(indices.shape)]
    try:
        common = list(np.broadcast_shapes(tuple(others), tuple(others_i)))
    except ValueError:
        raise ShapeError(
            f"take_along_dim: input shape {tuple(x.shape)} and indices shape {tuple(indices.shape)} do not "
            f"broadcast apart from dim {axis}"
        ) from None
    size = x.shape[axis]
    _check_range("take_along_dim", dim, indices, size, negative=True)
    x_shape, i_shape = list(common), list(common)
    x_shape[axis], i_shape[axis] = size, indices.shape[axis]
    xb = x if tuple(x_shape) == tuple(x.shape) else broadcast_to(x, tuple(x_shape))
    ib = indices if tuple(i_shape) == tuple(indices.shape) else broadcast_to(indices, tuple(i_shape))
    return _gather(xb, _wrapped(ib, size), axis=axis)


def _mask_prepared(op: str, input, mask):
    x = _tensor(op, input)
    mask = _tensor(op, mask)
    if mask.dtype != np.bool_:
        raise DTypeError(f"{op}: the mask must be a bool tensor, got dtype {mask.dtype}; compare, as x > 0")
    _same_device(op, x, mask, "mask")
    try:
        shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(mask.shape)))
    except ValueError:
        raise ShapeError(
            f"{op}: the mask of shape {tuple(mask.shape)} does not broadcast with the tensor's shape {tuple(x.shape)}"
        ) from None
    positions = x.xp.flatnonzero(x.xp.broadcast_to(mask.array, shape)).astype(np.int64)
    xb = x if tuple(x.shape) == shape else broadcast_to(x, shape)
    return reshape(xb, (-1,)), Tensor._wrap(positions), shape


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """The elements of input where the bool ``mask`` is True, as a 1-d tensor in C order,
    ``torch.masked_select``; mask and input broadcast together.

    vjp: the cotangent put back at the selected positions (summed over broadcasting). Raises
    DTypeError for a mask that is not bool, ShapeError for shapes that do not broadcast.
    """
    flat, positions, _ = _mask_prepared("masked_select", input, mask)
    return _gather(flat, positions, axis=0)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with the leading elements of ``source`` (in C order) copied to where the bool ``mask``
    is True, in C order, ``torch.masked_scatter``; mask and input broadcast together.

    vjp: input gets the cotangent where the mask is False; source the cotangent at the masked
    positions, in order, and zeros for its elements past the number of True values. Raises
    DTypeError (a mask that is not bool, a source of another dtype), ShapeError (shapes that do
    not broadcast, a source with fewer elements than the mask has True values).
    """
    x = _tensor("masked_scatter", input)
    source = _tensor("masked_scatter", source)
    _check_dtype("masked_scatter", x, source, "source")
    flat, positions, shape = _mask_prepared("masked_scatter", x, mask)
    n = positions.shape[0]
    if source.numel() < n:
        raise ShapeError(f"masked_scatter: source has {source.numel()} elements, fewer than the mask's {n} True values")
    values = reshape(source, (-1,))
    if values.shape[0] != n:
        values = getitem(values, slice(0, n))
    return reshape(_scatter(flat, positions, values, axis=0), shape)


def repeat_interleave(input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None):
    """Each slice of input along ``dim`` repeated ``repeats`` times in a row, ``torch.repeat_interleave``:
    [a, b] with repeats 2 is [a, a, b, b]. ``repeats`` is an int or an integer tensor (0-d, or one
    count per slice); ``dim=None`` flattens input first. ``output_size`` (the total, sum of repeats)
    is checked when given. ``repeat_interleave(repeats)`` with one integer tensor is PyTorch's other
    form: the indices 0, 1, ... each repeated its count times.

    vjp: the cotangent of the copies summed back (an index_select's vjp). Raises ArgumentError for a
    negative repeat or a wrong output_size, DTypeError for repeats that are not integers, ShapeError
    for a repeats tensor whose length is not input.size(dim).
    """
    if repeats is None:  # repeat_interleave(counts)
        counts = _tensor("repeat_interleave", input)
        if counts.dtype.kind not in "iu" or counts.ndim > 1:
            raise DTypeError(
                f"repeat_interleave: a single argument must be a 1-d integer tensor of counts, "
                f"got {tuple(counts.shape)} {counts.dtype}"
            )
        xp = counts.xp
        flat = counts.array.reshape(-1)
        _no_negative(flat)
        return Tensor._wrap(xp.repeat(xp.arange(flat.shape[0], dtype=np.int64), flat))
    x = _tensor("repeat_interleave", input)
    if dim is None:
        x, axis = reshape(x, (-1,)), 0
    else:
        (axis,) = _dim_list("repeat_interleave", x, dim)
        x = _as_1d(x)
    xp = x.xp
    n = x.shape[axis]
    if isinstance(repeats, (bool, np.bool_, float, np.floating)):
        raise DTypeError(f"repeat_interleave: repeats must be an int or an integer tensor, got {repeats!r}")
    if isinstance(repeats, (int, np.integer)):
        counts = xp.full(n, int(repeats), dtype=np.int64)
    else:
        r = _as_index("repeat_interleave", repeats, x, "repeats").array
        if r.ndim > 1 or (r.ndim == 1 and r.shape[0] not in (1, n)):
            raise ShapeError(
                f"repeat_interleave: repeats must be one count or one per slice (input.size({dim}) = {n}), "
                f"got shape {tuple(r.shape)}"
            )
        counts = xp.broadcast_to(r.reshape(-1).astype(np.int64), (n,))
    _no_negative(counts)
    order = xp.repeat(xp.arange(n, dtype=np.int64), counts)
    if output_size is not None and int(output_size) != order.shape[0]:
        raise ArgumentError(
            f"repeat_interleave: output_size {output_size} does not match the sum of repeats, {order.shape[0]}"
        )
    shape = list(x.shape)
    shape[axis] = order.shape[0]
    return _gather(x, _spread(Tensor._wrap(order), axis, tuple(shape)), axis=axis)


def _no_negative(counts) -> None:
    if counts.size and bool((counts < 0).any()):
        raise ArgumentError(f"repeat_interleave: repeats can not be negative, got {int(counts.min())}")


def clamp_min(input: Tensor, min) -> Tensor:
    """``clamp(input, min=min)``, ``torch.clamp_min``: a number or a tensor bound; see ``clamp``."""
    return elementwise.clip(input, min, None)


def clamp_max(input: Tensor, max) -> Tensor:
    """``clamp(input, max=max)``, ``torch.clamp_max``: a number or a tensor bound; see ``clamp``."""
    return elementwise.clip(input, None, max)


# --- in place ------------------------------------------------------------------------------------


def _in_place(op: str, self: Tensor, fn, *others) -> Tensor:
    """``self = fn(self, *others)`` in place, under minigrad's version-counter rules (see ops.inplace).

    While recording (self or a tensor in ``others`` requires grad) the result is computed from a copy
    of the old value and becomes self's history; a leaf that requires grad is refused. Otherwise the
    result is written into self's buffer. Either way self's version goes up, so nodes that saved the
    old value raise in backward. Bad arguments raise before anything is written.
    """
    if not isinstance(self, Tensor):
        raise DTypeError(f"{op}: an in-place op needs a tensor, got {type(self).__name__}")
    recording = is_grad_enabled() and (
        self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
    )
    try:
        if recording:
            _forbid_leaf(op, self)
            old = Tensor._wrap(self.array.copy(), self._node)
            return _rebase(op, self, fn(old, *(old if o is self else o for o in others)))
        with no_grad():
            result = fn(self, *others)
    except MinigradError as exc:  # the out-of-place op's message, under the name the user called
        inner = op.rstrip("_") + ": "
        text = str(exc)
        if text.startswith(inner):
            raise type(exc)(f"{op}: {text[len(inner) :]}") from exc
        raise
    if result.shape != self.shape:
        raise ShapeError(f"{op}: the result has shape {result.shape}, which does not fit the tensor's {self.shape}")
    if result.dtype != self.dtype and not self.xp.can_cast(result.dtype, self.dtype, casting="same_kind"):
        raise DTypeError(f"{op}: result dtype {result.dtype} cannot be stored in a tensor of dtype {self.dtype}")
    self.array[...] = result.array
    self._vc[0] += 1
    return self


def scatter_(self: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None) -> Tensor:
    """In-place :func:`scatter` (``Tensor.scatter_``): the version goes up; see :func:`_in_place`."""
    return _in_place(
        "scatter_", self, lambda s, o: scatter(s, dim, index, o, reduce=reduce), src if value is None else value
    )


def scatter_add_(self: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """In-place :func:`scatter_add` (``Tensor.scatter_add_``)."""
    return _in_place("scatter_add_", self, lambda s, o: scatter_add(s, dim, index, o), src)


def scatter_reduce_(
    self: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """In-place :func:`scatter_reduce` (``Tensor.scatter_reduce_``)."""
    return _in_place(
        "scatter_reduce_", self, lambda s, o: scatter_reduce(s, dim, index, o, reduce, include_self=include_self), src
    )


def index_add_(self: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """In-place :func:`index_add` (``Tensor.index_add_``)."""
    return _in_place("index_add_", self, lambda s, o: index_add(s, dim, index, o, alpha=alpha), source)


def index_copy_(self: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`index_copy` (``Tensor.index_copy_``)."""
    return _in_place("index_copy_", self, lambda s, o: index_copy(s, dim, index, o), source)


def index_fill_(self: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """In-place :func:`index_fill` (``Tensor.index_fill_``)."""
    return _in_place("index_fill_", self, lambda s, o: index_fill(s, dim, index, o), value)


def masked_fill_(self: Tensor, mask: Tensor, value) -> Tensor:
    """In-place ``masked_fill`` (``Tensor.masked_fill_``): the mask broadcasts to self's shape."""
    return _in_place("masked_fill_", self, lambda s, o: elementwise.masked_fill(s, mask, o), value)


def masked_scatter_(self: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """In-place :func:`masked_scatter` (``Tensor.masked_scatter_``): the mask broadcasts to self's shape."""
    return _in_place("masked_scatter_", self, lambda s, o: masked_scatter(s, mask, o), source)


def clamp_(self: Tensor, min=None, max=None) -> Tensor:
    """In-place ``clamp`` (``Tensor.clamp_``): number or tensor bounds, as ``clamp``."""
    return _in_place("clamp_", self, lambda s, lo, hi: elementwise.clip(s, lo, hi), min, max)


def clamp_min_(self: Tensor, min) -> Tensor:
    """In-place :func:`clamp_min` (``Tensor.clamp_min_``)."""
    return _in_place("clamp_min_", self, lambda s, lo: elementwise.clip(s, lo, None), min)


def clamp_max_(self: Tensor, max) -> Tensor:
    """In-place :func:`clamp_max` (``Tensor.clamp_max_``)."""
    return _in_place("clamp_max_", self, lambda s, hi: elementwise.clip(s, None, hi), max)


def clip_(self: Tensor, min=None, max=None) -> Tensor:
    """In-place ``clip``, PyTorch's alias of ``clamp_`` (``Tensor.clip_``)."""
    return _in_place("clip_", self, lambda s, lo, hi: elementwise.clip(s, lo, hi), min, max)

"""Indexing along a dimension: gather, scatter (plain, add, reduce), index_select/add/copy/fill, take,
take_along_dim, masked_select, masked_scatter, repeat_interleave, and their in-place forms.

Everything here rests on five differentiable primitives, each forward beside its vjp:

- ``gather(x, index; axis)``: out[i][j][k] = x[index[i][j][k]][j][k] (for axis 0), ``torch.gather``.
  Its vjp is ``gather_backward``: zeros of x's shape with the cotangent *added* at the gathered
  positions (repeated indices accumulate), whose own vjp is the gather again, so any order works.
- ``scatter(x, index, src; axis)``: x with ``src`` written at the positions; the overwritten
  elements of x get no gradient, src gets the cotangent gathered back.
- ``scatter_prod`` and ``scatter_extreme`` (amax/amin): x combined with the src elements written
  to each position, by a product or a max/min, with or without x's own element (``include_self``).

The rest is composed from them and the existing ops: ``index_select`` is a gather with the index
broadcast along the other dimensions, ``take`` a gather of the flattened input, ``scatter_add`` and
``index_add`` add a ``gather_backward`` to the input, ``index_fill`` is a masked_fill, and so on,
so gradcheck, create_graph and the version counters come with them.

Index tensors are inputs of the primitives (never arrays captured in settings) and are listed in
``saves``: changing an index in place after the forward makes backward raise instead of scattering
the gradient to the wrong places.

Rules PyTorch leaves open, decided here:

- **Repeated indices in a scatter** (``scatter``, ``index_copy``; ``masked_scatter``'s positions never
  repeat): PyTorch's result is nondeterministic. Here the *last* write wins, in the C order of the index
  tensor's elements, on NumPy and CuPy alike (the writes are made unique first). The gradient of
  ``src`` is PyTorch's formula, ``grad.gather(dim, index)``: every duplicate gets the cotangent of the
  position it was written to, also those whose write lost.
- **Ties in amax/amin** (``scatter_reduce``): the gradient is split evenly among every element
  (self included when it takes part) equal to the result, as PyTorch does. Which elements won is the
  branch signature, so gradcheck reports a tie as a kink. One deliberate difference: with
  ``include_self=False`` PyTorch 2.13 still counts input's element in the tie when it equals the
  result (and then gives it nothing), so the src elements lose part of the cotangent; here only the
  elements taking part are counted, which is the derivative (tests/parity/test_torch_indexing.py).
- **src larger than index**: only its leading block is read, and the rest gets a zero gradient
  (PyTorch 2.13 computes the same forward, but its backward fails with "invalid gradient").
- ``scatter(..., reduce="add"|"multiply")`` has no derivative in PyTorch; here it is
  ``scatter_add`` and ``scatter_reduce(..., "prod")`` with their gradients.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DeviceError, DTypeError, IndexOutOfRange, MinigradError, ShapeError
from ..grad_mode import is_grad_enabled, no_grad
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise
from .construct import _dim_list
from .elementwise import astype, where
from .inplace import _forbid_leaf, _rebase
from .shape import broadcast_to, getitem, reshape

__all__ = [
    "gather",
    "scatter",
    "scatter_add",
    "scatter_reduce",
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

# --- positions on arrays --------------------------------------------------------------------------


def _grid(index, axis: int) -> list:
    """The integer index that reads ``x[..., index, ...]`` elementwise: aranges on the other axes."""
    xp = backend.xp_of(index)
    parts = []
    for d, size in enumerate(index.shape):
        if d == axis:
            parts.append(index.astype(xp.int64, copy=False))
        else:
            shape = [1] * index.ndim
            shape[d] = size
            parts.append(xp.arange(size, dtype=xp.int64).reshape(shape))
    return parts


def _targets(index, axis: int, shape: tuple):
    """The flat (C order) positions in an array of ``shape`` that ``index`` addresses along ``axis``."""
    xp = backend.xp_of(index)
    flat = xp.zeros((), dtype=xp.int64)
    stride = 1
    grid = _grid(index, axis)
    for d in reversed(range(len(shape))):
        flat = flat + grid[d] * stride
        stride *= shape[d]
    return xp.broadcast_to(flat, index.shape).reshape(-1)


def _last_writes(flat):
    """The positions in ``flat`` of the last occurrence of each distinct target: last write wins."""
    xp = backend.xp_of(flat)
    _, first = xp.unique(flat[::-1], return_index=True)
    return flat.size - 1 - first


def _combine_at(name: str, out_flat, flat, values) -> None:
    """``out_flat[flat] = ufunc(out_flat[flat], values)`` with repeated targets combined one by one.

    NumPy has ``ufunc.at``; CuPy has no multiply.at, so each round there combines the first
    remaining occurrence of every target (distinct targets, so one fancy assignment is exact).
    """
    xp = backend.xp_of(out_flat)
    if xp is np:
        getattr(np, name).at(out_flat, flat, values)
        return
    ufunc = getattr(xp, name)
    remaining = xp.arange(flat.size)
    while remaining.size:
        _, first = xp.unique(flat[remaining], return_index=True)
        pick = remaining[first]
        targets = flat[pick]
        out_flat[targets] = ufunc(out_flat[targets], values[pick])
        keep = xp.ones(remaining.size, dtype=bool)
        keep[first] = False
        remaining = remaining[keep]


def _vector_of(index, axis: int):
    """The 1-d index that ``index`` broadcasts along the other axes (index_select's), or None.

    Such an index reads and writes whole slices, which ``take`` and a slice scatter-add do several
    times faster than the elementwise path (an embedding lookup is one).
    """
    if index.ndim < 2 or not index.size or any(st != 0 for d, st in enumerate(index.strides) if d != axis):
        return None
    return index[tuple(slice(None) if d == axis else 0 for d in range(index.ndim))]


def _gather_array(x, index, axis: int):
    """x's elements at ``index`` along ``axis`` (index no larger than x on the other axes)."""
    xp = backend.xp_of(x)
    part = x[tuple(slice(None) if d == axis else slice(0, s) for d, s in enumerate(index.shape))]
    vector = _vector_of(index, axis)
    if vector is not None:
        return xp.take(part, vector, axis=axis)
    return xp.take_along_axis(part, index.astype(xp.int64, copy=False), axis=axis)


# --- the primitives --------------------------------------------------------------------------------


def _add_slices(out, vector, axis: int, g) -> None:
    """out[..., vector[i], ...] += g[..., i, ...] (whole slices along ``axis``; repeats accumulate).

    On NumPy the slices go in rounds, the k-th repeat of every target in round k, each round one
    fancy ``+=`` on distinct targets: the same sums in the same order as ``add.at``, several times
    faster for slices (the embedding-gradient case), in as many rounds as the most repeated target.
    """
    place = [slice(0, n) for n in g.shape]
    if backend.xp_of(out) is not np:
        place[axis] = vector
        backend.scatter_add(out, tuple(place), g)
        return
    order = np.argsort(vector, kind="stable")
    targets = vector[order]
    first = np.concatenate(([True], targets[1:] != targets[:-1]))
    rank = np.arange(targets.size) - np.flatnonzero(first)[np.cumsum(first) - 1]  # k for the k-th repeat
    for k in range(int(rank.max()) + 1):
        chosen = order[rank == k]
        place[axis] = vector[chosen]
        out[tuple(place)] += np.take(g, chosen, axis=axis)


@primitive(name="gather", saves=(1,))
def _gather(x, index, *, axis):
    """out = x[index] along ``axis`` elementwise (``torch.gather``); index has x's number of dims."""
    return _gather_array(x, index, axis)


@primitive(name="gather_backward", saves=(1,))
def _gather_backward(g, index, *, axis, shape):
    """Zeros of ``shape`` with ``g`` (index's shape) added at index along ``axis``; repeats accumulate."""
    xp = backend.xp_of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if index.size:
        vector = _vector_of(index, axis)
        if vector is not None:
            _add_slices(out, vector, axis, g)
        else:
            backend.scatter_add(out, tuple(_grid(index, axis)), g)
    return out


_gather.defvjp(lambda g, ans, x, index, axis: _gather_backward(g, index, axis=axis, shape=tuple(x.shape)), None)
_gather_backward.defvjp(lambda g, ans, src, index, axis, shape: _gather(g, index, axis=axis), None)


@primitive(name="scatter", saves=(1,))
def _scatter(x, index, src, *, axis):
    """A copy of x with ``src`` (index's shape, or broadcast to it) written at index along ``axis``.

    With repeated positions the last write in the index's C order wins (see the module docstring).
    """
    xp = backend.xp_of(x)
    out = x.copy()
    if index.size:
        flat = _targets(index, axis, x.shape)
        values = xp.broadcast_to(xp.asarray(src, dtype=x.dtype), index.shape).reshape(-1)
        last = _last_writes(flat)
        out.reshape(-1)[flat[last]] = values[last]
    return out


_scatter.defvjp(
    lambda g, ans, x, index, src, axis: _scatter(g, index, 0, axis=axis),
    None,
    lambda g, ans, x, index, src, axis: _gather(g, index, axis=axis),
)


@primitive(name="touched", differentiable=False)
def _touched(x, index, *, axis):
    """A bool array of x's shape: True where ``index`` writes along ``axis``."""
    xp = backend.xp_of(x)
    out = xp.zeros(x.shape, dtype=bool)
    if index.size:
        out.reshape(-1)[_targets(index, axis, x.shape)] = True
    return out


@primitive(name="scatter_prod", saves=(0, 1, 2))
def _scatter_prod(x, index, src, *, axis, include_self):
    """x with each position multiplied by the src elements written to it (without x's own when not
    ``include_self``): ``scatter_reduce(..., "prod")``."""
    out = x.copy()
    if index.size:
        flat = _targets(index, axis, x.shape)
        out_flat = out.reshape(-1)
        if not include_self:
            out_flat[flat] = 1
        _combine_at("multiply", out_flat, flat, src.reshape(-1))
    return out


def _any(mask) -> bool:
    return bool((mask.array if isinstance(mask, Tensor) else mask).any())


def _prod_factor(zero, zero_value, count, s1, e2):
    """What multiplies the product of the nonzero others for an element of a group with ``count`` zeros.

    None: 1; one zero z: 1 at z, z elsewhere (value 0, derivative 1 in z); two zeros z1, z2: the other
    zero at each of them (s1 - z), z1 z2 elsewhere (e2); three or more: 0 -- the exact polynomial in
    every case, as in reduction's prod, so that create_graph=True differentiates it correctly.
    """
    one = where(zero, 1, s1)
    two = where(zero, s1 - zero_value, e2)
    return where(count == 0, 1, where(count == 1, one, where(count == 2, two, 0)))


def _prod_parts(g, x, index, src, axis, include_self):
    """The gradients of scatter_prod: each element gets g times the product of the others in its group
    (its position's written src elements, and x's own where it takes part), exact with zeros."""
    shape = tuple(x.shape)
    member = _self_in_group(x, index, axis, include_self)
    zx, zs = x == 0, src == 0
    xm = where(zx, 1, x) if _any(zx) else x
    sm = where(zs, 1, src) if _any(zs) else src
    product = _scatter_prod(xm, index, sm, axis=axis, include_self=include_self)  # of the nonzero members

    def pick(t):
        return _gather(t, index, axis=axis)

    if not (_any(zx & member) or _any(zs)):
        return where(member, g * product / xm, 0), pick(g) * pick(product) / sm

    def group_sum(a, b):
        return where(member, a, 0) + _gather_backward(b, index, axis=axis, shape=shape)

    count = group_sum(astype(zx, dtype=g.dtype), astype(zs, dtype=g.dtype))
    xz, sz = where(zx, x, 0), where(zs, src, 0)
    s1 = group_sum(xz, sz)
    e2 = (s1 * s1 - group_sum(xz * xz, sz * sz)) / 2
    gx = where(member, g * (product / xm) * _prod_factor(zx, xz, count, s1, e2), 0)
    gs = pick(g) * (pick(product) / sm) * _prod_factor(zs, sz, pick(count), pick(s1), pick(e2))
    return gx, gs


def _self_in_group(x, index, axis, include_self):
    """Where x's own element takes part in its position's reduction: everywhere, or where nothing is written."""
    touched = _touched(x, index, axis=axis)
    return (touched | ~touched) if include_self else ~touched


_scatter_prod.defvjp(
    lambda g, ans, x, index, src, axis, include_self: _prod_parts(g, x, index, src, axis, include_self)[0],
    None,
    lambda g, ans, x, index, src, axis, include_self: _prod_parts(g, x, index, src, axis, include_self)[1],
)


def _extreme_forward(x, index, src, axis, include_self, largest):
    out = x.copy()
    if index.size:
        flat = _targets(index, axis, x.shape)
        values = src.reshape(-1)
        out_flat = out.reshape(-1)
        if not include_self:  # start from one of the written values: max/min of it again changes nothing
            last = _last_writes(flat)
            out_flat[flat[last]] = values[last]
        _combine_at("maximum" if largest else "minimum", out_flat, flat, values)
    return out


def _extreme_winners(x, index, src, *, axis, include_self, largest):
    """The branch signature: which elements of x (taking part) and of src equal their position's result."""
    xp = backend.xp_of(x)
    out = _extreme_forward(x, index, src, axis, include_self, largest)
    own = x == out
    if not include_self and index.size:
        own &= ~_touched.forward(x, index, axis=axis)
    written = src == _gather_array(out, index, axis) if index.size else xp.zeros(src.shape, dtype=bool)
    return xp.concatenate([own.reshape(-1), written.reshape(-1)])


@primitive(name="scatter_extreme", saves=(0, 1, 2), saves_output=True, signature=_extreme_winners)
def _scatter_extreme(x, index, src, *, axis, include_self, largest):
    """x with each position's max (``largest``) or min over the src elements written to it and, with
    ``include_self``, x's own: ``scatter_reduce(..., "amax"|"amin")``."""
    return _extreme_forward(x, index, src, axis, include_self, largest)


def _extreme_parts(g, ans, x, index, src, axis, include_self):
    """The cotangent split evenly among the elements equal to their position's result (ties share)."""
    shape = tuple(x.shape)
    own = (x == ans) & _self_in_group(x, index, axis, include_self)
    written = src == _gather(ans, index, axis=axis)
    count = astype(own, dtype=g.dtype) + _gather_backward(astype(written, dtype=g.dtype), index, axis=axis, shape=shape)
    share = g / where(count == 0, 1, count)
    return where(own, share, 0), where(written, _gather(share, index, axis=axis), 0)


_scatter_extreme.defvjp(
    lambda g, ans, x, index, src, axis, include_self, largest: _extreme_parts(
        g, ans, x, index, src, axis, include_self
    )[0],
    None,
    lambda g, ans, x, index, src, axis, include_self, largest: _extreme_parts(
        g, ans, x, index, src, axis, include_self
    )[1],
)


# --- checks shared by the public functions ------------------------------------------------------------


def _tensor(op: str, value) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if backend.is_array(value):
        return Tensor._wrap(value)
    try:
        return Tensor(value)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"{op}: expected a tensor, got {type(value).__name__}") from exc


def _as_index(op: str, index, like: Tensor, name: str = "index") -> Tensor:
    """``index`` as an integer tensor on ``like``'s device; DTypeError for floats and bools."""
    if not isinstance(index, Tensor):
        if backend.is_array(index):
            index = Tensor._wrap(index)
        else:
            array = np.asarray(index)
            if array.size == 0 and array.dtype.kind == "f":  # an empty list
                array = array.astype(np.int64)
            index = Tensor._wrap(backend.to_device(array, like.device))
    if index.dtype.kind not in "iu":
        raise DTypeError(f"{op}: the {name} must be an integer tensor (int64 or int32), got dtype {index.dtype}")
    _same_device(op, like, index, name)
    return index


def _same_device(op: str, x: Tensor, other: Tensor, name: str) -> None:
    if other.device != x.device:
        raise DeviceError(f"{op}: the {name} is on {other.device} but the tensor on {x.device}; move it with .to()")


def _check_range(op: str, dim, index: Tensor, size: int, negative: bool = False) -> None:
    """IndexOutOfRange, naming the op, the dim and the first bad value, for an index outside [0, size)
    (or [-size, size) where ``negative`` indices count from the end)."""
    a = index.array
    if not a.size:
        return
    bad = (a < (-size if negative else 0)) | (a >= size)
    if bool(bad.any()):
        value = int(a[bad].reshape(-1)[0])
        raise IndexOutOfRange(f"{op}: index {value} is out of range for dim {dim} of size {size}")


def _wrapped(index: Tensor, size: int) -> Tensor:
    """Negative indices counted from the end (a new tensor only when there are some)."""
    a = index.array
    if a.size and bool((a < 0).any()):
        return Tensor._wrap(backend.xp_of(a).where(a < 0, a + size, a))
    return index


def _check_dtype(op: str, x: Tensor, other, name: str = "src") -> None:
    if isinstance(other, Tensor) and other.dtype != x.dtype:
        raise DTypeError(f"{op}: {name} has dtype {other.dtype}, but the tensor has dtype {x.dtype}; they must match")


def _check_along(op: str, x: Tensor, axis: int, index: Tensor, src: Tensor | None = None) -> None:
    """PyTorch's shape rules for gather/scatter: index has x's dims and is no larger than x apart from
    ``axis``, and no larger than src anywhere."""
    if index.ndim != x.ndim:
        raise ShapeError(
            f"{op}: the index must have as many dimensions as the tensor, got index shape {tuple(index.shape)} "
            f"for a tensor of shape {tuple(x.shape)}"
        )
    for d, (i, s) in enumerate(zip(index.shape, x.shape)):
        if d != axis and i > s:
            raise ShapeError(
                f"{op}: index shape {tuple(index.shape)} is larger than the tensor's {tuple(x.shape)} "
                f"at dimension {d} (only dim {axis} may differ)"
            )
    if src is not None:
        if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
            raise ShapeError(
                f"{op}: index shape {tuple(index.shape)} must be no larger than src's {tuple(src.shape)} "
                "in every dimension"
            )


def _leading(src: Tensor, shape: tuple) -> Tensor:
    """src's leading block of ``shape`` (all of it when the shapes agree): the part a scatter reads."""
    if tuple(src.shape) == tuple(shape):
        return src
    return getitem(src, tuple(slice(0, s) for s in shape))


def _as_1d(x: Tensor) -> Tensor:
    return reshape(x, (1,)) if x.ndim == 0 else x


def _along_prepared(op: str, input, dim, index, src=None, negative_ok=False):
    """(x, axis, index, src, shape) for the gather/scatter family, checked, with 0-d tensors as 1-d."""
    x = _tensor(op, input)
    (axis,) = _dim_list(op, x, dim)
    index = _as_index(op, index, x)
    if src is not None and isinstance(src, Tensor):
        _check_dtype(op, x, src)
    shape = tuple(x.shape)
    if x.ndim == 0:
        if index.ndim > 1:
            raise ShapeError(f"{op}: a 0-d tensor takes a 0-d or 1-d index, got shape {tuple(index.shape)}")
        x, index = reshape(x, (1,)), reshape(index, (-1,))
        if isinstance(src, Tensor):
            src = reshape(src, (-1,))
    _check_along(op, x, axis, index, src if isinstance(src, Tensor) and src.ndim else None)
    _check_range(op, dim, index, x.shape[axis])
    return x, axis, index, src, shape


# --- gather and scatter ------------------------------------------------------------------------------


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Values along ``dim`` at ``index``, ``torch.gather``: for a 3-d tensor and dim = 1,
    ``out[i][j][k] = input[i][index[i][j][k]][k]``.

    ``index`` is an integer tensor with input's number of dimensions, no larger than input in the
    other dimensions; the result has index's shape. vjp: the cotangent added back at the gathered
    positions (repeated indices accumulate). ``sparse_grad`` is accepted and changes nothing (the
    gradient is dense). Raises IndexOutOfRange for an index outside [0, input.size(dim)) or a dim
    out of range, DTypeError for a non-integer index, ShapeError for index shapes that do not fit.
    """
    x, axis, idx, _, shape = _along_prepared("gather", input, dim, index)
    out = _gather(x, idx, axis=axis)
    return reshape(out, tuple(index.shape)) if not shape else out


def _scatter_value(op: str, src, value):
    """The one thing written by a scatter: ``src`` (a tensor, or a number, PyTorch's value overload)
    or ``value``; ArgumentError for both or neither."""
    if (src is None) == (value is None):
        raise ArgumentError(f"{op}: give exactly one of src (a tensor) and value (a number)")
    return src if src is not None else value


def scatter(input: Tensor, dim: int, index: Tensor, src=None, value=None, *, reduce: str | None = None) -> Tensor:
    """``src`` (or the number ``value``) written into a copy of input at ``index`` along ``dim``,
    ``torch.scatter``: for dim = 0, ``out[index[i][j]][j] = src[i][j]``.

    The inverse of :func:`gather`. index has input's number of dimensions, is no larger than input
    apart from ``dim`` and no larger than src anywhere (src's leading block is read). A number or a
    0-d tensor in ``src`` is PyTorch's value overload. Gradients as PyTorch: input gets the cotangent
    where nothing was written (0 where overwritten), src the cotangent gathered at index. Repeated
    positions: the last write in index's C order wins (PyTorch's is nondeterministic), and src's
    gradient is still ``grad.gather(dim, index)``, as PyTorch's formula.

    ``reduce="add"`` is :func:`scatter_add` and ``reduce="multiply"`` is
    ``scatter_reduce(..., "prod")`` (PyTorch's deprecated forms; PyTorch has no gradient for them,
    here they have these ops' gradients). Raises IndexOutOfRange, DTypeError (an index that is not
    integer, a src of another dtype), ShapeError, and ArgumentError for an unknown ``reduce``.
    """
    what = _scatter_value("scatter", src, value)
    if reduce not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")
    tensor_src = isinstance(what, Tensor) and what.ndim > 0
    x, axis, idx, what, shape = _along_prepared("scatter", input, dim, index, what if tensor_src else None)
    if not tensor_src:
        what = src if src is not None else value
        if isinstance(what, Tensor):
            _check_dtype("scatter", x, what, "value")
        if reduce is not None:  # the value written everywhere index points: a src of index's shape
            what = _filled(x, idx, what)
    elif what.ndim:
        what = _leading(what, tuple(idx.shape))
    if reduce is None:
        out = _scatter(x, idx, what, axis=axis)
    elif reduce == "add":
        out = x + _gather_backward(what, idx, axis=axis, shape=tuple(x.shape))
    else:
        out = _scatter_prod(x, idx, what, axis=axis, include_self=True)
    return reshape(out, ()) if not shape else out


def _filled(x: Tensor, index: Tensor, value):
    """``value`` (a number or a 0-d tensor) as a tensor of index's shape and x's dtype."""
    if isinstance(value, Tensor):
        return broadcast_to(value, tuple(index.shape))
    xp = x.xp
    return Tensor._wrap(xp.full(index.shape, value, dtype=x.dtype))


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """input plus ``src`` added at ``index`` along ``dim``, ``torch.scatter_add``: for dim = 0,
    ``out[index[i][j]][j] += src[i][j]``, repeated positions accumulating.

    vjp: input gets the cotangent, src the cotangent gathered at index. Shapes and errors as
    :func:`scatter`.
    """
    return _scatter_reduce("scatter_add", input, dim, index, src, "sum", True)


_REDUCTIONS = ("sum", "prod", "mean", "amax", "amin")


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """input with the ``src`` elements written at each position (``index`` along ``dim``, as in
    :func:`scatter`) reduced together, ``torch.scatter_reduce``: ``reduce`` is "sum", "prod",
    "mean", "amax" or "amin"; with ``include_self`` input's own element takes part, without it a
    position that is written to forgets input's value (positions nothing is written to keep it).

    "mean" divides by the number of elements taking part (1 for input's own with include_self), and
    rounds down (floor) for integer tensors, as PyTorch. Gradients as PyTorch's: sum passes the
    cotangent; mean divides it by the count; prod gives each element the product of the others in
    its group (correct with zeros: an element is the group's only zero -> the product of the rest,
    several zeros -> 0, exact to second order); amax/amin split it evenly among the elements taking
    part that equal the result (ties), a kink declared as the branch signature (PyTorch also counts an
    excluded input element equal to the result; see the module docstring). Raises ArgumentError for
    another ``reduce``; otherwise as :func:`scatter`.
    """
    if reduce not in _REDUCTIONS:
        raise ArgumentError(f"scatter_reduce: reduce must be one of {', '.join(_REDUCTIONS)}, got {reduce!r}")
    return _scatter_reduce("scatter_reduce", input, dim, index, src, reduce, include_self)


def _scatter_reduce(op, input, dim, index, src, reduce, include_self):
    src = _tensor(op, src)
    x, axis, idx, src, shape = _along_prepared(op, input, dim, index, src)
    src = _leading(src, tuple(idx.shape))
    include_self = bool(include_self)
    if reduce in ("sum", "mean"):
        base = x if include_self else where(_touched(x, idx, axis=axis), 0, x)
        out = base + _gather_backward(src, idx, axis=axis, shape=tuple(x.shape))
        if reduce == "mean":
            xp = x.xp
            ones = xp.ones(idx.shape, dtype=np.int64)
            count = _gather_backward.forward(ones, idx.array, axis=axis, shape=tuple(x.shape)) + int(include_self)
            count = xp.maximum(count, 1)
            if x.dtype.kind in "iu":
                out = elementwise.floor_divide(out, Tensor._wrap(count.astype(x.dtype)))
            else:
                out = out / Tensor._wrap(count.astype(x.dtype))
    elif reduce == "prod":
        out = _scatter_prod(x, idx, src, axis=axis, include_self=include_self)
    else:
        out = _scatter_extreme(x, idx, src, axis=axis, include_self=include_self, largest=reduce == "amax")
    return reshape(out, ()) if not shape else out


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

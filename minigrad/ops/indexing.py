"""Indexing along a dimension: gather, scatter, scatter_add and scatter_reduce, and the primitives that
:mod:`minigrad.ops.selection` (index_select/add/copy/fill, take, take_along_dim, masked_select/scatter,
repeat_interleave, and the in-place forms of both modules' ops) is composed of.

Everything here rests on five differentiable primitives, each forward beside its vjp:

- ``gather(x, index; axis)``: out[i][j][k] = x[index[i][j][k]][j][k] (for axis 0), ``torch.gather``.
  Its vjp is ``gather_backward``: zeros of x's shape with the cotangent *added* at the gathered
  positions (repeated indices accumulate), whose own vjp is the gather again, so any order works.
- ``scatter(x, index, src; axis)``: x with ``src`` written at the positions; the overwritten
  elements of x get no gradient, src gets the cotangent gathered back.
- ``scatter_prod`` and ``scatter_extreme`` (amax/amin): x combined with the src elements written
  to each position, by a product or a max/min, with or without x's own element (``include_self``).

The rest is composed from them and the existing ops: ``scatter_add`` adds a ``gather_backward`` to the
input, ``scatter_reduce``'s sum and mean too; in selection.py ``index_select`` is a gather with the
index broadcast along the other dimensions, ``take`` a gather of the flattened input, ``index_fill`` a
masked_fill, and so on, so gradcheck, create_graph and the version counters come with them.

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
from ..errors import ArgumentError, DeviceError, DTypeError, IndexOutOfRange, ShapeError, public_op
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise
from .construct import _dim_list
from .elementwise import astype, where
from .shape import broadcast_to, getitem, reshape

__all__ = ["gather", "scatter", "scatter_add", "scatter_reduce"]

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
    if src.ndim == 0:  # a 0-d src reads as one element, as a 0-d input or index does (PyTorch's rule)
        src = _as_1d(src)
    return getitem(src, tuple(slice(0, s) for s in shape))


def _as_1d(x: Tensor) -> Tensor:
    return reshape(x, (1,)) if x.ndim == 0 else x


def _along_prepared(op: str, input, dim, index, src=None):
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


@public_op("scatter_add")
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

"""Moving, picking, splitting and stacking dimensions: PyTorch's families around ``cat``, ``split`` and ``transpose``.

Everything here but :func:`unfold` is composed of the view primitives of
:mod:`minigrad.ops.shape` (permute, reshape, broadcast, basic indexing) and
of ``concatenate``, so the results are views exactly where PyTorch's are
(``movedim``, ``narrow``, ``select``, ``unbind``, the splits, ``ravel`` of a
contiguous tensor), they share their base's version counter, and their
gradients are those primitives' vjps: the inverse permutation, the slice
scattered back into zeros, the sum over broadcast axes.

``unfold`` (``Tensor.unfold(dimension, size, step)``, the sliding windows of
one dimension) is a primitive: a strided read-only view whose vjp adds each
window back where it came from (:func:`_fold`), and whose double vjp is
``unfold`` again.

The in-place view ops (``transpose_``, ``t_``, ``squeeze_``, ``unsqueeze_``,
``swapaxes_``, ``swapdims_``) change which view of its memory a tensor is;
while recording, the tensor takes the view's node as its history.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, GraphError, IndexOutOfRange, ShapeError
from ..grad_mode import is_grad_enabled
from ..primitive import primitive
from ..tensor import Tensor
from . import construct, elementwise
from . import shape as _shape

__all__ = [
    "movedim",
    "moveaxis",
    "swapaxes",
    "swapdims",
    "narrow",
    "narrow_copy",
    "select",
    "unbind",
    "tensor_split",
    "hsplit",
    "vsplit",
    "dsplit",
    "split_with_sizes",
    "hstack",
    "vstack",
    "dstack",
    "column_stack",
    "row_stack",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "ravel",
    "tile",
    "rot90",
    "broadcast_tensors",
    "broadcast_shapes",
]


def _int(op: str, name: str, value) -> int:
    """``value`` as a Python int (a 0-d integer tensor too); DTypeError for anything else."""
    if isinstance(value, Tensor) and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value.item())
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise DTypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def _dim(op: str, x, dim) -> int:
    """``dim`` as a non-negative axis of ``x`` (a 0-d tensor has the one axis 0 / -1, as PyTorch)."""
    dim = _int(op, "dim", dim)
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexOutOfRange(
            f"{op}: dim {dim} is out of range for a tensor of {x.ndim} dimensions (shape {tuple(x.shape)}); "
            f"expected a dim in [{-n}, {n - 1}]"
        )
    return dim % n


def _tensor(op: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: expects a tensor, got {type(x).__name__}")
    return x


# --- moving dimensions -------------------------------------------------------------------------------


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dimensions ``source`` to the positions ``destination``, the others keeping their order.

    ``torch.movedim`` (NumPy's ``moveaxis``): ``source`` and ``destination``
    are an int each or sequences of one length, of distinct dims. A view
    (a permutation), so its gradient is the inverse permutation of the
    cotangent. Raises IndexOutOfRange for a dim outside the tensor,
    ShapeError for sequences of different lengths or repeated dims.
    """
    _tensor("movedim", input)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ShapeError(
            f"movedim: Invalid source or destination dims: source ({src} dims) should contain the same number "
            f"of dims as destination ({dst} dims)"
        )
    src = [_dim("movedim", input, d) for d in src]
    dst = [_dim("movedim", input, d) for d in dst]
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise ShapeError(f"movedim: repeated dim in {name} ({dims}) for shape {tuple(input.shape)}")
    if input.ndim == 0:
        return _shape._permute(input, axes=())
    order = [None] * input.ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(i for i in range(input.ndim) if i not in src)
    axes = tuple(next(rest) if o is None else o for o in order)
    return _shape._permute(input, axes=axes)


def moveaxis(input: Tensor, source, destination) -> Tensor:
    """NumPy's spelling of :func:`movedim` (``torch.moveaxis``)."""
    return movedim(input, source, destination)


def _swap(op: str, input, a, b) -> Tensor:
    _tensor(op, input)
    if input.ndim == 0:
        _dim(op, input, a), _dim(op, input, b)
        return _shape._permute(input, axes=())
    return _shape.transpose(input, _dim(op, input, a), _dim(op, input, b))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Swap two dimensions, ``torch.swapaxes`` (NumPy's name for ``transpose(input, dim0, dim1)``). A view.

    Raises IndexOutOfRange for a dim outside the tensor.
    """
    return _swap("swapaxes", input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions, ``torch.swapdims`` (``transpose(input, dim0, dim1)``). A view.

    Raises IndexOutOfRange for a dim outside the tensor.
    """
    return _swap("swapdims", input, dim0, dim1)


# --- picking along a dimension ------------------------------------------------------------------------


def _along(x, dim: int, index) -> tuple:
    return (slice(None),) * dim + (index,)


def narrow(input: Tensor, dim: int, start, length: int) -> Tensor:
    """Elements ``start .. start + length - 1`` of dimension ``dim``, ``torch.narrow``: a view.

    ``start`` may be negative (counted from the end) or a 0-d integer
    tensor. The gradient is the cotangent written into that slice of zeros.
    Raises IndexOutOfRange for a dim or start outside the tensor, ShapeError
    for a 0-d tensor or a slice that runs past the end, ArgumentError for a
    negative length.
    """
    _tensor("narrow", input)
    if input.ndim == 0:
        raise ShapeError("narrow: cannot be applied to a 0-dim tensor")
    d = _dim("narrow", input, dim)
    start, length = _int("narrow", "start", start), _int("narrow", "length", length)
    size = input.shape[d]
    if not -size <= start <= size:
        raise IndexOutOfRange(
            f"narrow: start ({start}) is out of range for dimension {d} of size {size} (shape {tuple(input.shape)})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise ArgumentError(f"narrow: length must be non-negative, got {length}")
    if start + length > size:
        raise ShapeError(
            f"narrow: start ({start}) + length ({length}) exceeds dimension {d} of size {size} "
            f"(shape {tuple(input.shape)})"
        )
    return _shape.getitem(input, _along(input, d, slice(start, start + length)))


def narrow_copy(input: Tensor, dim: int, start, length: int) -> Tensor:
    """:func:`narrow`, but a copy that shares no memory with ``input`` (``torch.narrow_copy``)."""
    return elementwise.clone(narrow(input, dim, start, length))


def select(input: Tensor, dim: int, index) -> Tensor:
    """The slice at ``index`` of dimension ``dim``, that dimension removed, ``torch.select`` (``x[..., index]``).

    A view; ``index`` may be negative. The gradient puts the cotangent back
    into that slice of zeros. Raises IndexOutOfRange for a dim or index
    outside the tensor, ShapeError for a 0-d tensor.
    """
    _tensor("select", input)
    if input.ndim == 0:
        raise ShapeError("select: cannot be applied to a 0-dim tensor")
    d = _dim("select", input, dim)
    index = _int("select", "index", index)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexOutOfRange(
            f"select: index {index} out of range for tensor of size {tuple(input.shape)} at dimension {d}"
        )
    return _shape.getitem(input, _along(input, d, index % size))


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim`` as a tuple, that dimension removed, ``torch.unbind``: ``select`` at each index.

    Each slice is a view of ``input``; gradients from all of them add up in
    ``input``'s gradient. Raises IndexOutOfRange for a dim outside the
    tensor, ShapeError for a 0-d tensor.
    """
    _tensor("unbind", input)
    if input.ndim == 0:
        raise ShapeError("unbind: dimension specified as 0 but tensor has no dimensions")
    d = _dim("unbind", input, dim)
    return tuple(_shape.getitem(input, _along(input, d, i)) for i in range(input.shape[d]))


# --- splitting ------------------------------------------------------------------------------------------


def _cuts(op: str, input, d: int, indices_or_sections) -> list:
    """The pieces of :func:`tensor_split` along axis ``d`` as a list of (start, stop) of Python slices."""
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        t = indices_or_sections
        if t.dtype.kind not in "iu":
            raise DTypeError(f"{op}: indices_or_sections must be an integer tensor, got {t.dtype}")
        if t.ndim > 1:
            raise ShapeError(f"{op}: indices_or_sections must be a 0-d or 1-d tensor, got shape {tuple(t.shape)}")
        indices_or_sections = int(t.item()) if t.ndim == 0 else [int(v) for v in t.tolist()]
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ArgumentError(f"{op}: number of sections must be larger than 0, got {sections}")
        small, extra = divmod(n, sections)
        bounds, start = [], 0
        for k in range(sections):
            stop = start + small + (1 if k < extra else 0)
            bounds.append((start, stop))
            start = stop
        return bounds
    if isinstance(indices_or_sections, (list, tuple)):  # Python's slices x[prev:i]: negative i from the end
        indices = [_int(op, "indices", i) for i in indices_or_sections]
        return list(zip([0] + indices, indices + [None]))
    raise DTypeError(
        f"{op}: indices_or_sections must be an int, a list of ints or an integer tensor, got {indices_or_sections!r}"
    )


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split ``input`` along ``dim`` into views, ``torch.tensor_split`` (NumPy's ``array_split``).

    An int ``n`` gives n pieces, the first ``size % n`` of them one element
    longer; a list of indices cuts before each index (``[2, 3]`` gives
    ``x[:2], x[2:3], x[3:]``, indices past the end give empty pieces, and a
    negative index counts from the end); a 0-d integer tensor is an int, a
    1-d one a list. Raises ArgumentError for a non-positive number of
    sections, ShapeError for a 0-d input, IndexOutOfRange for a bad dim.
    """
    _tensor("tensor_split", input)
    if input.ndim == 0:
        raise ShapeError("tensor_split: expected at least a 1-dimensional tensor")
    d = _dim("tensor_split", input, dim)
    bounds = _cuts("tensor_split", input, d, indices_or_sections)
    return tuple(_shape.getitem(input, _along(input, d, slice(a, b))) for a, b in bounds)


def _named_split(op: str, input, indices_or_sections, d: int, need: int) -> tuple:
    _tensor(op, input)
    if input.ndim < need:
        raise ShapeError(
            f"{op}: requires a tensor with at least {need} dimension{'s' if need > 1 else ''}, "
            f"but got a tensor with {input.ndim} dimensions (shape {tuple(input.shape)})"
        )
    if isinstance(indices_or_sections, (int, np.integer)) and not isinstance(indices_or_sections, bool):
        n, sections = input.shape[d], int(indices_or_sections)
        if sections <= 0 or n % sections:
            raise ShapeError(
                f"{op}: the size of dimension {d} ({n}) must be divisible by the number of sections "
                f"({sections}); use tensor_split for unequal pieces"
            )
    return tensor_split(input, indices_or_sections, d)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dimension 1 (dimension 0 of a 1-D tensor), ``torch.hsplit``: :func:`tensor_split` there.

    An int must divide that dimension evenly (ShapeError otherwise).
    """
    return _named_split("hsplit", input, indices_or_sections, 1 if getattr(input, "ndim", 0) > 1 else 0, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dimension 0 of a tensor of at least 2 dimensions, ``torch.vsplit``; an int must divide it."""
    return _named_split("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """Split along dimension 2 of a tensor of at least 3 dimensions, ``torch.dsplit``; an int must divide it."""
    return _named_split("dsplit", input, indices_or_sections, 2, 3)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    """Split along ``dim`` into pieces of the given sizes, which sum to the dimension's size, ``split_with_sizes``.

    :func:`minigrad.split` with a list; the pieces are views.
    """
    if not isinstance(split_sizes, (list, tuple)):
        raise DTypeError(f"split_with_sizes: split_sizes must be a list of ints, got {split_sizes!r}")
    return _shape.split(_tensor("split_with_sizes", input), list(split_sizes), dim)


# --- at least n dimensions, stacking -----------------------------------------------------------------------


def _at_least(op: str, tensors, make):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(make(_tensor(op, t)) for t in tensors[0])
    if len(tensors) == 1:
        return make(_tensor(op, tensors[0]))
    return tuple(make(_tensor(op, t)) for t in tensors)


def _1d(t):
    return _shape.reshape(t, (1,)) if t.ndim == 0 else t


def _2d(t):
    if t.ndim == 0:
        return _shape.reshape(t, (1, 1))
    return _shape.reshape(t, (1, t.shape[0])) if t.ndim == 1 else t


def _3d(t):
    if t.ndim == 0:
        return _shape.reshape(t, (1, 1, 1))
    if t.ndim == 1:
        return _shape.reshape(t, (1, t.shape[0], 1))
    return _shape.reshape(t, tuple(t.shape) + (1,)) if t.ndim == 2 else t


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension (a 0-d one becomes shape (1,)), ``torch.atleast_1d``.

    One tensor gives a tensor, several (or one list) a tuple. Reshapes:
    views of the inputs.
    """
    return _at_least("atleast_1d", tensors, _1d)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions: 0-d -> (1, 1), (n,) -> (1, n), ``torch.atleast_2d``."""
    return _at_least("atleast_2d", tensors, _2d)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions: 0-d -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1)."""
    return _at_least("atleast_3d", tensors, _3d)


def _sequence(op: str, tensors) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{op}: expects a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ShapeError(f"{op}: expects a non-empty list of tensors")
    return [_tensor(op, t) for t in tensors]


def _concat(op: str, tensors, dim: int):
    try:
        return _shape.concatenate(tensors, dim)
    except ShapeError as exc:
        shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
        raise ShapeError(f"{op}: the tensors do not fit together along dimension {dim} (shapes {shapes})") from exc


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate column-wise, ``torch.hstack``: along dimension 0 for 1-D tensors, else dimension 1.

    0-d tensors become 1-D first (:func:`atleast_1d`).
    """
    ts = [_1d(t) for t in _sequence("hstack", tensors)]
    return _concat("hstack", ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate row-wise (dimension 0) after :func:`atleast_2d`, ``torch.vstack``: 1-D tensors become rows."""
    return _concat("vstack", [_2d(t) for t in _sequence("vstack", tensors)], 0)


def row_stack(tensors: Sequence[Tensor]) -> Tensor:
    """``torch.row_stack``, an alias of :func:`vstack`."""
    return _concat("row_stack", [_2d(t) for t in _sequence("row_stack", tensors)], 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate depth-wise (dimension 2) after :func:`atleast_3d`, ``torch.dstack``."""
    return _concat("dstack", [_3d(t) for t in _sequence("dstack", tensors)], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Stack as columns, ``torch.column_stack``: 0-d and 1-d tensors become columns (n, 1), then :func:`hstack`."""
    ts = _sequence("column_stack", tensors)
    ts = [_shape.reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in ts]
    return _concat("column_stack", ts, 1)


# --- ravel, tile, rot90, broadcasting --------------------------------------------------------------------------


def ravel(input: Tensor) -> Tensor:
    """The elements as a 1-D tensor, ``torch.ravel``: a view where the memory allows it (a reshape)."""
    return _shape.reshape(_tensor("ravel", input), (-1,))


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Repeat ``input`` ``dims[i]`` times along dimension i, ``torch.tile`` (NumPy's ``tile``).

    Unlike ``Tensor.repeat``, ``dims`` may be shorter than the number of
    dimensions: it is padded with leading 1s. The gradient sums the copies.
    Raises ArgumentError for a negative entry, DTypeError for a non-integer one.
    """
    _tensor("tile", input)
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    dims = tuple(dims)
    dims = (1,) * max(input.ndim - len(dims), 0) + dims
    try:
        return _shape.repeat(input, dims)
    except (ArgumentError, DTypeError) as exc:
        raise type(exc)(str(exc).replace("repeat:", "tile:", 1)) from exc


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane ``dims``, from the first axis towards the second (``torch.rot90``).

    k = 1 is ``flip(dims[1])`` then swapping the two dims; k = 2 flips both;
    k = 3 (or -1) flips ``dims[0]`` then swaps. A copy (flip copies), so the
    gradient is the opposite rotation of the cotangent. Raises ShapeError
    for fewer than 2 dimensions or ``dims`` that are not two distinct dims.
    """
    _tensor("rot90", input)
    dims = tuple(dims)
    if len(dims) != 2:
        raise ShapeError(f"rot90: expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise ShapeError(f"rot90: expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = (_dim("rot90", input, d) for d in dims)
    if d0 == d1:
        raise ShapeError(
            f"rot90: expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}"
        )
    k = _int("rot90", "k", k) % 4
    if k == 0:
        return elementwise.clone(input)
    if k == 2:
        return construct.flip(input, (d0, d1))
    flipped = construct.flip(input, (d1,) if k == 1 else (d0,))
    return _shape.transpose(flipped, d0, d1)


def broadcast_shapes(*shapes) -> tuple:
    """The shape that ``shapes`` broadcast to, ``torch.broadcast_shapes`` (each an int or a sequence of ints).

    Raises ShapeError when they do not broadcast.
    """
    normal = []
    for s in shapes:
        if isinstance(s, (int, np.integer)) and not isinstance(s, bool):
            normal.append((int(s),))
        elif isinstance(s, (list, tuple)) and all(isinstance(v, (int, np.integer)) for v in s):
            normal.append(tuple(int(v) for v in s))
        else:
            raise DTypeError(f"broadcast_shapes: expected a shape (an int or a sequence of ints), got {s!r}")
    for s in normal:
        if any(v < 0 for v in s):
            raise ArgumentError(f"broadcast_shapes: trying to create tensor with negative dimension: {s}")
    try:
        return tuple(np.broadcast_shapes(*normal))
    except ValueError as exc:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(map(str, normal))} do not broadcast together") from exc


def broadcast_tensors(*tensors) -> tuple:
    """The tensors broadcast to their common shape, ``torch.broadcast_tensors``: read-only views.

    The gradient of each sums the cotangent back over its broadcast axes.
    Raises ShapeError when the shapes do not broadcast.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    ts = [_tensor("broadcast_tensors", t) for t in tensors]
    try:
        shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in ts)))
    except ValueError as exc:
        raise ShapeError(
            f"broadcast_tensors: shapes {', '.join(str(tuple(t.shape)) for t in ts)} do not broadcast together"
        ) from exc
    return tuple(_shape.broadcast_to(t, shape) for t in ts)


# --- Tensor.unfold: the sliding windows of one dimension -----------------------------------------------------


def _window_count(n: int, size: int, step: int) -> int:
    return (n - size) // step + 1


@primitive(name="tensor_unfold", view=True)
def _unfold(x, *, dimension, size, step):
    """The windows x[..., i*step : i*step + size, ...] of axis ``dimension``, as a strided read-only view.

    Out shape: that axis becomes the window count, and a last axis of length
    ``size`` runs inside each window.
    """
    count = _window_count(x.shape[dimension], size, step)
    stride = x.strides[dimension]
    shape = x.shape[:dimension] + (count,) + x.shape[dimension + 1 :] + (size,)
    strides = x.strides[:dimension] + (stride * step,) + x.strides[dimension + 1 :] + (stride,)
    if isinstance(x, np.ndarray):
        return np.lib.stride_tricks.as_strided(x, shape, strides, writeable=False)
    return backend.xp_of(x).lib.stride_tricks.as_strided(x, shape, strides)


@primitive(name="tensor_unfold_backward")
def _fold(g, *, dimension, size, step, shape):
    """Zeros of ``shape`` with each window of ``g`` added back where :func:`_unfold` took it (overlaps add up)."""
    xp = backend.xp_of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    count = g.shape[dimension]
    if count == 0 or size == 0:
        return out
    moved = xp.moveaxis(out, dimension, -1)  # a view of out: (..., n)
    windows = xp.moveaxis(g, dimension, -2)  # (..., count, size)
    for k in range(size):  # element k of every window: positions k, k + step, ... k + (count-1) step
        moved[..., k : k + step * (count - 1) + 1 : step] += windows[..., k]
    return out


_unfold.defvjp(
    lambda g, ans, x, dimension, size, step: _fold(g, dimension=dimension, size=size, step=step, shape=tuple(x.shape))
)
_fold.defvjp(lambda g, ans, x, dimension, size, step, shape: _unfold(g, dimension=dimension, size=size, step=step))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """All windows of length ``size`` along ``dimension``, ``step`` apart, ``Tensor.unfold``: a view.

    The output has ``dimension`` replaced by the number of windows,
    (n - size) // step + 1, and a new last dimension of length ``size``:
    out[..., i, ..., j] = input[..., i * step + j, ...]. A strided view of
    ``input`` (read-only here, since windows overlap); its gradient adds
    each window's cotangent back onto the elements it covers, so an element
    in several windows collects all of them. A 0-d tensor is taken as one
    element (size 0 or 1). Raises IndexOutOfRange for a bad dimension,
    ArgumentError for a non-positive step or a size larger than the
    dimension (or negative).
    """
    _tensor("unfold", input)
    d = _dim("unfold", input, dimension)
    size, step = _int("unfold", "size", size), _int("unfold", "step", step)
    n = input.shape[d] if input.ndim else 1
    if step <= 0:
        raise ArgumentError(f"unfold: step is {step} but must be > 0")
    if not 0 <= size <= n:
        raise ArgumentError(
            f"unfold: maximum size for tensor at dimension {d} is {n} but size is {size} (shape {tuple(input.shape)})"
        )
    if input.ndim == 0:  # as PyTorch: the one element, or nothing for size 0
        return _shape.getitem(_shape.reshape(input, (1,)), (slice(0, size),))
    return _unfold(input, dimension=d, size=size, step=step)


# --- in-place view ops: the tensor becomes a view of its own memory ---------------------------------------------


def _view_in_place(op: str, self: Tensor, make) -> Tensor:
    """Make ``self`` the view ``make(self)`` of its memory; while recording, the view's node becomes its history.

    A leaf that requires grad is refused while recording, as PyTorch does.
    The version goes up, as PyTorch's does, so nodes that saved the tensor
    before raise in backward.
    """
    _tensor(op, self)
    recording = is_grad_enabled() and self.requires_grad
    if recording and self._node is None:
        raise GraphError(
            f"{op}: a leaf tensor that requires grad cannot be changed in place while recording; "
            "do it inside `with minigrad.no_grad():` or use the out-of-place op"
        )
    source = Tensor._wrap(self.array, self._node, self._vc) if recording else Tensor._wrap(self.array, None, self._vc)
    result = make(source)
    self.array = result.array
    if recording:
        self._node = result._node
    self._vc[0] += 1
    return self


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place :func:`minigrad.transpose`: ``self`` becomes its transpose (``Tensor.transpose_``)."""
    return _view_in_place("transpose_", self, lambda s: _shape.transpose(s, dim0, dim1))


def swapaxes_(self: Tensor, axis0: int, axis1: int) -> Tensor:
    """In-place :func:`swapaxes` (``Tensor.swapaxes_``)."""
    return _view_in_place("swapaxes_", self, lambda s: swapaxes(s, axis0, axis1))


def swapdims_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """In-place :func:`swapdims` (``Tensor.swapdims_``)."""
    return _view_in_place("swapdims_", self, lambda s: swapdims(s, dim0, dim1))


def t_(self: Tensor) -> Tensor:
    """In-place :func:`minigrad.t` for tensors of at most 2 dimensions (``Tensor.t_``)."""
    return _view_in_place("t_", self, construct.t)


def squeeze_(self: Tensor, dim=None) -> Tensor:
    """In-place :func:`minigrad.squeeze` (``Tensor.squeeze_``): all size-1 dimensions, or those in ``dim``."""
    return _view_in_place("squeeze_", self, lambda s: _shape.squeeze(s, dim))


def unsqueeze_(self: Tensor, dim: int) -> Tensor:
    """In-place :func:`minigrad.unsqueeze` (``Tensor.unsqueeze_``)."""
    return _view_in_place("unsqueeze_", self, lambda s: _shape.unsqueeze(s, dim))

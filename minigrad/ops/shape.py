"""Shape primitives: reshape, permute, broadcast, concatenate/stack, pad, indexing, devices.

These move elements without changing them, so every vjp moves the cotangent
back: reshape back, permute by the inverse permutation, sum over broadcast
axes, slice out each input's part, scatter-add into zeros for indexing.
squeeze, unsqueeze, flatten, view, expand and repeat are reshapes and
broadcasts; split and chunk are slices.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..primitive import primitive
from ..tensor import Tensor

# --- reshape and friends ------------------------------------------------------


@primitive(name="reshape", view=True)
def _reshape(x, *, shape):
    return x.reshape(shape)


_reshape.defvjp(lambda g, ans, x, shape: _reshape(g, shape=x.shape))


def reshape(x, shape):
    """The same elements in a new shape (one dimension may be -1). vjp: reshape back."""
    if isinstance(shape, int):
        shape = (shape,)
    return _reshape(x, shape=tuple(shape))


def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` into one (PyTorch's ``flatten``)."""
    shape = x.shape
    _check_axes("flatten", (start_dim, end_dim), len(shape))
    if len(shape) == 0:
        return reshape(x, (1,))
    start, end = start_dim % len(shape), end_dim % len(shape)
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
    merged = 1
    for s in shape[start : end + 1]:
        merged *= s
    return reshape(x, shape[:start] + (merged,) + shape[end + 1 :])


def squeeze(x, axis=None, *, dim=None):
    """Drop size-1 dimensions: all of them, or those in ``axis`` that have size 1 (as PyTorch)."""
    if dim is not None:
        axis = dim
    shape = x.shape
    if axis is None:
        keep = [s for s in shape if s != 1]
    else:
        axes = axis if isinstance(axis, (tuple, list)) else (axis,)
        _check_axes("squeeze", axes, len(shape))
        drop = {a % len(shape) for a in axes if shape[a] == 1} if shape else set()  # a 0-d tensor: as PyTorch
        keep = [s for i, s in enumerate(shape) if i not in drop]
    return reshape(x, tuple(keep))


def unsqueeze(x, dim):
    """Insert a size-1 dimension at ``dim`` (``-1`` appends one)."""
    ndim = len(x.shape)
    if not -ndim - 1 <= dim <= ndim:
        raise ShapeError(f"unsqueeze: dim {dim} out of range for a tensor of {ndim} dimensions")
    dim = dim % (ndim + 1)
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


def _check_axes(op, axes, ndim):
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ShapeError(f"{op}: axis {a} out of range for a tensor of {ndim} dimensions")


# --- permutations ---------------------------------------------------------------


@primitive(name="permute", view=True)
def _permute(x, *, axes):
    return x.transpose(axes)


_permute.defvjp(lambda g, ans, x, axes: _permute(g, axes=tuple(np.argsort(axes).tolist())))


def permute(x, dims):
    """Reorder the dimensions: output dimension i is input dimension ``dims[i]``."""
    _check_axes("permute", dims, x.ndim)
    dims = tuple(int(d) % max(x.ndim, 1) for d in dims)
    if sorted(dims) != list(range(x.ndim)):
        raise ShapeError(f"permute: {dims} is not a permutation of the {x.ndim} dimensions of shape {tuple(x.shape)}")
    return _permute(x, axes=dims)


def transpose(x, dim0=None, dim1=None):
    """Swap dimensions ``dim0`` and ``dim1`` (PyTorch); with neither given, reverse all (NumPy, ``.T``)."""
    if dim0 is None and dim1 is None:
        return _permute(x, axes=tuple(range(x.ndim - 1, -1, -1)))
    if dim0 is None or dim1 is None:
        raise TypeError("transpose: give both dim0 and dim1, or neither")
    _check_axes("transpose", (dim0, dim1), x.ndim)
    if x.ndim == 0:  # dims -1 and 0 name the one "axis" of a 0-d tensor, as PyTorch: nothing to swap
        return _permute(x, axes=())
    axes = list(range(x.ndim))
    axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return _permute(x, axes=tuple(axes))


# --- broadcasting ------------------------------------------------------------------


@primitive(name="broadcast_to", view=True)
def _broadcast_to(x, *, shape):
    return backend.broadcast_to(x, shape)


_broadcast_to.defvjp(lambda g, ans, x, shape: g)  # summed back to x.shape by the primitive


def broadcast_to(x, shape):
    """A read-only broadcast view of ``x`` in ``shape``. vjp: sum over the broadcast axes."""
    return _broadcast_to(x, shape=tuple(shape))


def expand(x, shape):
    """PyTorch's ``expand``: broadcast, where -1 keeps a dimension's size."""
    shape = tuple(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: the target {shape} has fewer dimensions than the tensor's shape {tuple(x.shape)}")
    if -1 in shape[:lead]:
        raise ShapeError(f"expand: -1 cannot size a new leading dimension, got {shape} for shape {tuple(x.shape)}")
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, full)


def repeat(x, sizes):
    """PyTorch's ``Tensor.repeat`` (NumPy's ``tile``): ``sizes[i]`` copies of the tensor along dimension i.

    ``sizes`` may have more entries than the tensor has dimensions: the
    tensor is then taken as having leading dimensions of size 1. Composed of
    reshape and broadcast: a tensor of shape (s0, s1) becomes (1, s0, 1, s1),
    is broadcast to (r0, s0, r1, s1) and reshaped to (r0 s0, r1 s1), so the
    vjp sums the tiles back onto the tensor.

    Raises ShapeError when ``sizes`` has fewer entries than the tensor has
    dimensions, ArgumentError for a negative size and DTypeError for one that
    is not an integer.
    """
    for r in sizes:
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
            raise DTypeError(f"repeat: sizes must be integers, got {sizes!r}")
        if r < 0:
            raise ArgumentError(f"repeat: sizes must be non-negative, got {tuple(sizes)}")
    shape = tuple(x.shape)
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(
            f"repeat: {len(sizes)} sizes {tuple(sizes)} for a tensor of {len(shape)} dimensions, shape {shape}; "
            "give at least one size per dimension"
        )
    shape = (1,) * lead + shape
    spread = reshape(x, tuple(v for s in shape for v in (1, s)))
    tiled = broadcast_to(spread, tuple(v for r, s in zip(sizes, shape) for v in (int(r), s)))
    return reshape(tiled, tuple(int(r) * s for r, s in zip(sizes, shape)))


# --- splitting ---------------------------------------------------------------------------


def _split_dim(op, x, dim) -> int:
    """``dim`` as a non-negative axis of ``x``, which must have at least one dimension."""
    if x.ndim == 0:
        raise ShapeError(f"{op}: expects a tensor of at least 1 dimension, got a 0-d tensor")
    if not -x.ndim <= dim < x.ndim:
        raise IndexOutOfRange(f"{op}: dim {dim} is out of range for a tensor of shape {tuple(x.shape)}")
    return dim % x.ndim


def _pieces(x, dim, sizes) -> tuple:
    """Consecutive slices of ``x`` along ``dim`` of the given sizes (views that stay in the graph)."""
    before = (slice(None),) * dim
    pieces, start = [], 0
    for size in sizes:
        pieces.append(getitem(x, before + (slice(start, start + size),)))
        start += size
    return tuple(pieces)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def split(x, split_size_or_sections, dim=0):
    """Split ``x`` along ``dim`` into a tuple of slices, PyTorch's ``torch.split``.

    An int ``s`` gives pieces of size s, the last one smaller when s does not
    divide the dimension; a list of sizes gives pieces of those sizes, which
    must sum to the dimension's size. The pieces are slices (views) of
    ``x``, so gradients flow back from each into its part of ``x``.

    Raises ShapeError for sizes that do not sum to the dimension or a 0-d
    tensor, IndexOutOfRange for a dim outside the tensor, ArgumentError for a
    negative size (or size 0 of a non-empty dimension).
    """
    dim = _split_dim("split", x, dim)
    n = x.shape[dim]
    if _is_int(split_size_or_sections):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise ArgumentError(
                f"split: split_size must be positive (0 only for an empty dimension), got {size} for dimension "
                f"{dim} of size {n}"
            )
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    elif isinstance(split_size_or_sections, (list, tuple)) and all(_is_int(s) for s in split_size_or_sections):
        sizes = [int(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes):
            raise ArgumentError(f"split: split sizes must be non-negative, got {sizes}")
        if sum(sizes) != n:
            raise ShapeError(
                f"split: split sizes {sizes} sum to {sum(sizes)}, not to {n}, the size of dimension {dim} "
                f"of shape {tuple(x.shape)}"
            )
    else:
        raise DTypeError(
            f"split: split_size_or_sections must be an int or a list of ints, got {split_size_or_sections!r}"
        )
    return _pieces(x, dim, sizes)


def chunk(x, chunks, dim=0):
    """Split ``x`` along ``dim`` into ``chunks`` pieces, PyTorch's ``torch.chunk``.

    Each piece has ceil(n / chunks) elements along ``dim`` (n its size), the
    last one fewer, so there may be fewer than ``chunks`` pieces (6 split in
    4 gives 2, 2, 2). The pieces are slices (views) of ``x``, so gradients
    flow back from each into its part of ``x``.

    Raises ArgumentError when ``chunks`` is not positive, IndexOutOfRange for
    a dim outside the tensor, ShapeError for a 0-d tensor.
    """
    if not _is_int(chunks):
        raise DTypeError(f"chunk: chunks must be an int, got {chunks!r}")
    if chunks <= 0:
        raise ArgumentError(f"chunk: chunks must be greater than 0, got {chunks}")
    dim = _split_dim("chunk", x, dim)
    n = x.shape[dim]
    if n == 0:  # as PyTorch: ``chunks`` empty pieces
        return _pieces(x, dim, [0] * int(chunks))
    return split(x, -(-n // int(chunks)), dim)


# --- joining ------------------------------------------------------------------------


@primitive(name="concatenate")
def _concatenate(*xs, axis=0):
    return backend.xp_of(xs[0]).concatenate(xs, axis=axis)


@_concatenate.defvjp_variadic
def _concatenate_vjp(i, g, ans, *xs, axis=0):
    start = sum(x.shape[axis] for x in xs[:i])
    index = [slice(None)] * g.ndim
    index[axis] = slice(start, start + xs[i].shape[axis])
    return getitem(g, tuple(index))


def concatenate(tensors, axis=0, *, dim=None):
    """Join tensors along an existing axis. vjp: each input gets its slice of the cotangent."""
    if dim is not None:
        axis = dim
    if len(tensors) == 0:
        raise ShapeError("concatenate: need at least one tensor")
    return _concatenate(*tensors, axis=axis)


cat = concat = concatenate


@primitive(name="stack")
def _stack(*xs, axis=0):
    return backend.xp_of(xs[0]).stack(xs, axis=axis)


@_stack.defvjp_variadic
def _stack_vjp(i, g, ans, *xs, axis=0):
    index = [slice(None)] * g.ndim
    index[axis] = i
    return getitem(g, tuple(index))


def stack(tensors, axis=0, *, dim=None):
    """Join same-shaped tensors along a new axis. vjp: each input gets its slice."""
    if dim is not None:
        axis = dim
    if len(tensors) == 0:
        raise ShapeError("stack: need at least one tensor")
    return _stack(*tensors, axis=axis)


# --- padding -----------------------------------------------------------------------------


@primitive(name="pad")
def _pad(x, *, pad_width, value=0):
    if x.ndim == 0:  # nothing to pad, as NumPy; xp.pad rejects the empty pad_width of a 0-d array
        return x.copy()
    try:
        fill = x.dtype.type(value)
    except ValueError as exc:  # NaN into integers
        raise ArgumentError(f"the value {value!r} cannot be stored as {x.dtype} ({exc})") from exc
    except (TypeError, OverflowError) as exc:  # a value of another kind, or too large for the dtype
        raise DTypeError(f"the value {value!r} cannot be stored as {x.dtype} ({exc})") from exc
    return backend.xp_of(x).pad(x, pad_width, mode="constant", constant_values=fill)


_pad.defvjp(
    lambda g, ans, x, pad_width, value: getitem(g, tuple(slice(b, b + s) for (b, _), s in zip(pad_width, x.shape)))
)


def pad(x, pad_width, value=0):
    """Pad with a constant, NumPy style: ``pad_width`` is an int, a (before, after) pair,
    or one pair per dimension. vjp: the cotangent's central slice."""
    try:
        given = np.asarray(pad_width, dtype=np.int64)
        widths = np.broadcast_to(given, (x.ndim, 2))
    except (ValueError, TypeError) as exc:
        raise ShapeError(f"pad: pad_width {pad_width!r} does not fit a tensor of shape {tuple(x.shape)}") from exc
    if (given < 0).any():  # the widths given, not their broadcast: a 0-d tensor has no pairs to look at
        raise ShapeError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return _pad(x, pad_width=tuple(map(tuple, widths.tolist())), value=value)


# --- indexing --------------------------------------------------------------------------------


def _index_data(index):
    """Replace tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index.array
    if isinstance(index, tuple):
        return tuple(i.array if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic(index) -> bool:
    """True for indices made of ints, slices, None and Ellipsis only (no repeats possible)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def _check_index(x, index) -> None:
    """Raise IndexError for an integer-array index outside x where the array library would not.

    NumPy checks such indices itself, except into an empty array, where NumPy
    < 2.3 only warns; CuPy wraps them around. Those two cases are checked here.
    """
    if not ((isinstance(x, np.ndarray) and x.size) or _is_basic(index)):
        _check_array_indices(x.shape, index)


@primitive(name="getitem", view=lambda params: _is_basic(params["index"]))
def _getitem(x, *, index, in_bounds=False):
    if not in_bounds:
        _check_index(x, index)
    return x[index]


def _axes_taken(part) -> int:
    """How many axes of the indexed array one part of an index (not Ellipsis) consumes."""
    if part is None:
        return 0
    if backend.is_array(part) and part.dtype == bool:
        return part.ndim
    return 1


def _check_array_indices(shape, index) -> None:
    """Raise IndexError, as NumPy does, for an integer-array index outside its axis.

    CuPy wraps such an index around instead (a documented difference from
    NumPy), which would select the wrong element without a word. The check
    copies one flag per integer array from the device. NumPy before 2.3 only
    warns for an index into an empty array.
    """
    parts = index if isinstance(index, tuple) else (index,)
    parts = [np.asarray(p) if isinstance(p, list) else p for p in parts]  # a list indexes as an array does
    explicit = sum(_axes_taken(p) for p in parts if p is not Ellipsis)
    axis = 0
    for part in parts:
        if part is Ellipsis:
            axis += len(shape) - explicit
            continue
        if backend.is_array(part) and part.dtype.kind in "iu" and part.size and axis < len(shape):
            size = shape[axis]
            outside = (part < -size) | (part >= size)
            if bool(outside.any()):
                value = int(part[outside].ravel()[0])
                raise IndexError(f"index {value} is out of bounds for axis {axis} with size {size}")
        axis += _axes_taken(part)


_getitem.defvjp(lambda g, ans, x, index, in_bounds=False: _index_scatter(g, index=index, shape=x.shape))


@primitive(name="index_scatter")
def _index_scatter(g, *, index, shape):
    """Zeros of ``shape`` with ``g`` added at ``index`` (repeated indices accumulate)."""
    xp = backend.xp_of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        out[index] = g
    else:
        backend.scatter_add(out, _expand_masks(index), g)
    return out


_index_scatter.defvjp(lambda g, ans, x, index, shape: _getitem(g, index=index))


def _expand_masks(index):
    """Boolean masks become integer arrays, which every scatter-add accepts."""
    parts = index if isinstance(index, tuple) else (index,)
    expanded = []
    for p in parts:
        if backend.is_array(p) and p.dtype == bool and p.ndim:  # a 0-d mask adds an axis: scatter-add takes it as is
            expanded.extend(p.nonzero())
        else:
            expanded.append(p)
    return tuple(expanded) if isinstance(index, tuple) or len(expanded) > 1 else expanded[0]


def put(array, index, value) -> None:
    """``array[index] = value`` in place, with the index checks of :func:`_check_index`.

    Raises ArgumentError when a single value cannot be stored in the array's
    dtype (a string into floats, NaN into integers), ShapeError when an array
    value does not broadcast to the indexed shape.
    """
    _check_index(array, index)
    try:
        array[index] = value
    except ValueError as exc:
        if backend.is_array(value) or isinstance(value, (list, tuple)):
            raise ShapeError(str(exc)) from exc
        raise ArgumentError(f"{exc}: the value {value!r} cannot be stored as {array.dtype}") from exc


@primitive(name="setitem")
def _setitem(x, value, *, index):
    """A copy of x with ``value`` (broadcast) written at ``index``: ``x[index] = value`` as a function.

    vjp: x's entries at the index were overwritten, so they get no gradient;
    value gets the cotangent at the index, summed back to its shape. With a
    repeated integer index the last write wins, and value's gradient counts
    every repeat (PyTorch leaves that case undefined).
    """
    out = x.copy()
    put(out, index, value)
    return out


_setitem.defvjp(
    lambda g, ans, x, value, index: _setitem(g, 0, index=index),
    lambda g, ans, x, value, index: _getitem(g, index=index, in_bounds=True),
)


def getitem(x, index, *, in_bounds: bool = False):
    """``x[index]`` with slices, ints, None, Ellipsis, integer arrays and boolean masks.

    vjp: zeros of x's shape with the cotangent added at the index; repeated
    integer indices accumulate. An integer array outside its axis raises
    IndexOutOfRange, also on CUDA (one flag copied from the device), unless
    ``in_bounds`` says the caller has already made every index valid.
    """
    return _getitem(x, index=_index_data(index), in_bounds=in_bounds)


# --- devices ----------------------------------------------------------------------------------


@primitive(name="to_device", view=lambda params: params["device"] == params["source"])
def _to_device(x, *, device, source):
    return backend.to_device(x, device)


_to_device.defvjp(lambda g, ans, x, device, source: _to_device(g, device=source, source=device))


def to_device(x, device):
    """Copy to ``device`` ("cpu" or "cuda"). vjp: copy the cotangent back."""
    return _to_device(x, device=device, source=x.device)

"""Shape ops that build or rearrange: triangles (tril, triu), flip, roll, meshgrid, unflatten, t.

Split from :mod:`minigrad.ops.shape`, which holds the view-like primitives
(reshape, permute, broadcast, indexing). The primitives here are linear and
move or mask elements, so each vjp is the same kind of op on the cotangent:
tril's is tril, flip's is flip, roll's is the opposite roll. meshgrid,
unflatten and t are composed of reshape, broadcast and permute.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .shape import _broadcast_to, _permute, reshape

# --- triangles ------------------------------------------------------------------------------------


def _triangle(x, diagonal, upper):
    """x with the elements outside the triangle of its last two dimensions set to 0."""
    xp = backend.xp_of(x)
    n, m = x.shape[-2:]
    mask = xp.tri(n, m, k=diagonal - 1 if upper else diagonal, dtype=bool)  # j <= i + k for tril
    if upper:
        mask = ~mask
    return xp.where(mask, x, xp.zeros((), dtype=x.dtype))


@primitive(name="tril")
def _tril(x, *, diagonal):
    return _triangle(x, diagonal, upper=False)


@primitive(name="triu")
def _triu(x, *, diagonal):
    return _triangle(x, diagonal, upper=True)


# masking is linear and self-adjoint: the vjp keeps the same triangle of the cotangent
_tril.defvjp(lambda g, ans, x, diagonal: _tril(g, diagonal=diagonal))
_triu.defvjp(lambda g, ans, x, diagonal: _triu(g, diagonal=diagonal))


def _check_triangle(op, x, diagonal):
    if x.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions, got shape {tuple(x.shape)}")
    if isinstance(diagonal, bool) or not isinstance(diagonal, (int, np.integer)):
        raise DTypeError(f"{op}: diagonal must be an int, got {diagonal!r}")
    return int(diagonal)


def tril(input, diagonal=0):
    """The lower triangle of the last two dimensions (batched), the rest 0, ``torch.tril``.

    Keeps out[..., i, j] = input[..., i, j] where j <= i + diagonal:
    ``diagonal=0`` keeps the main diagonal, > 0 more above it, < 0 less.
    vjp: the same triangle of the cotangent. Raises ShapeError for a tensor
    of fewer than 2 dimensions.
    """
    return _tril(input, diagonal=_check_triangle("tril", input, diagonal))


def triu(input, diagonal=0):
    """The upper triangle of the last two dimensions (batched), the rest 0, ``torch.triu``.

    Keeps out[..., i, j] = input[..., i, j] where j >= i + diagonal (a
    causal attention mask is ``triu(full((n, n), -inf), diagonal=1)``).
    vjp: the same triangle of the cotangent. Raises ShapeError for a tensor
    of fewer than 2 dimensions.
    """
    return _triu(input, diagonal=_check_triangle("triu", input, diagonal))


# --- flip and roll ----------------------------------------------------------------------------------


def _dim_list(op, x, dims) -> tuple:
    """dims (an int or a sequence of ints) as non-negative axes of x, checked."""
    dims = tuple(dims) if isinstance(dims, (list, tuple)) else (dims,)
    n = max(x.ndim, 1)  # a 0-d tensor takes dim 0 or -1, as PyTorch
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise DTypeError(f"{op}: dims must be ints, got {dims!r}")
        if not -n <= d < n:
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for a tensor of shape {tuple(x.shape)}")
    return tuple(int(d) % n for d in dims)


@primitive(name="flip")
def _flip(x, *, dims):
    # a copy, as PyTorch's flip (NumPy's is a view)
    return backend.xp_of(x).flip(x, dims).copy() if x.ndim else x.copy()


_flip.defvjp(lambda g, ans, x, dims: _flip(g, dims=dims))


def flip(input, dims):
    """The elements in reverse order along each of ``dims``, ``torch.flip``: a copy, not a view.

    out[..., i, ...] = input[..., n - 1 - i, ...] on each flipped dimension.
    vjp: the cotangent flipped back. Raises ShapeError for a dim given twice,
    IndexOutOfRange for one outside the tensor.
    """
    axes = _dim_list("flip", input, dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"flip: dims {tuple(dims)} name a dimension more than once")
    return _flip(input, dims=axes)


def fliplr(input):
    """Reverse the columns (dimension 1), ``torch.fliplr``; needs at least 2 dimensions."""
    if input.ndim < 2:
        raise ShapeError(f"fliplr: input must have at least 2 dimensions, got shape {tuple(input.shape)}")
    return _flip(input, dims=(1,))


def flipud(input):
    """Reverse the rows (dimension 0), ``torch.flipud``; needs at least 1 dimension."""
    if input.ndim < 1:
        raise ShapeError("flipud: input must have at least 1 dimension, got a 0-d tensor")
    return _flip(input, dims=(0,))


@primitive(name="roll")
def _roll(x, *, shifts, dims):
    return backend.xp_of(x).roll(x, shifts, dims)


_roll.defvjp(lambda g, ans, x, shifts, dims: _roll(g, shifts=tuple(-s for s in shifts), dims=dims))


def roll(input, shifts, dims=None):
    """Rotate elements along ``dims`` by ``shifts``, ``torch.roll``: out[(i + s) mod n] = input[i].

    ``shifts`` and ``dims`` are ints or sequences of the same length (a dim
    may repeat: its shifts add up). With ``dims=None`` the tensor is
    flattened, rolled by the one shift and given its shape back. Elements
    leaving one end come in at the other. vjp: the opposite roll.

    Raises ShapeError when shifts and dims do not pair up, IndexOutOfRange
    for a dim outside the tensor, DTypeError for shifts that are not ints.
    """
    shift_list = tuple(shifts) if isinstance(shifts, (list, tuple)) else (shifts,)
    for s in shift_list:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise DTypeError(f"roll: shifts must be ints, got {shifts!r}")
    shift_list = tuple(int(s) for s in shift_list)
    if dims is None:
        if len(shift_list) != 1:
            raise ShapeError(
                f"roll: shifts and dimensions must align: {len(shift_list)} shifts {shift_list} but no dims; "
                "without dims the tensor is flattened and takes one shift"
            )
        flat = _roll(reshape(input, (-1,)), shifts=shift_list, dims=(0,))
        return reshape(flat, tuple(input.shape))
    axes = _dim_list("roll", input, dims)
    if len(axes) != len(shift_list):
        raise ShapeError(f"roll: shifts and dimensions must align: {len(shift_list)} shifts for {len(axes)} dims")
    if input.ndim == 0:
        return reshape(_roll(reshape(input, (1,)), shifts=shift_list, dims=(0,) * len(axes)), ())
    return _roll(input, shifts=shift_list, dims=axes)


# --- meshgrid, unflatten, t -------------------------------------------------------------------------


def meshgrid(*tensors, indexing: str = "ij") -> tuple:
    """Coordinate grids from 1-D (or 0-d) tensors, ``torch.meshgrid``: a tuple of n tensors of one shape.

    With ``indexing="ij"`` (PyTorch's default, matrix indexing) the shape is
    (len(t1), ..., len(tn)) and out_k[i1, ..., in] = t_k[i_k]; ``"xy"``
    (Cartesian, NumPy's default) swaps the first two dimensions. The
    tensors may also be given as one list. Each grid is a reshape of its
    tensor broadcast to the shape (a read-only view, as PyTorch's are
    expanded views), so its gradient sums over the grid. No warning when
    ``indexing`` is left out: it is "ij".

    Raises ArgumentError for no tensors or another indexing, ShapeError for
    a tensor of more than 1 dimension, DTypeError for different dtypes.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise ArgumentError("meshgrid: expects a non-empty list of tensors")
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise DTypeError(f"meshgrid: expects tensors, got {type(t).__name__} at position {k}")
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expects 0-d or 1-d tensors, got shape {tuple(t.shape)} at position {k}")
        if t.dtype != tensors[0].dtype:
            raise DTypeError(
                f"meshgrid: expects all tensors to have the same dtype, got {tensors[0].dtype} and {t.dtype}"
            )
    sizes = [int(t.numel()) for t in tensors]
    n = len(tensors)
    order = list(range(n))
    if indexing == "xy" and n >= 2:
        order[0], order[1] = 1, 0  # tensor 0 runs along dimension 1, tensor 1 along dimension 0
    shape = [0] * n
    for k in range(n):
        shape[order[k]] = sizes[k]
    grids = []
    for k, t in enumerate(tensors):
        spread = [1] * n
        spread[order[k]] = sizes[k]
        grids.append(_broadcast_to(reshape(t, tuple(spread)), shape=tuple(shape)))
    return tuple(grids)


def unflatten(input, dim, sizes):
    """Split dimension ``dim`` into ``sizes``, ``torch.unflatten`` (the inverse of flatten).

    ``sizes`` multiply to the dimension's size; one of them may be -1, for
    what is left. A reshape, so its vjp is the reshape back. Raises
    IndexOutOfRange for a dim outside the tensor, ShapeError for sizes that
    do not fit, ArgumentError for empty sizes or more than one -1.
    """
    if input.ndim == 0:
        raise ShapeError("unflatten: a 0-d tensor has no dimension to unflatten")
    if not -input.ndim <= dim < input.ndim:
        raise IndexOutOfRange(f"unflatten: dim {dim} is out of range for a tensor of shape {tuple(input.shape)}")
    d = dim % input.ndim
    sizes = (sizes,) if isinstance(sizes, (int, np.integer)) else tuple(int(s) for s in sizes)
    if not sizes:
        raise ArgumentError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:
        raise ArgumentError(f"unflatten: only one size can be -1, got {sizes}")
    n = input.shape[d]
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if -1 in sizes:
        if known == 0 or n % known:
            raise ShapeError(f"unflatten: sizes {sizes} do not fit dimension {dim} of size {n}")
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif known != n:
        raise ShapeError(
            f"unflatten: sizes {sizes} multiply to {known}, not to {n}, the size of dimension {dim} "
            f"of shape {tuple(input.shape)}"
        )
    return reshape(input, tuple(input.shape[:d]) + sizes + tuple(input.shape[d + 1 :]))


def t(input):
    """The transpose of a tensor of at most 2 dimensions, ``torch.t``: 0-d and 1-d come back as they are.

    Raises ShapeError for more than 2 dimensions (use ``transpose`` or ``.mT``).
    """
    if input.ndim > 2:
        raise ShapeError(
            f"t: expects a tensor with <= 2 dimensions, but got {input.ndim}-d (shape {tuple(input.shape)}); "
            "use transpose(input, 0, 1) or .mT"
        )
    return _permute(input, axes=tuple(range(input.ndim - 1, -1, -1)))

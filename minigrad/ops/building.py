"""Building tensors from others, index tensors, and what a tensor says about its memory.

``logspace``, ``vander`` (and ``linalg.vander``), ``tril_indices``,
``triu_indices``, ``cartesian_prod``, ``combinations``, ``block_diag``,
``diagflat``; the in-place ``tril_``, ``triu_``, ``fill_diagonal_``;
``index_put`` / ``put`` and their in-place forms; ``sum_to_size``; and the
memory attributes ``stride``, ``storage_offset``, ``element_size``,
``itemsize``, ``nbytes``, ``is_cuda``, ``is_cpu``, ``get_device``.

The differentiable ones are composed of existing primitives (products,
meshgrid, indexing, pad, concatenate, where, setitem and its scatter), so
their gradients are those primitives' vjps; the in-place ones follow the
version-counter rules of :func:`minigrad.ops.selection._in_place`.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..tensor import Tensor, _shape_args, get_default_dtype
from . import construct, elementwise, linalg, reduction
from . import shape as _shape
from .selection import _in_place

__all__ = [
    "logspace",
    "vander",
    "tril_indices",
    "triu_indices",
    "cartesian_prod",
    "combinations",
    "block_diag",
    "diagflat",
    "index_put",
    "put",
    "get_device",
]


def _tensor(op: str, name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _int(op: str, name: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise DTypeError(f"{op}: {name} must be an int, got {v!r}")
    return int(v)


# --- creation ------------------------------------------------------------------------------------------------


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None, requires_grad: bool = False):
    """``steps`` values base^t for t evenly spaced from ``start`` to ``end``, ``torch.logspace``.

    In the default dtype (float32) unless ``dtype`` is given. Raises
    ArgumentError for a negative number of steps.
    """
    steps = _int("logspace", "steps", steps)
    if steps < 0:
        raise ArgumentError(f"logspace: number of steps must be non-negative, got {steps}")
    xp = backend.xp_for(backend.normalize_device(device))
    dtype = get_default_dtype() if dtype is None else np.dtype(dtype)
    values = xp.power(float(base), xp.linspace(float(start), float(end), steps)).astype(dtype)
    t = Tensor._wrap(values)
    return t.requires_grad_() if requires_grad else t


def _powers(x, count: int):
    """[x^0, x^1, ..., x^(count-1)] stacked on a new last dimension, by repeated products (differentiable)."""
    ones = Tensor._wrap(x.xp.ones(tuple(x.shape), dtype=x.dtype))
    cols, p = [], ones
    for k in range(count):
        cols.append(p)
        if k + 1 < count:
            p = x if k == 0 else elementwise.mul(p, x)
    if not cols:
        return Tensor._wrap(x.xp.zeros(tuple(x.shape) + (0,), dtype=x.dtype))
    return _shape.stack(cols, -1)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of a 1-D tensor, ``torch.vander``: column j is x^(N-1-j) (x^j with ``increasing``).

    N defaults to len(x). Composed of products, so it is differentiable in x.
    Raises ShapeError for input that is not 1-D, ArgumentError for a negative N.
    """
    _tensor("vander", "x", x)
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be a one-dimensional tensor, got shape {tuple(x.shape)}")
    n = x.shape[0] if N is None else _int("vander", "N", N)
    if n < 0:
        raise ArgumentError(f"vander: N must be non-negative, got {n}")
    out = _powers(x, n)
    return out if increasing else construct.flip(out, (1,))


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """``torch.linalg.vander``: increasing powers x^0 .. x^(N-1) of the last dimension, batched."""
    _tensor("linalg.vander", "x", x)
    if x.ndim < 1:
        raise ShapeError("linalg.vander: x must have at least one dimension, got a 0-d tensor")
    n = x.shape[-1] if N is None else _int("linalg.vander", "N", N)
    if n <= 1 and N is not None:
        raise ArgumentError(f"linalg.vander: N must be greater than 1, got {n}")
    return _powers(x, n)


def _triangle_indices(op: str, row, col, offset, dtype, device, upper: bool):
    row, col, offset = _int(op, "row", row), _int(op, "col", col), _int(op, "offset", offset)
    if row < 0 or col < 0:
        raise ArgumentError(f"{op}: row and col must be non-negative, got {row} and {col}")
    xp = backend.xp_for(backend.normalize_device(device))
    rows, cols = xp.triu_indices(row, offset, col) if upper else xp.tril_indices(row, offset, col)
    return Tensor._wrap(xp.stack([rows, cols]).astype(np.int64 if dtype is None else np.dtype(dtype)))


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, K) int64 indices of the lower triangle of a row x col matrix, row by row, ``torch.tril_indices``.

    ``offset`` moves the diagonal: > 0 includes that many diagonals above the main one, < 0 excludes below.
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, upper=False)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (2, K) int64 indices of the upper triangle of a row x col matrix, row by row, ``torch.triu_indices``."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, upper=True)


def cartesian_prod(*tensors) -> Tensor:
    """All tuples of one element from each 1-D tensor, as rows, ``torch.cartesian_prod`` (itertools.product).

    One tensor comes back as it is (PyTorch does the same). Composed of
    meshgrid, reshape and stack, so differentiable in every tensor.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for k, t in enumerate(tensors):
        _tensor("cartesian_prod", f"tensor {k}", t)
        if t.ndim != 1:
            raise ShapeError(f"cartesian_prod: expects 1D tensors, got shape {tuple(t.shape)} at position {k}")
    if not tensors:
        raise ArgumentError("cartesian_prod: expects at least one tensor")
    if len(tensors) == 1:
        return tensors[0]
    grids = construct.meshgrid(*tensors, indexing="ij")
    return _shape.stack([_shape.reshape(g, (-1,)) if g.numel() else _shape.reshape(g, (0,)) for g in grids], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """The r-element combinations of a 1-D tensor's elements as rows, ``torch.combinations`` (itertools order).

    ``with_replacement`` allows an element more than once. Differentiable
    (an index into the input). r = 0 gives an empty 1-D tensor, as PyTorch.
    Raises ShapeError for input that is not 1-D, ArgumentError for r < 0.
    """
    _tensor("combinations", "input", input)
    if input.ndim != 1:
        raise ShapeError(f"combinations: Expect a 1D vector, but got shape {tuple(input.shape)}")
    r = _int("combinations", "r", r)
    if r < 0:
        raise ArgumentError(f"combinations: Expect a non-negative number, but got {r}")
    if r == 0:
        return Tensor._wrap(input.xp.zeros(0, dtype=input.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = np.array(list(pick(range(input.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return _shape.getitem(input, backend.to_device(index, input.device))


def block_diag(*tensors) -> Tensor:
    """The tensors as blocks down the diagonal of one matrix, zeros elsewhere, ``torch.block_diag``.

    0-d tensors are 1x1 blocks, 1-D ones rows; the dtype is the promotion of
    theirs. Composed of pad and concatenate: each block's gradient is its
    part of the cotangent. Raises ShapeError for more than 2 dimensions.
    """
    blocks = []
    for k, t in enumerate(tensors):
        _tensor("block_diag", f"tensor {k}", t)
        if t.ndim > 2:
            raise ShapeError(
                f"block_diag: Input tensors must have 2 or fewer dimensions. Input {k} has {t.ndim} dimensions"
            )
        blocks.append(_shape.reshape(t, (1, t.numel())) if t.ndim < 2 else t)
    if not blocks:
        return Tensor._wrap(np.zeros((1, 0), dtype=get_default_dtype()))
    dtype = np.result_type(*(b.dtype for b in blocks))
    width = sum(b.shape[1] for b in blocks)
    rows, left = [], 0
    for b in blocks:
        b = b if b.dtype == dtype else elementwise.astype(b, dtype=dtype)
        rows.append(_shape.pad(b, ((0, 0), (left, width - left - b.shape[1]))))
        left += b.shape[1]
    return _shape.concatenate(rows, 0)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with the flattened ``input`` on its ``offset``-th diagonal, ``torch.diagflat``."""
    _tensor("diagflat", "input", input)
    return linalg.diag_embed(_shape.reshape(input, (-1,)), offset=_int("diagflat", "offset", offset), dim1=0, dim2=1)


# --- in place: triangles and the diagonal ---------------------------------------------------------------------


def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    """In-place :func:`minigrad.tril` (``Tensor.tril_``): the version goes up."""
    return _in_place("tril_", self, lambda s: construct.tril(s, diagonal))


def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    """In-place :func:`minigrad.triu` (``Tensor.triu_``): the version goes up."""
    return _in_place("triu_", self, lambda s: construct.triu(s, diagonal))


def _diagonal_mask(shape, wrap: bool, xp):
    mask = np.zeros(shape, dtype=bool)
    np.fill_diagonal(mask, True, wrap=wrap)  # NumPy's rule is PyTorch's: every (n+1)th element, wrapping if asked
    return backend.to_device(mask, "cpu" if xp is np else "cuda")


def fill_diagonal_(self: Tensor, fill_value, wrap: bool = False) -> Tensor:
    """Write ``fill_value`` on the main diagonal, in place, ``Tensor.fill_diagonal_`` (NumPy's ``fill_diagonal``).

    A tensor of more than 2 dimensions must have them all equal; a tall
    matrix with ``wrap=True`` starts again N + 1 rows down. The diagonal's
    gradient is zero afterwards (it was overwritten). Raises ShapeError for
    fewer than 2 dimensions or unequal ones.
    """
    _tensor("fill_diagonal_", "self", self)
    if self.ndim < 2:
        raise ShapeError(f"fill_diagonal_: dimensions must larger than 1, got shape {tuple(self.shape)}")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise ShapeError(f"fill_diagonal_: all dimensions of input must be of equal length, got {tuple(self.shape)}")
    mask = Tensor._wrap(_diagonal_mask(tuple(self.shape), bool(wrap), self.xp))
    return _in_place("fill_diagonal_", self, lambda s: elementwise.where(mask, fill_value, s))


# --- index_put, put --------------------------------------------------------------------------------------------


def _index_tuple(op: str, x, indices) -> tuple:
    if isinstance(indices, Tensor) or not isinstance(indices, (list, tuple)):
        raise DTypeError(f"{op}: indices must be a tuple of tensors, got {type(indices).__name__}")
    if len(indices) > x.ndim:
        raise IndexOutOfRange(f"{op}: too many indices ({len(indices)}) for a tensor of shape {tuple(x.shape)}")
    parts = []
    for k, i in enumerate(indices):
        _tensor(op, f"indices[{k}]", i)
        if i.dtype.kind not in "iub":
            raise DTypeError(f"{op}: tensors used as indices must be long, int or bool tensors, got {i.dtype}")
        parts.append(i.array)
    return tuple(parts)


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``values`` (broadcast) written at ``input[indices]``, ``torch.index_put``.

    ``indices`` is a tuple of integer (or bool) tensors, one per leading
    dimension, as in advanced indexing. With ``accumulate=True`` the values
    are added, repeated indices adding up; otherwise the last write wins.
    Gradients: the input's cotangent with the written places zeroed (or all
    of it when accumulating); the values' cotangent is the gradient at the
    indices. Raises IndexOutOfRange for an index outside the tensor.
    """
    _tensor("index_put", "input", input)
    index = _index_tuple("index_put", input, indices)
    value = values if isinstance(values, Tensor) else Tensor._wrap(input.xp.asarray(values, dtype=input.dtype))
    if value.dtype != input.dtype:
        raise DTypeError(f"index_put: values of dtype {value.dtype} for a tensor of dtype {input.dtype}")
    if not accumulate:
        return _shape._setitem(input, value, index=index)
    try:
        target = _shape.getitem(input, index)
    except IndexError as exc:
        raise IndexOutOfRange(f"index_put: {exc} (shape {tuple(input.shape)})") from exc
    try:
        spread = _shape.broadcast_to(value, tuple(target.shape))
    except ShapeError as exc:
        raise ShapeError(
            f"index_put: values of shape {tuple(value.shape)} do not broadcast to the indexed shape "
            f"{tuple(target.shape)}"
        ) from exc
    return elementwise.add(input, _shape._index_scatter(spread, index=index, shape=tuple(input.shape)))


def index_put_(self: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """In-place :func:`index_put` (``Tensor.index_put_``, ``torch.index_put_``): the version goes up."""
    return _in_place("index_put_", self, lambda s, v: index_put(s, indices, v, accumulate), values)


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``source``'s elements written at the flat positions ``index``, ``torch.put``.

    The tensor is taken as 1-D in row-major order; negative positions count
    from the end; ``accumulate`` adds instead of overwriting. Raises
    ShapeError when index and source have different numbers of elements,
    IndexOutOfRange for a position outside the tensor.
    """
    _tensor("put", "input", input), _tensor("put", "index", index), _tensor("put", "source", source)
    if index.dtype.kind not in "iu":
        raise DTypeError(f"put: index must be an integer tensor, got {index.dtype}")
    if index.numel() != source.numel():
        raise ShapeError(
            f"put: Expected source and index to have the same number of elements, but got source.numel() = "
            f"{source.numel()}, index.numel() = {index.numel()}"
        )
    n = input.numel()
    flat_index = index.array.reshape(-1)
    if flat_index.size and (bool((flat_index < -n).any()) or bool((flat_index >= n).any())):
        bad = int(flat_index[(flat_index < -n) | (flat_index >= n)][0])
        raise IndexOutOfRange(f"put: out of range: tried to access index {bad} on a tensor of {n} elements")
    flat = _shape.reshape(input, (n,))
    wrapped = Tensor._wrap(flat_index % max(n, 1))
    out = index_put(flat, (wrapped,), _shape.reshape(source, (source.numel(),)), accumulate)
    return _shape.reshape(out, tuple(input.shape))


def put_(self: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """In-place :func:`put` (``Tensor.put_``): the version goes up."""
    return _in_place("put_", self, lambda s, v: put(s, index, v, accumulate), source)


# --- sum_to_size ---------------------------------------------------------------------------------------------------


def sum_to_size(self: Tensor, *size) -> Tensor:
    """``self`` summed down to ``size``, which must expand to self's shape, ``Tensor.sum_to_size``.

    The adjoint of ``expand``: broadcast dimensions (size 1 in ``size``, or
    missing in front) are summed. Raises ShapeError when ``size`` does not
    expand to the tensor's shape.
    """
    shape = _shape_args(size)
    try:
        fits = np.broadcast_shapes(shape, tuple(self.shape)) == tuple(self.shape) and len(shape) <= self.ndim
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"sum_to_size: size {list(shape)} is not expandable to size {list(self.shape)}")
    return reduction.sum_to(self, shape) if shape != tuple(self.shape) else self


# --- memory attributes ----------------------------------------------------------------------------------------------


def stride(self: Tensor, dim: int | None = None):
    """The step in elements between neighbours along each dimension, ``Tensor.stride`` (0 along broadcast ones).

    A tuple, or one int for ``dim``. Raises IndexOutOfRange for a bad dim.
    """
    size = self.array.itemsize
    steps = tuple(int(s) // size for s in self.array.strides)
    if dim is None:
        return steps
    d = _int("stride", "dim", dim)
    if not -max(self.ndim, 1) <= d < max(self.ndim, 1) or self.ndim == 0:
        raise IndexOutOfRange(f"stride: dim {d} is out of range for a tensor of shape {tuple(self.shape)}")
    return steps[d]


def _pointer(array) -> int:
    if isinstance(array, np.ndarray):
        return array.__array_interface__["data"][0]
    return int(array.data.ptr)


def storage_offset(self: Tensor) -> int:
    """How many elements into its memory block the tensor starts, ``Tensor.storage_offset`` (0 unless a view)."""
    array = self.array
    base = array
    while getattr(base, "base", None) is not None and backend.is_array(base.base):
        base = base.base
    if base is array:
        return 0
    return (_pointer(array) - _pointer(base)) // array.itemsize


def element_size(self: Tensor) -> int:
    """Bytes per element, ``Tensor.element_size`` (4 for float32)."""
    return int(self.array.itemsize)


def get_device(input: Tensor) -> int:
    """The CUDA device index, or -1 on the CPU, ``torch.get_device`` / ``Tensor.get_device``."""
    _tensor("get_device", "input", input)
    return -1 if input.device == "cpu" else int(getattr(getattr(input.array, "device", None), "id", 0))

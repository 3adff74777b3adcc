"""PyTorch's BLAS-style products and distances: dot, inner, mv, the add-products, kron, tensordot, cross, cdist.

All are composed of :func:`~minigrad.ops.linalg.matmul`, reshapes,
permutations, broadcasting products and :func:`~minigrad.ops.linalg.vector_norm`,
so their gradients are those ops' vjps (dA = G B^T, dB = A^T G for each
product; PyTorch's subgradients of the norm at zero for the distances) and
double backward works through them.

The add-products follow ``torch.addmm``: out = beta * input + alpha * (mat1 @
mat2), with ``input`` broadcast to the product's shape. As in PyTorch,
``beta=0`` ignores ``input``'s values, so NaN and inf in it do not reach the
output, and its gradient is zero; ``alpha=1`` and ``beta=1`` multiply by
nothing. The in-place forms (``addmm_`` ...) write into ``self``, which must
have the product's shape exactly.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..tensor import Tensor
from . import elementwise, linalg, reduction
from . import shape as _shape
from .selection import _in_place

__all__ = [
    "dot",
    "vdot",
    "inner",
    "mv",
    "addmm",
    "addmv",
    "addr",
    "baddbmm",
    "addbmm",
    "kron",
    "tensordot",
    "cross",
    "linalg_cross",
    "vecdot",
    "cdist",
    "dist",
    "chain_matmul",
]


def _tensor(op: str, name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _dims(x) -> str:
    return "x".join(str(s) for s in x.shape) or "0-d"


def _same_dtype(op: str, **tensors) -> None:
    names = list(tensors)
    first = tensors[names[0]]
    for name in names[1:]:
        if tensors[name].dtype != first.dtype:
            raise DTypeError(
                f"{op}: expected {names[0]} and {name} to have the same dtype, got {first.dtype} and "
                f"{tensors[name].dtype}"
            )


# --- vector products ------------------------------------------------------------------------------------


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """The dot product sum_i input[i] tensor[i] of two 1-D tensors of one size and dtype, ``torch.dot``.

    A 0-d result; its gradients are g * tensor and g * input. Raises
    ShapeError for operands that are not 1-D or differ in size, DTypeError
    for different dtypes.
    """
    return _dot("dot", input, tensor)


def _dot(op, input, tensor):
    for name, x in (("input", input), ("tensor", tensor)):
        _tensor(op, name, x)
        if x.ndim != 1:
            raise ShapeError(f"{op}: 1D tensors expected, but got {x.ndim}D and shape {tuple(x.shape)} for {name}")
    if input.shape != tensor.shape:
        raise ShapeError(
            f"{op}: inconsistent tensor size, expected tensors of the same number of elements, got "
            f"{input.shape[0]} and {tensor.shape[0]}"
        )
    _same_dtype(op, input=input, tensor=tensor)
    return linalg.matmul(input, tensor)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """``torch.vdot``: the dot product with the first operand conjugated; for real tensors :func:`dot`."""
    return _dot("vdot", input, other)


def inner(input: Tensor, other: Tensor) -> Tensor:
    """The inner product over the last dimension, ``torch.inner`` (NumPy's ``inner``).

    out[i..., j...] = sum_k input[i..., k] other[j..., k], of shape
    input.shape[:-1] + other.shape[:-1]; a 0-d operand multiplies the other.
    Composed as one matrix product of the flattened operands. Raises
    ShapeError when the last dimensions differ.
    """
    _tensor("inner", "input", input), _tensor("inner", "other", other)
    if input.ndim == 0 or other.ndim == 0:
        return elementwise.mul(input, other)
    if input.shape[-1] != other.shape[-1]:
        raise ShapeError(
            f"inner: the last dimension must match on both input tensors but got shapes {list(input.shape)} "
            f"and {list(other.shape)}"
        )
    k = input.shape[-1]
    a = _shape.reshape(input, (math.prod(input.shape[:-1]), k))
    b = _shape.reshape(other, (math.prod(other.shape[:-1]), k))
    out = linalg.matmul(a, linalg._mT(b))
    return _shape.reshape(out, tuple(input.shape[:-1]) + tuple(other.shape[:-1]))


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """The matrix-vector product of a 2-D and a 1-D tensor, ``torch.mv``: (n, m) @ (m,) -> (n,).

    Raises ShapeError for other dimensions or sizes that do not fit,
    DTypeError for different dtypes.
    """
    _tensor("mv", "input", input), _tensor("mv", "vec", vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise ShapeError(
            f"mv: vector + matrix @ vector expected, got input of shape {tuple(input.shape)} and vec of shape "
            f"{tuple(vec.shape)}"
        )
    if input.shape[1] != vec.shape[0]:
        raise ShapeError(f"mv: size mismatch, got mat ({_dims(input)}), vec ({_dims(vec)})")
    _same_dtype("mv", input=input, vec=vec)
    return linalg.matmul(input, vec)


# --- beta * input + alpha * product --------------------------------------------------------------------------


def _scaled_sum(op: str, input, product, beta, alpha):
    """beta * input + alpha * product, input broadcast to product's shape; beta = 0 ignores input's values."""
    _tensor(op, "input", input)
    for name, v in (("beta", beta), ("alpha", alpha)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise DTypeError(f"{op}: {name} must be a number, got {v!r}")
    if product.dtype.kind != "f" and (float(beta) != int(beta) or float(alpha) != int(alpha)):
        raise DTypeError(f"{op}: for integer tensors, beta and alpha must be integers, got beta={beta}, alpha={alpha}")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(product.shape))
    except ValueError:
        shape = None
    if shape != tuple(product.shape):
        raise ShapeError(
            f"{op}: input of shape {tuple(input.shape)} does not broadcast to the product's shape "
            f"{tuple(product.shape)}"
        )
    if input.dtype != product.dtype:
        raise DTypeError(
            f"{op}: input and the matrices must have the same dtype, got {input.dtype} and {product.dtype}"
        )
    scaled = product if alpha == 1 else elementwise.mul(product, alpha)
    if beta == 0:  # PyTorch: input is not read (NaN stays out); its gradient is zero
        never = Tensor._wrap(input.xp.zeros((), dtype=bool))
        return elementwise.add(scaled, elementwise.where(never, input, 0))
    return elementwise.add(input if beta == 1 else elementwise.mul(input, beta), scaled)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2), ``torch.addmm``: ``input`` broadcasts to (n, p).

    mat1 is (n, m), mat2 (m, p). With beta = 0 input's values are ignored
    (NaN in it does not propagate, as PyTorch). Gradients: beta g for
    input (summed over broadcast axes), alpha g mat2^T and alpha mat1^T g.
    Raises ShapeError for matrices that are not 2-D or do not fit, or an
    input that does not broadcast; DTypeError for mixed dtypes.
    """
    _tensor("addmm", "mat1", mat1), _tensor("addmm", "mat2", mat2)
    _same_dtype("addmm", mat1=mat1, mat2=mat2)
    try:
        product = linalg.mm(mat1, mat2)
    except ShapeError as exc:
        raise ShapeError(str(exc).replace("mm:", "addmm:", 1)) from exc
    return _scaled_sum("addmm", input, product, beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (mat @ vec), ``torch.addmv``: mat (n, m), vec (m,), input broadcasts to (n,)."""
    _tensor("addmv", "mat", mat), _tensor("addmv", "vec", vec)
    if mat.ndim != 2 or vec.ndim != 1 or mat.shape[1] != vec.shape[0]:
        raise ShapeError(f"addmv: size mismatch, got input ({_dims(input)}), mat ({_dims(mat)}), vec ({_dims(vec)})")
    _same_dtype("addmv", mat=mat, vec=vec)
    return _scaled_sum("addmv", input, linalg.matmul(mat, vec), beta, alpha)


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2), ``torch.addr``: input broadcasts to (n, m)."""
    _tensor("addr", "vec1", vec1), _tensor("addr", "vec2", vec2)
    if vec1.ndim != 1 or vec2.ndim != 1:
        raise ShapeError(
            f"addr: expected 1-D vectors, got vec1 of shape {tuple(vec1.shape)} and vec2 of shape {tuple(vec2.shape)}"
        )
    _same_dtype("addr", vec1=vec1, vec2=vec2)
    return _scaled_sum("addr", input, linalg.outer(vec1, vec2), beta, alpha)


def _batches(op: str, batch1, batch2):
    _tensor(op, "batch1", batch1), _tensor(op, "batch2", batch2)
    for name, x in (("batch1", batch1), ("batch2", batch2)):
        if x.ndim != 3:
            raise ShapeError(f"{op}: {name} must be a 3D tensor, got shape {tuple(x.shape)}")
    if batch1.shape[0] != batch2.shape[0] or batch1.shape[2] != batch2.shape[1]:
        raise ShapeError(
            f"{op}: the batches do not fit, batch1 of shape {tuple(batch1.shape)} and batch2 of shape "
            f"{tuple(batch2.shape)} (expected (b, n, m) and (b, m, p))"
        )
    _same_dtype(op, batch1=batch1, batch2=batch2)
    return linalg.matmul(batch1, batch2)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * (batch1 @ batch2) per batch, ``torch.baddbmm``: input broadcasts to (b, n, p)."""
    return _scaled_sum("baddbmm", input, _batches("baddbmm", batch1, batch2), beta, alpha)


def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """beta * input + alpha * sum_b batch1[b] @ batch2[b], ``torch.addbmm``: input broadcasts to (n, p)."""
    summed = reduction.sum(_batches("addbmm", batch1, batch2), 0)
    return _scaled_sum("addbmm", input, summed, beta, alpha)


def addmm_(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """In-place :func:`addmm` (``Tensor.addmm_``): ``self`` has the product's shape; its version goes up."""
    return _in_place("addmm_", self, lambda s, a, b: addmm(s, a, b, beta=beta, alpha=alpha), mat1, mat2)


def addmv_(self: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1) -> Tensor:
    """In-place :func:`addmv` (``Tensor.addmv_``, ``torch.addmv_``)."""
    return _in_place("addmv_", self, lambda s, a, b: addmv(s, a, b, beta=beta, alpha=alpha), mat, vec)


def addr_(self: Tensor, vec1: Tensor, vec2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """In-place :func:`addr` (``Tensor.addr_``)."""
    return _in_place("addr_", self, lambda s, a, b: addr(s, a, b, beta=beta, alpha=alpha), vec1, vec2)


def baddbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """In-place :func:`baddbmm` (``Tensor.baddbmm_``)."""
    return _in_place("baddbmm_", self, lambda s, a, b: baddbmm(s, a, b, beta=beta, alpha=alpha), batch1, batch2)


def addbmm_(self: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1) -> Tensor:
    """In-place :func:`addbmm` (``Tensor.addbmm_``)."""
    return _in_place("addbmm_", self, lambda s, a, b: addbmm(s, a, b, beta=beta, alpha=alpha), batch1, batch2)


# --- kron, tensordot, chain_matmul ------------------------------------------------------------------------------


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product, ``torch.kron``: out[i*b + k, ...] = input[i, ...] other[k, ...] per dimension.

    The operand with fewer dimensions gets leading 1s. Composed as a
    broadcast product of (a0, 1, a1, 1, ...) and (1, b0, 1, b1, ...)
    reshaped to (a0 b0, a1 b1, ...), so the gradients come from ``mul``.
    """
    _tensor("kron", "input", input), _tensor("kron", "other", other)
    n = max(input.ndim, other.ndim)
    a_shape = (1,) * (n - input.ndim) + tuple(input.shape)
    b_shape = (1,) * (n - other.ndim) + tuple(other.shape)
    a = _shape.reshape(input, tuple(v for s in a_shape for v in (s, 1)))
    b = _shape.reshape(other, tuple(v for s in b_shape for v in (1, s)))
    return _shape.reshape(elementwise.mul(a, b), tuple(x * y for x, y in zip(a_shape, b_shape)))


def _contracted(op: str, x, dims, name: str) -> list:
    out = []
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise DTypeError(f"{op}: dims must be ints, got {d!r}")
        if not -max(x.ndim, 1) <= d < max(x.ndim, 1):
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for {name} of shape {tuple(x.shape)}")
        out.append(int(d) % max(x.ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: a dim is contracted twice in {name}: {list(dims)}")
    return out


def tensordot(a: Tensor, b: Tensor, dims=2, out=None) -> Tensor:
    """Contract dimensions of ``a`` with dimensions of ``b``, ``torch.tensordot``.

    ``dims`` an int n contracts the last n of ``a`` with the first n of
    ``b``; a pair of lists (or a (2, k) tensor) names them. The result has
    a's free dimensions, then b's. Composed as permute, reshape and one
    matrix product, so its gradients are matmul's. Raises ShapeError when
    contracted sizes differ, ArgumentError for a negative n.
    """
    if out is not None:
        raise ArgumentError("tensordot: out= is not supported; use the returned tensor")
    _tensor("tensordot", "a", a), _tensor("tensordot", "b", b)
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        n = int(dims)
        if n < 0:
            raise ArgumentError(f"tensordot: expects dims >= 0, but got dims={n}")
        if n > a.ndim or n > b.ndim:
            raise ShapeError(
                f"tensordot: cannot contract {n} dims of tensors of shapes {tuple(a.shape)} and {tuple(b.shape)}"
            )
        dims_a, dims_b = list(range(a.ndim - n, a.ndim)), list(range(n))
    elif isinstance(dims, (list, tuple)) and len(dims) == 2:
        da, db = dims
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise ShapeError(f"tensordot: both dimension lists should have same length, got {da} and {db}")
        dims_a, dims_b = _contracted("tensordot", a, da, "a"), _contracted("tensordot", b, db, "b")
    else:
        raise DTypeError(f"tensordot: dims must be an int or a pair of lists of ints, got {dims!r}")
    for i, j in zip(dims_a, dims_b):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(
                f"tensordot: contracted dimensions need to match, but first has size {a.shape[i]} in dim {i} "
                f"and second has size {b.shape[j]} in dim {j}"
            )
    free_a = [i for i in range(a.ndim) if i not in dims_a]
    free_b = [j for j in range(b.ndim) if j not in dims_b]
    k = int(math.prod([a.shape[i] for i in dims_a]))
    left = _shape.reshape(_shape.permute(a, free_a + dims_a), (int(math.prod([a.shape[i] for i in free_a])), k))
    right = _shape.reshape(_shape.permute(b, dims_b + free_b), (k, int(math.prod([b.shape[j] for j in free_b]))))
    product = linalg.matmul(left, right)
    return _shape.reshape(product, tuple(a.shape[i] for i in free_a) + tuple(b.shape[j] for j in free_b))


def chain_matmul(*matrices) -> Tensor:
    """The product of 2-D tensors left to right, ``torch.chain_matmul`` (deprecated there for linalg.multi_dot).

    One matrix comes back as it is; raises ShapeError for no matrices, one
    that is not 2-D, or sizes that do not fit.
    """
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise ShapeError("chain_matmul: expected one or more tensors")
    out = None
    for k, m in enumerate(matrices):
        _tensor("chain_matmul", f"matrices[{k}]", m)
        if m.ndim != 2:
            raise ShapeError(f"chain_matmul: tensor {k} must be 2-D, got shape {tuple(m.shape)}")
        if out is None:
            out = m
        elif out.shape[1] != m.shape[0]:
            raise ShapeError(
                f"chain_matmul: matrices {k - 1} and {k} cannot be multiplied ({_dims(out)} and {_dims(m)})"
            )
        else:
            out = linalg.matmul(out, m)
    return out if len(matrices) > 1 else elementwise.clone(out)


# --- cross products -------------------------------------------------------------------------------------------


def _cross(op: str, input, other, dim):
    _tensor(op, "input", input), _tensor(op, "other", other)
    try:
        shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(other.shape)))
    except ValueError as exc:
        raise ShapeError(
            f"{op}: the shapes {tuple(input.shape)} and {tuple(other.shape)} do not broadcast together"
        ) from exc
    if input.ndim != other.ndim:
        raise ShapeError(
            f"{op}: inputs must have the same number of dimensions, got shapes {tuple(input.shape)} and "
            f"{tuple(other.shape)}"
        )
    n = len(shape)
    if not -max(n, 1) <= dim < max(n, 1) or n == 0:
        raise IndexOutOfRange(f"{op}: dim {dim} is out of range for tensors of shape {shape}")
    d = dim % n
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ShapeError(f"{op}: inputs dimension {dim} must have length 3. Got {input.shape[d]} and {other.shape[d]}")
    a = _shape.broadcast_to(input, shape)
    b = _shape.broadcast_to(other, shape)
    a0, a1, a2 = (_shape.getitem(a, (slice(None),) * d + (i,)) for i in range(3))
    b0, b1, b2 = (_shape.getitem(b, (slice(None),) * d + (i,)) for i in range(3))
    parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    return _shape.stack(parts, d)


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim``, ``torch.cross``; the operands broadcast.

    (a x b) = (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0). With ``dim=None``
    it is the first dimension of size 3, with PyTorch's deprecation warning
    (pass ``dim``, or use ``minigrad.linalg.cross``, whose default is -1).
    Composed of slices, products and a stack; the gradients are b x g and
    g x a. Raises ShapeError when that dimension is not of size 3 or none
    is, or the shapes do not broadcast.
    """
    if dim is None:
        _tensor("cross", "input", input), _tensor("cross", "other", other)
        warnings.warn(
            "Using cross without specifying the dim arg is deprecated.\nPlease either pass the dim explicitly "
            "or simply use linalg.cross.\nThe default value of dim will change to agree with that of "
            "linalg.cross in a future release (as PyTorch's torch.cross).",
            UserWarning,
            stacklevel=2,
        )
        try:
            shape = tuple(np.broadcast_shapes(tuple(input.shape), tuple(other.shape)))
        except ValueError:
            shape = tuple(input.shape)
        sizes = [k for k, s in enumerate(shape) if s == 3]
        if not sizes:
            raise ShapeError(
                f"cross: no dimension of size 3 in input (shapes {tuple(input.shape)} and {tuple(other.shape)})"
            )
        dim = sizes[0]
    return _cross("cross", input, other, int(dim))


def linalg_cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.cross``: :func:`cross` along ``dim`` (default the last), the operands broadcast."""
    return _cross("linalg.cross", input, other, int(dim))


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """``torch.linalg.vecdot``: sum over ``dim`` of x * y (the operands broadcast; real tensors)."""
    _tensor("linalg.vecdot", "x", x), _tensor("linalg.vecdot", "y", y)
    product = elementwise.mul(x, y)
    if not -max(product.ndim, 1) <= dim < max(product.ndim, 1) or product.ndim == 0:
        raise IndexOutOfRange(f"linalg.vecdot: dim {dim} is out of range for shape {tuple(product.shape)}")
    if x.ndim and y.ndim and x.shape[dim] != y.shape[dim]:
        raise ShapeError(
            f"linalg.vecdot: x and y must have the same size along dim {dim}, got shapes {x.shape} and {y.shape}"
        )
    return reduction.sum(product, dim=dim)


# --- distances ---------------------------------------------------------------------------------------------------

_COMPUTE_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")


def _p(op: str, p) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or np.isnan(p):
        raise ArgumentError(f"{op}: p must be a number, got {p!r}")
    return float(p)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of ``x1`` and each row of ``x2``, ``torch.cdist``.

    x1 is (..., P, M), x2 (..., R, M), the batch dimensions broadcast; out
    is (..., P, R) with out[..., i, j] = ||x1[..., i, :] - x2[..., j, :]||_p,
    p >= 0 (0 counts differing coordinates, inf takes the largest). Computed
    from the differences for every ``compute_mode`` (the modes PyTorch
    accepts are accepted; the matrix-product shortcut trades accuracy for
    speed, which small programs do not need). Gradients are the norm's, with
    PyTorch's zero at zero distance. Raises ShapeError for operands of
    fewer than 2 dimensions or different M, ArgumentError for a negative p
    or an unknown compute_mode, DTypeError for non-floating or mixed dtypes.
    """
    _tensor("cdist", "x1", x1), _tensor("cdist", "x2", x2)
    p = _p("cdist", p)
    if p < 0:
        raise ArgumentError(f"cdist: cdist only supports non-negative p values, got {p}")
    if compute_mode not in _COMPUTE_MODES:
        raise ArgumentError(f"cdist: {compute_mode} is not a valid value for compute_mode (one of {_COMPUTE_MODES})")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise ShapeError(f"cdist: cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
        if x.dtype.kind != "f":
            raise DTypeError(f"cdist: only supports floating-point dtypes, {name} got: {x.dtype}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ShapeError(
            f"cdist: X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}"
        )
    _same_dtype("cdist", x1=x1, x2=x2)
    try:
        np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2]))
    except ValueError as exc:
        raise ShapeError(
            f"cdist: the batch dimensions of X1 {tuple(x1.shape)} and X2 {tuple(x2.shape)} do not broadcast"
        ) from exc
    diff = elementwise.sub(_shape.unsqueeze(x1, -2), _shape.unsqueeze(x2, -3))  # (..., P, R, M)
    if x1.shape[-1] == 0:
        return reduction.sum(diff, dim=-1)
    return linalg.vector_norm(diff, p, dim=-1)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input - other`` (broadcast) over all elements, ``torch.dist``: a 0-d tensor.

    Gradients are the norm's (PyTorch's subgradient zero where the norm is
    zero). Raises ArgumentError for a p that is not a number.
    """
    _tensor("dist", "input", input), _tensor("dist", "other", other)
    p = _p("dist", p)
    try:
        diff = elementwise.sub(input, other)
    except ShapeError as exc:
        raise ShapeError(f"dist: the shapes {tuple(input.shape)} and {tuple(other.shape)} do not broadcast") from exc
    if diff.numel() == 0:
        return reduction.sum(diff)
    return linalg.vector_norm(diff, p)

"""Linear algebra: matrix products, einsum, vector norms, diagonals.

``matmul`` follows NumPy: 1-D operands are promoted to a row (left) or a
column (right) and the added axis is dropped again; leading dimensions are
batch dimensions and broadcast. With C = A B, the vjps are dA = G B^T and
dB = A^T G, summed over broadcast batch dimensions. ``mm``, ``bmm`` and
``outer`` are PyTorch's stricter spellings of it, checked and then composed.

``einsum`` is in :mod:`minigrad.ops.contraction`. ``norm`` and ``vector_norm``
are one primitive with PyTorch's subgradients and declared kinks; ``diagonal``
and ``diag_embed`` are each other's vjp.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise
from .elementwise import astype, clone, mul, sign, where
from .reduction import _spread, _sum
from .shape import reshape, squeeze, unsqueeze


@primitive(saves=(0, 1))
def matmul(a, b):
    """Matrix product a @ b with NumPy's rules for 1-D and batched operands."""
    return a @ b


@primitive(view=True)
def _mT(x):
    """The last two axes swapped (the matrix transpose of each batch element). Its own vjp."""
    return x.swapaxes(-1, -2)


_mT.defvjp(lambda g, ans, x: _mT(g))


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n): dA[..., n, k] = g[..., n] b[k]
        return unsqueeze(g, -1) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m): dA[k] = sum B[..., k, m] g[..., m]
        return squeeze(matmul(b, unsqueeze(g, -1)), -1)
    return matmul(g, _mT(b))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:  # dot product: dB = g a
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): dB[..., k, m] = a[k] g[..., m]
        return unsqueeze(a, -1) * unsqueeze(g, -2)
    if b.ndim == 1:  # (..., n, k) @ (k,): dB[k] = sum A[..., n, k] g[..., n]
        return squeeze(matmul(_mT(a), unsqueeze(g, -1)), -1)
    return matmul(_mT(a), g)


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)


@primitive(name="linear", saves=(0, 1))
def _linear(x, w, b):
    """x W^T + b in one node: one GEMM, the bias added in place into its fresh output.

    The batch dimensions of x are flattened into the GEMM's rows: a (..., k) @ (k, m) product of a
    3-D x is otherwise one small GEMM per leading index (2-3x slower, more so for a transposed x).
    """
    if x.ndim > 2:
        out = (x.reshape(math.prod(x.shape[:-1]), x.shape[-1]) @ w.T).reshape(x.shape[:-1] + (w.shape[0],))
    else:
        out = x @ w.swapaxes(-1, -2)
    if out.dtype == getattr(b, "dtype", None) and out.ndim:
        out += b
        return out
    return out + b


@primitive(name="linear_weight_grad", saves=(0, 1))
def _weight_grad(g, x):
    """dW = sum over the batch of g^T x: linear's weight gradient, the batch dimensions flattened into one GEMM.

    Computed as (x^T g)^T, so the gradient comes out in the weight's own
    memory order when the weight is stored column-major (as nn.Linear's is).
    One primitive, so a plain backward pays one call for it, not five.
    With H the cotangent of dW: d/dg = x H^T, d/dx = g H.
    """
    n = math.prod(g.shape[:-1])  # not -1, which a zero-size batch or output would leave undetermined
    return (x.reshape(n, x.shape[-1]).T @ g.reshape(n, g.shape[-1])).T


_weight_grad.defvjp(
    lambda h, ans, g, x: matmul(x, _mT(h)),
    lambda h, ans, g, x: matmul(g, h),
)


def _bias_grad(g, ans, x, w, b):
    """db = g summed over the batch dimensions."""
    return _sum(g, axis=tuple(range(g.ndim - 1)), keepdims=False) if g.ndim > 1 else g


def _input_grad(g, ans, x, w, b):
    """dx = g W, the batch dimensions of g flattened into one GEMM (as in the forward)."""
    if g.ndim <= 2:
        return matmul(g, w)
    return reshape(matmul(reshape(g, (math.prod(g.shape[:-1]), g.shape[-1])), w), g.shape[:-1] + (w.shape[-1],))


_linear.defvjp(
    _input_grad,
    lambda g, ans, x, w, b: _weight_grad(g, x),
    _bias_grad,
)


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features), as PyTorch's ``F.linear``.

    One node instead of transpose, matmul and add: dx = g W, dW = g^T x (batch
    dimensions flattened), db = g summed over the batch.
    """
    if weight.ndim != 2:  # a 1-D weight (in_features,) gives x @ w, as PyTorch; other shapes are errors
        if weight.ndim != 1:
            raise ShapeError(
                "linear: weight must have shape (out_features, in_features) or (in_features,), "
                f"got {tuple(weight.shape)}"
            )
        out = matmul(x, weight)
        return out if bias is None else out + bias
    if bias is None:
        return matmul(x, _mT(weight))
    if tuple(getattr(bias, "shape", ())) != tuple(weight.shape[:1]):  # a bias that broadcasts otherwise: x W^T + b
        return matmul(x, _mT(weight)) + bias
    return _linear(x, weight, bias)


# --- PyTorch's stricter products: mm, bmm, outer ----------------------------------------------------


def _dims(x) -> str:
    return "x".join(str(s) for s in x.shape) or "0-d"


def mm(input, mat2):
    """The matrix product of two 2-D tensors, PyTorch's ``torch.mm``: (n, k) @ (k, m) -> (n, m).

    Unlike :func:`matmul` it neither broadcasts nor takes 1-D operands; after
    the checks it is ``matmul``, so its gradients are matmul's: dA = G B^T,
    dB = A^T G. Raises ShapeError when an operand is not 2-D or the inner
    sizes differ.
    """
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 2:
            raise ShapeError(f"mm: {name} must be a matrix (2-D), got shape {tuple(x.shape)}")
    if input.shape[1] != mat2.shape[0]:
        raise ShapeError(f"mm: mat1 and mat2 shapes cannot be multiplied ({_dims(input)} and {_dims(mat2)})")
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched matrix product of two 3-D tensors, PyTorch's ``torch.bmm``: (b, n, k) @ (b, k, m) -> (b, n, m).

    The batch sizes must be equal (no broadcasting, as PyTorch); then it is
    ``matmul``, with matmul's gradients. Raises ShapeError for an operand that
    is not 3-D, different batch sizes or different inner sizes.
    """
    for name, x in (("input", input), ("mat2", mat2)):
        if x.ndim != 3:
            raise ShapeError(f"bmm: {name} must be a 3-D tensor (batch, rows, columns), got shape {tuple(x.shape)}")
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(
            f"bmm: the batch sizes differ, {input.shape[0]} and {mat2.shape[0]} (shapes {tuple(input.shape)} "
            f"and {tuple(mat2.shape)}); bmm does not broadcast, matmul does"
        )
    if input.shape[2] != mat2.shape[1]:
        raise ShapeError(
            f"bmm: the matrices cannot be multiplied, {input.shape[2]} columns against {mat2.shape[1]} rows "
            f"(shapes {tuple(input.shape)} and {tuple(mat2.shape)})"
        )
    return matmul(input, mat2)


def outer(input, vec2):
    """The outer product of two 1-D tensors, PyTorch's ``torch.outer``: out[i, j] = input[i] vec2[j].

    Composed as a broadcast product (n, 1) * (m,), so d/dinput = G vec2 and
    d/dvec2 = G^T input come from ``mul``. Raises ShapeError for an operand
    that is not 1-D.
    """
    for name, x in (("input", input), ("vec2", vec2)):
        if x.ndim != 1:
            raise ShapeError(f"outer: {name} must be a 1-D tensor, got shape {tuple(x.shape)}")
    return mul(unsqueeze(input, -1), vec2)


ger = outer  # PyTorch's older name for outer


# --- norms ------------------------------------------------------------------------------------------


def _norm_dims(op, x, dim):
    """``dim`` as a tuple of distinct non-negative axes, or None for all of them."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    if not dims:  # PyTorch: an empty dim list reduces over every dimension
        return None
    n = max(x.ndim, 1)
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise DTypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for a tensor of shape {tuple(x.shape)}")
    normal = tuple(int(d) % n for d in dims)
    if len(set(normal)) != len(normal):
        raise ShapeError(f"{op}: dim {dim!r} names a dimension more than once")
    return normal if x.ndim else None


def _norm_signature(x, *, ord, axis, keepdims):
    """Which side of the norm's kinks each element is on.

    p = 0 is a step at every zero element; p <= 1 has a kink at every zero
    element (|x|); inf and -inf at ties of |x| for the largest (smallest)
    and where the winner crosses 0; other p > 1 only where the whole slice
    is 0, which an element crosses when it is the only nonzero one of its
    slice. The signature says that: x != 0; sign(x); sign(x) at the winners;
    sign(x) where the slice has at most one nonzero element.
    """
    xp = backend.xp_of(x)
    if ord == 0:
        return x != 0
    s = xp.sign(x)
    if ord <= 1:
        return s
    a = xp.abs(x)
    if math.isinf(ord):
        best = (a.max if ord > 0 else a.min)(axis=axis, keepdims=True)
        return xp.where(a == best, s, 0)
    alone = (x != 0).sum(axis=axis, keepdims=True) <= 1
    return xp.where(alone, s, 0)


@primitive(name="vector_norm", saves=(0,), saves_output=True, signature=_norm_signature)
def _vector_norm(x, *, ord, axis, keepdims):
    """||x||_p over ``axis``: (sum |x|^p)^(1/p); max |x| (inf), min |x| (-inf), the count of nonzeros (0)."""
    xp = backend.xp_of(x)
    if ord == 0:
        return (x != 0).sum(axis=axis, keepdims=keepdims).astype(x.dtype)
    a = xp.abs(x)
    if ord == math.inf:
        return a.max(axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return a.min(axis=axis, keepdims=keepdims)
    if ord == 1:
        return a.sum(axis=axis, keepdims=keepdims)
    if ord == 2:
        return xp.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
    with np.errstate(divide="ignore"):  # 0 ** (negative p) is inf, and the norm 0: as PyTorch
        return (a ** x.dtype.type(ord)).sum(axis=axis, keepdims=keepdims) ** x.dtype.type(1 / ord)


def _vector_norm_vjp(g, ans, x, ord, axis, keepdims):
    """PyTorch's subgradients, 0 wherever the formula divides by 0.

    p = 1: g sign(x). p = 2: g x / ||x||. p = inf, -inf: g sign(x) at the
    winners of max (min) |x|, shared evenly by ties. p < 1: g sign(x)
    |x|^(p-1) ||x||^(1-p), 0 at zero elements. Other p: g sign(x) |x|^(p-1) /
    ||x||^(p-1). p = 0: 0 (a count).
    """
    if ord == 0:
        return _zeros_like(x)
    g = _spread(g, x.shape, axis, keepdims)
    if ord == 1:
        return g * sign(x)
    norm = _spread(ans, x.shape, axis, keepdims)
    if math.isinf(ord):
        won = elementwise.abs(x) == norm
        ties = astype(_sum(won, axis=axis, keepdims=True), dtype=g.dtype)
        return where(won, g * sign(x), 0) / ties
    zero = norm == 0
    safe = where(zero, 1, norm)
    if ord == 2:
        return where(zero, 0, g * x / safe)
    if ord < 1:
        scaled = where(x == 0, 0, sign(x) * elementwise.abs(where(x == 0, 1, x)) ** (ord - 1))
        return scaled * g * norm ** (1 - ord)
    return where(zero, 0, sign(x) * elementwise.abs(x) ** (ord - 1) * (g / safe ** (ord - 1)))


def _zeros_like(x):
    """Zeros of x's shape and dtype, a constant (the gradient of the count of nonzeros)."""
    if isinstance(x, Tensor):
        return Tensor._wrap(x.xp.zeros_like(x.array))
    return backend.xp_of(x).zeros_like(x)


_vector_norm.defvjp(_vector_norm_vjp)


def _check_ord(op, ord):
    if isinstance(ord, bool) or not isinstance(ord, (int, float, np.integer, np.floating)) or math.isnan(ord):
        raise ArgumentError(f"{op}: the order must be a number (or inf, -inf), got {ord!r}")
    return float(ord)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector p-norm of ``x`` over ``dim`` (all elements when None), ``torch.linalg.vector_norm``.

    ||x||_p = (sum |x_i|^p)^(1/p) for any real p; inf gives max |x_i|, -inf
    min |x_i|, 0 the number of nonzero elements. A 2-D ``x`` is treated as a
    vector too (no matrix norms). The gradient is PyTorch's: g x / ||x|| for
    p = 2 and 0 where the norm is 0; g sign(x) for p = 1 (0 at zero
    elements); for inf the winners of the max share g evenly. Those points
    are kinks, declared as the op's branch signature.

    ``dtype`` casts ``x`` first. Raises DTypeError for a non-floating tensor,
    ArgumentError for an order that is not a number, IndexOutOfRange and
    ShapeError for bad dims, ShapeError for inf, -inf or negative orders over
    an empty dimension (they have no identity).
    """
    ord = _check_ord("vector_norm", ord)
    return _norm(x, ord, _norm_dims("vector_norm", x, dim), bool(keepdim), dtype, "vector_norm")


def _norm(x, ord, axis, keepdims, dtype, op):
    if dtype is not None:
        x = astype(x, dtype=np.dtype(dtype))
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{op}: expects a floating-point tensor, got dtype {x.dtype}; cast it with .double() or pass dtype="
        )
    if ord < 0 or math.isinf(ord):
        reduced = range(x.ndim) if axis is None else axis
        if any(x.shape[d] == 0 for d in reduced):
            raise ShapeError(
                f"{op}: the {ord} norm over an empty dimension has no identity (shape {tuple(x.shape)}, dim {axis})"
            )
    return _vector_norm(x, ord=ord, axis=axis, keepdims=keepdims)


def norm(input, p="fro", dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The norm of ``input``, ``torch.norm``: a vector p-norm over ``dim``, or the Frobenius norm.

    ``p`` is a number (1, 2, inf, -inf, 0, any real; None means 2): the
    vector norm (sum |x_i|^p)^(1/p) over ``dim``, or over all elements when
    ``dim`` is None (a matrix is flattened, as PyTorch, not its operator
    norm). ``p="fro"`` (the default) is sqrt(sum x_i^2) over all elements,
    one dim or a pair of dims. See :func:`vector_norm` for the gradients and
    kinks (0 at x = 0, as PyTorch). ``axis``/``keepdims`` are NumPy's names
    for ``dim``/``keepdim``.

    Raises ArgumentError for ``p="nuc"`` (it needs singular values, which
    minigrad does not compute), other strings, or "fro" over more than two
    dims; the errors of :func:`vector_norm` otherwise.
    """
    if axis is not None:
        if dim is not None:
            raise TypeError("norm: give axis or dim, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(p, str):
        if p == "nuc":
            raise ArgumentError("norm: the nuclear norm (p='nuc') needs singular values, which minigrad does not have")
        if p != "fro":
            raise ArgumentError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
        if dim is not None and not isinstance(dim, (int, np.integer)) and len(dim) > 2:
            raise ArgumentError(f"norm: the Frobenius norm takes at most two dims, got {dim!r}")
        p = 2
    ord = 2.0 if p is None else _check_ord("norm", p)
    return _norm(input, ord, _norm_dims("norm", input, dim), bool(keepdim), dtype, "norm")


# --- diagonals --------------------------------------------------------------------------------------


@primitive(name="diagonal", view=True)
def _diagonal(x, *, offset, dim1, dim2):
    """The diagonal of the (dim1, dim2) planes, appended as the last dimension (a read-only view)."""
    return x.diagonal(offset, dim1, dim2)


_diagonal.defvjp(
    lambda g, ans, x, offset, dim1, dim2: _diag_embed(g, offset=offset, dim1=dim1, dim2=dim2, shape=tuple(x.shape))
)


@primitive(name="diag_embed")
def _diag_embed(g, *, offset, dim1, dim2, shape):
    """Zeros of ``shape`` with g's last dimension written on the diagonal of the (dim1, dim2) planes.

    The adjoint of :func:`_diagonal`: each is the other's vjp.
    """
    xp = backend.xp_of(g)
    out = xp.zeros(shape, dtype=g.dtype)
    n = g.shape[-1]
    rows = xp.arange(n) + max(-offset, 0)
    cols = xp.arange(n) + max(offset, 0)
    xp.moveaxis(out, (dim1, dim2), (-2, -1))[..., rows, cols] = g
    return out


_diag_embed.defvjp(lambda g, ans, x, offset, dim1, dim2, shape: _diagonal(g, offset=offset, dim1=dim1, dim2=dim2))


def _plane(op, ndim, dim1, dim2, shape):
    """dim1, dim2 as distinct non-negative axes of an ``ndim``-dimensional tensor."""
    for d in (dim1, dim2):
        if not -ndim <= d < ndim:
            raise IndexOutOfRange(f"{op}: dim {d} is out of range for {ndim} dimensions (shape {shape})")
    d1, d2 = dim1 % ndim, dim2 % ndim
    if d1 == d2:
        raise ShapeError(f"{op}: dim1 and dim2 name the same dimension ({dim1} and {dim2}) of shape {shape}")
    return d1, d2


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset``-th diagonal of the planes (dim1, dim2), as the last dimension, ``torch.diagonal``.

    out[..., i] = input[..., i, i + offset, ...] (offset > 0 above the main
    diagonal, < 0 below), the other dimensions first in their order. A view
    of ``input``, as PyTorch's (read-only here). vjp: the cotangent written
    back on that diagonal of zeros (:func:`diag_embed`).

    Raises ShapeError for a tensor of fewer than 2 dimensions or dim1 ==
    dim2, IndexOutOfRange for a dim outside the tensor.
    """
    if input.ndim < 2:
        raise ShapeError(f"diagonal: expects a tensor of at least 2 dimensions, got shape {tuple(input.shape)}")
    d1, d2 = _plane("diagonal", input.ndim, dim1, dim2, tuple(input.shape))
    return _diagonal(input, offset=int(offset), dim1=d1, dim2=d2)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """A tensor whose (dim1, dim2) planes hold ``input``'s last dimension on their ``offset``-th diagonal.

    ``torch.diag_embed``: the output has one dimension more than ``input``,
    the planes are square of side n + |offset| (n the last dimension's size)
    and zero off that diagonal. dim1 and dim2 count in the output's
    dimensions. vjp: the diagonal of the cotangent (:func:`diagonal`).
    """
    if input.ndim < 1:
        raise ShapeError("diag_embed: expects a tensor of at least 1 dimension, got a 0-d tensor")
    ndim = input.ndim + 1
    d1, d2 = _plane("diag_embed", ndim, dim1, dim2, tuple(input.shape))
    side = input.shape[-1] + max(int(offset), -int(offset))
    rest = iter(input.shape[:-1])
    shape = tuple(side if k in (d1, d2) else next(rest) for k in range(ndim))
    return _diag_embed(input, offset=int(offset), dim1=d1, dim2=d2, shape=shape)


def diag(input, diagonal=0):
    """``torch.diag``: a 1-D tensor becomes the square matrix with it on its ``diagonal``-th diagonal,
    a 2-D tensor gives its ``diagonal``-th diagonal as a new 1-D tensor (a copy, not a view).

    Raises ShapeError for other numbers of dimensions.
    """
    if input.ndim == 1:
        return diag_embed(input, offset=diagonal, dim1=0, dim2=1)
    if input.ndim == 2:
        return clone(_diagonal(input, offset=int(diagonal), dim1=0, dim2=1))
    raise ShapeError(f"diag: expects a 1-D or 2-D tensor, got shape {tuple(input.shape)}")


def trace(input):
    """The sum of the main diagonal of a 2-D tensor, ``torch.trace``. vjp: the identity pattern times g.

    Raises ShapeError for a tensor that is not 2-D.
    """
    if input.ndim != 2:
        raise ShapeError(f"trace: expects a matrix (2-D tensor), got shape {tuple(input.shape)}")
    return _sum(_diagonal(input, offset=0, dim1=0, dim2=1), axis=None, keepdims=False)

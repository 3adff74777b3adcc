"""Dense linear algebra: inverse, determinants, solve, Cholesky, matrix powers and the matrix exponential.

The primitives are ``inv``, ``det``, ``logabsdet`` (of ``slogdet``),
``solve`` and ``cholesky``, batched over leading dimensions as NumPy's
``linalg`` is, with the standard reverse-mode formulas (Giles, "An extended
collection of matrix derivative results", 2008), written with minigrad ops
so that they differentiate again:

- Y = A^-1:            dA = -Y^T G Y^T
- d = det A:           dA = g d A^-T
- l = log|det A|:      dA = g A^-T
- X = A^-1 B:          dB = A^-T G,  dA = -dB X^T
- L = chol(A), A = L L^T:  dA = L^-T Phi L^-1, Phi = (P + tril(P, -1)^T) / 2, P = tril(L^T G)
  (PyTorch's formula: a symmetric gradient, as A is taken symmetric)

``matrix_power``, ``matrix_exp`` (scaling and squaring of a Taylor
polynomial), ``cholesky_solve`` and ``cholesky_inverse`` are composed of
these and ``matmul``. A singular or non-positive-definite matrix raises
:class:`LinAlgError` (a RuntimeError, as ``torch.linalg.LinAlgError``).
``det``'s gradient is the cofactor matrix, from the SVD where a matrix is singular (PyTorch's answer).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from .. import backend
from ..errors import DTypeError, MinigradError, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from . import construct, elementwise, linalg
from . import reduction as _reduction
from . import shape as _shape

__all__ = [
    "LinAlgError",
    "inverse",
    "det",
    "logdet",
    "slogdet",
    "solve",
    "cholesky",
    "cholesky_solve",
    "cholesky_inverse",
    "matrix_power",
    "matrix_exp",
    "SlogdetResult",
    "pinverse",
    "svd",
    "qr",
]


class LinAlgError(MinigradError, RuntimeError):
    """A matrix that the operation cannot take: singular for inverse and solve, not positive-definite for
    Cholesky (PyTorch's ``torch.linalg.LinAlgError``, also a RuntimeError)."""


SlogdetResult = namedtuple("slogdet", ["sign", "logabsdet"])
SlogdetResult.__doc__ = "What ``slogdet`` returns, as ``torch.return_types.slogdet``: the sign and log |det|."


def _square(op: str, A) -> Tensor:
    if not isinstance(A, Tensor):
        raise DTypeError(f"{op}: expects a tensor, got {type(A).__name__}")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"{op}: A must be batches of square matrices, but they are {A.shape[-2] if A.ndim > 1 else '-'} by "
            f"{A.shape[-1] if A.ndim else '-'} matrices (shape {tuple(A.shape)})"
        )
    if A.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating-point tensor, got dtype {A.dtype}")
    return A


def _lift(x):
    """g of shape (...) as (..., 1, 1), to scale matrices."""
    return _shape.unsqueeze(_shape.unsqueeze(x, -1), -1)


# --- primitives --------------------------------------------------------------------------------------------


def _linalg_error(op: str, exc, A) -> LinAlgError:
    return LinAlgError(f"{op}: {exc}; the input matrix (shape {tuple(A.shape)}) is singular or ill-formed")


@primitive(name="inv", saves_output=True)
def _inv(a):
    try:
        return backend.xp_of(a).linalg.inv(a)
    except np.linalg.LinAlgError as exc:
        raise _linalg_error("inv", exc, a) from exc


_inv.defvjp(lambda g, ans, a: -linalg.matmul(linalg._mT(ans), linalg.matmul(g, linalg._mT(ans))))


@primitive(name="det", saves=(0,), saves_output=True)
def _det(a):
    xp = backend.xp_of(a)
    return xp.asarray(xp.linalg.det(a))


def _det_vjp(g, ans, a):
    """g times the cofactor matrix adj(A)^T. For invertible A that is det(A) A^-T; where some matrix of the
    batch is singular (its smallest singular value under n eps times its largest), the whole batch takes it
    from the SVD, adj(A)^T = det(U) det(Vh) U diag(prod_{j != i} s_j) Vh, finite at rank n - 1 (the
    adjugate, PyTorch's answer) and 0 at lower rank."""
    xp = _xp(a)
    n = a.shape[-1]
    raw = a.array if isinstance(a, Tensor) else a
    if n == 0 or raw.size == 0:
        return _lift(g * ans) * linalg._mT(_inv(a))
    sv = xp.linalg.svd(raw, compute_uv=False)
    if not bool((sv[..., -1] <= n * np.finfo(raw.dtype).eps * sv[..., 0]).any()):
        return _lift(g * ans) * linalg._mT(_inv(a))
    u, s, vh = _svd_u(a), _svd_s(a), _svd_vh(a)
    eye = xp.eye(n, dtype=raw.dtype)
    others = _reduction._prod(_shape.unsqueeze(s, -2) * (1.0 - eye) + eye, axis=-1)  # prod_{j != i} s_j
    u_raw, vh_raw = xp.linalg.svd(raw)[0::2]
    sign = xp.linalg.det(u_raw) * xp.linalg.det(vh_raw)
    return _lift(g * sign) * linalg.matmul(u * _shape.unsqueeze(others, -2), vh)


_det.defvjp(_det_vjp)


@primitive(name="logabsdet", saves=(0,))
def _logabsdet(a):
    xp = backend.xp_of(a)
    return xp.asarray(xp.linalg.slogdet(a)[1])


_logabsdet.defvjp(lambda g, ans, a: _lift(g) * linalg._mT(_inv(a)))


@primitive(name="solve", saves=(0,), saves_output=True)
def _solve(a, b):
    """X with A X = B, for B of shape (..., n, k); the batch dimensions broadcast."""
    xp = backend.xp_of(a)
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    try:
        return xp.linalg.solve(xp.broadcast_to(a, shape + a.shape[-2:]), xp.broadcast_to(b, shape + b.shape[-2:]))
    except np.linalg.LinAlgError as exc:
        raise _linalg_error("solve", exc, a) from exc


def _solve_vjp_b(g, ans, a, b):
    return _solve(linalg._mT(a), g)


def _solve_vjp_a(g, ans, a, b):
    return -linalg.matmul(_solve(linalg._mT(a), g), linalg._mT(ans))


_solve.defvjp(_solve_vjp_a, _solve_vjp_b)


@primitive(name="cholesky", saves_output=True)
def _cholesky(a):
    """The lower Cholesky factor L (A = L L^T), from A's lower triangle."""
    try:
        return backend.xp_of(a).linalg.cholesky(a)
    except np.linalg.LinAlgError as exc:
        raise LinAlgError(f"cholesky: {exc}; the input (shape {tuple(a.shape)}) is not positive-definite") from exc


def _cholesky_vjp(g, L, a):
    p = construct._tril(linalg.matmul(linalg._mT(L), g), diagonal=0)
    phi = (p + linalg._mT(construct._tril(p, diagonal=-1))) * 0.5
    l_inv = _inv(L)
    return linalg.matmul(linalg._mT(l_inv), linalg.matmul(phi, l_inv))


_cholesky.defvjp(_cholesky_vjp)


# --- the public functions -------------------------------------------------------------------------------------


def inverse(input: Tensor) -> Tensor:
    """The inverse of each square matrix in the last two dimensions, ``torch.inverse`` / ``torch.linalg.inv``.

    Gradient: -Y^T G Y^T with Y the inverse. Raises LinAlgError for a
    singular matrix, ShapeError for non-square input, DTypeError for
    integers.
    """
    return _inv(_square("inverse", input))


def linalg_inv(A: Tensor) -> Tensor:
    """``torch.linalg.inv``: :func:`inverse`."""
    return _inv(_square("linalg.inv", A))


def det(input: Tensor) -> Tensor:
    """The determinant of each square matrix, ``torch.det`` / ``torch.linalg.det``; a (0, 0) matrix has 1.

    Gradient: g det(A) A^-T (it needs an invertible A). Raises ShapeError
    for non-square input.
    """
    return _det(_square("det", input))


def linalg_det(A: Tensor) -> Tensor:
    """``torch.linalg.det``: :func:`det`."""
    return _det(_square("linalg.det", A))


def slogdet(input: Tensor) -> SlogdetResult:
    """``(sign, logabsdet)`` of each determinant, ``torch.slogdet`` / ``torch.linalg.slogdet``.

    det = sign * exp(logabsdet), computed from an LU factorisation without
    overflow; a singular matrix has sign 0 and logabsdet -inf. Only
    logabsdet has a gradient: g A^-T.
    """
    A = _square("slogdet", input)
    sign = Tensor._wrap(A.xp.asarray(A.xp.linalg.slogdet(A.array)[0]))
    return SlogdetResult(sign, _logabsdet(A))


def linalg_slogdet(A: Tensor) -> SlogdetResult:
    """``torch.linalg.slogdet``: :func:`slogdet`."""
    return slogdet(A)


def logdet(input: Tensor) -> Tensor:
    """log det of each square matrix, ``torch.logdet``: NaN for a negative determinant, -inf for zero.

    Gradient: g A^-T where the determinant is positive.
    """
    A = _square("logdet", input)
    xp = A.xp
    sign = xp.asarray(xp.linalg.slogdet(A.array)[0])
    lad = _logabsdet(A)
    fill = Tensor._wrap(xp.asarray(xp.where(sign < 0, xp.nan, -xp.inf), dtype=A.dtype))
    return elementwise.where(Tensor._wrap(xp.asarray(sign > 0)), lad, fill)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (``left=True``) or X A = B (``left=False``), ``torch.linalg.solve``.

    ``B`` is batches of matrices (..., n, k), or of vectors (..., n) when it
    has one dimension fewer than ``A`` and its shape is A's without the last
    (or it is 1-D); batch dimensions broadcast. Gradients: dB = A^-T G,
    dA = -dB X^T. Raises LinAlgError for a singular A, ShapeError for
    shapes that do not fit, DTypeError for mixed or integer dtypes.
    """
    A = _square("linalg.solve", A)
    if not isinstance(B, Tensor):
        raise DTypeError(f"linalg.solve: B must be a tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise DTypeError(f"linalg.solve: expected A and B to have the same dtype, got {A.dtype} and {B.dtype}")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if not left:  # X A = B  <=>  A^T X^T = B^T
        if vector:
            return solve(linalg._mT(A), B)
        return linalg._mT(solve(linalg._mT(A), linalg._mT(B)))
    b = _shape.unsqueeze(B, -1) if vector else B
    if b.ndim < 2 or b.shape[-2] != A.shape[-1]:
        raise ShapeError(
            f"linalg.solve: incompatible shapes of A and B for the equation AX = B ({_dims(A)} and {_dims(B)})"
        )
    try:
        np.broadcast_shapes(tuple(A.shape[:-2]), tuple(b.shape[:-2]))
    except ValueError as exc:
        raise ShapeError(
            f"linalg.solve: the batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} do not broadcast"
        ) from exc
    x = _solve(A, b)
    return _shape.squeeze(x, -1) if vector else x


def _dims(x) -> str:
    return "x".join(str(s) for s in x.shape) or "0-d"


def solve_removed(input, A, *, out=None):
    """``torch.solve`` was removed from PyTorch (1.9); as there, calling it raises and names the replacement."""
    raise LinAlgError(
        "solve: This function was deprecated since version 1.9 and is now removed. `torch.solve` is deprecated in "
        "favor of `linalg.solve`, which takes its arguments reversed: X = solve(A, B) instead of solve(B, A)."
    )


def lstsq_removed(input, A, *, out=None):
    """``torch.lstsq`` was removed from PyTorch (1.9); as there, calling it raises and names the replacement."""
    raise LinAlgError(
        "lstsq: This function was deprecated since version 1.9 and is now removed. `torch.lstsq` is deprecated in "
        "favor of `linalg.lstsq`; minigrad has `linalg.solve` (solve the normal equations A^T A x = A^T b)."
    )


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """The Cholesky factor of symmetric positive-definite matrices, ``torch.cholesky``.

    Lower L with A = L L^T (read from A's lower triangle), or its transpose U
    = L^T (A = U^T U) with ``upper=True``. Gradient: PyTorch's symmetric
    formula (module docstring). Raises LinAlgError for a matrix that is not
    positive-definite.
    """
    L = _cholesky(_square("cholesky", input))
    return linalg._mT(L) if upper else L


def linalg_cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """``torch.linalg.cholesky``: :func:`cholesky` (``upper`` keyword-only)."""
    L = _cholesky(_square("linalg.cholesky", A))
    return linalg._mT(L) if upper else L


def _factor(op: str, L, upper):
    L = _square(op, L)
    return linalg._mT(L) if upper else L


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False) -> Tensor:
    """X with A X = B for A = L L^T given its Cholesky factor, ``torch.cholesky_solve(B, L, upper=False)``.

    Two solves with the factor (batch dimensions broadcast), so the
    gradients reach both ``B`` and ``L``. With ``upper=True`` ``L`` is the
    upper factor U (A = U^T U). Raises ShapeError for shapes that do not fit.
    """
    lower = _factor("cholesky_solve", L, upper)
    if not isinstance(B, Tensor) or B.ndim < 2 or B.shape[-2] != lower.shape[-1]:
        raise ShapeError(
            f"cholesky_solve: B must be batches of matrices with {lower.shape[-1]} rows, got shape "
            f"{tuple(getattr(B, 'shape', ()))}"
        )
    return solve(linalg._mT(lower), solve(lower, B))


def cholesky_inverse(L: Tensor, upper: bool = False) -> Tensor:
    """The inverse of A = L L^T (U^T U with ``upper=True``) from its Cholesky factor, ``torch.cholesky_inverse``."""
    lower = _factor("cholesky_inverse", L, upper)
    return _inv(linalg.matmul(lower, linalg._mT(lower)))


def _eye_like(A) -> Tensor:
    xp = A.xp
    n = A.shape[-1]
    return Tensor._wrap(xp.broadcast_to(xp.eye(n, dtype=A.dtype), tuple(A.shape)).copy())


def matrix_power(input: Tensor, n: int) -> Tensor:
    """A^n for each square matrix, ``torch.matrix_power`` / ``torch.linalg.matrix_power``.

    n = 0 gives the identity, n < 0 the inverse's power; computed by
    repeated squaring with ``matmul`` (so the gradient is matmul's, through
    the inverse for n < 0). Raises ShapeError for non-square input,
    DTypeError for an n that is not an int.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise DTypeError(f"matrix_power: n must be an int, got {n!r}")
    if not isinstance(input, Tensor) or input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise ShapeError(
            f"matrix_power: expects a batch of square matrices, got shape {tuple(getattr(input, 'shape', ()))}"
        )
    n = int(n)
    if n == 0:
        return _eye_like(input)
    base = inverse(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else linalg.matmul(result, base)
        n >>= 1
        if n:
            base = linalg.matmul(base, base)
    return elementwise.clone(result) if result is input else result


_TAYLOR_TERMS = 18  # 1/19! < 1e-17: the truncation error is below float64 rounding for ||A / 2^s|| <= 1


def matrix_exp(A: Tensor) -> Tensor:
    """The matrix exponential exp(A) = sum_k A^k / k! of each square matrix, ``torch.matrix_exp``.

    Scaling and squaring: exp(A) = exp(A / 2^s)^(2^s) with s chosen so that
    ||A / 2^s||_1 <= 1, where a Taylor polynomial of degree 18 is exact to
    float64 rounding. Composed of ``matmul``, so the gradient is the
    polynomial's, which matches the exponential's Frechet derivative to the
    same accuracy (PyTorch's backward is exp of a block matrix, the same
    quantity). Raises ShapeError for non-square input.
    """
    A = _square("matrix_exp", A)
    if A.numel() == 0:
        return elementwise.clone(A)
    norm = float(A.xp.abs(A.array).sum(axis=-2).max())  # the largest 1-norm in the batch
    s = max(0, math.ceil(math.log2(norm))) if norm > 1 else 0
    X = A * (1.0 / 2**s) if s else A
    eye = _eye_like(A)
    term, total = eye, eye
    for k in range(1, _TAYLOR_TERMS + 1):
        term = linalg.matmul(term, X) * (1.0 / k)
        total = total + term
    for _ in range(s):
        total = linalg.matmul(total, total)
    return total


# --- pseudo-inverse ------------------------------------------------------------------------------------------------


def _svd_cutoff(s, atol, rtol):
    """Singular values above max(atol, rtol * largest) count; the rest are dropped (per matrix)."""
    largest = s[..., :1] if s.shape[-1] else s[..., :0]
    return backend.xp_of(s).maximum(atol, rtol * largest)


@primitive(name="pinv", saves=(0,), saves_output=True)
def _pinv(a, *, atol, rtol):
    """The Moore-Penrose pseudo-inverse from the SVD: V diag(1/s over the cutoff, else 0) U^T."""
    xp = backend.xp_of(a)
    m, n = a.shape[-2:]
    if m == 0 or n == 0:
        return xp.zeros(a.shape[:-2] + (n, m), dtype=a.dtype)
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    keep = s > _svd_cutoff(s, atol, rtol)
    inv_s = xp.where(keep, 1.0 / xp.where(keep, s, 1.0), 0.0).astype(a.dtype)
    return xp.swapaxes(vh, -1, -2) @ (inv_s[..., :, None] * xp.swapaxes(u, -1, -2))


def _pinv_vjp(g, ans, a, atol, rtol):
    """For A of constant rank (Golub and Pereyra), with X = A+:
    dA = -X^T G X^T + (I - A X) G^T X X^T + X^T X G^T (I - X A)."""
    mT, mm = linalg._mT, linalg.matmul
    xt = mT(ans)
    first = -mm(xt, mm(g, xt))
    gx = mm(mT(g), mm(ans, xt))  # G^T X X^T
    second = gx - mm(a, mm(ans, gx))  # (I - A X) G^T X X^T
    right = mm(mm(xt, ans), mT(g))  # X^T X G^T
    third = right - mm(right, mm(ans, a))  # X^T X G^T (I - X A)
    return first + second + third


_pinv.defvjp(_pinv_vjp)


def _tolerances(op: str, A, atol, rtol, rcond=None):
    if rcond is not None:
        return 0.0, float(rcond)
    eps = float(np.finfo(A.dtype).eps)
    atol = 0.0 if atol is None else float(atol)
    if rtol is None:
        rtol = eps * max(A.shape[-2:]) if atol <= 0 else 0.0
    return atol, float(rtol)


def _matrices(op: str, A) -> Tensor:
    if not isinstance(A, Tensor):
        raise DTypeError(f"{op}: expects a tensor, got {type(A).__name__}")
    if A.ndim < 2:
        raise ShapeError(f"{op}: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} instead")
    if A.dtype.kind != "f":
        raise DTypeError(f"{op}: expects a floating-point tensor, got dtype {A.dtype}")
    return A


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The Moore-Penrose pseudo-inverse of each matrix, ``torch.pinverse``: singular values below
    ``rcond`` times the largest are taken as zero.

    Gradient: the constant-rank formula of Golub and Pereyra (PyTorch's), in minigrad ops.
    """
    A = _matrices("pinverse", input)
    atol, rtol = _tolerances("pinverse", A, None, None, rcond)
    return _pinv(A, atol=atol, rtol=rtol)


def linalg_pinv(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """``torch.linalg.pinv``: singular values up to max(atol, rtol * largest) are dropped.

    With neither tolerance given, rtol = eps * max(m, n), as PyTorch; ``hermitian`` is accepted (the SVD
    serves symmetric matrices too).
    """
    A = _matrices("linalg.pinv", A)
    atol, rtol = _tolerances("linalg.pinv", A, atol, rtol)
    return _pinv(A, atol=atol, rtol=rtol)


# --- factorisations with gradients: svd, qr -----------------------------------------------------------------------
#
# Each factor is its own primitive (svd_u, svd_s, svd_vh; qr_q, qr_r) that computes the whole factorisation
# and keeps one factor: LAPACK is deterministic, so the three calls see the same signs. The vjp of a
# factorisation is linear in the cotangents of its factors, so each primitive's vjp is the full formula
# with the other cotangents zero, and the sums over the factors a loss uses is the whole gradient. The
# vjps call these primitives again on the (recorded) input, so they differentiate a second time.


def _xp(x):
    return x.xp if isinstance(x, Tensor) else backend.xp_of(x)


def _thin_svd(a):
    xp = backend.xp_of(a)
    m, n = a.shape[-2:]
    if m == 0 or n == 0:
        k = min(m, n)
        batch = a.shape[:-2]
        eye_m = xp.broadcast_to(xp.eye(m, k, dtype=a.dtype), batch + (m, k))
        eye_n = xp.broadcast_to(xp.eye(k, n, dtype=a.dtype), batch + (k, n))
        return eye_m.copy(), xp.zeros(batch + (0,), dtype=a.dtype), eye_n.copy()
    return xp.linalg.svd(a, full_matrices=False)


@primitive(name="svd_u", saves=(0,))
def _svd_u(a):
    """U of the thin SVD A = U diag(S) Vh, (..., m, k)."""
    return _thin_svd(a)[0]


@primitive(name="svd_s", saves=(0,))
def _svd_s(a):
    """The singular values S, descending, (..., k)."""
    return _thin_svd(a)[1]


@primitive(name="svd_vh", saves=(0,))
def _svd_vh(a):
    """Vh of the thin SVD, (..., k, n)."""
    return _thin_svd(a)[2]


def _svd_backward(a, gu, gs, gvh):
    """PyTorch's (real) SVD vjp, for the thin factors; None for a cotangent that is not there.

    With E_ij = s_j^2 - s_i^2 (1 on the diagonal), skew(X) = X - X^T, J = skew(U^T gU) / E and
    K = skew(V^T gV) / E:  gA = U [J S + S K + diag(gS)] Vh, plus, for m > n, (I - U U^T) gU S^-1 Vh and for
    m < n, U S^-1 gV^T (I - V V^T). Well defined for distinct non-zero singular values (gU or gV) only;
    S's part U diag(gS) Vh everywhere.
    """
    mT, mm = linalg._mT, linalg.matmul
    u, s, vh = _svd_u(a), _svd_s(a), _svd_vh(a)
    m, n = a.shape[-2:]
    if gu is None and gvh is None:
        return mm(u * _shape.unsqueeze(gs, -2), vh)
    xp = _xp(a)
    k = min(m, n)
    s2 = s * s
    e = _shape.unsqueeze(s2, -2) - _shape.unsqueeze(s2, -1) + xp.eye(k, dtype=a.dtype)
    s_row, s_col = _shape.unsqueeze(s, -2), _shape.unsqueeze(s, -1)
    if gu is not None:
        x = mm(mT(u), gu)
        inner = (x - mT(x)) / e * s_row
    else:
        v, gv = mT(vh), mT(gvh)
        x = mm(mT(v), gv)
        inner = s_col * ((x - mT(x)) / e)
    if gs is not None:
        inner = inner + _shape.unsqueeze(gs, -1) * xp.eye(k, dtype=a.dtype)
    if gu is not None and m > n:
        gu_s = gu / s_row
        return mm(mm(u, inner) + gu_s - mm(u, mm(mT(u), gu_s)), vh)
    if gvh is not None and m < n:
        v = mT(vh)
        gv_s = mT(gvh) / s_row  # gV S^-1, (n, k)
        return mm(u, mm(inner, vh) + mT(gv_s) - mm(mm(mT(gv_s), v), vh))
    return mm(u, mm(inner, vh))


_svd_u.defvjp(lambda g, ans, a: _svd_backward(a, g, None, None))
_svd_s.defvjp(lambda g, ans, a: _svd_backward(a, None, g, None))
_svd_vh.defvjp(lambda g, ans, a: _svd_backward(a, None, None, g))


SvdResult = namedtuple("svd", ["U", "S", "V"])
LinalgSvdResult = namedtuple("svd", ["U", "S", "Vh"])
QrResult = namedtuple("qr", ["Q", "R"])


def _recording(A) -> bool:
    from ..grad_mode import is_grad_enabled

    return is_grad_enabled() and A.requires_grad


def _svd_factors(op: str, A, full_matrices: bool):
    """(U, S, Vh): the differentiable thin factors, with ``full_matrices`` and m != n completed to square.

    The columns of U (rows of Vh) beyond k = min(m, n) are LAPACK's orthonormal completion, not a function
    of A: as at PyTorch (whose derivative narrows the cotangents to the first k), they are constants here,
    so a loss that reads them gets no gradient from them.
    """
    m, n = A.shape[-2:]
    u, s, vh = _svd_u(A), _svd_s(A), _svd_vh(A)
    if full_matrices and m != n:
        uf, _, vhf = A.xp.linalg.svd(A.array, full_matrices=True)
        k = min(m, n)
        if m > n:
            u = _shape.cat([u, Tensor._wrap(A.xp.ascontiguousarray(uf[..., :, k:]))], dim=-1)
        else:
            vh = _shape.cat([vh, Tensor._wrap(A.xp.ascontiguousarray(vhf[..., k:, :]))], dim=-2)
    return u, s, vh


def linalg_svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> LinalgSvdResult:
    """``torch.linalg.svd``: A = U diag(S) Vh, S descending; (m, m) and (n, n) factors with
    ``full_matrices``, else (m, k) and (k, n), k = min(m, n).

    Gradient: PyTorch's formula (see :func:`_svd_backward`) for the first k columns of U and rows of Vh;
    with ``full_matrices`` the rest are constants (PyTorch ignores their cotangents too). U and V are
    determined only up to the sign of each column (a gauge), so only losses invariant under it have a
    gradient that means something, and it is ill-defined (infinite or NaN) where two singular values
    coincide, or where one is zero for m != n, as PyTorch documents; ``svdvals`` is well defined there.
    """
    A = _matrices("linalg.svd", A)
    return LinalgSvdResult(*_svd_factors("linalg.svd", A, bool(full_matrices)))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SvdResult:
    """``torch.svd``: (U, S, V) with A = U diag(S) V^T (V, not V^T, as PyTorch's older function).

    ``some=False`` gives square U and V. With ``compute_uv=False`` U and V are zeros of shapes (m, m) and
    (n, n) (and only S has a gradient), as PyTorch. Gradients as :func:`linalg_svd`'s.
    """
    A = _matrices("svd", input)
    if not compute_uv:  # PyTorch's zeros are square whatever ``some`` says
        xp = A.xp
        m, n = A.shape[-2:]
        u = Tensor._wrap(xp.zeros(A.shape[:-2] + (m, m), dtype=A.dtype))
        v = Tensor._wrap(xp.zeros(A.shape[:-2] + (n, n), dtype=A.dtype))
        return SvdResult(u, _svd_s(A), v)
    u, s, vh = _svd_factors("svd", A, not some)
    return SvdResult(u, s, linalg._mT(vh))


def linalg_svdvals(A: Tensor, *, driver=None) -> Tensor:
    """``torch.linalg.svdvals``: the singular values, descending.

    Gradient U diag(gS) Vh, well defined also where singular values repeat (any choice of the singular
    vectors of a repeated value gives the same sum).
    """
    A = _matrices("linalg.svdvals", A)
    return _svd_s(A)


def _householder_qr(a, complete: bool):
    xp = backend.xp_of(a)
    m, n = a.shape[-2:]
    if m == 0 or n == 0:
        k = m if complete else min(m, n)
        batch = a.shape[:-2]
        return xp.broadcast_to(xp.eye(m, k, dtype=a.dtype), batch + (m, k)).copy(), xp.zeros(
            batch + (k, n), dtype=a.dtype
        )
    return xp.linalg.qr(a, mode="complete" if complete else "reduced")


@primitive(name="qr_q", saves=(0,))
def _qr_q(a, *, complete=False):
    """Q of A = Q R (reduced: (..., m, k); complete: (..., m, m))."""
    return _householder_qr(a, complete)[0]


@primitive(name="qr_r", saves=(0,))
def _qr_r(a, *, complete=False, r_only=False):
    """R of A = Q R (reduced: (..., k, n); complete: (..., m, n))."""
    return _householder_qr(a, complete)[1]


def _copyltu(x):
    """The symmetric matrix with x's lower triangle (the diagonal once)."""
    low = construct._tril(x, diagonal=-1)
    return low + linalg._mT(low) + construct._tril(x, diagonal=0) - low


def _qr_backward_square(q, r, gq, gr):
    """For A = Q R with m >= n (Q (m, n), R (n, n) invertible): M = R gR^T - gQ^T Q,
    gA = (gQ + Q copyltu(M)) R^-T (Walter and Lehmann; Seeger et al. 2017; PyTorch's)."""
    mT, mm = linalg._mT, linalg.matmul
    mat = mm(r, mT(gr)) - mm(mT(gq), q)
    b = gq + mm(q, _copyltu(mat))
    return mT(_solve(r, mT(b)))  # B R^-T = (R^-1 B^T)^T


def _qr_backward(a, gq, gr, complete):
    """The vjp of (Q, R), either cotangent None. For m < n, A = [X | Y] with X = Q U square and R = [U | V]:
    gX is the square formula with gQ + Y gV^T, gY = Q gV (PyTorch's)."""
    m, n = a.shape[-2:]
    if complete and m > n:
        from ..errors import GraphError

        raise GraphError(
            f"linalg.qr: the derivative of mode='complete' is not defined when nrows > ncols (shape "
            f"{tuple(a.shape)}): Q's last {m - n} columns are an arbitrary orthonormal completion"
        )
    q, r = _qr_q(a, complete=complete), _qr_r(a, complete=complete)
    xp = _xp(a)
    if gq is None:
        gq = xp.zeros(q.shape, dtype=a.dtype)
    if gr is None:
        gr = xp.zeros(r.shape, dtype=a.dtype)
    if m >= n:
        return _qr_backward_square(q, r, gq, gr)
    mT, mm = linalg._mT, linalg.matmul
    y = a[..., :, m:]
    u_part, gu, gv = r[..., :, :m], gr[..., :, :m], gr[..., :, m:]
    gx = _qr_backward_square(q, u_part, gq + mm(y, mT(gv)), gu)
    gy = mm(q, gv)
    return _shape.cat([gx, gy], dim=-1)


_qr_q.defvjp(lambda g, ans, a, complete=False: _qr_backward(a, g, None, complete))


def _qr_r_vjp(g, ans, a, complete=False, r_only=False):
    if r_only:
        from ..errors import GraphError

        raise GraphError(
            "linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when mode='r' (input "
            f"shape {tuple(a.shape)}); use linalg.qr(A, mode='reduced') to differentiate through linalg.qr"
        )
    return _qr_backward(a, None, g, complete)


_qr_r.defvjp(_qr_r_vjp)


def linalg_qr(A: Tensor, mode: str = "reduced") -> QrResult:
    """``torch.linalg.qr``: A = Q R with Q orthonormal columns and R upper triangular.

    ``mode`` "reduced" (k = min(m, n) columns), "complete" (square Q) or "r" (R only, Q empty). Signs as
    LAPACK gives them (PyTorch's). Gradient: for full-rank A (R's diagonal non-zero in its first k
    columns) PyTorch's formula, M = R gR^T - gQ^T Q, gA = (gQ + Q copyltu(M)) R^-T, with m < n by
    splitting A = [X | Y]; mode="complete" with m > n and mode="r" have none (backward raises), as PyTorch.
    """
    A = _matrices("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(
            f"linalg.qr: qr received unrecognized mode '{mode}' but expected one of 'reduced', 'complete', 'r'"
        )
    complete = mode == "complete"
    if mode == "r":
        return QrResult(Tensor._wrap(A.xp.zeros((0,), dtype=A.dtype)), _qr_r(A, r_only=True))
    return QrResult(_qr_q(A, complete=complete), _qr_r(A, complete=complete))


def qr(input: Tensor, some: bool = True) -> QrResult:
    """``torch.qr`` (deprecated there for linalg.qr): reduced with ``some=True``, else complete."""
    return linalg_qr(input, "reduced" if some else "complete")


def linalg_matrix_rank(A: Tensor, *, atol=None, rtol=None, hermitian: bool = False) -> Tensor:
    """``torch.linalg.matrix_rank``: the number of singular values above max(atol, rtol * largest), int64."""
    A = _matrices("linalg.matrix_rank", A)
    atol, rtol = _tolerances("linalg.matrix_rank", A, atol, rtol)
    s = A.xp.linalg.svd(A.array, compute_uv=False)
    return Tensor._wrap((s > _svd_cutoff(s, atol, rtol)).sum(axis=-1).astype(np.int64))


# --- least squares ------------------------------------------------------------------------------------------------

LstsqResult = namedtuple("lstsq", ["solution", "residuals", "rank", "singular_values"])
_DRIVERS = ("gelsy", "gelsd", "gelss", "gels")


def linalg_lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> LstsqResult:
    """``torch.linalg.lstsq``: X minimising ||A X - B|| (the minimum-norm one for rank-deficient A).

    ``B`` is (..., m, k), or (..., m) for vectors; batch dimensions broadcast. Singular values up to
    ``rcond`` times the largest (default eps * max(m, n)) count as zero. X is pinv(A) B, so the
    gradients are pinv's (constant rank) and the product's. The other fields follow the CPU driver, as
    PyTorch's: ``rank`` for gelsy (the default), gelsd and gelss; ``residuals`` (squared column norms
    of A X - B) for gelsd, gelss and gels when m > n and every A has full rank; ``singular_values``
    for gelsd and gelss. Empty tensors otherwise. Raises ArgumentError for another driver.
    """
    A = _matrices("linalg.lstsq", A)
    if driver is None:
        driver = "gelsy"
    if driver not in _DRIVERS:
        from ..errors import ArgumentError

        raise ArgumentError(f"linalg.lstsq: parameter `driver` should be one of {_DRIVERS}, got {driver!r}")
    if not isinstance(B, Tensor):
        raise DTypeError(f"linalg.lstsq: B must be a tensor, got {type(B).__name__}")
    if B.dtype != A.dtype:
        raise DTypeError(f"linalg.lstsq: expected A and B to have the same dtype, got {A.dtype} and {B.dtype}")
    if not 0 <= A.ndim - B.ndim <= 1:
        raise ShapeError(
            "linalg.lstsq: input.dim() must be greater or equal to other.dim() and (input.dim() - other.dim()) <= 1, "
            f"got shapes {tuple(A.shape)} and {tuple(B.shape)}"
        )
    vector = B.ndim == A.ndim - 1
    b = _shape.unsqueeze(B, -1) if vector else B
    m, n = A.shape[-2:]
    if b.ndim < 2 or b.shape[-2] != m:
        raise ShapeError(
            f"linalg.lstsq: input.size(-2) should match other.size(-2), got shapes {tuple(A.shape)} and "
            f"{tuple(B.shape)}"
        )
    xp = A.xp
    eps = float(np.finfo(A.dtype).eps)
    rtol = eps * max(m, n) if rcond is None or rcond < 0 else float(rcond)
    solution = linalg.matmul(_pinv(A, atol=0.0, rtol=rtol), b)
    s = xp.linalg.svd(A.array, compute_uv=False) if m and n else xp.zeros(A.shape[:-2] + (0,), dtype=A.dtype)
    ranks = (s > _svd_cutoff(s, 0.0, rtol)).sum(axis=-1).astype(np.int64)
    empty = Tensor._wrap(xp.zeros((0,), dtype=A.dtype))
    rank = Tensor._wrap(xp.zeros((0,), dtype=np.int64)) if driver == "gels" else Tensor._wrap(xp.asarray(ranks))
    values = Tensor._wrap(s) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and bool((ranks == n).all()):
        diff = linalg.matmul(A, solution) - b
        residuals = _reduction.sum(diff * diff, dim=-2)  # a vector B keeps its column, shape (..., 1), as PyTorch
    return LstsqResult(_shape.squeeze(solution, -1) if vector else solution, residuals, rank, values)

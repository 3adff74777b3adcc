"""LU factorisation and triangular solves (issue #16): ``linalg.lu_factor``, ``linalg.lu_factor_ex``,
``linalg.lu``, ``linalg.lu_solve``, ``linalg.solve_triangular``, ``linalg.inv_ex``, ``linalg.solve_ex``,
``linalg.multi_dot`` and the older ``torch.lu``, ``torch.lu_unpack``, ``torch.lu_solve``; and
``linalg.eigh`` / ``eigvalsh`` (primitives ``eigh_values`` / ``eigh_vectors``), ``linalg.matrix_norm``,
``linalg.eig`` / ``eigvals`` (complex results, the forward only: primitives ``eig_values`` /
``eig_vectors`` whose backward raises).

NumPy has no LU, so :func:`_getrf` is Gaussian elimination with partial pivoting written with ``xp``
(NumPy or CuPy): vectorised over the batch, a loop over the k = min(m, n) columns. At column j the row
with the largest |entry| at or below the diagonal (the first of equals, as LAPACK's idamax) is swapped
up, the entries below are divided by the pivot and the trailing block is updated,
A[j+1:, j+1:] -= l u^T. As LAPACK's getrf, a zero pivot is not divided by: the factorisation goes on
and ``info`` is the (1-based) index of the first zero on U's diagonal. Pivots are 1-based int32, as
PyTorch's (LAPACK's): row j was swapped with row pivots[j] - 1.

The one primitive is ``lu_factor`` (the packed L - I + U). Its gradient is PyTorch's (A = P L U):
for square A gA = P L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T, with gL and gU the strictly lower and
upper parts of the packed cotangent; a wide or tall A carries its extra block of U or L through one more
triangular solve (see :func:`_lu_factor_vjp`). ``linalg.lu``, ``lu_solve`` and ``solve_triangular`` are composed
of it, ``tril``/``triu`` and ``solve``, so they differentiate (twice) through those: the gradient of a
triangular solve lands on the triangle it reads, as PyTorch's.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, GraphError, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from . import construct, linalg
from . import shape as _shape
from .decomp import LinAlgError, _inv, _matrices, _solve

__all__ = ["lu", "lu_unpack", "lu_solve"]

LuFactorResult = namedtuple("linalg_lu_factor", ["LU", "pivots"])
LuFactorExResult = namedtuple("linalg_lu_factor_ex", ["LU", "pivots", "info"])
LuResult = namedtuple("linalg_lu", ["P", "L", "U"])
LuUnpackResult = namedtuple("lu_unpack", ["P", "L", "U"])
InvExResult = namedtuple("linalg_inv_ex", ["inverse", "info"])
SolveExResult = namedtuple("linalg_solve_ex", ["result", "info"])


def _xp(x):
    return x.xp if isinstance(x, Tensor) else backend.xp_of(x)


def _getrf(a, pivot: bool = True):
    """(LU, pivots, info) of a (..., m, n) array: partial pivoting, batched, a loop over columns."""
    xp = backend.xp_of(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    count = int(np.prod(batch, dtype=np.int64))
    lu = xp.array(a.reshape((count, m, n)), dtype=a.dtype, copy=True)
    rows = xp.arange(count)
    pivots = xp.empty((count, k), dtype=np.int32)
    info = xp.zeros((count,), dtype=np.int32)
    for j in range(k):
        if pivot:
            p = xp.argmax(xp.abs(lu[:, j:, j]), axis=-1) + j
            top = lu[rows, j].copy()
            lu[rows, j] = lu[rows, p]
            lu[rows, p] = top
        else:
            p = xp.full((count,), j)
        pivots[:, j] = (p + 1).astype(np.int32)
        d = lu[:, j, j]
        zero = d == 0
        info = xp.where((info == 0) & zero, j + 1, info).astype(np.int32)
        scale = xp.where(zero, 1.0, d)[:, None]
        lower = xp.where(zero[:, None], lu[:, j + 1 :, j], lu[:, j + 1 :, j] / scale)
        lu[:, j + 1 :, j] = lower
        lu[:, j + 1 :, j + 1 :] -= lower[:, :, None] * lu[:, j, None, j + 1 :]
    return lu.reshape(batch + (m, n)), pivots.reshape(batch + (k,)), info.reshape(batch)


def _permutation(pivots, m: int):
    """perm with A[perm] = L U, from 1-based pivots (..., k): the row swaps applied to 0..m-1 in order."""
    xp = backend.xp_of(pivots)
    batch = pivots.shape[:-1]
    count = int(np.prod(batch, dtype=np.int64))
    piv = pivots.reshape((count, pivots.shape[-1])).astype(np.int64) - 1
    perm = xp.broadcast_to(xp.arange(m), (count, m)).copy()
    rows = xp.arange(count)
    for j in range(piv.shape[-1]):
        p = piv[:, j]
        top = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top
    return perm.reshape(batch + (m,))


def _permutation_matrix(pivots, m: int, dtype):
    """P (..., m, m) with A = P L U: P[perm[i], i] = 1."""
    xp = backend.xp_of(pivots)
    perm = _permutation(pivots, m)
    return (perm[..., None, :] == xp.arange(m)[:, None]).astype(dtype)


@primitive(name="lu_factor", saves=(0,), saves_output=True)
def _lu_factor(a, *, pivot=True):
    """The packed factor L - I + U of P^T A = L U (partial pivoting), (..., m, n)."""
    return _getrf(a, pivot)[0]


def _square_lu_grad(low, up, g_low, g_up):
    """The cotangent of A' = L U (square, L unit lower): L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T."""
    mT, mm = linalg._mT, linalg.matmul
    inner = construct._tril(mm(mT(low), g_low), diagonal=-1) + construct._triu(mm(g_up, mT(up)), diagonal=0)
    left = _solve(mT(low), inner)  # L^-T inner
    return mT(_solve(up, mT(left)))  # (L^-T inner) U^-T


def _lu_factor_vjp(g, ans, a, pivot=True):
    """PyTorch's LU gradient, for square, wide and tall A (A' = P^T A = L U; gL, gU the strictly lower and
    upper parts of the packed cotangent).

    Square: gA' = L^-T [tril(L^T gL, -1) + triu(gU U^T)] U^-T. Wide (m < n), U = [U1 U2]: U2 = L^-1 A'2,
    so gA'2 = L^-T gU2 and L gets -L^-T gU2 U2^T more, then the square rule on (L, U1). Tall (m > n),
    L = [L1; L2]: L2 = A'2 U^-1, so gA'2 = gL2 U^-T and U gets -L2^T gA'2 more, then the square rule on
    (L1, U). Then gA = P gA'.
    """
    m, n = a.shape[-2:]
    mT, mm, get = linalg._mT, linalg.matmul, _shape.getitem
    raw = a.array if isinstance(a, Tensor) else a
    xp = _xp(a)
    p = _permutation_matrix(_getrf(raw, pivot)[1], m, raw.dtype)
    tril, triu = construct._tril, construct._triu
    cols = (Ellipsis, slice(None), slice(None, m))
    if m <= n:
        low = tril(get(ans, cols), diagonal=-1) + xp.eye(m, dtype=raw.dtype)
        up, g_up = triu(ans, diagonal=0), triu(g, diagonal=0)
        g_low = tril(get(g, cols), diagonal=-1)
        if m == n:
            return mm(p, _square_lu_grad(low, up, g_low, g_up))
        rest = (Ellipsis, slice(None), slice(m, None))
        g_a2 = _solve(mT(low), get(g_up, rest))  # L^-T gU2
        g_low = g_low - tril(mm(g_a2, mT(get(up, rest))), diagonal=-1)
        g_a1 = _square_lu_grad(low, get(up, cols), g_low, get(g_up, cols))
        return mm(p, _shape.concatenate([g_a1, g_a2], axis=-1))
    top, bottom = (Ellipsis, slice(None, n), slice(None)), (Ellipsis, slice(n, None), slice(None))
    low = tril(ans, diagonal=-1) + xp.eye(m, n, dtype=raw.dtype)
    up = triu(get(ans, top), diagonal=0)
    g_low, g_up = tril(g, diagonal=-1), triu(get(g, top), diagonal=0)
    g_a2 = mT(_solve(up, mT(get(g_low, bottom))))  # gL2 U^-T
    g_up = g_up - triu(mm(mT(get(low, bottom)), g_a2), diagonal=0)
    g_a1 = _square_lu_grad(get(low, top), up, get(g_low, top), g_up)
    return mm(p, _shape.concatenate([g_a1, g_a2], axis=-2))


_lu_factor.defvjp(_lu_factor_vjp)


def _square(op: str, A) -> Tensor:
    A = _matrices(op, A)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(
            f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} matrices "
            f"(shape {tuple(A.shape)})"
        )
    return A


def _check_info(op: str, info) -> None:
    bad = np.asarray(info.get() if hasattr(info, "get") else info)  # CuPy's .get() to the host
    if (bad > 0).any():
        first = np.argwhere(bad > 0)[0]
        where = f"(Batch element {int(np.ravel_multi_index(first, bad.shape))}): " if bad.ndim else ""
        i = int(bad[tuple(first)])
        raise LinAlgError(
            f"{op}: {where}U[{i},{i}] is zero and using it on lu_solve would result in a division by zero. If you "
            "still want to perform the factorization, consider calling linalg.lu(A, pivot) or "
            "linalg.lu_factor_ex(A, pivot)"
        )


def _factor(op: str, A, pivot: bool):
    A = _matrices(op, A)
    lu_t = _lu_factor(A, pivot=bool(pivot))
    _, piv, info = _getrf(A.array, bool(pivot))
    return lu_t, Tensor._wrap(piv), Tensor._wrap(info)


def linalg_lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> LuFactorExResult:
    """``torch.linalg.lu_factor_ex``: (LU, pivots, info), info (int32, the batch shape) 0 or the 1-based
    index of U's first zero diagonal entry; ``check_errors=True`` raises LinAlgError where it is not 0."""
    lu_t, piv, info = _factor("linalg.lu_factor_ex", A, pivot)
    if check_errors:
        _check_info("linalg.lu_factor_ex", info.array)
    return LuFactorExResult(lu_t, piv, info)


def linalg_lu_factor(A: Tensor, *, pivot: bool = True) -> LuFactorResult:
    """``torch.linalg.lu_factor``: the packed LU (L - I + U, L unit lower (m, k), U upper (k, n)) of
    P^T A = L U, with 1-based int32 pivots (..., k); raises LinAlgError where U has a zero on its diagonal
    (use ``lu_factor_ex`` to get ``info`` instead). Gradient for square A (PyTorch's formula)."""
    lu_t, piv, info = _factor("linalg.lu_factor", A, pivot)
    _check_info("linalg.lu_factor", info.array)
    return LuFactorResult(lu_t, piv)


def _unpack(LU, pivots, unpack_data=True, unpack_pivots=True):
    m, n = LU.shape[-2:]
    k = min(m, n)
    xp = LU.xp
    empty = Tensor._wrap(xp.zeros((0,), dtype=LU.dtype))
    if unpack_data:
        low = construct._tril(LU[..., :, :k], diagonal=-1) + xp.eye(m, k, dtype=LU.dtype)
        up = construct._triu(LU[..., :k, :], diagonal=0)
    else:
        low = up = empty
    if unpack_pivots:
        piv = pivots.array if isinstance(pivots, Tensor) else pivots
        p = Tensor._wrap(_permutation_matrix(piv, m, LU.dtype))
    else:
        p = empty
    return p, low, up


def linalg_lu(A: Tensor, *, pivot: bool = True) -> LuResult:
    """``torch.linalg.lu``: (P, L, U) with A = P L U, P a permutation (m, m), L unit lower (m, k), U upper
    (k, n). Singular matrices factor too (U has a zero on its diagonal). Gradient for square A through
    ``lu_factor``'s."""
    lu_t, piv, _ = _factor("linalg.lu", A, pivot)
    return LuResult(*_unpack(lu_t, piv))


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> LuUnpackResult:
    """``torch.lu_unpack``: (P, L, U) from a packed LU and its pivots; what is not unpacked is an empty
    tensor, as PyTorch."""
    LU_data = _matrices("lu_unpack", LU_data)
    if not isinstance(LU_pivots, Tensor) or LU_pivots.dtype != np.int32:
        raise DTypeError("lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype")
    k = min(LU_data.shape[-2:])
    if tuple(LU_pivots.shape) != tuple(LU_data.shape[:-2]) + (k,):
        raise ShapeError(
            f"lu_unpack: the pivots' shape {tuple(LU_pivots.shape)} does not go with the LU of shape "
            f"{tuple(LU_data.shape)} (expected {tuple(LU_data.shape[:-2]) + (k,)})"
        )
    return LuUnpackResult(*_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots))


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False):
    """``torch.lu`` (deprecated there for ``linalg.lu_factor``): a plain tuple (A_LU, pivots), or with
    ``get_infos`` (A_LU, pivots, infos); without it a zero pivot raises LinAlgError, as PyTorch."""
    lu_t, piv, info = _factor("torch.lu", A, pivot)
    if get_infos:
        return lu_t, piv, info
    _check_info("torch.lu", info.array)
    return lu_t, piv


def linalg_lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False) -> Tensor:
    """``torch.linalg.lu_solve``: X with A X = B (``left``) or X A = B, with A^T for ``adjoint``, from
    A = P L U given as (LU, pivots). Batch dimensions broadcast. X = U^-1 L^-1 P^T B, composed of
    triangular solves, so it differentiates in B and in LU (its triangles)."""
    op = "linalg.lu_solve"
    LU = _square(op, LU)
    if not isinstance(B, Tensor):
        raise DTypeError(f"{op}: B must be a tensor, got {type(B).__name__}")
    if B.ndim < 2:
        raise ShapeError(f"{op}: B must have at least 2 dimensions, got shape {tuple(B.shape)}")
    n = LU.shape[-1]
    if (left and B.shape[-2] != n) or (not left and B.shape[-1] != n):
        eq = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"{op}: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"
        )
    if not isinstance(pivots, Tensor) or pivots.dtype != np.int32 or tuple(pivots.shape) != tuple(LU.shape[:-1]):
        raise ShapeError(
            f"{op}: pivots must be an int32 tensor of shape {tuple(LU.shape[:-1])}, got "
            f"{tuple(pivots.shape) if isinstance(pivots, Tensor) else type(pivots).__name__}"
        )
    try:
        np.broadcast_shapes(LU.shape[:-2], B.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"{op}: the batch dimensions of LU {tuple(LU.shape)} and B {tuple(B.shape)} do not broadcast"
        ) from None
    xp = LU.xp
    diag = xp.diagonal(LU.array, axis1=-2, axis2=-1)
    if bool((diag == 0).any()):
        raise LinAlgError(f"{op}: U has a zero on its diagonal (LU shape {tuple(LU.shape)}): A is singular")
    p, low, up = _unpack(LU, pivots)
    mT, mm = linalg._mT, linalg.matmul
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return mT(linalg_lu_solve(LU, pivots, mT(B), left=True, adjoint=not adjoint))
    if adjoint:  # A^T X = B: U^T L^T P^T X = B
        return mm(p, _solve(mT(low), _solve(mT(up), B)))
    return _solve(up, _solve(low, mm(mT(p), B)))


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """``torch.lu_solve`` (deprecated there): ``linalg.lu_solve(LU_data, LU_pivots, b)``."""
    return linalg_lu_solve(LU_data, LU_pivots, b)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """``torch.linalg.solve_triangular``: X with T X = B (``left``) or X T = B, T the upper (``upper``) or
    lower triangle of A, with ones for its diagonal when ``unitriangular``; the other entries of A are not
    read, and get no gradient. Batch dimensions broadcast. ``upper`` is keyword-only and required, as
    PyTorch's."""
    op = "linalg.solve_triangular"
    A = _square(op, A)
    if not isinstance(B, Tensor):
        raise DTypeError(f"{op}: B must be a tensor, got {type(B).__name__}")
    n = A.shape[-1]
    if B.ndim < 2 or (left and B.shape[-2] != n) or (not left and B.shape[-1] != n):
        eq = "AX = B" if left else "XA = B"
        raise ShapeError(
            f"{op}: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and "
            f"{'x'.join(map(str, B.shape[-2:]))}, shapes {tuple(A.shape)} and {tuple(B.shape)})"
        )
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise ShapeError(
            f"{op}: the batch dimensions of A {tuple(A.shape)} and B {tuple(B.shape)} do not broadcast"
        ) from None
    xp = A.xp
    if unitriangular:
        tri = construct._triu(A, diagonal=1) if upper else construct._tril(A, diagonal=-1)
        tri = tri + xp.eye(n, dtype=A.dtype)
    else:
        tri = construct._triu(A, diagonal=0) if upper else construct._tril(A, diagonal=0)
        if bool((xp.diagonal(A.array, axis1=-2, axis2=-1) == 0).any()):
            raise LinAlgError(f"{op}: A (shape {tuple(A.shape)}) has a zero on its diagonal: it is singular")
    mT = linalg._mT
    if left:
        return _solve(tri, B)
    return mT(_solve(mT(tri), mT(B)))


def linalg_inv_ex(A: Tensor, *, check_errors: bool = False) -> InvExResult:
    """``torch.linalg.inv_ex``: (inverse, info), info (int32, the batch shape) 0 for an invertible matrix,
    else the 1-based index of the first zero pivot of its LU, as LAPACK's getrf; the inverse of such a
    matrix is not meaningful (here: NaN). ``check_errors`` raises LinAlgError instead."""
    A = _square("linalg.inv_ex", A)
    info = Tensor._wrap(_getrf(A.array)[2])
    if check_errors and bool((info.array > 0).any()):
        raise LinAlgError(f"linalg.inv_ex: the matrix of shape {tuple(A.shape)} is singular (info {info.tolist()})")
    bad = info.array > 0
    if not bool(bad.any()):
        return InvExResult(_inv(A), info)
    xp = A.xp  # the invertible ones' inverses (no gradient through a batch with a singular matrix), NaN elsewhere
    safe = xp.where(bad[..., None, None], xp.eye(A.shape[-1], dtype=A.dtype), A.array)
    out = xp.where(bad[..., None, None], xp.nan, xp.linalg.inv(safe)).astype(A.dtype)
    return InvExResult(Tensor._wrap(out), info)


def linalg_solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> SolveExResult:
    """``torch.linalg.solve_ex``: (result, info) with ``info`` as :func:`linalg_inv_ex`'s; where a matrix is
    singular its result is NaN here (PyTorch's is not meaningful either). ``check_errors`` raises."""
    from .decomp import solve

    A = _square("linalg.solve_ex", A)
    info = Tensor._wrap(_getrf(A.array)[2])
    if bool((info.array > 0).any()):
        if check_errors:
            raise LinAlgError(
                f"linalg.solve_ex: the matrix A of shape {tuple(A.shape)} is singular (info {info.tolist()})"
            )
        bad = info.array > 0  # as inv_ex: the others' solutions, without gradient, and NaN for the singular ones
        safe = Tensor._wrap(A.xp.where(bad[..., None, None], A.xp.eye(A.shape[-1], dtype=A.dtype), A.array))
        out = solve(safe, B.detach(), left=left).array
        shape = (1,) * (out.ndim - bad.ndim - 2) + bad.shape + (1, 1)
        return SolveExResult(Tensor._wrap(A.xp.where(bad.reshape(shape), A.xp.nan, out).astype(out.dtype)), info)
    return SolveExResult(solve(A, B, left=left), info)


def multi_dot(tensors) -> Tensor:
    """``torch.linalg.multi_dot``: the product of a list of matrices, in the order of fewest
    multiplications (the matrix-chain dynamic programme). The first may be a vector (a row, 1-D result
    dimension dropped) and the last a vector (a column); the others 2-D, as PyTorch."""
    op = "linalg.multi_dot"
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ArgumentError(f"{op}(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise DTypeError(f"{op}(): tensor {i} is a {type(t).__name__}, not a tensor")
        allowed = (1, 2) if i in (0, len(tensors) - 1) else (2,)
        if t.ndim not in allowed:
            which = "the first tensor" if i == 0 else "the last tensor" if i == len(tensors) - 1 else f"tensor {i}"
            need = " or ".join(f"{d}D" for d in allowed)
            raise ShapeError(f"{op}(): {which} must be {need} but got {t.ndim}D")
    first_vec, last_vec = tensors[0].ndim == 1, tensors[-1].ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = _shape.unsqueeze(mats[0], 0)
    if last_vec:
        mats[-1] = _shape.unsqueeze(mats[-1], -1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise ShapeError(
                f"{op}(): tensors {i} and {i + 1} with shapes {tuple(tensors[i].shape)} and "
                f"{tuple(tensors[i + 1].shape)} cannot be multiplied"
            )
    dims = [mats[0].shape[0]] + [t.shape[1] for t in mats]
    count = len(mats)
    cost = [[0] * count for _ in range(count)]
    split = [[0] * count for _ in range(count)]
    for length in range(1, count):
        for i in range(count - length):
            j = i + length
            cost[i][j] = None
            for s in range(i, j):
                c = cost[i][s] + cost[s + 1][j] + dims[i] * dims[s + 1] * dims[j + 1]
                if cost[i][j] is None or c < cost[i][j]:
                    cost[i][j], split[i][j] = c, s

    def chain(i, j):
        if i == j:
            return mats[i]
        s = split[i][j]
        return linalg.matmul(chain(i, s), chain(s + 1, j))

    out = chain(0, count - 1)
    if first_vec:
        out = _shape.squeeze(out, 0)
    if last_vec:
        out = _shape.squeeze(out, -1)
    return out


# --- symmetric eigendecomposition and matrix norms ----------------------------------------------------------------

EighResult = namedtuple("linalg_eigh", ["eigenvalues", "eigenvectors"])


def _uplo(op: str, UPLO) -> str:
    if UPLO not in ("L", "U"):
        raise ArgumentError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {UPLO!r}")
    return UPLO


@primitive(name="eigh_values", saves=(0,))
def _eigh_values(a, *, UPLO="L"):
    """The eigenvalues, ascending, of the symmetric matrix given by a's ``UPLO`` triangle."""
    return backend.xp_of(a).linalg.eigh(a, UPLO=UPLO)[0]


@primitive(name="eigh_vectors", saves=(0,))
def _eigh_vectors(a, *, UPLO="L"):
    """The orthonormal eigenvectors (columns), in the eigenvalues' order."""
    return backend.xp_of(a).linalg.eigh(a, UPLO=UPLO)[1]


def _eigh_backward(a, gw, gv, UPLO):
    """PyTorch's: gA = V [diag(gw) + sym(V^T gV) / E] V^T, E_ij = w_j - w_i (1 on the diagonal), the
    skew part of V^T gV (the tangent of the orthogonal group) over E. A symmetric gradient, as A is taken
    symmetric; ill-defined (1 / (w_j - w_i)) where eigenvalues repeat, for the vectors."""
    mT, mm = linalg._mT, linalg.matmul
    v = _eigh_vectors(a, UPLO=UPLO)
    xp = _xp(a)
    n = a.shape[-1]
    eye = xp.eye(n, dtype=a.dtype)
    if gv is not None:
        w = _eigh_values(a, UPLO=UPLO)
        e = _shape.unsqueeze(w, -2) - _shape.unsqueeze(w, -1) + eye
        x = mm(mT(v), gv)
        inner = (x - mT(x)) * 0.5 / e
    else:
        inner = _shape.unsqueeze(gw, -1) * eye
    return mm(v, mm(inner, mT(v)))


_eigh_values.defvjp(lambda g, ans, a, UPLO="L": _eigh_backward(a, g, None, UPLO))
_eigh_vectors.defvjp(lambda g, ans, a, UPLO="L": _eigh_backward(a, None, g, UPLO))


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """``torch.linalg.eigh``: (eigenvalues ascending, eigenvectors as columns) of the symmetric matrix
    read from A's lower (``UPLO='L'``) or upper triangle. Each eigenvector is fixed up to its sign, so
    only sign-invariant losses of them have a meaningful gradient, ill-defined where eigenvalues repeat
    (as PyTorch documents); the eigenvalues' gradient V diag(gw) V^T is always defined."""
    A = _square("linalg.eigh", A)
    UPLO = _uplo("linalg.eigh", UPLO)
    return EighResult(_eigh_values(A, UPLO=UPLO), _eigh_vectors(A, UPLO=UPLO))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """``torch.linalg.eigvalsh``: the eigenvalues (ascending) of ``eigh``, gradient V diag(gw) V^T."""
    A = _square("linalg.eigvalsh", A)
    return _eigh_values(A, UPLO=_uplo("linalg.eigvalsh", UPLO))


EigResult = namedtuple("linalg_eig", ["eigenvalues", "eigenvectors"])


def _complex_of(dtype):
    """PyTorch's result dtype of eig: complex64 for float32 (and smaller), complex128 for float64."""
    return np.complex128 if np.dtype(dtype) == np.float64 else np.complex64


def _geev(a):
    """(eigenvalues, unit eigenvectors) of a batch of general matrices, always complex (NumPy returns real
    arrays when every eigenvalue happens to be real; PyTorch's eig is complex for every real input)."""
    xp = backend.xp_of(a)
    if not backend.is_host_array(a):
        raise DTypeError("linalg.eig: CuPy has no general (non-symmetric) eigensolver; move the tensor to the CPU")
    w, v = xp.linalg.eig(a)
    dt = _complex_of(a.dtype)
    return w.astype(dt), v.astype(dt)


def _refuse_eig_backward(op):
    def vjp(g, ans, a):
        raise GraphError(
            f"{op}: no gradient: minigrad differentiates real functions, and the eigen-decomposition of a general "
            "matrix is complex; for a symmetric matrix use linalg.eigh / eigvalsh, which have gradients"
        )

    return vjp


@primitive(name="eig_values")
def _eig_values(a):
    return _geev(a)[0]


@primitive(name="eig_vectors")
def _eig_vectors(a):
    return _geev(a)[1]


_eig_values.defvjp(_refuse_eig_backward("linalg.eig"))
_eig_vectors.defvjp(_refuse_eig_backward("linalg.eig"))


def _general_square(op: str, A) -> Tensor:
    A = _matrices(op, A)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"{op}: A must be batches of square matrices, but they are {A.shape[-2]} by {A.shape[-1]} "
                         "matrices")  # fmt: skip
    return A


def eig(A: Tensor, *, out=None):
    """Eigenvalues and eigenvectors of general square matrices, ``torch.linalg.eig``: (eigenvalues (..., n),
    eigenvectors (..., n, n)) with A V = V diag(L), complex (complex64 for float32 input, complex128 for
    float64), each eigenvector of unit norm with its largest component real (LAPACK's geev, as PyTorch).

    The forward only: the backward raises GraphError (the decomposition is complex and minigrad's
    differentiation real; ``linalg.eigh`` has gradients for symmetric matrices). CPU only.
    """
    if out is not None:
        raise ArgumentError("linalg.eig: out= is not supported")
    A = _general_square("linalg.eig", A)
    return EigResult(_eig_values(A), _eig_vectors(A))


def eigvals(A: Tensor, *, out=None):
    """The eigenvalues of general square matrices, ``torch.linalg.eigvals``: complex, as :func:`eig`'s
    (the forward only; the backward raises GraphError)."""
    if out is not None:
        raise ArgumentError("linalg.eigvals: out= is not supported")
    return _eig_values(_general_square("linalg.eigvals", A))


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """``torch.linalg.matrix_norm``: over the two dimensions ``dim`` (rows, columns):
    'fro' sqrt(sum a^2), 'nuc' the sum of singular values, 2 / -2 the largest / smallest singular value,
    1 / -1 the max / min over columns of sum_i |a_ij|, inf / -inf the max / min over rows of sum_j |a_ij|.
    Gradients through svdvals, abs, sum and amax/amin (kinked where those are)."""
    import minigrad as _mg

    op = "linalg.matrix_norm"
    A = _matrices(op, A)
    if dtype is not None:
        A = A.to(dtype)
    if ord not in ("fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")):
        raise ArgumentError(f"{op}: Order {ord} not supported.")
    dim = tuple(int(d) for d in dim)
    if len(dim) != 2 or dim[0] % A.ndim == dim[1] % A.ndim:
        raise ArgumentError(f"{op}: dim must be a 2-tuple of different dimensions, got {dim}")
    r, c = (d % A.ndim for d in dim)
    x = _mg.movedim(A, (r, c), (-2, -1))
    if ord == "fro":
        out = _mg.sqrt(_mg.sum(x * x, dim=(-2, -1)))
    elif ord in ("nuc", 2, -2):
        s = _svd_values(x)
        out = _mg.sum(s, dim=-1) if ord == "nuc" else (_mg.amax(s, dim=-1) if ord == 2 else _mg.amin(s, dim=-1))
    else:
        reduce = _mg.amax if ord > 0 else _mg.amin
        sums = _mg.sum(_mg.abs(x), dim=-2 if abs(ord) == 1 else -1)
        out = reduce(sums, dim=-1)
    if keepdim:
        for d in sorted((r, c)):
            out = _shape.unsqueeze(out, d)
    return out


def _svd_values(x):
    from .decomp import _svd_s

    return _svd_s(x)


CholeskyExResult = namedtuple("linalg_cholesky_ex", ["L", "info"])


def linalg_cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> CholeskyExResult:
    """``torch.linalg.cholesky_ex``: (L, info), info (int32, the batch shape) 0 where A is positive-definite,
    else the order k of its first leading minor that is not (LAPACK potrf's). L is ``linalg.cholesky``'s
    (with its gradient) when every matrix factors; otherwise the factors of those that do, without
    gradient, and NaN for the others (PyTorch's partial factor there is not meaningful either).
    ``check_errors`` raises LinAlgError instead."""
    from .decomp import linalg_cholesky

    op = "linalg.cholesky_ex"
    A = _square(op, A)
    xp = A.xp
    n = A.shape[-1]
    count = int(np.prod(A.shape[:-2], dtype=np.int64))
    flat = A.array.reshape((count, n, n))
    try:
        xp.linalg.cholesky(flat)
        return CholeskyExResult(linalg_cholesky(A, upper=upper), Tensor._wrap(xp.zeros(A.shape[:-2], dtype=np.int32)))
    except np.linalg.LinAlgError:
        pass
    info = np.zeros((count,), dtype=np.int32)
    out = xp.full((count, n, n), xp.nan, dtype=A.dtype)
    for i in range(count):
        try:
            out[i] = xp.linalg.cholesky(flat[i])
        except np.linalg.LinAlgError:
            for k in range(1, n + 1):
                try:
                    xp.linalg.cholesky(flat[i, :k, :k])
                except np.linalg.LinAlgError:
                    info[i] = k
                    break
    info = info.reshape(A.shape[:-2])
    if check_errors:
        first = np.argwhere(info > 0)[0]
        where = f"(Batch element {int(np.ravel_multi_index(first, info.shape))}): " if info.ndim else ""
        raise LinAlgError(
            f"{op}: {where}The factorization could not be completed because the input is not positive-definite "
            f"(the leading minor of order {int(info[tuple(first)])} is not positive-definite)."
        )
    if upper:
        out = xp.swapaxes(out, -1, -2)
    return CholeskyExResult(Tensor._wrap(xp.ascontiguousarray(out).reshape(A.shape)), Tensor._wrap(xp.asarray(info)))

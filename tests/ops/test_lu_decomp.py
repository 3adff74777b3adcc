"""The LU family and triangular solves (minigrad.ops.lu_decomp).

lu_factor, eigh_values and eigh_vectors are op-table records (optable.py); here eigh's gradients and
UPLO, matrix_norm's orders and the composites (linalg.lu, lu_unpack, lu_solve in its
four forms, solve_triangular, inv_ex, solve_ex, multi_dot, torch.lu and the Tensor methods) against NumPy
with gradcheck and second order, and the errors.
"""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import arrays, check_second_order, values, with_device

import minigrad


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


def _np(t):
    return t.to("cpu").numpy()


@st.composite
def _square(draw, batch=None, permute=True):
    batch = draw(st.sampled_from([(), (2,)])) if batch is None else batch
    n = draw(st.integers(1, 3))
    a = draw(arrays(batch + (n, n), values(-0.4, 0.4))) / n + 2.0 * np.eye(n)
    return a[..., draw(st.permutations(range(n))), :] if permute else a


def test_lu_factor_known_pivots_and_reconstruction(device):
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    LU, piv = minigrad.linalg.lu_factor(_t(a, device))
    np.testing.assert_allclose(_np(LU), [[3.0, 4.0], [1 / 3, 2 / 3]], rtol=1e-14)
    assert piv.dtype == np.int32 and piv.tolist() == [2, 2]  # 1-based, as LAPACK's
    rng = np.random.default_rng(0)
    for shape in [(2, 4, 4), (3, 5), (5, 3), (0, 2, 2), (2, 0, 3)]:
        b = rng.standard_normal(shape)
        P, L, U = minigrad.linalg.lu(_t(b, device))
        k = min(shape[-2:])
        assert P.shape == shape[:-2] + (shape[-2],) * 2 and L.shape[-1] == k and U.shape[-2] == k
        np.testing.assert_allclose(_np(P) @ _np(L) @ _np(U), b, atol=1e-14)
        np.testing.assert_allclose(np.triu(_np(L), 1), 0.0)
        np.testing.assert_allclose(np.tril(_np(U), -1), 0.0)
        assert (np.abs(_np(L)) <= 1.0 + 1e-15).all()  # partial pivoting keeps |l| <= 1
        LU, piv = minigrad.linalg.lu_factor(_t(b, device))
        P2, L2, U2 = minigrad.lu_unpack(LU, piv)
        for x, y in ((P, P2), (L, L2), (U, U2)):
            np.testing.assert_array_equal(_np(x), _np(y))
    LU, piv = minigrad.linalg.lu_factor(_t(rng.standard_normal((2, 3, 3)), device))
    P, L, U = minigrad.lu_unpack(LU, piv, unpack_data=False)
    assert L.shape == (0,) and U.shape == (0,) and P.shape == (2, 3, 3)
    assert minigrad.lu_unpack(LU, piv, unpack_pivots=False).P.shape == (0,)


def test_singular_matrices_info_and_check_errors():
    z = _t(np.zeros((2, 2)))
    LU, piv, info = minigrad.linalg.lu_factor_ex(z)
    assert info.dtype == np.int32 and info.item() == 1 and piv.tolist() == [1, 2] and not LU.numpy().any()
    with pytest.raises(minigrad.linalg.LinAlgError, match=r"linalg.lu_factor: U\[1,1\] is zero"):
        minigrad.linalg.lu_factor(z)
    with pytest.raises(minigrad.linalg.LinAlgError, match="linalg.lu_factor_ex"):
        minigrad.linalg.lu_factor_ex(z, check_errors=True)
    rank1 = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 1.0]]])
    assert minigrad.linalg.lu_factor_ex(_t(rank1)).info.tolist() == [2, 0]
    assert minigrad.lu(_t(rank1), get_infos=True)[2].tolist() == [2, 0]
    with pytest.raises(minigrad.linalg.LinAlgError, match=r"torch.lu: \(Batch element 0\): U\[2,2\] is zero"):
        minigrad.lu(_t(rank1))
    P, L, U = minigrad.linalg.lu(_t(rank1))  # linalg.lu factors singular matrices too
    np.testing.assert_allclose(_np(P) @ _np(L) @ _np(U), rank1, atol=1e-15)
    inv, info = minigrad.linalg.inv_ex(_t(rank1))
    assert info.tolist() == [2, 0] and np.isnan(inv.numpy()[0]).all()
    np.testing.assert_allclose(inv.numpy()[1], np.linalg.inv(rank1[1]))
    res, info = minigrad.linalg.solve_ex(_t(rank1), _t(np.ones((2, 2, 1))))
    assert info.tolist() == [2, 0] and np.isnan(res.numpy()[0]).all()
    np.testing.assert_allclose(res.numpy()[1], np.linalg.solve(rank1[1], np.ones((2, 1))))
    with pytest.raises(minigrad.linalg.LinAlgError, match="linalg.inv_ex: the matrix of shape"):
        minigrad.linalg.inv_ex(_t(rank1), check_errors=True)
    with pytest.raises(minigrad.linalg.LinAlgError, match="linalg.solve_ex: the matrix A"):
        minigrad.linalg.solve_ex(_t(rank1), _t(np.ones((2, 1))), check_errors=True)
    LU, piv, _ = minigrad.linalg.lu_factor_ex(_t(rank1))
    with pytest.raises(minigrad.linalg.LinAlgError, match=r"linalg.lu_solve: U has a zero on its diagonal \(LU shape"):
        minigrad.linalg.lu_solve(LU, piv, _t(np.ones((2, 2, 1))))


@with_device
@given(a=_square(), data=st.data(), left=st.booleans(), adjoint=st.booleans())
def test_lu_solve_all_forms_and_gradients(a, data, left, adjoint, device):
    n = a.shape[-1]
    b = data.draw(arrays((n, 2) if left else (2, n)))
    A = np.swapaxes(a, -1, -2) if adjoint else a
    want = np.linalg.solve(A, b) if left else np.swapaxes(np.linalg.solve(np.swapaxes(A, -1, -2), b.T), -1, -2)

    def f(x, y):
        LU, piv = minigrad.linalg.lu_factor(x)
        return minigrad.linalg.lu_solve(LU, piv, y, left=left, adjoint=adjoint)

    np.testing.assert_allclose(_np(f(_t(a, device), _t(b, device))), want, rtol=1e-9, atol=1e-12)
    check_gradients(f, a, b, device=device)
    if left and not adjoint:  # the older spellings: torch.lu_solve(b, LU, pivots) and b.lu_solve(LU, pivots)
        LU, piv = minigrad.lu(_t(a, device))
        bb = _t(np.broadcast_to(b, a.shape[:-2] + b.shape).copy(), device)
        np.testing.assert_allclose(_np(minigrad.lu_solve(bb, LU, piv)), want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_np(bb.lu_solve(LU, piv)), want, rtol=1e-9, atol=1e-12)


def test_lu_gradients_second_order_and_errors():
    a = np.array([[0.5, 2.0, 0.1], [2.5, 0.3, 0.2], [0.1, 0.4, 1.9]])
    check_gradients(lambda x: minigrad.linalg.lu(x).L * 2.0 + minigrad.linalg.lu(x).U, a)
    check_second_order(lambda x: minigrad.linalg.lu_factor(x).LU, a)
    b = np.array([[1.0, 0.5], [0.2, -1.0], [0.3, 0.7]])
    check_second_order(lambda x, y: minigrad.linalg.lu_solve(*minigrad.linalg.lu_factor(x), y), a, b)
    wide = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
    for rect in (wide, wide.T):  # PyTorch's wide and tall LU gradients
        check_gradients(lambda x: minigrad.concatenate([2.0 * minigrad.linalg.lu(x).L.reshape(-1),
                                                        minigrad.linalg.lu(x).U.reshape(-1)]), rect)  # fmt: skip
        check_second_order(lambda x: minigrad.linalg.lu_factor(x).LU, rect)
    with pytest.raises(minigrad.ShapeError, match="Expected tensor with 2 or more dimensions. Got size: \\[2\\]"):
        minigrad.linalg.lu_factor(_t([1.0, 2.0]))
    LU, piv = minigrad.linalg.lu_factor(_t(a))
    with pytest.raises(
        minigrad.ShapeError, match=r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x1\)"
    ):
        minigrad.linalg.lu_solve(LU, piv, _t(np.ones((2, 1))))
    with pytest.raises(minigrad.ShapeError, match="batch dimensions of LU .* do not broadcast"):
        LU2, piv2 = minigrad.linalg.lu_factor(_t(np.stack([a, a])))
        minigrad.linalg.lu_solve(LU2, piv2, _t(np.ones((3, 3, 1))))
    with pytest.raises(minigrad.ShapeError, match="linalg.lu_solve: A must be batches of square matrices"):
        minigrad.linalg.lu_solve(_t(np.ones((2, 3))), piv, _t(np.ones((2, 1))))
    with pytest.raises(minigrad.DTypeError, match="lu_unpack: LU_pivots is expected to be"):
        minigrad.lu_unpack(LU, piv.to(minigrad.int64))


@with_device
@given(a=_square(permute=False), data=st.data(), upper=st.booleans(), left=st.booleans(), unit=st.booleans())
def test_solve_triangular(a, data, upper, left, unit, device):
    n = a.shape[-1]
    core = (n, 2) if left else (2, n)
    b = data.draw(arrays(((3, 1) if a.ndim == 3 else ()) + core))  # a batch of 2 against (3, 1): (3, 2)
    t = np.triu(a) if upper else np.tril(a)
    if unit:
        t = t - t * np.eye(n) + np.eye(n)  # ones on the diagonal
    A = np.broadcast_to(t, np.broadcast_shapes(t.shape[:-2], b.shape[:-2]) + (n, n))
    bb = np.broadcast_to(b, A.shape[:-2] + core)
    mT = lambda x: np.swapaxes(x, -1, -2)  # noqa: E731
    want = np.linalg.solve(A, bb) if left else mT(np.linalg.solve(mT(A), mT(bb)))
    fn = lambda x, y: minigrad.linalg.solve_triangular(x, y, upper=upper, left=left, unitriangular=unit)  # noqa: E731
    np.testing.assert_allclose(_np(fn(_t(a, device), _t(b, device))), want, rtol=1e-9, atol=1e-12)
    check_gradients(fn, a, b, device=device)
    x = _t(a, device, requires_grad=True)
    fn(x, _t(b, device)).sum().backward()
    unread = np.tril(np.ones((n, n)), -1) if upper else np.triu(np.ones((n, n)), 1)
    if unit:
        unread = unread + np.eye(n)
    assert not (_np(x.grad) * unread).any()  # what is not read gets no gradient


def test_solve_triangular_errors():
    a = np.triu(np.ones((3, 3)))
    with pytest.raises(TypeError):
        minigrad.linalg.solve_triangular(_t(a), _t(np.ones((3, 1))))  # upper is required, keyword-only
    with pytest.raises(minigrad.ShapeError, match="linalg.solve_triangular: Incompatible shapes"):
        minigrad.linalg.solve_triangular(_t(a), _t(np.ones((2, 1))), upper=True)
    with pytest.raises(minigrad.ShapeError, match="linalg.solve_triangular: A must be batches of square"):
        minigrad.linalg.solve_triangular(_t(np.ones((2, 3))), _t(np.ones((2, 1))), upper=True)
    z = a.copy()
    z[1, 1] = 0.0
    with pytest.raises(minigrad.linalg.LinAlgError, match="has a zero on its diagonal"):
        minigrad.linalg.solve_triangular(_t(z), _t(np.ones((3, 1))), upper=True)
    out = minigrad.linalg.solve_triangular(_t(z), _t(np.ones((3, 1))), upper=True, unitriangular=True)
    np.testing.assert_allclose(out.numpy(), np.linalg.solve(np.triu(z, 1) + np.eye(3), np.ones((3, 1))))


def test_multi_dot_orders_vectors_gradients_and_errors():
    rng = np.random.default_rng(3)
    mats = [rng.standard_normal(s) for s in [(4, 1), (1, 5), (5, 2), (2, 3)]]
    want = mats[0] @ mats[1] @ mats[2] @ mats[3]
    np.testing.assert_allclose(minigrad.linalg.multi_dot([_t(m) for m in mats]).numpy(), want, rtol=1e-12)
    check_gradients(lambda *xs: minigrad.linalg.multi_dot(xs), *mats)
    v, w = rng.standard_normal(4), rng.standard_normal(3)
    got = minigrad.linalg.multi_dot([_t(v), _t(mats[0]), _t(mats[1]), _t(mats[2]), _t(mats[3]), _t(w)])
    assert got.shape == ()
    np.testing.assert_allclose(got.item(), v @ want @ w, rtol=1e-12)
    assert minigrad.linalg.multi_dot([_t(v), _t(mats[0])]).shape == (1,)
    with pytest.raises(minigrad.ArgumentError, match="expected at least 2 tensors but got 1"):
        minigrad.linalg.multi_dot([_t(v)])
    with pytest.raises(minigrad.ShapeError, match="tensor 1 must be 2D but got 1D"):
        minigrad.linalg.multi_dot([_t(mats[0]), _t(v), _t(mats[1])])
    with pytest.raises(minigrad.ShapeError, match=r"tensors 0 and 1 with shapes \(4, 1\) and \(5, 2\) cannot be"):
        minigrad.linalg.multi_dot([_t(mats[0]), _t(mats[2])])


# --- eigh, eig, matrix_norm ------------------------------------------------------------------------------------


def test_eigh_values_vectors_gradients_and_errors(device):
    rng = np.random.default_rng(21)
    q = np.linalg.qr(rng.standard_normal((2, 3, 3)))[0]
    a = (q * np.array([-1.0, 0.5, 2.0])) @ np.swapaxes(q, -1, -2)
    noisy = a + np.triu(rng.standard_normal((3, 3)), 1)  # junk above the diagonal: UPLO='L' does not read it
    w, v = minigrad.linalg.eigh(_t(noisy, device))
    np.testing.assert_allclose(_np(w), [[-1.0, 0.5, 2.0]] * 2, atol=1e-12)
    np.testing.assert_allclose(_np(v) @ (_np(w)[..., None] * np.swapaxes(_np(v), -1, -2)), a, atol=1e-12)
    upper = minigrad.linalg.eigvalsh(_t(np.swapaxes(noisy, -1, -2), device), UPLO="U")  # the transposed junk
    np.testing.assert_allclose(_np(upper), _np(w), atol=1e-12)

    def sym(x):
        return (x + x.mT) * 0.5

    def vectors(x):
        v = minigrad.linalg.eigh(sym(x)).eigenvectors
        return v.abs() * 2.0 + (v @ v.mT)

    check_gradients(lambda x: minigrad.linalg.eigvalsh(sym(x)), a, device=device)
    check_gradients(vectors, a, device=device)
    check_second_order(lambda x: minigrad.linalg.eigvalsh(sym(x)) ** 2, a)
    x = _t(noisy[0], device, requires_grad=True)
    minigrad.linalg.eigvalsh(x).sum().backward()  # gw = 1: V V^T = I, on the lower triangle it reads
    np.testing.assert_allclose(_np(x.grad), np.eye(3), atol=1e-12)
    with pytest.raises(minigrad.ArgumentError, match="Expected UPLO argument to be 'L' or 'U', but got 'X'"):
        minigrad.linalg.eigh(_t(a), UPLO="X")
    with pytest.raises(minigrad.ShapeError, match="linalg.eigvalsh: A must be batches of square matrices"):
        minigrad.linalg.eigvalsh(_t(np.ones((2, 3))))


def test_eig_is_complex_solves_the_eigenproblem_and_refuses_a_gradient():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((2, 4, 4))  # a general batch: complex pairs of eigenvalues
    w, v = minigrad.linalg.eig(_t(a))
    assert w.dtype == np.complex128 and v.dtype == np.complex128 and w.shape == (2, 4) and v.shape == (2, 4, 4)
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy()[:, None, :], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(v.numpy(), axis=-2), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(minigrad.linalg.eigvals(_t(a)).numpy(), w.numpy())
    real = minigrad.linalg.eigvals(_t(np.diag([3.0, 1.0, 2.0]).astype(np.float32)))
    assert real.dtype == np.complex64  # complex even when every eigenvalue is real, as PyTorch
    np.testing.assert_allclose(np.sort(real.numpy().real), [1, 2, 3])
    x = _t(a[0], requires_grad=True)
    for part in minigrad.linalg.eig(x):
        with pytest.raises(minigrad.GraphError, match="linalg.eig: no gradient: .* use linalg.eigh"):
            part.sum().backward()
    with pytest.raises(minigrad.ShapeError, match="linalg.eigvals: A must be batches of square matrices"):
        minigrad.linalg.eigvals(_t(np.ones((2, 3))))
    with pytest.raises(minigrad.DTypeError, match="linalg.eig: expects a floating-point tensor"):
        minigrad.linalg.eig(minigrad.tensor([[1, 2], [3, 4]]))


def _matrix_norm_ref(x, ord):
    return np.linalg.norm(x, ord=ord, axis=(-2, -1))


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf])
def test_matrix_norm(ord, device):
    rng = np.random.default_rng(22)
    a = rng.standard_normal((2, 3, 4))
    got = minigrad.linalg.matrix_norm(_t(a, device), ord=ord)
    np.testing.assert_allclose(_np(got), _matrix_norm_ref(a, ord), rtol=1e-12)
    moved = minigrad.linalg.matrix_norm(_t(a, device), ord=ord, dim=(0, 2), keepdim=True)
    assert moved.shape == (1, 3, 1)
    np.testing.assert_allclose(_np(moved)[0, :, 0], _matrix_norm_ref(np.moveaxis(a, 1, 0), ord), rtol=1e-12)
    b = _separated_values(rng)
    check_gradients(lambda x: minigrad.linalg.matrix_norm(x, ord=ord), b, device=device)


def _separated_values(rng):
    """A matrix with distinct singular values and no ties among its row and column absolute sums."""
    q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    r = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    return (q * np.array([3.0, 2.0, 1.0])) @ r.T


def test_matrix_norm_errors():
    with pytest.raises(minigrad.ArgumentError, match="linalg.matrix_norm: Order 3 not supported"):
        minigrad.linalg.matrix_norm(_t(np.ones((2, 2))), ord=3)
    with pytest.raises(minigrad.ArgumentError, match="dim must be a 2-tuple of different dimensions"):
        minigrad.linalg.matrix_norm(_t(np.ones((2, 2))), dim=(0, 0))


def test_cholesky_ex_info_values_and_gradient():
    spd = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    L, info = minigrad.linalg.cholesky_ex(_t(spd))
    assert info.dtype == np.int32 and info.item() == 0
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(spd), rtol=1e-12)
    U, _ = minigrad.linalg.cholesky_ex(_t(spd), upper=True)
    np.testing.assert_allclose(U.numpy(), np.linalg.cholesky(spd).T, rtol=1e-12)
    check_gradients(lambda x: minigrad.linalg.cholesky_ex((x + x.mT) * 0.5).L, spd)
    batch = np.stack([spd, np.diag([1.0, 2.0, -1.0]), -np.eye(3)])
    L, info = minigrad.linalg.cholesky_ex(_t(batch))
    assert info.tolist() == [0, 3, 1]
    np.testing.assert_allclose(L.numpy()[0], np.linalg.cholesky(spd), rtol=1e-12)
    assert np.isnan(L.numpy()[1:]).all()
    with pytest.raises(minigrad.linalg.LinAlgError, match=r"\(Batch element 1\): .* leading minor of order 3"):
        minigrad.linalg.cholesky_ex(_t(batch), check_errors=True)

"""Dense linear algebra (minigrad.ops.decomp).

inv, det, logabsdet, solve, cholesky, svd_u/s/vh and qr_q/r are op-table records (optable.py);
here the composites (logdet, solve's vector and right-hand forms,
matrix_power, matrix_exp, cholesky_solve, cholesky_inverse, upper factors)
against NumPy with gradcheck and second order, and the errors.
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
def _matrix(draw, n=None, batch=()):
    n = draw(st.integers(1, 3)) if n is None else n
    return draw(arrays(batch + (n, n), values(-1.0, 1.0))) / n + 2.0 * np.eye(n)


def _spd(x):
    return x @ np.swapaxes(x, -1, -2) + 0.5 * np.eye(x.shape[-1])


def test_logdet_signs_and_gradient():
    assert np.isnan(minigrad.logdet(-minigrad.eye(3)).item())
    assert minigrad.logdet(minigrad.zeros(3, 3)).item() == -np.inf
    a = np.array([[2.0, 1.0], [0.5, 3.0]])
    np.testing.assert_allclose(minigrad.logdet(_t(a)).item(), np.log(np.linalg.det(a)), rtol=1e-6)
    check_gradients(minigrad.logdet, a)
    check_second_order(minigrad.logdet, a)
    sign, lad = minigrad.slogdet(_t(-np.eye(2) * 3))
    assert sign.item() == 1.0 and np.isclose(lad.item(), np.log(9.0))
    assert not sign.requires_grad


@with_device
@given(a=_matrix(), data=st.data())
def test_solve_vectors_right_hand_side_and_gradients(a, data, device):
    n = a.shape[-1]
    v = data.draw(arrays((n,)))
    np.testing.assert_allclose(
        _np(minigrad.linalg.solve(_t(a, device), _t(v, device))), np.linalg.solve(a, v), rtol=1e-10
    )
    b = data.draw(arrays((2, n)))
    got = minigrad.linalg.solve(_t(a, device), _t(b, device), left=False)  # X A = B
    np.testing.assert_allclose(_np(got) @ a, b, rtol=1e-9, atol=1e-10)
    check_gradients(lambda x, y: minigrad.linalg.solve(x, y), a, v, device=device)
    check_gradients(lambda x, y: minigrad.linalg.solve(x, y, left=False), a, b, device=device)
    batch_v = data.draw(arrays((2, n)))  # a batch of vectors: B has A's shape without the last dim
    batched = minigrad.linalg.solve(_t(np.stack([a, a]), device), _t(batch_v, device))
    np.testing.assert_allclose(_np(batched), np.linalg.solve(a, batch_v.T).T, rtol=1e-10)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, -1, -2])
def test_matrix_power(n, device):
    a = np.array([[1.5, 0.3, 0.0], [0.2, 0.9, 0.4], [0.1, 0.0, 1.2]])
    batch = np.stack([a, a.T])
    for x in (a, batch):
        got = minigrad.matrix_power(_t(x, device), n)
        np.testing.assert_allclose(_np(got), np.linalg.matrix_power(x, n), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(_np(_t(x, device).matrix_power(n)), np.linalg.matrix_power(x, n), rtol=1e-10)
        np.testing.assert_allclose(_np(minigrad.linalg.matrix_power(_t(x, device), n)), np.linalg.matrix_power(x, n))
    if n:
        check_gradients(lambda x: minigrad.matrix_power(x, n), a, device=device)
    assert minigrad.matrix_power(_t(a, requires_grad=True), 1) is not None


@with_device
@given(n=st.integers(1, 3), data=st.data())
def test_matrix_exp_of_a_diagonalised_matrix(n, data, device):
    """A = V diag(w) V^-1 with a well-conditioned V: exp(A) = V diag(exp(w)) V^-1."""
    v = data.draw(arrays((2, n, n), values(-0.3, 0.3))) + np.eye(n)
    w = data.draw(arrays((2, n), values(-3.0, 3.0)))
    v_inv = np.linalg.inv(v)
    a = v @ (w[..., None] * v_inv)
    want = v @ (np.exp(w)[..., None] * v_inv)
    np.testing.assert_allclose(_np(minigrad.matrix_exp(_t(a, device))), want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(_np(_t(a, device).matrix_exp()), want, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(_np(minigrad.linalg.matrix_exp(_t(a, device))), want, rtol=1e-9, atol=1e-10)


def test_matrix_exp_gradient_and_known_values():
    np.testing.assert_allclose(
        minigrad.matrix_exp(_t([[0.0, 1.0], [-1.0, 0.0]])).numpy(),
        [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]],
        rtol=1e-6,
    )
    a = np.array([[0.3, 2.5], [-1.0, 0.2]])
    check_gradients(minigrad.matrix_exp, a)
    check_second_order(minigrad.matrix_exp, a * 0.5)
    # d/dt exp(tA) = A exp(tA): the gradient along A of <G, exp(A)> by the directional derivative
    assert minigrad.matrix_exp(minigrad.zeros(2, 0, 0)).shape == (2, 0, 0)


@with_device
@given(x=_matrix(), data=st.data(), upper=st.booleans())
def test_cholesky_solve_inverse_and_upper(x, data, upper, device):
    a = _spd(x)
    n = a.shape[-1]
    lower = np.linalg.cholesky(a)
    factor = lower.T if upper else lower
    np.testing.assert_allclose(_np(minigrad.cholesky(_t(a, device), upper=upper)), factor, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(minigrad.linalg.cholesky(_t(a, device), upper=upper)), factor, rtol=1e-10)
    b = data.draw(arrays((n, 2)))
    got = minigrad.cholesky_solve(_t(b, device), _t(factor, device), upper)
    np.testing.assert_allclose(_np(got), np.linalg.solve(a, b), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(
        _np(_t(b, device).cholesky_solve(_t(factor, device), upper)), np.linalg.solve(a, b), rtol=1e-9
    )
    inv = minigrad.cholesky_inverse(_t(factor, device), upper)
    np.testing.assert_allclose(_np(inv), np.linalg.inv(a), rtol=1e-9, atol=1e-10)
    check_gradients(lambda bb, ff: minigrad.cholesky_solve(bb, ff, upper), b, factor, device=device)
    # where the exact gradient is 0 (the factor's zero triangle) the analytic side rounds to ~1e-18
    check_gradients(lambda ff: minigrad.cholesky_inverse(ff, upper), factor, device=device, floor=1e-9)
    check_gradients(  # exact zeros again (a structurally zero derivative) where the analytic side rounds to ~1e-17
        lambda m: minigrad.cholesky(m @ m.mT + 0.5 * minigrad.eye(n, dtype=np.float64, device=device), upper=upper),
        x,
        device=device,
        floor=1e-9,
    )


def test_cholesky_second_order_through_a_symmetric_input():
    x = np.array([[1.2, 0.1, 0.0], [0.3, 0.9, 0.2], [-0.2, 0.1, 1.1]])
    check_second_order(lambda m: minigrad.cholesky(m @ m.mT), x)


def test_decomposition_errors_leave_inputs_alone():
    singular = minigrad.zeros(2, 2)
    with pytest.raises(minigrad.linalg.LinAlgError, match="inv: Singular matrix"):
        minigrad.inverse(singular)
    with pytest.raises(RuntimeError, match="solve"):
        minigrad.linalg.solve(singular, minigrad.ones(2))
    with pytest.raises(minigrad.linalg.LinAlgError, match="cholesky: .*not positive-definite"):
        minigrad.cholesky(-minigrad.eye(2))
    with pytest.raises(minigrad.ShapeError, match="det: A must be batches of square matrices"):
        minigrad.det(minigrad.ones(2, 3))
    with pytest.raises(minigrad.DTypeError, match="inverse: expects a floating-point tensor"):
        minigrad.inverse(_t([[1, 0], [0, 1]]))
    with pytest.raises(minigrad.ShapeError, match=r"linalg.solve: incompatible shapes of A and B .*\(2x2 and 3\)"):
        minigrad.linalg.solve(minigrad.eye(2), minigrad.ones(3))
    with pytest.raises(minigrad.DTypeError, match="linalg.solve: expected A and B to have the same dtype"):
        minigrad.linalg.solve(minigrad.eye(2), minigrad.ones(2, dtype=np.float64))
    with pytest.raises(minigrad.DTypeError, match="matrix_power: n must be an int"):
        minigrad.matrix_power(minigrad.eye(2), 1.5)
    with pytest.raises(minigrad.ShapeError, match="matrix_power: expects a batch of square matrices"):
        minigrad.matrix_power(minigrad.ones(2, 3), 2)
    np.testing.assert_array_equal(singular.numpy(), 0.0)


def test_the_removed_torch_solve_and_lstsq_raise_naming_the_replacement():
    with pytest.raises(RuntimeError, match="`torch.solve` is deprecated in favor of `linalg.solve`"):
        minigrad.solve(minigrad.eye(2), minigrad.eye(2))
    with pytest.raises(RuntimeError, match="`torch.lstsq` is deprecated in favor of `linalg.lstsq`"):
        minigrad.lstsq(minigrad.eye(2), minigrad.eye(2))


# --- pinv, svd, qr, matrix_rank, det at singular matrices -----------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3), (0, 3)])
def test_pinverse_and_linalg_pinv_match_numpy(shape, device):
    a = np.random.default_rng(4).standard_normal(shape)
    for got in (minigrad.pinverse(_t(a, device)), minigrad.linalg.pinv(_t(a, device)), _t(a, device).pinverse()):
        np.testing.assert_allclose(_np(got), np.linalg.pinv(a), rtol=1e-9, atol=1e-12)
    if 0 not in shape:
        check_gradients(lambda x: minigrad.pinverse(x), a, device=device)
        check_second_order(lambda x: minigrad.linalg.pinv(x), a)


def test_pinv_tolerances_drop_small_singular_values():
    u, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((3, 3)))
    a = u @ np.diag([3.0, 1.0, 1e-4]) @ u.T
    np.testing.assert_allclose(minigrad.linalg.pinv(_t(a), rtol=1e-2).numpy(), np.linalg.pinv(a, rcond=1e-2), atol=1e-9)
    np.testing.assert_allclose(
        minigrad.linalg.pinv(_t(a), atol=0.5).numpy(), u @ np.diag([1 / 3, 1, 0]) @ u.T, atol=1e-9
    )
    np.testing.assert_allclose(minigrad.pinverse(_t(a), rcond=1e-2).numpy(), np.linalg.pinv(a, rcond=1e-2), atol=1e-9)
    assert minigrad.linalg.matrix_rank(_t(a)).item() == 3
    assert minigrad.linalg.matrix_rank(_t(a), rtol=1e-2).item() == 2
    assert minigrad.linalg.matrix_rank(_t(np.stack([a, np.zeros((3, 3))]))).tolist() == [3, 0]


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_svd_and_qr_reconstruct(shape):
    a = np.random.default_rng(6).standard_normal(shape)
    t = _t(a)
    u, s, vh = minigrad.linalg.svd(t, full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()[..., None, :]) @ vh.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(minigrad.linalg.svdvals(t).numpy(), s.numpy(), rtol=1e-12)
    full = minigrad.linalg.svd(t)
    assert full.U.shape == shape[:-2] + (shape[-2], shape[-2]) and full.Vh.shape == shape[:-2] + (shape[-1],) * 2
    np.testing.assert_allclose(full.U.numpy(), np.linalg.svd(a)[0], atol=1e-12)
    U, S, V = minigrad.svd(t)  # torch.svd: V, not V^T
    np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @ np.swapaxes(V.numpy(), -1, -2), a, atol=1e-12)
    assert minigrad.svd(t, some=False).U.shape[-1] == shape[-2]
    no_uv = minigrad.svd(t, compute_uv=False)  # PyTorch's zeros are square
    assert not no_uv.U.numpy().any() and no_uv.U.shape[-2:] == (shape[-2],) * 2 and no_uv.V.shape[-1] == shape[-1]
    q, r = minigrad.linalg.qr(t)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(np.triu(r.numpy()), r.numpy())
    assert minigrad.qr(t, some=False).Q.shape[-1] == shape[-2] and minigrad.linalg.qr(t, mode="r").Q.numel() == 0
    assert t.qr().R.shape == r.shape and t.svd().S.shape == s.shape
    with pytest.raises(ValueError, match="linalg.qr: qr received unrecognized mode 'full'"):
        minigrad.linalg.qr(t, mode="full")


def _separated(rng, shape, s):
    """U diag(s) V^T from random orthogonal factors: singular values s, apart from each other."""
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, m)))[0][..., :k]
    v = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, n)))[0][..., :k]
    return (u * np.asarray(s[:k])) @ np.swapaxes(v, -1, -2)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_svd_gradients_of_gauge_invariant_losses(shape, device):
    """Losses that the columns' signs leave alone: the product U diag(S) Vh weighted, |U|, |V|, the
    projector U U^T (PyTorch's test_ops checks the same kinds); first and second order."""
    a = _separated(np.random.default_rng(8), shape, [3.0, 2.0, 1.0])
    w = np.random.default_rng(9).standard_normal(shape)

    def product(x):
        u, s, vh = minigrad.linalg.svd(x, full_matrices=False)
        return (u * s.unsqueeze(-2)) @ vh * _t(w, device)

    def vectors(x):
        u, s, v = minigrad.svd(x)
        return (u.abs() * 1.5).sum() + (v * v * v).abs().sum() + (u @ u.mT).sum() + s.sum()

    for fn in (product, vectors, lambda x: minigrad.linalg.svdvals(x) ** 2):
        check_gradients(fn, a, device=device)
    check_second_order(vectors, a)
    x = _t(a, requires_grad=True)
    (minigrad.linalg.svd(x, full_matrices=False).U.abs().sum()).backward()  # the thin U's columns
    thin = x.grad.numpy()
    x.grad = None
    minigrad.linalg.svd(x).U[..., : min(shape[-2:])].abs().sum().backward()  # full U, its first k columns
    np.testing.assert_allclose(x.grad.numpy(), thin, rtol=1e-12)
    x.grad = None
    minigrad.linalg.svd(x).U.abs().sum().backward()  # the completion's columns are constants (as PyTorch)
    np.testing.assert_allclose(x.grad.numpy(), thin, rtol=1e-12)


def test_svd_gradients_at_repeated_singular_values():
    """svdvals's gradient U diag(gS) Vh is defined where singular values repeat (the identity: gS = 1 gives
    I); the vectors' gradient is not (1 / (s_j^2 - s_i^2)), and comes out non-finite, as at PyTorch."""
    x = _t(np.eye(3), requires_grad=True)
    minigrad.linalg.svdvals(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.eye(3), atol=1e-12)
    y = _t(np.eye(3), requires_grad=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        (minigrad.linalg.svd(y).U.abs().sum()).backward()
    assert not np.isfinite(y.grad.numpy()).all()


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 2, 2)])
def test_qr_gradients(shape, device):
    a = _separated(np.random.default_rng(10), shape, [3.0, 2.0, 1.0])
    check_gradients(lambda x: minigrad.linalg.qr(x).Q, a, device=device)
    check_gradients(lambda x: minigrad.linalg.qr(x).R, a, device=device)
    check_gradients(lambda x: minigrad.qr(x).Q @ minigrad.qr(x).R * 2.0, a, device=device)
    check_second_order(lambda x: minigrad.linalg.qr(x).Q.sum() + (minigrad.linalg.qr(x).R ** 2).sum(), a)


def test_qr_refuses_gradients_it_cannot_give():
    a = _t(_separated(np.random.default_rng(11), (4, 2), [2.0, 1.0]), requires_grad=True)
    with pytest.raises(minigrad.GraphError, match="mode='complete' is not defined when nrows > ncols"):
        minigrad.linalg.qr(a, mode="complete").Q.sum().backward()
    with pytest.raises(minigrad.GraphError, match="depends on Q, which is not computed when mode='r'"):
        minigrad.linalg.qr(a, mode="r").R.sum().backward()
    assert a.grad is None
    sq = _t(np.eye(3) + 0.1, requires_grad=True)
    minigrad.linalg.qr(sq, mode="complete").Q.sum().backward()  # square: complete is reduced
    assert np.isfinite(sq.grad.numpy()).all()


def _adjugate(a):
    """adj(A)_ji = (-1)^(i+j) det(A without row i and column j), by cofactors."""
    n = a.shape[-1]
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            cof[i, j] = (-1) ** (i + j) * np.linalg.det(np.delete(np.delete(a, i, 0), j, 1))
    return cof.T


@pytest.mark.parametrize("rank", [1, 2])
def test_det_gradient_at_singular_matrices_is_the_adjugate(rank, device):
    """d det(A) / dA = adj(A)^T, finite at rank n - 1 (PyTorch's answer) and 0 below; not NaN."""
    rng = np.random.default_rng(12 + rank)
    a = rng.standard_normal((3, rank)) @ rng.standard_normal((rank, 3))
    x = _t(a, device, requires_grad=True)
    minigrad.det(x).backward()
    want = _adjugate(a).T
    np.testing.assert_allclose(_np(x.grad), want, atol=1e-12)
    assert (rank == 1) == np.allclose(want, 0.0)
    batch = np.stack([a, np.eye(3) * 2.0])  # one singular, one not: each its cofactor matrix
    y = _t(batch, device, requires_grad=True)
    (minigrad.linalg.det(y) * _t([1.0, 3.0], device)).sum().backward()
    np.testing.assert_allclose(_np(y.grad), np.stack([want, 3.0 * _adjugate(batch[1]).T]), atol=1e-12)


# --- lstsq ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize("a_shape,b_shape", [((5, 3), (5,)), ((2, 5, 3), (2, 5, 2)), ((5, 3), (5, 2))])
def test_lstsq_matches_numpy_and_has_the_driver_fields(driver, a_shape, b_shape):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    out = minigrad.linalg.lstsq(_t(a), _t(b), driver=driver)
    want = np.linalg.pinv(a) @ (b[..., None] if b.ndim == a.ndim - 1 else b)
    if b.ndim == a.ndim - 1:
        want = want[..., 0]
    np.testing.assert_allclose(out.solution.numpy(), want, rtol=1e-9)
    if driver == "gels":
        assert out.rank.numel() == 0
    else:
        np.testing.assert_array_equal(out.rank.numpy(), np.full(a_shape[:-2], 3))
    assert out.singular_values.numel() == (np.prod(a_shape[:-2] + (3,)) if driver in ("gelsd", "gelss") else 0)
    if driver in ("gelsd", "gelss", "gels"):
        col = b[..., None] if b.ndim == a.ndim - 1 else b
        r = (a @ (np.linalg.pinv(a) @ col)) - col
        np.testing.assert_allclose(out.residuals.numpy(), (r**2).sum(-2), rtol=1e-9)
    else:
        assert out.residuals.numel() == 0
    check_gradients(lambda x, y: minigrad.linalg.lstsq(x, y, driver=driver).solution, a, b)


def test_lstsq_rank_deficient_gives_the_minimum_norm_solution_and_errors():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
    b = np.array([1.0, 2.0, 3.1])
    out = minigrad.linalg.lstsq(_t(a), _t(b))
    np.testing.assert_allclose(out.solution.numpy(), np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-9)
    assert out.rank.item() == 1
    with pytest.raises(minigrad.ArgumentError, match="linalg.lstsq: parameter `driver` should be one of"):
        minigrad.linalg.lstsq(_t(a), _t(b), driver="magic")
    with pytest.raises(minigrad.ShapeError, match="linalg.lstsq: input.dim\\(\\) must be greater or equal"):
        minigrad.linalg.lstsq(_t(a), _t(np.ones((1, 3, 1))))
    with pytest.raises(minigrad.ShapeError, match="linalg.lstsq: input.size\\(-2\\) should match other.size\\(-2\\)"):
        minigrad.linalg.lstsq(_t(a), _t(np.ones(4)))

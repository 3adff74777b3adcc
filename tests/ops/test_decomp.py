"""Dense linear algebra (minigrad.ops.decomp).

inv, det, logabsdet, solve and cholesky are op-table records (optable.py);
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


# --- pinv, svd, qr, matrix_rank ----------------------------------------------------------------------------------


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
def test_svd_and_qr_reconstruct_and_refuse_to_record(shape):
    a = np.random.default_rng(6).standard_normal(shape)
    t = _t(a)
    u, s, vh = minigrad.linalg.svd(t, full_matrices=False)
    np.testing.assert_allclose((u.numpy() * s.numpy()[..., None, :]) @ vh.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(a, compute_uv=False), rtol=1e-12)
    np.testing.assert_allclose(minigrad.linalg.svdvals(t).numpy(), s.numpy(), rtol=1e-12)
    assert minigrad.linalg.svd(t).U.shape == shape[:-2] + (shape[-2], shape[-2])
    U, S, V = minigrad.svd(t)  # torch.svd: V, not V^T
    np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @ np.swapaxes(V.numpy(), -1, -2), a, atol=1e-12)
    assert minigrad.svd(t, some=False).U.shape[-1] == shape[-2]
    assert not minigrad.svd(t, compute_uv=False).U.numpy().any()
    q, r = minigrad.linalg.qr(t)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), a, atol=1e-12)
    np.testing.assert_allclose(np.triu(r.numpy()), r.numpy())
    assert minigrad.qr(t, some=False).Q.shape[-1] == shape[-2] and minigrad.linalg.qr(t, mode="r").Q.numel() == 0
    assert t.qr().R.shape == r.shape and t.svd().S.shape == s.shape
    w = _t(a, requires_grad=True)
    for call in (lambda: minigrad.linalg.svd(w), lambda: minigrad.svd(w), lambda: minigrad.linalg.qr(w)):
        with pytest.raises(minigrad.GraphError, match="minigrad has no gradient for this factorisation"):
            call()
    with minigrad.no_grad():
        assert minigrad.linalg.svdvals(w).shape == s.shape
    with pytest.raises(ValueError, match="linalg.qr: qr received unrecognized mode 'full'"):
        minigrad.linalg.qr(t, mode="full")


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

"""Parity with PyTorch for the linalg additions of issue #16: svd/svdvals/qr gradients, det's gradient at
singular matrices, the LU family, solve_triangular, multi_dot and the _ex info tensors (float64, values and
gradients to 1e-10)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad  # noqa: E402

RNG = np.random.default_rng(2026)


def _separated(shape, s=(3.0, 2.0, 1.0)):
    m, n = shape[-2:]
    k = min(m, n)
    u = np.linalg.qr(RNG.standard_normal(shape[:-2] + (m, m)))[0][..., :k]
    v = np.linalg.qr(RNG.standard_normal(shape[:-2] + (n, n)))[0][..., :k]
    return (u * np.asarray(s[:k])) @ np.swapaxes(v, -1, -2)


def _both(fn_t, fn_m, *arrays):
    """(values, grads) of a scalar loss at ``arrays`` in torch and minigrad."""
    tt = [torch.tensor(a, requires_grad=True) for a in arrays]
    mm = [minigrad.tensor(a, requires_grad=True) for a in arrays]
    yt, ym = fn_t(*tt), fn_m(*mm)
    yt.backward()
    ym.backward()
    np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-10)
    for a, b in zip(mm, tt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3)])
def test_svd_gradients(shape):
    a = _separated(shape)
    w = RNG.standard_normal(shape)

    def loss(lib, x):
        u, s, vh = lib.linalg.svd(x, full_matrices=False)
        wt = lib.tensor(w)
        return ((u * s.unsqueeze(-2)) @ vh * wt).sum() + u.abs().sum() + (vh**3).abs().sum() + (s**2).sum()

    _both(lambda x: loss(torch, x), lambda x: loss(minigrad, x), a)
    _both(lambda x: torch.linalg.svdvals(x).exp().sum(), lambda x: minigrad.linalg.svdvals(x).exp().sum(), a)
    _both(lambda x: torch.svd(x).V.abs().sum(), lambda x: minigrad.svd(x).V.abs().sum(), a)
    _both(lambda x: torch.linalg.svd(x).U.abs().sum(), lambda x: minigrad.linalg.svd(x).U.abs().sum(), a)


def test_svdvals_gradient_at_repeated_values():
    _both(lambda x: torch.linalg.svdvals(x).sum(), lambda x: minigrad.linalg.svdvals(x).sum(), np.eye(3))


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 2, 2)])
def test_qr_gradients(shape):
    a = _separated(shape)
    w = RNG.standard_normal(shape[:-1] + (min(shape[-2:]),))

    def loss(lib, x):
        q, r = lib.linalg.qr(x)
        return (q * lib.tensor(w)).sum() + (r**2).sum()

    _both(lambda x: loss(torch, x), lambda x: loss(minigrad, x), a)


@pytest.mark.parametrize("rank", [1, 2])
def test_det_gradient_at_singular_matrices(rank):
    a = RNG.standard_normal((3, rank)) @ RNG.standard_normal((rank, 3))
    _both(lambda x: torch.linalg.det(x), lambda x: minigrad.linalg.det(x), a)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (3, 5), (5, 3)])
def test_lu_factor_values_and_pivots(shape):
    a = RNG.standard_normal(shape)
    LU_t, piv_t, info_t = torch.linalg.lu_factor_ex(torch.tensor(a))
    LU_m, piv_m, info_m = minigrad.linalg.lu_factor_ex(minigrad.tensor(a))
    np.testing.assert_allclose(LU_m.numpy(), LU_t.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(piv_m.numpy(), piv_t.numpy())
    assert piv_m.dtype == np.int32 and info_m.dtype == np.int32
    np.testing.assert_array_equal(info_m.numpy(), info_t.numpy())
    for x, y in zip(minigrad.linalg.lu(minigrad.tensor(a)), torch.linalg.lu(torch.tensor(a))):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)
    for x, y in zip(minigrad.lu_unpack(LU_m, piv_m), torch.lu_unpack(LU_t, piv_t)):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-10, atol=1e-12)


def test_singular_infos():
    a = np.array([[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[2.0, 1.0], [1.0, 1.0]]])
    for name in ("lu_factor_ex", "inv_ex"):
        want = getattr(torch.linalg, name)(torch.tensor(a)).info.numpy()
        np.testing.assert_array_equal(getattr(minigrad.linalg, name)(minigrad.tensor(a)).info.numpy(), want)
    want = torch.linalg.solve_ex(torch.tensor(a), torch.ones(3, 2, 1, dtype=torch.float64)).info.numpy()
    got = minigrad.linalg.solve_ex(minigrad.tensor(a), minigrad.ones(3, 2, 1, dtype=minigrad.float64)).info
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("shape", [(3, 3), (3, 5), (5, 3)])
def test_lu_gradients(shape):
    a = RNG.standard_normal((2, *shape)) + 2.0 * np.eye(*shape)
    w = RNG.standard_normal((2, *shape))
    wl = RNG.standard_normal((2, shape[0], min(shape)))  # L is m x k

    def lu_loss(lib, x):
        P, L, U = lib.linalg.lu(x)
        return (L * lib.tensor(wl)).sum() + (U**2).sum()

    _both(lambda x: lu_loss(torch, x), lambda x: lu_loss(minigrad, x), a)
    _both(
        lambda x: (torch.linalg.lu_factor(x).LU * torch.tensor(w)).sum(),
        lambda x: (minigrad.linalg.lu_factor(x).LU * minigrad.tensor(w)).sum(),
        a,
    )


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    a = RNG.standard_normal((2, 3, 3)) + 2.0 * np.eye(3)
    b = RNG.standard_normal((2, 3, 2) if left else (2, 2, 3))

    def loss(lib, x, y):
        LU, piv = lib.linalg.lu_factor(x)
        return (lib.linalg.lu_solve(LU, piv, y, left=left, adjoint=adjoint) ** 2).sum()

    _both(lambda x, y: loss(torch, x, y), lambda x, y: loss(minigrad, x, y), a, b)
    if left and not adjoint:
        _both(
            lambda x, y: (torch.lu_solve(y, *torch.linalg.lu_factor(x)) ** 2).sum(),
            lambda x, y: (minigrad.lu_solve(y, *minigrad.lu(x)) ** 2).sum(),
            a,
            b,
        )


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unitriangular", [True, False])
def test_solve_triangular(upper, left, unitriangular):
    a = RNG.standard_normal((2, 3, 3)) * 0.3 + 2.0 * np.eye(3)
    b = RNG.standard_normal((3, 2) if left else (2, 3))
    kw = dict(upper=upper, left=left, unitriangular=unitriangular)
    _both(
        lambda x, y: (torch.linalg.solve_triangular(x, y, **kw) ** 2).sum(),
        lambda x, y: (minigrad.linalg.solve_triangular(x, y, **kw) ** 2).sum(),
        a,
        b,
    )


def test_multi_dot():
    shapes = [(4,), (4, 1), (1, 5), (5, 2), (2,)]
    arrays = [RNG.standard_normal(s) for s in shapes]
    _both(lambda *xs: torch.linalg.multi_dot(xs), lambda *xs: minigrad.linalg.multi_dot(xs), *arrays)


@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh(UPLO):
    q = np.linalg.qr(RNG.standard_normal((2, 3, 3)))[0]
    a = (q * np.array([-1.0, 0.5, 2.0])) @ np.swapaxes(q, -1, -2)
    w = RNG.standard_normal((2, 3))

    def loss(lib, x):
        vals, vecs = lib.linalg.eigh(x, UPLO=UPLO)
        return (vals * lib.tensor(w)).sum() + vecs.abs().sum() + (lib.linalg.eigvalsh(x, UPLO=UPLO) ** 2).sum()

    _both(lambda x: loss(torch, x), lambda x: loss(minigrad, x), a)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, float("inf"), float("-inf")])
def test_matrix_norm(ord):
    a = RNG.standard_normal((2, 3, 4))
    _both(
        lambda x: torch.linalg.matrix_norm(x, ord=ord, dim=(0, 2), keepdim=True).sum(),
        lambda x: minigrad.linalg.matrix_norm(x, ord=ord, dim=(0, 2), keepdim=True).sum(),
        a,
    )


def test_cholesky_ex():
    spd = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
    batch = np.stack([spd, np.diag([1.0, 2.0, -1.0]), -np.eye(3), np.diag([1.0, -2.0, 3.0])])
    want = torch.linalg.cholesky_ex(torch.tensor(batch)).info.numpy()
    np.testing.assert_array_equal(minigrad.linalg.cholesky_ex(minigrad.tensor(batch)).info.numpy(), want)
    for upper in (False, True):
        _both(
            lambda x, u=upper: (torch.linalg.cholesky_ex(x, upper=u).L ** 2).sum(),
            lambda x, u=upper: (minigrad.linalg.cholesky_ex(x, upper=u).L ** 2).sum(),
            spd,
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_eig_and_eigvals_as_torch(dtype):
    a = np.random.default_rng(11).standard_normal((3, 5, 5)).astype(dtype)
    w, v = minigrad.linalg.eig(minigrad.tensor(a))
    tw, tv = torch.linalg.eig(torch.tensor(a))
    assert str(w.dtype) == str(tw.dtype).replace("torch.", "") and str(v.dtype) == str(tv.dtype).replace("torch.", "")
    key = lambda z: np.lexsort((np.round(z.imag, 4), np.round(z.real, 4)))  # noqa: E731  (LAPACK builds may order differently)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for k in range(3):
        mine, theirs = w.numpy()[k], tw.numpy()[k]
        np.testing.assert_allclose(mine[key(mine)], theirs[key(theirs)], rtol=tol, atol=tol)
        # each unit eigenvector with its largest component real: equal to torch's up to the order
        vm, vt = v.numpy()[k][:, key(mine)], tv.numpy()[k][:, key(theirs)]
        phase = np.exp(-1j * np.angle(np.sum(vm.conj() * vt, axis=0)))
        np.testing.assert_allclose(vm, vt * phase, rtol=tol * 10, atol=tol * 10)
    mine = np.sort_complex(minigrad.linalg.eigvals(minigrad.tensor(a)).numpy()[0])
    theirs = np.sort_complex(torch.linalg.eigvals(torch.tensor(a)).numpy()[0])
    np.testing.assert_allclose(mine, theirs, rtol=tol, atol=tol)

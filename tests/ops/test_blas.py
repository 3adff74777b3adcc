"""BLAS-style products and distances (minigrad.ops.blas): composites of matmul, reshapes and vector_norm.

Forwards against NumPy on hypothesis shapes (broadcast inputs and empty
dimensions included), gradcheck through each composite in float64, second
order through the products, PyTorch's beta = 0 rule, the in-place forms
under the version counter, and errors that name the op and the shapes.
"""

import warnings

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import arrays, check_second_order, with_device

import minigrad
from minigrad.testing import shapes


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


def _np(t):
    return t.to("cpu").numpy()


sides = st.integers(0, 4)


# --- dot, vdot, inner, mv ----------------------------------------------------------------------------------------


@with_device
@given(n=sides, data=st.data())
def test_dot_vdot_mv_match_numpy_with_gradients(n, data, device):
    a, b = data.draw(arrays((n,))), data.draw(arrays((n,)))
    m = data.draw(sides)
    mat = data.draw(arrays((m, n)))
    for fn in (minigrad.dot, minigrad.vdot, lambda x, y: x.dot(y), lambda x, y: x.vdot(y)):
        out = fn(_t(a, device), _t(b, device))
        assert out.shape == ()
        np.testing.assert_allclose(_np(out), np.dot(a, b), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(minigrad.mv(_t(mat, device), _t(a, device))), mat @ a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(_t(mat, device).mv(_t(a, device))), mat @ a, rtol=1e-12, atol=1e-12)
    check_gradients(minigrad.dot, a, b, device=device)
    check_gradients(minigrad.mv, mat, a, device=device)


@with_device
@given(data=st.data())
def test_inner_matches_numpy(data, device):
    k = data.draw(sides)
    sa = data.draw(shapes(min_dims=0, max_dims=2, min_side=0)) + (k,)
    sb = data.draw(shapes(min_dims=0, max_dims=2, min_side=0)) + (k,)
    if data.draw(st.booleans()):
        sa = ()
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    out = minigrad.inner(_t(a, device), _t(b, device))
    np.testing.assert_allclose(_np(out), np.inner(a, b), rtol=1e-12, atol=1e-12)
    assert _t(a, device).inner(_t(b, device)).shape == np.inner(a, b).shape
    check_gradients(minigrad.inner, a, b, device=device)


def test_vector_product_errors():
    with pytest.raises(minigrad.ShapeError, match="dot: 1D tensors expected, but got 2D"):
        minigrad.dot(minigrad.ones(2, 2), minigrad.ones(2))
    with pytest.raises(minigrad.ShapeError, match="dot: inconsistent tensor size"):
        minigrad.dot(minigrad.ones(3), minigrad.ones(2))
    with pytest.raises(minigrad.DTypeError, match="dot: expected input and tensor to have the same dtype"):
        minigrad.dot(minigrad.ones(3), minigrad.ones(3, dtype=np.float64))
    with pytest.raises(minigrad.ShapeError, match=r"mv: size mismatch, got mat \(2x3\), vec \(2\)"):
        minigrad.mv(minigrad.ones(2, 3), minigrad.ones(2))
    with pytest.raises(minigrad.ShapeError, match=r"inner: the last dimension must match .* \[2, 3\] and \[2\]"):
        minigrad.inner(minigrad.ones(2, 3), minigrad.ones(2))
    assert minigrad.dot(_t([1, 2]), _t([3, 4])).item() == 11  # integers stay integers


# --- the add-products -------------------------------------------------------------------------------------------


def _product_case(data, name):
    n, m, p, b = (data.draw(sides) for _ in range(4))
    if name == "addmm":
        left, right, out = (n, m), (m, p), (n, p)
    elif name == "addmv":
        left, right, out = (n, m), (m,), (n,)
    elif name == "addr":
        left, right, out = (n,), (p,), (n, p)
    elif name == "baddbmm":
        left, right, out = (b, n, m), (b, m, p), (b, n, p)
    else:  # addbmm
        left, right, out = (b, n, m), (b, m, p), (n, p)
    fits = hnp.broadcastable_shapes(out, max_dims=len(out), min_side=0).filter(
        lambda s: np.broadcast_shapes(s, out) == out  # broadcasts *to* the product's shape
    )
    input_shape = data.draw(fits)
    return data.draw(arrays(input_shape)), data.draw(arrays(left)), data.draw(arrays(right))


def _product_ref(name, x, a, b, beta, alpha):
    if name == "addr":
        prod = np.outer(a, b)
    elif name == "addbmm":
        prod = (a @ b).sum(0) if a.shape[0] else np.zeros((a.shape[1], b.shape[2]))
    else:
        prod = a @ b
    return (beta * x if beta else 0) + alpha * prod + np.zeros(prod.shape)


PRODUCTS = ["addmm", "addmv", "addr", "baddbmm", "addbmm"]


@pytest.mark.parametrize("name", PRODUCTS)
@with_device
@given(data=st.data(), beta=st.sampled_from([1, 0, 0.5, -2.0]), alpha=st.sampled_from([1, 0.25, -1.5]))
def test_add_products_match_numpy_with_gradients(name, data, beta, alpha, device):
    x, a, b = _product_case(data, name)
    fn = getattr(minigrad, name)
    ts = [_t(v, device) for v in (x, a, b)]
    want = _product_ref(name, x, a, b, beta, alpha)
    np.testing.assert_allclose(_np(fn(*ts, beta=beta, alpha=alpha)), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(getattr(ts[0], name)(*ts[1:], beta=beta, alpha=alpha)), want, rtol=1e-12, atol=1e-12)
    check_gradients(lambda *v: fn(*v, beta=beta, alpha=alpha), x, a, b, device=device)


@pytest.mark.parametrize("name", PRODUCTS)
def test_add_products_second_order(name):
    rng = np.random.default_rng(0)
    shapes_ = {"addmm": [(2, 3), (2, 4), (4, 3)], "addmv": [(2,), (2, 3), (3,)], "addr": [(1, 3), (2,), (3,)]}
    shapes_["baddbmm"] = [(2, 1, 3), (2, 2, 4), (2, 4, 3)]
    shapes_["addbmm"] = [(3,), (2, 2, 4), (2, 4, 3)]
    xs = [rng.standard_normal(s) for s in shapes_[name]]
    check_second_order(lambda *v: getattr(minigrad, name)(*v, beta=0.5, alpha=2.0), *xs)


def test_beta_zero_ignores_nan_in_input_and_gives_it_a_zero_gradient():
    x = _t([np.nan, np.inf, 1.0], requires_grad=True)
    a, b = minigrad.randn(2, 4), minigrad.randn(4, 3)
    out = minigrad.addmm(x, a, b, beta=0)
    np.testing.assert_allclose(out.numpy(), (a @ b).numpy(), rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
    assert not np.isnan(minigrad.addmv(_t([np.nan, 1.0]), minigrad.ones(2, 2), minigrad.ones(2), beta=0).numpy()).any()
    # beta != 0 propagates NaN, as a product with NaN does
    assert np.isnan(minigrad.addmm(x.detach(), a, b, beta=1e-30).numpy()[:, 0]).all()


@pytest.mark.parametrize("name", PRODUCTS)
def test_in_place_add_products(name):
    rng = np.random.default_rng(1)
    full = {"addmm": [(2, 3), (2, 4), (4, 3)], "addmv": [(2,), (2, 3), (3,)], "addr": [(2, 3), (2,), (3,)]}
    full["baddbmm"] = [(2, 2, 3), (2, 2, 4), (2, 4, 3)]
    full["addbmm"] = [(2, 3), (2, 2, 4), (2, 4, 3)]
    x, a, b = (rng.standard_normal(s) for s in full[name])
    t = _t(x)
    assert getattr(t, name + "_")(_t(a), _t(b), beta=0.5, alpha=2.0) is t
    np.testing.assert_allclose(t.numpy(), _product_ref(name, x, a, b, 0.5, 2.0), rtol=1e-12)
    assert t._version == 1
    # while recording: the result becomes the history
    w = _t(a, requires_grad=True)
    y = _t(x) * 1.0
    getattr(y, name + "_")(w, _t(b), beta=0.5, alpha=2.0)
    check_gradients(lambda v: getattr(_t(x) * 1.0, name + "_")(v, _t(b), alpha=2.0), a)
    # a self that the product would have to broadcast is refused, unchanged
    small = _t(np.zeros(full[name][0][-1:]))
    if small.shape != tuple(full[name][0]):
        with pytest.raises(minigrad.ShapeError, match=f"{name}_"):
            getattr(small, name + "_")(_t(a), _t(b))
        np.testing.assert_array_equal(small.numpy(), 0.0)
    if name == "addmv":
        t2 = _t(x)
        minigrad.addmv_(t2, _t(a), _t(b))
        np.testing.assert_allclose(t2.numpy(), x + a @ b, rtol=1e-12)


def test_add_product_errors_name_the_op_and_shapes():
    with pytest.raises(minigrad.ShapeError, match=r"addmm: mat1 and mat2 shapes cannot be multiplied \(2x3 and 2x3\)"):
        minigrad.addmm(minigrad.zeros(2, 3), minigrad.ones(2, 3), minigrad.ones(2, 3))
    with pytest.raises(minigrad.ShapeError, match=r"addmm: input of shape \(4,\) does not broadcast to the product"):
        minigrad.addmm(minigrad.zeros(4), minigrad.ones(2, 3), minigrad.ones(3, 3))
    with pytest.raises(minigrad.DTypeError, match="addmm: expected mat1 and mat2 to have the same dtype"):
        minigrad.addmm(minigrad.zeros(3), minigrad.ones(2, 3), minigrad.ones(3, 3, dtype=np.float64))
    with pytest.raises(minigrad.DTypeError, match="addmm: input and the matrices must have the same dtype"):
        minigrad.addmm(minigrad.zeros(3, dtype=np.float64), minigrad.ones(2, 3), minigrad.ones(3, 3))
    with pytest.raises(minigrad.ShapeError, match="baddbmm: batch1 must be a 3D tensor"):
        minigrad.baddbmm(minigrad.zeros(3), minigrad.ones(2, 3), minigrad.ones(3, 3))
    with pytest.raises(minigrad.ShapeError, match="addbmm: the batches do not fit"):
        minigrad.addbmm(minigrad.zeros(3), minigrad.ones(2, 2, 3), minigrad.ones(3, 3, 3))
    with pytest.raises(minigrad.ShapeError, match="addr: expected 1-D vectors"):
        minigrad.addr(minigrad.zeros(3), minigrad.ones(2, 3), minigrad.ones(3))
    with pytest.raises(minigrad.DTypeError, match="addmm: for integer tensors, beta and alpha must be integers"):
        minigrad.addmm(minigrad.zeros(2, 2, dtype=np.int64), _t([[1, 2], [3, 4]]), _t([[1, 0], [0, 1]]), alpha=0.5)
    with pytest.raises(minigrad.DTypeError, match="addmv: beta must be a number"):
        minigrad.addmv(minigrad.zeros(2), minigrad.ones(2, 2), minigrad.ones(2), beta="1")


# --- kron, tensordot, chain_matmul ------------------------------------------------------------------------------------


@with_device
@given(a=shapes(min_dims=0, max_dims=3, min_side=0, max_side=3).flatmap(arrays), data=st.data())
def test_kron_matches_numpy(a, data, device):
    b = data.draw(shapes(min_dims=0, max_dims=3, min_side=0, max_side=3).flatmap(arrays))
    out = minigrad.kron(_t(a, device), _t(b, device))
    np.testing.assert_allclose(_np(out), np.kron(a, b), rtol=1e-12, atol=1e-12)
    assert _t(a, device).kron(_t(b, device)).shape == np.kron(a, b).shape
    check_gradients(minigrad.kron, a, b, device=device)


@with_device
@given(data=st.data())
def test_tensordot_matches_numpy(data, device):
    k = data.draw(st.integers(0, 2))
    contracted = data.draw(shapes(min_dims=k, max_dims=k, min_side=0, max_side=3))
    a_free = data.draw(shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    b_free = data.draw(shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    a = data.draw(arrays(a_free + contracted))
    b = data.draw(arrays(contracted + b_free))
    out = minigrad.tensordot(_t(a, device), _t(b, device), k)
    np.testing.assert_allclose(_np(out), np.tensordot(a, b, k), rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, y: minigrad.tensordot(x, y, dims=k), a, b, device=device)
    # the same contraction named by lists, with b's contracted dims moved last
    bt = np.moveaxis(b, list(range(k)), list(range(b.ndim - k, b.ndim)))
    dims = (list(range(a.ndim - k, a.ndim)), list(range(bt.ndim - k, bt.ndim)))
    got = minigrad.tensordot(_t(a, device), _t(bt, device), dims=dims)
    np.testing.assert_allclose(_np(got), np.tensordot(a, bt, dims), rtol=1e-12, atol=1e-12)


def test_tensordot_and_chain_matmul_errors_and_cases():
    a, b = minigrad.ones(2, 3), minigrad.ones(3, 2)
    with pytest.raises(minigrad.ShapeError, match="tensordot: contracted dimensions need to match"):
        minigrad.tensordot(a, b, dims=([1], [1]))
    with pytest.raises(minigrad.ArgumentError, match="tensordot: expects dims >= 0"):
        minigrad.tensordot(a, b, -1)
    with pytest.raises(minigrad.ShapeError, match="tensordot: both dimension lists should have same length"):
        minigrad.tensordot(a, b, ([0, 1], [0]))
    assert minigrad.tensordot(a, b, dims=minigrad.tensor([[1], [0]])).shape == (2, 2)
    rng = np.random.default_rng(2)
    ms = [rng.standard_normal(s) for s in [(2, 3), (3, 4), (4, 2)]]
    np.testing.assert_allclose(minigrad.chain_matmul(*[_t(m) for m in ms]).numpy(), ms[0] @ ms[1] @ ms[2])
    check_gradients(minigrad.chain_matmul, *ms)
    with pytest.raises(minigrad.ShapeError, match="chain_matmul: matrices 0 and 1 cannot be multiplied"):
        minigrad.chain_matmul(minigrad.ones(2, 3), minigrad.ones(2, 3))


# --- cross ------------------------------------------------------------------------------------------------------------


@with_device
@given(data=st.data())
def test_cross_matches_numpy_with_broadcasting(data, device):
    k = data.draw(st.integers(0, 2))
    drawn = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=k, max_dims=k, min_side=0, max_side=3))
    d = data.draw(st.integers(0, k))
    sa, sb = ((1,) * (k - len(s)) + s for s in drawn.input_shapes)
    sa, sb = (s[:d] + (3,) + s[d:] for s in (sa, sb))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    want = np.cross(a, b, axis=d)
    np.testing.assert_allclose(_np(minigrad.cross(_t(a, device), _t(b, device), dim=d)), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(_t(a, device).cross(_t(b, device), d)), want, rtol=1e-12, atol=1e-12)
    got = minigrad.linalg.cross(_t(np.moveaxis(a, d, -1), device), _t(np.moveaxis(b, d, -1), device))
    np.testing.assert_allclose(_np(got), np.moveaxis(want, d, -1), rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, y: minigrad.cross(x, y, dim=d), a, b, device=device)


def test_cross_default_dim_warns_and_errors():
    a, b = minigrad.randn(4, 3), minigrad.randn(4, 3)
    with pytest.warns(UserWarning, match="cross without specifying the dim arg is deprecated"):
        out = minigrad.cross(a, b)
    np.testing.assert_allclose(out.numpy(), np.cross(a.numpy(), b.numpy()), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        minigrad.cross(a, b, dim=1)
        minigrad.linalg.cross(a, b)
    with pytest.raises(minigrad.ShapeError, match="linalg.cross: inputs dimension -1 must have length 3. Got 2 and 2"):
        minigrad.linalg.cross(minigrad.ones(3, 2), minigrad.ones(3, 2))
    with pytest.raises(minigrad.ShapeError, match="linalg.cross: inputs must have the same number of dimensions"):
        minigrad.linalg.cross(minigrad.ones(2, 3), minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="cross: no dimension of size 3"), pytest.warns(UserWarning):
        minigrad.cross(minigrad.ones(2, 2), minigrad.ones(2, 2))
    np.testing.assert_allclose(minigrad.linalg.vecdot(a, b).numpy(), (a.numpy() * b.numpy()).sum(-1), rtol=1e-6)


# --- cdist, dist ---------------------------------------------------------------------------------------------


def _cdist_ref(x1, x2, p):
    d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1).astype(x1.dtype)
    if np.isinf(p):
        return d.max(-1) if d.shape[-1] else d.sum(-1)
    return (d**p).sum(-1) ** (1 / p)


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, 0.5, np.inf, 0.0])
@with_device
@given(data=st.data())
def test_cdist_matches_the_formula_with_broadcast_batches(p, data, device):
    drawn = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    m = data.draw(st.integers(1, 3))
    s1 = drawn.input_shapes[0] + (data.draw(st.integers(0, 3)), m)
    s2 = drawn.input_shapes[1] + (data.draw(st.integers(0, 3)), m)
    x1, x2 = data.draw(arrays(s1)), data.draw(arrays(s2))
    out = minigrad.cdist(_t(x1, device), _t(x2, device), p=p)
    np.testing.assert_allclose(_np(out), _cdist_ref(x1, x2, p), rtol=1e-10, atol=1e-12)
    if p in (1.0, 2.0, 3.0) and out.numel():  # smooth away from coincident points (drawn floats rarely coincide)
        d = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
        if d.size == 0 or d.min() > 1e-3:
            check_gradients(lambda a, b: minigrad.cdist(a, b, p=p), x1, x2, device=device)


def test_cdist_gradient_at_zero_distance_is_zero_and_modes():
    x = minigrad.zeros(2, 3, requires_grad=True)
    minigrad.cdist(x, minigrad.zeros(2, 3)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), 0.0)
    a, b = minigrad.randn(30, 3), minigrad.randn(28, 3)
    want = minigrad.cdist(a, b).numpy()
    for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist", "use_mm_for_euclid_dist_if_necessary"):
        np.testing.assert_allclose(minigrad.cdist(a, b, compute_mode=mode).numpy(), want, rtol=1e-6)
    check_second_order(lambda u, v: minigrad.cdist(u, v), np.arange(6.0).reshape(2, 3), -np.arange(9.0).reshape(3, 3))


def test_cdist_errors():
    with pytest.raises(minigrad.ShapeError, match="cdist: X1 and X2 must have the same number of columns. X1: 3 X2: 4"):
        minigrad.cdist(minigrad.ones(2, 3), minigrad.ones(2, 4))
    with pytest.raises(minigrad.ShapeError, match="cdist: cdist only supports at least 2D tensors, X1 got: 1D"):
        minigrad.cdist(minigrad.ones(3), minigrad.ones(2, 3))
    with pytest.raises(minigrad.ArgumentError, match="cdist: cdist only supports non-negative p values"):
        minigrad.cdist(minigrad.ones(2, 3), minigrad.ones(2, 3), p=-1)
    with pytest.raises(minigrad.ArgumentError, match="cdist: foo is not a valid value for compute_mode"):
        minigrad.cdist(minigrad.ones(2, 3), minigrad.ones(2, 3), compute_mode="foo")
    with pytest.raises(minigrad.DTypeError, match="cdist: only supports floating-point dtypes"):
        minigrad.cdist(_t([[1, 2]]), _t([[1, 2]]))
    with pytest.raises(minigrad.ShapeError, match="cdist: the batch dimensions"):
        minigrad.cdist(minigrad.ones(2, 1, 3), minigrad.ones(3, 1, 3))


@pytest.mark.parametrize("p", [2, 1, 3.5, np.inf, 0])
def test_dist(p, device):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    out = minigrad.dist(_t(a, device), _t(b, device), p)
    d = np.abs(a - b).ravel()
    want = (d != 0).sum() if p == 0 else d.max() if np.isinf(p) else (d**p).sum() ** (1 / p)
    np.testing.assert_allclose(_np(out), want, rtol=1e-12)
    np.testing.assert_allclose(_np(_t(a, device).dist(_t(b, device), p=p)), want, rtol=1e-12)
    if p != 0:
        check_gradients(lambda x, y: minigrad.dist(x, y, p), a, b, device=device)
    assert minigrad.dist(minigrad.ones(0), minigrad.ones(0)).item() == 0.0
    with pytest.raises(minigrad.ArgumentError, match="dist: p must be a number"):
        minigrad.dist(minigrad.ones(2), minigrad.ones(2), "fro")

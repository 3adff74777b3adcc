"""Matrix products (minigrad.ops.linalg): matmul with NumPy's rules for 1-D and batched operands."""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import (
    DTYPES,
    arrays,
    assert_covered,
    check_second_order,
    registry,
    tolerance,
    with_device,
)

import minigrad
from minigrad.ops import linalg

GRADIENT_TESTED, gradient_test = registry()

CASES = {  # every combination NumPy's matmul accepts, by name
    "1-D @ 1-D": ((3,), (3,)),
    "2-D @ 1-D": ((2, 3), (3,)),
    "1-D @ 2-D": ((3,), (3, 4)),
    "2-D @ 2-D": ((2, 3), (3, 4)),
    "batched @ 2-D": ((2, 2, 3), (3, 4)),
    "2-D @ batched": ((2, 3), (2, 3, 4)),
    "batched @ 1-D": ((2, 2, 3), (3,)),
    "1-D @ batched": ((3,), (2, 3, 4)),
    "broadcast batch": ((2, 1, 2, 3), (3, 3, 2)),
    "1 x 1": ((1, 1), (1, 1)),
}

MATMUL_SHAPES = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_forward(name, dtype, device):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s).astype(dtype) for s in CASES[name])
    want = np.matmul(a, b)
    ta, tb = minigrad.tensor(a, device=device), minigrad.tensor(b, device=device)
    for out in (ta @ tb, minigrad.matmul(ta, tb), ta.matmul(tb)):
        assert out.shape == want.shape
        assert out.dtype == want.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want, **tolerance(dtype))


def test_matmul_with_a_numpy_operand():
    a = np.arange(6.0).reshape(2, 3)
    t = minigrad.tensor(np.ones((3, 2)), requires_grad=True)
    out = a @ t  # ndarray @ Tensor goes to Tensor.__rmatmul__
    assert isinstance(out, minigrad.Tensor)
    np.testing.assert_array_equal(out.numpy(), a @ np.ones((3, 2)))
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), a.T @ np.ones((2, 2)))


@gradient_test("matmul")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_gradient_cases(name, device):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in CASES[name])
    check_gradients(lambda x, y: x @ y, a, b, device=device)
    check_gradients(lambda x: x @ minigrad.tensor(b, device=device), a, device=device)  # only one side needs grad
    array = minigrad.backend.xp_for(device).asarray(a)  # a bare array of the device's library on the left
    check_gradients(lambda y: array @ y, b, device=device)


@gradient_test("matmul")
@with_device
@given(data=st.data())
def test_matmul_gradient(data, device):
    shape_a, shape_b = data.draw(MATMUL_SHAPES).input_shapes
    a, b = data.draw(arrays(shape_a)), data.draw(arrays(shape_b))
    check_gradients(minigrad.matmul, a, b, device=device)


@gradient_test("_mT")
@given(data=st.data())
def test_batched_matrix_transpose(data):
    a = data.draw(arrays(data.draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=3))))
    t = minigrad.tensor(a)
    np.testing.assert_array_equal(t.mT.numpy(), np.swapaxes(a, -1, -2))
    check_gradients(lambda x: x.mT * 1.5, a)


@gradient_test("linear")
@given(data=st.data())
def test_linear_matches_x_wt_plus_b_and_its_gradient(data):
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    x, w, b = (data.draw(arrays(s)) for s in (lead + (n_in,), (n_out, n_in), (n_out,)))
    out = linalg.linear(minigrad.tensor(x), minigrad.tensor(w), minigrad.tensor(b))
    np.testing.assert_allclose(out.numpy(), x @ w.T + b, rtol=1e-12, atol=1e-12)
    check_gradients(linalg.linear, x, w, b)
    check_gradients(lambda x, w: linalg.linear(x, w), x, w)


@gradient_test("linear_weight_grad")
@given(data=st.data())
def test_linear_weight_grad_sums_g_transposed_x_over_the_batch(data):
    lead = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    g, x = (data.draw(arrays(s)) for s in (lead + (n_out,), lead + (n_in,)))
    out = linalg._weight_grad(minigrad.tensor(g), minigrad.tensor(x))
    np.testing.assert_allclose(out.numpy(), g.reshape(-1, n_out).T @ x.reshape(-1, n_in), rtol=1e-12, atol=1e-12)
    check_gradients(linalg._weight_grad, g, x)


@pytest.mark.parametrize("lead", [(), (2,), (2, 3)])
def test_second_order_linear(lead):
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s) for s in (lead + (3,), (2, 3), (2,)))
    check_second_order(linalg.linear, x, w, b)


@pytest.mark.parametrize("name", sorted(CASES))
def test_second_order_matmul(name):
    rng = np.random.default_rng(2)
    a, b = (rng.standard_normal(s) for s in CASES[name])
    check_second_order(lambda x, y: x @ y, a, b)


@given(data=st.data())
def test_second_order_matmul_hypothesis(data):
    shape_a, shape_b = data.draw(MATMUL_SHAPES).input_shapes
    check_second_order(minigrad.matmul, data.draw(arrays(shape_a)), data.draw(arrays(shape_b)))


def test_second_order_of_a_quadratic_form_is_exact():
    """f(x) = x^T A x: grad = (A + A^T) x, Hessian = A + A^T."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 3))
    x = minigrad.tensor(rng.standard_normal(3), requires_grad=True)
    (g,) = minigrad.grad(x @ minigrad.tensor(A) @ x, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), (A + A.T) @ x.numpy(), rtol=1e-12)
    hessian = np.stack([minigrad.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    np.testing.assert_allclose(hessian, A + A.T, rtol=1e-12)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [
        ((2, 3), (4, 5)),
        ((3,), (4,)),
        ((2, 3), (2,)),
        pytest.param((2, 2, 3), (3, 3, 2), id="batch-mismatch"),
    ],
)
def test_matmul_shape_mismatch_is_a_shape_error(shape_a, shape_b):
    with pytest.raises(minigrad.ShapeError) as info:
        minigrad.ones(*shape_a) @ minigrad.ones(*shape_b)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("matmul")
    assert str(shape_a) in message and str(shape_b) in message


def test_matmul_of_a_scalar_is_an_error():
    with pytest.raises(minigrad.MinigradError, match="matmul"):
        minigrad.matmul(minigrad.ones(()), minigrad.ones(3))


def test_every_linalg_primitive_has_a_gradient_test():
    assert_covered(linalg, GRADIENT_TESTED)

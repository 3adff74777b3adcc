"""Matrix products (minigrad.ops.linalg): matmul with NumPy's rules for 1-D and batched operands.

matmul, mT, linear and linear_weight_grad on hypothesis shapes are records of
optable.py, checked by the generic tests of test_optable.py; here every named
case of NumPy's rules, and errors.
"""

import numpy as np
import pytest
from helpers import check_gradients
from ophelpers import (
    DTYPES,
    check_second_order,
    tolerance,
)

import minigrad
from minigrad.ops import linalg

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


@pytest.mark.parametrize("name", sorted(CASES))
def test_matmul_gradient_cases(name, device):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s) for s in CASES[name])
    check_gradients(lambda x, y: x @ y, a, b, device=device)
    check_gradients(lambda x: x @ minigrad.tensor(b, device=device), a, device=device)  # only one side needs grad
    array = minigrad.backend.xp_for(device).asarray(a)  # a bare array of the device's library on the left
    check_gradients(lambda y: array @ y, b, device=device)


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

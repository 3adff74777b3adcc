"""Scans (minigrad.ops.scan): cumsum, cumprod, cummax, cummin, logcumsumexp; and argsort.

Forward against NumPy, gradcheck, second order and float32 are the op table's (the SCANS records
in optable.py); here the semantics particular to scans, the spellings and the errors.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import arrays, shapes

import minigrad
from minigrad.errors import DTypeError, IndexOutOfRange


def test_cumsum_matches_numpy_along_each_dim(device):
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    t = minigrad.tensor(x, device=device)
    for dim in range(-3, 3):
        for out in (minigrad.cumsum(t, dim), t.cumsum(dim), t.cumsum(dim=dim), minigrad.cumsum(t, axis=dim)):
            assert out.device == device and out.shape == x.shape
            np.testing.assert_allclose(out.numpy(), np.cumsum(x, axis=dim), rtol=1e-12)


def test_cumsum_gradient_by_hand():
    """d/dx_j sum_i w_i cumsum(x)_i = sum_{i >= j} w_i: the reversed cumulative sum of the weights."""
    x = minigrad.tensor([1.0, -2.0, 3.0, 0.5], requires_grad=True)
    w = np.array([1.0, 10.0, 100.0, 1000.0])
    (minigrad.cumsum(x, 0) * minigrad.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1111.0, 1110.0, 1100.0, 1000.0])


def test_cumsum_second_order_through_a_product():
    """f = sum(cumsum(x)^2); df/dx_j = 2 sum_{i>=j} c_i; the Hessian is 2 L^T L with L lower-triangular ones."""
    x = minigrad.tensor([0.3, -1.2, 2.0], requires_grad=True)
    (g,) = minigrad.grad((x.cumsum(0) ** 2).sum(), x, create_graph=True)
    lower = np.tril(np.ones((3, 3)))
    np.testing.assert_allclose(g.numpy(), 2 * lower.T @ np.cumsum(x.numpy()))
    hessian = np.stack([minigrad.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    np.testing.assert_allclose(hessian, 2 * lower.T @ lower)


def test_cumsum_dtype_empty_and_zero_dim():
    ints = minigrad.tensor([1, 2, 3])
    assert ints.cumsum(0).tolist() == [1, 3, 6]
    as_float = minigrad.cumsum(ints, 0, dtype=minigrad.float64)
    assert as_float.dtype == np.float64 and as_float.tolist() == [1.0, 3.0, 6.0]
    assert minigrad.cumsum(minigrad.zeros(2, 0), 1).shape == (2, 0)
    assert minigrad.cumsum(minigrad.tensor(4.0), -1).item() == 4.0


def test_cumsum_errors_name_the_op():
    t = minigrad.ones(2, 3)
    with pytest.raises(IndexOutOfRange, match="cumsum"):
        t.cumsum(2)
    with pytest.raises(TypeError, match="cumsum: missing the dim"):
        minigrad.cumsum(t)
    with pytest.raises(TypeError, match="cumsum: give axis or dim"):
        minigrad.cumsum(t, 0, axis=1)


@given(data=st.data())
def test_argsort_is_numpys_stable_sort_in_both_directions(data):
    shape = data.draw(shapes())
    x = data.draw(arrays(shape, st.sampled_from([0.0, 1.0, -1.0, 2.5, np.nan])))  # many ties
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    t = minigrad.tensor(x)
    if x.ndim == 0:
        assert minigrad.argsort(t, dim).item() == 0
        return
    ascending = np.argsort(x, axis=dim, kind="stable")
    for out in (minigrad.argsort(t, dim), t.argsort(dim=dim), t.argsort(dim, stable=True)):
        assert out.dtype == np.int64 and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), ascending)
    # descending, ties in index order: the stable ascending sort of -x, NaN (the largest) first
    descending = np.argsort(np.where(np.isnan(x), -np.inf, -np.nan_to_num(x)), axis=dim, kind="stable")
    np.testing.assert_array_equal(minigrad.argsort(t, dim, descending=True).numpy(), descending)


def test_argsort_by_hand_and_errors(device):
    t = minigrad.tensor([[3.0, 1.0, 3.0, 2.0]], device=device)
    assert t.argsort().tolist() == [[1, 3, 0, 2]]
    assert t.argsort(descending=True).tolist() == [[0, 2, 3, 1]]  # the tied 3s in index order
    assert minigrad.argsort(t, 0).tolist() == [[0, 0, 0, 0]]
    with pytest.raises(IndexOutOfRange, match="argsort"):
        t.argsort(2)


# --- bad dims on every scan: the error names the op, the dim and the shape; nothing changes ---------------

SCANS = {
    "cumsum": lambda t, dim: minigrad.cumsum(t, dim),
    "cumprod": lambda t, dim: minigrad.cumprod(t, dim),
    "cummax": lambda t, dim: minigrad.cummax(t, dim),
    "cummin": lambda t, dim: minigrad.cummin(t, dim),
    "logcumsumexp": lambda t, dim: minigrad.logcumsumexp(t, dim),
}
METHODS = {name: (lambda t, dim, name=name: getattr(t, name)(dim)) for name in SCANS}


def _graph_and_input():
    """An input that requires grad, already used by a recorded op (whose backward must survive the error)."""
    x = minigrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=minigrad.float64, requires_grad=True)
    return x, (x * x).sum()


@pytest.mark.parametrize("spelling", ["function", "method"])
@pytest.mark.parametrize("name", list(SCANS))
@pytest.mark.parametrize("dim", [2, -3, 7])
def test_a_dim_out_of_range_raises_index_out_of_range_and_changes_nothing(name, spelling, dim):
    call = (SCANS if spelling == "function" else METHODS)[name]
    x, loss = _graph_and_input()
    before, version = x.numpy().copy(), x._version
    with pytest.raises(IndexOutOfRange, match=rf"^{name}: dim {dim} is out of range for a tensor of shape \(2, 3\)$"):
        call(x, dim)
    np.testing.assert_array_equal(x.numpy(), before)
    assert x._version == version and x.grad is None and x.is_leaf
    loss.backward()  # the graph recorded before the error is intact
    np.testing.assert_array_equal(x.grad.numpy(), 2 * before)


@pytest.mark.parametrize("name", list(SCANS))
@pytest.mark.parametrize("dim", [1.0, (0, 1), (0,), "0", True])
def test_a_dim_that_is_not_one_int_raises_a_dtype_error(name, dim):
    x, _ = _graph_and_input()
    with pytest.raises(DTypeError, match=rf"^{name}: dim must be an int, got "):
        SCANS[name](x, dim)
    assert x.grad is None and x._version == 0


@pytest.mark.parametrize("name", list(SCANS))
def test_a_zero_d_tensor_takes_dims_0_and_minus_1_only(name):
    x = minigrad.tensor(1.5, dtype=minigrad.float64)
    for dim in (0, -1):
        out = SCANS[name](x, dim)
        value = out.values if isinstance(out, tuple) else out
        assert value.shape == () and value.item() == 1.5
    for dim in (1, -2):
        with pytest.raises(IndexOutOfRange, match=rf"^{name}: dim {dim} is out of range for a tensor of shape \(\)$"):
            SCANS[name](x, dim)


@pytest.mark.parametrize("name", list(SCANS))
def test_the_dim_is_required(name):
    x, _ = _graph_and_input()
    with pytest.raises(TypeError, match=name):
        getattr(minigrad, name)(x)


def test_empty_dims_scan_to_empty_results_with_empty_gradients():
    for name, call in SCANS.items():
        for shape, dim in (((0, 3), 0), ((0, 3), 1), ((2, 0), 1)):
            x = minigrad.zeros(*shape, dtype=minigrad.float64, requires_grad=True)
            out = call(x, dim)
            value = out.values if isinstance(out, tuple) else out
            assert value.shape == shape, name
            if isinstance(out, tuple):
                assert out.indices.shape == shape and out.indices.dtype == np.int64
            value.sum().backward()
            assert x.grad.shape == shape

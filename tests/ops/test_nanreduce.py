"""minigrad.ops.nanreduce: nansum, nanmean, nanmedian, quantile, nanquantile, aminmax.

They are composites, so the gradients are gradchecked here (float64, hypothesis shapes, empty dims where the
op takes them, NaN entries for the nan-aware ones); the forwards are checked against NumPy (np.nansum,
np.nanmean, np.quantile / np.nanquantile with the same ``method``, which are PyTorch's definitions).
"""

import warnings

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import check_second_order, distinct_arrays, with_device

import minigrad as mg
from minigrad.errors import ArgumentError, DTypeError, IndexOutOfRange


def _t(a, device="cpu", requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


@st.composite
def _with_nans(draw, min_side=0):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    nan = draw(hnp.arrays(np.bool_, shape))
    return np.where(nan, np.nan, x)


def _dim(draw, ndim):
    return draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1)))


class _nowarn:
    """NumPy's warnings off (nanmean of an all-NaN slice warns; its value is the NaN we check)."""

    def __enter__(self):
        self._state = np.seterr(all="ignore")

    def __exit__(self, *exc):
        np.seterr(**self._state)


@with_device
@given(x=_with_nans(), data=st.data(), keepdim=st.booleans())
def test_nansum_nanmean_forward_and_gradient(device, x, data, keepdim):
    dim = _dim(data.draw, x.ndim)
    t = _t(x, device)
    np.testing.assert_allclose(mg.nansum(t, dim, keepdim).numpy(), np.nansum(x, axis=dim, keepdims=keepdim), atol=1e-12)
    with _nowarn(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want_mean = np.nanmean(x, axis=dim, keepdims=keepdim)
    np.testing.assert_allclose(t.nanmean(dim=dim, keepdim=keepdim).numpy(), want_mean, atol=1e-12)
    # gradients: at the finite entries as sum's and mean's over them, 0 at the NaN entries
    nan = mg.tensor(np.isnan(x), device=device)
    finite = np.where(np.isnan(x), 0.5, x)
    check_gradients(lambda v: mg.nansum(mg.where(nan, float("nan"), v), dim, keepdim), finite, device=device)
    v = _t(finite, device, requires_grad=True)
    mg.nansum(mg.where(nan, float("nan"), v)).backward()
    np.testing.assert_array_equal(v.grad.numpy(), np.where(np.isnan(x), 0.0, 1.0))


def test_nanmean_gradient_and_its_errors():
    x = _t([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan]], requires_grad=True)
    out = mg.nanmean(x, dim=1)
    assert out[0].item() == 1.5 and np.isnan(out[1].item())
    out[0].backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    check_gradients(lambda v: mg.nanmean(v, dim=0), np.array([[1.0, 2.0], [3.0, -1.0]]))
    with pytest.raises(DTypeError, match="nanmean: expected input to have a floating point dtype"):
        mg.nanmean(mg.tensor([1, 2]))
    assert mg.nansum(mg.tensor([1, 2])).item() == 3
    assert mg.nansum(mg.tensor([1.0, float("nan")]), dtype=np.float64).dtype == np.float64
    assert mg.nanmean(mg.tensor([1, 2]), dtype=np.float32).item() == 1.5


METHODS = ["linear", "lower", "higher", "midpoint", "nearest"]


@with_device
@given(data=st.data(), method=st.sampled_from(METHODS), keepdim=st.booleans(), vector=st.booleans())
def test_quantile_matches_numpy_for_every_interpolation(device, data, method, keepdim, vector):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    dim = _dim(data.draw, x.ndim)
    levels = data.draw(st.lists(st.floats(0, 1), min_size=1, max_size=3))
    q = mg.tensor(levels, dtype=np.float64) if vector else levels[0]
    got = mg.quantile(_t(x, device), q, dim=dim, keepdim=keepdim, interpolation=method).numpy()
    want = np.quantile(x, levels if vector else levels[0], axis=dim, keepdims=keepdim, method=method)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    got = _t(x, device).nanquantile(q, dim=dim, keepdim=keepdim, interpolation=method).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@given(x=_with_nans(min_side=1), data=st.data(), method=st.sampled_from(METHODS))
def test_nanquantile_ignores_nan_and_quantile_propagates_it(x, data, method):
    dim = _dim(data.draw, x.ndim)
    level = data.draw(st.floats(0, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # All-NaN slice: the NaN we compare with
        want = np.nanquantile(x, level, axis=dim, method=method)
    np.testing.assert_allclose(mg.nanquantile(_t(x), level, dim=dim, interpolation=method).numpy(), want, atol=1e-12)
    got = mg.quantile(_t(x), level, dim=dim, interpolation=method).numpy()
    has_nan = np.isnan(x).any(axis=dim)
    assert np.array_equal(np.isnan(got), np.broadcast_to(has_nan, np.shape(got)))


@given(data=st.data(), method=st.sampled_from(METHODS))
def test_quantile_gradcheck(data, method):
    shape = data.draw(st.sampled_from([(5,), (3, 4), (2, 3, 2)]))
    x = data.draw(distinct_arrays(shape))  # no ties: the sort under quantile has no kink nearby
    dim = _dim(data.draw, len(shape))
    q = data.draw(st.sampled_from([0.0, 0.3, 0.5, 0.77, 1.0]))
    check_gradients(lambda v: mg.quantile(v, q, dim=dim, interpolation=method), x)
    check_gradients(lambda v: mg.nanquantile(v, mg.tensor([0.2, 0.9], dtype=np.float64), dim=dim), x)


def test_quantile_second_order_and_tied_gradients_as_pytorch():
    check_second_order(lambda v: mg.quantile(v * v, 0.4), np.array([0.3, -1.2, 2.0, 0.9]))
    x = _t([1.0, 2.0, 2.0, 4.0], requires_grad=True)
    mg.quantile(x, 0.5).backward()  # rank 1.5 between the two 2s: half each (PyTorch's)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.5, 0.5, 0.0])
    assert mg.quantile(
        _t([0, 1, 2, 3, 4]), mg.tensor([0.125, 0.375, 0.625, 0.875]), interpolation="nearest"
    ).tolist() == [
        0.0,
        2.0,
        2.0,
        4.0,
    ]  # halves to even
    assert mg.quantile(_t([[1, 2], [3, 4]]), mg.tensor([0.25, 0.5]), dim=1, keepdim=True).shape == (2, 2, 1)
    assert mg.quantile(_t([[1, 2], [3, 4]]), 0.5, keepdim=True).shape == (1, 1)


def test_quantile_errors():
    with pytest.raises(DTypeError, match="quantile: input tensor must be float"):
        mg.quantile(mg.tensor([1, 2]), 0.5)
    with pytest.raises(ArgumentError, match=r"quantile: q must be in the range \[0, 1\]"):
        mg.quantile(mg.tensor([1.0, 2.0]), 1.5)
    with pytest.raises(ArgumentError, match="nanquantile: interpolation must be one of"):
        mg.nanquantile(mg.tensor([1.0, 2.0]), 0.5, interpolation="foo")
    with pytest.raises(ArgumentError, match="quantile: input tensor must be non-empty"):
        mg.quantile(mg.tensor([]), 0.5)
    with pytest.raises(ArgumentError, match="q must be a scalar or a 1-d tensor"):
        mg.quantile(mg.tensor([1.0]), mg.tensor([[0.5]]))


def test_nanmedian_values_indices_and_gradient():
    n = float("nan")
    x = mg.tensor([[n, n, n], [1.0, n, 3.0], [4.0, 2.0, 9.0]])
    values, indices = mg.nanmedian(x, dim=1)
    np.testing.assert_array_equal(values.numpy(), [n, 1.0, 4.0])
    assert indices.tolist() == [1, 0, 0]
    assert mg.nanmedian(mg.tensor([n, 2.0, 1.0, 3.0])).item() == 2.0
    assert np.isnan(mg.tensor([n, n]).nanmedian().item())
    assert mg.nanmedian(x, 1, keepdim=True).values.shape == (3, 1)
    t = _t([1.0, 2.0, 2.0, 4.0], requires_grad=True)
    mg.nanmedian(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.5, 0.5, 0.0])
    check_gradients(lambda v: mg.nanmedian(v, dim=0).values, np.array([[1.0, 5.0], [3.0, 2.0], [0.5, 4.0]]))
    with pytest.raises(IndexOutOfRange, match="nanmedian: dimension 1"):
        mg.nanmedian(mg.zeros(2, 0), dim=1)


def test_aminmax():
    x = _t([[1.0, 5.0], [3.0, 5.0]], requires_grad=True)
    lo, hi = mg.aminmax(x)
    assert lo.item() == 1.0 and hi.item() == 5.0
    (lo + hi).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1.0, 0.5], [0.0, 0.5]])
    r = x.aminmax(dim=0, keepdim=True)
    assert r.min.tolist() == [[1.0, 5.0]] and r.max.tolist() == [[3.0, 5.0]]
    check_gradients(
        lambda v: mg.aminmax(v, dim=1).max * 2 + mg.aminmax(v, dim=1).min, np.array([[1.0, 5.0], [3.0, 2.0]])
    )
    with pytest.raises(IndexOutOfRange, match="aminmax: cannot reduce over an empty dimension"):
        mg.aminmax(mg.tensor([]))

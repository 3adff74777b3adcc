"""The hypothesis toolkit users write their own gradient tests with."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import assert_gradcheck, broadcastable_shapes, shapes, tensors


@given(shapes(max_dims=2))
def test_shapes_are_small_tuples(shape):
    assert isinstance(shape, tuple) and len(shape) <= 2 and all(1 <= s <= 4 for s in shape)


@given(st.data())
def test_broadcastable_shapes_broadcast(data):
    shape = data.draw(shapes())
    other = data.draw(broadcastable_shapes(shape))
    np.broadcast_shapes(shape, other)


@given(tensors(shape=(5,), requires_grad=True))
def test_tensors_are_float64_and_require_grad_when_asked(t):
    assert t.dtype == np.float64 and t.requires_grad and t.shape == (5,)


@given(tensors(shape=shapes(min_dims=1), away_from_kinks=("relu", 2.0), margin=1e-2))
def test_values_stay_away_from_kink_points(t):
    values = t.numpy()
    assert np.all(np.abs(values) >= 1e-2) and np.all(np.abs(values - 2.0) >= 1e-2)


@given(tensors(shape=(6,), away_from_kinks=("max",), elements=st.sampled_from([0.0, 1.0])))
def test_ties_are_spread_apart(t):
    values = np.sort(t.numpy())
    assert np.all(np.diff(values) >= 1e-3)


@given(tensors(shape=shapes(min_dims=1), requires_grad=True, away_from_kinks=("relu",)))
def test_relu_passes_gradcheck_away_from_its_kink(x):
    report = assert_gradcheck(lambda x: (x.relu() * x).sum(), x)
    assert not report.kinks


def test_assert_gradcheck_raises_assertion_error_with_the_report():
    class Bad(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, g):
            return 3 * g

    with pytest.raises(AssertionError, match="gradcheck FAILED"):
        assert_gradcheck(lambda x: Bad.apply(x).sum(), mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True))


def test_unknown_op_name():
    with pytest.raises(ValueError, match="unknown op"):
        tensors(away_from_kinks=("nope",))

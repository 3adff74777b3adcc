"""Factories and the seeded generator."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import ShapeError


def test_factories():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).dtype == np.float32
    assert mg.ones([4]).numpy().tolist() == [1.0] * 4
    assert mg.full((2,), 7).dtype == np.int64 and mg.full((2,), 0.5).dtype == np.float32
    x = mg.tensor([[1.0, 2.0]], dtype=mg.float64)
    assert mg.zeros_like(x).dtype == np.float64 and mg.ones_like(x).shape == (1, 2)
    assert mg.full_like(x, 3.0).tolist() == [[3.0, 3.0]]
    assert mg.arange(3).tolist() == [0, 1, 2] and mg.arange(3).dtype == np.int64
    assert mg.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_array_equal(mg.eye(3).numpy(), np.eye(3, dtype=np.float32))
    assert mg.eye(2, 3).shape == (2, 3)
    assert mg.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert mg.zeros(2, requires_grad=True).requires_grad


def test_bad_sizes():
    with pytest.raises(ShapeError, match="zeros"):
        mg.zeros(-1)


def test_manual_seed_repeats_random_draws():
    mg.manual_seed(123)
    a = (mg.rand(5).numpy(), mg.randn(2, 2).numpy(), mg.randint(0, 10, (4,)).numpy(), mg.randperm(5).numpy())
    mg.manual_seed(123)
    b = (mg.rand(5).numpy(), mg.randn(2, 2).numpy(), mg.randint(0, 10, (4,)).numpy(), mg.randperm(5).numpy())
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert mg.rand(3).dtype == np.float32 and mg.randn(3, dtype=mg.float64).dtype == np.float64
    r = mg.rand(1000).numpy()
    assert 0 <= r.min() and r.max() < 1


def test_randint_takes_pytorchs_high_size_form():
    mg.manual_seed(0)
    t = mg.randint(2, (500,))  # torch.randint(high, size): [0, 2), not a 0-d draw from [2, 500)
    assert t.shape == (500,) and t.dtype == np.int64
    assert set(t.tolist()) == {0, 1}
    assert mg.randint(3, size=(2, 2)).shape == (2, 2) and mg.randint(5, 7, [3]).shape == (3,)

"""Weight initialization (minigrad.nn.init): the statistics of each scheme on a big
tensor (loose bounds), fans, gains, in-place semantics and repeatability."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad.nn import init

FAN_OUT, FAN_IN = 400, 500  # a (400, 500) weight: 200,000 draws


@pytest.fixture(autouse=True)
def _seeded():
    """Deterministic draws (the bounds are many standard errors wide anyway); the caller's stream is kept."""
    with mg.fork_rng():
        mg.manual_seed(0)
        yield


def _weight(shape=(FAN_OUT, FAN_IN), dtype=mg.float32):
    return mg.empty(*shape, dtype=dtype)


def _check_uniform(values, low, high):
    values = values.astype(np.float64).ravel()
    width = high - low
    assert values.min() >= low and values.max() <= high
    assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width
    assert values.mean() == pytest.approx((low + high) / 2, abs=0.01 * width)
    assert values.std() == pytest.approx(width / math.sqrt(12), rel=0.02)
    quarters = np.histogram(values, bins=4, range=(low, high))[0] / values.size
    np.testing.assert_allclose(quarters, 0.25, atol=0.01)


def _check_normal(values, mean, std):
    values = values.astype(np.float64).ravel()
    assert values.mean() == pytest.approx(mean, abs=0.01 * std)
    assert values.std() == pytest.approx(std, rel=0.02)
    within = np.mean(np.abs(values - mean) < std)
    assert within == pytest.approx(0.6827, abs=0.01)  # the normal's one-sigma mass


@pytest.mark.parametrize(
    "kwargs, gain, fan",
    [
        ({}, math.sqrt(2.0), FAN_IN),  # a = 0: leaky relu of slope 0 is relu
        (dict(a=math.sqrt(5)), math.sqrt(1 / 3), FAN_IN),  # Linear's default: bound 1 / sqrt(fan_in)
        (dict(mode="fan_out", nonlinearity="relu"), math.sqrt(2.0), FAN_OUT),
        (dict(nonlinearity="tanh"), 5 / 3, FAN_IN),
    ],
)
def test_kaiming_uniform(kwargs, gain, fan):
    w = _weight()
    bound = gain * math.sqrt(3 / fan)
    _check_uniform(init.kaiming_uniform_(w, **kwargs).numpy(), -bound, bound)


@pytest.mark.parametrize(
    "kwargs, std",
    [
        ({}, math.sqrt(2 / FAN_IN)),
        (dict(mode="fan_out"), math.sqrt(2 / FAN_OUT)),
        (dict(a=0.2, nonlinearity="leaky_relu"), math.sqrt(2 / (1 + 0.04)) / math.sqrt(FAN_IN)),
        (dict(nonlinearity="linear"), 1 / math.sqrt(FAN_IN)),
    ],
)
def test_kaiming_normal(kwargs, std):
    _check_normal(init.kaiming_normal_(_weight(), **kwargs).numpy(), 0.0, std)


@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(gain):
    bound = gain * math.sqrt(6 / (FAN_IN + FAN_OUT))
    _check_uniform(init.xavier_uniform_(_weight(), gain=gain).numpy(), -bound, bound)
    _check_normal(init.xavier_normal_(_weight(), gain=gain).numpy(), 0.0, gain * math.sqrt(2 / (FAN_IN + FAN_OUT)))


def test_fans_of_conv_weights_count_the_receptive_field():
    w = _weight((64, 8, 3, 5))
    assert init.fans(w) == (8 * 15, 64 * 15)
    bound = math.sqrt(2) * math.sqrt(3 / 120)
    _check_uniform(init.kaiming_uniform_(w).numpy(), -bound, bound)
    with pytest.raises(mg.ShapeError, match="at least 2 dimensions"):
        init.kaiming_uniform_(mg.empty(10))
    with pytest.raises(mg.ArgumentError, match="mode must be"):  # a ValueError, and a MinigradError
        init.kaiming_normal_(_weight(), mode="fan_avg")


def test_uniform_normal_and_constants():
    _check_uniform(init.uniform_(_weight()).numpy(), 0.0, 1.0)
    _check_uniform(init.uniform_(_weight(), -2.0, 5.0).numpy(), -2.0, 5.0)
    _check_normal(init.normal_(_weight()).numpy(), 0.0, 1.0)
    _check_normal(init.normal_(_weight(), mean=2.0, std=3.0).numpy(), 2.0, 3.0)
    np.testing.assert_array_equal(init.zeros_(_weight((3, 4))).numpy(), np.zeros((3, 4)))
    np.testing.assert_array_equal(init.ones_(_weight((3, 4))).numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(init.constant_(_weight((2, 2)), 0.5).numpy(), np.full((2, 2), 0.5))


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_init_works_in_place_and_keeps_the_dtype(dtype):
    w = mg.zeros(20, 30, dtype=dtype, requires_grad=True)
    data, version = w.array, w._version
    for fill in (init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_, init.xavier_normal_,
                 init.uniform_, init.normal_, init.zeros_, init.ones_):  # fmt: skip
        assert fill(w) is w
        assert w.array is data and w.dtype == dtype and w.requires_grad
        assert w._version > version
        version = w._version


@pytest.mark.parametrize(
    "fill", [init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_, init.xavier_normal_, init.uniform_,
             init.normal_],
)  # fmt: skip
def test_manual_seed_makes_init_repeat(fill):
    mg.manual_seed(5)
    a = fill(_weight((30, 40))).numpy()
    b = fill(_weight((30, 40))).numpy()
    mg.manual_seed(5)
    np.testing.assert_array_equal(fill(_weight((30, 40))).numpy(), a)
    assert not np.array_equal(a, b)  # the stream moves on


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(mg.ArgumentError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_calculate_gain_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ("linear", "conv1d", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"):
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name)), name
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.3))

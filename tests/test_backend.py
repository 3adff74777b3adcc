"""Devices: the one switch between NumPy and CuPy."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend
from minigrad.errors import DeviceError


def test_unknown_device():
    with pytest.raises(DeviceError, match="unknown device"):
        mg.zeros(2, device="tpu")


@pytest.mark.skipif(mg.cuda_is_available(), reason="CuPy with a GPU is present")
def test_cuda_without_cupy_says_how_to_install():
    with pytest.raises(DeviceError, match=r"pip install 'minigrad\[gpu\]'"):
        mg.zeros(2, device="cuda")


def test_ops_run_on_every_device(device):
    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    w = mg.tensor([[1.0], [2.0], [3.0]], device=device)
    y = ((x * 2).relu() @ w).sum()
    y.backward()
    assert x.grad.device == device
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 6.0])


def test_to_moves_and_gradient_comes_back(device):
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(device)
    assert y.device == device
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_mixing_devices_is_a_clear_error():
    if not mg.cuda_is_available():
        pytest.skip("needs a GPU")
    with pytest.raises(DeviceError, match="one device"):
        mg.ones(2) + mg.ones(2, device="cuda")


def test_fast_broadcast_matches_numpy():
    rng = np.random.default_rng(0)
    for shape, target in [((), (3, 2)), ((3, 1), (2, 3, 4)), ((1, 4), (5, 4)), ((2, 3), (2, 3))]:
        a = rng.standard_normal(shape)
        view = backend.broadcast_to(a, target)
        np.testing.assert_array_equal(view, np.broadcast_to(a, target))
        assert not view.flags.writeable
    with pytest.raises(ValueError):
        backend.broadcast_to(np.ones(3), (4,))
    transposed = np.ones((2, 3)).T
    np.testing.assert_array_equal(backend.broadcast_to(transposed, (2, 3, 2)), np.ones((2, 3, 2)))


def test_the_cuda_namespace_answers_without_a_gpu_too():
    assert mg.cuda.is_available() == mg.cuda_is_available()
    assert mg.cuda.device_count() >= 1 if mg.cuda.is_available() else mg.cuda.device_count() == 0
    mg.cuda.synchronize()  # a no-op without a GPU, a wait with one


def test_fork_rng_leaves_a_generator_it_cannot_copy_alone():
    """CuPy's generator holds a lock, so it cannot be deep-copied: fork_rng must not try."""
    import threading

    class Uncopyable:
        lock = threading.Lock()

        def __init__(self):
            self.own_lock = threading.Lock()

    outside = Uncopyable()
    mg.manual_seed(3)
    mg.rand(3)
    second = mg.rand(3).numpy()  # the stream's second draw
    mg.manual_seed(3)
    mg.rand(3)  # the stream now stands before its second draw
    backend._generators["cuda"] = outside
    try:
        with mg.fork_rng():
            assert "cuda" not in backend._generators  # a fresh one would be made inside
            np.testing.assert_array_equal(mg.rand(3).numpy(), second)  # the copy continues the stream
            mg.manual_seed(99)
            mg.rand(5)
        assert backend._generators["cuda"] is outside
        np.testing.assert_array_equal(mg.rand(3).numpy(), second)  # the stream outside was not advanced
    finally:
        backend._generators.pop("cuda", None)


def test_python_numbers_belong_to_numpy():
    """A Python number is a host value: taking it for a CuPy array gave 'cuda needs CuPy' errors (stack([0, 1]))."""
    for value in (3, 2.5, True, 1j):
        assert backend.xp_of(value) is np
        assert backend.device_of(value) == "cpu"
    np.testing.assert_array_equal(mg.stack([0, 1]).numpy(), [0, 1])

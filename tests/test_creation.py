"""Factories and the seeded generator."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import DTypeError, OutOfMemory, ShapeError


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


def test_rand_like_and_randn_like_take_shape_dtype_device_of_their_input(device):
    x = mg.zeros(3, 4, dtype=mg.float64, device=device)
    mg.manual_seed(7)
    u, n = mg.rand_like(x), mg.randn_like(x)
    assert u.shape == n.shape == (3, 4) and u.dtype == n.dtype == np.float64 and u.device == n.device == x.device
    mg.manual_seed(7)  # the same generator as rand/randn: the same draws
    np.testing.assert_array_equal(u.numpy(), mg.rand(3, 4, dtype=mg.float64, device=device).numpy())
    np.testing.assert_array_equal(n.numpy(), mg.randn(3, 4, dtype=mg.float64, device=device).numpy())
    assert 0 <= u.numpy().min() and u.numpy().max() < 1
    assert mg.randn_like(x, dtype=mg.float32).dtype == np.float32
    assert mg.rand_like(x, requires_grad=True).requires_grad and not u.requires_grad
    assert mg.randn_like(mg.randn(2000)).numpy().std() == pytest.approx(1.0, abs=0.1)


def test_reparameterisation_with_randn_like_sends_the_gradient_to_mu_and_std():
    mu = mg.tensor([0.5, -1.0], dtype=mg.float64, requires_grad=True)
    std = mg.tensor([2.0, 0.5], dtype=mg.float64, requires_grad=True)
    mg.manual_seed(3)
    eps = mg.randn_like(std)
    (mu + std * eps).sum().backward()
    np.testing.assert_array_equal(mu.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(std.grad.numpy(), eps.numpy())


def test_new_factories_take_this_tensors_dtype_and_device_unless_given(device):
    x = mg.tensor([1.5, 2.5], dtype=mg.float64, device=device)
    z, o, e, f = x.new_zeros(2, 3), x.new_ones((4,)), x.new_empty(1, 2), x.new_full((2, 2), 3.5)
    for t, shape in ((z, (2, 3)), (o, (4,)), (e, (1, 2)), (f, (2, 2))):
        assert t.shape == shape and t.dtype == np.float64 and t.device == x.device and not t.requires_grad
    assert z.numpy().tolist() == [[0.0] * 3] * 2 and o.numpy().tolist() == [1.0] * 4 and f.tolist() == [[3.5] * 2] * 2
    assert x.new_full(3, 1).dtype == np.float64  # this tensor's dtype, not int64 as full() would pick
    assert x.new_zeros(2, dtype=mg.int64).dtype == np.int64 and x.new_ones(2, requires_grad=True).requires_grad
    t = x.new_tensor([1, 2])  # PyTorch: data takes this tensor's dtype
    assert t.dtype == np.float64 and t.tolist() == [1.0, 2.0] and t.device == x.device
    data = np.array([1.0, 2.0])
    copied = x.new_tensor(data)
    data[0] = 9.0
    assert copied.tolist() == [1.0, 2.0]  # a copy
    with pytest.raises(ShapeError, match="new_zeros: size must be non-negative"):
        x.new_zeros(-1)


def test_type_as_casts_to_the_other_tensors_dtype_and_stays_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    other = mg.zeros(1, dtype=mg.float64)
    y = x.type_as(other)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [2.0, 4.0]
    assert x.type_as(mg.zeros(1)) is x
    assert x.type_as(mg.zeros(1, dtype=mg.int64)).dtype == np.int64


@pytest.mark.parametrize("make", [
    lambda: mg.zeros(2**40, 2**20), lambda: mg.ones(2**61), lambda: mg.empty(2**61),
    lambda: mg.full((2**61,), 1.0), lambda: mg.rand(2**61), lambda: mg.randn(2**61),
    lambda: mg.randint(3, (2**61,)),
])  # fmt: skip
def test_an_allocation_past_the_machine_is_out_of_memory_naming_the_op(make):
    # sizes NumPy refuses at once (past the address space), so nothing is allocated
    with pytest.raises(OutOfMemory, match=r"^\w+: cannot allocate a tensor of shape \(\d+(, \d+)?,?\) and dtype \w+: "):
        make()
    with pytest.raises(MemoryError):  # ... and still a MemoryError
        make()


def test_randperm_dtype_as_pytorch():
    assert mg.randperm(5).dtype == mg.int64
    p = mg.randperm(6, dtype=mg.float64, requires_grad=True)
    assert p.dtype == mg.float64 and p.requires_grad and sorted(p.numpy()) == list(range(6))
    with pytest.raises(DTypeError, match="randperm: only floating-point tensors can require gradients"):
        mg.randperm(3, requires_grad=True)

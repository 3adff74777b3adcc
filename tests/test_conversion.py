"""minigrad.conversion: as_tensor, asarray, empty_like, scalar_tensor, and clone/detach as functions."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import ArgumentError


def test_as_tensor_shares_memory_when_it_can(device):
    a = np.arange(3.0)
    t = mg.as_tensor(a)
    a[0] = 9.0
    assert t.tolist() == [9.0, 1.0, 2.0] and t.dtype == np.float64
    x = mg.tensor([1.0, 2.0], device=device)
    assert mg.as_tensor(x) is x and mg.as_tensor(x, device=device) is x
    y = mg.as_tensor(x, dtype=np.float64)
    assert y is not x and y.dtype == np.float64 and y.device == device
    assert mg.as_tensor([1.0, 2.0]).dtype == np.float32 and mg.as_tensor([1, 2]).dtype == np.int64
    assert mg.as_tensor(a, dtype=np.float32).dtype == np.float32


def test_as_tensor_keeps_the_graph_through_a_cast():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    (mg.as_tensor(w, dtype=np.float64) * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0] and w.grad.dtype == np.float32


def test_asarray_copy_rules_and_requires_grad():
    b = np.arange(3.0)
    shared, copied = mg.asarray(b), mg.asarray(b, copy=True)
    b[0] = 5.0
    assert shared.tolist() == [5.0, 1.0, 2.0] and copied.tolist() == [0.0, 1.0, 2.0]
    assert mg.asarray([1, 2]).dtype == np.int64 and mg.asarray([1.0]).dtype == np.float32
    x = mg.tensor([1.0])
    assert mg.asarray(x) is x
    with pytest.raises(ArgumentError, match="asarray: copy=False"):
        mg.asarray([1.0, 2.0], copy=False)
    with pytest.raises(ArgumentError, match="asarray: copy=False"):
        mg.asarray(b, dtype=np.float32, copy=False)
    leaf = mg.asarray(b, requires_grad=True)
    assert leaf.requires_grad and leaf.is_leaf
    b[1] = 7.0
    assert leaf.tolist()[1] == 7.0


def test_empty_like_and_scalar_tensor(device):
    src = mg.zeros(2, 3, dtype=np.int64, device=device)
    e = mg.empty_like(src)
    assert e.shape == (2, 3) and e.dtype == np.int64 and e.device == device
    assert mg.empty_like(src, dtype=np.float64, requires_grad=True).requires_grad
    s = mg.scalar_tensor(1)
    assert s.shape == () and s.dtype == np.float32 and s.item() == 1.0
    assert mg.scalar_tensor(2, dtype=np.int64).dtype == np.int64
    assert mg.scalar_tensor(True).dtype == np.float32
    assert mg.scalar_tensor(1.5, device=device, requires_grad=True).requires_grad


def test_clone_and_detach_functions():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.clone(x)
    assert c.grad_fn is not None and c.array is not x.array
    (c * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    d = mg.detach(x)
    assert not d.requires_grad and d.array is x.array

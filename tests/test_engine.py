"""The backward engine: its two sinks, and gradients that own their memory without reference counts."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import engine
from minigrad.engine import GRAD_SINK, TargetSink, run_backward


def _roots(y):
    return [y], [mg.tensor(np.ones(y.shape, dtype=y.dtype))]


def test_the_grad_sink_fills_dot_grad_and_the_target_sink_does_not():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    run_backward(*_roots(y), GRAD_SINK, retain_graph=True, create_graph=False)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])
    before = x.grad.numpy().copy()
    sink = TargetSink([x])
    run_backward(*_roots(y), sink, retain_graph=False, create_graph=False)
    np.testing.assert_array_equal(sink.results[0].numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(x.grad.numpy(), before)  # left alone


def test_the_target_sink_keeps_a_non_leaf_cotangent():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    sink = TargetSink([h, x])
    run_backward(*_roots(y), sink, retain_graph=False, create_graph=False)
    np.testing.assert_array_equal(sink.results[0].numpy(), [6.0, 12.0])  # d y / d h = 2 h
    np.testing.assert_array_equal(sink.results[1].numpy(), [18.0, 36.0])
    assert x.grad is None


def _memory_root(a):
    while a.base is not None:
        a = a.base
    return a


def test_a_fresh_weight_gradient_is_kept_without_a_copy():
    # linear's weight gradient is a transposed view of a new GEMM result: fresh, so kept as it is
    layer = mg.nn.Linear(3, 2)
    x = mg.randn(4, 3)
    layer(x).sum().backward()
    w_grad = layer.weight.grad.array
    assert w_grad.base is not None and w_grad.base.base is None  # the GEMM's own result, not a copy of it
    for other in (layer.weight.array, layer.bias.grad.array, x.array):
        assert not np.shares_memory(w_grad, other)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x.reshape(2, 2),  # reshape's vjp: a view of the upstream cotangent
        lambda x: x.sum(),  # sum's vjp: a broadcast view of the cotangent
        lambda x: x + 0.0,  # add hands the cotangent on as it is
        lambda x: x[:, None].squeeze(1)[::-1],  # a chain of views
    ],
    ids=["reshape", "sum", "add", "views"],
)
def test_a_cotangent_the_vjp_did_not_allocate_is_copied(make):
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    y = make(x)
    g = np.ones(y.shape)
    y.backward(g)
    assert not np.shares_memory(x.grad.array, g)
    x.grad.array += 1  # the gradient is the user's to change
    np.testing.assert_array_equal(g, np.ones(y.shape))


def test_the_same_cotangent_reaching_two_leaves_gives_two_buffers():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a * 2 + b * 2).sum().backward()  # add's vjp hands one array to both branches
    c = mg.tensor([1.0, 2.0], requires_grad=True)
    d = mg.tensor([3.0, 4.0], requires_grad=True)
    (c + d).backward(np.ones(2))
    assert not np.shares_memory(c.grad.array, d.grad.array)
    assert not np.shares_memory(a.grad.array, b.grad.array)


def test_a_custom_function_returning_a_saved_array_gets_a_copy():
    class ReturnsInput(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return x  # the input's own memory: a wrong but legal gradient

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    ReturnsInput.apply(x).sum().backward()
    assert not np.shares_memory(x.grad.array, x.array)
    x.grad.array[...] = 0
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_ownership_is_decided_without_reference_counts(monkeypatch):
    import sys

    def forbidden(*args):
        raise AssertionError("the engine must not read reference counts")

    monkeypatch.setattr(sys, "getrefcount", forbidden)
    layer = mg.nn.Linear(3, 2)
    layer(mg.randn(4, 3)).sum().backward()
    assert layer.weight.grad is not None


def test_fresh_sees_through_views_of_the_given_arrays():
    x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.T * 1.0
    node = y._node
    g = np.ones((3, 2))
    assert not engine._fresh(g.T, node, g)  # a view of the cotangent
    assert not engine._fresh(node.arrays[0].T, node, g)  # a view of an input
    assert engine._fresh(np.zeros((2, 3)), node, g)


def test_the_memory_root_stops_at_a_buffer_that_is_no_array():
    import mmap

    block = mmap.mmap(-1, 64)
    owner = np.frombuffer(block, np.float64, 8)  # its base is the mmap, not an array
    view = owner.reshape(2, 4).T
    assert engine._root(view) is owner
    assert engine._root(owner) is owner

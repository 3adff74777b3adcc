"""Tensor.register_post_accumulate_grad_hook: runs with the leaf once its .grad is complete, during the backward.

- the hook sees the final .grad (summed over every use, after the leaf's register_hook hooks, accumulated
  onto an existing .grad), and it runs before the backward has reached the leaves used earlier in the forward;
- every .grad is the same with hooks as without (an MLP), including a leaf that is itself a root;
- handles remove; minigrad.grad runs none; errors on non-leaves, on tensors without grad, on non-callables.
"""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import GraphError


def test_hook_sees_the_complete_grad_while_the_backward_runs():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(("a", t.grad.numpy().tolist(), b.grad is not None)))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.numpy().tolist(), a.grad is not None)))
    h = a * 3  # a is used first in the forward: its gradient is complete last
    y = (h * b).sum() + (b * b).sum()
    y.backward()
    # b: d/db = h + 2b = [3, 6] + [6, 8]; a: 3 b = [9, 12]; when b's hook ran, a.grad was not written yet
    assert seen == [("b", [9.0, 14.0], False), ("a", [9.0, 12.0], True)]


def test_hook_after_tensor_hooks_and_accumulation():
    a = mg.tensor([1.0, -2.0], requires_grad=True)
    a.register_hook(lambda g: g * 10)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    (a * a).sum().backward()
    (a * a).sum().backward()
    np.testing.assert_array_equal(seen[0], [20.0, -40.0])
    np.testing.assert_array_equal(seen[1], [40.0, -80.0])
    np.testing.assert_array_equal(a.grad.numpy(), [40.0, -80.0])


def test_grads_unchanged_by_hooks_on_an_mlp():
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(5, 7), mg.nn.Tanh(), mg.nn.Linear(7, 3))
    x = mg.randn(4, 5)

    def grads():
        model.zero_grad()
        (model(x) ** 2).sum().backward()
        return [p.grad.numpy().copy() for p in model.parameters()]

    plain = grads()
    order = []
    handles = [
        p.register_post_accumulate_grad_hook(lambda t, i=i: order.append(i)) for i, p in enumerate(model.parameters())
    ]
    hooked = grads()
    for g, h in zip(plain, hooked):
        np.testing.assert_array_equal(g, h)
    # the last layer's weight and bias are complete first (one linear node feeds both), then the first layer's
    assert order == [2, 3, 0, 1]
    for handle in handles:
        handle.remove()
    order.clear()
    grads()
    assert order == []


def test_leaf_root_and_grad():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().tolist()))
    a.backward(mg.tensor([1.0, 1.0]))
    assert seen == [[1.0, 1.0]]
    (g,) = mg.grad((a * a).sum(), [a])
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    assert seen == [[1.0, 1.0]]  # grad() writes no .grad and runs no post-accumulate hook


def test_errors():
    a = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match="cannot be registered on non-leaf tensors"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(GraphError, match="does not require grad"):
        mg.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(TypeError, match="hook must be callable"):
        a.register_post_accumulate_grad_hook(3)

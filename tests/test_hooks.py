"""Gradient hooks, retain_grad, grad_fn and the small Tensor API of PyTorch (contiguous, numel, data_ptr, ...)."""

import gc

import numpy as np
import pytest

import minigrad as mg
from minigrad import tape
from minigrad.errors import ArgumentError, GraphError


def _t(values, device="cpu", requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad, device=device)


# --- register_hook on non-leaves ------------------------------------------------------------------------


def test_hook_on_a_non_leaf_sees_its_full_gradient_and_can_replace_it(device):
    x = _t([1.0, -2.0, 3.0], device)
    y = x * 2
    seen = []

    def hook(g):
        seen.append(g.numpy().copy())
        return g * 10

    y.register_hook(hook)
    z = (y * y).sum() + y.sum()  # y used twice: the hook gets the sum of both cotangents, once
    z.backward()
    xv = np.array([1.0, -2.0, 3.0])
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * (2 * xv) + 1)
    np.testing.assert_allclose(x.grad.numpy(), 2 * 10 * (2 * (2 * xv) + 1))


def test_hooks_run_in_registration_order_and_none_keeps_the_gradient(device):
    x = _t([1.0, 2.0], device)
    y = x.exp()
    order = []
    y.register_hook(lambda g: order.append("a"))
    y.register_hook(lambda g: order.append("b") or g + 1)
    y.register_hook(lambda g: order.append("c") or g * 3)
    y.sum().backward()
    assert order == ["a", "b", "c"]
    np.testing.assert_allclose(x.grad.numpy(), 3 * (1 + 1) * np.exp([1.0, 2.0]))


def test_handle_remove_unregisters(device):
    x = _t([1.0, 2.0], device)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 0)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0])
    handle.remove()
    handle.remove()  # a second remove does nothing
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])
    assert calls == [1]
    assert len(tape.LEAF_HOOKS.data) == 0 or tape.LEAF_HOOKS.get(x) is None


def test_hook_on_a_leaf_clips_before_accumulation_and_applies_to_grad(device):
    x = _t([1.0, -4.0, 0.5], device)
    x.register_hook(lambda g: g.clamp(-1.0, 1.0))
    (x * x).sum().backward()  # raw gradient 2x = [2, -8, 1]
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 1.0])
    (x * x).sum().backward()  # accumulates the clipped gradient again
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -2.0, 2.0])
    (g,) = mg.grad((x * 3).sum(), x)  # grad() passes through the leaf's hooks too, as PyTorch's
    np.testing.assert_allclose(g.numpy(), [1.0, 1.0, 1.0])


def test_hook_on_the_root_and_on_a_leaf_root(device):
    x = _t([1.0, 2.0], device)
    y = x * 2
    y.register_hook(lambda g: g * 5)
    y.backward(mg.tensor(np.ones(2), device=device))
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])
    w = _t([3.0], device)
    w.register_hook(lambda g: g * 7)
    w.backward(mg.tensor(np.ones(1), device=device))
    np.testing.assert_allclose(w.grad.numpy(), [7.0])


def test_hook_returning_a_wrong_shape_is_an_error_and_leaves_grads_alone(device):
    x = _t([1.0, 2.0], device)
    y = x * 2
    y.register_hook(lambda g: g.sum())
    with pytest.raises(GraphError, match=r"shape \(\) for a tensor of shape \(2,\)"):
        y.sum().backward()
    assert x.grad is None


def test_register_hook_needs_requires_grad_and_a_callable():
    with pytest.raises(GraphError, match="does not require grad"):
        mg.tensor([1.0]).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="callable"):
        mg.tensor([1.0], requires_grad=True).register_hook(3)


def _hooked_result():
    x = _t([1.0, 2.0])
    y = x * 2
    y.register_hook(lambda g: g * y)  # the hook holds its own tensor: a cycle through the hook table
    return y


def test_hooks_do_not_keep_a_freed_graph_alive():
    y = _hooked_result()
    node = y._node
    assert tape.NODE_HOOKS.get(node) is not None
    y.sum().backward()  # frees the graph: the node's hooks are dropped with it
    assert tape.NODE_HOOKS.get(node) is None
    del y, node
    gc.collect()
    assert len(tape.NODE_HOOKS) == 0


def test_a_leaf_hook_table_entry_goes_with_its_tensor():
    x = _t([1.0])
    x.register_hook(lambda g: g)
    assert len(tape.LEAF_HOOKS) == 1
    del x
    gc.collect()
    assert len(tape.LEAF_HOOKS) == 0


# --- hooks under create_graph -------------------------------------------------------------------------------


def test_hook_arithmetic_is_differentiated_under_create_graph(device):
    xv = np.array([0.5, 2.0, -1.5])
    x = _t(xv, device)
    y = x**2
    handle = y.register_hook(lambda g: g * y)  # dL/dy -> dL/dy * y
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 2 * xv**3)  # (1 * x^2) * 2x
    handle.remove()  # otherwise the second backward, which passes through y, runs the hook again
    (gg,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * xv**2)


def test_a_hook_still_registered_fires_in_the_second_backward_too(device):
    # As in PyTorch: the second backward passes through y, so its hook runs there as well.
    # g = y * 2x (the hooked first backward); the second backward gives y's cotangent 2x, the hook makes it
    # 2x * y, which reaches x as 2x * y * 2x; plus the direct term d(y * 2x)/dx through 2x: 2y.
    xv = np.array([0.5, 2.0, -1.5])
    x = _t(xv, device)
    y = x**2
    y.register_hook(lambda g: g * y)
    (g,) = mg.grad(y.sum(), x, create_graph=True)
    (gg,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), 4 * xv**4 + 2 * xv**2)


def test_leaf_hook_under_create_graph_gives_a_differentiable_gradient(device):
    xv = np.array([0.3, -0.7])
    x = _t(xv, device)
    x.register_hook(lambda g: g * x)  # grad -> grad * x
    (g,) = mg.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), 3 * xv**3)
    assert g.requires_grad


def test_gradgradcheck_through_a_hook():
    x = _t([0.4, -1.2, 2.0])

    def first(x):
        y = x.tanh()
        handle = y.register_hook(lambda g: g * 2 + y)
        (g,) = mg.grad((y * x).sum(), x, create_graph=True)
        handle.remove()  # gradcheck's own backward of g must not run it again (it would, as in PyTorch)
        return g

    mg.gradcheck(first, (x,))


# --- retain_grad, is_leaf, grad_fn ----------------------------------------------------------------------------


def test_retain_grad_fills_a_non_leaf_grad_after_its_hooks_and_accumulates(device):
    x = _t([1.0, 2.0], device)
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    assert y.retains_grad and not x.retains_grad and not y.is_leaf and x.is_leaf
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad.numpy(), 2 * 2 * np.array([3.0, 6.0]))
    z.backward()
    np.testing.assert_allclose(y.grad.numpy(), 2 * 2 * 2 * np.array([3.0, 6.0]))
    assert y.retains_grad  # still set once the graph is freed
    w = x * 1
    w.retain_grad()
    mg.grad((w * 2).sum(), x)
    assert w.grad is None  # grad() leaves .grad alone


def test_retain_grad_without_it_a_non_leaf_grad_stays_none_and_leaf_is_a_no_op():
    x = _t([1.0])
    y = x * 2
    x.retain_grad()
    (y * y).sum().backward()
    assert y.grad is None and x.grad is not None and not x.retains_grad
    with pytest.raises(GraphError, match="does not require grad"):
        mg.tensor([1.0]).retain_grad()


def test_retained_grad_under_create_graph_is_a_tensor_with_history():
    x = _t([1.5])
    y = x * x
    y.retain_grad()
    (y * y).sum().backward(create_graph=True)
    assert y.grad.requires_grad
    np.testing.assert_allclose(y.grad.numpy(), [2 * 1.5**2])


def test_grad_fn_names_and_next_functions():
    x = _t([1.0, 2.0])
    c = mg.tensor([3.0, 4.0], dtype=mg.float64)
    y = x * c
    assert x.grad_fn is None
    assert y.grad_fn.name() == "MulBackward0" and repr(y.grad_fn).startswith("<MulBackward0 object at")
    assert (x.exp() / 2).grad_fn.name() == "DivBackward0" and x.exp().grad_fn.name() == "ExpBackward0"
    assert y.grad_fn == y.grad_fn and y.grad_fn.node is y._node
    (acc, k), (none, _) = y.grad_fn.next_functions
    assert acc.variable is x and acc.name() == "torch::autograd::AccumulateGrad" and k == 0 and none is None
    z = y.sum()
    ((parent, _),) = z.grad_fn.next_functions
    assert parent == y.grad_fn
    assert "grad_fn=<SumBackward0>" in repr(z)
    z.backward()
    with pytest.raises(GraphError, match="freed by a backward"):
        _ = z.grad_fn.next_functions


# --- the small Tensor API -------------------------------------------------------------------------------


def test_contiguous_returns_self_or_a_c_order_copy_with_the_gradient_passing_through(device):
    x = _t(np.arange(6.0).reshape(2, 3), device)
    assert x.is_contiguous() and x.contiguous() is x
    t = x.T
    assert not t.is_contiguous()
    c = t.contiguous()
    assert c.is_contiguous() and c.data_ptr() != t.data_ptr() and c.grad_fn.name() == "CloneBackward0"
    np.testing.assert_array_equal(c.numpy(), np.arange(6.0).reshape(2, 3).T)
    w = mg.tensor(np.arange(6.0).reshape(3, 2), dtype=mg.float64, device=device)
    (c * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(6.0).reshape(3, 2).T)
    with pytest.raises(ArgumentError, match="contiguous"):
        x.contiguous(memory_format="channels_last")


def test_contiguous_passes_gradcheck():
    x = _t(np.random.default_rng(0).standard_normal((3, 4)))
    mg.gradcheck(lambda x: x.T.contiguous() * x.T, (x,))


def test_sizes_and_counts():
    x = mg.zeros(2, 3, 4)
    assert x.numel() == x.nelement() == 24 and x.dim() == x.ndimension() == 3
    assert mg.tensor(1.0).numel() == 1 and mg.tensor(1.0).dim() == 0


def test_data_ptr_is_shared_by_views_and_differs_for_copies(device):
    x = mg.tensor(np.arange(6.0), device=device)
    assert x.data_ptr() == x.reshape(2, 3).data_ptr() == x.detach().data_ptr()
    assert x[2:].data_ptr() == x.data_ptr() + 2 * 8
    assert x.clone().data_ptr() != x.data_ptr()


def test_detach_in_place_makes_a_leaf():
    x = _t([1.0])
    y = x * 2
    assert y.detach_() is y and y.is_leaf and not y.requires_grad and y.grad_fn is None
    with pytest.raises(GraphError):
        (y * 3).sum().backward()

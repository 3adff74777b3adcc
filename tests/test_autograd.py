"""The tape's properties: linear cost, memory, freeing, higher order, versions, modes."""

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import GraphError


def test_backward_accumulates_into_leaves_across_calls():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.numpy() + 3)


def test_shared_input_gets_the_sum_of_its_paths():
    x = mg.tensor(2.0, requires_grad=True)
    y = x * x + x * 3 + x.exp()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 2 + 3 + np.exp(2.0), rel=1e-6)


def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = mg.tensor(1.0, dtype=mg.float64, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_a_dropped_forward_frees_its_graph():
    x = mg.randn(64, 64, requires_grad=True)

    def forward():
        return ((x @ x).tanh() * 2).sum()

    forward()  # warm up allocations and caches
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(200):
        forward()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 200_000, f"memory grew by {after - before} bytes over 200 dropped forwards"


def test_graph_is_freed_by_reference_counting_without_the_cycle_collector():
    x = mg.randn(10, requires_grad=True)
    gc.disable()
    try:
        h = x.exp()  # exp saves its output: the node must not hold a cycle through it
        y = (h * x).sum()
        ref = weakref.ref(h)
        del h
        assert ref() is not None, "an intermediate the graph needs was freed"
        del y
        assert ref() is None, "the graph survived its last reference: a reference cycle"
    finally:
        gc.enable()


def test_second_backward_through_a_freed_graph_raises_and_keeps_grads():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    first = x.grad.numpy().copy()
    with pytest.raises(GraphError, match="second time.*retain_graph=True"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), first)


def test_retain_graph_allows_a_second_backward():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * x.numpy())


def test_hessian_vector_product_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    a = a + a.T
    A = mg.tensor(a)
    x = mg.tensor(rng.standard_normal(5), requires_grad=True)
    v = rng.standard_normal(5)
    f = 0.5 * (x @ (A @ x))
    (g,) = mg.grad(f, x, create_graph=True)
    np.testing.assert_allclose(g.numpy(), a @ x.numpy(), rtol=1e-12)
    (hv,) = mg.grad((g * mg.tensor(v)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), a @ v, rtol=1e-12)


def test_hessian_vector_product_of_a_nonlinear_function():
    # f(x) = sum(tanh(x)^2 * exp(x)): H = diag(f''(x_i)), checked against the closed form.
    x0 = np.array([0.3, -1.2, 0.7])
    x = mg.tensor(x0, requires_grad=True)
    f = (x.tanh() ** 2 * x.exp()).sum()
    (g,) = mg.grad(f, x, create_graph=True)
    v = np.array([1.0, -2.0, 0.5])
    (hv,) = mg.grad((g * mg.tensor(v)).sum(), x)
    t = np.tanh(x0)
    s = 1 - t**2
    second = np.exp(x0) * (t**2 + 4 * t * s + 2 * s**2 - 4 * t**2 * s)
    np.testing.assert_allclose(hv.numpy(), second * v, rtol=1e-10)


def test_backward_with_create_graph_gives_differentiable_grads():
    x = mg.tensor(3.0, dtype=mg.float64, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.item() == pytest.approx(27.0)
    assert x.grad.requires_grad
    (g2,) = mg.grad(x.grad, x)
    assert g2.item() == pytest.approx(18.0)


def test_grad_returns_tuple_and_leaves_dot_grad_alone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = (x * w).sum()
    gx, gw = mg.grad(y, (x, w))
    np.testing.assert_allclose(gx.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(gw.numpy(), [1.0, 2.0])
    assert x.grad is None and w.grad is None


def test_grad_of_an_intermediate_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    (gh,) = mg.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), 2 * h.numpy())


def test_grad_with_unused_input():
    x = mg.tensor(1.0, requires_grad=True)
    z = mg.tensor(1.0, requires_grad=True)
    with pytest.raises(GraphError, match="not used"):
        mg.grad(x * 2, (x, z), retain_graph=True)
    gx, gz = mg.grad(x * 2, (x, z), allow_unused=True)
    assert gx.item() == 2.0 and gz is None


def test_grad_outputs_weight_a_vector_output():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = mg.grad(x * x, x, grad_outputs=mg.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [2.0, 0.0, 12.0])


def test_backward_on_non_scalar_needs_a_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"scalar outputs.*\(2,\)"):
        (x * 2).backward()
    (x * 2).backward(mg.tensor([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_backward_gradient_of_wrong_shape_is_an_error():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="shape"):
        (x * 2).backward(mg.tensor([1.0, 1.0, 1.0]))


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(GraphError, match="does not require grad"):
        mg.tensor([1.0, 2.0]).sum().backward()


def test_grads_own_their_buffers():
    # add hands the same cotangent to both inputs; sum's vjp is a broadcast view.
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.array is not b.grad.array
    assert a.grad.array.flags.writeable and a.grad.array.flags.owndata
    a.grad.array += 1
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_gradient_dtype_matches_the_leaf():
    x = mg.tensor([1.0, 2.0], requires_grad=True)  # float32
    (x * np.array([1.0, 2.0])).sum().backward()  # a float64 constant upcasts the product
    assert x.grad.dtype == np.float32


# --- modes -------------------------------------------------------------------------


def test_no_grad_context_and_decorator():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.no_grad():
        assert not (x * 2).requires_grad
        with mg.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @mg.no_grad()
    def infer(t):
        return t * 2

    assert not infer(x).requires_grad
    assert mg.is_grad_enabled()


def test_set_grad_enabled():
    x = mg.tensor([1.0], requires_grad=True)
    with mg.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_is_per_thread():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with mg.no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = (x * 2).requires_grad

    t = threading.Thread(target=worker)
    t.start()
    inside.wait(5)
    seen["main"] = (x * 2).requires_grad  # the worker's no_grad must not leak here
    release.set()
    t.join()
    assert seen == {"main": True, "worker": False}


# --- version counters ------------------------------------------------------------------


def test_modifying_a_saved_tensor_in_place_raises_naming_the_op():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0])
    y = (x * w).sum()
    w.add_(1.0)
    with pytest.raises(GraphError, match="mul.*modified in place"):
        y.backward()
    assert x.grad is None


def test_modifying_a_saved_output_in_place_raises():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()
    y = (e + 1).sum()  # add saves nothing; exp saved its own output
    with mg.no_grad():
        e.mul_(2)
    with pytest.raises(GraphError, match="exp"):
        y.backward()


def test_modifying_an_unsaved_input_is_fine():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([5.0, 5.0])
    y = (x + c).sum()  # add does not read its inputs' values in backward
    c.add_(1.0)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


def test_optimizer_style_update_then_backward_through_old_graph_raises():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    x = mg.tensor([3.0, 4.0])
    loss = (w * x).sum() * (w * w).sum()
    with mg.no_grad():
        w.sub_(mg.tensor([0.1, 0.1]))
    with pytest.raises(GraphError, match="modified in place"):
        loss.backward()


def test_detach_shares_the_version_counter():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.detach().add_(1.0)
    with pytest.raises(GraphError):
        z.backward()


# --- the tape ------------------------------------------------------------------------


def test_format_tape_lists_the_ops_in_order():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = ((x * 2 + 1).relu() * x).sum()
    lines = mg.format_tape(y).splitlines()
    assert [line.split("=")[1].split("(")[0].strip() for line in lines] == ["input", "mul", "add", "relu", "mul", "sum"]
    assert "x0 = input (3,) float32" in lines[0]
    assert "mul(v2, x0)" in lines[4]
    assert lines[-1].endswith("-> () float32")


def test_print_tape(capsys):
    x = mg.tensor([1.0], requires_grad=True)
    mg.print_tape((x * 2).sum())
    assert "mul(x0, 2)" in capsys.readouterr().out


def test_nodes_are_in_sequence_order():
    x = mg.tensor([1.0], requires_grad=True)
    y = (x.exp() + x.tanh()).sum()
    seqs = [n.seq for n in mg.autograd.tape_nodes(y)]
    assert seqs == sorted(seqs)
    assert y.grad_fn.node.name == "sum" and y.grad_fn.name() == "SumBackward0" and not y.is_leaf and x.is_leaf


# --- kinks ------------------------------------------------------------------------------


def test_signatures_are_recorded_only_inside_the_context():
    x = mg.tensor([-1.0, 0.5])
    with mg.record_signatures() as rec:
        x.relu()
        x.exp()
        mg.maximum(x, 0.0)
    assert [(name, pos) for name, pos, _ in rec.log] == [("relu", 0), ("maximum", 2)]
    np.testing.assert_array_equal(rec.log[0][2], [False, True])
    x.relu()
    assert len(rec.log) == 2


def test_relu_crossing_zero_changes_the_signature():
    def signature(value):
        with mg.record_signatures() as rec:
            mg.tensor([value], dtype=mg.float64).relu()
        return rec.log[0][2]

    h = 1e-6
    for x in (0.0, 1e-9):
        assert not np.array_equal(signature(x - h), signature(x + h))
    assert np.array_equal(signature(0.5 - h), signature(0.5 + h))


def test_views_share_the_version_counter_of_their_base():
    w = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for view in (lambda w: w.T, lambda w: w.reshape(4)[:2].reshape(1, 2), lambda w: w[0], lambda w: w.expand(3, 2, 2)):
        v = view(w)
        out = (v * v).sum()  # mul saves the view, not w itself
        with mg.no_grad():
            w.add_(0.0)
        with pytest.raises(GraphError, match="modified in place"):
            out.backward()
    copy = w[[0, 1]]  # advanced indexing copies: a later change of w does not touch it
    out = (copy * copy).sum()
    with mg.no_grad():
        w.add_(1.0)
    out.backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * copy.numpy())


# --- residuals: intermediates a forward keeps for its vjp -----------------------------------


def _square_with_residual():
    """x^2 as a primitive that keeps 2x, its derivative, as a residual; it logs what its vjp got."""
    from minigrad.primitive import primitive

    received = []

    @primitive(residual=True)
    def square(x):
        return x * x, 2 * x

    def vjp(g, two_x, x):
        received.append(two_x)
        return g * (2 * x if two_x is None else two_x)

    square.defvjp(vjp)
    return square, received


def test_a_plain_backward_hands_the_residual_to_the_vjp_and_frees_it():
    square, received = _square_with_residual()
    x = mg.tensor([1.0, -3.0], dtype=mg.float64, requires_grad=True)
    y = square(x)
    np.testing.assert_array_equal(y.numpy(), [1.0, 9.0])  # the output alone, not the pair
    node = y._node
    y.sum().backward()
    np.testing.assert_array_equal(received[0], [2.0, -6.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -6.0])
    assert node.ctx is None  # freed with the rest of the node


def test_a_recorded_backward_recomputes_instead_of_using_the_residual():
    square, received = _square_with_residual()
    x = mg.tensor([1.0, -3.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.grad(square(x).sum(), x, create_graph=True)
    assert received == [None]
    (h,) = mg.grad(g.sum(), x)  # d/dx sum(2x) = 2: only right if the recomputation was recorded
    np.testing.assert_array_equal(h.numpy(), [2.0, 2.0])


def test_a_residual_primitive_inside_a_plain_backward_returns_its_output_alone():
    square, _ = _square_with_residual()
    from minigrad.primitive import primitive

    @primitive
    def uses_square_in_its_vjp(x):
        return x * 1.0

    uses_square_in_its_vjp.defvjp(lambda g, ans, x: g * square(x))  # d/dx = x^2, for this test's sake
    x = mg.tensor([2.0, 3.0], dtype=mg.float64, requires_grad=True)
    uses_square_in_its_vjp(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 9.0])


def test_a_primitive_cannot_both_save_its_output_and_keep_a_residual():
    from minigrad.primitive import primitive

    with pytest.raises(ValueError, match="residual"):
        primitive(lambda x: (x, x), saves_output=True, residual=True)

"""Custom ops with minigrad.Function, PyTorch style."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import GraphError


class Cube(mg.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * x**2 * g


class ScaledAdd(mg.Function):
    @staticmethod
    def forward(ctx, a, b, scale=1.0):
        ctx.scale = scale
        return a + scale * b

    @staticmethod
    def backward(ctx, g):
        return g, ctx.scale * g


class Step(mg.Function):
    """A custom non-smooth op that declares where its kink is."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.where(x > 0, x, 0.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (x > 0)

    @staticmethod
    def signature(x):
        return x > 0


def test_custom_function_forward_and_backward():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn.node.name == "Cube" and y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_custom_function_with_two_inputs_and_keyword():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([2.0], requires_grad=True)
    ScaledAdd.apply(a, b, scale=3.0).sum().backward()
    assert a.grad.item() == 1.0 and b.grad.item() == 3.0


def test_needs_input_grad():
    seen = {}

    class Probe(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            seen["needs"] = ctx.needs_input_grad
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g, None

    Probe.apply(mg.tensor([1.0], requires_grad=True), mg.tensor([2.0]))
    assert seen["needs"] == (True, False)


def test_custom_function_declares_a_signature():
    with mg.record_signatures() as rec:
        Step.apply(mg.tensor([-1.0, 1.0]))
    assert rec.log[0][0] == "Step"
    np.testing.assert_array_equal(rec.log[0][2], [False, True])


def test_wrong_gradient_shape_is_an_error_not_a_silent_sum():
    class Broken(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g  # b was broadcast: its gradient must be summed back

    a = mg.tensor([[1.0, 2.0]] * 3, requires_grad=True)
    b = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match=r"Broken.*shape \(3, 2\).*argument 1.*\(2,\)"):
        Broken.apply(a, b).sum().backward()


def test_create_graph_through_a_custom_function_is_refused():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError, match="create_graph"):
        mg.grad(Cube.apply(x).sum(), x, create_graph=True)


def test_saved_input_modified_in_place_is_detected():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = Cube.apply(h).sum()
    with mg.no_grad():
        h.mul_(2)
    with pytest.raises(GraphError, match="Cube"):
        y.backward()

"""The tape format every reader shares: Node's fields, its sources, and ops that rerun themselves."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import GraphError
from minigrad.tape import tape_nodes


def test_sources_name_each_inputs_origin():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    c = mg.tensor([3.0, 4.0])
    h = x * c
    y = h + x
    mul, add = tape_nodes(y)
    assert [kind for kind, _ in mul.sources()] == ["leaf", "const"]
    assert mul.sources()[0][1] is x and mul.sources()[1][1] is c
    assert add.sources() == [("node", mul), ("leaf", x)]
    assert add.seq > mul.seq  # the output id grows along the tape
    assert add.params == {} and add.needs == [0, 1]


def test_sources_keep_python_constants_and_params():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    y = mg.leaky_relu(x, 0.2).sum(axis=0)
    relu, total = tape_nodes(y)
    assert relu.sources() == [("leaf", x), ("const", 0.2)]
    assert total.params == {"axis": 0, "keepdims": False}


def test_a_freed_node_says_so():
    x = mg.tensor([1.0], requires_grad=True)
    y = x * 2
    node = y._node
    y.sum().backward()
    with pytest.raises(GraphError, match="a second time"):
        node.sources()


@pytest.mark.parametrize("kind", ["primitive", "function"])
def test_every_op_reruns_itself_on_new_inputs(kind):
    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, factor=1.0):
            return x * factor

        @staticmethod
        def backward(ctx, g):
            return g

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = mg.clip(x, min=0.0, max=1.5) if kind == "primitive" else Scale.apply(x, factor=3.0)
    node = y._node
    again = node.op.rerun(node, mg.tensor([-1.0, 5.0]))
    np.testing.assert_array_equal(again.numpy(), [0.0, 1.5] if kind == "primitive" else [-3.0, 15.0])


def test_a_function_declares_kinks_only_with_a_signature():
    class Smooth(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class Kinked(Smooth):
        @staticmethod
        def signature(x):
            return x > 0

    x = mg.tensor([1.0], requires_grad=True)
    assert not Smooth.apply(x)._node.op.declares_kinks
    assert Kinked.apply(x)._node.op.declares_kinks
    assert (x * 2)._node.op.declares_kinks  # a primitive without a signature is declared smooth

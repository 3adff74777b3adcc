"""Composite ops name the op the user called: in their errors and in anomaly mode (minigrad.errors.public_op, #16/#19).

A composite (silu is x * sigmoid(x), index_add adds a gather_backward) used to raise its inner primitive's error
("sigmoid: ...") and anomaly mode named the primitive (gather_backward) that produced a NaN. Every error from bad
input now starts with the public name, the inner part kept after it; anomaly reports name both.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
import minigrad.nn.functional as F
from minigrad.errors import AnomalyError, DTypeError, IndexOutOfRange, MinigradError, ShapeError, public_op

B = np.array([True, False])

# public op: (a call with bad input, the error class)
BAD = {
    "silu": (lambda: F.silu(minigrad.tensor(B)), DTypeError),
    "logsigmoid": (lambda: F.logsigmoid(minigrad.tensor(B)), DTypeError),
    "normalize": (lambda: F.normalize(minigrad.tensor(B.reshape(1, 2))), DTypeError),
    "floor_divide": (lambda: minigrad.floor_divide(minigrad.ones(3), minigrad.ones(2)), ShapeError),
    "addcmul": (lambda: minigrad.addcmul(minigrad.ones(3), minigrad.ones(2), minigrad.ones(3)), ShapeError),
    "addcdiv": (lambda: minigrad.addcdiv(minigrad.ones(3), minigrad.ones(2), minigrad.ones(3)), ShapeError),
    "float_power": (lambda: minigrad.float_power(minigrad.ones(3), minigrad.ones(2)), ShapeError),
    "rsub": (lambda: minigrad.rsub(minigrad.ones(3), minigrad.ones(2)), ShapeError),
    "nansum": (lambda: minigrad.nansum(minigrad.ones(3), dim=3), IndexOutOfRange),
    "nanmean": (lambda: minigrad.nanmean(minigrad.ones(3), dim=3), IndexOutOfRange),  # was NumPy's AxisError
    "nanmedian": (lambda: minigrad.nanmedian(minigrad.ones(3), dim=4), IndexOutOfRange),
    "aminmax": (lambda: minigrad.aminmax(minigrad.ones(3), dim=4), IndexOutOfRange),
    "softmin": (lambda: F.softmin(minigrad.ones(3), dim=2), IndexOutOfRange),
    "glu": (lambda: F.glu(minigrad.ones(3)), ShapeError),
    "pairwise_distance": (lambda: F.pairwise_distance(minigrad.ones(2, 3), minigrad.ones(2, 2)), ShapeError),
    "soft_margin_loss": (lambda: F.soft_margin_loss(minigrad.ones(3), minigrad.ones(2)), ShapeError),
    "index_add": (
        lambda: minigrad.index_add(minigrad.zeros(3), 0, minigrad.tensor(np.array([0, 5])), minigrad.ones(2)),
        IndexOutOfRange,
    ),
    "scatter_add": (
        lambda: minigrad.scatter_add(minigrad.zeros(3), 0, minigrad.tensor(np.array([0, 5])), minigrad.ones(2)),
        IndexOutOfRange,
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_composite_error_names_the_public_op(name):
    fn, kind = BAD[name]
    with pytest.raises(kind) as info:
        fn()
    assert str(info.value).startswith(f"{name}:"), str(info.value)


def test_public_op_keeps_the_class_and_the_inner_message():
    @public_op("outer_op")
    def outer(x):
        return minigrad.sigmoid(x)

    with pytest.raises(DTypeError) as info:
        outer(minigrad.tensor(B))
    message = str(info.value)
    assert message.startswith("outer_op: sigmoid: "), message
    assert isinstance(info.value.__cause__, DTypeError)

    @public_op("named_op")
    def already(x):
        raise ShapeError("named_op: x of shape (2,) is wrong")

    with pytest.raises(ShapeError, match=r"^named_op: x of shape \(2,\) is wrong$"):
        already(minigrad.ones(2))
    with pytest.raises(ValueError, match="plain"):  # not a minigrad error: left alone
        public_op("p")(lambda: (_ for _ in ()).throw(ValueError("plain")))()
    assert minigrad.errors.called_op() is None  # the stack is popped after an error


def test_nested_composites_name_the_outermost():
    inner = public_op("inner_op")(lambda x: minigrad.sigmoid(x))
    outer = public_op("outer_op")(lambda x: inner(x))
    with pytest.raises(DTypeError, match="^outer_op: inner_op: sigmoid: "):
        outer(minigrad.tensor(B))


@pytest.mark.parametrize("name", ["index_add", "scatter_add"])
def test_anomaly_names_the_public_op_forward(name, device):
    x = minigrad.zeros(3, dtype=minigrad.float64, device=device)
    index = minigrad.tensor(np.array([0, 1]), device=device)
    source = minigrad.tensor(np.array([1.0, np.nan]), requires_grad=True, device=device)
    with pytest.raises(AnomalyError) as info, minigrad.autograd.detect_anomaly():
        getattr(minigrad, name)(x, 0, index, source)
    message = str(info.value)
    assert message.startswith(f"{name} (its primitive gather_backward, op "), message
    assert "produced NaN" in message


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_names_the_public_op_backward():
    @public_op("root_op")
    def root(x):
        return minigrad.sqrt(x)

    x = minigrad.tensor(np.array([1.0, 0.0]), requires_grad=True)
    with pytest.raises(AnomalyError) as info, minigrad.autograd.detect_anomaly():
        root(x).sum().backward()
    message = str(info.value)
    assert message.startswith("the backward of root_op (its primitive sqrt) (node #"), message
    assert x.grad is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_anomaly_outside_a_composite_names_the_primitive():
    x = minigrad.tensor(np.array([-1.0]))
    with pytest.raises(AnomalyError, match=r"^sqrt \(op \d+\) produced NaN"), minigrad.autograd.detect_anomaly():
        minigrad.sqrt(x)


def test_errors_leave_inputs_unchanged():
    a, b, c = minigrad.ones(3), minigrad.ones(2), minigrad.ones(3)
    with pytest.raises(MinigradError):
        minigrad.addcmul(a, b, c)
    assert a.numpy().tolist() == [1.0, 1.0, 1.0] and a._version == 0

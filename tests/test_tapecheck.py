"""check_tape names exactly the faulty node of a multi-layer net, and nothing else."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.primitive import primitive


def _planted(kind):
    """A custom op x * s (s broadcast over rows) whose backward for s has a planted fault."""

    class Scale(mg.Function):
        @staticmethod
        def forward(ctx, x, s):
            ctx.save_for_backward(x, s)
            return x * s

        @staticmethod
        def backward(ctx, g):
            x, s = ctx.saved_tensors
            gs = (g * x).sum(axis=0)
            if kind == "factor":
                gs = gs * 2
            elif kind == "element":
                gs = gs.copy()
                gs[1] += 0.5
            elif kind == "sign":
                gs = -gs
            elif kind == "unbroadcast":
                gs = g * x  # forgot to sum over the broadcast rows
            return g * s, gs

    Scale.__name__ = f"Scale_{kind}"
    return Scale


def _net(scale_op):
    """A small net whose scaling by s is ``scale_op`` (a Function, a primitive) or the built-in mul (None)."""
    mg.manual_seed(0)
    x = mg.randn(4, 3, dtype=mg.float64)
    w1 = mg.randn(3, 5, dtype=mg.float64, requires_grad=True)
    s = mg.tensor(np.linspace(0.5, 1.5, 5), requires_grad=True)
    w2 = mg.randn(5, 2, dtype=mg.float64, requires_grad=True)

    def net(w1, s, w2):
        h = (x @ w1).tanh()
        if scale_op is None:
            h = h * s
        else:
            h = scale_op.apply(h, s) if isinstance(scale_op, type) else scale_op(h, s)
        return ((h @ w2).sigmoid() ** 2).mean()

    return net, (w1, s, w2)


@pytest.mark.parametrize("kind", ["factor", "element", "sign", "unbroadcast"])
def test_the_planted_fault_is_named_exactly(kind):
    net, inputs = _net(_planted(kind))
    report = mg.check_tape(net, inputs)
    assert [n.op for n in report.faults] == [f"Scale_{kind}"]
    fault = report.first_fault
    assert fault.position == 2
    if kind == "unbroadcast":
        assert "shape" in fault.error
    else:
        assert fault.worst().input == 1  # the s input, not x
        if kind == "element":
            assert fault.worst().worst_index == (1,)
    assert "test_tapecheck.py" in fault.site and "scale_op.apply(h, s)" in fault.site
    text = str(report)
    assert "first fault" in text and f"Scale_{kind}" in text and "every other node (6) checks out" in text


def test_no_fault_names_nothing():
    net, inputs = _net(None)
    report = mg.check_tape(net, inputs)
    assert report.passed and report.first_fault is None and len(report.nodes) == 7
    assert "every vjp checks out" in str(report)


def test_a_relu_kink_inside_the_net_is_a_kink_not_a_fault():
    x = mg.tensor([[1.0, -1.0], [0.5, 2.0]], dtype=mg.float64)
    w = mg.tensor([[1.0, 0.0], [1.0, 1.0]], requires_grad=True)  # x @ w has an exact 0 in its first row

    report = mg.check_tape(lambda w: ((x @ w).relu() * 3).sum(), w)
    relu = next(n for n in report.nodes if n.op == "relu")
    assert report.passed and relu.kinks >= 1 and not relu.faulty


def test_gradcheck_localize_attaches_the_tape_report():
    net, inputs = _net(_planted("factor"))
    with pytest.raises(mg.GradcheckError) as info:
        mg.gradcheck(net, inputs, localize=True)
    localization = info.value.report.localization
    assert localization.first_fault.op == "Scale_factor"
    assert "first fault: the vjp of node 2, Scale_factor (input 1)" in str(info.value)
    net, inputs = _net(None)
    assert mg.gradcheck(net, inputs, localize=True).localization is None
    assert mg.gradcheck(net, inputs, localize="always").localization.passed


def test_stochastic_nodes_are_replayed_under_the_same_random_state():
    class NoisyScale(mg.Function):  # forward draws a mask; backward must see the same one
        @staticmethod
        def forward(ctx, x):
            mask = mg.rand(*x.shape, dtype=mg.float64).numpy() > 0.5
            ctx.save_for_backward(mask)
            return x * mask * 2

        @staticmethod
        def backward(ctx, g):
            (mask,) = ctx.saved_tensors
            return g * mask * 2

    x = mg.tensor(np.linspace(-1, 1, 8), requires_grad=True)
    report = mg.check_tape(lambda x: (NoisyScale.apply(x.tanh()) ** 2).sum(), x)
    assert report.passed, str(report)


def test_built_in_layers_check_out_including_conv_and_pooling():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8, 3))
    images = mg.randn(2, 1, 4, 4)
    labels = mg.tensor([0, 2])
    params = list(model.parameters())

    def loss(*_):
        return nn.functional.cross_entropy(model(images), labels)

    report = mg.check_tape(loss, params)
    assert report.passed, str(report)
    ops = [n.op for n in report.nodes]
    assert {"conv2d", "relu", "max_pool2d", "linear", "cross_entropy"} <= set(ops)


# --- faults planted in a primitive's vjp and in the un-broadcast step ---------------------------------


def _good_x(g, ans, x, s):
    return g * s


def _good_s(g, ans, x, s):
    return g * x  # summed back to s's shape by the primitive machinery


PLANTED_IN_VJPS = {  # name -> (vjp for x, vjp for s, the faulty input)
    "factor": (lambda g, ans, x, s: g * s * 1.001, _good_s, 0),
    "sign": (_good_x, lambda g, ans, x, s: -(g * x), 1),
    "broadcast": (_good_x, lambda g, ans, x, s: (g * x)[0], 1),  # only row 0's share of the broadcast s
}


def _planted_primitive(kind):
    vjp_x, vjp_s, _ = PLANTED_IN_VJPS[kind]

    @primitive(name=f"scale_{kind}", saves=(0, 1))
    def scale(x, s):
        return x * s

    scale.defvjp(vjp_x, vjp_s)
    return scale


@pytest.mark.parametrize("kind", sorted(PLANTED_IN_VJPS))
def test_a_fault_planted_in_a_primitive_vjp_is_named_exactly(kind):
    net, inputs = _net(_planted_primitive(kind))
    report = mg.check_tape(net, inputs)
    assert [n.op for n in report.faults] == [f"scale_{kind}"]
    fault = report.first_fault
    assert fault.position == 2
    assert fault.worst().input == PLANTED_IN_VJPS[kind][2]
    assert "scale_op(h, s)" in fault.site
    assert f"scale_{kind}" in str(report) and "every other node (6) checks out" in str(report)


def plant_in_unbroadcast(monkeypatch, wrong):
    """Replace the un-broadcast step that every primitive's vjp result goes through by ``wrong(g, shape,
    right)``. The one internal name these tests patch (minigrad.primitive.unbroadcast): adapt it here if it moves."""
    import minigrad.primitive

    right = minigrad.primitive.unbroadcast
    monkeypatch.setattr(minigrad.primitive, "unbroadcast", lambda g, shape: wrong(g, shape, right))


def test_a_fault_planted_in_the_unbroadcast_step_names_the_broadcasting_node(monkeypatch):
    """Un-broadcasting that averages instead of summing: only the node whose input was broadcast is wrong."""
    net, inputs = _net(None)
    assert mg.check_tape(net, inputs).passed
    plant_in_unbroadcast(monkeypatch, lambda g, shape, right: right(g, shape) * (np.prod(shape) / np.prod(g.shape)))
    report = mg.check_tape(net, inputs)
    assert [(n.op, n.position) for n in report.faults] == [("mul", 2)]
    assert report.first_fault.worst().input == 1  # s, broadcast over the rows of h

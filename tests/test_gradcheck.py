"""gradcheck catches planted bugs, passes correct gradients, and explains kinks."""

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad.gradcheck import GradcheckError, verdict
from minigrad.primitive import primitive


def _square_op(backward_fn, name="Square"):
    """A custom op x**2 with a given (possibly buggy) backward."""

    class Op(mg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return backward_fn(x, g)

    Op.__name__ = name
    return Op


def _wrong_on_one_element(x, g):
    grad = 2 * x * g
    grad[7] *= 1.5
    return grad


CORRECT = _square_op(lambda x, g: 2 * x * g, "Correct")
PLANTED = {
    "factor 1.001": _square_op(lambda x, g: 2.002 * x * g),
    "one element of twenty": _square_op(_wrong_on_one_element),
    "wrong sign": _square_op(lambda x, g: -2 * x * g),
}


def _x(n=20, seed=0):
    return mg.tensor(np.random.default_rng(seed).uniform(0.5, 2.0, n), requires_grad=True)


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("bug", sorted(PLANTED))
def test_planted_bugs_fail(bug, fast_mode):
    op = PLANTED[bug]
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda x: (op.apply(x) * mg.tensor(np.arange(1.0, 21.0))).sum(), _x(), fast_mode=fast_mode)
    report = info.value.report
    assert not report.passed and not report
    assert report.max_rel_error > 1e-4
    assert "FAILED" in str(report)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_the_correct_version_passes(fast_mode):
    report = mg.gradcheck(
        lambda x: (CORRECT.apply(x) * mg.tensor(np.arange(1.0, 21.0))).sum(), _x(), fast_mode=fast_mode
    )
    assert report.passed and report.max_rel_error < 1e-7 and report.verdict == "correct"
    assert not report.kinks


def test_the_worst_element_is_located():
    report = mg.gradcheck(lambda x: PLANTED["one element of twenty"].apply(x).sum(), _x(), raise_exception=False)
    (result,) = report.inputs
    assert result.worst_index == (7,)
    assert result.analytic == pytest.approx(1.5 * result.numerical, rel=1e-6)
    assert result.verdict == "wrong"


def test_vector_outputs_use_the_full_jacobian_and_inputs_are_attributed_separately():
    a = mg.tensor(np.random.default_rng(1).standard_normal((3, 2)), requires_grad=True)
    b = mg.tensor(np.random.default_rng(2).standard_normal(2), requires_grad=True)
    good = mg.gradcheck(lambda a, b: (a * b).tanh(), (a, b))
    assert [r.input for r in good.inputs] == [0, 1] and good.passed

    class BadSecond(mg.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, (g * a).sum(axis=0) * 1.01

    report = mg.gradcheck(lambda a, b: BadSecond.apply(a, b), (a, b), raise_exception=False)
    first, second = report.inputs
    assert first.verdict == "correct" and second.verdict != "correct"
    assert second.output_index is not None


@pytest.mark.parametrize("value", [0.0, 1e-9])
def test_relu_at_its_kink_is_flagged_and_does_not_fail(value):
    x = mg.tensor([value, 0.7, -0.4], dtype=mg.float64, requires_grad=True)
    report = mg.gradcheck(lambda x: (x.relu() * 3).sum(), x)
    assert report.passed
    assert [k.index for k in report.kinks] == [(0,)]
    assert "relu (op 0)" in report.kinks[0].ops
    assert "kinks crossed" in str(report)


def test_kinks_can_be_made_to_fail():
    x = mg.tensor([0.0, 0.7], dtype=mg.float64, requires_grad=True)
    with pytest.raises(GradcheckError):
        mg.gradcheck(lambda x: x.relu().sum(), x, fail_on_kinks=True)


def test_a_tie_in_max_is_flagged():
    x = mg.tensor([1.0, 1.0, 0.5], dtype=mg.float64, requires_grad=True)
    report = mg.gradcheck(lambda x: x.max(), x)
    assert {k.index for k in report.kinks} == {(0,), (1,)}
    assert all(k.ops[0].startswith("max") for k in report.kinks)


def test_nothing_is_flagged_away_from_kinks():
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.uniform(0.1, 1.0, 12) * rng.choice([-1, 1], 12), requires_grad=True)
    for fn in (
        lambda x: x.relu().sum(),
        lambda x: x.abs().sum(),
        lambda x: x.clip(-2.0, 2.0).sum(),
        lambda x: mg.maximum(x, 0.05 * x).sum(),
        lambda x: x.reshape(3, 4).max(axis=1).sum(),
        lambda x: x.leaky_relu(0.1).sum(),
    ):
        for fast in (False, True):
            report = mg.gradcheck(fn, x, fast_mode=fast)
            assert report.passed and not report.kinks


def test_kinks_in_fast_mode_are_detected_along_the_direction():
    x = mg.tensor([0.0, 0.5, -0.5], dtype=mg.float64, requires_grad=True)
    report = mg.gradcheck(lambda x: x.relu().sum(), x, fast_mode=True)
    assert report.kinks and report.kinks[0].index is None
    assert "relu" in report.kinks[0].ops[0]


def test_a_custom_op_without_signature_gets_the_black_box_test():
    class Kinked(mg.Function):  # |x| with no declared signature
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return np.abs(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * np.sign(x)

    x = mg.tensor([1e-7, 0.8, -0.6], dtype=mg.float64, requires_grad=True)
    report = mg.gradcheck(lambda x: Kinked.apply(x).sum(), x)
    assert [k.index for k in report.kinks] == [(0,)]
    assert "suspected kink" in report.kinks[0].ops[0]
    # a smooth function with a stationary point is not mistaken for a kink
    y = mg.tensor([1e-7, 0.3], dtype=mg.float64, requires_grad=True)
    assert not mg.gradcheck(lambda y: CORRECT.apply(y).sum(), y).kinks


def test_dropout_style_randomness_is_reseeded_for_every_evaluation():
    x = mg.tensor(np.linspace(0.5, 1.5, 10), requires_grad=True)

    def dropout(x):
        mask = (mg.rand(*x.shape, dtype=mg.float64) > 0.5).to(mg.float64)
        return (x * x * mask / 0.5).sum()

    mg.manual_seed(42)
    before = mg.rand(3).numpy()
    mg.manual_seed(42)
    report = mg.gradcheck(dropout, x)
    assert report.passed
    np.testing.assert_array_equal(mg.rand(3).numpy(), before)  # the user's stream is untouched


def test_a_correct_float32_function_passes_with_a_warning():
    x = mg.tensor([0.3, -0.2, 0.9], requires_grad=True)  # float32
    with pytest.warns(UserWarning, match="promoted to float64"):
        report = mg.gradcheck(lambda x: (x.tanh() * x).sum(), x)
    assert report.passed
    assert x.dtype == np.float32 and x.grad is None  # the user's tensor is untouched


def test_gradgradcheck_checks_second_derivatives():
    rng = np.random.default_rng(4)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((4, 2)), requires_grad=True)
    for fast in (False, True):
        assert mg.gradgradcheck(lambda x, w: ((x @ w).tanh() ** 2).sum(), (x, w), fast_mode=fast).passed


def test_gradgradcheck_catches_a_wrong_second_derivative():
    from minigrad.ops.elementwise import tanh

    original = tanh.vjps
    try:  # plant a bug that only the create_graph path can see: d tanh = 1 - tanh^2, written as 1 - tanh^2.02
        tanh.vjps = (lambda g, ans, x: g * (1 - ans * ans * (ans * ans) ** 0.01),)
        x = mg.tensor([0.3, -0.5, 0.8], requires_grad=True, dtype=mg.float64)
        with pytest.raises(GradcheckError):
            mg.gradgradcheck(lambda x: x.tanh().sum(), x)
    finally:
        tanh.vjps = original


@pytest.mark.parametrize("positive", [[0.0, 0.03125, 0.03125], [0.0, 0.0, 0.00390625]])
def test_rounding_in_a_cancelling_gradient_is_not_reported_as_a_wrong_second_derivative(positive):
    # Found by hypothesis: the first derivatives of this triplet loss are differences of two
    # nearly equal terms of size 0.58, so their rounding is far above what |f| predicts; at
    # h = 1e-6 the centered difference of a 7e-7 entry is off by 2e-7 relative. Wider
    # extrapolated stencils (10h, 100h) see the rounding shrink and pass the correct gradient.
    from minigrad.nn import functional as F

    tensors = [mg.tensor(v, dtype=mg.float64, requires_grad=True) for v in ([[1.0] * 3], [positive], [[0.0] * 3])]
    loss = lambda a, p, n: F.triplet_margin_loss(a, p, n)  # noqa: E731
    for fast in (False, True):
        assert mg.gradgradcheck(loss, tensors, fast_mode=fast).passed


@pytest.mark.parametrize("fast_mode", [False, True])
def test_wider_stencils_do_not_pass_a_gradient_wrong_by_3e_7(fast_mode):
    class Cube(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x**2 * (1 + 3e-7)

    x = mg.tensor([0.3, 1.2], dtype=mg.float64, requires_grad=True)
    assert not mg.gradcheck(Cube.apply, [x], fast_mode=fast_mode, raise_exception=False).passed


def test_errors():
    with pytest.raises(ValueError, match="no input requires grad"):
        mg.gradcheck(lambda x: x.sum(), mg.tensor([1.0]))
    with pytest.raises(TypeError, match="floating-point tensor"):
        mg.gradcheck(lambda x: x > 0, mg.tensor([1.0], dtype=mg.float64, requires_grad=True))


def test_verdict_bands():
    assert [verdict(e) for e in (1e-9, 1e-6, 1e-3, 0.5, float("nan"))] == [
        "correct",
        "acceptable",
        "suspicious",
        "wrong",
        "wrong",
    ]


def test_report_table_is_readable():
    x = mg.tensor([0.5, 1.0], dtype=mg.float64, requires_grad=True)
    text = str(mg.gradcheck(lambda x: (x**3).sum(), x))
    assert text.splitlines()[0].startswith("gradcheck PASSED (full mode")
    assert "max rel err" in text and "verdict" in text


def test_no_warning_for_float64_inputs():
    x = mg.tensor([0.5, 1.0], dtype=mg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mg.gradcheck(lambda x: (x**3).sum(), x)


def test_a_backward_that_raises_is_a_failed_report_not_a_crash():
    class WrongShape(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()  # a scalar for a vector input

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    report = mg.gradcheck(lambda x: WrongShape.apply(x).sum(), x, raise_exception=False)
    assert not report.passed and "GraphError" in report.backward_error
    assert "the backward raised" in str(report)
    with pytest.raises(GradcheckError):
        mg.gradcheck(lambda x: WrongShape.apply(x).sum(), x)


# --- faults planted in a primitive's vjp and in the un-broadcast step ---------------------------------


def _scale_primitive(vjp_x, vjp_s, name):
    """A fresh primitive x * s (s broadcast over the rows of x) with the given vjps, possibly faulty."""

    @primitive(name=name, saves=(0, 1))
    def scale(x, s):
        return x * s

    scale.defvjp(vjp_x, vjp_s)
    return scale


def _good_x(g, ans, x, s):
    return g * s


def _good_s(g, ans, x, s):
    return g * x  # (4, 3): summed back to s's (3,) by the primitive machinery


PLANTED_IN_VJPS = {  # name -> (vjp for x, vjp for s, the faulty input)
    "factor 1.001 on x": (lambda g, ans, x, s: g * s * 1.001, _good_s, 0),
    "wrong sign on s": (_good_x, lambda g, ans, x, s: -(g * x), 1),
    "missing the broadcast sum on s": (_good_x, lambda g, ans, x, s: (g * x)[0], 1),  # only row 0's share
}


def _scale_inputs():
    rng = np.random.default_rng(5)
    x = mg.tensor(rng.uniform(0.5, 2.0, (4, 3)), requires_grad=True)
    s = mg.tensor(rng.uniform(0.5, 2.0, 3), requires_grad=True)
    weights = mg.tensor(rng.uniform(0.5, 2.0, (4, 3)))
    return x, s, weights


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("bug", sorted(PLANTED_IN_VJPS))
def test_a_fault_planted_in_a_primitive_vjp_fails(bug, fast_mode):
    vjp_x, vjp_s, faulty = PLANTED_IN_VJPS[bug]
    scale = _scale_primitive(vjp_x, vjp_s, "scale_planted")
    x, s, weights = _scale_inputs()
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda x, s: (scale(x, s) * weights).sum(), (x, s), fast_mode=fast_mode)
    report = info.value.report
    assert not report.passed and "FAILED" in str(report)
    if not fast_mode:  # full mode attributes the error to the input whose vjp is wrong
        verdicts = [r.verdict for r in report.inputs]
        assert verdicts[faulty] != "correct" and verdicts[1 - faulty] == "correct"


def test_the_same_primitive_with_correct_vjps_passes():
    scale = _scale_primitive(_good_x, _good_s, "scale")
    x, s, weights = _scale_inputs()
    for fast in (False, True):
        report = mg.gradcheck(lambda x, s: (scale(x, s) * weights).sum(), (x, s), fast_mode=fast)
        assert report.passed and report.verdict == "correct"


def plant_in_unbroadcast(monkeypatch, wrong):
    """Replace the un-broadcast step that every primitive's vjp result goes through by ``wrong(g, shape,
    right)``. The one internal name these tests patch (minigrad.primitive.unbroadcast): adapt it here if it moves."""
    import minigrad.primitive

    right = minigrad.primitive.unbroadcast
    monkeypatch.setattr(minigrad.primitive, "unbroadcast", lambda g, shape: wrong(g, shape, right))


def _mean_instead_of_sum(g, shape, right):
    """Averages over the broadcast copies instead of summing them."""
    return right(g, shape) * (float(np.prod(shape)) / float(np.prod(g.shape)))


def test_a_fault_planted_in_the_unbroadcast_step_fails(monkeypatch):
    x, s, weights = _scale_inputs()
    assert mg.gradcheck(lambda x, s: (x * s * weights).sum(), (x, s)).passed
    plant_in_unbroadcast(monkeypatch, _mean_instead_of_sum)
    report = mg.gradcheck(lambda x, s: (x * s * weights).sum(), (x, s), raise_exception=False)
    assert not report.passed
    assert [r.verdict == "correct" for r in report.inputs] == [True, False]  # only the broadcast input is wrong
    with pytest.raises(GradcheckError):
        mg.gradcheck(lambda x, s: (x * s * weights).sum(), (x, s), fast_mode=True)

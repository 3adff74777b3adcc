"""Pointwise math (minigrad.ops.pointwise), clamp with tensor bounds and div's rounding modes: what is particular.

Forward against NumPy, gradcheck on hypothesis shapes with broadcasting,
second order, float32 gradients, kink declarations and saves are the generic
tests of test_optable.py over these ops' records. Here: erf against math.erf
on many points, PyTorch's rounding rules, the kinks at the jumps, clamp's
gradients for tensor bounds, sign conventions of fmod/remainder/copysign,
dtypes, predicates, errors that name the op, and PyTorch itself when it is
installed.
"""

import math

import numpy as np
import pytest
from ophelpers import check_second_order

import minigrad
from minigrad.ops.pointwise import _erf_array


def _t(values, dtype=np.float64, requires_grad=False):
    return minigrad.tensor(np.asarray(values, dtype=dtype), requires_grad=requires_grad)


# --- erf --------------------------------------------------------------------------------------------


def _ulps(got, want):
    return np.abs(got - want) / np.spacing(np.maximum(np.abs(want), np.finfo(want.dtype).tiny))


def test_erf_is_within_four_ulps_of_math_erf_on_many_points():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-7, 7, 20000),
            rng.standard_normal(20000),
            np.linspace(-6.5, 6.5, 20001),
            rng.uniform(-1e-3, 1e-3, 2000),
            [0.46875, -0.46875, 4.0, -4.0, 6.0, 1e-300, 5e-324, 26.0],
        ]
    )
    want = np.array([math.erf(v) for v in x])
    got = minigrad.erf(minigrad.tensor(x)).numpy()
    assert _ulps(got, want).max() <= 4


def test_erf_in_float32_is_within_a_few_float32_ulps():
    x = np.linspace(-5, 5, 4001, dtype=np.float32)
    want = np.array([math.erf(v) for v in x.astype(np.float64)]).astype(np.float32)
    got = minigrad.erf(minigrad.tensor(x))
    assert got.dtype == np.float32
    assert _ulps(got.numpy(), want).max() <= 8


def test_erf_special_values():
    got = _erf_array(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 30.0, -30.0]))
    np.testing.assert_array_equal(got, [0.0, -0.0, 1.0, -1.0, np.nan, 1.0, -1.0])
    assert np.signbit(got[1])
    assert minigrad.erf(minigrad.tensor([0, 1])).dtype == np.float32  # integers become the default dtype


# --- rounding -----------------------------------------------------------------------------------------


def test_round_halves_to_even_as_pytorch():
    x = _t([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994])
    np.testing.assert_array_equal(minigrad.round(x).numpy(), [0.0, 2.0, 2.0, -0.0, -2.0, -2.0, 0.0])
    np.testing.assert_array_equal(x.round().numpy(), minigrad.round(x).numpy())


@pytest.mark.parametrize(
    ("values", "decimals", "want"),
    [
        ([1.2345, -1.2355, 0.125], 2, [1.23, -1.24, 0.12]),
        ([1250.0, 1350.0, -1251.0], -2, [1200.0, 1400.0, -1300.0]),
        ([3.14159], 4, [3.1416]),
    ],
)
def test_round_with_decimals(values, decimals, want):
    out = minigrad.round(_t(values), decimals=decimals)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-15)
    np.testing.assert_array_equal(_t(values).round(decimals=decimals).numpy(), out.numpy())


def test_rounding_an_integer_tensor_returns_it_unchanged():
    x = minigrad.tensor([-3, 0, 7])
    for fn in (minigrad.floor, minigrad.ceil, minigrad.trunc, minigrad.round):
        out = fn(x)
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), [-3, 0, 7])
    with pytest.raises(minigrad.DTypeError, match="^round: .*decimals"):
        minigrad.round(x, decimals=1)


def test_floor_ceil_trunc_on_negative_numbers():
    x = _t([-1.5, -0.5, 0.5, 1.5])
    np.testing.assert_array_equal(minigrad.floor(x).numpy(), [-2.0, -1.0, 0.0, 1.0])
    np.testing.assert_array_equal(minigrad.ceil(x).numpy(), [-1.0, -0.0, 1.0, 2.0])
    np.testing.assert_array_equal(minigrad.trunc(x).numpy(), [-1.0, -0.0, 0.0, 1.0])
    np.testing.assert_array_equal(minigrad.fix(x).numpy(), minigrad.trunc(x).numpy())


ZERO_GRADIENT = {
    "floor": minigrad.floor,
    "ceil": minigrad.ceil,
    "round": minigrad.round,
    "round-decimals": lambda x: minigrad.round(x, decimals=1),
    "trunc": minigrad.trunc,
    "sign": minigrad.sign,
    "div-trunc": lambda x: minigrad.div(x, 0.7, rounding_mode="trunc"),
    "div-floor": lambda x: x // 0.7,
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ZERO_GRADIENT))
def test_piecewise_constant_ops_have_a_zero_gradient(name, dtype):
    """PyTorch's convention: a zero gradient (a tensor of zeros, not None), also at the jumps themselves."""
    x = _t([-1.0, -0.35, 0.0, 0.5, 1.0, 2.7], dtype, requires_grad=True)
    out = ZERO_GRADIENT[name](x)
    assert out.requires_grad
    (out * 3).sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros(6))
    (g,) = minigrad.grad((ZERO_GRADIENT[name](x) * x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy(), ZERO_GRADIENT[name](x).numpy())  # d(f(x) x)/dx = f(x) + 0


# --- kinks at the jumps ---------------------------------------------------------------------------------


def _kinks(fn, *values):
    """gradcheck's report at the given float64 points (the first input at a jump)."""
    inputs = [_t(v, requires_grad=True) for v in values]
    return minigrad.gradcheck(fn, inputs, raise_exception=False)


@pytest.mark.parametrize(
    ("fn", "at_jump", "away"),
    [
        (minigrad.floor, [1.0, -2.0], [0.5, -1.5]),
        (minigrad.ceil, [1.0, -2.0], [0.5, -1.5]),
        (minigrad.trunc, [1.0, -2.0], [0.5, -1.5]),
        (minigrad.round, [0.5, -1.5], [0.2, 1.1]),
        (lambda x: minigrad.round(x, decimals=1), [0.25, -0.15], [0.21, 0.12]),
        (minigrad.sign, [0.0, 0.0], [0.5, -1.5]),
    ],
)
def test_a_step_crossed_by_gradcheck_is_reported_as_a_kink(fn, at_jump, away):
    """At a jump the centered difference is huge (1 / 2h); the declared step makes it a kink, not a failure."""
    report = _kinks(fn, at_jump)
    assert report.passed and len(report.kinks) == len(at_jump)
    report = _kinks(fn, away)
    assert report.passed and report.kinks == []


@pytest.mark.parametrize(
    "fn",
    [
        minigrad.fmod,
        minigrad.remainder,
        lambda a, b: minigrad.div(a, b, rounding_mode="trunc"),
        lambda a, b: minigrad.div(a, b, rounding_mode="floor"),
    ],
    ids=["fmod", "remainder", "div-trunc", "div-floor"],
)
def test_binary_jumps_are_kinks(fn):
    """a / b crossing an integer is a step of fmod, remainder and the rounded quotients."""
    report = _kinks(fn, [3.0, -1.0], [1.5, 0.5])  # 3 / 1.5 = 2 and -1 / 0.5 = -2: on a step
    assert report.passed and report.kinks
    report = _kinks(fn, [3.2, -1.1], [1.5, 0.5])
    assert report.passed and report.kinks == []


def test_atan2_jumps_across_the_negative_x_axis_and_copysign_at_zero():
    report = _kinks(minigrad.atan2, [0.0], [-1.0])
    assert report.passed and report.kinks
    assert _kinks(minigrad.atan2, [0.0], [1.0]).kinks == []  # smooth on the positive x axis
    assert _kinks(minigrad.copysign, [1.0], [0.0]).kinks  # the sign flips at other = 0
    assert _kinks(minigrad.copysign, [0.0], [2.0]).kinks  # |input| at 0


# --- clamp with tensor bounds -------------------------------------------------------------------------------


def test_clamp_tensor_bounds_gradients_follow_pytorch():
    """input gets g where min <= x <= max; min where x < min < max; max where x > max or max < min."""
    x = _t([-2.0, 0.5, 3.0, 1.0, 0.0, 0.5], requires_grad=True)
    lo = _t([-1.0, 0.0, 0.0, 1.0, 2.0, 2.0], requires_grad=True)
    hi = _t([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], requires_grad=True)
    out = minigrad.clamp(x, lo, hi)
    np.testing.assert_array_equal(out.numpy(), [-1.0, 0.5, 1.0, 1.0, 1.0, 1.0])  # min > max: max everywhere
    out.backward(_t([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 2.0, 0.0, 4.0, 0.0, 0.0])
    np.testing.assert_array_equal(lo.grad.numpy(), [1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0, 3.0, 0.0, 5.0, 6.0])


def test_clamp_with_one_tensor_bound_and_broadcasting():
    x = _t([[-2.0, 0.5, 3.0]], requires_grad=True)
    lo = _t([[0.0], [1.0]], requires_grad=True)
    out = x.clamp(min=lo)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out.numpy(), [[0.0, 0.5, 3.0], [1.0, 1.0, 3.0]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(lo.grad.numpy(), [[1.0], [2.0]])
    hi = _t([0.0, 1.0, 2.0], requires_grad=True)
    out = minigrad.clip(x, max=hi)
    np.testing.assert_array_equal(out.numpy(), [[-2.0, 0.5, 2.0]])
    out.sum().backward()
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0, 1.0])


def test_clamp_mixes_a_number_and_a_tensor_bound():
    x = _t([-2.0, 0.5, 3.0], requires_grad=True)
    hi = _t([0.0, 1.0, 2.0], requires_grad=True)
    out = minigrad.clamp(x, -1.0, hi)
    np.testing.assert_array_equal(out.numpy(), [-1.0, 0.5, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(hi.grad.numpy(), [0.0, 0.0, 1.0])


def test_clamp_tensor_bound_dtypes_promote_as_pytorch():
    x = minigrad.tensor([0.5, 2.0])
    assert minigrad.clamp(x, max=minigrad.tensor([1.0, 1.0])).dtype == np.float32
    assert minigrad.clamp(x, max=minigrad.tensor([1.0, 1.0], dtype=np.float64)).dtype == np.float64
    assert minigrad.clamp(x, 0.0, 1.0).dtype == np.float32


def test_clamp_second_order_through_tensor_bounds():
    lo, hi = np.array([-1.0, 0.3, 0.0]), np.array([1.0, 1.0, -0.5])

    def fn(x, lo, hi):
        return minigrad.clamp(x * x, lo, hi) * x

    check_second_order(fn, np.array([0.2, 0.7, 1.5]), lo, hi)


def test_clamp_without_bounds_is_an_argument_error():
    with pytest.raises(minigrad.ArgumentError, match="^clip: .*min and max"):
        minigrad.clamp(minigrad.ones(2))
    with pytest.raises(minigrad.ArgumentError, match="^clip: "):
        minigrad.ones(2).clamp()


# --- division with a rounding mode, fmod, remainder ------------------------------------------------------


def test_div_rounding_modes_follow_pytorch():
    a, b = _t([7.0, -7.0, 7.0, -7.0, 6.0]), _t([2.0, 2.0, -2.0, -2.0, 4.0])
    np.testing.assert_array_equal(minigrad.div(a, b).numpy(), [3.5, -3.5, -3.5, 3.5, 1.5])
    np.testing.assert_array_equal(minigrad.div(a, b, rounding_mode="trunc").numpy(), [3, -3, -3, 3, 1])
    np.testing.assert_array_equal(minigrad.div(a, b, rounding_mode="floor").numpy(), [3, -4, -4, 3, 1])
    np.testing.assert_array_equal((a // b).numpy(), [3, -4, -4, 3, 1])
    np.testing.assert_array_equal(a.div(b, rounding_mode="trunc").numpy(), [3, -3, -3, 3, 1])
    np.testing.assert_array_equal((14.0 // b).numpy(), [7, 7, -7, -7, 3])


def test_integer_division_stays_integer():
    a, b = minigrad.tensor([7, -7, 7, -7, 6]), minigrad.tensor([2, 2, -2, -2, 3])
    trunc = minigrad.div(a, b, rounding_mode="trunc")
    assert trunc.dtype == np.int64
    np.testing.assert_array_equal(trunc.numpy(), [3, -3, -3, 3, 2])
    np.testing.assert_array_equal((a // b).numpy(), [3, -4, -4, 3, 2])
    np.testing.assert_array_equal((a % b).numpy(), [1, 1, -1, -1, 0])
    np.testing.assert_array_equal(minigrad.fmod(a, b).numpy(), [1, -1, 1, -1, 0])
    assert minigrad.fmod(a, b).dtype == np.int64


def test_fmod_has_the_sign_of_input_and_remainder_of_other():
    a, b = _t([5.5, -5.5, 5.5, -5.5]), _t([2.0, 2.0, -2.0, -2.0])
    np.testing.assert_array_equal(minigrad.fmod(a, b).numpy(), [1.5, -1.5, 1.5, -1.5])
    np.testing.assert_array_equal(minigrad.remainder(a, b).numpy(), [1.5, 0.5, -0.5, -1.5])
    np.testing.assert_array_equal((a % b).numpy(), minigrad.remainder(a, b).numpy())
    np.testing.assert_array_equal((5.5 % b).numpy(), [1.5, 1.5, -0.5, -0.5])


def test_fmod_and_remainder_gradients_for_other():
    """d fmod / d other = -trunc(a / b), d remainder / d other = -floor(a / b) (PyTorch's)."""
    a, b = _t([5.5, -5.5], requires_grad=True), _t([2.0, 2.0], requires_grad=True)
    minigrad.fmod(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [-2.0, 2.0])
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 1.0])
    b.grad = None
    minigrad.remainder(a, b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [-2.0, 3.0])


@pytest.mark.parametrize("mode", ["bad", "round", ""])
def test_a_bad_rounding_mode_is_an_argument_error_naming_div(mode):
    with pytest.raises(minigrad.ArgumentError, match=f"^div: rounding_mode .*{mode!r}"):
        minigrad.div(minigrad.ones(2), 2.0, rounding_mode=mode)
    with pytest.raises(minigrad.ArgumentError, match="^div: "):
        minigrad.ones(2).div(2.0, rounding_mode=mode)


# --- atan2, copysign, logaddexp, hypot, lerp ---------------------------------------------------------------


def test_atan2_quadrants_and_gradient():
    y, x = _t([1.0, 1.0, -1.0, -1.0], requires_grad=True), _t([1.0, -1.0, -1.0, 1.0], requires_grad=True)
    out = minigrad.atan2(y, x)
    np.testing.assert_allclose(out.numpy(), np.pi * np.array([0.25, 0.75, -0.75, -0.25]), rtol=1e-15)
    out.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), x.numpy() / 2)
    np.testing.assert_allclose(x.grad.numpy(), -y.numpy() / 2)
    np.testing.assert_array_equal(y.arctan2(x).numpy(), out.numpy())


def test_copysign_uses_the_sign_bit_and_passes_no_gradient_to_other():
    a, b = _t([1.0, -2.0, 3.0, 0.0], requires_grad=True), _t([-0.0, 1.0, -4.0, -1.0], requires_grad=True)
    out = minigrad.copysign(a, b)
    np.testing.assert_array_equal(out.numpy(), [-1.0, 2.0, -3.0, -0.0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [-1.0, -1.0, -1.0, 0.0])  # 0 at input = 0, as PyTorch
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0, 0.0, 0.0])
    assert minigrad.copysign(minigrad.tensor([1, 2]), -1).dtype == np.float32


def test_copysign_second_order_for_input():
    other = minigrad.tensor(np.array([-1.0, 2.0, -0.5]))
    check_second_order(lambda a: minigrad.copysign(a * a * a, other), np.array([0.4, -1.3, 2.0]))


def test_logaddexp_does_not_overflow_and_hypot_at_large_values():
    a, b = _t([1000.0, -1000.0, 0.0], requires_grad=True), _t([1000.0, -1000.0, 0.0])
    out = minigrad.logaddexp(a, b)
    np.testing.assert_allclose(out.numpy(), [1000.0 + math.log(2), -1000.0 + math.log(2), math.log(2)])
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_allclose(minigrad.hypot(_t([3e200]), _t([4e200])).numpy(), [5e200])


def test_lerp_with_number_and_tensor_weights():
    start, end = _t([0.0, 1.0, -2.0], requires_grad=True), _t([10.0, 3.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(minigrad.lerp(start, end, 0.25).numpy(), [2.5, 1.5, -1.0])
    np.testing.assert_array_equal(minigrad.lerp(start, end, 1.0).numpy(), end.numpy())  # exactly end
    weight = _t([0.0, 0.5, 1.0], requires_grad=True)
    out = start.lerp(end, weight)
    np.testing.assert_array_equal(out.numpy(), [0.0, 2.0, 2.0])
    out.sum().backward()
    np.testing.assert_array_equal(start.grad.numpy(), [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(end.grad.numpy(), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(weight.grad.numpy(), [10.0, 2.0, 4.0])
    assert minigrad.lerp(minigrad.zeros(2), minigrad.ones(2), 0.3).dtype == np.float32


# --- dtypes ------------------------------------------------------------------------------------------------

FLOAT_ONLY = ["sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "exp2", "expm1", "erf", "log1p", "rsqrt"]


@pytest.mark.parametrize("name", FLOAT_ONLY)
def test_integer_inputs_become_the_default_float_dtype_as_pytorch(name):
    fn = getattr(minigrad, name)
    out = fn(minigrad.tensor([1, 2]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), fn(minigrad.tensor([1.0, 2.0])).numpy())
    assert fn(minigrad.tensor([1.0, 2.0], dtype=np.float64)).dtype == np.float64
    assert getattr(minigrad.tensor([1.0, 2.0]), name)().dtype == np.float32


def test_an_integer_operand_takes_the_floating_operands_dtype():
    f32 = minigrad.tensor([1.0, 2.0])
    ints = minigrad.tensor([1, 3])
    for fn in (minigrad.atan2, minigrad.hypot, minigrad.logaddexp, minigrad.copysign, minigrad.fmod):
        assert fn(f32, ints).dtype == np.float32
        assert fn(ints, f32).dtype == np.float32


def test_aliases_are_the_same_ops():
    assert minigrad.arcsin is minigrad.asin and minigrad.arctan2 is minigrad.atan2
    assert minigrad.arccosh is minigrad.acosh and minigrad.fix is minigrad.trunc
    x = minigrad.tensor([0.5])
    np.testing.assert_array_equal(x.arcsin().numpy(), x.asin().numpy())


# --- predicates ----------------------------------------------------------------------------------------------


def test_isnan_isinf_isfinite():
    x = minigrad.tensor([1.0, np.nan, np.inf, -np.inf, 0.0], requires_grad=True)
    np.testing.assert_array_equal(minigrad.isnan(x).numpy(), [False, True, False, False, False])
    np.testing.assert_array_equal(x.isinf().numpy(), [False, False, True, True, False])
    np.testing.assert_array_equal(minigrad.isfinite(x).numpy(), [True, False, False, False, True])
    assert not minigrad.isnan(x).requires_grad and minigrad.isnan(x).dtype == np.bool_
    np.testing.assert_array_equal(minigrad.isfinite(minigrad.tensor([1, 2])).numpy(), [True, True])


def test_isclose_defaults_are_pytorchs():
    a = _t([1.0, 1.0, 1e-9, np.inf, np.nan, np.inf])
    b = _t([1.0 + 1e-5, 1.0 + 2e-5, 0.0, np.inf, np.nan, -np.inf])
    np.testing.assert_array_equal(minigrad.isclose(a, b).numpy(), [True, False, True, True, False, False])
    np.testing.assert_array_equal(a.isclose(b, equal_nan=True).numpy(), [True, False, True, True, True, False])
    np.testing.assert_array_equal(minigrad.isclose(a, b, rtol=0, atol=0).numpy()[:3], [False, False, False])


def test_allclose_returns_a_python_bool():
    a = minigrad.tensor([1.0, 2.0], requires_grad=True)
    assert minigrad.allclose(a, a + 1e-7) is True
    assert a.allclose(a + 1e-3) is False
    assert minigrad.allclose(minigrad.tensor([np.nan]), minigrad.tensor([np.nan])) is False
    assert minigrad.allclose(minigrad.tensor([np.nan]), minigrad.tensor([np.nan]), equal_nan=True) is True
    assert minigrad.allclose(minigrad.ones(2, 3), minigrad.ones(3))  # broadcasts, as torch.allclose


@pytest.mark.parametrize("name", ["isclose", "allclose"])
def test_negative_tolerances_are_argument_errors_naming_the_op(name):
    with pytest.raises(minigrad.ArgumentError, match=f"^{name}: rtol and atol"):
        getattr(minigrad, name)(minigrad.ones(2), minigrad.ones(2), rtol=-1.0)
    with pytest.raises(minigrad.ShapeError, match="^isclose: "):
        getattr(minigrad, name)(minigrad.ones(2), minigrad.ones(3))


# --- PyTorch itself, when it is installed ----------------------------------------------------------------


UNARY_TORCH = ["sin", "cos", "tan", "atan", "sinh", "cosh", "asinh", "erf", "expm1", "exp2", "floor", "ceil"]
UNARY_TORCH += ["round", "trunc", "sign"]


@pytest.mark.parametrize("name", UNARY_TORCH)
def test_unary_ops_match_pytorch(name):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).uniform(-3, 3, 50)
    x[:5] = [0.5, 1.5, -2.5, 0.0, 2.0]
    got = getattr(minigrad, name)(minigrad.tensor(x, requires_grad=True))
    want = getattr(torch, name)(torch.tensor(x, requires_grad=True))
    np.testing.assert_allclose(got.numpy(), want.detach().numpy(), rtol=1e-14, atol=1e-15)
    got.sum().backward()


@pytest.mark.parametrize("name", ["atan2", "fmod", "remainder", "copysign", "logaddexp", "hypot"])
def test_binary_ops_and_gradients_match_pytorch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    a, b = rng.uniform(-3, 3, (4, 5)), rng.uniform(0.5, 2, (5,)) * rng.choice([-1, 1], 5)
    ta, tb = minigrad.tensor(a, requires_grad=True), minigrad.tensor(b, requires_grad=True)
    pa, pb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, want = getattr(minigrad, name)(ta, tb), getattr(torch, name)(pa, pb)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-13, atol=1e-14)
    out.sum().backward()
    want.sum().backward()
    np.testing.assert_allclose(ta.grad.numpy(), pa.grad.numpy(), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tb.grad.numpy(), pb.grad.numpy(), rtol=1e-13, atol=1e-14)


def test_clamp_tensor_bounds_and_div_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, lo, hi = rng.uniform(-2, 2, (3, 4)), rng.uniform(-1, 0.5, (4,)), rng.uniform(-0.5, 1, (3, 1))
    ours = [minigrad.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    minigrad.clamp(*ours).sum().backward()
    torch.clamp(*theirs).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())
    for mode in ("trunc", "floor"):
        np.testing.assert_array_equal(
            minigrad.div(ours[0], ours[1], rounding_mode=mode).numpy(),
            torch.div(theirs[0], theirs[1], rounding_mode=mode).detach().numpy(),
        )
    for decimals in (0, 1, 2, -1):
        np.testing.assert_array_equal(
            minigrad.round(ours[0] * 10, decimals=decimals).numpy(),
            torch.round(theirs[0] * 10, decimals=decimals).detach().numpy(),
        )

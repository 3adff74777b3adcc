"""Activation layers and functional forms (minigrad.nn.activation, minigrad.ops.activation): forwards against
NumPy formulas, gradients by gradcheck in float64 on hypothesis shapes, kinks, in-place forms and errors.

The primitives also have op-table records (tests/ops/optable.py); this file checks the functional
forms and modules users call, the compositions, and what the table does not (arguments, modules, inplace).
"""

import math
import os
import sys

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "ops"))
from ophelpers import check_second_order, with_device  # noqa: E402

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError, DTypeError, GraphError, IndexOutOfRange, ShapeError
from minigrad.ops import activation as ops


def _np(t):
    return t.to("cpu").numpy()


def _t(a, device="cpu", requires_grad=False, dtype=np.float64):
    return mg.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=requires_grad)


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _arrays(lo=-4.0, hi=4.0, avoid=(), gap=1e-3):
    elements = st.floats(lo, hi).filter(lambda v: all(abs(v - p) > gap for p in avoid))
    return hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4), elements=elements)


# --- GELU ----------------------------------------------------------------------------------------------------


def test_gelu_matches_the_formulas_and_keeps_the_lower_tail(device):
    x = np.linspace(-12, 12, 241)
    noise = 4 * np.finfo(np.float64).eps * np.abs(x)  # the textbook formulas cancel for x < 0; ours do not
    exact = 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    np.testing.assert_allclose(_np(F.gelu(_t(x, device))), exact, rtol=1e-13, atol=noise.max())
    phi_low = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])  # Phi without the cancellation
    # Phi(x) is conditioned like x^2 in the tail (d log Phi / d log x ~ x^2): a relative error of x^2 eps is the floor
    np.testing.assert_allclose(_np(F.gelu(_t(x, device))), x * phi_low, rtol=1e-13, atol=0)
    u = math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)
    tanh_form = _np(F.gelu(_t(x, device), approximate="tanh"))
    np.testing.assert_allclose(tanh_form, 0.5 * x * (1 + np.tanh(u)), rtol=1e-13, atol=noise.max())
    np.testing.assert_allclose(tanh_form, x / (1 + np.exp(-2 * u)), rtol=1e-12, atol=0)  # x sigmoid(2u); exp: |2u| eps
    for dtype in (np.float32,):
        out = F.gelu(_t(x, device, dtype=dtype))
        assert out.dtype == dtype
        np.testing.assert_allclose(_np(out), exact, rtol=2e-6, atol=1e-6)
    assert F.gelu(_t(np.empty((0, 3)), device)).shape == (0, 3)


def test_normal_cdf_is_phi_in_both_tails():
    x = np.linspace(-37, 8, 901)
    want = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x])
    got = _np(ops._normal_cdf(_t(x)))
    ok = want > 1e-300
    # the rounding of x itself moves Phi(x) by a relative x^2 eps in the tail: that is the floor
    assert np.all(np.abs(got - want)[ok] <= (16 + 1.5 * x[ok] ** 2) * np.finfo(np.float64).eps * want[ok])
    x32 = x.astype(np.float32)
    want32 = np.array([0.5 * math.erfc(-float(v) / math.sqrt(2)) for v in x32])
    ok32 = want32 > 1e-37
    got32 = _np(ops._normal_cdf(_t(x32, dtype=np.float32))).astype(np.float64)
    assert np.all(np.abs(got32 - want32)[ok32] <= (16 + 1.5 * x32[ok32] ** 2) * np.finfo(np.float32).eps * want32[ok32])


@with_device
@given(x=_arrays(-6, 6), approximate=st.sampled_from(["none", "tanh"]))
def test_gelu_gradients(x, approximate, device):
    check_gradients(lambda t: F.gelu(t, approximate=approximate), x, device=device)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_second_order(approximate):
    check_second_order(lambda t: F.gelu(t, approximate=approximate), np.linspace(-5, 5, 11))


def test_gelu_module_and_errors():
    assert repr(nn.GELU()) == "GELU(approximate='none')" and nn.GELU("tanh").approximate == "tanh"
    x = _t([-1.0, 0.5, 2.0])
    np.testing.assert_array_equal(_np(nn.GELU("tanh")(x)), _np(F.gelu(x, approximate="tanh")))
    with pytest.raises(ArgumentError, match="gelu: approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ArgumentError, match="GELU: approximate"):
        nn.GELU("sigmoid")
    assert list(nn.GELU().state_dict()) == []


# --- every other activation: forwards against the formulas ---------------------------------------------------

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _sig(x):
    return np.exp(-np.logaddexp(0.0, -x))  # 1 / (1 + e^-x) without overflow


def _softplus(x, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# name -> (minigrad function of x, NumPy formula); every kink (0, +-0.5, +-1, +-3, 6, 20) lies on GRID exactly
FORMULAS = {
    "relu": (F.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    "elu": (F.elu, _elu),
    "elu-alpha": (lambda t: F.elu(t, 0.5), lambda x: _elu(x, 0.5)),
    "celu": (
        lambda t: F.celu(t, 2.0),
        lambda x: np.maximum(x, 0) + np.minimum(0, 2.0 * np.expm1(np.minimum(x, 0) / 2)),
    ),
    "selu": (F.selu, lambda x: SELU_SCALE * _elu(x, SELU_ALPHA)),
    "silu": (F.silu, lambda x: x * _sig(x)),
    "mish": (F.mish, lambda x: x * np.tanh(np.logaddexp(0.0, x))),
    "softplus": (F.softplus, _softplus),
    "softplus-beta": (lambda t: F.softplus(t, 2.0, 4.0), lambda x: _softplus(x, 2.0, 4.0)),
    "hardtanh": (F.hardtanh, lambda x: np.clip(x, -1, 1)),
    "hardtanh-bounds": (lambda t: F.hardtanh(t, -3.0, 0.5), lambda x: np.clip(x, -3, 0.5)),
    "relu6": (F.relu6, lambda x: np.clip(x, 0, 6)),
    "logsigmoid": (F.logsigmoid, lambda x: -np.logaddexp(0.0, -x)),
    "hardsigmoid": (F.hardsigmoid, lambda x: np.clip(x + 3, 0, 6) / 6),
    "hardswish": (F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    "softsign": (F.softsign, lambda x: x / (1 + np.abs(x))),
    "tanhshrink": (F.tanhshrink, lambda x: x - np.tanh(x)),
    "softshrink": (F.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0)),
    "hardshrink": (lambda t: F.hardshrink(t, 1.0), lambda x: np.where(np.abs(x) > 1.0, x, 0)),
    "threshold": (lambda t: F.threshold(t, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0)),
    "rrelu-eval": (F.rrelu, lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
    "prelu": (lambda t: F.prelu(t, _t([0.25], t.device, dtype=t.dtype)), lambda x: np.where(x > 0, x, 0.25 * x)),
    "softmin": (lambda t: F.softmin(t, dim=0), lambda x: np.exp(-x - np.logaddexp.reduce(-x))),
}
KINKS = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 2.0, 20.0])
GRID = np.concatenate([np.linspace(-8, 8, 161), KINKS, [-1e-9, 1e-9, -40.0, -21.0, 21.0, 40.0]])
WIDE = np.concatenate([GRID, [-800.0, -100.0, 100.0, 800.0]])


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_forwards_match_the_formulas_in_float64_and_float32(name, device):
    fn, formula = FORMULAS[name]
    x = GRID if name == "softmin" else WIDE
    with np.errstate(over="ignore", invalid="ignore"):
        want = formula(x)
    out = fn(_t(x, device))
    assert out.dtype == np.float64 and out.shape == x.shape and out.device == device
    np.testing.assert_allclose(_np(out), want, rtol=1e-13, atol=1e-300)
    out32 = fn(_t(x, device, dtype=np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(_np(out32), want, rtol=3e-6, atol=1e-6)
    empty = fn(_t(np.empty((3, 0)), device))  # softmin reduces dim 0: minigrad's softmax refuses an empty one
    assert empty.shape == (3, 0)


def test_no_overflow_in_the_tails():
    x = _t([-1e4, -800.0, 800.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no 0 * inf: the stable forms
        for fn in (F.softplus, F.logsigmoid, F.mish, F.silu, F.elu, F.selu, F.celu, F.softsign):
            out = fn(x)
            assert np.all(np.isfinite(_np(out))), fn.__name__
    np.testing.assert_array_equal(_np(F.logsigmoid(x)), [-1e4, -800.0, 0.0, 0.0])
    np.testing.assert_array_equal(_np(F.softplus(x)), [0.0, 0.0, 800.0, 1e4])
    np.testing.assert_allclose(_np(F.logsigmoid(_t([-30.0]))), [-30.0 - math.exp(-30.0)], rtol=1e-15)


# --- gradients: compositions by gradcheck, kinks by PyTorch's conventions ------------------------------------


def _seeded(fn, *args, **kwargs):
    """``fn`` after re-seeding minigrad's generator: the same random slopes in every evaluation."""
    mg.manual_seed(7)
    return fn(*args, **kwargs)


COMPOSED = {
    "silu": (F.silu, ()),
    "mish": (F.mish, ()),
    "hardsigmoid": (F.hardsigmoid, (-3.0, 3.0)),
    "hardswish": (F.hardswish, (-3.0, 3.0)),
    "relu6": (F.relu6, (0.0, 6.0)),
    "logsigmoid": (F.logsigmoid, ()),
    "softsign": (F.softsign, (0.0,)),
    "tanhshrink": (F.tanhshrink, ()),
    "celu": (lambda t: F.celu(t, 0.5), (0.0,)),
    "selu": (F.selu, (0.0,)),
    "rrelu-eval": (lambda t: F.rrelu(t, 0.1, 0.3), (0.0,)),
    "rrelu-train": (lambda t: _seeded(F.rrelu, t, 0.1, 0.3, training=True), (0.0,)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.3), (0.0,)),
    "relu": (F.relu, (0.0,)),
    "softmin-0": (lambda t: F.softmin(t, dim=0) if t.ndim else F.softmin(t, 0), ()),
    "softmin-last": (lambda t: F.softmin(t, dim=-1) if t.ndim else F.softmin(t, 0), ()),
    "logsigmoid-module": (nn.LogSigmoid(), ()),
    "hardswish-module": (nn.Hardswish(), (-3.0, 3.0)),
}


@with_device
@given(data=st.data())
@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_gradients_of_the_compositions(name, data, device):
    fn, kinks = COMPOSED[name]
    x = data.draw(_arrays(-7, 7, avoid=kinks, gap=1e-2), label="x")
    if name.startswith("softmin"):
        assume(0 not in x.shape)  # minigrad's softmax refuses to reduce an empty dimension (PyTorch gives empty)
    check_gradients(fn, x, device=device)


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_second_order_of_the_compositions(name):
    fn, kinks = COMPOSED[name]
    x = np.array([v for v in np.linspace(-6.3, 6.1, 23) if all(abs(v - k) > 0.05 for k in kinks)])
    check_second_order(fn, x)


@with_device
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.floats(-5, 5)),
       data=st.data())  # fmt: skip
def test_glu_gradients_and_halves(x, data, device):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    x = np.concatenate([x, x[::-1] * 0.5 + 0.1], axis=dim)  # even along dim
    axis = dim % x.ndim
    n = x.shape[axis] // 2
    a, b = np.split(x, [n], axis=axis)
    out = F.glu(_t(x, device), dim)
    np.testing.assert_allclose(_np(out), a * _sig(b), rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(_np(nn.GLU(dim)(_t(x, device))), _np(out))
    check_gradients(lambda t: F.glu(t, dim), x, device=device)


def test_glu_second_order():
    check_second_order(lambda t: F.glu(t, 1), np.linspace(-3, 3, 12).reshape(2, 6))


def _grad_at(fn, points, dtype=np.float64):
    x = _t(points, requires_grad=True, dtype=dtype)
    fn(x).sum().backward()
    return _np(x.grad)


def test_gradients_at_the_kinks_follow_pytorch():
    # the ELU family takes its negative branch's derivative at 0: alpha, 1 for CELU, scale * alpha for SELU
    np.testing.assert_array_equal(_grad_at(lambda t: F.elu(t, 0.5), [0.0, 1.0]), [0.5, 1.0])
    np.testing.assert_array_equal(_grad_at(lambda t: F.elu(t, -1.0), [0.0]), [-1.0])
    np.testing.assert_array_equal(_grad_at(lambda t: F.celu(t, 0.5), [0.0]), [1.0])
    np.testing.assert_allclose(_grad_at(F.selu, [0.0, 1.0]), [SELU_SCALE * SELU_ALPHA, SELU_SCALE], rtol=1e-15)
    # hardtanh, relu6 and hardsigmoid pass nothing at their bounds; hardswish has 0 at -3 and 1 at 3
    np.testing.assert_array_equal(_grad_at(F.hardtanh, [-1.0, 1.0, 0.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad_at(lambda t: F.hardtanh(t, -2.0, 0.5), [-2.0, 0.5]), [0.0, 0.0])
    np.testing.assert_array_equal(_grad_at(F.relu6, [0.0, 6.0, 3.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad_at(F.hardsigmoid, [-3.0, 3.0, 0.0]), [0.0, 0.0, 1 / 6])
    np.testing.assert_array_equal(_grad_at(F.hardswish, [-3.0, 3.0, 0.0]), [0.0, 1.0, 0.5])
    # shrinks and threshold: 0 at their thresholds
    np.testing.assert_array_equal(_grad_at(F.softshrink, [-0.5, 0.5, 0.6]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad_at(F.hardshrink, [-0.5, 0.5, -0.6]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad_at(lambda t: F.threshold(t, 0.5, 9.0), [0.5, 0.6]), [0.0, 1.0])
    # prelu and leaky relu: the slope at 0; softplus is the identity only strictly above the threshold
    np.testing.assert_array_equal(_grad_at(lambda t: F.prelu(t, _t([0.3])), [0.0]), [0.3])
    np.testing.assert_array_equal(_grad_at(lambda t: F.leaky_relu(t, 0.2), [0.0]), [0.2])
    np.testing.assert_allclose(_grad_at(lambda t: F.softplus(t, 2.0, 4.0), [2.0, 2.0 + 1e-9]), [_sig(4.0), 1.0])
    # the same in float32
    np.testing.assert_array_equal(_grad_at(F.relu6, [0.0, 6.0], np.float32), [0.0, 0.0])
    np.testing.assert_array_equal(_grad_at(F.hardswish, [-3.0, 3.0], np.float32), [0.0, 1.0])


def test_the_primitives_declare_their_kinks():
    x = _t([-1.0, 0.5, 2.0])
    calls = {
        "elu": lambda: F.elu(x), "hardtanh": lambda: F.relu6(x), "softplus": lambda: F.softplus(x),
        "softshrink": lambda: F.softshrink(x), "hardshrink": lambda: F.hardshrink(x),
        "threshold": lambda: F.threshold(x, 0.0, 1.0), "prelu": lambda: F.prelu(x, _t([0.1])),
    }  # fmt: skip
    for name, call in calls.items():
        with mg.record_signatures() as rec:
            call()
        assert [entry[0] for entry in rec.log] == [name]


# --- modules: defaults and reprs as PyTorch's -----------------------------------------------------------------

REPRS = [
    (nn.ELU(), "ELU(alpha=1.0)"), (nn.ELU(0.5, True), "ELU(alpha=0.5, inplace=True)"), (nn.CELU(), "CELU(alpha=1.0)"),
    (nn.SELU(), "SELU()"), (nn.SELU(True), "SELU(inplace=True)"), (nn.SiLU(), "SiLU()"),
    (nn.SiLU(inplace=True), "SiLU(inplace=True)"), (nn.Mish(), "Mish()"), (nn.Mish(True), "Mish(inplace=True)"),
    (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"), (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
    (nn.Hardtanh(-2, 3, True), "Hardtanh(min_val=-2, max_val=3, inplace=True)"), (nn.ReLU6(), "ReLU6()"),
    (nn.ReLU6(True), "ReLU6(inplace=True)"), (nn.PReLU(), "PReLU(num_parameters=1)"),
    (nn.PReLU(3), "PReLU(num_parameters=3)"), (nn.LogSigmoid(), "LogSigmoid()"), (nn.Hardsigmoid(), "Hardsigmoid()"),
    (nn.Hardsigmoid(True), "Hardsigmoid()"), (nn.Hardswish(True), "Hardswish()"), (nn.Softsign(), "Softsign()"),
    (nn.Softmin(), "Softmin(dim=None)"), (nn.Softmin(1), "Softmin(dim=1)"), (nn.Tanhshrink(), "Tanhshrink()"),
    (nn.Softshrink(), "Softshrink(0.5)"), (nn.Hardshrink(0.25), "Hardshrink(0.25)"),
    (nn.Threshold(0.1, 20), "Threshold(threshold=0.1, value=20)"),
    (nn.Threshold(0.1, 20.0, True), "Threshold(threshold=0.1, value=20.0, inplace=True)"), (nn.GLU(), "GLU(dim=-1)"),
    (nn.RReLU(), "RReLU(lower=0.125, upper=0.3333333333333333)"),
    (nn.RReLU(0.1, 0.3, True), "RReLU(lower=0.1, upper=0.3, inplace=True)"), (nn.Softmax2d(), "Softmax2d()"),
    (nn.ReLU(), "ReLU()"), (nn.ReLU(True), "ReLU(inplace=True)"), (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
    (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"), (nn.Softmax(), "Softmax(dim=None)"),
    (nn.Softmax(-1), "Softmax(dim=-1)"), (nn.LogSoftmax(), "LogSoftmax(dim=None)"),
]  # fmt: skip


@pytest.mark.parametrize("module, text", REPRS, ids=[t for _, t in REPRS])
def test_module_reprs_are_pytorchs(module, text):
    assert repr(module) == text
    assert list(module.state_dict()) == (["weight"] if isinstance(module, nn.PReLU) else [])


def test_module_defaults():
    assert (nn.ELU().alpha, nn.ELU().inplace, nn.CELU().alpha) == (1.0, False, 1.0)
    assert (nn.Softplus().beta, nn.Softplus().threshold) == (1.0, 20.0)
    assert (nn.Hardtanh().min_val, nn.Hardtanh().max_val, nn.Hardtanh().inplace) == (-1.0, 1.0, False)
    assert (nn.ReLU6().min_val, nn.ReLU6().max_val) == (0.0, 6.0)
    assert (nn.PReLU().num_parameters, nn.PReLU().init) == (1, 0.25)
    assert nn.Softmin().dim is None and nn.GLU().dim == -1
    assert nn.Softshrink().lambd == 0.5 and nn.Hardshrink().lambd == 0.5
    assert (nn.RReLU().lower, nn.RReLU().upper) == (1 / 8, 1 / 3)
    assert all(not m().inplace for m in (nn.SELU, nn.SiLU, nn.Mish, nn.Hardsigmoid, nn.Hardswish, nn.ReLU, nn.RReLU))
    with pytest.warns(FutureWarning, match="min_value"):
        assert nn.Hardtanh(min_value=-2.0).min_val == -2.0


MODULE_FUNCTIONS = [
    (nn.ELU(0.5), lambda t: F.elu(t, 0.5)), (nn.CELU(2.0), lambda t: F.celu(t, 2.0)), (nn.SELU(), F.selu),
    (nn.SiLU(), F.silu), (nn.Mish(), F.mish), (nn.Softplus(2.0, 3.0), lambda t: F.softplus(t, 2.0, 3.0)),
    (nn.Hardtanh(-2.0, 0.5), lambda t: F.hardtanh(t, -2.0, 0.5)), (nn.ReLU6(), F.relu6),
    (nn.LogSigmoid(), F.logsigmoid), (nn.Hardsigmoid(), F.hardsigmoid), (nn.Hardswish(), F.hardswish),
    (nn.Softsign(), F.softsign), (nn.Softmin(1), lambda t: F.softmin(t, 1)), (nn.Tanhshrink(), F.tanhshrink),
    (nn.Softshrink(1.0), lambda t: F.softshrink(t, 1.0)), (nn.Hardshrink(1.0), lambda t: F.hardshrink(t, 1.0)),
    (nn.Threshold(0.5, -1.0), lambda t: F.threshold(t, 0.5, -1.0)), (nn.GLU(1), lambda t: F.glu(t, 1)),
    (nn.Softmax2d(), lambda t: mg.softmax(t, dim=-3)), (nn.ReLU(), F.relu),
    (nn.LeakyReLU(0.3), lambda t: F.leaky_relu(t, 0.3)), (nn.RReLU(0.1, 0.2).eval(), lambda t: F.leaky_relu(t, 0.15)),
    (nn.PReLU(), lambda t: F.prelu(t, _t([0.25], dtype=np.float32))),
]  # fmt: skip


@pytest.mark.parametrize("module, fn", MODULE_FUNCTIONS, ids=[repr(m) for m, _ in MODULE_FUNCTIONS])
def test_modules_apply_their_functions(module, fn):
    x = np.random.default_rng(0).standard_normal((2, 4, 3, 2)).astype(np.float32) * 3
    np.testing.assert_array_equal(_np(module(_t(x, dtype=np.float32))), _np(fn(_t(x, dtype=np.float32))))


def test_top_level_functions_exist_where_torch_has_them():
    for name in ["selu", "selu_", "celu", "celu_", "prelu", "hardshrink", "threshold", "threshold_", "rrelu",
                 "rrelu_", "relu_"]:  # fmt: skip
        assert callable(getattr(mg, name)), name
    for name in ["silu", "mish", "elu", "softplus", "hardtanh", "relu6", "hardswish", "glu", "softmin"]:
        assert not hasattr(mg, name), name  # not in torch's namespace either (only in torch.nn.functional)


# --- inplace=True ---------------------------------------------------------------------------------------------

INPLACE = [
    ("relu", lambda t, i: F.relu(t, inplace=i)), ("leaky_relu", lambda t, i: F.leaky_relu(t, 0.2, inplace=i)),
    ("elu", lambda t, i: F.elu(t, 0.5, inplace=i)), ("celu", lambda t, i: F.celu(t, 2.0, inplace=i)),
    ("selu", lambda t, i: F.selu(t, inplace=i)), ("silu", lambda t, i: F.silu(t, inplace=i)),
    ("mish", lambda t, i: F.mish(t, inplace=i)), ("hardtanh", lambda t, i: F.hardtanh(t, -0.5, 0.5, inplace=i)),
    ("relu6", lambda t, i: F.relu6(t, inplace=i)), ("hardsigmoid", lambda t, i: F.hardsigmoid(t, inplace=i)),
    ("hardswish", lambda t, i: F.hardswish(t, inplace=i)), ("threshold", lambda t, i: F.threshold(t, 0.1, 2.0, i)),
    ("rrelu", lambda t, i: F.rrelu(t, inplace=i)), ("ELU", lambda t, i: nn.ELU(inplace=i)(t)),
    ("Hardtanh", lambda t, i: nn.Hardtanh(inplace=i)(t)), ("ReLU", lambda t, i: nn.ReLU(i)(t)),
    ("Threshold", lambda t, i: nn.Threshold(0.0, 1.0, i)(t)), ("RReLU-train", lambda t, i: nn.RReLU(inplace=i)(t)),
]  # fmt: skip
UNDERSCORED = [
    (F.relu_, F.relu), (F.leaky_relu_, F.leaky_relu), (F.elu_, F.elu), (F.celu_, F.celu), (F.selu_, F.selu),
    (F.hardtanh_, F.hardtanh), (lambda t: F.threshold_(t, 0.0, 3.0), lambda t: F.threshold(t, 0.0, 3.0)),
    (F.rrelu_, F.rrelu), (mg.relu_, F.relu), (mg.selu_, F.selu), (mg.celu_, F.celu),
    (lambda t: mg.threshold_(t, 0.0, 3.0), lambda t: F.threshold(t, 0.0, 3.0)), (mg.rrelu_, F.rrelu),
]  # fmt: skip
X_INPLACE = np.array([-4.0, -1.0, -0.25, 0.0, 0.25, 1.0, 4.0, 7.0])


@pytest.mark.parametrize("name, fn", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_writes_into_the_input_and_bumps_its_version(name, fn, device):
    mg.manual_seed(0)
    want = _np(fn(_t(X_INPLACE, device), False))
    x = _t(X_INPLACE, device)
    before = x._version
    mg.manual_seed(0)
    out = fn(x, True)
    assert out is x and x._version > before
    np.testing.assert_array_equal(_np(x), want)


@pytest.mark.parametrize("inplace_fn, fn", UNDERSCORED)
def test_underscored_forms_are_the_inplace_ones(inplace_fn, fn):
    x = _t(X_INPLACE)
    want = _np(fn(_t(X_INPLACE)))
    assert inplace_fn(x) is x
    np.testing.assert_array_equal(_np(x), want)


@pytest.mark.parametrize("name, fn", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_refuses_a_leaf_that_requires_grad_and_records_on_a_non_leaf(name, fn):
    leaf = _t(X_INPLACE, requires_grad=True)
    with pytest.raises(GraphError, match="leaf tensor that requires grad"):
        fn(leaf, True)
    np.testing.assert_array_equal(_np(leaf), X_INPLACE)  # left intact
    mg.manual_seed(1)
    expected = mg.grad(fn(leaf * 1.5, False).sum(), leaf)[0]
    mg.manual_seed(1)
    hidden = leaf * 1.5
    out = fn(hidden, True)
    assert out is hidden
    np.testing.assert_array_equal(_np(mg.grad(out.sum(), leaf)[0]), _np(expected))


def test_inplace_after_a_node_saved_the_input_makes_that_backward_raise():
    x = _t([-1.0, 0.5, 2.0], requires_grad=True)
    h = x * 2
    y = h * h  # saves h
    with mg.no_grad():
        F.elu_(h)
    with pytest.raises(GraphError, match="modified"):
        y.sum().backward()


def test_inplace_needs_a_tensor_of_the_results_dtype():
    with pytest.raises(ArgumentError, match="elu: inplace=True needs a tensor"):
        F.elu(np.ones(3), inplace=True)
    x = mg.tensor(np.array([-1, 2]))
    with pytest.raises(DTypeError, match="elu: inplace=True cannot store"):
        F.elu_(x)
    np.testing.assert_array_equal(_np(x), [-1, 2])
    np.testing.assert_array_equal(_np(F.threshold_(x, 0, 5)), [5, 2])  # integers stay integers


# --- PReLU ----------------------------------------------------------------------------------------------------


def test_prelu_parameter_state_dict_and_initialisation(device):
    layer = nn.PReLU(3, init=0.1, device=device, dtype=mg.float64)
    assert [n for n, _ in layer.named_parameters()] == ["weight"] and list(layer.state_dict()) == ["weight"]
    assert layer.weight.shape == (3,) and layer.weight.dtype == np.float64 and layer.weight.device == device
    np.testing.assert_array_equal(_np(layer.weight), [0.1, 0.1, 0.1])
    assert nn.PReLU().weight.dtype == np.float32 and _np(nn.PReLU().weight).tolist() == [0.25]
    layer.load_state_dict({"weight": np.array([0.5, -1.0, 2.0])})
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    want = np.where(x > 0, x, x * np.array([0.5, -1.0, 2.0])[:, None])
    np.testing.assert_allclose(_np(layer(_t(x, device))), want, rtol=1e-15)
    with pytest.raises(mg.nn.StateDictError):
        layer.load_state_dict({"weight": np.ones(4)})


@with_device
@given(data=st.data())
def test_prelu_gradients_per_channel_and_shared(data, device):
    ndim = data.draw(st.integers(0, 4), label="ndim")
    shape = tuple(data.draw(st.lists(st.integers(1, 3), min_size=ndim, max_size=ndim), label="shape"))
    channels = shape[1] if ndim >= 2 else 1
    count = data.draw(st.sampled_from(sorted({1, channels})), label="count")
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-2)))
    w = data.draw(hnp.arrays(np.float64, (count,), elements=st.floats(-1, 1.5)))
    check_gradients(F.prelu, x, w, device=device)
    slopes = w.reshape(()) if count == 1 else w.reshape((-1,) + (1,) * (ndim - 2))
    np.testing.assert_allclose(_np(F.prelu(_t(x, device), _t(w, device))), np.where(x > 0, x, slopes * x))


def test_prelu_second_order_and_weight_gradient_formula():
    x = np.linspace(-3, 2.9, 24).reshape(2, 3, 4)
    w = np.array([0.2, -0.4, 1.1])
    check_second_order(F.prelu, x, w)
    xs, ws = _t(x, requires_grad=True), _t(w, requires_grad=True)
    F.prelu(xs, ws).sum().backward()
    np.testing.assert_allclose(_np(ws.grad), np.where(x > 0, 0, x).sum(axis=(0, 2)), rtol=1e-14)


def test_prelu_errors_name_the_op():
    with pytest.raises(ShapeError, match=r"prelu: 2 weights for an input of shape \(4, 3\) with 3 channels"):
        F.prelu(_t(np.ones((4, 3))), _t([0.1, 0.2]))
    with pytest.raises(ShapeError, match="prelu: 3 weights .* with 1 channels"):
        F.prelu(_t(np.ones(3)), _t([0.1, 0.2, 0.3]))  # a 1-D input has one channel, as in PyTorch
    with pytest.raises(ShapeError, match="prelu: weight must be 0-d or 1-D"):
        F.prelu(_t(np.ones((2, 3))), _t(np.ones((3, 1))))
    with pytest.raises(ShapeError, match="prelu"):
        nn.PReLU(3)(_t(np.ones((2, 4)), dtype=np.float32))
    with pytest.raises(ArgumentError, match="PReLU: num_parameters"):
        nn.PReLU(-1)


# --- RReLU ----------------------------------------------------------------------------------------------------


def test_rrelu_draws_random_slopes_in_training_and_uses_their_mean_in_eval(device):
    x = -np.linspace(0, 4, 2001)
    layer = nn.RReLU(0.1, 0.3)
    assert layer.training
    t = _t(x, device, requires_grad=True)
    out = layer(t)
    out.sum().backward()
    slopes = _np(t.grad)
    assert np.all((slopes >= 0.1) & (slopes <= 0.3)) and slopes.std() > 0.05 and abs(slopes.mean() - 0.2) < 0.01
    np.testing.assert_allclose(_np(out)[1:], x[1:] * slopes[1:], rtol=1e-15)  # the gradient is the slope used
    np.testing.assert_array_equal(_np(layer(_t([1.0, 2.5], device))), [1.0, 2.5])  # positive side untouched
    mg.manual_seed(3)
    first = _np(layer(_t(x, device)))
    mg.manual_seed(3)
    np.testing.assert_array_equal(_np(layer(_t(x, device))), first)  # minigrad's seeded generator
    layer.eval()
    np.testing.assert_allclose(_np(layer(_t(x, device))), x * 0.2, rtol=1e-15)
    np.testing.assert_allclose(_np(F.rrelu(_t(x, device))), x * (1 / 8 + 1 / 3) / 2, rtol=1e-15)
    assert F.rrelu(_t(x, dtype=np.float32), training=True).dtype == np.float32


# --- errors ---------------------------------------------------------------------------------------------------


def test_bad_arguments_raise_errors_that_name_the_op():
    x = _t([-1.0, 0.0, 2.0])
    with pytest.raises(ArgumentError, match="softshrink: lambd must be non-negative, got -0.5"):
        F.softshrink(x, -0.5)
    with pytest.raises(ArgumentError, match="softshrink"):
        nn.Softshrink(-1.0)(x)
    with pytest.raises(ArgumentError, match="hardtanh: min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    np.testing.assert_array_equal(_np(F.hardtanh(x, 0.5, 0.5)), [0.5, 0.5, 0.5])  # equal bounds: allowed
    with pytest.raises(ArgumentError, match=r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(ShapeError, match="glu: halving dimension must be even, but dimension 1 .* has size 3"):
        F.glu(_t(np.ones((2, 3))), 1)
    with pytest.raises(ShapeError, match="glu: a 0-d tensor"):
        nn.GLU()(_t(1.0))
    with pytest.raises(IndexOutOfRange, match="glu: dim 2 is out of range"):
        F.glu(_t(np.ones((2, 4))), 2)
    with pytest.raises(ArgumentError, match="rrelu: lower must not exceed upper"):
        F.rrelu(x, 0.5, 0.1, training=True)
    with pytest.raises(ArgumentError, match="rrelu"):
        nn.RReLU(0.5, 0.1).eval()(x)
    with pytest.raises(ArgumentError, match="celu: alpha cannot be 0"):
        F.celu(x, 0.0)
    with pytest.raises(ArgumentError, match="CELU: alpha cannot be 0"):
        nn.CELU(0)
    with pytest.raises(ShapeError, match="Softmax2d: expected input to be 3D or 4D, got 2D"):
        nn.Softmax2d()(_t(np.ones((2, 3))))
    np.testing.assert_array_equal(_np(x), [-1.0, 0.0, 2.0])  # inputs left as they were


def test_softmin_and_softmax2d():
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    for dim in (0, 1, -1):
        e = np.exp(-x - (-x).max(axis=dim, keepdims=True))
        np.testing.assert_allclose(_np(F.softmin(_t(x), dim)), e / e.sum(axis=dim, keepdims=True), rtol=1e-13)
    for shape, implicit in [((5,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)]:
        y = x.reshape(-1)[: math.prod(shape)].reshape(shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
            got = F.softmin(_t(y))
        np.testing.assert_allclose(_np(got), _np(F.softmin(_t(y), implicit)), rtol=1e-15)
    assert F.softmin(_t(x), 1, dtype=mg.float32).dtype == np.float32
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(_np(nn.Softmax2d()(_t(x))), e / e.sum(axis=1, keepdims=True), rtol=1e-13)
    np.testing.assert_allclose(_np(nn.Softmax2d()(_t(x[0]))), _np(mg.softmax(_t(x[0]), dim=0)), rtol=1e-15)
    check_gradients(lambda t: nn.Softmax2d()(t), x[:1, :, :2, :2])


@pytest.mark.parametrize("module, op", [(nn.Softmax, "softmax"), (nn.LogSoftmax, "log_softmax")])
def test_softmax_modules_take_pytorchs_implicit_dim(module, op):
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    for shape, implicit in [((5,), 0), ((2, 3), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)]:
        y = _t(x.reshape(-1)[: math.prod(shape)].reshape(shape))
        with pytest.warns(UserWarning, match=f"Implicit dimension choice for {op} has been deprecated"):
            got = module()(y)
        np.testing.assert_array_equal(_np(got), _np(module(implicit)(y)))
    assert module().dim is None and module(2).dim == 2

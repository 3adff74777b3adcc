"""minigrad.ops.special and minigrad.ops.numeric: what is particular.

The primitives' forwards, gradchecks (hypothesis shapes with broadcasting and empty dims), second order,
kinks and float32 are the op table's (tests/ops/optable.py). Here: accuracy against math on many points,
the values at poles and infinities PyTorch gives, integer inputs becoming float32, I1 (i0's derivative),
the composites (mvlgamma, logaddexp2, ldexp, deg2rad, rad2deg, sgn) gradchecked, the non-differentiable
helpers (heaviside, frexp, gcd, lcm), the in-place forms and the errors.
"""

import math

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import check_second_order

import minigrad as mg
from minigrad.errors import ArgumentError, DTypeError, GraphError
from minigrad.ops import special


def _t(a, dtype=np.float64, requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


RNG = np.random.default_rng(0)


def test_lgamma_erfc_erfinv_against_math_on_many_points():
    x = np.concatenate([RNG.uniform(-10, 10, 4000), RNG.uniform(0, 60, 2000), np.linspace(-5.7, 5.7, 2001)])
    x = x[np.abs(x - np.rint(x)) > 1e-9]  # off the poles
    want = np.array([math.lgamma(v) for v in x])
    got = mg.lgamma(_t(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)
    xe = np.concatenate([RNG.uniform(-6, 27, 6000), [0.0, 0.46875, 4.0, 26.0]])
    np.testing.assert_allclose(
        mg.erfc(_t(xe)).numpy(), [math.erfc(v) for v in xe], rtol=2e-15, atol=1e-320
    )  # subnormals: an ulp
    y = np.concatenate([RNG.uniform(-1, 1, 3000), 1 - 10.0 ** -RNG.uniform(1, 15, 300), [0.0, -0.5, 0.5]])
    x = mg.erfinv(_t(y)).numpy()
    np.testing.assert_allclose([math.erf(v) for v in x], y, rtol=0, atol=3e-16)


def test_poles_infinities_and_nan_as_pytorch():
    inf, nan = math.inf, math.nan
    x = _t([0.0, -0.0, -1.0, -2.0, inf, -inf, nan])
    np.testing.assert_array_equal(mg.lgamma(x).numpy(), [inf, inf, inf, inf, inf, inf, nan])
    np.testing.assert_array_equal(mg.digamma(x).numpy(), [-inf, inf, nan, nan, inf, nan, nan])
    np.testing.assert_array_equal(mg.polygamma(1, x).numpy(), [inf, inf, inf, inf, 0.0, nan, nan])
    np.testing.assert_array_equal(mg.polygamma(2, x).numpy(), [-inf, -inf, -inf, -inf, nan, -inf, nan])
    np.testing.assert_array_equal(mg.erfinv(_t([1.0, -1.0, 1.5, nan])).numpy(), [inf, -inf, nan, nan])
    np.testing.assert_array_equal(mg.erfc(_t([-inf, inf, 30.0])).numpy(), [2.0, 0.0, 0.0])
    np.testing.assert_array_equal(mg.logit(_t([0.0, 1.0])).numpy(), [-inf, inf])
    assert mg.i0(_t([800.0])).item() == inf and mg.i0(_t([0.0])).item() == 1.0
    np.testing.assert_array_equal(mg.xlogy(_t([0.0, 0.0, 0.0]), _t([0.0, nan, -1.0])).numpy(), [0.0, nan, 0.0])
    assert mg.sinc(_t([0.0])).item() == 1.0


def test_digamma_polygamma_at_known_values():
    euler = 0.57721566490153286
    np.testing.assert_allclose(
        mg.digamma(_t([1.0, 0.5, -0.5])).numpy(), [-euler, -euler - 2 * math.log(2), 0.03648997397857652], rtol=1e-14
    )
    np.testing.assert_allclose(mg.polygamma(1, _t([1.0, 0.5])).numpy(), [math.pi**2 / 6, math.pi**2 / 2], rtol=1e-14)
    np.testing.assert_allclose(mg.polygamma(2, _t([1.0])).numpy(), [-2 * 1.2020569031595942], rtol=1e-14)
    np.testing.assert_allclose(mg.tensor([1.0], dtype=np.float64).polygamma(3).numpy(), [math.pi**4 / 15], rtol=1e-14)
    # digamma is lgamma's derivative, polygamma(1) digamma's (numerically, on a grid)
    x = np.linspace(0.3, 7.0, 50)
    h = 1e-5
    lg = lambda v: mg.lgamma(_t(v)).numpy()  # noqa: E731
    np.testing.assert_allclose(mg.digamma(_t(x)).numpy(), (lg(x + h) - lg(x - h)) / (2 * h), rtol=1e-8)
    assert mg.polygamma(0, _t([2.0])).item() == mg.digamma(_t([2.0])).item()


def test_i0_and_i1_against_their_series():
    x = np.concatenate([RNG.uniform(-40, 40, 500), [0.0, 29.99, 30.01]])

    def series(v, order):  # sum (v/2)^(2k+order) / (k! (k+order)!), term by term in Python floats
        term = 1.0 if order == 0 else v / 2
        total = term
        for k in range(1, 200):
            term *= (v / 2) ** 2 / (k * (k + order))
            total += term
        return total

    np.testing.assert_allclose(mg.i0(_t(x)).numpy(), [series(v, 0) for v in x], rtol=1e-14)
    np.testing.assert_allclose(special._i1(_t(x)).numpy(), [series(v, 1) for v in x], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(mg.i0(_t(x)).numpy(), np.i0(x), rtol=1e-14)
    check_second_order(lambda v: mg.i0(v), np.array([0.0, 0.7, -2.0]))
    check_second_order(lambda v: mg.i0(v), np.array([5e-324, 1e-200, -3e-150]))  # I1(x) / x near subnormals


@pytest.mark.parametrize(
    "fn",
    [mg.erfc, mg.erfinv, mg.lgamma, mg.digamma, mg.i0, mg.sinc, mg.logit, mg.deg2rad, mg.rad2deg, mg.reciprocal],
    ids=lambda f: f.__name__,
)
def test_integer_inputs_give_float32_as_pytorch(fn):
    points = [1, 2] if fn is mg.reciprocal else [0, 1]
    out = fn(mg.tensor(points))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), fn(mg.tensor([float(p) for p in points])).numpy())
    assert mg.xlogy(mg.tensor([1]), 2).dtype == np.float32 and mg.ldexp(mg.tensor([1]), mg.tensor([2])).tolist() == [
        4.0
    ]
    assert mg.polygamma(1, mg.tensor([1])).dtype == np.float32


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3, min_side=0), data=st.data())
def test_the_composites_gradcheck(shapes, data):
    s1, s2 = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, s1, elements=st.floats(1.2, 4.0)))
    b = data.draw(hnp.arrays(np.float64, s2, elements=st.floats(-2.0, 2.0)))
    check_gradients(lambda x, y: mg.logaddexp2(x, y), a, b)
    check_gradients(lambda x, y: mg.ldexp(x, y), a, b)
    check_gradients(lambda x: mg.mvlgamma(x, 2), a)
    check_gradients(lambda x: mg.deg2rad(x) + mg.rad2deg(x), b)
    np.testing.assert_allclose(mg.logaddexp2(_t(a), _t(b)).numpy(), np.logaddexp2(a, b), rtol=1e-12)
    np.testing.assert_allclose(mg.ldexp(_t(a), _t(b)).numpy(), a * 2.0**b, rtol=1e-12)
    np.testing.assert_allclose(mg.deg2rad(_t(b)).numpy(), np.deg2rad(b), rtol=1e-12)
    np.testing.assert_allclose(mg.rad2deg(_t(b)).numpy(), np.rad2deg(b), rtol=1e-12)


def test_mvlgamma_formula_and_errors():
    x = np.array([1.7, 2.5, 4.0])
    want = [3 * math.log(math.pi) / 2 + sum(math.lgamma(v - i / 2) for i in range(3)) for v in x]
    np.testing.assert_allclose(mg.mvlgamma(_t(x), 3).numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(_t(x).mvlgamma(1).numpy(), [math.lgamma(v) for v in x], rtol=1e-13)
    check_second_order(lambda v: mg.mvlgamma(v, 2), x)
    with pytest.raises(ArgumentError, match="mvlgamma: p has to be an integer >= 1"):
        mg.mvlgamma(_t(x), 0)
    with pytest.raises(ArgumentError, match="polygamma: n must be a non-negative integer"):
        mg.polygamma(-1, _t(x))


def test_gradient_conventions_as_pytorch():
    x = _t([0.05, 0.5, 0.95], requires_grad=True)
    mg.logit(x, eps=0.1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 4.0, 0.0])
    x, y = _t([0.0, 1.0, 2.0], requires_grad=True), _t([0.0, 2.0, 3.0], requires_grad=True)
    mg.xlogy(x, y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, math.log(2), math.log(3)])
    np.testing.assert_array_equal(np.isnan(y.grad.numpy()), [True, False, False])
    s = _t([0.0, 0.5], requires_grad=True)
    mg.sinc(s).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), [0.0, -4 / math.pi], rtol=1e-12)
    nan = math.nan
    a, b = _t([1.0, 2.0, 3.0, nan, 1.0], requires_grad=True), _t([2.0, 2.0, 1.0, 1.0, nan], requires_grad=True)
    mg.fmax(a, b).sum().backward()
    assert a.grad.tolist() == [0.0, 1.0, 1.0, 0.0, 1.0] and b.grad.tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    a, b = _t([1.0, 2.0, 3.0, nan, 1.0], requires_grad=True), _t([2.0, 2.0, 1.0, 1.0, nan], requires_grad=True)
    mg.fmin(a, b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 0.0, 0.0, 1.0] and b.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 0.0]
    n = _t([1.0, nan, math.inf], requires_grad=True)
    mg.nan_to_num(n).sum().backward()
    assert n.grad.tolist() == [1.0, 0.0, 0.0]
    f = _t([1.5, -2.5], requires_grad=True)
    mg.frac(f).sum().backward()
    assert f.grad.tolist() == [1.0, 1.0] and mg.frac(_t([1.5, -2.5])).tolist() == [0.5, -0.5]
    g = _t([1.0, -2.0], requires_grad=True)
    mg.sgn(g).sum().backward()
    assert g.grad.tolist() == [0.0, 0.0] and mg.sgn(mg.tensor([-3, 0, 2])).tolist() == [-1, 0, 1]


def test_nan_to_num_fmax_nextafter_values():
    x = mg.tensor([math.nan, math.inf, -math.inf, 1.0])
    f32 = np.finfo(np.float32)
    assert x.nan_to_num().tolist() == [0.0, float(f32.max), float(f32.min), 1.0]
    assert mg.nan_to_num(x, nan=1.0, posinf=2.0, neginf=-2.0).tolist() == [1.0, 2.0, -2.0, 1.0]
    assert mg.nan_to_num(mg.tensor([1, 2])).tolist() == [1, 2]
    assert mg.fmax(mg.tensor([1, 2]), mg.tensor([3.0, 0.0])).tolist() == [3.0, 2.0]
    assert np.isnan(mg.fmin(mg.tensor([math.nan]), mg.tensor([math.nan])).item())
    one = mg.tensor([1.0])
    assert mg.nextafter(one, mg.tensor([2.0])).item() - 1 == float(np.spacing(np.float32(1)))
    with pytest.raises(DTypeError, match="nextafter: takes floating-point"):
        mg.nextafter(mg.tensor([1]), mg.tensor([2]))
    with pytest.raises(DTypeError, match="frac: takes floating-point tensors only"):
        mg.frac(mg.tensor([1, 2]))


def test_heaviside_frexp_gcd_lcm():
    x = mg.tensor([-1.0, 0.0, 2.0, math.nan])
    out = mg.heaviside(x, mg.tensor(0.5))
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.5, 1.0, math.nan])
    assert mg.tensor([-1, 0, 2]).heaviside(mg.tensor([7])).tolist() == [0, 7, 1]
    assert not mg.heaviside(_t([1.0], requires_grad=True), _t(0.5)).requires_grad
    with pytest.raises(DTypeError, match="heaviside: values must be a tensor"):
        mg.heaviside(x, 0.5)
    mantissa, exponent = mg.frexp(mg.tensor([8.0, -0.3, 0.0]))
    np.testing.assert_allclose(mantissa.numpy(), [0.5, -0.6, 0.0], rtol=1e-6)
    assert exponent.dtype == np.int32 and exponent.tolist() == [4, -1, 0]
    assert mg.tensor([3.0]).frexp().exponent.tolist() == [2]
    with pytest.raises(DTypeError, match="frexp: only supports floating-point"):
        mg.frexp(mg.tensor([8]))
    assert mg.gcd(mg.tensor([12, -18, 0]), mg.tensor([8, 12, 0])).tolist() == [4, 6, 0]
    assert mg.tensor([4, -6, 0]).lcm(mg.tensor([6, 4, 5])).tolist() == [12, 12, 0]
    with pytest.raises(DTypeError, match="gcd: takes integer tensors only"):
        mg.gcd(mg.tensor([1.0]), mg.tensor([1.0]))


INPLACE = {  # name -> (the out-of-place function, a point in its domain)
    "erfc_": (mg.erfc, [0.3, -1.2]),
    "erfinv_": (mg.erfinv, [0.3, -0.7]),
    "lgamma_": (mg.lgamma, [0.3, 2.5]),
    "digamma_": (mg.digamma, [0.3, 2.5]),
    "i0_": (mg.i0, [0.3, -2.5]),
    "sinc_": (mg.sinc, [0.3, -2.5]),
    "logit_": (mg.logit, [0.3, 0.6]),
    "frac_": (mg.frac, [1.3, -2.6]),
    "sgn_": (mg.sgn, [1.3, -2.6]),
    "deg2rad_": (mg.deg2rad, [90.0, -45.0]),
    "rad2deg_": (mg.rad2deg, [1.0, -0.5]),
    "nan_to_num_": (mg.nan_to_num, [1.0, -0.5]),
    "polygamma_": (lambda x: mg.polygamma(2, x), [0.3, 2.5]),
    "mvlgamma_": (lambda x: mg.mvlgamma(x, 2), [1.3, 2.5]),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_forms_record_the_op(name):
    op, point = INPLACE[name]
    args = {"polygamma_": (2,), "mvlgamma_": (2,)}.get(name, ())
    t = _t(point)
    getattr(t, name)(*args)
    np.testing.assert_allclose(t.numpy(), op(_t(point)).numpy(), rtol=1e-14)
    assert t._version == 1
    x = _t(point, requires_grad=True)
    y = x * 1
    getattr(y, name)(*args)
    y.sum().backward()
    x2 = _t(point, requires_grad=True)
    op(x2 * 1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-12)
    with pytest.raises(GraphError, match=f"{name}: a leaf"):
        getattr(x, name)(*args)
    if hasattr(mg, name):
        t = _t(point)
        assert getattr(mg, name)(t) is t


def test_binary_in_place_forms():
    t = _t([0.0, 2.0])
    t.xlogy_(_t([3.0, 4.0]))
    np.testing.assert_allclose(t.numpy(), [0.0, 2 * math.log(4)])
    assert mg.ldexp_(_t([1.5]), _t([2.0])).tolist() == [6.0]
    assert _t([1.0]).nextafter_(_t([0.0])).item() < 1.0
    assert mg.gcd_(mg.tensor([12]), mg.tensor([8])).tolist() == [4] and mg.tensor([4]).lcm_(
        mg.tensor([6])
    ).tolist() == [12]
    h = _t([-1.0, 0.0, 1.0])
    h.heaviside_(_t([0.25]))
    assert h.tolist() == [0.0, 0.25, 1.0]
    with pytest.raises(DTypeError, match="erfc_: result dtype float32 cannot be stored in a tensor of dtype int64"):
        mg.tensor([1, 2]).erfc_()


def test_polygamma_of_negative_arguments_uses_the_reflection_formula():
    # the series used to be shifted by |x| direct terms: a fuzz draw of x = -1e7 ran for minutes
    x = np.array([-2.5, -0.3, -7.25, -1e7 + 0.5])
    for n in (1, 2, 3):
        got = mg.polygamma(n, _t(x)).numpy()
        # psi^(n)(x + 1) = psi^(n)(x) + (-1)^n n! / x^(n+1), taken up to an argument above 0
        shifted, expected = x.copy(), np.zeros_like(x)
        small = x > -100
        for _ in range(8):
            expected[small] -= (-1.0) ** n * math.factorial(n) / shifted[small] ** (n + 1)
            shifted[small] += 1
        expected[small] += mg.polygamma(n, _t(shifted[small])).numpy()
        np.testing.assert_allclose(got[small], expected[small], rtol=1e-12)
        # far out only the reflection term is left: polygamma(1, k + 1/2) tends to pi^2
        assert np.isfinite(got[~small]).all()
    np.testing.assert_allclose(mg.polygamma(1, _t(x[3:])).numpy(), [math.pi**2], rtol=1e-6)

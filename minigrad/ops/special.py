"""Special functions of issue #16: ``erfc``, ``erfinv``, ``lgamma``, ``digamma``, ``polygamma``, ``mvlgamma``,
``i0``, ``sinc``, ``logit``, ``xlogy``, ``logaddexp2``, and their in-place forms.

All are array code through the backend's ``xp`` (NumPy and CuPy alike, no SciPy), in float64 for float64
inputs and float32 otherwise (integer inputs give the default dtype, float32, as PyTorch's):

- ``erfc``: W. J. Cody's rational approximations (the pieces of :func:`minigrad.erf`, carried past
  |x| = 6 where erf is 1 but erfc is not: to the float64 underflow near x = 26.6), so erfc(5) = 1.5e-12 keeps
  its digits instead of the 1 - erf cancellation.
- ``erfinv``: a closed-form first guess (Winitzki's, 2e-3 relative) polished by four Newton steps on erf
  (on erfc for |y| > 0.5, where 1 - |y| is exact), each squaring the error.
- ``lgamma``: Lanczos' approximation (g = 7, nine terms: 1e-15 relative for Gamma) and the reflection
  formula for x < 0.5; +inf at the poles (0, -1, -2, ...), as PyTorch.
- ``digamma`` and ``polygamma``: the Hurwitz zeta sum psi^(n)(x) = (-1)^(n+1) n! sum_k 1/(x + k)^(n+1),
  its first terms summed and the rest by the Euler-Maclaurin tail with Bernoulli numbers; digamma by the
  recurrence up to x >= 10 and its asymptotic series, with the reflection formula for x < 0.
- ``i0``: the power series sum (x/2)^(2k) / k!^2 for |x| <= 30 and the asymptotic expansion
  e^x / sqrt(2 pi x) sum ... above; its derivative is I1, computed the same way.

Gradients (written with these ops, so second order works): erfc' = -2/sqrt(pi) e^(-x^2),
erfinv' = sqrt(pi)/2 e^(erfinv(x)^2), lgamma' = digamma, digamma' = polygamma(1, .), polygamma(n)' =
polygamma(n + 1, .), i0' = i1, i1' = i0 - i1 / x, sinc' = (cos(pi x) - sinc(x)) / x (0 at 0),
logit' = 1 / (x (1 - x)) (0 outside [eps, 1 - eps] when ``eps`` clamps, a declared kink), xlogy: d/dx = log y
(0 where x = 0, PyTorch's), d/dy = x / y.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise, pointwise
from .elementwise import _xp, exp, log, where
from .pointwise import (
    _ERF_A,
    _ERF_A4,
    _ERF_B,
    _ERF_C,
    _ERF_C8,
    _ERF_D,
    _ERF_P,
    _ERF_P5,
    _ERF_Q,
    _RSQRT_PI,
    _erf_array,
    _floating,
    _ratio,
)
from .selection import _in_place

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_LN2 = math.log(2.0)


def _work(x):
    """x as float64: every formula here is evaluated in float64 and rounded to the output dtype once."""
    return x.astype(np.float64, copy=False)


# --- erfc and erfinv --------------------------------------------------------------------------------------


def _erfc_array(x):
    xp = _xp(x)
    x = _work(x)
    y = xp.abs(x)
    small = xp.clip(x, -0.46875, 0.46875)
    inner = 1 - small * _ratio(small * small, _ERF_A, _ERF_A4, _ERF_B)
    mid = xp.clip(y, 0.46875, 4.0)
    outer = xp.clip(y, 4.0, 27.0)
    z = 1 / (outer * outer)
    tail_mid = _ratio(mid, _ERF_C, _ERF_C8, _ERF_D)
    tail_outer = (_RSQRT_PI - z * _ratio(z, _ERF_P, _ERF_P5, _ERF_Q)) / outer
    far = xp.where(y <= 4.0, mid, outer)
    s = xp.trunc(far * 16) / 16
    damp = xp.exp(-s * s) * xp.exp(-(far - s) * (far + s))
    upper = xp.where(y <= 4.0, tail_mid, tail_outer) * damp  # erfc(|x|)
    upper = xp.where(y >= 27.0, 0.0, upper)
    out = xp.where(y <= 0.46875, inner, xp.where(x < 0, 2 - upper, upper))
    return xp.where(xp.isnan(x), x, out)


@primitive(saves=(0,))
def erfc(x):
    """The complementary error function 1 - erf(x), accurate where it is small (x up to 26.6 in float64).

    d/dx = -2/sqrt(pi) e^(-x^2). Integer inputs give float32.
    """
    (x,) = _floating(x)
    return _erfc_array(x).astype(x.dtype, copy=False)


erfc.defvjp(lambda g, ans, x: g * exp(-x * x) * -_TWO_OVER_SQRT_PI)


def _erfinv_array(y):
    xp = _xp(y)
    y = _work(y)
    a = 0.147
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        w = xp.log1p(-xp.minimum(y * y, 1.0))  # ln(1 - y^2), -inf at |y| = 1
        t = 2 / (math.pi * a) + w / 2
        x = xp.copysign(xp.sqrt(xp.sqrt(t * t - w / a) - t), y)
        ay = xp.abs(y)
        tail = ay > 0.5
        rest = 1 - ay  # exact for ay > 0.5 (Sterbenz)
        for _ in range(4):
            ax = xp.abs(x)
            slope = _TWO_OVER_SQRT_PI * xp.exp(-ax * ax)
            # on erfc for the tails: f(ax) = erfc(ax) - (1 - |y|), f' = -slope
            step_tail = (_erfc_array(ax) - rest) / slope
            step_mid = (_erf_array(x) - y) / slope
            x = xp.where(tail, xp.copysign(ax + step_tail, y), x - step_mid)
            x = xp.where(xp.isfinite(x), x, xp.copysign(xp.inf, y))
    out = xp.where(ay == 1, xp.copysign(xp.inf, y), x)
    return xp.where((ay > 1) | xp.isnan(y), xp.nan, out)


@primitive(saves_output=True)
def erfinv(x):
    """The inverse error function on [-1, 1] (±inf at ±1, NaN outside). d/dx = sqrt(pi)/2 e^(erfinv(x)^2).

    Integer inputs give float32.
    """
    (x,) = _floating(x)
    return _erfinv_array(x).astype(x.dtype, copy=False)


erfinv.defvjp(lambda g, ans, x: g * exp(ans * ans) * _SQRT_PI_OVER_TWO)


# --- lgamma, digamma, polygamma, mvlgamma -------------------------------------------------------------------

_LANCZOS_G = 7.0
_LANCZOS = (
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_positive(x):
    """log Gamma(x) for x >= 0.5 by Lanczos' series."""
    xp = _xp(x)
    z = x - 1
    series = xp.full(x.shape, _LANCZOS[0])
    for k, c in enumerate(_LANCZOS[1:], start=1):
        series = series + c / (z + k)
    t = z + _LANCZOS_G + 0.5
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(series)


def _lgamma_array(x):
    xp = _xp(x)
    x = _work(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        reflect = x < 0.5
        right = xp.where(reflect, 1 - x, x)
        base = _lgamma_positive(xp.where(xp.isfinite(right), right, 1.0))
        # log |Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x); sin(pi x) from x's distance to the
        # nearest integer (exact, and exactly 0 at the poles), not from pi x (which rounds near the poles)
        offset = x - xp.rint(x)
        sine = xp.abs(xp.sin(math.pi * offset))
        left = math.log(math.pi) - xp.log(sine) - base
        out = xp.where(reflect, left, base)
        pole = reflect & (offset == 0)
        out = xp.where(pole | xp.isinf(x), xp.inf, out)
    return xp.where(xp.isnan(x), x, out)


@primitive(saves=(0,))
def lgamma(x):
    """log |Gamma(x)|; +inf at 0, -1, -2, ... and at ±inf (PyTorch's). d/dx = digamma(x).

    Integer inputs give float32.
    """
    (x,) = _floating(x)
    return _lgamma_array(x).astype(x.dtype, copy=False)


lgamma.defvjp(lambda g, ans, x: g * digamma(x))

# Bernoulli numbers B_2, B_4, ..., B_20
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)


def _digamma_array(x):
    xp = _xp(x)
    x = _work(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        reflect = x < 0
        # psi(x) = psi(1 - x) - pi / tan(pi x): tan from x's distance to the nearest integer (tan has period
        # 1 in x), so that the poles are exact and no rounding of pi x near them
        frac = x - xp.rint(x)
        cot = math.pi / xp.tan(math.pi * frac)
        z = xp.where(reflect, 1 - x, x)
        z = xp.where(xp.isfinite(z), z, 1.0)
        acc = xp.zeros(x.shape)
        for _ in range(10):
            low = z < 10
            acc = acc - xp.where(low, 1 / xp.where(low, z, 1.0), 0.0)
            z = xp.where(low, z + 1, z)
        inv2 = 1 / (z * z)
        tail = 0.0  # sum_k B_2k / (2k z^2k), k = 1..7, in Horner form
        for k in reversed(range(7)):
            tail = (tail + _BERNOULLI[k] / (2 * (k + 1))) * inv2
        out = acc + xp.log(z) - 0.5 / z - tail
        out = xp.where(reflect, out - cot, out)
        out = xp.where(reflect & (frac == 0), xp.nan, out)  # the negative integers
        out = xp.where(x == 0, xp.copysign(xp.inf, -x), out)  # -inf at +0, +inf at -0 (PyTorch's)
        out = xp.where(xp.isposinf(x), xp.inf, xp.where(xp.isneginf(x), xp.nan, out))
    return xp.where(xp.isnan(x), x, out)


@primitive(saves=(0,))
def digamma(x):
    """The digamma function psi(x) = d/dx log Gamma(x). d/dx = polygamma(1, x).

    -inf at +0 and +inf at -0, NaN at the negative integers (PyTorch's). Integer inputs give float32.
    """
    (x,) = _floating(x)
    return _digamma_array(x).astype(x.dtype, copy=False)


digamma.defvjp(lambda g, ans, x: g * polygamma(1, x))


def _hurwitz_zeta(s: int, x, xp):
    """sum_{k >= 0} 1 / (x + k)^s for an integer s >= 2 and x > 0, by 16 direct terms and the
    Euler-Maclaurin tail (negative arguments go through the reflection formula, :func:`_polygamma_array`)."""
    n_direct = 16
    total = xp.zeros(x.shape)
    for k in range(n_direct):
        total = total + 1 / (x + k) ** s
    z = x + n_direct
    tail = z ** (1 - s) / (s - 1) + 0.5 * z ** (-s)
    rising = float(s)  # s (s + 1) ... (s + 2j - 2)
    factorial = 2.0  # (2j)!
    power = z ** (-s - 1)
    for j, b in enumerate(_BERNOULLI, start=1):
        tail = tail + b / factorial * rising * power
        rising *= (s + 2 * j - 1) * (s + 2 * j)
        factorial *= (2 * j + 1) * (2 * j + 2)
        power = power / (z * z)
    return total + tail


def _cot_pi_derivative(n: int, x, xp):
    """d^n/dx^n cot(pi x), as a polynomial in c = cot(pi x): P_0(c) = c and, since dc/dx = -pi (1 + c^2),
    P_{k+1}(c) = -pi (1 + c^2) P_k'(c). cot(pi x) is taken of x - floor(x), exact in floating point."""
    poly = np.polynomial.Polynomial([0.0, 1.0])
    for _ in range(n):
        poly = -math.pi * np.polynomial.Polynomial([1.0, 0.0, 1.0]) * poly.deriv()
    fraction = x - xp.floor(x)
    c = xp.cos(math.pi * fraction) / xp.sin(math.pi * fraction)
    out = xp.zeros(x.shape)
    for coefficient in reversed(poly.coef):  # Horner
        out = out * c + coefficient
    return out


def _polygamma_array(n: int, x):
    if n == 0:
        return _digamma_array(x)
    xp = _xp(x)
    x = _work(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        finite = xp.where(xp.isfinite(x), x, 1.0)
        negative = finite < 0
        # psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x) for x > 0; below 0 the reflection formula
        # psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi d^n/dx^n cot(pi x), so the series always starts above 1
        # (a direct shift would take |x| terms: minutes for x = -1e7)
        positive = xp.where(negative, 1.0 - finite, finite)
        out = (-1.0) ** (n + 1) * math.factorial(n) * _hurwitz_zeta(n + 1, positive, xp)
        reflected = (-1.0) ** n * out - math.pi * _cot_pi_derivative(n, finite, xp)
        out = xp.where(negative, reflected, out)
        # PyTorch's values at the poles (+inf for odd n, -inf for even n) and at the infinities
        pole = (x <= 0) & (x == xp.floor(x))
        out = xp.where(pole, xp.inf if n % 2 == 1 else -xp.inf, out)
        at_plus_inf, at_minus_inf = (0.0, xp.nan) if n == 1 else (xp.nan, (-1.0) ** (n + 1) * xp.inf)
        out = xp.where(xp.isposinf(x), at_plus_inf, xp.where(xp.isneginf(x), at_minus_inf, out))
    return xp.where(xp.isnan(x), x, out)


@primitive(name="polygamma", saves=(0,))
def _polygamma(x, *, n):
    (x,) = _floating(x)
    return _polygamma_array(n, x).astype(x.dtype, copy=False)


_polygamma.defvjp(lambda g, ans, x, n: g * _polygamma(x, n=n + 1))


def polygamma(n: int, input) -> Tensor:
    """The n-th derivative of the digamma function, psi^(n)(x) (``torch.polygamma(n, input)``; n = 0 is
    digamma). d/dx = polygamma(n + 1, x). Raises ArgumentError for a negative or non-integer n."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ArgumentError(f"polygamma: n must be a non-negative integer, got {n!r}")
    if n == 0:
        return digamma(input)
    return _polygamma(input, n=int(n))


def polygamma_method(input, n: int) -> Tensor:
    """``input.polygamma(n)``: :func:`polygamma` with the tensor first (PyTorch's method order)."""
    return polygamma(n, input)


def mvlgamma(input, p: int) -> Tensor:
    """The multivariate log-gamma of dimension p: p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(x - i / 2).

    Raises ArgumentError for p < 1 (PyTorch: p has to be greater than or equal to 1).
    """
    if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
        raise ArgumentError(f"mvlgamma: p has to be an integer >= 1, got {p!r}")
    out = lgamma(input)
    for i in range(1, p):
        out = out + lgamma(elementwise.sub(_as_float(input), i / 2))
    return out + p * (p - 1) / 4 * math.log(math.pi)


def _as_float(x):
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        from ..tensor import get_default_dtype

        return elementwise.astype(x, dtype=get_default_dtype())
    return x


# --- i0 and i1 ------------------------------------------------------------------------------------------------


def _bessel_i_array(order: int, x):
    """I0 or I1 of a float64 array: the power series for |x| <= 30, the asymptotic expansion above."""
    xp = _xp(x)
    ax = xp.abs(x)
    near = xp.minimum(ax, 30.0)
    half_sq = (near / 2) ** 2
    term = xp.ones(x.shape) if order == 0 else near / 2
    total = term
    for k in range(1, 90):
        term = term * half_sq / (k * (k + order))
        total = total + term
    far = xp.maximum(ax, 30.0)
    mu = 4.0 * order * order
    coefficient = xp.ones(x.shape)
    series = coefficient
    for k in range(1, 20):
        coefficient = -coefficient * (mu - (2 * k - 1) ** 2) / (k * 8 * far)
        series = series + coefficient
    with np.errstate(over="ignore", invalid="ignore"):
        # e^x / sqrt(2 pi x) as e^(x/2) (e^(x/2) / sqrt(2 pi x)), so that it overflows only when the result does
        half = xp.exp(far / 2)
        asymptotic = half * (half / xp.sqrt(2 * math.pi * far)) * series
    out = xp.where(ax <= 30.0, total, asymptotic)
    if order == 1:
        out = xp.copysign(out, x)
    return xp.where(xp.isnan(x), x, out)


@primitive(saves=(0,))
def i0(x):
    """The modified Bessel function of the first kind of order 0, I0(x) = sum (x/2)^(2k) / (k!)^2.

    d/dx = I1(x). Integer inputs give float32.
    """
    (x,) = _floating(x)
    return _bessel_i_array(0, _work(x)).astype(x.dtype, copy=False)


@primitive(saves=(0,), saves_output=True)
def _i1(x):
    """I1(x) = sum (x/2)^(2k+1) / (k! (k+1)!), the derivative of I0 (for i0's vjp)."""
    (x,) = _floating(x)
    return _bessel_i_array(1, _work(x)).astype(x.dtype, copy=False)


i0.defvjp(lambda g, ans, x: g * _i1(x))


def _i1_vjp(g, ans, x):
    """I1'(x) = I0(x) - I1(x) / x; 1/2 (to float64 precision) for |x| < 1e-100, where I1(x) / x would
    lose its digits to subnormal rounding."""
    tiny = elementwise.abs(x) < 1e-100
    return g * where(tiny, 0.5, i0(x) - ans / where(tiny, 1.0, x))


_i1.defvjp(_i1_vjp)

# --- sinc, logit, xlogy, logaddexp2 ----------------------------------------------------------------------------


@primitive(saves=(0,), saves_output=True)
def sinc(x):
    """The normalized sinc, sin(pi x) / (pi x), 1 at 0. d/dx = (cos(pi x) - sinc(x)) / x, 0 at 0.

    Integer inputs give float32.
    """
    (x,) = _floating(x)
    xp = _xp(x)
    px = math.pi * _work(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = xp.where(px == 0, 1.0, xp.sin(px) / xp.where(px == 0, 1.0, px))
    return out.astype(x.dtype, copy=False)


def _sinc_vjp(g, ans, x):
    safe = where(x == 0, 1.0, x)
    return g * where(x == 0, 0.0, (pointwise.cos(safe * math.pi) - ans) / safe)


sinc.defvjp(_sinc_vjp)


def _logit_side(x, eps=None):
    if eps is None:
        return _xp(x).zeros(x.shape, dtype=np.int8)
    return (x < eps).astype(np.int8) - (x > 1 - eps).astype(np.int8)


@primitive(name="logit", saves=(0,), signature=_logit_side)
def _logit(x, *, eps=None):
    (x,) = _floating(x)
    xp = _xp(x)
    z = x if eps is None else xp.clip(x, eps, 1 - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        return xp.log(z / (1 - z)).astype(x.dtype, copy=False)


def _logit_vjp(g, ans, x, eps=None):
    grad = g / (x * (1 - x))
    if eps is None:
        return grad
    return where((x < eps) | (x > 1 - eps), 0.0, grad)


_logit.defvjp(_logit_vjp)


def logit(input, eps: float | None = None) -> Tensor:
    """log(z / (1 - z)) with z = input, or input clamped to [eps, 1 - eps] when ``eps`` is given.

    d/dinput = 1 / (x (1 - x)), and 0 outside [eps, 1 - eps] (PyTorch's; the bounds are declared kinks).
    ±inf at 1 and 0 without eps. Integer inputs give float32.
    """
    return _logit(input, eps=eps)


@primitive(saves=(0, 1))
def xlogy(input, other):
    """input * log(other), 0 where input = 0 (unless other is NaN): the entropy term that stays finite at 0.

    d/dinput = log(other) (0 where input = 0, PyTorch's), d/dother = input / other. Integer inputs give
    float32.
    """
    x, y = _floating(input, other)
    xp = _xp(x, y)
    # a Python number takes the array operand's dtype (xp.log of a number is a float64 NumPy scalar)
    if not hasattr(y, "dtype") and hasattr(x, "dtype"):
        y = xp.asarray(y, dtype=x.dtype)
    elif not hasattr(x, "dtype") and hasattr(y, "dtype"):
        x = xp.asarray(x, dtype=y.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0.0, out)


xlogy.defvjp(
    lambda g, ans, x, y: g * where(x == 0, 0.0, log(y)),
    lambda g, ans, x, y: g * x / y,
)


def logaddexp2(input, other) -> Tensor:
    """log2(2^input + 2^other), computed without overflow: logaddexp(input ln 2, other ln 2) / ln 2.

    d/dinput = 2^(input - out), d/dother = 2^(other - out).
    """
    a = elementwise.mul(input, _LN2) if isinstance(input, Tensor) else input * _LN2
    b = elementwise.mul(other, _LN2) if isinstance(other, Tensor) else other * _LN2
    return elementwise.true_divide(pointwise.logaddexp(a, b), _LN2)


# --- in place ---------------------------------------------------------------------------------------------------


def erfc_(input: Tensor) -> Tensor:
    """In place :func:`erfc`."""
    return _in_place("erfc_", input, erfc)


def erfinv_(input: Tensor) -> Tensor:
    """In place :func:`erfinv`."""
    return _in_place("erfinv_", input, erfinv)


def lgamma_(input: Tensor) -> Tensor:
    """In place :func:`lgamma`."""
    return _in_place("lgamma_", input, lgamma)


def digamma_(input: Tensor) -> Tensor:
    """In place :func:`digamma`."""
    return _in_place("digamma_", input, digamma)


def polygamma_(input: Tensor, n: int) -> Tensor:
    """In place ``polygamma(n, input)`` (PyTorch's method order: ``x.polygamma_(n)``)."""
    return _in_place("polygamma_", input, lambda s: polygamma(n, s))


def mvlgamma_(input: Tensor, p: int) -> Tensor:
    """In place :func:`mvlgamma`."""
    return _in_place("mvlgamma_", input, lambda s: mvlgamma(s, p))


def i0_(input: Tensor) -> Tensor:
    """In place :func:`i0`."""
    return _in_place("i0_", input, i0)


def sinc_(input: Tensor) -> Tensor:
    """In place :func:`sinc`."""
    return _in_place("sinc_", input, sinc)


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    """In place :func:`logit`."""
    return _in_place("logit_", input, lambda s: logit(s, eps))


def xlogy_(input: Tensor, other) -> Tensor:
    """In place :func:`xlogy`: input * log(other)."""
    return _in_place("xlogy_", input, xlogy, other)

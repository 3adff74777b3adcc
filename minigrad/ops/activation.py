"""Activation primitives that a composition of existing ops would make slower or less stable.

Each forward works on backend arrays; each vjp is the local derivative times
``g``, written with minigrad ops so that ``create_graph=True`` differentiates
it again. The layers and functional forms built on these (and on
compositions of other ops) are in :mod:`minigrad.nn.activation`.

Gradients at the kinks follow PyTorch's backward kernels, checked against
PyTorch 2.13: the ELU family (elu, celu, selu) and prelu take their negative
branch at x = 0; hardtanh, relu6 and hardsigmoid pass the gradient only
strictly inside their linear range; hardswish gives 0 at x = -3 and 1 at
x = 3; softshrink, hardshrink and threshold give 0 at their thresholds.
Non-smooth ops declare a branch signature (which piece each element is on),
so that gradcheck treats a coordinate whose step crosses a kink as a kink.

Floating inputs keep their dtype; integer and bool inputs become the default
dtype, as in :mod:`minigrad.ops.pointwise`.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ArgumentError
from ..primitive import primitive
from . import reduction as _reduction
from .elementwise import _xp, exp, sigmoid, where
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
    _floating,
    _ratio,
)

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_GELU_K = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _float_input(x):
    (x,) = _floating(x)
    return x


def _scalar(x, value):
    """``value`` as a scalar of x's floating dtype, so that float32 stays float32 under NumPy's promotion."""
    return x.dtype.type(value)


# --- the standard normal CDF (GELU's Phi) -------------------------------------------------------------------


def _erfc_array(x):
    """erfc(x) = 1 - erf(x) without cancellation in either tail, by Cody's rational approximations (the
    same as :func:`minigrad.ops.pointwise.erf`, whose comment describes them): erfc(|x|) is computed
    directly for |x| > 0.46875 (so Phi(x) = erfc(-x / sqrt 2) / 2 keeps its relative accuracy far into the
    lower tail, where 1 + erf(x) would cancel), and erfc(-|x|) = 2 - erfc(|x|).

    The inner interval, where most activations lie, is evaluated on every element (on x clipped to it,
    in place, no gather nor scatter; a NaN stays NaN through it); the tails only on the elements that lie
    beyond it, gathered once (GELU evaluates this on every activation of a transformer: computing all
    three intervals everywhere tripled its cost, and a mask per interval over all elements cost as much)."""
    xp = _xp(x)
    work = np.float64 if x.dtype == np.float64 else np.float32
    shape = x.shape
    x = x.astype(work, copy=False).reshape(-1)  # 1-D: NumPy's operations then give arrays, also for a 0-d x
    y = xp.abs(x)
    xs = xp.clip(x, -0.46875, 0.46875)
    out = _ratio(xs * xs, _ERF_A, _ERF_A4, _ERF_B)
    out *= xs
    xp.subtract(1, out, out=out)
    tail = y > 0.46875
    xt, yt = x[tail], y[tail]
    erfc = xp.where(xt > 0, xt.dtype.type(0), xt.dtype.type(2))  # the limits beyond |x| = 27
    mid = yt <= 4.0
    ys = yt[mid]
    erfc[mid] = _signed_tail(xp, xt[mid], ys, _ratio(ys, _ERF_C, _ERF_C8, _ERF_D))
    outer = (yt > 4.0) & (yt < 27.0)  # erfc(27) is below the smallest float64: the limits beyond
    ys = yt[outer]
    z = 1 / (ys * ys)
    erfc[outer] = _signed_tail(xp, xt[outer], ys, (_RSQRT_PI - z * _ratio(z, _ERF_P, _ERF_P5, _ERF_Q)) / ys)
    out[tail] = erfc
    return out.reshape(shape)


def _signed_tail(xp, x, y, scaled):
    """erfc(x) for |x| = y in a tail interval, from Cody's ``scaled`` = e^(y^2) erfc(y); erfc(-y) = 2 - erfc(y).

    e^(-y^2) is computed as e^(-s^2) e^(-(y - s)(y + s)) with s = y rounded down to 1/16: s^2 is exact
    and the second factor small, so the product keeps full relative accuracy."""
    s = xp.trunc(y * 16) / 16
    tail = scaled * (xp.exp(-s * s) * xp.exp(-(y - s) * (y + s)))
    return xp.where(x > 0, tail, 2 - tail)


def _phi_array(x):
    """Phi(x) = erfc(-x / sqrt 2) / 2 in x's floating dtype."""
    return (_erfc_array(-x * _scalar(x, _SQRT_HALF)) * 0.5).astype(x.dtype, copy=False)


@primitive(name="normal_cdf", saves=(0,))
def _normal_cdf(x):
    """Phi(x), the standard normal CDF, accurate in both tails. d/dx = phi(x) = e^(-x^2/2) / sqrt(2 pi).
    Used by gelu's vjp, so that its second derivative is the tape's too."""
    return _phi_array(_float_input(x))


_normal_cdf.defvjp(lambda g, ans, x: g * exp(x * x * -0.5) * _INV_SQRT_2PI)


# --- GELU ----------------------------------------------------------------------------------------------------


@primitive(saves=(0,), residual=True)
def gelu(x, approximate: str = "none"):
    """The Gaussian error linear unit x Phi(x), Phi the standard normal CDF (PyTorch's ``gelu``).

    ``approximate='none'``: x Phi(x) = x (1 + erf(x / sqrt 2)) / 2, with
    d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi). Phi is computed as
    erfc(-x / sqrt 2) / 2, which keeps its relative accuracy for negative x
    (where 1 + erf cancels).
    ``approximate='tanh'``: x (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3),
    computed as x sigmoid(2u) (equal, and without cancellation for u << 0), so
    d/dx = s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2) with s = sigmoid(2u).
    One primitive rather than a composition: the erf is evaluated once in the
    forward, and the tape holds one node instead of six. The forward keeps
    Phi(x) (or s) as its residual, so that a plain backward does not evaluate
    the erf a second time.
    Raises ArgumentError for another ``approximate``.
    """
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"approximate must be 'none' or 'tanh', got {approximate!r}")
    x = _float_input(x)
    xp = _xp(x)
    if approximate == "tanh":
        # (1 + tanh u) / 2 = sigmoid(2u), computed without overflow and without cancellation for u << 0
        two_u = _scalar(x, 2 * _GELU_K) * (x + _scalar(x, _GELU_C) * x * x * x)
        z = xp.exp(-xp.abs(two_u))
        s = xp.where(two_u >= 0, 1 / (1 + z), z / (1 + z))
        return x * s, s
    phi = _phi_array(x)
    return x * phi, phi


def _gelu_vjp(g, kept, x, approximate="none"):
    if kept is not None:  # a plain backward, on arrays: Phi(x) (or s) as the forward computed it
        if approximate == "tanh":  # s + 2 x s (1 - s) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
            d = x * x
            d *= _scalar(d, 3 * _GELU_C)
            d += 1
            d *= _scalar(d, 2 * _GELU_K)
            d *= x
            d *= kept
            d *= 1 - kept
        else:  # Phi(x) + x phi(x)
            d = _xp(x).exp(x * x * _scalar(x, -0.5))
            d *= x
            d *= _scalar(d, _INV_SQRT_2PI)
        d += kept
        d *= g
        return d
    if approximate == "tanh":
        s = sigmoid((x + x * x * x * _GELU_C) * (2 * _GELU_K))  # (1 + tanh u) / 2
        return g * (s + x * s * (1 - s) * (x * x * (3 * _GELU_C) + 1) * (2 * _GELU_K))
    return g * (_normal_cdf(x) + x * exp(x * x * -0.5) * _INV_SQRT_2PI)


gelu.defvjp(_gelu_vjp)


# --- the ELU family: elu, celu, selu ---------------------------------------------------------------------------


def _positive(x, *args, **params):
    return x > 0


@primitive(saves=(0,), signature=_positive)
def elu(x, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0):
    """scale * x for x > 0, else scale * alpha * (e^(input_scale x) - 1): PyTorch's ELU kernel, which serves
    ``elu`` (scale = input_scale = 1), ``celu`` (input_scale = 1 / alpha) and ``selu`` (fixed alpha, scale).

    d/dx = scale for x > 0, else scale * alpha * input_scale * e^(input_scale x); at x = 0 the negative
    branch's value (alpha for ELU, as PyTorch's backward). The negative branch uses expm1, so that small |x|
    keeps its relative accuracy. Kink at 0 (the derivative jumps unless alpha * input_scale = 1).
    """
    x = _float_input(x)
    xp = _xp(x)
    below = xp.where(x > 0, _scalar(x, 0), x)  # the positive side would overflow e^x for nothing
    negative = xp.expm1(below * _scalar(x, input_scale)) * _scalar(x, scale * alpha)
    return xp.where(x > 0, x * _scalar(x, scale), negative)


def _elu_vjp(g, ans, x, alpha=1.0, scale=1.0, input_scale=1.0):
    positive = x > 0
    # e^(input_scale x) on the negative side only: the positive side could overflow, and inf * 0 in a
    # second-order vjp would be NaN
    slope = exp(where(positive, 0, x) * input_scale) * (scale * alpha * input_scale)
    return g * where(positive, scale, slope)


elu.defvjp(_elu_vjp)


# --- hardtanh (relu6, hardsigmoid, hardswish) ---------------------------------------------------------------


def _hardtanh_side(x, min_val=-1.0, max_val=1.0):
    return (x > min_val).astype(np.int8) + (x >= max_val)


@primitive(saves=(0,), signature=_hardtanh_side)
def hardtanh(x, min_val: float = -1.0, max_val: float = 1.0):
    """min(max(x, min_val), max_val), PyTorch's ``hardtanh``. Kinks at min_val and max_val.

    d/dx = 1 strictly inside (min_val, max_val), 0 elsewhere, the bounds included (PyTorch's backward;
    ``clip`` passes the gradient at the bounds instead, so relu6 and hardsigmoid cannot be built on it).
    Integer inputs stay integers (the bounds cast to their dtype), as in PyTorch; NaN stays NaN.
    """
    xp = _xp(x)
    if x.dtype.kind == "f":
        low, high = _scalar(x, min_val), _scalar(x, max_val)
    else:
        low, high = x.dtype.type(int(min_val)), x.dtype.type(int(max_val))
    return xp.minimum(xp.maximum(x, low), high).astype(x.dtype, copy=False)


def _hardtanh_vjp(g, ans, x, min_val=-1.0, max_val=1.0):
    return where(x > min_val, where(x < max_val, g, 0), 0)


hardtanh.defvjp(_hardtanh_vjp)


# --- softplus (logsigmoid, mish) ------------------------------------------------------------------------------


def _softplus_side(x, beta=1.0, threshold=20.0):
    return x * beta > threshold


@primitive(saves=(0,), signature=_softplus_side)
def softplus(x, beta: float = 1.0, threshold: float = 20.0):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's ``softplus``).

    Computed as (log1p(e^(-|beta x|)) + max(beta x, 0)) / beta, which never overflows and keeps the lower
    tail's relative accuracy. d/dx = sigmoid(beta x), and 1 where beta x > threshold. Declared kinked at
    beta x = threshold, where PyTorch switches to the identity (a jump of about e^(-threshold) / beta);
    ``threshold=inf`` never switches (logsigmoid and mish use that).
    """
    x = _float_input(x)
    xp = _xp(x)
    bx = x * _scalar(x, beta)
    smooth = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / _scalar(x, beta)
    return xp.where(bx > _scalar(x, threshold), x, smooth)


def _softplus_vjp(g, ans, x, beta=1.0, threshold=20.0):
    bx = x * beta
    return where(bx > threshold, g, g * sigmoid(bx))


softplus.defvjp(_softplus_vjp)


# --- shrinkage and thresholds -----------------------------------------------------------------------------


def _shrink_side(x, lambd=0.5):
    return (x >= -lambd).astype(np.int8) + (x > lambd)


def _outside_vjp(g, ans, x, lambd=0.5):
    """g where |x| > lambd, 0 on [-lambd, lambd] (its ends included: PyTorch's shrink backward)."""
    return where(x > lambd, g, where(x < -lambd, g, 0))


@primitive(saves=(0,), signature=_shrink_side)
def softshrink(x, lambd: float = 0.5):
    """x - lambd for x > lambd, x + lambd for x < -lambd, else 0 (PyTorch's ``softshrink``).

    d/dx = 1 where |x| > lambd, else 0 (0 at +-lambd, as PyTorch). Kinks at +-lambd. NaN stays NaN.
    Raises ArgumentError for lambd < 0.
    """
    if lambd < 0:
        raise ArgumentError(f"lambd must be non-negative, got {lambd}")
    x = _float_input(x)
    xp = _xp(x)
    lam = _scalar(x, lambd)
    return xp.where(xp.abs(x) <= lam, _scalar(x, 0), x - xp.copysign(lam, x))


softshrink.defvjp(_outside_vjp)


@primitive(saves=(0,), signature=_shrink_side)
def hardshrink(x, lambd: float = 0.5):
    """x where |x| > lambd, else 0 (PyTorch's ``hardshrink``; a negative lambd keeps every x, as there).

    d/dx = 1 where |x| > lambd, else 0 (0 at +-lambd). Kinks at +-lambd.
    """
    x = _float_input(x)
    xp = _xp(x)
    lam = _scalar(x, lambd)
    return xp.where((x >= -lam) & (x <= lam), _scalar(x, 0), x)


hardshrink.defvjp(_outside_vjp)


def _threshold_side(x, *, threshold, value):
    return x > threshold


@primitive(saves=(0,), signature=_threshold_side)
def threshold(x, *, threshold: float, value: float):
    """value where x <= threshold, else x (PyTorch's ``threshold``). d/dx = 0 where x <= threshold, else 1
    (0 at the threshold). Kink at the threshold. Integer inputs stay integers; NaN stays NaN, and a NaN
    threshold leaves x as it is (x <= NaN is false), gradient 1."""
    xp = _xp(x)
    if x.dtype.kind == "f":
        return xp.where(x <= _scalar(x, threshold), _scalar(x, value), x)
    # integers compare with the threshold and fill with the value cast to their dtype (toward 0), as PyTorch
    return xp.where(x <= x.dtype.type(int(threshold)), x.dtype.type(int(value)), x)


# the vjp keeps to the forward's test, x <= threshold: with a NaN threshold (or a NaN x) the result is x and its
# gradient g, as PyTorch's (x > threshold here gave 0, a silently wrong gradient)
threshold.defvjp(lambda g, ans, x, *, threshold, value: where(x <= threshold, 0, g))


# --- prelu (and rrelu's random slopes) ------------------------------------------------------------------------


def _slopes(x, weight):
    """``weight`` shaped to broadcast against x: as it is when it has x's shape (elementwise slopes, rrelu's),
    one slope for all when it has one element, else one per channel (dim 1): (C, 1, ..., 1)."""
    if tuple(weight.shape) == tuple(x.shape):
        return weight
    if math.prod(weight.shape) == 1:
        return weight.reshape(())
    return weight.reshape((weight.shape[0],) + (1,) * (x.ndim - 2))  # arrays and tensors alike


def _prelu_side(x, weight):
    return x > 0


@primitive(saves=(0, 1), signature=_prelu_side)
def prelu(x, weight):
    """x where x > 0, else a * x, the slopes a from ``weight``: one for all (one element), one per channel
    (1-D of C = x.shape[1] entries, broadcast over the other dimensions), or one per element (x's shape).

    d/dx = 1 for x > 0, else a (a at x = 0, as PyTorch); d/dweight = x where x <= 0, else 0, summed over
    the elements each slope serves. Kink at x = 0. The layer (:func:`minigrad.nn.functional.prelu`) checks
    the weight's shape.
    """
    x, weight = _floating(x, weight)
    return _xp(x, weight).where(x > 0, x, _slopes(x, weight) * x)


def _prelu_vjp_weight(g, ans, x, weight):
    h = where(x > 0, 0, g * x)
    if tuple(weight.shape) == tuple(x.shape):
        return h
    if math.prod(weight.shape) == 1:
        return _reduction.sum(h).reshape(weight.shape)
    return _reduction.sum(h, axis=tuple(i for i in range(x.ndim) if i != 1)).reshape(weight.shape)


prelu.defvjp(lambda g, ans, x, weight: where(x > 0, g, g * _slopes(x, weight)), _prelu_vjp_weight)

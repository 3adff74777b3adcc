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
from .elementwise import _xp, exp, sigmoid
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
    lower tail, where 1 + erf(x) would cancel), and erfc(-|x|) = 2 - erfc(|x|)."""
    xp = _xp(x)
    work = np.float64 if x.dtype == np.float64 else np.float32
    x = x.astype(work, copy=False)
    y = xp.abs(x)
    small = xp.clip(x, -0.46875, 0.46875)
    inner = small * _ratio(small * small, _ERF_A, _ERF_A4, _ERF_B)
    mid = xp.clip(y, 0.46875, 4.0)
    outer = xp.clip(y, 4.0, 27.0)  # erfc(27) is below the smallest float64: 0 beyond
    z = 1 / (outer * outer)
    tail_mid = _ratio(mid, _ERF_C, _ERF_C8, _ERF_D)
    tail_outer = (_RSQRT_PI - z * _ratio(z, _ERF_P, _ERF_P5, _ERF_Q)) / outer
    far = xp.where(y <= 4.0, mid, outer)
    s = xp.trunc(far * 16) / 16  # e^(-y^2) = e^(-s^2) e^(-(y - s)(y + s)), s^2 exact
    damp = xp.exp(-s * s) * xp.exp(-(far - s) * (far + s))
    tail = xp.where(y <= 4.0, tail_mid, tail_outer) * damp
    tail = xp.where(y >= 27.0, 0, tail)
    out = xp.where(y <= 0.46875, 1 - inner, xp.where(x > 0, tail, 2 - tail))
    return xp.where(xp.isnan(x), x, out)


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


@primitive(saves=(0,))
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
    forward, and the tape holds one node instead of six.
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
        return x * xp.where(two_u >= 0, 1 / (1 + z), z / (1 + z))
    return x * _phi_array(x)


def _gelu_vjp(g, ans, x, approximate="none"):
    if approximate == "tanh":
        s = sigmoid((x + x * x * x * _GELU_C) * (2 * _GELU_K))  # (1 + tanh u) / 2
        return g * (s + x * s * (1 - s) * (x * x * (3 * _GELU_C) + 1) * (2 * _GELU_K))
    return g * (_normal_cdf(x) + x * exp(x * x * -0.5) * _INV_SQRT_2PI)


gelu.defvjp(_gelu_vjp)

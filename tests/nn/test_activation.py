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
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "ops"))
from ophelpers import check_second_order, with_device  # noqa: E402

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError
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

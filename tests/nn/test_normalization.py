"""Normalization layers and functions (minigrad.nn.normalization): forwards against NumPy formulas,
gradients by gradcheck in float64 on hypothesis shapes, parameters, state-dict keys and errors."""

import os
import sys

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "ops"))
from ophelpers import check_second_order, with_device  # noqa: E402

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.errors import ShapeError


def _np(t):
    return t.to("cpu").numpy()


def _t(a, device="cpu", requires_grad=False, dtype=np.float64):
    return mg.tensor(np.asarray(a, dtype=dtype), device=device, requires_grad=requires_grad)


# --- layer_norm ---------------------------------------------------------------------------------------------


def layer_norm_ref(x, k, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    out = (x - mu) / np.sqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


@st.composite
def layer_norm_cases(draw, max_side=4):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=max_side))
    k = draw(st.integers(1, len(shape)))
    if 0 in shape[len(shape) - k :]:  # nothing to normalize over: the mean of nothing
        shape = shape[: len(shape) - k] + tuple(max(s, 1) for s in shape[len(shape) - k :])
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    return x, k, draw(st.booleans()), draw(st.booleans())


@with_device
@given(case=layer_norm_cases())
def test_layer_norm_matches_the_formula(case, device):
    x, k, affine, with_bias = case
    normalized = x.shape[x.ndim - k :]
    rng = np.random.default_rng(0)
    w = rng.standard_normal(normalized) if affine else None
    b = rng.standard_normal(normalized) if with_bias else None
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 2e-4)):
        args = [None if a is None else _t(a, device, dtype=dtype) for a in (w, b)]
        out = F.layer_norm(_t(x, device, dtype=dtype), normalized, *args, eps=1e-5)
        assert out.dtype == dtype and out.shape == x.shape and out.device == device
        np.testing.assert_allclose(_np(out), layer_norm_ref(x, k, w, b), rtol=tol, atol=tol)


@settings(with_device, max_examples=15)
@given(case=layer_norm_cases(max_side=3))
def test_layer_norm_gradients(case, device):
    x, k, affine, with_bias = case
    normalized = x.shape[x.ndim - k :]
    x = x + np.random.default_rng(1).standard_normal(x.shape)  # no constant rows: var + eps ~ eps is stiff
    w = np.random.default_rng(2).standard_normal(normalized)
    b = np.random.default_rng(3).standard_normal(normalized)
    if affine and with_bias:
        check_gradients(lambda x, w, b: F.layer_norm(x, normalized, w, b), x, w, b, device=device)
    elif affine:
        check_gradients(lambda x, w: F.layer_norm(x, normalized, w), x, w, device=device)
    else:
        check_gradients(lambda x: F.layer_norm(x, normalized), x, device=device)


def test_layer_norm_second_order():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    check_second_order(lambda x, w, b: F.layer_norm(x, 4, w, b), x, w, b)
    check_second_order(lambda x: F.layer_norm(x, (3, 4), eps=0.1), x)


def test_layer_norm_errors_leave_the_input_alone():
    x = _t(np.ones((2, 3, 4)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"layer_norm: given normalized_shape=\[3\], expected input with shape"):
        F.layer_norm(x, 3)
    with pytest.raises(ShapeError, match=r"normalized_shape=\[2, 3, 4, 5\]"):
        F.layer_norm(x, (2, 3, 4, 5))
    with pytest.raises(ShapeError, match="at least one dimension"):
        F.layer_norm(x, ())
    with pytest.raises(ShapeError, match=r"weight has shape \(3,\), expected normalized_shape \(4,\)"):
        F.layer_norm(x, 4, weight=mg.ones(3, dtype=mg.float64))
    with pytest.raises(ShapeError, match=r"bias has shape \(4, 1\)"):
        F.layer_norm(x, 4, bias=mg.ones(4, 1, dtype=mg.float64))
    with pytest.raises(ShapeError, match="normalized_shape must be an int or a sequence"):
        nn.LayerNorm(2.5)
    with pytest.raises(ShapeError, match="expected input with shape"):
        nn.LayerNorm(3)(x)
    assert x.grad is None and x._node is None and _np(x).tolist() == np.ones((2, 3, 4)).tolist()


def test_layer_norm_module_parameters_state_dict_and_repr(device):
    ln = nn.LayerNorm([3, 4], device=device)
    assert ln.normalized_shape == (3, 4) and ln.eps == 1e-5 and ln.elementwise_affine
    assert list(ln.state_dict()) == ["weight", "bias"]
    assert ln.weight.shape == (3, 4) and ln.bias.shape == (3, 4) and ln.weight.dtype == np.float32
    np.testing.assert_array_equal(_np(ln.weight), np.ones((3, 4)))
    np.testing.assert_array_equal(_np(ln.bias), np.zeros((3, 4)))
    assert repr(ln) == "LayerNorm((3, 4), eps=1e-05, elementwise_affine=True, bias=True)"
    assert nn.LayerNorm(5).normalized_shape == (5,)
    no_bias = nn.LayerNorm(5, bias=False, dtype=mg.float64)
    assert no_bias.bias is None and list(no_bias.state_dict()) == ["weight"] and no_bias.weight.dtype == np.float64
    plain = nn.LayerNorm(5, elementwise_affine=False)
    assert plain.weight is None and plain.bias is None and list(plain.parameters()) == []
    x = np.random.default_rng(5).standard_normal((2, 5)) * 3 + 1
    np.testing.assert_allclose(_np(plain(_t(x))), layer_norm_ref(x, 1), rtol=1e-10, atol=1e-12)


def test_layer_norm_module_trains_its_parameters():
    ln = nn.LayerNorm(4, dtype=mg.float64)
    x = _t(np.random.default_rng(6).standard_normal((3, 4)))
    (ln(x) * _t(np.arange(12.0).reshape(3, 4))).sum().backward()
    xn = layer_norm_ref(_np(x), 1)
    np.testing.assert_allclose(_np(ln.weight.grad), (xn * np.arange(12.0).reshape(3, 4)).sum(0), rtol=1e-10)
    np.testing.assert_allclose(_np(ln.bias.grad), np.arange(12.0).reshape(3, 4).sum(0), rtol=1e-12)

"""Normalization layers and functions (minigrad.nn.normalization): forwards against NumPy formulas,
gradients by gradcheck in float64 on hypothesis shapes, parameters, state-dict keys and errors.
layer_norm; group_norm, instance_norm, BatchNorm's num_batches_tracked, normalize, cosine_similarity,
pairwise_distance and local_response_norm (#17)."""

import os
import sys
import warnings

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
from minigrad.errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError


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


def _rand(shape, seed=0, scale=1.0, shift=0.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale + shift


def _intact(x, value):
    assert x.grad is None and x._node is None and _np(x).tolist() == np.asarray(value).tolist()


# --- group_norm ---------------------------------------------------------------------------------------------


def group_norm_ref(x, groups, weight=None, bias=None, eps=1e-5):
    n, c = x.shape[:2]
    g = x.reshape(n, groups, -1) if x.size else x.reshape(n, groups, (c // groups) * int(np.prod(x.shape[2:])))
    if g.shape[2]:
        g = (g - g.mean(axis=2, keepdims=True)) / np.sqrt(g.var(axis=2, keepdims=True) + eps)
    out = g.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


@st.composite
def group_norm_cases(draw, max_side=3, min_spatial=0):
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2))
    n = draw(st.integers(0, 3))
    spatial = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=min_spatial, max_side=max_side))
    x = draw(hnp.arrays(np.float64, (n, channels) + spatial, elements=st.floats(-3, 3)))
    return x, groups, draw(st.booleans())


@with_device
@given(case=group_norm_cases())
def test_group_norm_matches_the_formula(case, device):
    x, groups, affine = case
    c = x.shape[1]
    w, b = (_rand(c, 1), _rand(c, 2)) if affine else (None, None)
    for dtype, tol in ((np.float64, 1e-10), (np.float32, 2e-4)):
        args = [None if a is None else _t(a, device, dtype=dtype) for a in (w, b)]
        out = F.group_norm(_t(x, device, dtype=dtype), groups, *args, eps=1e-5)
        assert out.dtype == dtype and out.shape == x.shape and out.device == device
        np.testing.assert_allclose(_np(out), group_norm_ref(x, groups, w, b), rtol=tol, atol=tol)


@settings(with_device, max_examples=15)
@given(case=group_norm_cases(max_side=2, min_spatial=1))
def test_group_norm_gradients(case, device):
    x, groups, affine = case
    x = x + _rand(x.shape, 3)  # no constant groups: var + eps ~ eps is stiff
    c = x.shape[1]
    if affine:
        check_gradients(lambda x, w, b: F.group_norm(x, groups, w, b), x, _rand(c, 4), _rand(c, 5), device=device)
    else:
        check_gradients(lambda x: F.group_norm(x, groups), x, device=device)


def test_group_norm_second_order_and_its_special_cases():
    x, w, b = _rand((2, 4, 3)), _rand(4, 1), _rand(4, 2)
    check_second_order(lambda x, w, b: F.group_norm(x, 2, w, b), x, w, b)
    # one group is layer norm over (C, *); C groups is instance norm
    np.testing.assert_allclose(_np(F.group_norm(_t(x), 1)), layer_norm_ref(x, 2), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(F.group_norm(_t(x), 4)), _np(F.instance_norm(_t(x))), rtol=1e-10, atol=1e-12)


def test_group_norm_module_parameters_state_dict_repr_and_errors(device):
    gn = nn.GroupNorm(3, 6, device=device)
    assert (gn.num_groups, gn.num_channels, gn.eps, gn.affine) == (3, 6, 1e-5, True)
    assert list(gn.state_dict()) == ["weight", "bias"] and gn.weight.dtype == np.float32
    np.testing.assert_array_equal(_np(gn.weight), np.ones(6))
    np.testing.assert_array_equal(_np(gn.bias), np.zeros(6))
    assert repr(gn) == "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)"
    assert list(nn.GroupNorm(2, 4, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(2, 4, affine=False).parameters()) == []
    x = _rand((2, 6, 4), 6, 2, 1)
    gn64 = nn.GroupNorm(3, 6, eps=1e-3, dtype=mg.float64)
    np.testing.assert_allclose(_np(gn64(_t(x))), group_norm_ref(x, 3, eps=1e-3), rtol=1e-10, atol=1e-12)
    with pytest.raises(ArgumentError, match=r"GroupNorm: num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ArgumentError, match="num_groups must be a positive integer, got 0"):
        nn.GroupNorm(0, 6)
    xt = _t(np.ones((2, 4, 3)), requires_grad=True)
    with pytest.raises(
        ShapeError, match=r"GroupNorm\(3, 6\): expected input of shape \(N, 6, \*\), got shape \(2, 4, 3\)"
    ):
        gn64(xt)
    with pytest.raises(
        ShapeError, match=r"divisible by num_groups, but got input of shape \(2, 4, 3\) and num_groups=3"
    ):
        F.group_norm(xt, 3)
    with pytest.raises(ShapeError, match=r"group_norm: expected input of shape \(N, C, \*\), got shape \(4,\)"):
        F.group_norm(_t(np.ones(4)), 2)
    with pytest.raises(
        ShapeError, match=r"weight to be a vector of size equal to the number of channels \(4\).*\(5,\)"
    ):
        F.group_norm(xt, 2, weight=mg.ones(5, dtype=mg.float64))
    with pytest.raises(ArgumentError, match="num_groups must be a positive integer, got 1.5"):
        F.group_norm(xt, 1.5)
    _intact(xt, np.ones((2, 4, 3)))


# --- instance_norm ------------------------------------------------------------------------------------------


def instance_norm_ref(x, weight=None, bias=None, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    out = (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    return out if bias is None else out + bias.reshape(shape)


@st.composite
def instance_norm_cases(draw, max_side=3):
    n, c = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    spatial = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=max_side))
    if int(np.prod(spatial)) == 1:  # one spatial element has no variance (an error, tested below)
        spatial = spatial[:-1] + (2,)
    x = draw(hnp.arrays(np.float64, (n, c) + spatial, elements=st.floats(-3, 3)))
    return x, draw(st.booleans())


@with_device
@given(case=instance_norm_cases())
def test_instance_norm_matches_the_formula_and_updates_running_stats(case, device):
    x, affine = case
    c, spatial = x.shape[1], int(np.prod(x.shape[2:]))
    w, b = (_rand(c, 1), _rand(c, 2)) if affine else (None, None)
    rm0, rv0 = _rand(c, 3), _rand(c, 4) ** 2 + 0.5
    rm, rv = _t(rm0, device), _t(rv0, device)
    args = [None if a is None else _t(a, device) for a in (w, b)]
    out = F.instance_norm(_t(x, device), rm, rv, *args, use_input_stats=True, momentum=0.2)
    assert out.shape == x.shape and out.device == device
    np.testing.assert_allclose(_np(out), instance_norm_ref(x, w, b), rtol=1e-10, atol=1e-10)
    axes = tuple(range(2, x.ndim))
    if x.shape[0]:
        batch_mean = x.mean(axis=axes).mean(axis=0)
        batch_var = x.var(axis=axes, ddof=1).mean(axis=0)
        np.testing.assert_allclose(_np(rm), 0.8 * rm0 + 0.2 * batch_mean, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_np(rv), 0.8 * rv0 + 0.2 * batch_var, rtol=1e-12, atol=1e-12)
        assert spatial > 1
    else:  # an empty batch has no statistics to average: the running ones stay
        np.testing.assert_array_equal(_np(rm), rm0)
    evaluated = F.instance_norm(_t(x, device), rm, rv, *args, use_input_stats=False)
    shape = (1, c) + (1,) * (x.ndim - 2)
    expected = (x - _np(rm).reshape(shape)) / np.sqrt(_np(rv).reshape(shape) + 1e-5)
    if affine:
        expected = expected * w.reshape(shape) + b.reshape(shape)
    np.testing.assert_allclose(_np(evaluated), expected, rtol=1e-10, atol=1e-10)


@settings(with_device, max_examples=15)
@given(case=instance_norm_cases(max_side=2))
def test_instance_norm_gradients(case, device):
    x, affine = case
    x = x + _rand(x.shape, 5)
    c = x.shape[1]
    if affine:
        check_gradients(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, _rand(c, 6), _rand(c, 7),
                        device=device)  # fmt: skip
    else:
        check_gradients(lambda x: F.instance_norm(x), x, device=device)
    rm, rv = mg.tensor(_rand(c, 8), device=device), mg.tensor(_rand(c, 9) ** 2 + 0.5, device=device)
    check_gradients(lambda x: F.instance_norm(x, rm, rv, use_input_stats=False), x, device=device)


def test_instance_norm_second_order():
    x, w, b = _rand((2, 3, 4)), _rand(3, 1), _rand(3, 2)
    check_second_order(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), x, w, b)


@pytest.mark.parametrize("cls, batched, unbatched", [(nn.InstanceNorm1d, (2, 3, 5), (3, 5)),
                                                     (nn.InstanceNorm2d, (2, 3, 2, 3), (3, 2, 3)),
                                                     (nn.InstanceNorm3d, (2, 3, 2, 2, 2), (3, 2, 2, 2))])  # fmt: skip
def test_instance_norm_modules(cls, batched, unbatched, device):
    name = cls.__name__
    plain = cls(3, device=device)
    assert (plain.affine, plain.track_running_stats, plain.momentum, plain.eps) == (False, False, 0.1, 1e-5)
    assert list(plain.state_dict()) == [] and repr(plain) == (
        f"{name}(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)"
    )
    x = _rand(batched, 1, 2, 1)
    for mode in (plain.train(), plain.eval()):  # no running statistics: the input's own in both modes
        np.testing.assert_allclose(_np(mode(_t(x, device))), instance_norm_ref(x), rtol=1e-10, atol=1e-10)
    single = _rand(unbatched, 2)
    np.testing.assert_allclose(_np(plain(_t(single, device))), instance_norm_ref(single[None])[0], rtol=1e-10,
                               atol=1e-10)  # fmt: skip
    tracked = cls(3, affine=True, track_running_stats=True, dtype=mg.float64, device=device)
    assert list(tracked.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    tracked(_t(x, device))
    axes = tuple(range(2, x.ndim))
    np.testing.assert_allclose(_np(tracked.running_mean), 0.1 * x.mean(axis=axes).mean(0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(tracked.running_var), 0.9 + 0.1 * x.var(axis=axes, ddof=1).mean(0), rtol=1e-12)
    assert int(tracked.num_batches_tracked.item()) == 0  # kept for the state dict, never counted (as PyTorch)
    tracked.eval()
    rm, rv = _np(tracked.running_mean), _np(tracked.running_var)
    shape = (1, 3) + (1,) * (x.ndim - 2)
    np.testing.assert_allclose(_np(tracked(_t(x, device))), (x - rm.reshape(shape)) / np.sqrt(rv.reshape(shape) + 1e-5),
                               rtol=1e-10, atol=1e-10)  # fmt: skip
    frozen = cls(3, track_running_stats=True, momentum=None, dtype=mg.float64, device=device)
    frozen(_t(x, device))  # momentum=None is 0 for instance norm, as PyTorch: the running statistics stay
    np.testing.assert_array_equal(_np(frozen.running_mean), np.zeros(3))
    np.testing.assert_array_equal(_np(frozen.running_var), np.ones(3))


def test_instance_norm_errors_and_warnings():
    x = _t(np.ones((2, 4, 5)), requires_grad=True)
    with pytest.raises(
        ShapeError, match=r"InstanceNorm1d: expected 2D or 3D input, got 4D input of shape \(1, 2, 4, 5\)"
    ):
        nn.InstanceNorm1d(4)(x.reshape(1, 2, 4, 5))
    with pytest.raises(ShapeError, match=r"InstanceNorm2d: expected 3D or 4D input, got 2D"):
        nn.InstanceNorm2d(4)(_t(np.ones((2, 4))))
    with pytest.raises(ShapeError, match=r"InstanceNorm1d: expected input's size at dim=1 to match num_features \(3\)"):
        nn.InstanceNorm1d(3, affine=True)(x)
    with pytest.raises(ShapeError, match=r"match num_features \(3\), but got input of shape \(2, 4, 5\)"):
        nn.InstanceNorm1d(3, track_running_stats=True)(x)
    with pytest.warns(UserWarning, match=r"InstanceNorm1d: input's size at dim=1 does not match num_features \(3\)"):
        out = nn.InstanceNorm1d(3)(x)  # num_features is not used without affine or running statistics
    assert out.shape == (2, 4, 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(4)(x)
    with pytest.raises(ShapeError, match=r"expected more than 1 spatial element when training, got input of shape "):
        F.instance_norm(_t(np.ones((2, 4, 1))))
    rm, rv = mg.zeros(4, dtype=mg.float64), mg.ones(4, dtype=mg.float64)
    with pytest.raises(ShapeError, match=r"running_mean to be a vector of size equal to the number of channels \(4\)"):
        F.instance_norm(x, mg.zeros(3), rv)
    with pytest.raises(ShapeError, match="use_input_stats=False needs running_mean and running_var"):
        F.instance_norm(x, use_input_stats=False)
    with pytest.raises(ShapeError, match="single|spatial element"):
        F.instance_norm(_t(np.ones((3, 4, 1))), rm, rv)
    assert _np(rm).tolist() == [0.0] * 4 and _np(rv).tolist() == [1.0] * 4  # a failed call updates nothing
    with pytest.raises(ShapeError, match=r"instance_norm: expected input of shape \(N, C, \*\), got shape \(4,\)"):
        F.instance_norm(_t(np.ones(4)))
    _intact(x, np.ones((2, 4, 5)))


# --- BatchNorm: num_batches_tracked and momentum=None --------------------------------------------------------


def test_batch_norm_counts_batches_in_training_only(device):
    bn = nn.BatchNorm1d(3, device=device)
    assert bn.num_batches_tracked.dtype == np.int64 and bn.num_batches_tracked.shape == ()
    assert bn.num_batches_tracked.device == device and int(bn.num_batches_tracked.item()) == 0
    assert repr(bn) == "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    for _ in range(3):
        bn(mg.tensor(_rand((4, 3)).astype(np.float32), device=device))
    assert int(bn.num_batches_tracked.item()) == 3
    bn.eval()
    bn(mg.tensor(_rand((4, 3)).astype(np.float32), device=device))
    assert int(bn.num_batches_tracked.item()) == 3
    bn.train()
    with pytest.raises(ShapeError, match="more than one value per channel"):
        bn(mg.zeros(1, 3, device=device))
    assert int(bn.num_batches_tracked.item()) == 3  # a call that raises does not count
    bn.to(dtype=mg.float64)
    assert bn.num_batches_tracked.dtype == np.int64 and bn.running_mean.dtype == np.float64
    bn.reset_running_stats()
    assert int(bn.num_batches_tracked.item()) == 0 and _np(bn.running_var).tolist() == [1.0] * 3
    untracked = nn.BatchNorm2d(3, track_running_stats=False)
    assert untracked.num_batches_tracked is None and "num_batches_tracked" not in untracked.state_dict()
    no_bias = nn.BatchNorm1d(3, bias=False)
    assert no_bias.bias is None and list(no_bias.state_dict())[0:2] == ["weight", "running_mean"]
    assert "bias=False" in repr(no_bias)


def test_batch_norm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm2d(2, momentum=None, dtype=mg.float64)
    batches = [_rand((3, 2, 2, 2), seed, 2, seed) for seed in range(4)]
    for x in batches:
        bn(_t(x))
    n = 3 * 2 * 2
    means = np.stack([x.mean(axis=(0, 2, 3)) for x in batches])
    variances = np.stack([x.var(axis=(0, 2, 3)) * n / (n - 1) for x in batches])
    # the first batch replaces the initial statistics (1 / 1), later ones enter with weight 1 / k: the plain mean
    np.testing.assert_allclose(_np(bn.running_mean), means.mean(0), rtol=1e-12)
    np.testing.assert_allclose(_np(bn.running_var), variances.mean(0), rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 4 and "momentum=None" in repr(bn)


def test_old_batch_norm_state_dicts_load_and_versioned_ones_must_have_the_count():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    model(mg.randn(4, 3))
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    assert state["1.num_batches_tracked"].dtype == np.int64 and int(state["1.num_batches_tracked"]) == 1
    fresh = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    assert fresh.load_state_dict(state, strict=True) == ([], [])
    assert int(fresh[1].num_batches_tracked.item()) == 1
    old = {k: v for k, v in state.items() if k != "1.num_batches_tracked"}  # a checkpoint from before the count
    with mg.no_grad():
        fresh[1].num_batches_tracked.fill_(5)
    assert fresh.load_state_dict(old, strict=True) == ([], [])
    assert int(fresh[1].num_batches_tracked.item()) == 5  # kept, as PyTorch does
    np.testing.assert_array_equal(_np(fresh[1].running_mean), state["1.running_mean"])

    class Versioned(dict):
        _metadata = {"": {"version": 1}, "0": {"version": 1}, "1": {"version": 2}}

    with pytest.raises(nn.StateDictError, match=r"missing key: 1\.num_batches_tracked"):
        fresh.load_state_dict(Versioned(old), strict=True)
    assert fresh.load_state_dict(Versioned(old), strict=False) == (["1.num_batches_tracked"], [])
    Versioned._metadata = {"1": {"version": 1}}
    assert fresh.load_state_dict(Versioned(old), strict=True) == ([], [])
    assert list(old) == [k for k in state if k != "1.num_batches_tracked"]  # the caller's dict is left alone


# --- normalize ------------------------------------------------------------------------------------------


def _p_norm(x, p, axis):
    a = np.abs(x)
    if p == np.inf:
        return a.max(axis=axis, keepdims=True)
    return (a**p).sum(axis=axis, keepdims=True) ** (1 / p)


@st.composite
def normalize_cases(draw, max_side=3):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=max_side))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    if shape[dim] == 0:
        shape = tuple(max(s, 1) if k == dim % len(shape) else s for k, s in enumerate(shape))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    return x, dim, draw(st.sampled_from([2.0, 1.0, 3.0, np.inf]))


@with_device
@given(case=normalize_cases())
def test_normalize_matches_the_formula(case, device):
    x, dim, p = case
    for eps in (1e-12, 0.5):
        expected = x / np.maximum(_p_norm(x, p, dim), eps)
        np.testing.assert_allclose(_np(F.normalize(_t(x, device), p, dim, eps)), expected, rtol=1e-12, atol=1e-14)


@settings(with_device, max_examples=15)
@given(case=normalize_cases(max_side=3))
def test_normalize_gradients(case, device):
    x, dim, p = case
    x = x + _rand(x.shape, 1) * 0.1  # inf ties and exact zeros are kinks of the norm
    check_gradients(lambda x: F.normalize(x, p, dim), x, device=device)
    check_gradients(lambda x: F.normalize(x, p, dim, eps=2.0), x, device=device)  # the clamp, a kink at eps


def test_normalize_second_order_zero_vectors_and_errors():
    check_second_order(lambda x: F.normalize(x, dim=-1), _rand((3, 4)))
    x = _t(np.zeros((2, 3)), requires_grad=True)
    F.normalize(x).sum().backward()  # below eps the result is x / eps; the norm's gradient is cut by the clamp
    np.testing.assert_array_equal(_np(x.grad), np.full((2, 3), 1e12))
    np.testing.assert_allclose(_np(F.normalize(_t(3.0), dim=0)), 1.0)
    y = _t(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(
        IndexOutOfRange, match=r"normalize: dim 2 is out of range for a 2-D input \(expected \[-2, 1\]\)"
    ):
        F.normalize(y, dim=2)
    with pytest.raises(IndexOutOfRange, match="normalize: dim 1 is out of range for a 1-D input"):
        F.normalize(_t(np.ones(3)))
    with pytest.raises(ArgumentError, match="normalize: out= is not supported"):
        F.normalize(y, out=y)
    with pytest.raises(ArgumentError, match="normalize: dim must be an int"):
        F.normalize(y, dim=(0, 1))
    _intact(y, np.ones((2, 3)))


# --- cosine_similarity ----------------------------------------------------------------------------------


def cosine_ref(x1, x2, dim, eps=1e-8):
    x1, x2 = np.broadcast_arrays(x1, x2)
    n1 = np.maximum(np.sqrt((x1 * x1).sum(axis=dim, keepdims=True)), eps)
    n2 = np.maximum(np.sqrt((x2 * x2).sum(axis=dim, keepdims=True)), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


@st.composite
def pair_cases(draw, max_side=3):
    """Two broadcastable arrays (hypothesis' broadcastable shapes, empty dims included) and a dim of their
    broadcast shape that is not empty."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=3, min_side=0,
                                                    max_side=max_side))  # fmt: skip
    out = shapes.result_shape
    dim = draw(st.integers(-len(out), len(out) - 1))
    shape1, shape2 = shapes.input_shapes
    if out[dim] == 0:
        return draw(pair_cases(max_side))
    x1 = draw(hnp.arrays(np.float64, shape1, elements=st.floats(-3, 3)))
    x2 = draw(hnp.arrays(np.float64, shape2, elements=st.floats(-3, 3)))
    return x1, x2, dim


@with_device
@given(case=pair_cases())
def test_cosine_similarity_matches_the_formula(case, device):
    x1, x2, dim = case
    for eps in (1e-8, 0.5):
        got = F.cosine_similarity(_t(x1, device), _t(x2, device), dim, eps)
        np.testing.assert_allclose(_np(got), cosine_ref(x1, x2, dim, eps), rtol=1e-12, atol=1e-12)
        assert np.all(np.abs(_np(got)) <= 1 + 1e-12)
    got32 = F.cosine_similarity(_t(x1, device, dtype=np.float32), _t(x2, device, dtype=np.float32), dim)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(_np(got32), cosine_ref(x1, x2, dim), rtol=1e-5, atol=1e-5)


@settings(with_device, max_examples=15)
@given(case=pair_cases(max_side=3))
def test_cosine_similarity_gradients(case, device):
    x1, x2, dim = case
    x1, x2 = x1 + _rand(x1.shape, 1) * 0.1, x2 + _rand(x2.shape, 2) * 0.1  # away from zero norms
    check_gradients(lambda a, b: F.cosine_similarity(a, b, dim), x1, x2, device=device)


def test_cosine_similarity_clamps_each_norm_outside_autograd():
    check_second_order(lambda a, b: F.cosine_similarity(a, b), _rand((3, 4), 1), _rand((3, 4), 2))
    # a zero x1: the value is 0, and (PyTorch 2's rule) the gradient that of x1 . x2 / (eps n2), not 0
    x1, x2 = _t(np.zeros((1, 3)), requires_grad=True), _t(np.array([[3.0, 0.0, 4.0]]), requires_grad=True)
    out = F.cosine_similarity(x1, x2, eps=1e-3)
    out.sum().backward()
    assert _np(out).tolist() == [0.0]
    np.testing.assert_allclose(_np(x1.grad), [[0.6 / 1e-3, 0.0, 0.8 / 1e-3]])
    np.testing.assert_array_equal(_np(x2.grad), np.zeros((1, 3)))
    # a small but nonzero x1 (norm 5e-4 < eps): x1 / eps in value; d/dx1 of x1 . x2 / (n1 n2) with n1's own
    # derivative at the clamped value: (x2 / n2 - (x1 . x2 / n2) x1 / (n1 eps)) / eps
    a = np.array([[3e-4, 0.0, 4e-4]])
    b = np.array([[1.0, 2.0, 2.0]])
    x1, x2 = _t(a, requires_grad=True), _t(b, requires_grad=True)
    F.cosine_similarity(x1, x2, eps=1e-3).sum().backward()
    n1, n2, dot = 5e-4, 3.0, float((a * b).sum())
    np.testing.assert_allclose(_np(x1.grad), (b / n2 - dot / n2 * a / (n1 * 1e-3)) / 1e-3, rtol=1e-10)
    np.testing.assert_allclose(_np(x2.grad), (a / 1e-3 - dot / 1e-3 * b / n2**2) / n2, rtol=1e-10)


def test_cosine_similarity_dtypes_broadcasting_and_errors():
    x = _t(np.ones((2, 3)), requires_grad=True)
    ints = mg.tensor(np.array([[1, 0, 0], [0, 1, 0]]))
    got = F.cosine_similarity(x, ints)  # the integer input takes the other's dtype, as PyTorch's common dtype
    assert got.dtype == np.float64
    np.testing.assert_allclose(_np(got), [1 / np.sqrt(3)] * 2)
    assert F.cosine_similarity(_t(np.ones((4, 1, 3))), _t(np.ones((2, 3))), dim=-1).shape == (4, 2)
    assert F.cosine_similarity(_t(2.0), _t(-3.0), dim=0).item() == -1.0
    with pytest.raises(DTypeError, match="cosine_similarity: expected a floating-point input, got dtypes int64"):
        F.cosine_similarity(ints, ints)
    with pytest.raises(ShapeError, match=r"cosine_similarity: x1 of shape \(2, 3\) and x2 of shape \(2, 4\) do not"):
        F.cosine_similarity(x, _t(np.ones((2, 4))))
    with pytest.raises(IndexOutOfRange, match="cosine_similarity: dim 1 is out of range for a 1-D input"):
        F.cosine_similarity(_t(np.ones(3)), _t(np.ones(3)))
    _intact(x, np.ones((2, 3)))
    module = nn.CosineSimilarity(dim=0, eps=1e-3)
    assert (module.dim, module.eps, repr(module)) == (0, 1e-3, "CosineSimilarity()")
    np.testing.assert_allclose(_np(module(_t(_rand((3, 2))), _t(_rand((3, 2), 1)))),
                               cosine_ref(_rand((3, 2)), _rand((3, 2), 1), 0, 1e-3), rtol=1e-12)  # fmt: skip


# --- pairwise_distance ----------------------------------------------------------------------------------


def pairwise_ref(x1, x2, p, eps=1e-6, keepdim=False):
    diff = np.broadcast_arrays(x1, x2)[0] - x2 + eps
    a = np.abs(diff)
    if p == np.inf:
        out = a.max(axis=-1, keepdims=keepdim)
    elif p == 0:
        out = (a != 0).sum(axis=-1, keepdims=keepdim).astype(float)
    else:
        out = (a**p).sum(axis=-1, keepdims=keepdim) ** (1 / p)
    return out


@with_device
@given(case=pair_cases(), p=st.sampled_from([2.0, 1.0, 3.0, 0.5, np.inf, 0.0]), keepdim=st.booleans())
def test_pairwise_distance_matches_the_formula(case, p, keepdim, device):
    x1, x2, _ = case
    if np.broadcast_shapes(x1.shape, x2.shape)[-1] == 0 and p == np.inf:
        return  # the max over an empty dimension: an error, tested below
    got = F.pairwise_distance(_t(x1, device), _t(x2, device), p, keepdim=keepdim)
    np.testing.assert_allclose(_np(got), pairwise_ref(x1, x2, p, keepdim=keepdim), rtol=1e-12, atol=1e-12)
    module = nn.PairwiseDistance(p, eps=1e-3, keepdim=keepdim)
    np.testing.assert_allclose(_np(module(_t(x1, device), _t(x2, device))), pairwise_ref(x1, x2, p, 1e-3, keepdim),
                               rtol=1e-12, atol=1e-12)  # fmt: skip


@settings(with_device, max_examples=15)
@given(case=pair_cases(max_side=3), p=st.sampled_from([2.0, 1.0, 3.0]))
def test_pairwise_distance_gradients(case, p, device):
    x1, x2, _ = case
    x1 = x1 + _rand(x1.shape, 1) * 0.1  # |x1 - x2 + eps| away from 0, a kink of the p = 1 norm
    check_gradients(lambda a, b: F.pairwise_distance(a, b, p), x1, x2, device=device)


def test_pairwise_distance_second_order_shapes_and_errors():
    check_second_order(lambda a, b: F.pairwise_distance(a, b), _rand((3, 4), 1), _rand((3, 4), 2))
    same = _t(np.ones((2, 4)), requires_grad=True)
    np.testing.assert_allclose(_np(F.pairwise_distance(same, same)), [2e-6, 2e-6], rtol=1e-9)  # eps * sqrt(D)
    assert F.pairwise_distance(_t(np.ones(4)), _t(np.zeros(4))).shape == ()
    assert F.pairwise_distance(_t(np.ones((2, 3, 4))), _t(np.zeros(4)), keepdim=True).shape == (2, 3, 1)
    scalar = _t(1.0, requires_grad=True)
    distance = F.pairwise_distance(scalar, _t(3.0), keepdim=True)  # two scalars: |x1 - x2 + eps|, 0-d
    distance.backward()
    assert distance.shape == () and abs(distance.item() - (2.0 - 1e-6)) < 1e-12 and scalar.grad.item() == -1.0
    with pytest.raises(ShapeError, match=r"pairwise_distance: x1 of shape \(2, 4\) and x2 of shape \(3,\) do not"):
        F.pairwise_distance(same, _t(np.ones(3)))
    with pytest.raises(ShapeError, match="over an empty dimension"):
        F.pairwise_distance(_t(np.ones((2, 0))), _t(np.ones((2, 0))), p=np.inf)
    _intact(same, np.ones((2, 4)))
    module = nn.PairwiseDistance()
    assert (module.norm, module.eps, module.keepdim, repr(module)) == (2.0, 1e-6, False, "PairwiseDistance()")


# --- local_response_norm --------------------------------------------------------------------------------


def lrn_ref(x, size, alpha=1e-4, beta=0.75, k=1.0):
    c = x.shape[1]
    out = np.empty_like(x)
    for ch in range(c):
        lo, hi = max(0, ch - size // 2), min(c, ch + (size - 1) // 2 + 1)
        total = (x[:, lo:hi] ** 2).sum(axis=1)
        out[:, ch] = x[:, ch] / (k + alpha / size * total) ** beta
    return out


@st.composite
def lrn_cases(draw, max_side=3):
    shape = draw(hnp.array_shapes(min_dims=3, max_dims=4, min_side=0, max_side=max_side))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    return x, draw(st.integers(1, 5))


@with_device
@given(case=lrn_cases())
def test_local_response_norm_matches_the_formula(case, device):
    x, size = case
    for kw in ({}, {"alpha": 0.5, "beta": 0.6, "k": 2.0}):
        got = F.local_response_norm(_t(x, device), size, **kw)
        np.testing.assert_allclose(_np(got), lrn_ref(x, size, **kw), rtol=1e-12, atol=1e-12)
        module = nn.LocalResponseNorm(size, **kw)
        np.testing.assert_allclose(_np(module(_t(x, device))), lrn_ref(x, size, **kw), rtol=1e-12, atol=1e-12)


@settings(with_device, max_examples=15)
@given(case=lrn_cases(max_side=3))
def test_local_response_norm_gradients(case, device):
    x, size = case
    check_gradients(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.6, k=2.0), x, device=device)


def test_local_response_norm_second_order_repr_and_errors():
    check_second_order(lambda x: F.local_response_norm(x, 3, alpha=0.5), _rand((2, 4, 3)))
    assert repr(nn.LocalResponseNorm(2)) == "LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)"
    x = _t(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"local_response_norm: expected 3D or higher dimensionality input, got shape"):
        F.local_response_norm(x, 2)
    with pytest.raises(ArgumentError, match="local_response_norm: size must be a positive integer, got 0"):
        F.local_response_norm(x.reshape(2, 3, 1), 0)
    _intact(x, np.ones((2, 3)))

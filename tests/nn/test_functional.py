"""Convolution and pooling (minigrad.ops.conv through minigrad.nn.functional).

Forwards are compared in float64 with direct loops over n, o, i, j and the
kernel offsets, written here independently of the im2col implementation;
gradients are checked by minigrad.gradcheck (full mode on small inputs, fast
mode on larger ones) on hypothesis-drawn geometries.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.gradcheck import GradcheckError

# The ``device`` fixture holds only a string, so hypothesis examples may share it.
with_device = settings(suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture])

FULL_MODE_LIMIT = 120  # elements of the checked inputs up to which gradcheck runs in full mode


def _out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_loops(x, w, b, stride, padding, dilation, groups):
    """out[n, o, i, j] = b[o] + sum_{c, a, e} x_pad[n, g*cg + c, i*s + a*d, j*s + e*d] * w[o, c, a, e]."""
    n_batch, c_in, h, wd = x.shape
    c_out, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.zeros((n_batch, c_in, h + 2 * ph, wd + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    ho, wo = _out(h, kh, sh, ph, dh), _out(wd, kw, sw, pw, dw)
    og = c_out // groups
    out = np.zeros((n_batch, c_out, ho, wo))
    for n in range(n_batch):
        for o in range(c_out):
            first = (o // og) * cg  # the group's first input channel
            for i in range(ho):
                for j in range(wo):
                    total = 0.0 if b is None else b[o]
                    for c in range(cg):
                        for a in range(kh):
                            for e in range(kw):
                                total += xp[n, first + c, i * sh + a * dh, j * sw + e * dw] * w[o, c, a, e]
                    out[n, o, i, j] = total
    return out


def pool2d_loops(x, kernel, stride, padding, dilation, kind):
    """Max (padding counts as -inf) or mean (padding counts as 0, divided by kh*kw) over each window."""
    n_batch, channels, h, wd = x.shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((n_batch, channels, h + 2 * ph, wd + 2 * pw), fill)
    xp[:, :, ph : ph + h, pw : pw + wd] = x
    ho, wo = _out(h, kh, sh, ph, dh), _out(wd, kw, sw, pw, dw)
    out = np.zeros((n_batch, channels, ho, wo))
    for n in range(n_batch):
        for c in range(channels):
            for i in range(ho):
                for j in range(wo):
                    window = [xp[n, c, i * sh + a * dh, j * sw + e * dw] for a in range(kh) for e in range(kw)]
                    out[n, c, i, j] = max(window) if kind == "max" else sum(window) / (kh * kw)
    return out


def _pair(draw, values):
    return (draw(values), draw(values))


@st.composite
def conv_cases(draw):
    """A conv2d geometry: batch 1-2, channels 1-4 with groups dividing both, sizes 3-7, kernel 1-3,
    stride 1-2, padding 0-1, dilation 1-2 (each an int or a pair), and float64 arrays."""
    groups = draw(st.integers(1, 4))
    c_in = groups * draw(st.integers(1, 4 // groups))
    c_out = groups * draw(st.integers(1, 4 // groups))
    batch = draw(st.integers(1, 2))
    size = _pair(draw, st.integers(3, 7))
    kernel = _pair(draw, st.integers(1, 3))
    stride, padding, dilation = (_pair(draw, st.integers(lo, hi)) for lo, hi in ((1, 2), (0, 1), (1, 2)))
    assume(all(_out(size[k], kernel[k], stride[k], padding[k], dilation[k]) >= 1 for k in (0, 1)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, *size))
    w = rng.standard_normal((c_out, c_in // groups, *kernel))
    b = rng.standard_normal(c_out) if draw(st.booleans()) else None

    def as_arg(p):  # ints where both sides agree, sometimes
        return p[0] if p[0] == p[1] and draw(st.booleans()) else p

    return x, w, b, dict(stride=as_arg(stride), padding=as_arg(padding), dilation=as_arg(dilation), groups=groups)


def _pairs(params):
    return {k: (v, v) if isinstance(v, int) and k != "groups" else v for k, v in params.items()}


@st.composite
def pool_cases(draw, with_dilation=True):
    """A pooling geometry: padding at most half the kernel; stride None (= kernel) or 1-2.

    Values are a scaled permutation, so every window has one clear maximum
    (no ties within 0.5 of each other, far above gradcheck's step)."""
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    size = _pair(draw, st.integers(3, 7))
    kernel = _pair(draw, st.integers(1, 3))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    dilation = _pair(draw, st.integers(1, 2)) if with_dilation else (1, 1)
    s = kernel if stride is None else stride
    assume(all(_out(size[k], kernel[k], s[k], padding[k], dilation[k]) >= 1 for k in (0, 1)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (batch, channels, *size)
    x = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 5.0
    return x, kernel, stride, padding, dilation


def _t(a, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad, device=device)


def _fast(*arrays):
    return sum(a.size for a in arrays if a is not None) > FULL_MODE_LIMIT


# --- conv2d ---------------------------------------------------------------------------------


@with_device
@given(case=conv_cases())
def test_conv2d_forward_matches_loops(case, device):
    x, w, b, params = case
    out = F.conv2d(_t(x, device=device), _t(w, device=device), None if b is None else _t(b, device=device), **params)
    assert out.device == device
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), conv2d_loops(x, w, b, **_pairs(params)), rtol=1e-12, atol=1e-12)


@with_device
@given(case=conv_cases())
def test_conv2d_gradients(case, device):
    x, w, b, params = case
    inputs = [_t(a, True, device) for a in (x, w, b) if a is not None]

    def fn(x, w, b=None):
        return F.conv2d(x, w, b, **params)

    mg.gradcheck(fn, inputs, fast_mode=_fast(x, w, b))


def test_conv2d_gradients_full_mode_on_a_grouped_strided_dilated_case():
    rng = np.random.default_rng(0)
    x, w, b = (
        _t(rng.standard_normal((2, 4, 6, 5)), True),
        _t(rng.standard_normal((6, 2, 2, 3)), True),
        _t(rng.standard_normal(6), True),
    )
    report = mg.gradcheck(lambda x, w, b: F.conv2d(x, w, b, (2, 1), 1, (1, 2), 2), (x, w, b))
    assert report.passed and report.mode == "full" and report.verdict == "correct"


def test_conv2d_second_derivatives():
    rng = np.random.default_rng(1)
    x, w, b = (
        _t(rng.standard_normal((1, 2, 4, 4)), True),
        _t(rng.standard_normal((2, 1, 2, 2)), True),
        _t(rng.standard_normal(2), True),
    )
    # conv2d is bilinear: the mixed x-w second derivatives are what gradgradcheck exercises here,
    # and tanh after it adds a non-zero Hessian of its own.
    mg.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1, groups=2), (x, w, b))
    mg.gradgradcheck(lambda x, w: F.conv2d(x, w, None, stride=2, padding=1, dilation=1, groups=2).tanh(), (x, w))


def test_conv2d_errors():
    x = mg.zeros(1, 4, 5, 5)
    with pytest.raises(mg.ShapeError, match="groups=2"):
        F.conv2d(x, mg.zeros(3, 2, 3, 3), groups=2)  # out channels not divisible by groups
    with pytest.raises(mg.ShapeError, match="groups must be positive"):
        F.conv2d(x, mg.zeros(2, 4, 3, 3), groups=0)
    with pytest.raises(mg.ShapeError, match="weight must have shape"):
        F.conv2d(x, mg.zeros(2, 4, 3))
    with pytest.raises(mg.ShapeError, match="non-negative"):
        F.conv2d(x, mg.zeros(2, 4, 3, 3), padding=-1)
    with pytest.raises(mg.ShapeError, match="pair of ints"):
        F.conv2d(x, mg.zeros(2, 4, 3, 3), stride=(1, 2, 3))
    with pytest.raises(mg.ShapeError, match="does not fit"):
        F.conv2d(x, mg.zeros(2, 4, 3, 3), dilation=3)


# --- pooling --------------------------------------------------------------------------------


@with_device
@given(case=pool_cases())
def test_max_pool2d_forward_matches_loops(case, device):
    x, kernel, stride, padding, dilation = case
    out = F.max_pool2d(_t(x, device=device), kernel, stride, padding, dilation)
    expected = pool2d_loops(x, kernel, kernel if stride is None else stride, padding, dilation, "max")
    np.testing.assert_array_equal(out.numpy(), expected)


@with_device
@given(case=pool_cases(with_dilation=False))
def test_avg_pool2d_forward_matches_loops(case, device):
    x, kernel, stride, padding, _ = case
    out = F.avg_pool2d(_t(x, device=device), kernel, stride, padding)
    expected = pool2d_loops(x, kernel, kernel if stride is None else stride, padding, (1, 1), "avg")
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


@with_device
@given(case=pool_cases())
def test_max_pool2d_gradients(case, device):
    x, kernel, stride, padding, dilation = case
    report = mg.gradcheck(
        lambda x: F.max_pool2d(x, kernel, stride, padding, dilation), _t(x, True, device), fast_mode=_fast(x)
    )
    assert not report.kinks  # distinct values: no window has a tie


@with_device
@given(case=pool_cases(with_dilation=False))
def test_avg_pool2d_gradients(case, device):
    x, kernel, stride, padding, _ = case
    mg.gradcheck(lambda x: F.avg_pool2d(x, kernel, stride, padding), _t(x, True, device), fast_mode=_fast(x))


def test_pool_second_derivatives():
    x = _t(np.random.default_rng(0).permutation(2 * 5 * 4).reshape(1, 2, 5, 4) * 0.5, True)
    mg.gradgradcheck(lambda x: F.max_pool2d(x, 3, 2, 1) ** 2, x)
    mg.gradgradcheck(lambda x: F.avg_pool2d(x, 2, 1, 1) ** 2, x)
    mg.gradgradcheck(lambda x: F.max_pool2d(x, 2) ** 2, x)  # the tiling fast path, with a leftover row


@pytest.mark.parametrize("stride", [2, 1])
def test_a_tie_in_a_max_pool_window_is_a_kink_not_a_failure(stride, device):
    x = _t([[[[1.0, 1.0, 0.5], [0.0, -1.0, 0.2], [0.1, 0.3, 0.4]]]], True, device)
    report = mg.gradcheck(lambda x: F.max_pool2d(x, 2, stride), x)
    assert report.passed
    assert report.kinks and {k.index for k in report.kinks} >= {(0, 0, 0, 0), (0, 0, 0, 1)}
    assert all("max_pool2d" in op for k in report.kinks for op in k.ops)
    assert "kinks crossed" in str(report)
    with pytest.raises(GradcheckError):
        mg.gradcheck(lambda x: F.max_pool2d(x, 2, stride), x, fail_on_kinks=True)
    # The analytic gradient splits the cotangent evenly among the tied elements.
    F.max_pool2d(x, 2, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0, 0, :2], [0.5, 0.5])


def _max_pool_grad_loops(x, g, k):
    """The tiling max-pool's gradient by loops: each window's cotangent split evenly among its tied maxima."""
    dx = np.zeros_like(x)
    n_batch, c_in, ho, wo = g.shape
    for n in range(n_batch):
        for c in range(c_in):
            for i in range(ho):
                for j in range(wo):
                    window = x[n, c, i * k[0] : (i + 1) * k[0], j * k[1] : (j + 1) * k[1]]
                    won = window == window.max()
                    dx[n, c, i * k[0] : (i + 1) * k[0], j * k[1] : (j + 1) * k[1]] += won * g[n, c, i, j] / won.sum()
    return dx


@pytest.mark.parametrize("kernel", [(2, 2), (3, 1), (1, 2), (16, 17)])
@pytest.mark.parametrize("channels_last", [False, True])
def test_max_pool_splits_the_gradient_among_ties(kernel, channels_last, device):
    """Windows with 1 to kh*kw tied maxima (a relu before the pool makes many), in either memory order;
    the (16, 17) kernel has more tied elements in one window than a byte can count."""
    rng = np.random.default_rng(1)
    x = rng.integers(-1, 2, size=(2, 3, 2 * kernel[0] + 1, 2 * kernel[1])).astype(np.float64)
    x[0, 0] = 1.0  # every element of these windows ties
    if channels_last:  # as a conv's output: NHWC memory behind the NCHW shape
        leaf = _t(x.transpose(0, 2, 3, 1), True, device)
        xt = mg.permute(leaf, (0, 3, 1, 2))
        assert xt.array.strides[1] < xt.array.strides[3]
    else:
        leaf = xt = _t(x, True, device)
    out = F.max_pool2d(xt, kernel)
    g = rng.standard_normal(out.shape)
    out.backward(_t(g, device=device))
    dx = leaf.grad.numpy().transpose(0, 3, 1, 2) if channels_last else leaf.grad.numpy()
    np.testing.assert_allclose(dx, _max_pool_grad_loops(x, g, kernel), rtol=1e-12, atol=1e-12)


def test_pool_errors():
    x = mg.zeros(1, 1, 4, 4)
    with pytest.raises(mg.ShapeError, match="at most half of the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(mg.ShapeError, match="at most half of the kernel"):
        F.avg_pool2d(x, (3, 1), padding=(1, 1))
    with pytest.raises(mg.ShapeError, match=r"max_pool2d: expected a 3-D \(C, H, W\) or 4-D \(N, C, H, W\) input"):
        F.max_pool2d(mg.zeros(4, 4), 2)  # (C, H, W) is accepted, as PyTorch
    with pytest.raises(mg.ShapeError, match="does not fit"):
        F.avg_pool2d(x, 5)


# --- one_hot, bilinear --------------------------------------------------------------------------------------------


def test_one_hot_matches_eye_rows():
    idx = np.array([[0, 2], [1, 2]])
    out = F.one_hot(mg.tensor(idx))
    assert out.dtype == np.int64 and out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[idx])
    np.testing.assert_array_equal(F.one_hot(mg.tensor(np.array([1])), num_classes=4).numpy(), [[0, 1, 0, 0]])
    assert F.one_hot(mg.tensor(np.zeros(0, dtype=np.int64)), 3).shape == (0, 3)


def test_one_hot_errors_name_the_op():
    with pytest.raises(mg.IndexOutOfRange, match="one_hot: class values must be non-negative, got -1"):
        F.one_hot(mg.tensor(np.array([0, -1])))
    with pytest.raises(mg.IndexOutOfRange, match="one_hot: class value 3 is out of range for num_classes=3"):
        F.one_hot(mg.tensor(np.array([3])), 3)
    with pytest.raises(mg.DTypeError, match="one_hot"):
        F.one_hot(mg.tensor(np.array([1.0])))


@settings(max_examples=10)
@given(batch=st.lists(st.integers(0, 3), max_size=2), seed=st.integers(0, 1000))
def test_bilinear_functional_against_einsum_and_gradcheck(batch, seed):
    rng = np.random.default_rng(seed)
    x1, x2 = rng.standard_normal((*batch, 2)), rng.standard_normal((*batch, 3))
    w, b = rng.standard_normal((4, 2, 3)), rng.standard_normal(4)
    got = F.bilinear(mg.tensor(x1), mg.tensor(x2), mg.tensor(w), mg.tensor(b)).numpy()
    np.testing.assert_allclose(got, np.einsum("...i,oij,...j->...o", x1, w, x2) + b, rtol=1e-12, atol=1e-12)
    ts = [mg.tensor(a, requires_grad=True) for a in (x1, x2, w, b)]
    mg.gradcheck(F.bilinear, ts)
    mg.gradgradcheck(F.bilinear, ts)

"""minigrad.ops.pooling: forward against loop formulas in NumPy, gradcheck in float64 on hypothesis
shapes (incl. empty batches), second order, declared kinks and errors."""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError, DTypeError, ShapeError
from minigrad.ops import pooling as P


def out_len(size, k, s, p, d, ceil):
    span = size + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1
    return out


def max_pool_ref(x, k, s, p, d, ceil):
    """PyTorch's max pool as a loop: value and flat index of the first max of each window (a window with no
    element above -inf keeps its first in-input start, moved on by the dilation, as PyTorch's kernel)."""
    n, c, h, w = x.shape
    ho, wo = out_len(h, k[0], s[0], p[0], d[0], ceil), out_len(w, k[1], s[1], p[1], d[1], ceil)
    out, idx = np.zeros((n, c, ho, wo)), np.zeros((n, c, ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r0, q0 = r0 + (-(r0 // d[0]) * d[0] if r0 < 0 else 0), q0 + (-(q0 // d[1]) * d[1] if q0 < 0 else 0)
            best, where = np.full((n, c), -np.inf), np.full((n, c), r0 * w + q0, dtype=np.int64)
            for a in range(k[0]):
                for b in range(k[1]):
                    r, q = i * s[0] - p[0] + a * d[0], j * s[1] - p[1] + b * d[1]
                    if 0 <= r < h and 0 <= q < w:
                        v = x[:, :, r, q]
                        better = v > best
                        best, where = np.where(better, v, best), np.where(better, r * w + q, where)
            out[:, :, i, j], idx[:, :, i, j] = best, where
    return out, idx


def avg_pool_ref(x, k, s, p, ceil, include, divisor):
    n, c, h, w = x.shape
    ho, wo = out_len(h, k[0], s[0], p[0], 1, ceil), out_len(w, k[1], s[1], p[1], 1, ceil)
    out = np.zeros((n, c, ho, wo))
    for i in range(ho):
        for j in range(wo):
            r0, q0 = i * s[0] - p[0], j * s[1] - p[1]
            r1, q1 = min(r0 + k[0], h + p[0]), min(q0 + k[1], w + p[1])
            area = (r1 - r0) * (q1 - q0)
            rs, qs = slice(max(r0, 0), min(r1, h)), slice(max(q0, 0), min(q1, w))
            total = x[:, :, rs, qs].sum(axis=(2, 3))
            inside = (min(r1, h) - max(r0, 0)) * (min(q1, w) - max(q0, 0))
            out[:, :, i, j] = total / (divisor or (area if include else inside))
    return out


def adaptive_ref(x, out_hw, reduce):
    n, c, h, w = x.shape
    res = np.zeros((n, c) + out_hw)
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            r0, r1 = (i * h) // out_hw[0], -(-((i + 1) * h) // out_hw[0])
            q0, q1 = (j * w) // out_hw[1], -(-((j + 1) * w) // out_hw[1])
            res[:, :, i, j] = reduce(x[:, :, r0:r1, q0:q1], axis=(2, 3))
    return res


@st.composite
def window_case(draw, with_dilation=True):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    h = draw(st.integers(max(1, d[0] * (k[0] - 1) + 1 - 2 * p[0]), 7))
    w = draw(st.integers(max(1, d[1] * (k[1] - 1) + 1 - 2 * p[1]), 7))
    n, c = draw(st.integers(0, 2)), draw(st.integers(1, 2))
    return (n, c, h, w), k, s, p, d, draw(st.booleans())


def _values(shape, seed):
    """Distinct values (no ties): a permutation, scaled."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0


@settings(max_examples=30)
@given(window_case(), st.integers(0, 10**6))
def test_max_pool2d_matches_the_loop_formula_values_and_indices(case, seed):
    shape, k, s, p, d, ceil = case
    x = _values(shape, seed)
    out, idx = F.max_pool2d(minigrad.tensor(x), k, s, p, d, ceil_mode=ceil, return_indices=True)
    ref, ref_idx = max_pool_ref(x, k, s, p, d, ceil)
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)
    assert idx.dtype == np.int64


@settings(max_examples=30)
@given(window_case(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 3]), st.integers(0, 10**6))
def test_avg_pool2d_matches_the_loop_formula(case, include, divisor, seed):
    shape, k, s, p, _, ceil = case
    x = np.random.default_rng(seed).standard_normal(shape)
    out = F.avg_pool2d(minigrad.tensor(x), k, s, p, ceil, include, divisor)
    np.testing.assert_allclose(out.numpy(), avg_pool_ref(x, k, s, p, ceil, include, divisor), rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(window_case(), st.integers(0, 10**6))
def test_max_pool2d_gradcheck_with_ceil_mode(case, seed):
    shape, k, s, p, d, ceil = case
    x = _values(shape, seed)
    assume(np.isfinite(P.max_pool2d(minigrad.tensor(x), k, s, p, d, ceil_mode=ceil).numpy()).all())  # no window
    check_gradients(lambda t: P.max_pool2d(t, k, s, p, d, ceil_mode=ceil), x)  # of padding only (-inf there)


@settings(max_examples=15)
@given(window_case(with_dilation=False), st.booleans(), st.sampled_from([None, 2]), st.integers(0, 10**6))
def test_avg_pool2d_gradcheck_every_option(case, include, divisor, seed):
    shape, k, s, p, _, ceil = case
    x = np.random.default_rng(seed).standard_normal(shape)
    check_gradients(lambda t: P.avg_pool2d(t, k, s, p, ceil, include, divisor), x)


def test_pools_second_order():
    x = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    t = minigrad.tensor(x, requires_grad=True)
    assert minigrad.gradgradcheck(lambda a: P.avg_pool2d(a, 3, 2, 1, True, False) ** 2, (t,))
    assert minigrad.gradgradcheck(lambda a: P.adaptive_avg_pool2d(a, (2, 3)) ** 2, (t,))
    assert minigrad.gradgradcheck(lambda a: P.max_pool2d(a * a, 2, 2, 0, 1, True), (t,))
    assert minigrad.gradgradcheck(lambda a: P.adaptive_max_pool2d(a * a, 3), (t,))


def test_max_pools_declare_ties_as_kinks():
    x = np.ones((1, 1, 4, 4))  # every window ties
    for fn in (lambda t: P.max_pool2d(t, 2, ceil_mode=True), lambda t: P.adaptive_max_pool2d(t, 3),
               lambda t: P.max_pool1d(t[0], 3, 1)):  # fmt: skip
        t = minigrad.tensor(x, requires_grad=True)
        report = minigrad.gradcheck(fn, (t,), raise_exception=False)
        assert report.passed and report.inputs[0].kinks


@settings(max_examples=20)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 5), st.one_of(st.none(), st.integers(1, 5)),
       st.integers(0, 10**6))  # fmt: skip
def test_adaptive_pools_use_pytorch_bins(h, w, oh, ow, seed):
    x = _values((2, 3, h, w), seed)
    out_hw = (oh, w if ow is None else ow)
    avg = P.adaptive_avg_pool2d(minigrad.tensor(x), (oh, ow))
    np.testing.assert_allclose(avg.numpy(), adaptive_ref(x, out_hw, np.mean), rtol=1e-12, atol=1e-12)
    top, idx = P.adaptive_max_pool2d(minigrad.tensor(x), (oh, ow), return_indices=True)
    np.testing.assert_array_equal(top.numpy(), adaptive_ref(x, out_hw, np.max))
    flat = x.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 3, -1), 2), flat_top(top))
    check_gradients(lambda t: P.adaptive_avg_pool2d(t, (oh, ow)), x)
    check_gradients(lambda t: P.adaptive_max_pool2d(t, (oh, ow)), x)


def flat_top(top):
    return top.numpy().reshape(top.shape[0], top.shape[1], -1)


@settings(max_examples=20)
@given(st.integers(1, 9), st.integers(1, 5), st.integers(0, 10**6))
def test_adaptive_1d_pools(length, out, seed):
    x = _values((2, 3, length), seed)
    ref = adaptive_ref(x[:, :, None, :], (1, out), np.mean)[:, :, 0]
    np.testing.assert_allclose(P.adaptive_avg_pool1d(minigrad.tensor(x), out).numpy(), ref, rtol=1e-12, atol=1e-12)
    top, idx = P.adaptive_max_pool1d(minigrad.tensor(x[0]), out, return_indices=True)  # unbatched (C, L)
    np.testing.assert_array_equal(top.numpy(), adaptive_ref(x[:1, :, None, :], (1, out), np.max)[0, :, 0])
    np.testing.assert_array_equal(np.take_along_axis(x[0], idx.numpy(), 1), top.numpy())
    check_gradients(lambda t: P.adaptive_max_pool1d(t, out), x)
    check_gradients(lambda t: P.adaptive_avg_pool1d(t, out), x)


@settings(max_examples=20)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(), st.integers(0, 9))
def test_1d_pools_are_the_1xk_2d_pools(k, s, p, d, ceil, extra):
    p = min(p, k // 2)
    length = d * (k - 1) + 1 + extra
    x = _values((2, 2, length), extra)
    out, idx = P.max_pool1d(minigrad.tensor(x), k, s, p, d, ceil, return_indices=True)
    ref, ref_idx = max_pool_ref(x[:, :, None, :], (1, k), (1, s), (0, p), (1, d), ceil)
    np.testing.assert_array_equal(out.numpy(), ref[:, :, 0])
    np.testing.assert_array_equal(idx.numpy(), ref_idx[:, :, 0])
    avg = P.avg_pool1d(minigrad.tensor(x), k, s, p, ceil, False)
    np.testing.assert_allclose(avg.numpy(), avg_pool_ref(x[:, :, None, :], (1, k), (1, s), (0, p), ceil, False,
                                                         None)[:, :, 0], rtol=1e-12, atol=1e-12)  # fmt: skip
    check_gradients(lambda t: P.max_pool1d(t, k, s, p, d, ceil), x)
    check_gradients(lambda t: P.avg_pool1d(t, k, s, p, ceil, False), x)


def test_unbatched_inputs_and_the_conv_entry_points():
    x = _values((3, 5, 6), 1)
    a, ia = F.max_pool2d(minigrad.tensor(x), 2, ceil_mode=True, return_indices=True)
    b, ib = F.max_pool2d(minigrad.tensor(x[None]), 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy()[0])
    np.testing.assert_array_equal(ia.numpy(), ib.numpy()[0])
    assert F.avg_pool2d(minigrad.tensor(x), 3, 1, 1, count_include_pad=False).shape == (3, 5, 6)


def test_lp_pool_is_the_p_norm_of_each_window():
    x = np.abs(np.random.default_rng(2).standard_normal((1, 2, 4, 6))) + 0.1
    out = P.lp_pool2d(minigrad.tensor(x), 3.0, (2, 3))
    ref = (x.reshape(1, 2, 2, 2, 2, 3) ** 3).sum(axis=(3, 5)) ** (1 / 3)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12)
    check_gradients(lambda t: P.lp_pool2d(t, 2.0, 2), x)
    out1 = P.lp_pool1d(minigrad.tensor(x[0]), 2.0, 3)
    np.testing.assert_allclose(out1.numpy(), np.sqrt((x[0].reshape(2, 4, 2, 3) ** 2).sum(-1)), rtol=1e-12)


def test_max_unpool2d_inverts_max_pool_where_the_maxima_were():
    x = _values((2, 3, 6, 5), 3)
    out, idx = P.max_pool2d(minigrad.tensor(x), 2, return_indices=True)
    up = P.max_unpool2d(out, idx, 2, output_size=(6, 5))
    ref = np.zeros((2, 3, 30))
    np.put_along_axis(ref, idx.numpy().reshape(2, 3, -1), out.numpy().reshape(2, 3, -1), 2)
    np.testing.assert_array_equal(up.numpy(), ref.reshape(2, 3, 6, 5))
    even = P.max_pool2d(minigrad.tensor(x[..., :4]), 2, return_indices=True)
    assert P.max_unpool2d(*even, 2).shape == (2, 3, 6, 4)  # (H - 1) s - 2p + k
    check_gradients(lambda t: P.max_unpool2d(t, idx, 2, output_size=(6, 5)), out.numpy())


def test_max_unpool2d_of_an_inf_leaves_the_other_positions_zero():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 1, 1] = np.inf
    out, idx = P.max_pool2d(minigrad.tensor(x), 2, return_indices=True)
    up = P.max_unpool2d(out, idx, 2).numpy()[0, 0]
    assert up[1, 1] == np.inf and np.count_nonzero(up) == 4 and np.isfinite(np.delete(up.ravel(), 5)).all()


def test_bad_input_raises_errors_naming_the_op_and_shapes():
    x = minigrad.tensor(np.zeros((1, 1, 3, 3)))
    with pytest.raises(ShapeError, match=r"max_pool2d: .*\(1, 1, 3, 3\)"):
        F.max_pool2d(x, 5)  # kernel larger than the (padded) input
    with pytest.raises(ShapeError, match="max_pool2d: padding"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ShapeError, match=r"max_pool2d: expected .* got shape \(3, 3\)"):
        P.max_pool2d(minigrad.tensor(np.zeros((3, 3))), 2)
    with pytest.raises(ShapeError, match=r"max_pool1d: expected .*\(1, 1, 3, 3\)"):
        P.max_pool1d(x, 2)
    with pytest.raises(ShapeError, match="avg_pool2d: kernel_size"):
        F.avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ArgumentError, match="avg_pool2d: divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(DTypeError, match="avg_pool2d"):
        P.avg_pool2d(minigrad.tensor(np.zeros((1, 1, 3, 3), dtype=np.int64)), 2, ceil_mode=True)
    with pytest.raises(ShapeError, match=r"adaptive_avg_pool2d: output_size"):
        P.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ShapeError, match=r"adaptive_max_pool1d: output_size"):
        P.adaptive_max_pool1d(minigrad.tensor(np.zeros((1, 3))), (1, 2))
    with pytest.raises(ShapeError, match=r"adaptive_max_pool2d: expected .*\(2, 3, 4, 5, 6\)"):
        P.adaptive_max_pool2d(minigrad.tensor(np.zeros((2, 3, 4, 5, 6))), 2)
    out, idx = P.max_pool2d(x, 2, return_indices=True)
    with pytest.raises(ShapeError, match="max_unpool2d: found an index outside"):
        P.max_unpool2d(out, idx + 100, 2)
    with pytest.raises(ShapeError, match=r"max_unpool2d: output_size \(4, 2\) is not possible .* of \(2, 2\)"):
        P.max_unpool2d(out, idx, 2, output_size=(4, 2))  # PyTorch's range: (0, 4) exclusive for stride 2
    with pytest.raises(ShapeError, match="max_unpool2d: indices of shape"):
        P.max_unpool2d(out, idx[..., :0], 2)


def test_a_failed_call_leaves_the_graph_usable():
    t = minigrad.tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    y = P.max_pool2d(t, 2, ceil_mode=True)
    with pytest.raises(ShapeError):
        P.max_pool2d(y, 9)
    y.sum().backward()
    assert t.grad.numpy().sum() == 4


def test_float32_stays_float32(device):
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((2, 3, 5, 5)).astype(np.float32), device=device,
                        requires_grad=True)  # fmt: skip
    outs = [P.max_pool2d(x, 2, ceil_mode=True), P.avg_pool2d(x, 3, 2, 1, True, False), P.adaptive_avg_pool2d(x, 2),
            P.adaptive_max_pool2d(x, (3, None))]  # fmt: skip
    sum(o.sum() for o in outs).backward()
    assert all(o.dtype == np.float32 for o in outs) and x.grad.dtype == np.float32
    assert x.grad.device == x.device

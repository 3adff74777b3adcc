"""conv1d, padding='same'/'valid', conv_transpose1d/2d and PyTorch's fold/unfold (minigrad.ops.conv_transpose).

These are compositions of conv.py's primitives, so they have no op-table
records: each is checked here against a direct NumPy loop over the formula
(every output element summed term by term), by gradcheck in float64 on
hypothesis geometries (stride, padding, dilation, groups, output_padding,
bias or none), by second order through ``create_graph``, in float32, with
empty batches, and on bad input (errors that name the op and the shapes).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from ophelpers import arrays, check_second_order, with_device

import minigrad
import minigrad.nn.functional as F
from minigrad.ops.conv import same_padding


def _t(a, dtype=np.float64, requires_grad=False, device="cpu"):
    return minigrad.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad, device=device)


def _np(t):
    return np.asarray(minigrad.backend.to_device(t.array, "cpu"))


def _pair(v, n=2):
    return (v,) * n if isinstance(v, int) else tuple(v)


# --- references: direct loops over the formulas ---------------------------------------------------------------


def conv_nd_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, i...] = b[o] + sum_{c in o's group, a...} x[n, c, i*s + a*d - p_lo] * w[o, c, a...], where x
    is read as zero outside its bounds; ``padding`` is an int, a tuple or 'valid' / 'same' (left d(k-1)//2)."""
    dims = x.ndim - 2
    kernel = w.shape[2:]
    stride, dilation = _pair(stride, dims), _pair(dilation, dims)
    if padding == "valid":
        lo = hi = (0,) * dims
    elif padding == "same":
        lo = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation))
        hi = tuple(d * (k - 1) - left for k, d, left in zip(kernel, dilation, lo))
    else:
        lo = hi = _pair(padding, dims)
    sizes = x.shape[2:]
    outs = [
        (s + a + e - d * (k - 1) - 1) // st + 1 for s, a, e, k, st, d in zip(sizes, lo, hi, kernel, stride, dilation)
    ]
    n, o = x.shape[0], w.shape[0]
    cg, og = w.shape[1], o // groups
    out = np.zeros((n, o, *outs))
    for idx in itertools.product(range(n), range(o), *(range(v) for v in outs)):
        nn_, oo, pos = idx[0], idx[1], idx[2:]
        g = oo // og
        total = 0.0 if b is None else b[oo]
        for c in range(cg):
            for offs in itertools.product(*(range(k) for k in kernel)):
                src = tuple(p * s + a * d - left for p, s, a, d, left in zip(pos, stride, offs, dilation, lo))
                if all(0 <= q < size for q, size in zip(src, sizes)):
                    total += x[(nn_, g * cg + c, *src)] * w[(oo, c, *offs)]
        out[idx] = total
    return out


def conv_transpose_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """out[n, g*og + o, i*s + a*d - p] += x[n, c, i] * w[c, o, a] for every input element and kernel offset
    (c in group g), of size (H - 1) s - 2 p + d (k - 1) + output_padding + 1, plus b."""
    dims = x.ndim - 2
    kernel = w.shape[2:]
    stride, padding = _pair(stride, dims), _pair(padding, dims)
    output_padding, dilation = _pair(output_padding, dims), _pair(dilation, dims)
    sizes = [
        (h - 1) * s - 2 * p + d * (k - 1) + op + 1
        for h, k, s, p, op, d in zip(x.shape[2:], kernel, stride, padding, output_padding, dilation)
    ]
    n, cin = x.shape[:2]
    og = w.shape[1]
    cg = cin // groups
    out = np.zeros((n, og * groups, *sizes))
    for idx in itertools.product(range(n), range(cin), *(range(v) for v in x.shape[2:])):
        nn_, c, pos = idx[0], idx[1], idx[2:]
        g = c // cg
        for o in range(og):
            for offs in itertools.product(*(range(k) for k in kernel)):
                dst = tuple(p * s + a * d - pd for p, s, a, d, pd in zip(pos, stride, offs, dilation, padding))
                if all(0 <= q < size for q, size in zip(dst, sizes)):
                    out[(nn_, g * og + o, *dst)] += x[idx] * w[(c, o, *offs)]
    if b is not None:
        out += b.reshape(1, -1, *(1,) * dims)
    return out


def unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    """out[n, c*kh*kw + a*kw + e, i*Wo + j] = x[n, c, i*s + a*d - p, j*s + e*d - p] (0 outside x)."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    n, c, h, w = x.shape
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c * kh * kw, ho * wo))
    for nn_, cc, a, e, i, j in itertools.product(range(n), range(c), range(kh), range(kw), range(ho), range(wo)):
        r, q = i * sh + a * dh - ph, j * sw + e * dw - pw
        if 0 <= r < h and 0 <= q < w:
            out[nn_, cc * kh * kw + a * kw + e, i * wo + j] = x[nn_, cc, r, q]
    return out


def fold_ref(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold_ref: each column element added back at the position unfold read it from."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (_pair(v) for v in (kernel_size, dilation, padding, stride))
    h, w = _pair(output_size)
    n = cols.shape[0]
    c = cols.shape[1] // (kh * kw)
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c, h, w))
    for nn_, cc, a, e, i, j in itertools.product(range(n), range(c), range(kh), range(kw), range(ho), range(wo)):
        r, q = i * sh + a * dh - ph, j * sw + e * dw - pw
        if 0 <= r < h and 0 <= q < w:
            out[nn_, cc, r, q] += cols[nn_, cc * kh * kw + a * kw + e, i * wo + j]
    return out


# --- geometries ------------------------------------------------------------------------------------------------


@st.composite
def conv1d_cases(draw):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k, length = draw(st.integers(1, 3)), draw(st.integers(3, 6))
    stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    padding = draw(st.sampled_from([0, 1, 2, "valid", "same"]))
    if padding == "same":
        stride = 1
    if padding in (0, "valid") and dilation * (k - 1) + 1 > length:
        dilation = 1
    x = draw(arrays((draw(st.integers(1, 2)), c_in, length)))
    w = draw(arrays((c_out, c_in // groups, k)))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    return x, w, b, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@st.composite
def same_cases(draw):
    """conv2d with padding 'same' or 'valid', even and odd kernels (odd extra padding on the right)."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = (draw(st.integers(4, 5)), draw(st.integers(4, 5)))
    padding = draw(st.sampled_from(["same", "same", "valid"]))
    if padding == "valid" and any(d * (k - 1) + 1 > s for d, k, s in zip(dilation, kernel, size)):
        dilation = (1, 1)
    x = draw(arrays((draw(st.integers(1, 2)), c_in, *size)))
    w = draw(arrays((c_out, c_in // groups, *kernel)))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    return x, w, b, {"padding": padding, "dilation": dilation, "groups": groups}


@st.composite
def transpose_cases(draw, dims=2):
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(dims))
    # output_padding below the stride or below the dilation (the second adds rows no window reaches)
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    size = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    out = [(h - 1) * s - 2 * p + d * (k - 1) + o + 1 for h, k, s, p, o, d in
           zip(size, kernel, stride, padding, output_padding, dilation)]  # fmt: skip
    if min(out) < 1:
        padding = (0,) * dims
    x = draw(arrays((draw(st.integers(1, 2)), c_in, *size)))
    w = draw(arrays((c_in, c_out // groups, *kernel)))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    params = {"stride": stride, "padding": padding, "output_padding": output_padding, "groups": groups,
              "dilation": dilation}  # fmt: skip
    if dims == 1:
        params = {key: v[0] if isinstance(v, tuple) else v for key, v in params.items()}
    return x, w, b, params


@st.composite
def window_cases(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 1)), draw(st.integers(0, 1)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    size = (draw(st.integers(3, 5)), draw(st.integers(3, 5)))
    if any(s + 2 * p < d * (k - 1) + 1 for s, p, d, k in zip(size, padding, dilation, kernel)):
        dilation = (1, 1)
    x = draw(arrays((draw(st.integers(1, 2)), draw(st.integers(1, 2)), *size)))
    return x, {"kernel_size": kernel, "dilation": dilation, "padding": padding, "stride": stride}


def _args(w, b):
    return (w,) if b is None else (w, b)


# --- conv1d ----------------------------------------------------------------------------------------------------


@settings(with_device, max_examples=25, deadline=None)
@given(case=conv1d_cases())
def test_conv1d_forward_matches_the_loop_formula(case, device):
    x, w, b, p = case
    out = F.conv1d(_t(x, device=device), _t(w, device=device), None if b is None else _t(b, device=device), **p)
    np.testing.assert_allclose(_np(out), conv_nd_ref(x, w, b, **p), rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(case=conv1d_cases())
def test_conv1d_gradcheck(case):
    x, w, b, p = case
    check_gradients(lambda *t: F.conv1d(*t, **p), x, *_args(w, b))


def test_conv1d_second_order_and_unbatched():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 7)), rng.standard_normal((6, 2, 3)), rng.standard_normal(6)
    p = {"stride": 2, "padding": 1, "dilation": 2, "groups": 2}
    check_second_order(lambda *t: F.conv1d(*t, **p), x, w, b)
    single = F.conv1d(_t(x[1]), _t(w), _t(b), **p)
    assert single.shape == (6, 3)
    np.testing.assert_allclose(single.numpy(), conv_nd_ref(x[1:], w, b, **p)[0], rtol=1e-12, atol=1e-12)


def test_conv1d_float32_and_empty_batch():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 8)).astype(np.float32), rng.standard_normal((4, 3, 3)).astype(np.float32)
    out = F.conv1d(_t(x, np.float32), _t(w, np.float32), padding="same")
    assert out.dtype == np.float32 and out.shape == (2, 4, 8)
    np.testing.assert_allclose(out.numpy(), conv_nd_ref(x, w, padding="same"), rtol=1e-5, atol=1e-5)
    xe = _t(np.zeros((0, 3, 8)), requires_grad=True)
    we = _t(w, requires_grad=True)
    out = F.conv1d(xe, we, stride=2)
    assert out.shape == (0, 4, 3)
    out.sum().backward()
    assert xe.grad.shape == (0, 3, 8)
    np.testing.assert_array_equal(we.grad.numpy(), 0)


# --- conv2d padding='same' / 'valid' ---------------------------------------------------------------------------


@settings(with_device, max_examples=25, deadline=None)
@given(case=same_cases())
def test_conv2d_same_and_valid_match_the_loop_formula(case, device):
    x, w, b, p = case
    out = F.conv2d(_t(x, device=device), _t(w, device=device), None if b is None else _t(b, device=device), **p)
    if p["padding"] == "same":
        assert out.shape[2:] == x.shape[2:]
    np.testing.assert_allclose(_np(out), conv_nd_ref(x, w, b, **p), rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(case=same_cases())
def test_conv2d_same_gradcheck(case):
    x, w, b, p = case
    check_gradients(lambda *t: F.conv2d(*t, **p), x, *_args(w, b))


def test_same_padding_puts_the_odd_element_on_the_right():
    assert same_padding((4, 3), (1, 1)) == ((1, 1), (1, 0))  # total 3: 1 left, 2 right; total 2: 1 and 1
    assert same_padding((4, 2), (2, 3)) == ((3, 1), (0, 1))  # total 6: 3 and 3; total 3: 1 and 2
    x = np.arange(12.0).reshape(1, 1, 1, 12)
    w = np.zeros((1, 1, 1, 2))
    w[0, 0, 0, 0] = 1  # picks the left element of each window: a right-only pad leaves x unshifted
    np.testing.assert_array_equal(F.conv2d(_t(x), _t(w), padding="same").numpy(), x)


def test_conv2d_same_second_order():
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((1, 2, 4, 5)), rng.standard_normal((2, 2, 2, 3))
    check_second_order(lambda *t: F.conv2d(*t, padding="same", dilation=(1, 2)), x, w)


def test_padding_string_errors():
    x, w = _t(np.zeros((1, 1, 5, 5))), _t(np.zeros((1, 1, 3, 3)))
    with pytest.raises(minigrad.ArgumentError, match=r"conv2d: padding='same' is not supported for strided"):
        F.conv2d(x, w, padding="same", stride=2)
    with pytest.raises(minigrad.ArgumentError, match=r"conv2d: invalid padding string 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(minigrad.ArgumentError, match=r"conv1d: padding='same'"):
        F.conv1d(_t(np.zeros((1, 1, 5))), _t(np.zeros((1, 1, 3))), padding="same", stride=(2,))


def test_conv1d_errors_name_the_op_and_the_shapes():
    x, w = _t(np.zeros((1, 4, 5))), _t(np.zeros((6, 2, 3)))
    with pytest.raises(minigrad.ShapeError, match=r"conv1d: expected an \(N, C, L\).*\(1, 4, 5, 1\)"):
        F.conv1d(_t(np.zeros((1, 4, 5, 1))), w, groups=2)
    with pytest.raises(minigrad.ShapeError, match=r"conv1d: input of shape \(1, 4, 5\).*\(6, 2, 3\).*groups=1"):
        F.conv1d(x, w)
    with pytest.raises(minigrad.ShapeError, match=r"conv1d: weight must have shape"):
        F.conv1d(x, _t(np.zeros((6, 2, 3, 1))), groups=2)
    with pytest.raises(minigrad.ShapeError, match=r"conv1d: a kernel of 3 \(dilation 3\) does not fit"):
        F.conv1d(x, w, groups=2, dilation=3)
    with pytest.raises(minigrad.ShapeError, match=r"conv1d: bias must have shape \(6,\)"):
        F.conv1d(x, w, _t(np.zeros(4)), groups=2)


# --- conv_transpose2d / conv_transpose1d -----------------------------------------------------------------------


@settings(with_device, max_examples=25, deadline=None)
@given(case=transpose_cases())
def test_conv_transpose2d_forward_matches_the_scatter_formula(case, device):
    x, w, b, p = case
    out = F.conv_transpose2d(_t(x, device=device), _t(w, device=device),
                             None if b is None else _t(b, device=device), **p)  # fmt: skip
    np.testing.assert_allclose(_np(out), conv_transpose_ref(x, w, b, **p), rtol=1e-12, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(case=transpose_cases())
def test_conv_transpose2d_gradcheck(case):
    x, w, b, p = case
    check_gradients(lambda *t: F.conv_transpose2d(*t, **p), x, *_args(w, b))


@settings(max_examples=15, deadline=None)
@given(case=transpose_cases(dims=1))
def test_conv_transpose1d_forward_and_gradcheck(case):
    x, w, b, p = case
    out = F.conv_transpose1d(_t(x), _t(w), None if b is None else _t(b), **p)
    np.testing.assert_allclose(out.numpy(), conv_transpose_ref(x, w, b, **p), rtol=1e-12, atol=1e-12)
    check_gradients(lambda *t: F.conv_transpose1d(*t, **p), x, *_args(w, b))


def test_conv_transpose2d_is_the_adjoint_of_conv2d():
    """<conv2d(y, w), x> = <y, conv_transpose2d(x, w)> for every y, x: the transpose of the same linear map."""
    rng = np.random.default_rng(3)
    p = {"stride": (2, 3), "padding": (1, 0), "dilation": (1, 2), "groups": 2}
    w = rng.standard_normal((4, 3, 3, 2))
    y = rng.standard_normal((2, 6, 8, 9))
    conv = F.conv2d(_t(y), _t(w), **p).numpy()
    x = rng.standard_normal(conv.shape)
    sizes = [(h - 1) * s - 2 * pd + d * (k - 1) + 1 for h, k, s, pd, d in
             zip(x.shape[2:], w.shape[2:], p["stride"], p["padding"], p["dilation"])]  # fmt: skip
    op = tuple(s - v for s, v in zip(y.shape[2:], sizes))  # the rows conv2d's stride dropped
    back = F.conv_transpose2d(_t(x), _t(w), output_padding=op, **p).numpy()
    assert back.shape == y.shape
    np.testing.assert_allclose(np.vdot(conv, x), np.vdot(y, back), rtol=1e-12)


def test_conv_transpose2d_second_order():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 2, 3, 2)), rng.standard_normal((2, 2, 3, 2)), rng.standard_normal(4)
    p = {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2, "dilation": (1, 2)}
    check_second_order(lambda *t: F.conv_transpose2d(*t, **p), x, w, b)


def test_conv_transpose2d_float32_unbatched_and_empty_batch():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 4, 5)).astype(np.float32), rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    out = F.conv_transpose2d(_t(x, np.float32), _t(w, np.float32), stride=2)
    assert out.dtype == np.float32 and out.shape == (2, 9, 11)
    np.testing.assert_allclose(out.numpy(), conv_transpose_ref(x[None], w, stride=2)[0], rtol=1e-5, atol=1e-5)
    xe, we = _t(np.zeros((0, 3, 4, 5)), requires_grad=True), _t(w, requires_grad=True)
    out = F.conv_transpose2d(xe, we, stride=2)
    assert out.shape == (0, 2, 9, 11)
    out.sum().backward()
    assert xe.grad.shape == (0, 3, 4, 5)
    np.testing.assert_array_equal(we.grad.numpy(), 0)


def test_conv_transpose2d_sees_an_in_place_change_of_its_input():
    x = _t(np.ones((1, 2, 3, 3)), requires_grad=True)
    w = _t(np.ones((2, 1, 2, 2)), requires_grad=True)
    y = x * 2
    out = F.conv_transpose2d(y, w)
    y.add_(1)  # the weight gradient reads y: backward must refuse instead of using the changed values
    with pytest.raises(minigrad.GraphError, match="conv2d_input_grad"):
        out.sum().backward()


def test_conv_transpose_errors_name_the_op_and_the_shapes():
    x, w = _t(np.zeros((1, 4, 5, 5))), _t(np.zeros((4, 3, 3, 3)))
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: output padding must be smaller than either "
                                                  r"stride or dilation.*\(2, 2\).*stride \(2, 2\)"):  # fmt: skip
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    F.conv_transpose2d(x, w, stride=1, output_padding=1, dilation=2)  # below the dilation: allowed
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: input of shape \(1, 4, 5, 5\).*groups=3"):
        F.conv_transpose2d(x, _t(np.zeros((4, 1, 3, 3))), groups=3)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: input of shape \(1, 2, 5, 5\)"):
        F.conv_transpose2d(_t(np.zeros((1, 2, 5, 5))), w)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: expected an \(N, C_in, H, W\).*\(4, 5\)"):
        F.conv_transpose2d(_t(np.zeros((4, 5))), w)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: bias must have shape \(3,\)"):
        F.conv_transpose2d(x, w, _t(np.zeros(4)))
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose2d: the output .* would have size"):
        F.conv_transpose2d(_t(np.zeros((1, 4, 1, 1))), _t(np.zeros((4, 3, 1, 1))), padding=1)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose1d: output padding must be smaller"):
        F.conv_transpose1d(_t(np.zeros((1, 4, 5))), _t(np.zeros((4, 3, 3))), output_padding=1)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose1d: groups must be positive, got 0"):
        F.conv_transpose1d(_t(np.zeros((1, 4, 5))), _t(np.zeros((4, 3, 3))), groups=0)
    with pytest.raises(minigrad.ShapeError, match=r"conv_transpose1d: expected an \(N, C_in, L\)"):
        F.conv_transpose1d(x, _t(np.zeros((4, 3, 3))))


# --- unfold / fold ---------------------------------------------------------------------------------------------


@settings(with_device, max_examples=25, deadline=None)
@given(case=window_cases())
def test_unfold_and_fold_match_the_loop_formulas(case, device):
    x, p = case
    cols = F.unfold(_t(x, device=device), **p)
    np.testing.assert_array_equal(_np(cols), unfold_ref(x, **p))
    rng = np.random.default_rng(0)
    c = rng.standard_normal(cols.shape)
    folded = F.fold(_t(c, device=device), x.shape[2:], **p)
    np.testing.assert_allclose(_np(folded), fold_ref(c, x.shape[2:], **p), rtol=1e-12, atol=1e-12)
    # each is the other's adjoint: <unfold(x), c> = <x, fold(c)>
    np.testing.assert_allclose(np.vdot(_np(cols), c), np.vdot(x, _np(folded)), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(case=window_cases())
def test_unfold_and_fold_gradcheck(case):
    x, p = case
    check_gradients(lambda t: F.unfold(t, **p), x)
    cols = unfold_ref(x, **p)
    check_gradients(lambda t: F.fold(t, x.shape[2:], **p), cols)


def test_unfold_fold_second_order_unbatched_and_float32():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 2, 4, 5))
    p = {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}
    check_second_order(lambda t: F.unfold(t, **p), x)
    check_second_order(lambda t: F.fold(t, (4, 5), **p), unfold_ref(x, **p))
    single = F.unfold(_t(x[0], np.float32), **p)
    assert single.dtype == np.float32 and single.shape == unfold_ref(x, **p).shape[1:]
    back = F.fold(single, (4, 5), **p)
    assert back.shape == (2, 4, 5)
    np.testing.assert_allclose(back.numpy(), fold_ref(unfold_ref(x, **p), (4, 5), **p)[0], rtol=1e-5)


def test_fold_and_unfold_errors():
    with pytest.raises(minigrad.ShapeError, match=r"unfold: expected an \(N, C, H, W\).*\(3, 4\)"):
        F.unfold(_t(np.zeros((3, 4))), 2)
    with pytest.raises(minigrad.ShapeError, match=r"unfold: .*does not fit"):
        F.unfold(_t(np.zeros((1, 1, 2, 2))), 3)
    with pytest.raises(minigrad.ShapeError, match=r"fold: dimension 1 of the input of shape \(1, 5, 4\)"):
        F.fold(_t(np.zeros((1, 5, 4))), (3, 3), 2)
    with pytest.raises(minigrad.ShapeError, match=r"fold: output_size \(3, 3\).*2 x 2 blocks.*\(1, 4, 5\) has 5"):
        F.fold(_t(np.zeros((1, 4, 5))), (3, 3), 2)
    with pytest.raises(minigrad.ShapeError, match=r"fold: kernel_size, dilation and stride must be positive"):
        F.fold(_t(np.zeros((1, 4, 4))), (3, 3), 2, stride=0)

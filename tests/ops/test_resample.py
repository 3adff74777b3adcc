"""minigrad.ops.resample: F.interpolate in every mode against loops over PyTorch's source-index rule,
F.pad in every mode (negative widths crop) against np.pad, pixel_shuffle / pixel_unshuffle against
their index formula; gradcheck in float64 on hypothesis shapes (incl. empty batches), second order,
errors that name the op and leave inputs and graph intact."""

import math

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError, DTypeError, ShapeError

SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}

# --- the reference: PyTorch's source-index rule, one output position at a time -----------------------


def ref_scale(in_size, out_size, scale_factor):
    """The scale PyTorch's kernels use: 1 / scale_factor when one is passed on, else in / out."""
    return 1.0 / scale_factor if scale_factor is not None else in_size / out_size


def ref_nearest_index(d, in_size, out_size, scale_factor, exact, spatial):
    if not exact and spatial == 2 and out_size == in_size:
        return d
    if not exact and spatial == 2 and out_size == 2 * in_size:
        return d // 2
    scale = np.float32(ref_scale(in_size, out_size, scale_factor))
    pos = (np.float32(d) + np.float32(0.5)) * scale if exact else np.float32(d) * scale
    return min(int(math.floor(pos)), in_size - 1)


def keys_cubic(s, a=-0.75):
    """Keys' cubic convolution kernel W(s) (A = -0.75, as PyTorch)."""
    s = abs(s)
    if s <= 1:
        return (a + 2) * s**3 - (a + 3) * s**2 + 1
    if s < 2:
        return a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a
    return 0.0


def ref_axis_weights(in_size, out_size, mode, align_corners, scale_factor, spatial):
    """Row d: the weight of every source element in output d along one axis (loops, no vectorisation)."""
    w = np.zeros((out_size, in_size))
    if out_size == in_size and mode in ("linear", "bilinear", "trilinear"):
        return np.eye(in_size)  # PyTorch's kernels copy an axis whose size is unchanged
    for d in range(out_size):
        if mode in ("nearest", "nearest-exact"):
            w[d, ref_nearest_index(d, in_size, out_size, scale_factor, mode == "nearest-exact", spatial)] = 1.0
        elif mode == "area":
            lo, hi = (d * in_size) // out_size, -(-((d + 1) * in_size) // out_size)
            w[d, lo:hi] = 1.0 / (hi - lo)
        else:
            if align_corners:
                src = d * (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
            else:
                src = ref_scale(in_size, out_size, scale_factor) * (d + 0.5) - 0.5
                if mode != "bicubic":
                    src = max(src, 0.0)
            base = math.floor(src)
            t = src - base
            if mode == "bicubic":
                for off in (-1, 0, 1, 2):
                    w[d, min(max(base + off, 0), in_size - 1)] += keys_cubic(t - off)
            else:
                w[d, base] += 1 - t
                w[d, min(base + 1, in_size - 1)] += t
    return w


def ref_interpolate(x, size, scale_factor, mode, align_corners=None, recompute=None):
    spatial = x.ndim - 2
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int) else tuple(size)
        factors = (None,) * spatial
    else:
        factors = (scale_factor,) * spatial if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        sizes = tuple(math.floor(n * f) for n, f in zip(x.shape[2:], factors))
        if recompute:
            factors = (None,) * spatial
    out = x
    for k in range(spatial):
        w = ref_axis_weights(x.shape[2 + k], sizes[k], mode, bool(align_corners), factors[k], spatial)
        out = np.moveaxis(np.tensordot(out, w, axes=([2 + k], [1])), -1, 2 + k)
    return out


# --- interpolate: values --------------------------------------------------------------------------------


@st.composite
def resize_case(draw, modes=("nearest", "nearest-exact", "area", "linear", "bilinear", "bicubic", "trilinear")):
    mode = draw(st.sampled_from(modes))
    spatial = SPATIAL.get(mode) or draw(st.integers(1, 3))
    in_sizes = tuple(draw(st.integers(1, 6 if spatial < 3 else 4)) for _ in range(spatial))
    align = draw(st.sampled_from([None, False, True])) if mode in SPATIAL else None
    if draw(st.booleans()):
        size = tuple(draw(st.integers(1, 9 if spatial < 3 else 5)) for _ in range(spatial))
        if draw(st.booleans()) and len(set(size)) == 1:
            size = size[0]
        return (draw(st.integers(0, 2)), 2) + in_sizes, mode, align, size, None, None
    factors = draw(st.lists(st.sampled_from([0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0, 1 / 3]), min_size=spatial,
                            max_size=spatial))  # fmt: skip
    in_sizes = tuple(max(n, math.ceil(1 / f)) for n, f in zip(in_sizes, factors))  # at least one output each
    recompute = draw(st.sampled_from([None, False, True]))
    sf = factors[0] if draw(st.booleans()) and len(set(factors)) == 1 else tuple(factors)
    return (draw(st.integers(0, 2)), 2) + in_sizes, mode, align, None, sf, recompute


@settings(max_examples=40)
@given(resize_case(), st.integers(0, 10**6))
def test_interpolate_matches_the_source_index_rule(case, seed):
    shape, mode, align, size, sf, recompute = case
    x = np.random.default_rng(seed).standard_normal(shape)
    out = F.interpolate(minigrad.tensor(x), size, sf, mode, align, recompute)
    want = ref_interpolate(x, size, sf, mode, align, recompute)
    assert out.shape == want.shape
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)


def test_interpolate_worked_examples():
    """Hand-computed numbers for the rules that differ between modes."""
    x = minigrad.tensor(np.array([[[0.0, 10.0, 20.0]]]))
    # align_corners=False, 3 -> 5: src = 0.6 d - 0.2, clamped at 0: 0, 0.4, 1.0, 1.6, 2.2 -> clamp to the end
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear").numpy()[0, 0], [0, 4, 10, 16, 20])
    # align_corners=True, 3 -> 5: src = d / 2
    np.testing.assert_allclose(F.interpolate(x, size=5, mode="linear", align_corners=True).numpy()[0, 0],
                               [0, 5, 10, 15, 20])  # fmt: skip
    # nearest, 3 -> 5: floor(0.6 d) = 0, 0, 1, 1, 2; nearest-exact: floor(0.6 (d + 0.5)) = 0, 0, 1, 2, 2
    np.testing.assert_array_equal(F.interpolate(x, size=5).numpy()[0, 0], [0, 0, 10, 10, 20])
    np.testing.assert_array_equal(F.interpolate(x, size=5, mode="nearest-exact").numpy()[0, 0], [0, 0, 10, 20, 20])
    # area, 3 -> 2: bins [0, 2) and [1, 3)
    np.testing.assert_allclose(F.interpolate(x, size=2, mode="area").numpy()[0, 0], [5, 15])
    # a scale factor is used as given: 3 * 1.5 -> 4 outputs, src = (d + 0.5) / 1.5 - 0.5
    got = F.interpolate(x, scale_factor=1.5, mode="linear").numpy()[0, 0]
    np.testing.assert_allclose(got, [0, 5, 10 * (2.5 / 1.5 - 0.5), 10 * (3.5 / 1.5 - 0.5)])
    # ... unless recompute_scale_factor=True: then in / out = 3 / 4
    got = F.interpolate(x, scale_factor=1.5, mode="linear", recompute_scale_factor=True).numpy()[0, 0]
    np.testing.assert_allclose(got, [0, 10 * (0.75 * 1.5 - 0.5), 10 * (0.75 * 2.5 - 0.5), 20])
    # bicubic on a ramp, align_corners=True (src = d / 2): Keys' kernel reproduces a linear function where all
    # four taps are inside; at src 0.5 the tap at -1 is clamped to 0: W(0.5) 1 + W(1.5) 2 with
    # W(0.5) = 0.59375, W(1.5) = -0.09375
    ramp = minigrad.tensor(np.tile(np.arange(4.0), (1, 1, 4, 1)))
    got = F.interpolate(ramp, size=(4, 7), mode="bicubic", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(got[:, 2:5], np.tile([1.0, 1.5, 2.0], (4, 1)), atol=1e-12)
    np.testing.assert_allclose(got[:, 1], 0.59375 - 2 * 0.09375, atol=1e-12)
    np.testing.assert_allclose(got[:, [0, 6]], np.tile([0.0, 3.0], (4, 1)), atol=1e-12)


def test_interpolate_downsampling_and_non_integer_scales_in_2d_and_3d():
    rng = np.random.default_rng(3)
    cases = [("bilinear", (1, 2, 7, 5)), ("bicubic", (2, 1, 6, 7)), ("trilinear", (1, 1, 5, 4, 6)),
             ("nearest", (1, 2, 7, 5)), ("nearest-exact", (1, 1, 5, 4, 6)), ("area", (1, 2, 9, 7))]  # fmt: skip
    for mode, shape in cases:
        x = rng.standard_normal(shape)
        for align in [None, True] if mode in SPATIAL else [None]:
            for sf in (0.5, 0.7, 1.7, 2.0):
                got = F.interpolate(minigrad.tensor(x), scale_factor=sf, mode=mode, align_corners=align).numpy()
                np.testing.assert_allclose(got, ref_interpolate(x, None, sf, mode, align), rtol=1e-12, atol=1e-12)


def test_upsample_aliases_and_unchanged_nearest_copies():
    x = minigrad.tensor(np.random.default_rng(0).standard_normal((1, 2, 3, 4)))
    np.testing.assert_array_equal(F.upsample_nearest(x, scale_factor=2).numpy(),
                                  F.interpolate(x, scale_factor=2).numpy())  # fmt: skip
    np.testing.assert_array_equal(F.upsample_bilinear(x, size=(5, 6)).numpy(),
                                  F.interpolate(x, (5, 6), mode="bilinear", align_corners=True).numpy())  # fmt: skip
    np.testing.assert_array_equal(F.upsample(x, size=(5, 6), mode="bicubic").numpy(),
                                  F.interpolate(x, (5, 6), mode="bicubic").numpy())  # fmt: skip
    same = F.interpolate(x, size=(3, 4))
    assert same is not x
    np.testing.assert_array_equal(same.numpy(), x.numpy())
    xi = minigrad.tensor(np.arange(6).reshape(1, 1, 2, 3))
    out = F.interpolate(xi, scale_factor=2)  # the nearest modes keep integer dtypes (a gather)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.arange(6).reshape(2, 3).repeat(2, 0).repeat(2, 1)[None, None])


def test_interpolate_float32_and_device(device):
    x = minigrad.tensor(np.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(np.float32), device=device,
                        requires_grad=True)  # fmt: skip
    outs = [F.interpolate(x, size=(7, 3), mode=m) for m in ("nearest", "nearest-exact", "bilinear", "bicubic", "area")]
    sum(o.sum() for o in outs).backward()
    assert all(o.dtype == np.float32 and o.device == x.device for o in outs)
    assert x.grad.dtype == np.float32 and x.grad.device == x.device
    want = ref_interpolate(x.numpy().astype(np.float64), (7, 3), None, "bicubic")
    np.testing.assert_allclose(outs[3].numpy(), want, rtol=1e-5, atol=1e-5)


# --- interpolate: gradients -----------------------------------------------------------------------------


@settings(max_examples=30)
@given(resize_case(), st.integers(0, 10**6))
def test_interpolate_gradcheck(case, seed):
    shape, mode, align, size, sf, recompute = case
    x = np.random.default_rng(seed).standard_normal(shape[:1] + (1,) + shape[2:])
    check_gradients(lambda t: F.interpolate(t, size, sf, mode, align, recompute), x)


@pytest.mark.parametrize(
    "mode, shape, size, align",
    [("nearest", (1, 1, 3, 2), (5, 3), None), ("nearest-exact", (1, 2, 4), 3, None),
     ("area", (1, 1, 5, 4), (2, 3), None), ("linear", (2, 1, 4), 7, False), ("bilinear", (1, 1, 3, 4), (5, 2), True),
     ("bicubic", (1, 1, 4, 3), (3, 5), False), ("trilinear", (1, 1, 2, 3, 2), (3, 2, 4), True)],
)  # fmt: skip
def test_interpolate_second_order(mode, shape, size, align):
    from ophelpers import check_second_order

    x = np.random.default_rng(0).standard_normal(shape)
    check_second_order(lambda t: F.interpolate(t, size, mode=mode, align_corners=align), x)


# --- pad --------------------------------------------------------------------------------------------------


def ref_pad(x, pad, mode, value=0.0):
    """PyTorch's F.pad with np.pad: constant and circular crop first, reflect and replicate crop the padded
    array (out[j] = x[map(j - before)], which is the same thing for them)."""
    pairs = [(pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]
    widths = [(0, 0)] * x.ndim
    crops = [slice(None)] * x.ndim
    for k, (b, a) in enumerate(pairs):
        widths[x.ndim - 1 - k] = (max(b, 0), max(a, 0))
        crops[x.ndim - 1 - k] = (max(-b, 0), max(-a, 0))
    cut = tuple(slice(c[0], None if c[1] == 0 else -c[1]) if isinstance(c, tuple) else c for c in crops)
    if mode in ("constant", "circular"):
        x = x[cut]
        if mode == "constant":
            return np.pad(x, widths, mode="constant", constant_values=value)
        return np.pad(x, widths, mode="wrap")
    padded = np.pad(x, widths, mode="reflect" if mode == "reflect" else "edge")
    lens = list(padded.shape)
    cut = tuple(slice(c[0], lens[d] - c[1]) if isinstance(c, tuple) else c for d, c in enumerate(crops))
    return padded[cut]


@st.composite
def pad_case(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    pairs = draw(st.integers(1, 3))
    if mode == "constant":
        ndim = draw(st.integers(pairs, 4))
    else:
        ndim = pairs + draw(st.integers(1, 2))
    shape = tuple(draw(st.integers(0, 2)) for _ in range(ndim - pairs)) + tuple(
        draw(st.integers(1, 4)) for _ in range(pairs)
    )
    pad = []
    for k in range(pairs):
        size = shape[-1 - k]
        if mode == "reflect":
            hi = size - 1
        elif mode == "circular":
            hi = size
        else:
            hi = 3
        before = draw(st.integers(-size + 1 if mode != "constant" else -size, hi))
        kept = size - max(-before, 0)
        lo_after = -(size + before) + 1 if mode != "constant" else -kept
        if mode == "circular":
            lo_after = max(lo_after, -kept + max(before, 0))  # leading wrap within what is kept
        after = draw(st.integers(min(lo_after, hi), hi))
        pad += [before, after]
    return shape, tuple(pad), mode


@settings(max_examples=40)
@given(pad_case(), st.integers(0, 10**6))
def test_pad_every_mode_matches_np_pad_with_cropping(case, seed):
    shape, pad, mode = case
    x = np.random.default_rng(seed).standard_normal(shape)
    want = ref_pad(x, pad, mode, 0.5 if mode == "constant" else 0.0)
    got = F.pad(minigrad.tensor(x), pad, mode, 0.5 if mode == "constant" else None)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)


@settings(max_examples=40)
@given(pad_case(), st.integers(0, 10**6))
def test_pad_gradcheck(case, seed):
    shape, pad, mode = case
    x = np.random.default_rng(seed).standard_normal(shape)
    check_gradients(lambda t: F.pad(t, pad, mode), x)


def test_pad_worked_examples_with_negative_and_mixed_widths():
    x = minigrad.tensor(np.array([[[1.0, 2.0, 3.0, 4.0]]]))

    def row(pad, mode):
        return F.pad(x, pad, mode).numpy()[0, 0].tolist()

    assert row((2, 1), "reflect") == [3, 2, 1, 2, 3, 4, 3]
    assert row((-1, 3), "reflect") == [2, 3, 4, 3, 2, 1]
    assert row((-4, 1), "reflect") == [3]
    assert row((2, 1), "replicate") == [1, 1, 1, 2, 3, 4, 4]
    assert row((-3, 4), "replicate") == [4, 4, 4, 4, 4]
    assert row((2, -2), "circular") == [1, 2, 1, 2]  # crop, then wrap what is left
    assert row((-1, 3), "circular") == [2, 3, 4, 2, 3, 4]
    assert row((-2, -2), "circular") == []
    assert row((1, -2), "constant") == [0, 1, 2]
    y = minigrad.tensor(np.arange(12.0).reshape(1, 3, 4))
    np.testing.assert_array_equal(F.pad(y, (1, -1, -1, 1), "replicate").numpy()[0],
                                  [[4, 4, 5, 6], [8, 8, 9, 10], [8, 8, 9, 10]])  # fmt: skip
    np.testing.assert_array_equal(F.pad(y, (1, 1), value=-1.0).numpy()[0, 0], [-1, 0, 1, 2, 3, -1])


def test_pad_second_order():
    from ophelpers import check_second_order

    x = np.random.default_rng(0).standard_normal((1, 2, 3, 4))
    for mode in ("constant", "reflect", "replicate", "circular"):
        check_second_order(lambda t, m=mode: F.pad(t, (2, -1, 1, 2), m), x)


# --- pixel shuffles ---------------------------------------------------------------------------------------


def ref_pixel_shuffle(x, r):
    *lead, c, h, w = x.shape
    out = np.zeros((*lead, c // (r * r), h * r, w * r))
    for ch in range(c // (r * r)):
        for i in range(r):
            for j in range(r):
                out[..., ch, i::r, j::r] = x[..., ch * r * r + i * r + j, :, :]
    return out


@settings(max_examples=30)
@given(st.integers(1, 3), st.lists(st.integers(0, 2), max_size=2), st.integers(1, 2), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 10**6))  # fmt: skip
def test_pixel_shuffle_formula_roundtrip_and_gradcheck(r, lead, c, h, w, seed):
    x = np.random.default_rng(seed).standard_normal((*lead, c * r * r, h, w))
    out = F.pixel_shuffle(minigrad.tensor(x), r)
    np.testing.assert_array_equal(out.numpy(), ref_pixel_shuffle(x, r))
    np.testing.assert_array_equal(F.pixel_unshuffle(out, r).numpy(), x)
    y = np.random.default_rng(seed + 1).standard_normal((*lead, c, h * r, w * r))
    np.testing.assert_array_equal(F.pixel_shuffle(F.pixel_unshuffle(minigrad.tensor(y), r), r).numpy(), y)
    check_gradients(lambda t: F.pixel_shuffle(t, r), x)
    check_gradients(lambda t: F.pixel_unshuffle(t, r), y)


# --- errors -----------------------------------------------------------------------------------------------


def test_interpolate_errors_name_the_op_and_leave_the_input_alone():
    raw = np.random.default_rng(0).standard_normal((1, 2, 3, 3))
    x = minigrad.tensor(raw.copy(), requires_grad=True)
    y = x * 2
    cases = [
        (ArgumentError, "interpolate: mode must be one of", dict(size=4, mode="cubic")),
        (ArgumentError, "interpolate: align_corners option", dict(size=4, mode="nearest", align_corners=True)),
        (ArgumentError, "interpolate: align_corners option", dict(size=4, mode="area", align_corners=False)),
        (ArgumentError, "interpolate: antialias=True is not supported", dict(size=4, mode="bilinear", antialias=True)),
        (ArgumentError, "interpolate: only one of size or scale_factor", dict(size=4, scale_factor=2)),
        (ArgumentError, "interpolate: either size or scale_factor", dict()),
        (ShapeError, r"interpolate: got 4D input, but linear mode needs 3D input", dict(size=4, mode="linear")),
        (ShapeError, r"interpolate: got 4D input, but trilinear mode needs 5D", dict(size=4, mode="trilinear")),
        (ShapeError, r"interpolate: size \(4, 4, 4\) must be an int or hold one int", dict(size=(4, 4, 4))),
        (ShapeError, r"interpolate: scale_factor \(2, 2, 2\)", dict(scale_factor=(2, 2, 2))),
        (ShapeError, "interpolate: output sizes must be positive", dict(size=(0, 3))),
        (ShapeError, r"interpolate: scale_factor 0.1 gives output sizes \(0, 0\)", dict(scale_factor=0.1)),
    ]
    for err, msg, kwargs in cases:
        with pytest.raises(err, match=msg):
            F.interpolate(y, **kwargs)
    with pytest.raises(ShapeError, match=r"interpolate: expected a 3-D, 4-D or 5-D .* shape \(2, 3\)"):
        F.interpolate(minigrad.tensor(np.zeros((2, 3))), size=4)
    with pytest.raises(ShapeError, match="interpolate: got 3D input, but bilinear mode needs 4D"):
        F.interpolate(minigrad.tensor(np.zeros((1, 2, 3))), size=4, mode="bilinear")
    with pytest.raises(DTypeError, match="interpolate: mode 'bilinear' needs a floating-point input"):
        F.interpolate(minigrad.tensor(np.zeros((1, 1, 2, 2), dtype=np.int64)), size=4, mode="bilinear")
    with pytest.raises(ShapeError, match="interpolate: expected non-empty spatial dimensions"):
        F.interpolate(minigrad.tensor(np.zeros((1, 1, 0, 2))), size=4)
    np.testing.assert_array_equal(x.numpy(), raw)
    y.sum().backward()  # the graph is intact
    np.testing.assert_array_equal(x.grad.numpy(), np.full(raw.shape, 2.0))


def test_pad_and_shuffle_errors_name_the_op_and_leave_the_input_alone():
    raw = np.arange(12.0).reshape(1, 3, 4)
    x = minigrad.tensor(raw.copy(), requires_grad=True)
    y = x * 1
    cases = [
        (ShapeError, "pad: padding length must be divisible by 2", ((1, 2, 3), "constant")),
        (ShapeError, r"pad: \(1, 1, 1, 1, 1, 1, 1, 1\) holds 4 \(before, after\) pairs for an input of 3",
         ((1,) * 8, "constant")),
        (ArgumentError, "pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got 'symmetric'",
         ((1, 1), "symmetric")),
        (ShapeError, r"pad: reflect padding \(4, 0\) must be less than the size 4 of dimension 2", ((4, 0), "reflect")),
        (ShapeError, r"pad: reflect padding \(0, 3\) must be less than the size 3 of dimension 1",
         ((0, 0, 0, 3), "reflect")),
        (ShapeError, r"pad: circular padding \(5, 0\) of dimension 2 .* would wrap around more than once",
         ((5, 0), "circular")),
        (ShapeError, r"pad: circular padding \(3, -2\)", ((3, -2), "circular")),
        (ShapeError, r"pad: reflect padding of 3 dimension\(s\) \(len\(pad\) 6\) needs a 4-D or 5-D input",
         ((1,) * 6, "reflect")),
        (ShapeError, r"padded by \(-3, -1\) on dimension 2 gives size 0", ((-3, -1), "replicate")),
        (ShapeError, r"pad: the input size 4 of dimension 2, plus negative padding \(-3, -2\)",
         ((-3, -2), "constant")),
    ]  # fmt: skip
    for err, msg, (pad, mode) in cases:
        with pytest.raises(err, match=msg):
            F.pad(y, pad, mode)
    with pytest.raises(ArgumentError, match='pad: padding mode "reflect" doesn\'t take in value argument'):
        F.pad(y, (1, 1), "reflect", 2.0)
    with pytest.raises(ShapeError, match=r"pad: replicate padding of 1 dimension.* got shape \(4,\)"):
        F.pad(minigrad.tensor(np.zeros(4)), (1, 1), "replicate")
    with pytest.raises(ShapeError, match=r"pixel_shuffle: the channel dimension 3 .* upscale_factor squared \(4\)"):
        F.pixel_shuffle(y.reshape(3, 2, 2), 2)
    with pytest.raises(ShapeError, match=r"pixel_unshuffle: the height 3 and width 4"):
        F.pixel_unshuffle(y, 2)
    with pytest.raises(ShapeError, match=r"pixel_shuffle: expected an input of at least 3 dimensions"):
        F.pixel_shuffle(minigrad.tensor(np.zeros((4, 4))), 2)
    with pytest.raises(ArgumentError, match="pixel_unshuffle: downscale_factor must be a positive int, got 0"):
        F.pixel_unshuffle(y, 0)
    with pytest.raises(ArgumentError, match="pixel_shuffle: upscale_factor must be a positive int, got 1.5"):
        F.pixel_shuffle(y, 1.5)
    np.testing.assert_array_equal(x.numpy(), raw)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(raw.shape))


def test_a_non_finite_input_reaches_only_the_outputs_that_read_it():
    """As in PyTorch's kernels: an inf spreads to the outputs whose taps (or windows) hold it and no further
    (a dense (out, in) matrix product would make whole rows nan as inf * 0)."""
    x = np.zeros((1, 1, 5, 6))
    x[0, 0, 2, 3] = np.inf
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
        size = (8, 9) if mode != "area" else (3, 4)  # 5 -> 8, 6 -> 9: no bicubic tap of weight exactly 0
        out = F.interpolate(minigrad.tensor(x), size, mode=mode).numpy()[0, 0]
        rows = ref_axis_weights(5, size[0], mode, False, None, 2)[:, 2] != 0
        cols = ref_axis_weights(6, size[1], mode, False, None, 2)[:, 3] != 0
        np.testing.assert_array_equal(~np.isfinite(out), rows[:, None] & cols[None, :], err_msg=mode)
        assert np.isfinite(out).any()
    pooled = F.avg_pool2d(minigrad.tensor(x), 3, 2, 1, ceil_mode=True, count_include_pad=False).numpy()[0, 0]
    starts = np.arange(pooled.shape[0]) * 2 - 1, np.arange(pooled.shape[1]) * 2 - 1
    holds = ((starts[0] <= 2) & (2 < starts[0] + 3))[:, None] & ((starts[1] <= 3) & (3 < starts[1] + 3))[None, :]
    np.testing.assert_array_equal(~np.isfinite(pooled), holds)
    adaptive = F.adaptive_avg_pool2d(minigrad.tensor(x), (3, 4)).numpy()[0, 0]
    np.testing.assert_array_equal(
        ~np.isfinite(adaptive), F.interpolate(minigrad.tensor(x), (3, 4), mode="area").numpy()[0, 0] == np.inf
    )
    t = minigrad.tensor(x, requires_grad=True)
    F.interpolate(t, (8, 9), mode="bilinear").sum().backward()  # a finite cotangent: a finite gradient
    assert np.isfinite(t.grad.numpy()).all()

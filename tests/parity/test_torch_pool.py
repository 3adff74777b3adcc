"""minigrad's pooling, resampling, padding and channel-dropout functions and layers against PyTorch's, in
float64 on random inputs: values, indices (return_indices), input gradients (one backward with a random
cotangent) and layer reprs. Runs where PyTorch is installed; the main tests check the same semantics
against loop formulas (tests/ops/test_pooling.py, tests/ops/test_resample.py, tests/nn/test_pooling_layers.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
import minigrad.nn as mnn  # noqa: E402
import minigrad.nn.functional as MF  # noqa: E402

TF = torch.nn.functional


def _outputs(value):
    return value if isinstance(value, tuple) else (value,)


def _both(fm, ft, x, seed=0, grad=True, exact=False):
    """Call fm on a minigrad tensor and ft on a torch tensor of x; compare outputs (and indices), then the input
    gradient of sum(out * g) for a random g. Returns the torch outputs."""
    xm = mg.tensor(x, requires_grad=grad)
    xt = torch.tensor(x, requires_grad=grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out_m, out_t = _outputs(fm(xm)), _outputs(ft(xt))
    assert len(out_m) == len(out_t)
    for a, b in zip(out_m, out_t):
        assert tuple(a.shape) == tuple(b.shape)
        if b.dtype in (torch.int64, torch.int32):
            assert a.dtype == np.int64
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif exact:
            np.testing.assert_array_equal(a.numpy(), b.detach().numpy())
        else:
            np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12)
    if grad and out_m[0].numel():
        g = np.random.default_rng(seed).standard_normal(out_m[0].shape)
        (out_m[0] * mg.tensor(g)).sum().backward()
        (out_t[0] * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-11, atol=1e-11)
    return out_t


def _distinct(shape, rng):
    """Values without ties (so the max of each window, its index and its gradient are unique)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 5.0 - 2.0


# --- pools ---------------------------------------------------------------------------------------------


def _window(rng, h, w):
    k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    d = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
    h = max(h, d[0] * (k[0] - 1) + 1 - 2 * p[0])
    w = max(w, d[1] * (k[1] - 1) + 1 - 2 * p[1])
    return (h, w), k, s, p, d


@pytest.mark.parametrize("seed", range(40))
def test_max_pool2d_values_indices_gradients(seed):
    rng = np.random.default_rng(seed)
    (h, w), k, s, p, d = _window(rng, int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    ceil = bool(rng.integers(2))
    x = _distinct((2, 3, h, w), rng)
    _both(lambda t: MF.max_pool2d(t, k, s, p, d, ceil, True), lambda t: TF.max_pool2d(t, k, s, p, d, ceil, True), x)
    _both(lambda t: MF.max_pool2d(t[0], k, s, p, d, ceil), lambda t: TF.max_pool2d(t[0], k, s, p, d, ceil), x)


@pytest.mark.parametrize("seed", range(30))
def test_max_pool1d_values_indices_gradients(seed):
    rng = np.random.default_rng(seed)
    (_, w), (_, k), (_, s), (_, p), (_, d) = _window(rng, 1, int(rng.integers(1, 10)))
    ceil = bool(rng.integers(2))
    x = _distinct((2, 3, w), rng)
    _both(lambda t: MF.max_pool1d(t, k, s, p, d, ceil, True), lambda t: TF.max_pool1d(t, k, s, p, d, ceil, True), x)
    _both(lambda t: MF.max_pool1d(t[1], k, s, p, d, ceil), lambda t: TF.max_pool1d(t[1], k, s, p, d, ceil), x)


@pytest.mark.parametrize("seed", range(40))
def test_avg_pools_ceil_mode_count_include_pad_divisor_override(seed):
    rng = np.random.default_rng(seed)
    (h, w), k, s, p, _ = _window(rng, int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    ceil, include = bool(rng.integers(2)), bool(rng.integers(2))
    divisor = [None, None, 1, 3][int(rng.integers(4))]
    x = rng.standard_normal((2, 2, h, w))
    _both(lambda t: MF.avg_pool2d(t, k, s, p, ceil, include, divisor),
          lambda t: TF.avg_pool2d(t, k, s, p, ceil, include, divisor), x)  # fmt: skip
    _both(lambda t: MF.avg_pool1d(t[:, :, 0], k[1], s[1], p[1], ceil, include),
          lambda t: TF.avg_pool1d(t[:, :, 0], k[1], s[1], p[1], ceil, include), x)  # fmt: skip


@pytest.mark.parametrize("seed", range(20))
def test_lp_pools(seed):
    rng = np.random.default_rng(seed)
    norm = [1.0, 2.0, 3.0, 1.5][seed % 4]
    k, s = (int(rng.integers(1, 4)), int(rng.integers(1, 4))), [None, 1, 2][int(rng.integers(3))]
    ceil = bool(rng.integers(2))
    x = np.abs(rng.standard_normal((2, 2, 6, 7))) + 0.1  # positive: x^p is defined for fractional p
    _both(lambda t: MF.lp_pool2d(t, norm, k, s, ceil), lambda t: TF.lp_pool2d(t, norm, k, s, ceil), x)
    _both(lambda t: MF.lp_pool1d(t[:, 0], norm, k[0], s, ceil), lambda t: TF.lp_pool1d(t[:, 0], norm, k[0], s, ceil), x)
    if norm in (1.0, 3.0):  # odd integer powers keep signs: windows with negative sums, as PyTorch's sign * relu
        y = rng.standard_normal((1, 2, 5, 6))
        with np.errstate(invalid="ignore"):  # (negative sum)^(1/3) is nan in both, and so is its gradient
            _both(lambda t: MF.lp_pool2d(t, norm, k, s, ceil), lambda t: TF.lp_pool2d(t, norm, k, s, ceil), y)


@pytest.mark.parametrize("seed", range(25))
def test_adaptive_pools_with_non_divisible_sizes(seed):
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    out = (int(rng.integers(1, 8)), [None, int(rng.integers(1, 8))][int(rng.integers(2))])
    x = _distinct((2, 3, h, w), rng)
    _both(lambda t: MF.adaptive_avg_pool2d(t, out), lambda t: TF.adaptive_avg_pool2d(t, out), x)
    _both(lambda t: MF.adaptive_max_pool2d(t, out, True), lambda t: TF.adaptive_max_pool2d(t, out, True), x)
    _both(lambda t: MF.adaptive_max_pool2d(t[0], out[0]), lambda t: TF.adaptive_max_pool2d(t[0], out[0]), x)
    _both(lambda t: MF.adaptive_avg_pool1d(t[:, :, 0], out[0]), lambda t: TF.adaptive_avg_pool1d(t[:, :, 0], out[0]), x)
    _both(lambda t: MF.adaptive_max_pool1d(t[:, :, 0], out[0], True),
          lambda t: TF.adaptive_max_pool1d(t[:, :, 0], out[0], True), x)  # fmt: skip


@pytest.mark.parametrize("seed", range(30))
def test_max_unpool2d_with_and_without_output_size(seed):
    rng = np.random.default_rng(seed)
    k, s = (int(rng.integers(1, 4)), int(rng.integers(1, 4))), (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
    h, w = int(rng.integers(max(k[0], 2), 9)), int(rng.integers(max(k[1], 2), 9))
    x = _distinct((2, 2, h, w), rng)
    pooled_t, idx_t = TF.max_pool2d(torch.tensor(x), k, s, p, return_indices=True)
    pooled, idx = pooled_t.numpy(), mg.tensor(idx_t.numpy())
    # Overlapping windows (stride < kernel) can pick one element twice; PyTorch's backward then gives each
    # copy the whole cotangent (a gather), which is not the derivative of its forward (one write wins).
    # Ours is the derivative (gradcheck in tests/ops/test_pooling.py); compare gradients on unique indices.
    unique = all(len(set(row)) == len(row) for row in idx_t.numpy().reshape(4, -1).tolist())
    for size in (None, (h, w), (2, 2, h, w)):
        try:
            TF.max_unpool2d(pooled_t, idx_t, k, s, p, size)
        except (ValueError, RuntimeError):  # an index outside the plane, or a size out of PyTorch's range
            with pytest.raises(ValueError, match="max_unpool2d: "):
                MF.max_unpool2d(mg.tensor(pooled), idx, k, s, p, size)
            continue
        _both(lambda t, size=size: MF.max_unpool2d(t, idx, k, s, p, size),
              lambda t, size=size: TF.max_unpool2d(t, idx_t, k, s, p, size), pooled, grad=unique)  # fmt: skip
    theirs = torch.nn.MaxUnpool2d(k, s, p)
    ours = mnn.MaxUnpool2d(k, s, p)
    assert repr(ours) == repr(theirs)
    try:
        theirs(pooled_t, idx_t)
    except RuntimeError:
        return
    _both(lambda t: ours(t, idx), lambda t: theirs(t, idx_t), pooled, grad=unique)


def test_max_unpool2d_rejects_output_sizes_pytorch_rejects():
    x = torch.tensor(_distinct((1, 1, 5, 5), np.random.default_rng(0)))
    pooled, idx = TF.max_pool2d(x, 2, return_indices=True)
    for size in [(6, 5), (2, 4), (4, 6)]:  # the accepted range is (2, 6) exclusive on each axis
        with pytest.raises(ValueError):
            TF.max_unpool2d(pooled, idx, 2, output_size=size)
        with pytest.raises(ValueError, match="max_unpool2d: output_size"):
            MF.max_unpool2d(mg.tensor(pooled.numpy()), mg.tensor(idx.numpy()), 2, output_size=size)


# --- interpolate -----------------------------------------------------------------------------------------

MODES = {1: ["nearest", "nearest-exact", "area", "linear"],
         2: ["nearest", "nearest-exact", "area", "bilinear", "bicubic"],
         3: ["nearest", "nearest-exact", "area", "trilinear"]}  # fmt: skip


@pytest.mark.parametrize("seed", range(150))
def test_interpolate_every_mode(seed):
    rng = np.random.default_rng(seed)
    nd = seed % 3 + 1
    mode = MODES[nd][int(rng.integers(len(MODES[nd])))]
    shape = (2, 2) + tuple(int(v) for v in rng.integers(1, 7 if nd < 3 else 5, nd))
    align = None if mode in ("nearest", "nearest-exact", "area") else [None, False, True][int(rng.integers(3))]
    if rng.integers(2):
        size, sf, recompute = tuple(int(v) for v in rng.integers(1, 11 if nd < 3 else 6, nd)), None, None
    else:
        choices = [0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 1.7, 2.0, 2.5, 3.0, 1 / 3]
        sf = tuple(choices[int(i)] for i in rng.integers(len(choices), size=nd))
        shape = shape[:2] + tuple(max(n, int(np.ceil(1 / f))) for n, f in zip(shape[2:], sf))
        size, recompute = None, [None, False, True][int(rng.integers(3))]
    x = rng.standard_normal(shape)
    exact = mode.startswith("nearest")
    _both(lambda t: MF.interpolate(t, size, sf, mode, align, recompute),
          lambda t: TF.interpolate(t, size, sf, mode, align, recompute), x, exact=exact)  # fmt: skip


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_scalar_sizes_and_factors(mode):
    x = np.random.default_rng(1).standard_normal((1, 3, 5, 4))
    for kwargs in (dict(size=7), dict(size=3), dict(scale_factor=2), dict(scale_factor=0.5), dict(scale_factor=1.0),
                   dict(scale_factor=1.3), dict(scale_factor=2.0, recompute_scale_factor=True)):  # fmt: skip
        _both(lambda t, kw=kwargs: MF.interpolate(t, mode=mode, **kw),
              lambda t, kw=kwargs: TF.interpolate(t, mode=mode, **kw), x)  # fmt: skip
    _both(lambda t: MF.upsample_nearest(t, scale_factor=3), lambda t: TF.upsample_nearest(t, scale_factor=3), x)
    _both(lambda t: MF.upsample_bilinear(t, size=(6, 9)), lambda t: TF.upsample_bilinear(t, size=(6, 9)), x)


def test_interpolate_float32_matches_pytorch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 5, 6)).astype(np.float32)
    for mode in ("nearest", "nearest-exact", "bilinear", "bicubic", "area"):
        for size in ((9, 4), (11, 13), (3, 3)):
            ours = MF.interpolate(mg.tensor(x), size, mode=mode).numpy()
            theirs = TF.interpolate(torch.tensor(x), size, mode=mode).numpy()
            assert ours.dtype == np.float32
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


# --- pad -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(150))
def test_pad_every_mode_with_negative_widths(seed):
    rng = np.random.default_rng(seed)
    mode = ["constant", "reflect", "replicate", "circular"][seed % 4]
    pairs = int(rng.integers(1, 4))
    ndim = pairs + int(rng.integers(1, 3)) if mode != "constant" else int(rng.integers(pairs, 5))
    shape = tuple(int(v) for v in rng.integers(1, 6, ndim))
    pad = tuple(int(v) for v in rng.integers(-3, 5, 2 * pairs))
    x = rng.standard_normal(shape)
    value = 0.25 if mode == "constant" else None
    xt = torch.tensor(x)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = TF.pad(xt, pad, mode, value)
    except (RuntimeError, ValueError, NotImplementedError):
        with pytest.raises((ValueError, TypeError)):
            MF.pad(mg.tensor(x), pad, mode, value)
        return
    if want.numel() == 0 or (mode == "circular" and _reads_unwritten(shape, pad)):
        return  # PyTorch's empty replicate planes and circular wraps of unwritten memory: we raise (tested there)
    _both(lambda t: MF.pad(t, pad, mode, value), lambda t: TF.pad(t, pad, mode, value), x, exact=True)


def _reads_unwritten(shape, pad):
    """PyTorch's circular pad leaves uninitialised memory where the leading width exceeds the cropped axis."""
    for k in range(len(pad) // 2):
        before, after = pad[2 * k], pad[2 * k + 1]
        kept = shape[-1 - k] - max(-before, 0) - max(-after, 0)
        if before > kept or (after > 0 and kept <= 0):
            return True
    return False


def test_pixel_shuffles():
    rng = np.random.default_rng(0)
    for r, shape in [(2, (2, 8, 3, 4)), (3, (9, 2, 2)), (1, (2, 3, 4, 5)), (2, (2, 2, 4, 2, 3))]:
        x = rng.standard_normal(shape)
        _both(lambda t, r=r: MF.pixel_shuffle(t, r), lambda t, r=r: TF.pixel_shuffle(t, r), x, exact=True)
        y = rng.standard_normal(shape[:-2] + (shape[-2] * r, shape[-1] * r))
        _both(lambda t, r=r: MF.pixel_unshuffle(t, r), lambda t, r=r: TF.pixel_unshuffle(t, r), y, exact=True)


# --- dropout ----------------------------------------------------------------------------------------------


def test_alpha_dropout_uses_pytorch_affine_constants():
    """PyTorch's kept elements are a x + b and dropped ones a constant; ours take the same a, b and constant."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 50))
    for p in (0.1, 0.5, 0.8):
        torch.manual_seed(0)
        theirs = TF.alpha_dropout(torch.tensor(x), p, training=True).numpy()
        ours = MF.alpha_dropout(mg.tensor(x), p, training=True).numpy()
        for out in (theirs, ours):
            values, counts = np.unique(np.round(out, 10), return_counts=True)
            dropped = values[np.argmax(counts)]
            kept = ~np.isclose(out, dropped, rtol=0, atol=1e-9)
            a, b = np.polyfit(x[kept], out[kept], 1)
            if out is theirs:
                want = (a, b, dropped)
            else:
                np.testing.assert_allclose((a, b, dropped), want, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(MF.alpha_dropout(mg.tensor(x), p).numpy(), x)  # training=False by default


@pytest.mark.filterwarnings("ignore:dropout2d. Received a 3D input")
@pytest.mark.parametrize("name, shape", [("dropout1d", (4, 6, 5)), ("dropout1d", (6, 5)), ("dropout2d", (4, 6, 3, 3)),
                                         ("dropout2d", (6, 3, 3))])  # fmt: skip
def test_channel_dropouts_scale_whole_channels_as_pytorch(name, shape):
    x = np.random.default_rng(1).standard_normal(shape) + 5.0  # no zeros in the input
    for out in (getattr(TF, name)(torch.tensor(x), 0.3).numpy(), getattr(MF, name)(mg.tensor(x), 0.3).numpy()):
        ratio = out / x
        lead = len(shape) - 1 if name == "dropout1d" or len(shape) == 3 else len(shape) - 2  # 3-D: (N, C, L)
        planes = ratio.reshape(ratio.shape[:lead] + (-1,))
        np.testing.assert_allclose(planes.max(-1), planes.min(-1), rtol=1e-14)  # one draw per channel
        assert set(np.round(np.unique(planes), 12)) <= {0.0, round(1 / 0.7, 12)}
    for fn in (TF, MF):
        lib = torch if fn is TF else mg
        out = getattr(fn, name)(lib.tensor(x), 0.3, training=False)
        np.testing.assert_array_equal(out.numpy(), x)


# --- layers -----------------------------------------------------------------------------------------------

LAYERS = [
    ("MaxPool1d", (3,), {}, (2, 3, 10)),
    ("MaxPool1d", (3, 2, 1, 2), dict(ceil_mode=True), (2, 3, 10)),
    ("MaxPool1d", (2,), dict(return_indices=True), (3, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 7)),
    ("MaxPool2d", ((2, 3), 1, 1, 2), dict(ceil_mode=True, return_indices=True), (2, 3, 6, 7)),
    ("AvgPool1d", (3,), {}, (2, 3, 10)),
    ("AvgPool1d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False), (3, 10)),
    ("AvgPool2d", (2,), {}, (2, 3, 6, 7)),
    ("AvgPool2d", (3, 2, 1), dict(ceil_mode=True, count_include_pad=False, divisor_override=2), (2, 3, 6, 7)),
    ("AdaptiveAvgPool1d", (4,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((3, None),), {}, (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d", (4,), {}, (3, 7, 5)),
    ("AdaptiveMaxPool1d", (3,), dict(return_indices=True), (2, 3, 7)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (2, 3, 7, 5)),
    ("AdaptiveMaxPool2d", (3,), dict(return_indices=True), (3, 7, 5)),
    ("LPPool1d", (2, 3), {}, (2, 3, 10)),
    ("LPPool2d", (1.5, (2, 3), 1), dict(ceil_mode=True), (2, 3, 6, 7)),
    ("Upsample", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=(5, 3), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bicubic", align_corners=True), (2, 3, 4, 5)),
    ("Upsample", (), dict(size=7, mode="linear"), (2, 3, 4)),
    ("Upsample", (), dict(scale_factor=1.5, mode="trilinear", recompute_scale_factor=True), (1, 2, 3, 4, 2)),
    ("UpsamplingNearest2d", (), dict(scale_factor=2), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", (), dict(size=(7, 3)), (2, 3, 4, 5)),
    ("PixelShuffle", (2,), {}, (2, 8, 3, 4)),
    ("PixelUnshuffle", (2,), {}, (2, 2, 4, 6)),
    ("Unflatten", (1, (2, 3)), {}, (4, 6, 5)),
    ("Unflatten", (-1, (5, -1)), {}, (4, 10)),
    ("ZeroPad1d", (2,), {}, (2, 3, 4)),
    ("ZeroPad1d", ((1, -2),), {}, (3, 4)),
    ("ZeroPad2d", ((1, 2, 3, -1),), {}, (2, 3, 4, 5)),
    ("ConstantPad1d", (2, 3.5), {}, (2, 3, 4)),
    ("ConstantPad2d", ((1, 0, 2, 3), -1.0), {}, (3, 4, 5)),
    ("ConstantPad3d", (1, 0.5), {}, (2, 2, 3, 4)),
    ("ReflectionPad1d", (2,), {}, (2, 3, 4)),
    ("ReflectionPad2d", ((1, 2, 3, -1),), {}, (2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, -1),), {}, (3, 4)),
    ("ReplicationPad2d", (2,), {}, (2, 3, 4, 5)),
    ("CircularPad1d", ((3, 1),), {}, (2, 3, 4)),
    ("CircularPad2d", ((1, -1, 2, 0),), {}, (2, 3, 4, 5)),
    ("ZeroPad2d", ((1, 2),), {}, (2, 3, 4, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", LAYERS)
def test_layers_match_pytorch(name, args, kwargs, shape):
    ours, theirs = getattr(mnn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = _distinct(shape, np.random.default_rng(3))
    if name.startswith("LPPool"):
        x = np.abs(x) + 0.1  # x^p with a fractional p
    _both(ours, theirs, x)


@pytest.mark.parametrize(
    "name, args, shape",
    [("Dropout1d", (), (2, 3, 4)), ("Dropout2d", (0.3, True), (2, 3, 4, 4)), ("AlphaDropout", (0.2,), (2, 5)),
     ("AlphaDropout", (), (3,))],
)  # fmt: skip
def test_dropout_layers_repr_and_eval(name, args, shape):
    ours, theirs = getattr(mnn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    assert (ours.p, ours.inplace) == (theirs.p, theirs.inplace)
    ours.eval(), theirs.eval()
    _both(ours, theirs, np.random.default_rng(0).standard_normal(shape), exact=True)

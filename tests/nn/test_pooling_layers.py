"""The layers of minigrad.nn.pooling (pooling, resampling, padding, channel dropout) and F.dropout1d /
dropout2d / alpha_dropout: constructor arguments, defaults and reprs as PyTorch's, each layer's forward
equal to its functional form, gradcheck through each layer, the dropouts' train/eval behaviour,
channel-wise masks and scaling, AlphaDropout's preserved mean and variance, errors naming the layer."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from helpers import check_gradients

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError, ShapeError


def _x(shape, seed=0, positive=False):
    x = np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 1.0
    return np.abs(x) + 0.1 if positive else x


# (layer, args, kwargs, PyTorch's repr, input shape, the functional form)
LAYERS = [
    (nn.MaxPool1d, (3,), {}, "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)", (2, 3, 10),
     lambda x: F.max_pool1d(x, 3)),
    (nn.MaxPool1d, (3, 2, 1, 2), dict(ceil_mode=True),
     "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)", (2, 3, 10),
     lambda x: F.max_pool1d(x, 3, 2, 1, 2, ceil_mode=True)),
    (nn.MaxPool2d, (2,), {}, "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
     (2, 2, 5, 6), lambda x: F.max_pool2d(x, 2)),
    (nn.MaxPool2d, ((2, 3), 1, 1), dict(ceil_mode=True),
     "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=True)", (2, 2, 5, 6),
     lambda x: F.max_pool2d(x, (2, 3), 1, 1, ceil_mode=True)),
    (nn.AvgPool1d, (3,), {}, "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))", (2, 3, 10),
     lambda x: F.avg_pool1d(x, 3)),
    (nn.AvgPool1d, (3, 2, 1), dict(ceil_mode=True, count_include_pad=False),
     "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))", (3, 10),
     lambda x: F.avg_pool1d(x, 3, 2, 1, True, False)),
    (nn.AvgPool2d, (3, 2, 1), dict(ceil_mode=True, count_include_pad=False, divisor_override=2),
     "AvgPool2d(kernel_size=3, stride=2, padding=1)", (2, 2, 5, 6),
     lambda x: F.avg_pool2d(x, 3, 2, 1, True, False, 2)),
    (nn.AdaptiveAvgPool1d, (4,), {}, "AdaptiveAvgPool1d(output_size=4)", (2, 3, 7),
     lambda x: F.adaptive_avg_pool1d(x, 4)),
    (nn.AdaptiveAvgPool2d, ((3, None),), {}, "AdaptiveAvgPool2d(output_size=(3, None))", (2, 2, 7, 5),
     lambda x: F.adaptive_avg_pool2d(x, (3, None))),
    (nn.AdaptiveMaxPool1d, (3,), {}, "AdaptiveMaxPool1d(output_size=3)", (2, 3, 7),
     lambda x: F.adaptive_max_pool1d(x, 3)),
    (nn.AdaptiveMaxPool2d, (3,), {}, "AdaptiveMaxPool2d(output_size=3)", (2, 2, 7, 5),
     lambda x: F.adaptive_max_pool2d(x, 3)),
    (nn.LPPool1d, (2, 3), {}, "LPPool1d(norm_type=2, kernel_size=3, stride=None, ceil_mode=False)", (2, 3, 10),
     lambda x: F.lp_pool1d(x, 2, 3)),
    (nn.LPPool2d, (1.5, (2, 3), 1), dict(ceil_mode=True),
     "LPPool2d(norm_type=1.5, kernel_size=(2, 3), stride=1, ceil_mode=True)", (2, 2, 5, 6),
     lambda x: F.lp_pool2d(x, 1.5, (2, 3), 1, True)),
    (nn.Upsample, (), dict(scale_factor=2), "Upsample(scale_factor=2.0, mode='nearest')", (2, 2, 3, 4),
     lambda x: F.interpolate(x, scale_factor=2.0)),
    (nn.Upsample, (), dict(size=(5, 3), mode="bilinear"), "Upsample(size=(5, 3), mode='bilinear')", (2, 2, 3, 4),
     lambda x: F.interpolate(x, (5, 3), mode="bilinear")),
    (nn.Upsample, (), dict(scale_factor=(2, 1.5), mode="bicubic", align_corners=True),
     "Upsample(scale_factor=(2.0, 1.5), mode='bicubic')", (1, 2, 3, 4),
     lambda x: F.interpolate(x, scale_factor=(2.0, 1.5), mode="bicubic", align_corners=True)),
    (nn.Upsample, (), dict(size=7, mode="linear"), "Upsample(size=7, mode='linear')", (2, 3, 4),
     lambda x: F.interpolate(x, 7, mode="linear")),
    (nn.UpsamplingNearest2d, (), dict(scale_factor=2), "UpsamplingNearest2d(scale_factor=2.0, mode='nearest')",
     (2, 2, 3, 4), lambda x: F.interpolate(x, scale_factor=2)),
    (nn.UpsamplingBilinear2d, (), dict(size=(7, 3)), "UpsamplingBilinear2d(size=(7, 3), mode='bilinear')",
     (2, 2, 3, 4), lambda x: F.interpolate(x, (7, 3), mode="bilinear", align_corners=True)),
    (nn.PixelShuffle, (2,), {}, "PixelShuffle(upscale_factor=2)", (2, 8, 3, 2), lambda x: F.pixel_shuffle(x, 2)),
    (nn.PixelUnshuffle, (2,), {}, "PixelUnshuffle(downscale_factor=2)", (2, 2, 4, 6),
     lambda x: F.pixel_unshuffle(x, 2)),
    (nn.Unflatten, (1, (2, 3)), {}, "Unflatten(dim=1, unflattened_size=(2, 3))", (4, 6, 5),
     lambda x: x.reshape(4, 2, 3, 5)),
    (nn.Unflatten, (-1, (5, -1)), {}, "Unflatten(dim=-1, unflattened_size=(5, -1))", (4, 10),
     lambda x: x.reshape(4, 5, 2)),
    (nn.ZeroPad1d, (2,), {}, "ZeroPad1d((2, 2))", (2, 3, 4), lambda x: F.pad(x, (2, 2))),
    (nn.ZeroPad2d, ((1, 2, 3, -1),), {}, "ZeroPad2d((1, 2, 3, -1))", (2, 3, 4, 5), lambda x: F.pad(x, (1, 2, 3, -1))),
    (nn.ConstantPad1d, (2, 3.5), {}, "ConstantPad1d(padding=(2, 2), value=3.5)", (2, 3, 4),
     lambda x: F.pad(x, (2, 2), value=3.5)),
    (nn.ConstantPad2d, ((1, 0, 2, 3), -1.0), {}, "ConstantPad2d(padding=(1, 0, 2, 3), value=-1.0)", (3, 4, 5),
     lambda x: F.pad(x, (1, 0, 2, 3), value=-1.0)),
    (nn.ConstantPad3d, (1, 0.5), {}, "ConstantPad3d(padding=(1, 1, 1, 1, 1, 1), value=0.5)", (2, 2, 3, 4),
     lambda x: F.pad(x, (1,) * 6, value=0.5)),
    (nn.ReflectionPad1d, (2,), {}, "ReflectionPad1d((2, 2))", (2, 3, 4), lambda x: F.pad(x, (2, 2), "reflect")),
    (nn.ReflectionPad2d, ((1, 2, 3, -1),), {}, "ReflectionPad2d((1, 2, 3, -1))", (2, 3, 4, 5),
     lambda x: F.pad(x, (1, 2, 3, -1), "reflect")),
    (nn.ReplicationPad1d, ((3, -1),), {}, "ReplicationPad1d((3, -1))", (3, 4),
     lambda x: F.pad(x, (3, -1), "replicate")),
    (nn.ReplicationPad2d, (2,), {}, "ReplicationPad2d((2, 2, 2, 2))", (2, 3, 4, 5),
     lambda x: F.pad(x, (2,) * 4, "replicate")),
    (nn.CircularPad1d, ((3, 1),), {}, "CircularPad1d((3, 1))", (2, 3, 4), lambda x: F.pad(x, (3, 1), "circular")),
    (nn.CircularPad2d, ((1, -1, 2, 0),), {}, "CircularPad2d((1, -1, 2, 0))", (2, 3, 4, 5),
     lambda x: F.pad(x, (1, -1, 2, 0), "circular")),
]  # fmt: skip

IDS = [f"{layer.__name__}-{i}" for i, (layer, *_rest) in enumerate(LAYERS)]


@pytest.mark.parametrize("layer, args, kwargs, text, shape, functional", LAYERS, ids=IDS)
def test_layer_repr_forward_and_gradcheck(layer, args, kwargs, text, shape, functional):
    module = layer(*args, **kwargs)
    assert repr(module) == text
    assert list(module.parameters()) == [] and module.state_dict() == {}
    x = _x(shape, positive=layer.__name__.startswith("LPPool"))
    np.testing.assert_array_equal(module(mg.tensor(x)).numpy(), functional(mg.tensor(x)).numpy())
    check_gradients(module, x)


def test_constructor_arguments_and_defaults_are_pytorchs():
    """Names, order and defaults of each constructor, as PyTorch 2.13 documents them."""
    want = {
        nn.MaxPool1d: "(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)",
        nn.MaxPool2d: "(kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False)",
        nn.AvgPool1d: "(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)",
        nn.AvgPool2d: "(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, "
        "divisor_override=None)",
        nn.AdaptiveAvgPool1d: "(output_size)",
        nn.AdaptiveAvgPool2d: "(output_size)",
        nn.AdaptiveMaxPool1d: "(output_size, return_indices=False)",
        nn.AdaptiveMaxPool2d: "(output_size, return_indices=False)",
        nn.MaxUnpool2d: "(kernel_size, stride=None, padding=0)",
        nn.LPPool1d: "(norm_type, kernel_size, stride=None, ceil_mode=False)",
        nn.LPPool2d: "(norm_type, kernel_size, stride=None, ceil_mode=False)",
        nn.Upsample: "(size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None)",
        nn.UpsamplingNearest2d: "(size=None, scale_factor=None)",
        nn.UpsamplingBilinear2d: "(size=None, scale_factor=None)",
        nn.PixelShuffle: "(upscale_factor)",
        nn.PixelUnshuffle: "(downscale_factor)",
        nn.Unflatten: "(dim, unflattened_size)",
        nn.ZeroPad1d: "(padding)",
        nn.ZeroPad2d: "(padding)",
        nn.ConstantPad1d: "(padding, value)",
        nn.ConstantPad2d: "(padding, value)",
        nn.ConstantPad3d: "(padding, value)",
        nn.ReflectionPad1d: "(padding)",
        nn.ReflectionPad2d: "(padding)",
        nn.ReplicationPad1d: "(padding)",
        nn.ReplicationPad2d: "(padding)",
        nn.CircularPad1d: "(padding)",
        nn.CircularPad2d: "(padding)",
        nn.Dropout1d: "(p=0.5, inplace=False)",
        nn.Dropout2d: "(p=0.5, inplace=False)",
        nn.AlphaDropout: "(p=0.5, inplace=False)",
    }
    for layer, signature in want.items():
        params = list(inspect.signature(layer.__init__).parameters.values())[1:]
        text = "(" + ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params) + ")"
        assert text == signature, layer.__name__
    for fn, signature in [(F.dropout1d, "(input, p=0.5, training=True, inplace=False)"),
                          (F.dropout2d, "(input, p=0.5, training=True, inplace=False)"),
                          (F.alpha_dropout, "(input, p=0.5, training=False, inplace=False)")]:  # fmt: skip
        params = inspect.signature(fn).parameters.values()
        assert "(" + ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params) + ")" == (
            signature
        )


def test_stored_attributes_are_pytorchs():
    m = nn.MaxPool1d(3)
    assert (m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices, m.ceil_mode) == (3, 3, 0, 1, False, False)
    a = nn.AvgPool1d(3, padding=1)
    assert (a.kernel_size, a.stride, a.padding, a.ceil_mode, a.count_include_pad) == ((3,), (3,), (1,), False, True)
    u = nn.MaxUnpool2d(2)
    assert (u.kernel_size, u.stride, u.padding) == ((2, 2), (2, 2), (0, 0))
    assert nn.MaxUnpool2d((2, 3), 1, (1, 0)).stride == (1, 1)
    assert nn.AdaptiveMaxPool2d(2).return_indices is False and not hasattr(nn.AdaptiveAvgPool2d(2), "return_indices")
    up = nn.Upsample(scale_factor=(2, 3))
    assert (up.size, up.scale_factor, up.mode, up.align_corners, up.recompute_scale_factor) == (
        None, (2.0, 3.0), "nearest", None, None)  # fmt: skip
    b = nn.UpsamplingBilinear2d(scale_factor=2)
    assert (b.mode, b.align_corners, b.scale_factor) == ("bilinear", True, 2.0)
    assert nn.ConstantPad2d(1, 2).padding == (1, 1, 1, 1) and nn.ConstantPad2d(1, 2).value == 2
    assert nn.ZeroPad2d(1).value == 0.0 and nn.ReflectionPad1d(3).padding == (3, 3)
    assert not hasattr(nn.ReflectionPad1d(3), "value")
    assert nn.ZeroPad2d((1, 2)).padding == (1, 2)  # a tuple goes to F.pad as it is, as in PyTorch


def test_return_indices_layers_and_max_unpool2d_layer():
    x = mg.tensor(_x((2, 2, 6, 5)), requires_grad=True)
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    ref_out, ref_idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), ref_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    up = nn.MaxUnpool2d(2)(out, idx, output_size=(6, 5))
    np.testing.assert_array_equal(up.numpy(), F.max_unpool2d(out, idx, 2, output_size=(6, 5)).numpy())
    assert repr(nn.MaxUnpool2d(2)) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    check_gradients(lambda t: nn.MaxUnpool2d(2)(t, idx, (6, 5)), out.numpy())
    o1, i1 = nn.MaxPool1d(3, 2, return_indices=True)(x[:, :, 0])
    np.testing.assert_array_equal(i1.numpy(), F.max_pool1d(x[:, :, 0], 3, 2, return_indices=True)[1].numpy())
    o2, i2 = nn.AdaptiveMaxPool2d((3, 2), return_indices=True)(x)
    np.testing.assert_array_equal(i2.numpy(), F.adaptive_max_pool2d(x, (3, 2), True)[1].numpy())
    o3, i3 = nn.AdaptiveMaxPool1d(2, return_indices=True)(x[:, 0])
    np.testing.assert_array_equal(i3.numpy(), F.adaptive_max_pool1d(x[:, 0], 2, True)[1].numpy())


# --- channel dropout -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layer, fn, shape, lead",
    [(nn.Dropout1d, F.dropout1d, (8, 16, 5), 2), (nn.Dropout1d, F.dropout1d, (16, 5), 1),
     (nn.Dropout2d, F.dropout2d, (8, 16, 3, 4), 2), (nn.Dropout2d, F.dropout2d, (16, 3, 4), 2)],
)  # fmt: skip
def test_channel_dropout_masks_whole_channels_and_scales(layer, fn, shape, lead):
    """In training each (sample, channel) is kept with probability 1 - p and scaled by 1 / (1 - p), or zeroed
    whole; a 3-D input of dropout2d is (N, C, L), as PyTorch reads it. In eval mode: the identity."""
    x = mg.tensor(np.abs(_x(shape)) + 1.0)
    p = 0.25
    mg.manual_seed(0)
    out = layer(p)(x).numpy()
    ratio = (out / x.numpy()).reshape(shape[:lead] + (-1,))
    np.testing.assert_allclose(ratio, np.broadcast_to(ratio[..., :1], ratio.shape), rtol=1e-15)  # one draw each
    kept = ratio[..., 0] != 0
    np.testing.assert_allclose(ratio[..., 0][kept], 1 / (1 - p), rtol=1e-15)
    assert 0.5 < kept.mean() < 0.95  # about 1 - p of 128 (or 16) channels
    mg.manual_seed(0)
    np.testing.assert_array_equal(fn(x, p).numpy(), out)  # the layer is the functional form, same draws
    module = layer(p).eval()
    assert module(x) is x and fn(x, p, training=False) is x
    assert layer(0.0)(x) is x
    np.testing.assert_array_equal(layer(1.0)(x).numpy(), np.zeros(shape))


def test_channel_dropout_keep_rate_and_gradient_is_the_mask():
    mg.manual_seed(1)
    x = mg.tensor(np.ones((200, 50, 2)), requires_grad=True)
    out = F.dropout1d(x, 0.3)
    kept = out.numpy()[:, :, 0] != 0
    assert abs(kept.mean() - 0.7) < 4 * math.sqrt(0.21 / kept.size)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy())  # d out / d x is the scaled mask
    mg.manual_seed(3)
    x64 = _x((2, 4, 3))

    def seeded(t):
        mg.manual_seed(3)
        return F.dropout1d(t, 0.5) * t

    check_gradients(seeded, x64)
    check_gradients(lambda t: (mg.manual_seed(5), nn.Dropout2d(0.4)(t))[1], _x((2, 3, 2, 2)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_alpha_dropout_keeps_the_mean_and_variance_of_selu_normalised_input(p):
    """For inputs of zero mean and unit variance (SELU's fixed point), alpha dropout keeps both: dropped
    elements become SELU's saturation -scale alpha, then a x + b with a = ((1 - p)(1 + p alpha'^2))^-1/2,
    b = a alpha' p restores them."""
    mg.manual_seed(0)
    x = np.random.default_rng(0).standard_normal(400_000)
    out = F.alpha_dropout(mg.tensor(x), p, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.var() - 1.0) < 0.015
    alpha_p = _SELU_ALPHA * _SELU_SCALE
    a = 1 / math.sqrt((1 - p) * (1 + p * alpha_p**2))
    b = a * alpha_p * p
    dropped = np.isclose(out, -a * alpha_p + b, rtol=0, atol=1e-12)
    assert abs(dropped.mean() - p) < 0.01
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] + b, rtol=1e-12, atol=1e-12)
    # the layer: training by default, the identity in eval mode; the functional form defaults to training=False
    layer = nn.AlphaDropout(p)
    mg.manual_seed(0)
    np.testing.assert_array_equal(layer(mg.tensor(x)).numpy(), out)
    t = mg.tensor(x)
    assert layer.eval()(t) is t and F.alpha_dropout(t, p) is t
    np.testing.assert_array_equal(F.alpha_dropout(mg.tensor(x[:5]), 1.0, True).numpy(), np.zeros(5))


def test_alpha_dropout_gradcheck_and_float32(device):
    def seeded(t):
        mg.manual_seed(2)
        return nn.AlphaDropout(0.3)(t)

    check_gradients(seeded, _x((3, 4)))
    x = mg.tensor(np.ones((4, 3), dtype=np.float32), device=device, requires_grad=True)
    for out in (F.alpha_dropout(x, 0.3, True), F.dropout1d(x, 0.3), F.dropout2d(x[None], 0.3)):
        assert out.dtype == np.float32 and out.device == x.device
        out.sum().backward()
        assert x.grad.dtype == np.float32


# --- errors --------------------------------------------------------------------------------------------


def test_errors_name_the_layer_and_leave_the_input_alone():
    raw = _x((2, 3, 4))
    x = mg.tensor(raw.copy(), requires_grad=True)
    for build, msg in [(lambda: nn.Dropout1d(1.5), "Dropout1d: p must be in"),
                       (lambda: nn.Dropout2d(-0.1), "Dropout2d: p must be in"),
                       (lambda: nn.AlphaDropout(2), "AlphaDropout: p must be in"),
                       (lambda: nn.Unflatten(1, 6), "Unflatten: unflattened_size must be a tuple of ints"),
                       (lambda: nn.ZeroPad2d(1.5), "ZeroPad2d: padding must be an int or a tuple of ints"),
                       (lambda: nn.ReflectionPad1d("same"), "ReflectionPad1d: padding must be")]:  # fmt: skip
        with pytest.raises(ArgumentError, match=msg):
            build()
    for call, err, msg in [
        (lambda: F.dropout1d(x, 1.5), ArgumentError, "dropout1d: p must be in"),
        (lambda: F.dropout1d(x[None], 0.5), ShapeError, r"dropout1d: expected a 2-D .* got shape \(1, 2, 3, 4\)"),
        (lambda: F.dropout2d(x[0, 0], 0.5), ShapeError, r"dropout2d: expected a 3-D .* got shape \(4,\)"),
        (lambda: nn.Dropout1d()(x[None]), ShapeError, "dropout1d: expected"),
        (lambda: F.alpha_dropout(x, -1.0, True), ArgumentError, "alpha_dropout: p must be in"),
        (lambda: nn.Unflatten(1, (2, 2))(x), ShapeError, r"Unflatten: sizes \(2, 2\) do not multiply to the size 3"),
        (lambda: nn.Unflatten(1, (-1, -1))(x), ShapeError, "Unflatten: sizes"),
        (lambda: nn.Unflatten(5, (3,))(x), ShapeError, r"Unflatten: dim 5 is out of range .* \(2, 3, 4\)"),
        (lambda: nn.ReflectionPad1d(4)(x), ShapeError, r"pad: reflect padding \(4, 4\) must be less than the size 4"),
        (lambda: nn.CircularPad2d(1)(x[0, 0]), ShapeError, r"pad: \(1, 1, 1, 1\) holds 2 \(before, after\) pairs"),
        (lambda: nn.CircularPad2d(1)(x[0]), ShapeError, r"pad: circular padding of 2 dimension\(s\) .* 3-D or 4-D"),
        (lambda: nn.Upsample(size=5, mode="bilinear")(x), ShapeError, "interpolate: got 3D input, but bilinear"),
        (lambda: nn.Upsample(scale_factor=2, mode="nearest", align_corners=True)(x), ArgumentError,
         "interpolate: align_corners option"),
        (lambda: nn.PixelShuffle(2)(x), ShapeError, "pixel_shuffle: the channel dimension 2"),
        (lambda: nn.AdaptiveAvgPool1d((1, 2))(x), ShapeError, "adaptive_avg_pool1d: output_size"),
        (lambda: nn.MaxPool1d(9)(x), ShapeError, "max_pool1d: "),
    ]:  # fmt: skip
        with pytest.raises(err, match=msg):
            call()
    np.testing.assert_array_equal(x.numpy(), raw)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full(raw.shape, 2.0))

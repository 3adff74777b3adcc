"""Conv1d, Conv2d (padding strings, padding_mode), ConvTranspose1d/2d, Unfold and Fold layers (minigrad.nn.conv).

Parameter names and shapes, PyTorch's default initialization (checked by its
statistics), the module forms against the functional ones, output_size,
padding modes against a NumPy pad, gradcheck of the composed layers, repr,
state dicts, and errors that name the layer and the shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import check_gradients

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F


def _t(a, dtype=np.float64, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad, device=device)


def _np(t):
    return np.asarray(mg.backend.to_device(t.array, "cpu"))


def _check_uniform(values, bound):
    """Values from U(-bound, bound): inside it, mean ~ 0, std ~ bound / sqrt(3) (4 standard errors)."""
    v = values.ravel()
    assert np.abs(v).max() <= bound
    assert abs(v.mean()) < 4 * bound / math.sqrt(3) / math.sqrt(v.size)
    assert abs(v.std() - bound / math.sqrt(3)) < 0.05 * bound / math.sqrt(3)


@pytest.mark.parametrize(
    "make, shape, fan_in",
    [
        (lambda: nn.Conv1d(16, 64, 5, groups=2), (64, 8, 5), 8 * 5),
        (lambda: nn.Conv2d(8, 64, (3, 2), padding="same"), (64, 8, 3, 2), 8 * 6),
        (lambda: nn.ConvTranspose2d(16, 64, (3, 4), groups=4), (16, 16, 3, 4), 16 * 12),
        (lambda: nn.ConvTranspose1d(24, 60, 7, stride=2), (24, 60, 7), 60 * 7),
    ],
)
def test_default_init_is_pytorchs_kaiming_uniform(make, shape, fan_in):
    mg.manual_seed(0)
    layer = make()
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.shape == shape and layer.bias.shape == (layer.out_channels,)
    assert layer.weight.dtype == np.float32
    bound = 1 / math.sqrt(fan_in)  # kaiming_uniform(a=sqrt(5)): sqrt(2 / 6) * sqrt(3 / fan_in)
    _check_uniform(layer.weight.numpy(), bound)
    assert np.abs(layer.bias.numpy()).max() <= bound and layer.bias.numpy().std() > bound / 4


def test_bias_false_dtype_device_and_attributes(device):
    layer = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=False, dilation=2,
                               dtype=mg.float64, device=device)  # fmt: skip
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    assert layer.weight.dtype == np.float64 and layer.weight.device == device
    assert layer.kernel_size == (3, 3) and layer.stride == (2, 2) and layer.padding == (1, 1)
    assert layer.output_padding == (1, 1) and layer.dilation == (2, 2) and layer.groups == 2
    assert layer.transposed and layer.padding_mode == "zeros"
    c = nn.Conv1d(2, 4, 3, padding="same", dilation=2)
    assert c.kernel_size == (3,) and c.padding == "same" and c.output_padding == (0,) and not c.transposed
    assert c._reversed_padding_repeated_twice == [2, 2]
    assert nn.Conv2d(1, 1, (4, 3), padding="same")._reversed_padding_repeated_twice == [1, 1, 1, 2]


def test_reprs_are_pytorchs():
    assert repr(nn.Conv1d(4, 6, 3, groups=2, padding="same")) == (
        "Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=same, groups=2)"
    )
    assert repr(nn.Conv1d(2, 3, 3, padding=2, padding_mode="circular", bias=False)) == (
        "Conv1d(2, 3, kernel_size=(3,), stride=(1,), padding=(2,), bias=False, padding_mode=circular)"
    )
    assert repr(nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2)) == (
        "ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1), groups=2)"
    )
    assert repr(nn.Conv3d(4, 6, (3, 1, 2), padding="same", padding_mode="reflect")) == (
        "Conv3d(4, 6, kernel_size=(3, 1, 2), stride=(1, 1, 1), padding=same, padding_mode=reflect)"
    )
    assert repr(nn.ConvTranspose3d(4, 6, 2, stride=2, bias=False)) == (
        "ConvTranspose3d(4, 6, kernel_size=(2, 2, 2), stride=(2, 2, 2), bias=False)"
    )
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Fold((4, 4), 2)) == "Fold(output_size=(4, 4), kernel_size=2, dilation=1, padding=0, stride=1)"


_F64 = {"dtype": mg.float64}


@pytest.mark.parametrize(
    "make, functional, x_shape",
    [
        (lambda **k: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2, **k),
         lambda w, b, x: F.conv1d(x, w, b, 2, 1, 2, 2), (2, 4, 9)),
        (lambda **k: nn.Conv1d(4, 6, 4, padding="same", **k), lambda w, b, x: F.conv1d(x, w, b, padding="same"),
         (4, 9)),
        (lambda **k: nn.Conv2d(4, 6, (2, 3), padding="same", dilation=(1, 2), **k),
         lambda w, b, x: F.conv2d(x, w, b, padding="same", dilation=(1, 2)), (2, 4, 5, 6)),
        (lambda **k: nn.Conv2d(4, 6, 3, padding="valid", bias=False, **k),
         lambda w, b, x: F.conv2d(x, w, b), (2, 4, 5, 6)),
        (lambda **k: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, **k),
         lambda w, b, x: F.conv_transpose2d(x, w, b, 2, 1, 1, 2), (2, 4, 3, 4)),
        (lambda **k: nn.ConvTranspose2d(4, 6, 3, **k), lambda w, b, x: F.conv_transpose2d(x, w, b), (4, 3, 4)),
        (lambda **k: nn.ConvTranspose1d(4, 6, 3, stride=3, dilation=2, output_padding=1, **k),
         lambda w, b, x: F.conv_transpose1d(x, w, b, 3, 0, 1, 1, 2), (2, 4, 5)),
        (lambda **k: nn.Conv3d(2, 4, (2, 1, 2), stride=(1, 2, 1), padding=1, groups=2, **k),
         lambda w, b, x: F.conv3d(x, w, b, (1, 2, 1), 1, 1, 2), (1, 2, 2, 3, 2)),
        (lambda **k: nn.ConvTranspose3d(2, 2, 2, stride=2, output_padding=(1, 0, 0), **k),
         lambda w, b, x: F.conv_transpose3d(x, w, b, 2, 0, (1, 0, 0)), (2, 2, 1, 2)),
    ],
)  # fmt: skip
def test_modules_match_the_functional_forms_and_gradcheck(make, functional, x_shape, device):
    layer = make(dtype=mg.float64, device=device)
    x = _t(np.random.default_rng(0).standard_normal(x_shape), device=device)
    np.testing.assert_array_equal(_np(layer(x)), _np(functional(layer.weight, layer.bias, x)))
    if device == "cpu":  # the layer's own call, with its parameters moved by gradcheck
        params = list(layer.parameters())

        def run(xt, *ps):
            for p, value in zip(params, ps):
                p.array = value.array
            out = layer(xt)
            want = functional(*ps, None, xt) if len(ps) == 1 else functional(*ps, xt)
            np.testing.assert_array_equal(out.numpy(), want.numpy())
            return want

        check_gradients(run, x.numpy(), *[p.numpy().copy() for p in params])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [(2, 1), "same"])
def test_padding_modes_match_numpy_pad_then_a_valid_convolution(mode, padding):
    rng = np.random.default_rng(1)
    layer = nn.Conv2d(2, 3, (3, 4), padding=padding, padding_mode=mode, dtype=mg.float64)
    x = rng.standard_normal((2, 2, 5, 6))
    lo_w, hi_w, lo_h, hi_h = layer._reversed_padding_repeated_twice
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    padded = np.pad(x, ((0, 0), (0, 0), (lo_h, hi_h), (lo_w, hi_w)), mode=np_mode)
    want = F.conv2d(_t(padded), layer.weight, layer.bias).numpy()
    np.testing.assert_allclose(layer(_t(x)).numpy(), want, rtol=1e-12, atol=1e-12)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    check_gradients(lambda xt, wt, bt: F.conv2d(nn.conv.pad_by_mode(xt, [lo_w, hi_w, lo_h, hi_h], mode, "t"),
                                                wt, bt), x, w, b)  # fmt: skip
    c1 = nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode, dtype=mg.float64)
    want1 = F.conv1d(_t(np.pad(x[:, :, 0], ((0, 0), (0, 0), (2, 2)), mode=np_mode)), c1.weight, c1.bias)
    np.testing.assert_allclose(c1(_t(x[:, :, 0])).numpy(), want1.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose_output_size_picks_the_output_padding():
    layer = nn.ConvTranspose2d(1, 2, 3, stride=2, padding=1, dtype=mg.float64)
    x = _t(np.random.default_rng(2).standard_normal((1, 1, 5, 6)))
    assert layer(x).shape == (1, 2, 9, 11)
    for size in [(9, 11), (10, 12), (9, 12), [1, 2, 10, 11]]:
        out = layer(x, output_size=size)
        assert out.shape[2:] == tuple(size[-2:])
        op = tuple(s - v for s, v in zip(size[-2:], (9, 11)))
        np.testing.assert_array_equal(out.numpy(), F.conv_transpose2d(x, layer.weight, layer.bias, 2, 1, op).numpy())
    with pytest.raises(mg.ArgumentError, match=r"ConvTranspose2d: requested an output size of \(11, 11\), but valid "
                                               r"sizes range from \(9, 11\) to \(10, 12\)"):  # fmt: skip
        layer(x, output_size=(11, 11))
    with pytest.raises(mg.ArgumentError, match=r"ConvTranspose2d: output_size must have 2"):
        layer(x, output_size=(10,))
    t1 = nn.ConvTranspose1d(1, 1, 3, stride=3)
    assert t1(mg.zeros(2, 1, 4), output_size=[12]).shape == (2, 1, 12)


def test_unfold_and_fold_layers():
    x = _t(np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5), requires_grad=True)
    unfold, fold = nn.Unfold((2, 3), padding=1, stride=(1, 2)), nn.Fold((4, 5), (2, 3), padding=1, stride=(1, 2))
    cols = unfold(x)
    np.testing.assert_array_equal(cols.numpy(), F.unfold(x, (2, 3), 1, 1, (1, 2)).numpy())
    assert cols.shape == (2, 3 * 6, 5 * 3)
    back = fold(cols)
    np.testing.assert_array_equal(back.numpy(), F.fold(cols, (4, 5), (2, 3), 1, 1, (1, 2)).numpy())
    # fold(unfold(x)) = x times the number of windows that cover each element: a ones image counts them
    counts = fold(unfold(mg.ones(1, 1, 4, 5, dtype=mg.float64))).numpy()
    np.testing.assert_allclose(back.numpy(), x.numpy() * counts)


def test_layer_errors_name_the_layer_and_the_shapes():
    with pytest.raises(mg.ShapeError, match=r"ConvTranspose2d: in_channels 3 and out_channels 2 must be divisible"):
        nn.ConvTranspose2d(3, 2, 3, groups=2)
    with pytest.raises(mg.ShapeError, match=r"Conv1d: in_channels 4 and out_channels 3 must be divisible by groups"):
        nn.Conv1d(4, 3, 3, groups=2)
    with pytest.raises(mg.ShapeError, match=r"Conv1d: groups must be a positive integer"):
        nn.Conv1d(4, 4, 3, groups=0)
    with pytest.raises(mg.ArgumentError, match=r"Conv2d: padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(mg.ArgumentError, match=r"Conv1d: invalid padding string 'full'"):
        nn.Conv1d(1, 1, 3, padding="full")
    with pytest.raises(mg.ArgumentError, match=r"ConvTranspose2d: padding must be an int"):
        nn.ConvTranspose2d(1, 1, 3, padding="same")
    with pytest.raises(mg.ArgumentError, match=r"ConvTranspose2d: only 'zeros' padding mode"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(mg.ArgumentError, match=r"Conv1d: padding_mode must be one of"):
        nn.Conv1d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(mg.ShapeError, match=r"Conv1d: expected an \(N, C, L\) input.*\(1, 1, 2, 3\)"):
        nn.Conv1d(1, 1, 3)(mg.zeros(1, 1, 2, 3))
    with pytest.raises(mg.ShapeError, match=r"ConvTranspose2d: expected an \(N, C, H, W\) input.*\(2, 3\)"):
        nn.ConvTranspose2d(1, 1, 3)(mg.zeros(2, 3))
    with pytest.raises(
        mg.ShapeError, match=r"ConvTranspose2d: expected an input with 1 channels, got .*\(1, 2, 3, 3\)"
    ):
        nn.ConvTranspose2d(1, 1, 3, stride=2)(mg.zeros(1, 2, 3, 3))
    with pytest.raises(mg.ShapeError, match=r"Conv2d: expected an NCHW input of 4 dimensions, got shape \(1, 3, 3\)"):
        nn.Conv2d(1, 1, 1)(mg.zeros(1, 3, 3))
    with pytest.raises(mg.ShapeError, match=r"ConvTranspose2d: output padding must be smaller"):
        nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=2)(mg.zeros(1, 1, 3, 3))
    with pytest.raises(mg.ShapeError, match=r"Conv1d: padding \(3, 3\) in mode 'reflect' must be at most 2"):
        nn.Conv1d(1, 1, 3, padding=3, padding_mode="reflect")(mg.zeros(1, 1, 3))
    x = _t(np.ones((1, 1, 4)), requires_grad=True)
    with pytest.raises(mg.ShapeError):
        nn.Conv1d(1, 1, 5)(x)
    assert x.grad is None and x.numpy().sum() == 4  # the input is left as it was


def test_state_dict_round_trip_and_strict_load():
    a = nn.ConvTranspose2d(4, 6, 3, groups=2)
    b = nn.ConvTranspose2d(4, 6, 3, groups=2)
    b.load_state_dict(a.state_dict())
    x = mg.randn(1, 4, 3, 3)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    with pytest.raises(Exception, match="weight"):
        nn.ConvTranspose2d(4, 6, 2, groups=2).load_state_dict(a.state_dict())


def test_lazy_3d_convolutions_read_the_channels():
    for lazy, eager, shape in ((nn.LazyConv3d, nn.Conv3d, (2, 3, 4, 4, 4)), (nn.LazyConv3d, nn.Conv3d, (3, 4, 4, 4)),
                               (nn.LazyConvTranspose3d, nn.ConvTranspose3d, (3, 2, 2, 2))):  # fmt: skip
        m = lazy(5, 2)
        m(mg.randn(*shape))
        assert type(m) is eager and m.in_channels == 3
        assert m.weight.shape == ((5, 3, 2, 2, 2) if eager is nn.Conv3d else (3, 5, 2, 2, 2))

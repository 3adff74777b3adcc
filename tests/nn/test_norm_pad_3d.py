"""The 3-D normalization, channel dropout and padding layers: BatchNorm3d, LazyBatchNorm3d,
LazyInstanceNorm1d/2d/3d, Dropout3d / F.dropout3d, ZeroPad3d, ReflectionPad3d, ReplicationPad3d,
CircularPad3d. Forward against NumPy (np.pad's modes, the batch-norm formula), gradcheck in float64,
reprs as PyTorch's, errors naming the layer."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.errors import ShapeError

PADS = [(nn.ZeroPad3d, "constant"), (nn.ReflectionPad3d, "reflect"), (nn.ReplicationPad3d, "edge"),
        (nn.CircularPad3d, "wrap")]  # fmt: skip


def _numpy_widths(padding, ndim):
    """F.pad's (left, right, top, bottom, front, back) as np.pad's per-axis pairs."""
    pairs = [(padding[2 * k], padding[2 * k + 1]) for k in range(3)][::-1]
    return [(0, 0)] * (ndim - 3) + pairs


@given(st.sampled_from(PADS), st.booleans(), st.tuples(*[st.integers(0, 2)] * 6), st.integers(0, 10**6))
def test_3d_pads_are_numpys_pad(layer_mode, batched, padding, seed):
    layer, mode = layer_mode
    shape = (2, 2, 3, 3, 4) if batched else (2, 3, 3, 4)
    x = np.random.default_rng(seed).standard_normal(shape)
    out = layer(padding)(mg.tensor(x))
    np.testing.assert_array_equal(out.numpy(), np.pad(x, _numpy_widths(padding, x.ndim), mode=mode))


@pytest.mark.parametrize("layer_mode", PADS)
def test_3d_pads_gradcheck_repr_and_errors(layer_mode):
    layer, _ = layer_mode
    check_gradients(layer((1, 0, 2, 1, 0, 1)), np.random.default_rng(1).standard_normal((1, 2, 2, 3, 3)))
    assert repr(layer(1)) == f"{layer.__name__}((1, 1, 1, 1, 1, 1))"
    assert repr(layer((1, 2, 0, 1, 1, 0))) == f"{layer.__name__}((1, 2, 0, 1, 1, 0))"
    if layer is not nn.ZeroPad3d:  # non-constant modes pad 4-D or 5-D inputs only
        with pytest.raises(ShapeError):
            layer(1)(mg.zeros(3, 4, 4))


def test_zero_pad_3d_crops_with_negative_widths():
    x = np.arange(2 * 4 * 4 * 4.0).reshape(1, 2, 4, 4, 4)
    out = nn.ZeroPad3d((-1, 0, 0, -2, -1, -1))(mg.tensor(x))
    np.testing.assert_array_equal(out.numpy(), x[:, :, 1:-1, :-2, 1:])


def test_dropout3d_drops_whole_volumes_and_scales_the_rest():
    mg.manual_seed(0)
    x = mg.ones(4, 6, 2, 3, 3)
    out = F.dropout3d(x, p=0.5, training=True).numpy()
    per_channel = out.reshape(4, 6, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2.0).all(axis=2))  # one draw per (n, c)
    assert 0 < (per_channel[:, :, 0] == 0).sum() < 24
    layer = nn.Dropout3d(0.5)
    assert repr(layer) == "Dropout3d(p=0.5, inplace=False)"
    layer.eval()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    unbatched = F.dropout3d(mg.ones(6, 2, 3, 3), p=0.5).numpy().reshape(6, -1)  # (C, D, H, W)
    assert np.all((unbatched == 0).all(axis=1) | (unbatched == 2.0).all(axis=1))
    np.testing.assert_array_equal(F.dropout3d(x, p=1.0).numpy(), 0.0)
    with pytest.raises(ShapeError, match="dropout3d: expected a 4-D"):
        F.dropout3d(mg.ones(2, 3, 4), p=0.5)


def test_dropout3d_gradient_is_the_mask():
    mg.manual_seed(3)
    x = mg.tensor(np.random.default_rng(0).standard_normal((2, 3, 2, 2, 2)), requires_grad=True)
    out = F.dropout3d(x, p=0.4)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy() / x.numpy())


def test_batch_norm_3d_normalizes_per_channel_and_tracks_statistics():
    x = np.random.default_rng(0).standard_normal((3, 2, 2, 3, 4)) * 2 + 1
    bn = nn.BatchNorm3d(2).to(dtype=mg.float64)
    assert repr(bn) == "BatchNorm3d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    out = bn(mg.tensor(x)).numpy()
    mean, var = x.mean(axis=(0, 2, 3, 4), keepdims=True), x.var(axis=(0, 2, 3, 4), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12, atol=1e-12)
    n = x.size // 2
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean.ravel(), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var.ravel() * n / (n - 1), rtol=1e-12)
    assert int(bn.num_batches_tracked.item()) == 1
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    check_gradients(nn.BatchNorm3d(2).to(dtype=mg.float64), x[:2, :, :1, :2, :2])
    with pytest.raises(ShapeError, match=r"BatchNorm3d: expected \(N, C, D, H, W\) input"):
        bn(mg.zeros(2, 2, 3, 3))


@pytest.mark.parametrize("lazy, eager, shape", [
    (nn.LazyBatchNorm3d, nn.BatchNorm3d, (2, 3, 2, 2, 2)),
    (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (2, 3, 5)),
    (nn.LazyInstanceNorm1d, nn.InstanceNorm1d, (3, 5)),  # unbatched: the channels are dimension 0
    (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (2, 3, 4, 4)),
    (nn.LazyInstanceNorm2d, nn.InstanceNorm2d, (3, 4, 5)),
    (nn.LazyInstanceNorm3d, nn.InstanceNorm3d, (2, 3, 2, 3, 3)),
])  # fmt: skip
def test_lazy_norms_read_the_channels_and_become_the_layer(lazy, eager, shape):
    m = lazy()
    assert m.has_uninitialized_params()
    m(mg.randn(*shape))
    assert type(m) is eager and m.num_features == 3 and m.affine and m.track_running_stats
    assert m.weight.shape == (3,) and m.running_mean.shape == (3,)

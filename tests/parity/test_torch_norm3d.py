"""The 3-D normalization, dropout and padding layers against PyTorch 2.13: BatchNorm3d's outputs, gradients
and running statistics (and a strict load of a torch state dict), the four 3-D pads (values and gradients,
batched and not), reprs of the lazy layers before their first input."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402


def test_batch_norm_3d_as_torch():
    x = np.random.default_rng(0).standard_normal((3, 2, 2, 3, 4)) * 2 + 1
    g = np.random.default_rng(1).standard_normal(x.shape)
    ours, theirs = nn.BatchNorm3d(2, momentum=0.3).to(dtype=mg.float64), torch.nn.BatchNorm3d(2, momentum=0.3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor([1.5, -0.5]))
        theirs.bias.copy_(torch.tensor([0.1, 0.2]))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()}, strict=True)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ours(xm) * mg.tensor(g)).sum().backward()
    (theirs(xt) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), getattr(theirs, name).grad.numpy(), rtol=1e-10)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("name", ["ZeroPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad3d"])
@pytest.mark.parametrize("padding", [1, (1, 2, 0, 1, 2, 0), (0, 1, 1, 0, 1, 1)])
@pytest.mark.parametrize("batched", [True, False])
def test_3d_pads_as_torch(name, padding, batched):
    x = np.random.default_rng(0).standard_normal((2, 2, 3, 3, 4) if batched else (2, 3, 3, 4))
    g = np.random.default_rng(1).standard_normal(torch.nn.__dict__[name](padding)(torch.tensor(x)).shape)
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_m, out_t = getattr(nn, name)(padding)(xm), getattr(torch.nn, name)(padding)(xt)
    np.testing.assert_array_equal(out_m.numpy(), out_t.detach().numpy())
    (out_m * mg.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert repr(getattr(nn, name)(padding)) == repr(getattr(torch.nn, name)(padding))


def test_zero_pad_3d_negative_widths_crop_as_torch():
    x = np.arange(2 * 4 * 4 * 4.0).reshape(1, 2, 4, 4, 4)
    widths = (-1, 0, 0, -2, -1, 1)
    np.testing.assert_array_equal(nn.ZeroPad3d(widths)(mg.tensor(x)).numpy(),
                                  torch.nn.ZeroPad3d(widths)(torch.tensor(x)).numpy())  # fmt: skip


@pytest.mark.parametrize("name", ["LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"])
def test_lazy_norms_as_torch(name):
    assert repr(getattr(nn, name)()) == repr(getattr(torch.nn, name)())
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 4, 4)[: {"1d": 3, "2d": 4, "3d": 5}[name[-2:]]])
    ours, theirs = getattr(nn, name)().to(dtype=mg.float64), getattr(torch.nn, name)().double()
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)
    assert repr(ours) == repr(theirs) and type(ours).__name__ == type(theirs).__name__
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())


def test_dropout3d_repr_and_eval_as_torch():
    assert repr(nn.Dropout3d(0.3, inplace=True)) == repr(torch.nn.Dropout3d(0.3, inplace=True))

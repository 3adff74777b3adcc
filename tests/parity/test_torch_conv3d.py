"""Conv3d / ConvTranspose3d and their functional forms against PyTorch 2.13: outputs and the gradients of
input, weight and bias to 1e-10 in float64 over strides, paddings (and 'same'), dilations, groups, output
paddings and padding modes; a torch state dict loads strictly and gives torch's outputs; reprs; the lazy
forms; output_size= in ConvTranspose3d.forward."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402


def _compare(ours, theirs, x, rtol=1e-10):
    g = np.random.default_rng(9).standard_normal(tuple(theirs(torch.tensor(x)).shape))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_m, out_t = ours(xm), theirs(xt)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=rtol, atol=1e-12)
    (out_m * mg.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=rtol, atol=1e-12)
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(getattr(ours, name).grad.numpy(), p.grad.numpy(), rtol=rtol, atol=1e-12)


CONV = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), dilation=(1, 2, 1)),
    dict(kernel_size=2, groups=2, bias=False),
    dict(kernel_size=(2, 3, 3), padding="same", dilation=(1, 1, 2)),
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
    dict(kernel_size=3, padding=(1, 2, 1), padding_mode="replicate"),
    dict(kernel_size=3, padding=1, padding_mode="circular", stride=2),
]


@pytest.mark.parametrize("kwargs", CONV, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_conv3d_module_as_torch(kwargs, batched):
    theirs = torch.nn.Conv3d(4, 6, **kwargs).double()
    ours = nn.Conv3d(4, 6, **kwargs).to(dtype=mg.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()}, strict=True)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal((2, 4, 6, 7, 6) if batched else (4, 6, 7, 6))
    _compare(ours, theirs, x)


TRANSPOSED = [
    dict(kernel_size=3),
    dict(kernel_size=(3, 2, 3), stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 0)),
    dict(kernel_size=2, stride=2, groups=2, bias=False, dilation=(1, 2, 1)),
    dict(kernel_size=3, stride=1, dilation=3, output_padding=2),  # output_padding >= stride, below dilation
]


@pytest.mark.parametrize("kwargs", TRANSPOSED, ids=str)
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose3d_module_as_torch(kwargs, batched):
    theirs = torch.nn.ConvTranspose3d(4, 6, **kwargs).double()
    ours = nn.ConvTranspose3d(4, 6, **kwargs).to(dtype=mg.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()}, strict=True)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(1).standard_normal((2, 4, 3, 4, 3) if batched else (4, 3, 4, 3))
    _compare(ours, theirs, x)


def test_conv_transpose3d_output_size_as_torch():
    theirs = torch.nn.ConvTranspose3d(2, 3, 3, stride=2).double()
    ours = nn.ConvTranspose3d(2, 3, 3, stride=2).to(dtype=mg.float64)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3, 3))
    out_t = theirs(torch.tensor(x), output_size=(8, 7, 8))
    out_m = ours(mg.tensor(x), output_size=(8, 7, 8))
    assert out_m.shape == tuple(out_t.shape) == (1, 3, 8, 7, 8)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=1e-10)


def test_initialization_bounds_and_lazy_forms_as_torch():
    ours, theirs = nn.Conv3d(4, 6, (3, 2, 2)), torch.nn.Conv3d(4, 6, (3, 2, 2))
    bound = 1 / np.sqrt(4 * 12)  # kaiming_uniform(a=sqrt(5)) and the bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for p in (ours.weight, ours.bias):
        assert np.abs(p.numpy()).max() <= bound and np.abs(p.numpy()).max() > 0.5 * bound
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for name in ("LazyConv3d", "LazyConvTranspose3d"):
        m, t = getattr(nn, name)(6, 3), getattr(torch.nn, name)(6, 3)
        x = np.random.default_rng(3).standard_normal((1, 4, 4, 4, 4))
        assert m(mg.tensor(x.astype(np.float32))).shape == tuple(t(torch.tensor(x, dtype=torch.float32)).shape)
        assert repr(m) == repr(t) and type(m).__name__ == type(t).__name__


def test_functional_forms_as_torch():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 4, 5, 6, 5)), rng.standard_normal((6, 2, 2, 3, 2)), rng.standard_normal(6)
    out = F.conv3d(mg.tensor(x), mg.tensor(w), mg.tensor(b), (1, 2, 1), (1, 0, 1), (2, 1, 1), 2)
    ref = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), torch.tensor(b), (1, 2, 1), (1, 0, 1),
                                     (2, 1, 1), 2)  # fmt: skip
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)
    wt = rng.standard_normal((4, 3, 2, 3, 2))
    out = F.conv_transpose3d(mg.tensor(x), mg.tensor(wt), None, 2, 1, 1, 2, 1)
    ref = torch.nn.functional.conv_transpose3d(torch.tensor(x), torch.tensor(wt), None, 2, 1, 1, 2, 1)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-10)

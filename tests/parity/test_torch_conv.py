"""minigrad's convolution layers against PyTorch's: a PyTorch layer's state dict loads strictly into the
minigrad layer of the same arguments, and both give the same outputs and gradients (input, weight, bias)
in float64. Also the functional forms F.conv1d / conv_transpose1d/2d / fold / unfold on the same inputs.
Runs where PyTorch is installed; the main tests check the same semantics against loop formulas."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as mnn
import minigrad.nn.functional as MF

torch = pytest.importorskip("torch")


def _load_from_torch(ours, theirs):
    """Copy the PyTorch layer's state dict into ours, strictly (same keys and shapes)."""
    state = {k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())


def _compare(ours, theirs, x, **call):
    rng = np.random.default_rng(7)
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out_m, out_t = ours(xm, **call), theirs(xt, **call)
    assert out_m.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_m.numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(out_m.shape)
    (out_m * mg.tensor(g)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-11, atol=1e-11)
    for (name, pm), (_, pt) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(pm.grad.numpy(), pt.grad.numpy(), rtol=1e-11, atol=1e-11, err_msg=name)


LAYERS = [
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2), (2, 4, 11)),
    ("Conv1d", (4, 6, 4), dict(padding="same", dilation=1), (2, 4, 9)),
    ("Conv1d", (4, 6, 4), dict(padding="valid", bias=False), (4, 9)),
    ("Conv1d", (2, 3, 3), dict(padding=2, padding_mode="circular"), (2, 2, 6)),
    ("Conv1d", (2, 3, 4), dict(padding="same", padding_mode="reflect"), (2, 2, 6)),
    ("Conv1d", (2, 3, 3), dict(padding=1, padding_mode="replicate"), (2, 2, 6)),
    ("Conv2d", (4, 6, (2, 3)), dict(padding="same"), (2, 4, 5, 6)),
    ("Conv2d", (4, 6, (4, 2)), dict(padding="same", dilation=(1, 3), groups=2), (2, 4, 7, 8)),
    ("Conv2d", (4, 6, 3), dict(padding=(1, 2), padding_mode="reflect"), (2, 4, 5, 6)),
    ("Conv2d", (4, 6, 3), dict(padding="valid", stride=2), (2, 4, 7, 6)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2), (2, 4, 3, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(stride=(1, 2), dilation=(3, 1), output_padding=(2, 1)), (2, 4, 3, 3)),
    ("ConvTranspose2d", (3, 2, 3), dict(bias=False, padding=(0, 1)), (3, 4, 5)),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2), (2, 4, 5)),
]


@pytest.mark.parametrize("name, args, kwargs, x_shape", LAYERS)
def test_layer_loads_a_pytorch_state_dict_and_matches_it(name, args, kwargs, x_shape):
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    ours = getattr(mnn, name)(*args, **kwargs, dtype=mg.float64)
    assert ours.weight.shape == tuple(theirs.weight.shape)
    assert repr(ours) == repr(theirs)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(0).standard_normal(x_shape)
    _compare(ours, theirs, x)


def test_conv_transpose2d_output_size_matches_pytorch():
    theirs = torch.nn.ConvTranspose2d(2, 3, 3, stride=3, padding=1, dtype=torch.float64)
    ours = mnn.ConvTranspose2d(2, 3, 3, stride=3, padding=1, dtype=mg.float64)
    _load_from_torch(ours, theirs)
    x = np.random.default_rng(1).standard_normal((1, 2, 3, 4))
    for size in [(7, 10), (9, 12), [1, 3, 8, 11]]:
        _compare(ours, theirs, x, output_size=size)
    with pytest.raises(ValueError):
        theirs(torch.tensor(x), output_size=(10, 10))
    with pytest.raises(ValueError):  # ArgumentError is a ValueError, as PyTorch's
        ours(mg.tensor(x), output_size=(10, 10))


def test_default_initialization_has_pytorchs_bounds():
    """Same distribution as PyTorch (not the same draws): U(-b, b) with b = 1/sqrt(fan_in) for weight and bias
    (kaiming_uniform with a = sqrt(5)), fan_in = weight.shape[1] * kernel size, as PyTorch computes it. Both
    libraries' largest |value| of n draws lies in [b (1e-6)^(1/n), b]: below it with probability 1e-6."""
    for name, args in [("Conv1d", (64, 128, 5)), ("ConvTranspose2d", (64, 32, 3)), ("Conv2d", (16, 64, (3, 2)))]:
        ours = getattr(mnn, name)(*args)
        theirs = getattr(torch.nn, name)(*args)
        bound = 1 / np.sqrt(np.prod(theirs.weight.shape[1:]))
        for key in ("weight", "bias"):
            a, b = ours.state_dict()[key].numpy(), theirs.state_dict()[key].numpy()
            assert a.shape == b.shape and a.dtype == b.dtype
            for values in (a, b):
                assert bound * 1e-6 ** (1 / values.size) <= np.abs(values).max() <= bound * (1 + 1e-6)


def test_fold_and_unfold_match_pytorch():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 6, 7))
    p = dict(kernel_size=(2, 3), dilation=(2, 1), padding=(1, 0), stride=(1, 2))
    xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    cm, ct = MF.unfold(xm, **p), torch.nn.functional.unfold(xt, **p)
    np.testing.assert_array_equal(cm.numpy(), ct.detach().numpy())
    fm, ft = MF.fold(cm, (6, 7), **p), torch.nn.functional.fold(ct, (6, 7), **p)
    np.testing.assert_allclose(fm.numpy(), ft.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(fm.shape)
    (fm * mg.tensor(g)).sum().backward()
    (ft * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    m, t = mnn.Unfold(**p), torch.nn.Unfold(**p)
    assert repr(m) == repr(t)
    assert repr(mnn.Fold((6, 7), **p)) == repr(torch.nn.Fold((6, 7), **p))

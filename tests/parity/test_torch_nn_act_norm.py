"""Parity of activations and normalization with PyTorch: values, gradients, parameter names, shapes,
initialisation, and PyTorch state dicts loaded strictly (torch tensors turned into NumPy arrays here)."""

import math

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F

torch = pytest.importorskip("torch")


def _grad_pair(ours_fn, theirs_fn, x, *extra):
    """Outputs and input gradients of both libraries for the loss sum(w * f(x)) in float64."""
    w = np.random.default_rng(0).standard_normal(np.shape(ours_fn(mg.tensor(x), *[mg.tensor(e) for e in extra])))
    ours = [mg.tensor(a, requires_grad=True) for a in (x, *extra)]
    out = ours_fn(*ours)
    (out * mg.tensor(w)).sum().backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, *extra)]
    expected = theirs_fn(*theirs)
    (expected * torch.tensor(w)).sum().backward()
    return out, expected, ours, theirs


def _assert_same(out, expected, ours, theirs, rtol=1e-12, atol=1e-14):
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


GRID = np.concatenate([np.linspace(-8, 8, 161), [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 25.0]])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate):
    got = _grad_pair(lambda x: F.gelu(x, approximate=approximate),
                     lambda x: torch.nn.functional.gelu(x, approximate=approximate), GRID)  # fmt: skip
    _assert_same(*got, rtol=1e-12, atol=1e-14)  # PyTorch's 1 + erf cancels to ~eps64 in the tail; ours does not
    x32 = GRID.astype(np.float32)
    ours32 = nn.GELU(approximate)(mg.tensor(x32)).numpy()
    theirs32 = torch.nn.GELU(approximate)(torch.from_numpy(x32)).numpy()
    # PyTorch's float32 x (1 + erf(x / sqrt 2)) / 2 cancels for x < 0: its error is up to ~eps32 |x|, where ours
    # (x erfc(-x / sqrt 2) / 2, x sigmoid(2u)) keeps float32's relative accuracy; so the bound is PyTorch's
    bound = 2e-6 * np.abs(theirs32) + 2 * np.finfo(np.float32).eps * np.abs(x32)
    assert np.all(np.abs(ours32.astype(np.float64) - theirs32) <= bound)
    if approximate == "none":  # and against x Phi(x) with Phi from math.erfc, accurate in the tail
        exact = np.array([v * 0.5 * math.erfc(-v / math.sqrt(2)) for v in x32.astype(np.float64)])
        np.testing.assert_allclose(ours32, exact, rtol=3e-6, atol=1e-38)


def _loaded(ours, theirs):
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    missing, unexpected = ours.load_state_dict(state, strict=True)
    assert missing == [] and unexpected == []
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape), k
        assert ours.state_dict()[k].dtype == v.detach().numpy().dtype, k


@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 1e-3}])
@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4), (3, 4)), ((2, 5, 3), [3])])
def test_layer_norm_module_loads_a_torch_state_dict_and_agrees(shape, normalized, kwargs):
    torch.manual_seed(0)
    theirs = torch.nn.LayerNorm(normalized, **kwargs)
    ours = nn.LayerNorm(normalized, **kwargs)
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n1 == n2 and tuple(p1.shape) == tuple(p2.shape)
        np.testing.assert_array_equal(p1.numpy(), p2.detach().numpy())  # the same initialisation
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))
    _loaded(ours, theirs)
    x = (np.random.default_rng(1).standard_normal(shape) * 2 + 1).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)  # fmt: skip
    assert repr(ours) == repr(theirs)


def test_layer_norm_gradients():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 2, 5)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    got = _grad_pair(lambda x, w, b: F.layer_norm(x, (2, 5), w, b),
                     lambda x, w, b: torch.nn.functional.layer_norm(x, (2, 5), w, b), x, w, b)  # fmt: skip
    _assert_same(*got, rtol=1e-10, atol=1e-12)

"""Gradient clipping (minigrad.nn.utils) against the formulas PyTorch documents."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


def _params(device, grads):
    params = []
    for g in grads:
        p = nn.Parameter(mg.zeros(*g.shape, dtype=mg.float64, device=device))
        p.grad = mg.tensor(g, device=device)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.5, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_scales_all_gradients_together(norm_type, max_norm, device):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = _params(device, grads)
    params.append(nn.Parameter(mg.zeros(2, device=device)))  # no gradient: skipped
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if np.isinf(norm_type) else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    returned = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    assert returned.device == device and returned.shape == ()
    np.testing.assert_allclose(returned.item(), total, rtol=1e-12)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-12)


def test_clip_grad_norm_edge_cases():
    assert nn.utils.clip_grad_norm_([nn.Parameter(mg.zeros(2))], 1.0).item() == 0.0
    p = nn.Parameter(mg.zeros(2))
    p.grad = mg.tensor([np.nan, 1.0])
    with pytest.raises(mg.ArgumentError, match="clip_grad_norm_.*nan"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(mg.ArgumentError, match="norm_type must be positive"):
        nn.utils.clip_grad_norm_(p, 1.0, norm_type=0)


def test_clip_grad_value_clips_elementwise_in_place(device):
    (p,) = _params(device, [np.array([-3.0, -0.5, 0.2, 4.0])])
    grad = p.grad
    nn.utils.clip_grad_value_([p], 1.0)
    assert p.grad is grad
    np.testing.assert_array_equal(p.grad.numpy(), [-1.0, -0.5, 0.2, 1.0])
    with pytest.raises(mg.ArgumentError, match="clip_value must be non-negative"):
        nn.utils.clip_grad_value_([p], -1.0)

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


# --- parameters_to_vector / vector_to_parameters ---------------------------------------------------------


def test_parameters_to_vector_flattens_in_order_and_is_differentiable(device):
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((2, 3)), rng.standard_normal(2)
    params = [nn.Parameter(mg.tensor(w, device=device)), nn.Parameter(mg.tensor(b, device=device))]
    vec = nn.utils.parameters_to_vector(params)
    assert vec.shape == (8,) and vec.device == device
    np.testing.assert_array_equal(vec.numpy(), np.concatenate([w.ravel(), b]))
    weights = mg.tensor(np.arange(8.0), device=device)
    (vec * weights).sum().backward()
    np.testing.assert_array_equal(params[0].grad.numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(params[1].grad.numpy(), [6.0, 7.0])
    single = nn.utils.parameters_to_vector(params[1])
    np.testing.assert_array_equal(single.numpy(), b)


def test_parameters_to_vector_gradcheck():
    rng = np.random.default_rng(1)
    a = mg.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(3), requires_grad=True)
    mg.gradcheck(lambda a, b: nn.utils.parameters_to_vector([a, b]) ** 2, (a, b))


def test_vector_to_parameters_writes_views_of_the_vector_without_recording(device):
    model = nn.Linear(3, 2)
    model.to(device)
    params = list(model.parameters())
    vec = mg.tensor(np.arange(8.0), dtype=mg.float32, device=device, requires_grad=True)
    versions = [p._version for p in params]
    nn.utils.vector_to_parameters(vec * 2, params)
    np.testing.assert_array_equal(model.weight.numpy(), 2 * np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(model.bias.numpy(), [12.0, 14.0])
    assert all(p.is_leaf and p.requires_grad and p.dtype == np.float32 for p in params)
    assert [p._version for p in params] == [v + 1 for v in versions]
    loss = model(mg.ones(1, 3, device=device)).sum()
    loss.backward()
    assert vec.grad is None  # not differentiable, as PyTorch's
    plain = mg.tensor(np.zeros(8), dtype=mg.float32, device=device)
    nn.utils.vector_to_parameters(plain, params)
    plain.array[0] = 5.0  # the parameters now share the vector's memory, as in PyTorch
    assert model.weight.numpy()[0, 0] == 5.0
    back = nn.utils.parameters_to_vector(params)
    np.testing.assert_array_equal(back.numpy(), plain.numpy())


def test_vector_to_parameters_invalidates_a_graph_that_saved_the_old_values():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    y = (p * p).sum()
    nn.utils.vector_to_parameters(mg.tensor([3.0, 4.0]), [p])
    with pytest.raises(mg.GraphError, match="modified in place"):
        y.backward()


def test_vector_to_parameters_errors():
    params = [nn.Parameter(mg.zeros(2, 2)), nn.Parameter(mg.zeros(3))]
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.utils.vector_to_parameters(np.zeros(7), params)
    with pytest.raises(mg.ShapeError, match="vec has 6 elements but the parameters need 7"):
        nn.utils.vector_to_parameters(mg.zeros(6), params)
    with pytest.raises(mg.ShapeError, match="1-D"):
        nn.utils.vector_to_parameters(mg.zeros(7, 1), params)
    assert params[0].numpy().tolist() == [[0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(mg.ArgumentError, match="no parameters"):
        nn.utils.parameters_to_vector([])


def test_clip_functions_take_pytorchs_foreach_argument():
    (p,) = _params("cpu", [np.array([3.0, 4.0])])
    total = nn.utils.clip_grad_norm_([p], 1.0, foreach=None)
    np.testing.assert_allclose(total.item(), 5.0)
    nn.utils.clip_grad_value_([p], 0.1, foreach=None)
    assert np.abs(p.grad.numpy()).max() <= 0.1

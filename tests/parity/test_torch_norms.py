"""Parity with PyTorch for the normalization breadth of #17: group_norm / GroupNorm, instance_norm /
InstanceNorm1d-3d, BatchNorm's num_batches_tracked and momentum=None, normalize, cosine_similarity,
pairwise_distance, local_response_norm and their modules. Values and input gradients in float64,
PyTorch state dicts loaded strictly, the same outputs and running statistics over training steps."""

import collections

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402
import minigrad.nn as nn  # noqa: E402
import minigrad.nn.functional as F  # noqa: E402

TF = torch.nn.functional


def _both(ours_fn, theirs_fn, *arrays, seed=0):
    """Outputs and input gradients of both libraries for the loss sum(w * f(inputs)), float64."""
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours_fn(*ours), theirs_fn(*theirs)
    assert tuple(out.shape) == tuple(expected.shape)
    w = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    (out * mg.tensor(w)).sum().backward()
    (expected * torch.tensor(w)).sum().backward()
    return out, expected, ours, theirs


def _assert_same(out, expected, ours, theirs, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    for a, b in zip(ours, theirs):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.numpy())
        else:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


def _state(theirs):
    """PyTorch's state dict as NumPy arrays, keeping its _metadata as PyTorch's own loading reads it."""
    sd = theirs.state_dict()
    state = collections.OrderedDict((k, v.detach().numpy().copy()) for k, v in sd.items())
    state._metadata = sd._metadata
    return state


def _load(ours, theirs):
    state = _state(theirs)
    assert list(ours.state_dict()) == list(state)
    for k, v in state.items():
        assert tuple(ours.state_dict()[k].shape) == v.shape, k
        assert ours.state_dict()[k].dtype == v.dtype, k
    assert ours.load_state_dict(state, strict=True) == ([], [])


def _randomize(theirs):
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape))


# --- group_norm ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, groups", [((2, 6), 3), ((3, 6, 4), 2), ((2, 4, 3, 2), 4), ((1, 4, 5), 1), ((0, 4, 2), 2)]
)
@pytest.mark.parametrize("affine", [False, True])
def test_group_norm_values_and_gradients(shape, groups, affine):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape) * 3 + 1
    if affine:
        w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        got = _both(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-4),
                    lambda x, w, b: TF.group_norm(x, groups, w, b, eps=1e-4), x, w, b)  # fmt: skip
    else:
        got = _both(lambda x: F.group_norm(x, groups), lambda x: TF.group_norm(x, groups), x)
    _assert_same(*got)


@pytest.mark.parametrize("kwargs", [{}, {"affine": False}, {"bias": False}, {"eps": 1e-3}])
def test_group_norm_module_loads_a_torch_state_dict_and_agrees(kwargs):
    torch.manual_seed(0)
    theirs, ours = torch.nn.GroupNorm(2, 6, **kwargs), nn.GroupNorm(2, 6, **kwargs)
    assert repr(ours) == repr(theirs)
    for (n1, p1), (n2, p2) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert n1 == n2
        np.testing.assert_array_equal(p1.numpy(), p2.detach().numpy())  # the same initialisation
    _randomize(theirs)
    _load(ours, theirs)
    x = np.random.default_rng(2).standard_normal((3, 6, 5)).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)  # fmt: skip


# --- instance_norm ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3, 5), (3, 2, 4, 3), (2, 2, 3, 2, 2)])
def test_instance_norm_functional_values_gradients_and_running_stats(shape):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape) * 2 + 1
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    _assert_same(*_both(lambda x: F.instance_norm(x), lambda x: TF.instance_norm(x), x))
    rm_o, rv_o = mg.tensor(rng.standard_normal(shape[1])), mg.tensor(rng.random(shape[1]) + 0.5)
    rm_t, rv_t = torch.tensor(rm_o.numpy().copy()), torch.tensor(rv_o.numpy().copy())
    got = _both(lambda x, w, b: F.instance_norm(x, rm_o, rv_o, w, b, True, 0.3, 1e-3),
                lambda x, w, b: TF.instance_norm(x, rm_t, rv_t, w, b, True, 0.3, 1e-3), x, w, b)  # fmt: skip
    _assert_same(*got)
    np.testing.assert_allclose(rm_o.numpy(), rm_t.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rv_o.numpy(), rv_t.numpy(), rtol=1e-12, atol=1e-14)
    got = _both(lambda x, w, b: F.instance_norm(x, rm_o, rv_o, w, b, use_input_stats=False),
                lambda x, w, b: TF.instance_norm(x, rm_t, rv_t, w, b, use_input_stats=False), x, w, b)  # fmt: skip
    _assert_same(*got)


@pytest.mark.parametrize("name, shape", [("InstanceNorm1d", (4, 3, 6)), ("InstanceNorm1d", (3, 6)),
                                         ("InstanceNorm2d", (2, 3, 4, 3)), ("InstanceNorm2d", (3, 4, 3)),
                                         ("InstanceNorm3d", (2, 3, 2, 3, 2))])  # fmt: skip
@pytest.mark.parametrize("kwargs", [{}, {"affine": True}, {"track_running_stats": True},
                                    {"affine": True, "bias": False, "track_running_stats": True, "momentum": 0.3},
                                    {"track_running_stats": True, "momentum": None}])  # fmt: skip
def test_instance_norm_modules_agree_over_training_and_evaluation(name, shape, kwargs):
    torch.manual_seed(0)
    theirs, ours = getattr(torch.nn, name)(3, **kwargs), getattr(nn, name)(3, **kwargs)
    assert repr(ours) == repr(theirs)
    _randomize(theirs)
    _load(ours, theirs)
    rng = np.random.default_rng(4)
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 - 1).astype(np.float32)
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-5, atol=1e-5, err_msg=f"step {step}")  # fmt: skip
    for (key, mine), (_, their) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        np.testing.assert_allclose(mine.numpy(), their.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-5)  # fmt: skip


# --- BatchNorm: num_batches_tracked, momentum=None ----------------------------------------------------------


@pytest.mark.parametrize(
    "name, shape", [("BatchNorm1d", (8, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (2, 3, 4, 4))]
)
@pytest.mark.parametrize("kwargs", [{}, {"momentum": None}, {"bias": False}, {"affine": False, "momentum": 0.5}])
def test_batch_norm_loads_a_torch_state_dict_strictly_and_counts_batches(name, shape, kwargs):
    torch.manual_seed(0)
    theirs, ours = getattr(torch.nn, name)(3, **kwargs), getattr(nn, name)(3, **kwargs)
    assert repr(ours) == repr(theirs)
    _randomize(theirs)
    rng = np.random.default_rng(5)
    theirs(torch.from_numpy(rng.standard_normal(shape).astype(np.float32)))  # a step: running stats and count move
    _load(ours, theirs)
    assert int(ours.num_batches_tracked.item()) == 1 and ours.num_batches_tracked.dtype == np.int64
    for step in range(4):
        x = (rng.standard_normal(shape) * 3 - 1).astype(np.float32)
        np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=f"step {step}")  # fmt: skip
    for (key, mine), (_, their) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        np.testing.assert_allclose(mine.numpy(), their.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 5
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(mg.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-4, atol=1e-5)  # fmt: skip
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 5  # evaluation does not count
    back = getattr(torch.nn, name)(3, **kwargs)  # and minigrad's state dict loads strictly into PyTorch's module
    back.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}, strict=True)
    assert int(back.num_batches_tracked) == 5 and back.num_batches_tracked.dtype == torch.int64
    np.testing.assert_array_equal(back.running_var.numpy(), ours.running_var.numpy())


def test_batch_norm_state_dict_without_num_batches_tracked_loads_as_in_torch():
    # A plain dict (no _metadata, as minigrad's old checkpoints) without the count: both libraries load it
    # strictly and keep their own count; with PyTorch's _metadata saying version 2, both report the key missing.
    theirs, ours = torch.nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    theirs.num_batches_tracked.fill_(7)
    with mg.no_grad():
        ours.num_batches_tracked.fill_(7)
    old = {k: v for k, v in _state(torch.nn.BatchNorm1d(3)).items() if k != "num_batches_tracked"}
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in old.items()}, strict=True)
    assert ours.load_state_dict(old, strict=True) == ([], [])
    assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked) == 7
    model_t = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    model_o = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    versioned = _state(model_t)
    del versioned["1.num_batches_tracked"]
    as_torch = collections.OrderedDict((k, torch.from_numpy(v)) for k, v in versioned.items())
    as_torch._metadata = versioned._metadata
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: \"1\.num_batches_tracked\""):
        model_t.load_state_dict(as_torch, strict=True)
    with pytest.raises(nn.StateDictError, match=r"missing key: 1\.num_batches_tracked"):
        model_o.load_state_dict(versioned, strict=True)


# --- normalize, cosine_similarity, pairwise_distance ------------------------------------------------------------


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.5])
@pytest.mark.parametrize("dim", [1, 0, -1])
def test_normalize(p, dim):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 2))
    x[0, :, 0] *= 1e-13  # norms below eps: the clamp and its gradient
    x[1, 2, :] = 0.0
    x[:, 1, 1] = 0.0
    _assert_same(*_both(lambda x: F.normalize(x, p, dim), lambda x: TF.normalize(x, p, dim), x), rtol=1e-9)
    _assert_same(*_both(lambda x: F.normalize(x, p, dim, eps=0.5), lambda x: TF.normalize(x, p, dim, eps=0.5), x))


@pytest.mark.parametrize("shapes, dim", [(((4, 5), (4, 5)), 1), (((3, 1, 4), (2, 4)), -1), (((3, 4), (4,)), 1),
                                         (((2, 3, 4), (2, 3, 4)), 0), (((5,), (5,)), 0)])  # fmt: skip
def test_cosine_similarity(shapes, dim):
    rng = np.random.default_rng(7)
    x1, x2 = (rng.standard_normal(s) for s in shapes)
    _assert_same(*_both(lambda a, b: F.cosine_similarity(a, b, dim), lambda a, b: TF.cosine_similarity(a, b, dim),
                        x1, x2))  # fmt: skip
    module = nn.CosineSimilarity(dim, eps=1e-3)
    assert repr(module) == repr(torch.nn.CosineSimilarity(dim, eps=1e-3)) and module.dim == dim and module.eps == 1e-3
    _assert_same(*_both(module, torch.nn.CosineSimilarity(dim, eps=1e-3), x1 * 1e-3, x2))


def test_cosine_similarity_eps_rule_of_pytorch_2():
    # Each norm clamped on its own, outside autograd: below eps the value uses eps, the gradient the norm's.
    rng = np.random.default_rng(8)
    x1, x2 = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    x1[0] *= 1e-10
    x1[1] = 0.0
    x2[2] *= 1e-9
    for eps in (1e-8, 1e-3):
        got = _both(lambda a, b, e=eps: F.cosine_similarity(a, b, eps=e),
                    lambda a, b, e=eps: TF.cosine_similarity(a, b, eps=e), x1, x2)  # fmt: skip
        _assert_same(*got, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.5, 0.0, -1.0])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((2, 3, 4), (4,)), ((6,), (6,)), ((3, 1), (1, 3)), ((), ())])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_distance(p, shapes, keepdim):
    rng = np.random.default_rng(9)
    x1, x2 = (rng.standard_normal(s) for s in shapes)
    got = _both(lambda a, b: F.pairwise_distance(a, b, p, keepdim=keepdim),
                lambda a, b: TF.pairwise_distance(a, b, p, keepdim=keepdim), x1, x2)  # fmt: skip
    _assert_same(*got, rtol=1e-9)
    module = nn.PairwiseDistance(p, eps=1e-3, keepdim=keepdim)
    theirs = torch.nn.PairwiseDistance(p, eps=1e-3, keepdim=keepdim)
    assert repr(module) == repr(theirs) and (module.norm, module.eps, module.keepdim) == (p, 1e-3, keepdim)
    _assert_same(*_both(module, theirs, x1, x2), rtol=1e-9)


# --- local_response_norm ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 5, 4), (2, 6, 3, 3), (1, 4, 2, 3, 2)])
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_local_response_norm(shape, size):
    x = np.random.default_rng(10).standard_normal(shape) * 3
    kw = {"alpha": 0.3, "beta": 0.6, "k": 1.5}
    _assert_same(*_both(lambda x: F.local_response_norm(x, size, **kw),
                        lambda x: TF.local_response_norm(x, size, **kw), x))  # fmt: skip
    module, theirs = nn.LocalResponseNorm(size), torch.nn.LocalResponseNorm(size)
    assert repr(module) == repr(theirs)
    _assert_same(*_both(module, theirs, x))

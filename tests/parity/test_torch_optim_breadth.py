"""Adamax, NAdam and RAdam against torch.optim: 30-step float64 trajectories and the state they keep."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

W0 = np.array([[0.5, -1.0, 0.1], [2.0, 0.25, -0.3]])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7], [0.2, 0.9]])
Y = np.array([[1.0, 0.0, 0.2], [0.0, 1.0, -0.5], [0.5, 0.5, 0.5], [-1.0, 0.3, 0.0]])


def _grad(w):
    """d/dw mean((Xw - Y)^2): both sides get these same gradient bits, so only the update rules differ."""
    return 2 * X.T @ (X @ w - Y) / Y.size


@pytest.fixture(autouse=True)
def _torch_float64_scalars():
    # PyTorch keeps step and NAdam's mu_product in 0-d tensors of its default dtype; in float64 they are exact
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


CASES = [
    ("Adamax", {}),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-4, weight_decay=0.1)),
    ("Adamax", dict(lr=0.02, weight_decay=0.05, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.05, betas=(0.85, 0.99), weight_decay=0.1, momentum_decay=0.05)),
    ("NAdam", dict(lr=0.02, weight_decay=0.2, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, maximize=True, eps=1e-3)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    ("RAdam", dict(lr=0.02, weight_decay=0.3, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.03, betas=(0.5, 0.95), weight_decay=0.1, maximize=True)),
]


def _ids(case):
    return case[0] + "-" + "-".join(f"{k}={v}" for k, v in case[1].items())


def _torch_run(cls, groups, steps):
    params = [torch.tensor(W0.copy()) for _ in groups]
    opt = getattr(torch.optim, cls)([{**g, "params": [p]} for g, p in zip(groups, params)])
    out = []
    for _ in range(steps):
        for p in params:
            p.grad = torch.tensor(_grad(p.numpy()))
        opt.step()
        out.append([p.numpy().copy() for p in params])
    return np.array(out), opt


def _ours_run(cls, groups, steps):
    params = [mg.tensor(W0.copy(), requires_grad=True) for _ in groups]
    opt = getattr(optim, cls)([{**g, "params": [p]} for g, p in zip(groups, params)])
    out = []
    for _ in range(steps):
        for p in params:
            p.grad = mg.tensor(_grad(p.numpy()))
        opt.step()
        out.append([p.numpy().copy() for p in params])
    return np.array(out), opt


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_trajectory_matches_torch(case):
    cls, kwargs = case
    want, topt = _torch_run(cls, [kwargs], 30)
    got, opt = _ours_run(cls, [kwargs], 30)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # the state too, under PyTorch's names
    theirs = topt.state_dict()["state"][0]
    ours = opt.state_dict()["state"][0]
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_allclose(np.asarray(ours[key].numpy() if hasattr(ours[key], "numpy") else ours[key]),
                                   value.numpy(), rtol=1e-10, atol=1e-14)  # fmt: skip


@pytest.mark.parametrize("cls", ["Adamax", "NAdam", "RAdam"])
def test_param_groups_match_torch(cls):
    # (settings where the iteration is stable: with lr=0.05, betas=(0.7, 0.95) NAdam oscillates and magnifies
    # a last-bit difference -- PyTorch's lerp_ uses a fused multiply-add -- about 3x per step)
    groups = [dict(lr=0.01), dict(lr=0.03, weight_decay=0.1, betas=(0.8, 0.99)), dict(lr=0.02, maximize=True)]
    want, topt = _torch_run(cls, groups, 30)
    got, opt = _ours_run(cls, groups, 30)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    theirs = topt.state_dict()["param_groups"]
    ours = opt.state_dict()["param_groups"]
    for mine, their in zip(ours, theirs):
        assert sorted(mine) == sorted(their)  # the same group entries, flags included
        assert {k: v for k, v in mine.items() if k != "betas"} == {k: v for k, v in their.items() if k != "betas"}
        assert tuple(mine["betas"]) == tuple(their["betas"])


@pytest.mark.parametrize("cls", ["Adamax", "NAdam", "RAdam"])
def test_defaults_match_torch(cls):
    import inspect

    theirs = inspect.signature(getattr(torch.optim, cls)).parameters
    ours = inspect.signature(getattr(optim, cls)).parameters
    assert list(ours) == list(theirs)
    for name, p in theirs.items():
        assert ours[name].default == p.default, name
        assert ours[name].kind == p.kind, name

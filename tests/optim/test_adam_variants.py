"""Adamax, NAdam and RAdam against hand-written NumPy recursions of PyTorch's documented update rules."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.errors import ArgumentError

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
STEPS = 30


def _loss(w):
    return (((mg.tensor(X, device=w.device) @ w) - mg.tensor(Y, device=w.device)) ** 2).mean()


def _grad_np(w):
    """d/dw mean((Xw - Y)^2), by hand."""
    return 2 * X.T @ (X @ w - Y) / Y.size


def _run(opt, w, steps):
    """Steps on the hand-written gradient, so that the reference sees the very same gradient bits.

    (Through autograd the gradient differs from _grad_np in the last bit, and g / sqrt(v) near the
    minimum magnifies that to ~1e-11 after 30 steps: it would test the rounding, not the rule.)
    """
    out = []
    for _ in range(steps):
        w.grad = mg.tensor(_grad_np(w.numpy()), device=w.device)
        opt.step()
        out.append(w.numpy().copy())
    return out


def _trajectory(make, steps=STEPS, device="cpu"):
    w = mg.tensor(W0.copy(), requires_grad=True, device=device)
    return _run(make([w]), w, steps)


def _reference(update, steps=STEPS):
    """Run update(w, g, state, t) -> new w from W0 on the hand-written gradient."""
    w, state, out = W0.copy(), {}, []
    for t in range(1, steps + 1):
        w = update(w, _grad_np(w), state, t)
        out.append(w.copy())
    return out


def _decay(w, g, lr, wd, decoupled, maximize):
    """The shared prologue: sign for maximize, then L2 in the gradient or decoupled decay of the weights."""
    g = -g if maximize else g
    if decoupled:
        return w * (1 - lr * wd), g
    return w, g + wd * w


def _adamax(lr=2e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, maximize=False):
    def update(w, g, s, t):
        w, g = _decay(w, g, lr, wd, False, maximize)
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["u"] = np.maximum(b2 * s.get("u", 0.0), np.abs(g) + eps)
        return w - lr / (1 - b1**t) * s["m"] / s["u"]

    return update


def _nadam(lr=2e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, psi=4e-3, decoupled=False, maximize=False):
    def update(w, g, s, t):
        w, g = _decay(w, g, lr, wd, decoupled, maximize)
        mu = b1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        s["P"] = s.get("P", 1.0) * mu
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        d = np.sqrt(s["v"] / (1 - b2**t)) + eps
        return w - lr * (1 - mu) / (1 - s["P"]) * g / d - lr * mu_next / (1 - s["P"] * mu_next) * s["m"] / d

    return update


def _radam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False, maximize=False):
    def update(w, g, s, t):
        w, g = _decay(w, g, lr, wd, decoupled, maximize)
        s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * g * g
        m_hat = s["m"] / (1 - b1**t)
        rho_inf = 2 / (1 - b2) - 1
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        if rho <= 5:
            return w - lr * m_hat
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return w - lr * m_hat * r * math.sqrt(1 - b2**t) / (np.sqrt(s["v"]) + eps)

    return update


CASES = {
    "adamax": (lambda p: optim.Adamax(p), _adamax()),
    "adamax wd maximize": (
        lambda p: optim.Adamax(p, lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1, maximize=True),
        _adamax(0.05, 0.8, 0.99, 1e-3, 0.1, maximize=True),
    ),
    "nadam": (lambda p: optim.NAdam(p), _nadam()),
    "nadam l2": (
        lambda p: optim.NAdam(p, lr=0.05, betas=(0.85, 0.99), weight_decay=0.1, momentum_decay=0.05),
        _nadam(0.05, 0.85, 0.99, wd=0.1, psi=0.05),
    ),
    "nadam decoupled maximize": (
        lambda p: optim.NAdam(p, lr=0.01, weight_decay=0.2, decoupled_weight_decay=True, maximize=True),
        _nadam(0.01, wd=0.2, decoupled=True, maximize=True),
    ),
    "radam": (lambda p: optim.RAdam(p), _radam()),
    "radam l2": (
        lambda p: optim.RAdam(p, lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1),
        _radam(0.05, 0.8, 0.9, 1e-6, 0.1),
    ),
    "radam decoupled maximize": (
        lambda p: optim.RAdam(p, lr=0.02, weight_decay=0.3, decoupled_weight_decay=True, maximize=True),
        _radam(0.02, wd=0.3, decoupled=True, maximize=True),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_follows_the_hand_written_rule(name, device):
    make, update = CASES[name]
    got, want = _trajectory(make, device=device), _reference(update)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_radam_takes_momentum_sgd_steps_until_the_variance_is_tractable():
    # rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t) is about t early on: it passes 5 first at t = 6
    rho = [19 - 2 * t * 0.9**t / (1 - 0.9**t) for t in range(1, 7)]
    assert max(rho[:5]) <= 5 < rho[5]
    w = mg.tensor(W0.copy(), requires_grad=True)
    opt = optim.RAdam([w], lr=0.1, betas=(0.5, 0.9))
    got = _run(opt, w, 6)
    m, x = 0.0, W0.copy()
    for t in range(1, 6):  # momentum SGD with a bias-corrected average: no sqrt(v) anywhere
        m = 0.5 * m + 0.5 * _grad_np(x)
        x = x - 0.1 * m / (1 - 0.5**t)
        np.testing.assert_allclose(got[t - 1], x, rtol=1e-14)
    m = 0.5 * m + 0.5 * _grad_np(x)
    assert np.abs(got[5] - (x - 0.1 * m / (1 - 0.5**6))).max() > 1e-3  # the adaptive step from t = 6


def test_adamax_step_is_bounded_whatever_the_gradient_scale():
    # |g_k| <= u_t / beta2^(t-k), so |m_t| / u_t <= (1 - beta1) sum_{j<t} (beta1 / beta2)^j: a bound on each
    # coordinate's move that holds for gradients from 1e-3 to 1e3 (Adam's would depend on their history)
    w = mg.tensor(np.zeros(4), requires_grad=True)
    opt = optim.Adamax([w], lr=0.01)
    rng = np.random.default_rng(0)
    for t in range(1, 21):
        w.grad = mg.tensor(rng.standard_normal(4) * 10.0 ** rng.integers(-3, 4, size=4))
        before = w.numpy().copy()
        opt.step()
        bound = 0.01 / (1 - 0.9**t) * 0.1 * sum((0.9 / 0.999) ** j for j in range(t))
        assert np.all(np.abs(w.numpy() - before) <= bound * (1 + 1e-12))


def test_state_keys_and_group_entries_are_pytorchs():
    w = mg.tensor(W0.copy(), requires_grad=True)
    opts = [optim.Adamax([w]), optim.NAdam([w]), optim.RAdam([w])]
    for opt in opts:
        _loss(w).backward()
        opt.step()
        w.grad = None
    assert sorted(opts[0].state[id(w)]) == ["exp_avg", "exp_inf", "step"]
    assert sorted(opts[1].state[id(w)]) == ["exp_avg", "exp_avg_sq", "mu_product", "step"]
    assert sorted(opts[2].state[id(w)]) == ["exp_avg", "exp_avg_sq", "step"]
    flags = ["capturable", "differentiable", "foreach", "maximize"]
    assert sorted(opts[0].param_groups[0]) == sorted(["betas", "eps", "lr", "params", "weight_decay", *flags])
    extra = ["momentum_decay", "decoupled_weight_decay"]
    assert sorted(opts[1].param_groups[0]) == sorted(["betas", "eps", "lr", "params", "weight_decay", *extra, *flags])
    assert opts[1].state[id(w)]["mu_product"] == pytest.approx(0.9 * (1 - 0.5 * 0.96**4e-3))


@pytest.mark.parametrize("name", ["adamax wd maximize", "nadam l2", "nadam decoupled maximize", "radam l2"])
def test_state_dict_saved_mid_run_resumes_identically(name, tmp_path):
    make, _ = CASES[name]
    straight = _trajectory(make, steps=12)
    w = mg.tensor(W0.copy(), requires_grad=True)
    opt = make([w])
    _run(opt, w, 6)
    mg.save({"w": w, "opt": opt.state_dict()}, tmp_path / "ckpt.npz")
    saved = mg.load(tmp_path / "ckpt.npz")
    w2 = mg.tensor(saved["w"].numpy(), requires_grad=True)
    opt2 = make([w2])
    opt2.load_state_dict(saved["opt"])
    np.testing.assert_array_equal(_run(opt2, w2, 6), straight[6:])  # bit for bit


@pytest.mark.parametrize("cls", [optim.Adamax, optim.NAdam, optim.RAdam])
def test_parameter_groups_keep_their_own_hyperparameters(cls):
    a = mg.tensor(W0.copy(), requires_grad=True)
    b = mg.tensor(W0.copy(), requires_grad=True)
    opt = cls([{"params": [a]}, {"params": [b], "lr": 0.05, "weight_decay": 0.1, "maximize": True}], lr=0.01)
    alone_a = _trajectory(lambda p: cls(p, lr=0.01), steps=5)
    alone_b = _trajectory(lambda p: cls(p, lr=0.05, weight_decay=0.1, maximize=True), steps=5)
    for k in range(5):
        a.grad, b.grad = mg.tensor(_grad_np(a.numpy())), mg.tensor(_grad_np(b.numpy()))
        opt.step()
        np.testing.assert_array_equal(a.numpy(), alone_a[k])
        np.testing.assert_array_equal(b.numpy(), alone_b[k])
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("cls", [optim.Adamax, optim.NAdam, optim.RAdam])
def test_float32_parameters_stay_float32(cls):
    w = mg.tensor(W0.astype(np.float32), requires_grad=True)
    opt = cls([w], lr=0.01)
    _run(opt, w, 3)
    assert w.dtype == mg.float32
    assert all(v.dtype == np.float32 for v in opt.state[id(w)].values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("cls", [optim.Adamax, optim.NAdam, optim.RAdam])
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=-1e-3), "invalid learning rate"),
        (dict(eps=-1e-8), "eps must be non-negative"),
        (dict(weight_decay=-0.1), "weight_decay must be non-negative"),
        (dict(betas=(1.0, 0.999)), r"betas must be two numbers in \[0, 1\)"),
        (dict(betas=(0.9, -0.1)), r"betas must be two numbers in \[0, 1\)"),
        (dict(betas=(0.9, 1.5)), r"betas must be two numbers in \[0, 1\)"),
        (dict(lr=float("nan")), "invalid learning rate"),
    ],
)
def test_bad_hyperparameters_name_the_optimizer_and_argument(cls, kwargs, message):
    with pytest.raises(ValueError, match=f"{cls.__name__}: {message}"):
        cls([mg.tensor([1.0], requires_grad=True)], **kwargs)


def test_nadam_momentum_decay_and_per_group_values_are_checked():
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="NAdam: momentum_decay must be non-negative, got -0.1"):
        optim.NAdam([w], momentum_decay=-0.1)
    with pytest.raises(ValueError, match="RAdam: eps must be non-negative"):
        optim.RAdam([{"params": [w], "eps": -1.0}])


@pytest.mark.parametrize("cls", [optim.Adamax, optim.NAdam, optim.RAdam])
def test_pytorch_only_flags(cls):
    # foreach and capturable choose how PyTorch computes the same numbers: accepted, same trajectory
    plain = _trajectory(lambda p: cls(p, lr=0.01), steps=4)
    flagged = _trajectory(lambda p: cls(p, lr=0.01, foreach=True, capturable=True), steps=4)
    np.testing.assert_array_equal(plain, flagged)
    # autograd through the update is not what minigrad's in-place array update gives: refused, not ignored
    with pytest.raises(ArgumentError, match=f"{cls.__name__}: differentiable=True is not supported"):
        cls([mg.tensor([1.0], requires_grad=True)], differentiable=True)

"""Each optimizer against hand-computed first steps, PyTorch's trajectories, and its defining behaviour."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import OptimizerStateError

W0 = np.array([[0.5, -1.0], [2.0, 0.25]])
X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, -0.7]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])


def _loss(w):
    return (((mg.tensor(X, device=w.device) @ w) - mg.tensor(Y, device=w.device)) ** 2).mean()


def _grad_np(w):
    """d/dw mean((Xw - Y)^2), by hand."""
    return 2 * X.T @ (X @ w - Y) / Y.size


def _trajectory(make, steps=3, device="cpu"):
    w = mg.tensor(W0.copy(), requires_grad=True, device=device)
    opt = make([w])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(w).backward()
        opt.step()
        out.append(w.numpy().copy())
    return out


def _reference(update, state, steps=3):
    """Run a hand-written NumPy update rule: update(w, g, state, t) -> new w."""
    w, out = W0.copy(), []
    for t in range(1, steps + 1):
        w = update(w, _grad_np(w), state, t)
        out.append(w.copy())
    return out


def _sgd(lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False):
    def update(w, g, s, t):
        g = g + wd * w
        if momentum:
            s["b"] = g.copy() if t == 1 else momentum * s["b"] + (1 - dampening) * g
            g = g + momentum * s["b"] if nesterov else s["b"]
        return w - lr * g

    return update


def _adam(lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False, amsgrad=False):
    def update(w, g, s, t):
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
            v = s["vmax"]
        return w - lr / (1 - b1**t) * s["m"] / (np.sqrt(v) / math.sqrt(1 - b2**t) + eps)

    return update


def _adagrad(lr, lr_decay=0.0, wd=0.0, init=0.0, eps=1e-10):
    def update(w, g, s, t):
        g = g + wd * w
        s["sum"] = s.get("sum", init) + g * g
        return w - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s["sum"]) + eps)

    return update


def _rmsprop(lr, alpha=0.99, eps=1e-8, wd=0.0, momentum=0.0, centered=False):
    def update(w, g, s, t):
        g = g + wd * w
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        if centered:
            s["c"] = alpha * s.get("c", 0) + (1 - alpha) * g
            avg = np.sqrt(s["v"] - s["c"] ** 2) + eps
        else:
            avg = np.sqrt(s["v"]) + eps
        if momentum:
            s["b"] = momentum * s.get("b", 0) + g / avg
            return w - lr * s["b"]
        return w - lr * g / avg

    return update


def _adadelta(lr=1.0, rho=0.9, eps=1e-6, wd=0.0):
    def update(w, g, s, t):
        g = g + wd * w
        s["v"] = rho * s.get("v", 0) + (1 - rho) * g * g
        delta = np.sqrt(s.get("u", 0) + eps) / np.sqrt(s["v"] + eps) * g
        s["u"] = rho * s.get("u", 0) + (1 - rho) * delta * delta
        return w - lr * delta

    return update


def _yogi(lr=1e-2, b1=0.9, b2=0.999, eps=1e-3, init=1e-6, wd=0.0, bias_correction=False):
    def update(w, g, s, t):
        g = g + wd * w
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        v = s.get("v", np.full_like(w, init))
        s["v"] = v - (1 - b2) * np.sign(v - g * g) * g * g
        m_hat, v_hat = s["m"], s["v"]
        if bias_correction:
            m_hat, v_hat = m_hat / (1 - b1**t), v_hat / (1 - b2**t)
        return w - lr * m_hat / (np.sqrt(v_hat) + eps)

    return update


CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), _sgd(0.1)),
    "sgd momentum": (
        lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01),
        _sgd(0.1, 0.9, 0.2, 0.01),
    ),
    "sgd nesterov": (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), _sgd(0.1, 0.9, nesterov=True)),
    "adagrad": (
        lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
        _adagrad(0.1, 0.01, 0.1, 0.1),
    ),
    "rmsprop": (lambda p: optim.RMSprop(p, lr=0.01), _rmsprop(0.01)),
    "rmsprop centered momentum": (
        lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
        _rmsprop(0.01, wd=0.1, momentum=0.5, centered=True),
    ),
    "adadelta": (lambda p: optim.Adadelta(p, weight_decay=0.1), _adadelta(wd=0.1)),
    "adam": (lambda p: optim.Adam(p, lr=0.01), _adam(0.01)),
    "adam amsgrad l2": (
        lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True),
        _adam(0.01, wd=0.1, amsgrad=True),
    ),
    "adamw": (lambda p: optim.AdamW(p, lr=0.01), _adam(0.01, wd=1e-2, decoupled=True)),
    "yogi": (lambda p: optim.Yogi(p), _yogi()),
    "yogi bias correction": (lambda p: optim.Yogi(p, lr=0.05, bias_correction=True), _yogi(0.05, bias_correction=True)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_first_three_steps_match_the_hand_computed_rule(name, device):
    make, update = CASES[name]
    for got, want in zip(_trajectory(make, device=device), _reference(update, {})):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


TORCH = {
    "sgd momentum": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    "sgd nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    "rmsprop centered momentum": ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    "adadelta": ("Adadelta", dict(weight_decay=0.1)),
    "adam amsgrad l2": ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.01)),
}


@pytest.mark.parametrize("name", sorted(TORCH))
def test_trajectory_matches_pytorch(name):
    torch = pytest.importorskip("torch")
    cls, kwargs = TORCH[name]
    w = torch.tensor(W0.copy(), requires_grad=True)
    opt = getattr(torch.optim, cls)([w], **kwargs)
    want = []
    for _ in range(20):
        opt.zero_grad()
        (((torch.tensor(X) @ w) - torch.tensor(Y)) ** 2).mean().backward()
        opt.step()
        want.append(w.detach().numpy().copy())
    got = _trajectory(CASES[name][0], steps=20)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_adam_first_step_has_magnitude_lr_per_coordinate():
    w = mg.tensor([1.0, -2.0, 3.0, 1e-3], dtype=mg.float64, requires_grad=True)
    opt = optim.Adam([w], lr=0.01)
    g = np.array([1e-4, -50.0, 3.0, 1e3])
    (w * mg.tensor(g)).sum().backward()
    before = w.numpy().copy()
    opt.step()
    # lr * |g| / (|g| + eps): lr per coordinate whatever the gradient's scale, up to eps
    np.testing.assert_allclose(np.abs(w.numpy() - before), 0.01 * np.abs(g) / (np.abs(g) + 1e-8), rtol=1e-9)


def test_adagrad_effective_rate_decays_as_one_over_sqrt_t():
    w = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    opt = optim.Adagrad([w], lr=1.0, eps=0.0)
    moves = []
    for _ in range(50):
        opt.zero_grad()
        (w * 2.0).sum().backward()  # a constant gradient of 2
        before = w.item()
        opt.step()
        moves.append(before - w.item())
    t = np.arange(1, 51)
    np.testing.assert_allclose(moves, 1 / np.sqrt(t), rtol=1e-12)


def test_parameter_groups_have_their_own_hyperparameters():
    a = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a + b).sum().backward()
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)
    c = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt.add_param_group({"params": c, "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0.0
    with pytest.raises(ValueError, match="more than one group"):
        opt.add_param_group({"params": [a]})


def test_parameters_without_gradient_are_skipped_and_step_bumps_versions():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([1.0], requires_grad=True)
    opt = optim.Adam([a, b])
    (a * 2).sum().backward()
    opt.step()
    assert b.item() == 1.0 and a.item() != 1.0
    assert a._version == 1 and b._version == 0


def test_step_with_closure_returns_the_loss():
    w = mg.tensor(W0.copy(), requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = _loss(w)
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(_loss(mg.tensor(W0)).item())


def test_zero_grad_to_none_or_zeros():
    w = mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0]
    opt.zero_grad()
    assert w.grad is None


@pytest.mark.parametrize("name", ["sgd momentum", "adam amsgrad l2", "rmsprop centered momentum", "yogi", "adadelta"])
def test_state_dict_round_trips_through_save_and_resumes_the_same_trajectory(name, tmp_path):
    make, _ = CASES[name]
    straight = _trajectory(make, steps=6)[-1]

    w = mg.tensor(W0.copy(), requires_grad=True)
    opt = make([w])
    for _ in range(3):
        opt.zero_grad()
        _loss(w).backward()
        opt.step()
    mg.save({"w": w, "opt": opt.state_dict()}, tmp_path / "ckpt.npz")
    saved = mg.load(tmp_path / "ckpt.npz")
    w2 = mg.tensor(saved["w"].numpy(), requires_grad=True)
    opt2 = make([w2])
    opt2.load_state_dict(saved["opt"])
    for _ in range(3):
        opt2.zero_grad()
        _loss(w2).backward()
        opt2.step()
    np.testing.assert_array_equal(w2.numpy(), straight)


def test_load_state_dict_validates_before_assigning():
    w = mg.tensor(W0.copy(), requires_grad=True)
    opt = optim.Adam([w])
    _loss(w).backward()
    opt.step()
    state = opt.state_dict()
    other = optim.Adam([mg.tensor(np.zeros(3), requires_grad=True)])
    with pytest.raises(OptimizerStateError, match="shape"):
        other.load_state_dict(state)
    assert other.state == {}
    with pytest.raises(OptimizerStateError, match="groups"):
        optim.Adam([w, mg.tensor([1.0], requires_grad=True)]).load_state_dict(state)


def test_bad_arguments():
    w = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD([w], lr=-1.0)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([w], betas=(1.0, 0.9))
    with pytest.raises(TypeError, match="unknown hyperparameters"):
        optim.SGD([{"params": [w], "momentun": 0.9}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.Adagrad(p, lr_decay=-0.1), "Adagrad: lr_decay must be non-negative"),
        (lambda p: optim.Adagrad(p, initial_accumulator_value=-1.0), "Adagrad: initial_accumulator_value"),
        (lambda p: optim.Adagrad(p, eps=-1e-10), "Adagrad: eps must be non-negative"),
        (lambda p: optim.RMSprop(p, alpha=1.5), r"RMSprop: alpha must be in \[0, 1\]"),
        (lambda p: optim.RMSprop(p, momentum=-0.9), "RMSprop: momentum must be non-negative"),
        (lambda p: optim.RMSprop(p, weight_decay=-1.0), "RMSprop: weight_decay must be non-negative"),
        (lambda p: optim.Adadelta(p, rho=-0.1), r"Adadelta: rho must be in \[0, 1\]"),
        (lambda p: optim.Adadelta(p, eps=-1e-6), "Adadelta: eps must be non-negative"),
        (lambda p: optim.Adam(p, eps=-1e-8), "Adam: eps must be non-negative"),
        (lambda p: optim.Adam(p, weight_decay=-0.1), "Adam: weight_decay must be non-negative"),
        (lambda p: optim.AdamW(p, lr=float("nan")), "AdamW: invalid learning rate"),
        (lambda p: optim.Yogi(p, betas=(1.0, 0.999)), r"Yogi: betas must be two numbers in \[0, 1\)"),
        (lambda p: optim.Yogi(p, betas=(0.9, 1.5)), r"Yogi: betas must be two numbers in \[0, 1\)"),
        (lambda p: optim.Yogi(p, initial_accumulator_value=-1.0), "Yogi: initial_accumulator_value"),
        (lambda p: optim.SGD([{"params": p, "momentum": -0.5}], lr=0.1), "SGD: momentum must be non-negative"),
        (lambda p: optim.Newton(p, shrink=2.0), "Newton: need 0 < c < 1 and 0 < shrink < 1"),
        (lambda p: optim.Newton(p, damping=-1.0), "Newton: damping must be non-negative"),
    ],
)
def test_bad_hyperparameters_name_the_optimizer(make, message):
    # they used to be accepted silently and give NaNs or divergence at the first step (Yogi's betas included)
    with pytest.raises(ValueError, match=message):
        make([mg.tensor([1.0], requires_grad=True)])


def test_params_must_be_an_iterable_not_one_tensor():
    # a bare tensor used to be iterated row by row: optimizing copies of its rows in silence, or failing
    # with "can't optimize a non-leaf tensor (shape ())" when it required grad
    for params in (mg.ones(3), mg.ones(3, requires_grad=True), {"params": [mg.ones(3, requires_grad=True)]}):
        with pytest.raises(TypeError, match="SGD: params must be an iterable of tensors or of parameter-group dicts"):
            optim.SGD(params, lr=0.1)

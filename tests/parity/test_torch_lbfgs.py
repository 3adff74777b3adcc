"""LBFGS against torch.optim.LBFGS in float64: iterates, losses and counters over 20 steps, both line searches."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
MLP_X = RNG.standard_normal((16, 3))
MLP_Y = np.sin(MLP_X.sum(axis=1, keepdims=True))
MLP_INIT = [RNG.standard_normal((3, 8)) * 0.5, np.zeros(8), RNG.standard_normal((8, 1)) * 0.5, np.zeros(1)]
LOGIT_X = RNG.standard_normal((40, 4))
LOGIT_Y = np.where(LOGIT_X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.3 * RNG.standard_normal(40) > 0, 1.0, -1.0)[:, None]


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _mlp(lib, w1, b1, w2, b2):
    x, y = lib.tensor(MLP_X), lib.tensor(MLP_Y)
    return ((((x @ w1 + b1).tanh() @ w2 + b2) - y) ** 2).mean()


def _logistic(lib, w, b):
    margin = lib.tensor(LOGIT_Y) * (lib.tensor(LOGIT_X) @ w + b)
    return (1 + (-margin).exp()).log().mean() + 1e-3 * (w * w).sum()


PROBLEMS = {
    "rosenbrock-2d": ([np.array([-1.2, 1.0])], lambda lib, x: _rosenbrock(x)),
    "rosenbrock-10d": ([np.linspace(-1.5, 1.2, 10)], lambda lib, x: _rosenbrock(x)),
    "mlp": (MLP_INIT, _mlp),
    "logistic": ([np.zeros((4, 1)), np.zeros(1)], _logistic),
}


def _run(lib, name, steps, perturb=False, **kwargs):
    """``steps`` calls of step(closure): the loss each returns, the parameters after it, func_evals and n_iter."""
    init, loss_fn = PROBLEMS[name]
    params = [lib.tensor(np.nextafter(a, np.inf) if perturb else a.copy(), requires_grad=True) for a in init]
    opt = (optim.LBFGS if lib is mg else torch.optim.LBFGS)(params, **kwargs)

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, *params)
        loss.backward()
        return loss

    trace = []
    for _ in range(steps):
        loss = float(opt.step(closure).detach())
        state = opt.state[id(params[0])] if lib is mg else opt.state[params[0]]
        values = np.concatenate([p.detach().numpy().ravel() for p in params])
        trace.append((loss, values, state["func_evals"], state["n_iter"]))
    return trace


def _relative_gap(a, b):
    return max(np.max(np.abs(x[1] - y[1]) / np.maximum(np.abs(y[1]), 1e-2)) for x, y in zip(a, b))


def _kwargs_id(kwargs):
    return ",".join(f"{a}={b}" for a, b in kwargs.items()) or "defaults"


SW = {"line_search_fn": "strong_wolfe"}
EVERY_PROBLEM = [
    {"max_iter": 1},  # 20 steps of one iteration: x += t d, no re-evaluation
    {"max_iter": 1, **SW, "max_eval": 25},  # one line search per step
    {"max_iter": 1, **SW},  # max_eval = 1: the line search gets max_ls = 0 (one trial, no bracketing)
    {"max_iter": 1, "history_size": 3, "lr": 0.5},  # the history wraps
    {"max_iter": 1, "history_size": 3, **SW, "max_eval": 25},
]
CASES = [(name, kwargs) for name in PROBLEMS for kwargs in EVERY_PROBLEM] + [
    ("logistic", {}),  # 20 steps of up to 20 iterations each
    ("logistic", SW),
    ("logistic", {"max_iter": 4, "history_size": 3, "lr": 0.5}),
    ("logistic", {"max_iter": 4, "history_size": 3, **SW}),
    ("logistic", {"tolerance_grad": 1e-3, **SW}),  # stops on the gradient
    ("logistic", {"tolerance_change": 1e-4}),  # stops on the change of the loss
    ("rosenbrock-2d", SW),
    ("mlp", SW),
]
# 20 steps of 20 iterations where the trajectory itself amplifies rounding: torch started one ulp away from
# the same point ends more than 1e-10 away from its own run, so no implementation that differs from torch in
# the last bit anywhere (fused multiply-adds in add_(alpha=...), BLAS summation order in dot, the autograd
# of the problem) can agree to 1e-10. Here the branch decisions (the counters) must still agree exactly.
CHAOTIC = [
    ("rosenbrock-2d", {}),
    ("rosenbrock-10d", {}),
    ("rosenbrock-10d", SW),
    ("mlp", {}),
    ("rosenbrock-2d", {"max_iter": 4, "history_size": 3, "lr": 0.5}),
    ("mlp", {"max_iter": 4, "history_size": 3, **SW}),
]


@pytest.mark.parametrize("name, kwargs", CASES, ids=[f"{n}-{_kwargs_id(k)}" for n, k in CASES])
def test_iterates_match_torch(name, kwargs):
    ours, theirs = _run(mg, name, 20, **kwargs), _run(torch, name, 20, **kwargs)
    for step, ((loss_a, values_a, evals_a, iters_a), (loss_b, values_b, evals_b, iters_b)) in enumerate(
        zip(ours, theirs)
    ):
        assert (evals_a, iters_a) == (evals_b, iters_b), f"counters differ at step {step}"
        np.testing.assert_allclose(loss_a, loss_b, rtol=1e-10, atol=1e-14, err_msg=f"loss at step {step}")
        np.testing.assert_allclose(values_a, values_b, rtol=1e-10, atol=1e-12, err_msg=f"parameters at step {step}")


@pytest.mark.parametrize("name, kwargs", CHAOTIC, ids=[f"{n}-{_kwargs_id(k)}" for n, k in CHAOTIC])
def test_rounding_sensitive_runs_take_the_same_branches(name, kwargs):
    ours, theirs = _run(mg, name, 20, **kwargs), _run(torch, name, 20, **kwargs)
    assert [t[2:] for t in ours] == [t[2:] for t in theirs]
    assert _relative_gap(_run(torch, name, 20, perturb=True, **kwargs), theirs) > 1e-10  # why it is in this list


def test_state_dict_keys_match_torch():
    ours, theirs = (_run_state(lib) for lib in (mg, torch))
    assert sorted(ours) == sorted(theirs)
    for key in ("func_evals", "n_iter", "t", "prev_loss"):
        assert ours[key] == pytest.approx(float(theirs[key]), rel=1e-10)
    assert len(ours["old_dirs"]) == len(theirs["old_dirs"]) and len(ours["al"]) == len(theirs["al"])
    np.testing.assert_allclose(ours["d"].numpy(), theirs["d"].numpy(), rtol=1e-10)


def _run_state(lib):
    init, loss_fn = PROBLEMS["logistic"]
    params = [lib.tensor(a.copy(), requires_grad=True) for a in init]
    opt = (optim.LBFGS if lib is mg else torch.optim.LBFGS)(params, max_iter=5, history_size=4, **SW)

    def closure():
        opt.zero_grad()
        loss = loss_fn(lib, *params)
        loss.backward()
        return loss

    opt.step(closure)
    opt.step(closure)
    return opt.state_dict()["state"][0]


@pytest.mark.parametrize("name", ["rosenbrock-2d", "logistic", "mlp"])
def test_float32_runs_follow_torch(name):
    """In float32 the problems' own rounding differs (a loss one ulp apart), so iterates agree to float32 noise
    over a few iterations, and the line search makes the same decisions (its scalars are float32, as torch's)."""
    init, loss_fn = PROBLEMS[name]
    runs = []
    for lib in (mg, torch):
        params = [lib.tensor(a.astype(np.float32), requires_grad=True) for a in init]
        opt = (optim.LBFGS if lib is mg else torch.optim.LBFGS)(params, max_iter=1, max_eval=25, **SW)
        f32 = type("f32", (), {"tensor": staticmethod(lambda a, lib=lib: lib.tensor(np.asarray(a, np.float32)))})

        def closure(opt=opt, params=params, f32=f32):
            opt.zero_grad()
            loss = loss_fn(f32, *params)
            loss.backward()
            return loss

        trace = []
        for _ in range(5):
            opt.step(closure)
            state = opt.state[id(params[0])] if lib is mg else opt.state[params[0]]
            trace.append((np.concatenate([p.detach().numpy().ravel() for p in params]), state["func_evals"]))
        assert trace[-1][0].dtype == np.float32
        runs.append(trace)
    for (a, evals_a), (b, evals_b) in zip(*runs):
        assert evals_a == evals_b
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)

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


# --- schedulers: OneCycleLR, CyclicLR, ChainedScheduler ------------------------------------------------

TL = torch.optim.lr_scheduler
ML = mg.optim.lr_scheduler


def _schedule(module, cls, make, steps):
    """(lr, momentum or beta1) of two groups after construction and after each of ``steps`` steps."""
    if module is TL:
        params = [torch.zeros(1, requires_grad=True) for _ in range(2)]
        opt = getattr(torch.optim, cls)([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}])
    else:
        params = [mg.tensor([0.0], requires_grad=True) for _ in range(2)]
        opt = getattr(optim, cls)([{"params": [params[0]], "lr": 0.1}, {"params": [params[1]], "lr": 0.02}])
    schedulers = make(module, opt)
    schedulers = schedulers if isinstance(schedulers, list) else [schedulers]

    def now():
        return [[g["lr"], g["betas"][0] if "betas" in g else g.get("momentum", 0.0)] for g in opt.param_groups]

    out = [now()]
    for _ in range(steps):
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        out.append(now())
        assert schedulers[-1].get_last_lr() == [lr for lr, _ in out[-1]]
    return np.array(out), opt, schedulers


SCHEDULES = {
    "onecycle": ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=40), 40),
    "onecycle short": ("SGD", lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=3), 3),
    "onecycle linear three-phase adam": (
        "Adam",
        lambda m, o: m.OneCycleLR(o, [1.0, 0.5], 40, anneal_strategy="linear", three_phase=True, pct_start=0.25),
        40,
    ),
    "onecycle epochs nadam": (
        "NAdam",
        lambda m, o: m.OneCycleLR(
            o,
            max_lr=0.3,
            epochs=3,
            steps_per_epoch=7,
            div_factor=10,
            final_div_factor=100,
            base_momentum=[0.8, 0.7],
            max_momentum=0.9,
        ),
        21,
    ),
    "onecycle pct_start 0 three-phase": ("RAdam", lambda m, o: m.OneCycleLR(o, 2.0, 12, pct_start=0.0), 12),
    "onecycle no momentum adagrad": ("Adagrad", lambda m, o: m.OneCycleLR(o, 0.5, 15, cycle_momentum=False), 15),
    "cyclic": ("SGD", lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), 30),
    "cyclic triangular2 adam": (
        "Adam",
        lambda m, o: m.CyclicLR(o, [0.01, 0.001], 0.1, step_size_up=3, step_size_down=5, mode="triangular2"),
        40,
    ),
    "cyclic exp_range rmsprop": (
        "RMSprop",
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.95),
        40,
    ),
    "cyclic scale_fn iterations": (
        "SGD",
        lambda m, o: m.CyclicLR(
            o, 0.01, 0.1, 2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations", base_momentum=0.5
        ),
        20,
    ),
    "cyclic scale_fn cycle sawtooth": (
        "SGD",
        lambda m, o: m.CyclicLR(o, 0.01, 0.1, 3, 0, scale_fn=lambda x: 0.5**x, cycle_momentum=False),
        20,
    ),
    "onecycle then exponential": (
        "SGD",
        lambda m, o: [m.OneCycleLR(o, max_lr=1.0, total_steps=30), m.ExponentialLR(o, gamma=0.95)],
        30,
    ),
    "exponential then onecycle": (
        "SGD",
        lambda m, o: [m.ExponentialLR(o, gamma=0.95), m.OneCycleLR(o, max_lr=1.0, total_steps=30)],
        30,
    ),
    "linear then cyclic": (
        "SGD",
        lambda m, o: [m.LinearLR(o, 0.5, 1.0, 5), m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4)],
        30,
    ),
    "cyclic then step": (
        "SGD",
        lambda m, o: [m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), m.StepLR(o, 3, 0.5)],
        30,
    ),
    "chained constant exponential": (
        "SGD",
        lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=5), m.ExponentialLR(o, 0.9)]),
        20,
    ),
    "chained onecycle multistep": (
        "Adam",
        lambda m, o: m.ChainedScheduler(
            [m.OneCycleLR(o, max_lr=0.5, total_steps=25, cycle_momentum=False), m.MultiStepLR(o, [5, 10], 0.5)],
            optimizer=o,
        ),
        25,
    ),
    "chained cyclic cosine": (
        "SGD",
        lambda m, o: m.ChainedScheduler([m.CyclicLR(o, 0.01, 0.1, 4), m.CosineAnnealingLR(o, T_max=30, eta_min=1e-3)]),
        30,
    ),
    "sequential linear cyclic": (
        "SGD",
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, 1.0, 5), m.CyclicLR(o, 0.01, 0.1, 4)], milestones=[5]),
        30,
    ),
    "sequential cyclic exponential": (
        "Adam",
        lambda m, o: m.SequentialLR(o, [m.CyclicLR(o, 0.01, 0.1, 4), m.ExponentialLR(o, 0.9)], milestones=[10]),
        30,
    ),
    "sequential linear onecycle": (
        "SGD",
        lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, 1.0, 5), m.OneCycleLR(o, 1.0, 20)], milestones=[5]),
        25,
    ),
    "sequential onecycle constant": (
        "SGD",
        lambda m, o: m.SequentialLR(o, [m.OneCycleLR(o, 1.0, 20), m.ConstantLR(o, 0.5, 100)], milestones=[15]),
        25,
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_torch(name):
    cls, make, steps = SCHEDULES[name]
    want, _, _ = _schedule(TL, cls, make, steps)
    got, _, _ = _schedule(ML, cls, make, steps)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "name", ["onecycle linear three-phase adam", "cyclic triangular2 adam", "chained constant exponential"]
)
def test_scheduler_state_has_torchs_entries(name):
    cls, make, steps = SCHEDULES[name]
    _, topt, (tsched,) = _schedule(TL, cls, make, 7)
    _, opt, (sched,) = _schedule(ML, cls, make, 7)
    internal = {"_step_count", "_get_lr_called_within_step", "_is_initial"}  # PyTorch's bookkeeping of call order
    theirs, ours = tsched.state_dict(), sched.state_dict()
    assert set(theirs) - internal <= set(ours)

    def same(a, b):
        if isinstance(b, (list, tuple)):
            return isinstance(a, (list, tuple)) and len(a) == len(b) and all(map(same, a, b))
        if isinstance(b, dict):
            return isinstance(a, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in b)
        if isinstance(b, float):
            return a == pytest.approx(b, rel=1e-12, abs=1e-15)
        return a == b

    for key in set(theirs) - internal - {"_schedulers"}:
        assert same(ours[key], theirs[key]), key
    for mine, their in zip(ours.get("_schedulers", []), theirs.get("_schedulers", [])):
        assert set(their) - internal <= set(mine)
    for mine, their in zip(opt.param_groups, topt.param_groups):  # the group entries the schedule lives in
        for key in ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            assert mine.get(key) == their.get(key), key


@pytest.mark.parametrize(
    "cls, make",
    [
        ("SGD", lambda m, o, last: m.OneCycleLR(o, [1.0, 0.5], 20, three_phase=True, last_epoch=last)),
        ("Adam", lambda m, o, last: m.CyclicLR(o, 0.01, [0.1, 0.2], 3, mode="triangular2", last_epoch=last)),
    ],
)
def test_resuming_with_last_epoch_matches_torch(cls, make):
    # PyTorch's other way to resume: load the optimizer's state, then build the scheduler with last_epoch
    walks = []
    for module in (TL, ML):
        _, opt, _ = _schedule(module, cls, lambda m, o: make(m, o, -1), 6)
        fresh = _schedule(module, cls, lambda m, o: [], 0)[1]
        fresh.load_state_dict(opt.state_dict())
        walks.append(_schedule_on(module, fresh, make(module, fresh, 6), 8))
    np.testing.assert_allclose(walks[1], walks[0], rtol=1e-12, atol=1e-15)


def _schedule_on(module, opt, scheduler, steps):
    def now():
        return [[g["lr"], g["betas"][0] if "betas" in g else g["momentum"]] for g in opt.param_groups]

    out = [now()]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        out.append(now())
    return np.array(out)


def test_cyclic_lr_refuses_what_torch_runs_upside_down():
    # issue #18 lists max_lr below base_lr as bad input; PyTorch runs such a cycle as a dip
    params = [torch.zeros(2, requires_grad=True)]
    torch.optim.lr_scheduler.CyclicLR(torch.optim.SGD(params, lr=0.1), base_lr=0.5, max_lr=0.1, step_size_up=3)
    opt = optim.SGD([mg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(mg.errors.ArgumentError, match="CyclicLR: max_lr 0.1 is below base_lr 0.5"):
        optim.lr_scheduler.CyclicLR(opt, base_lr=0.5, max_lr=0.1, step_size_up=3)

"""Scheduler classes: PyTorch's rates, closed forms, and resumable state."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler as L
from minigrad.optim import schedules


def _opt(lr=0.1):
    return optim.SGD([mg.tensor([1.0], requires_grad=True)], lr=lr, momentum=0.9)


def _rates(scheduler, steps=30):
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return rates


def _torch_rates(make, steps=30):
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    scheduler = make(torch.optim.lr_scheduler, opt)
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
    return rates


CASES = {
    "step": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "multistep": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 20], gamma=0.3),
    "exponential": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "polynomial": lambda m, o: m.PolynomialLR(o, total_iters=15, power=2.0),
    "cosine": lambda m, o: m.CosineAnnealingLR(o, T_max=30, eta_min=0.001),
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=8),
    "lambda": lambda m, o: m.LambdaLR(o, lambda t: 1 / (1 + t)),
    "sequential": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9)], milestones=[5]
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_rates_match_pytorch(name):
    want = _torch_rates(CASES[name])
    got = _rates(CASES[name](L, _opt()))
    assert got == pytest.approx(want, rel=1e-12)


def test_closed_forms():
    assert _rates(L.StepLR(_opt(), 3, gamma=0.5), 7) == pytest.approx([0.1 * 0.5 ** (t // 3) for t in range(8)])
    cosine = _rates(L.CosineAnnealingLR(_opt(), T_max=10, eta_min=0.0), 25)
    assert cosine[:11] == pytest.approx([0.05 * (1 + math.cos(math.pi * t / 10)) for t in range(11)])
    assert cosine[10:] == pytest.approx([0.0] * 16, abs=1e-15)  # pinned at eta_min after T_max


def test_lambda_lr_takes_any_schedule_function():
    schedule = schedules.warmup(schedules.cosine(1.0, 0.0, 20), warmup_steps=5)
    rates = _rates(L.LambdaLR(_opt(0.2), schedule), 30)
    assert rates == pytest.approx([0.2 * schedule(t) for t in range(31)])


def test_state_dict_resumes_the_same_rates():
    straight = _rates(CASES["sequential"](L, _opt()), 20)
    opt = _opt()
    first = CASES["sequential"](L, opt)
    _rates(first, 8)
    resumed_opt = _opt()
    resumed = CASES["sequential"](L, resumed_opt)
    resumed.load_state_dict(first.state_dict())
    assert resumed.get_last_lr() == first.get_last_lr()
    assert [straight[8]] + _rates(resumed, 12)[1:] == pytest.approx(straight[8:])


def test_param_groups_keep_their_own_base_rates():
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    scheduler = L.StepLR(opt, 1, gamma=0.5)
    scheduler.step()
    assert scheduler.get_last_lr() == [0.05, 0.5]


PLATEAU = [1.0, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.5, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(patience=2),
        dict(patience=1, cooldown=2, factor=0.5),
        dict(mode="max", patience=1, threshold_mode="abs", threshold=0.05),
        dict(patience=0, min_lr=0.02),
    ],
)
def test_reduce_on_plateau_follows_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    opt = _opt()
    sched = L.ReduceLROnPlateau(opt, **kwargs)
    for metric in PLATEAU:
        tsched.step(metric)
        sched.step(mg.tensor(metric))
        assert sched.get_last_lr()[0] == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)


def test_reduce_on_plateau_reduces_after_patience():
    opt = _opt()
    sched = L.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    for metric in [1.0, 1.0, 1.0]:
        sched.step(metric)
    assert opt.param_groups[0]["lr"] == 0.1
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 0.05


def test_reduce_on_plateau_checks_min_lr_per_group():
    # a min_lr list shorter than the groups used to be zipped away: the groups past its end were never reduced
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    with pytest.raises(ValueError, match="ReduceLROnPlateau: got 1 min_lr values for 2 parameter groups"):
        L.ReduceLROnPlateau(opt, min_lr=[0.01])
    with pytest.raises(TypeError, match="ReduceLROnPlateau: expected an Optimizer"):
        L.ReduceLROnPlateau([a, b])
    sched = L.ReduceLROnPlateau(opt, min_lr=[0.01, 0.2], patience=0, factor=0.5)
    for metric in [1.0, 1.0, 1.0, 1.0]:
        sched.step(metric)
    assert sched.get_last_lr() == [0.0125, 0.2]  # the second group stops at its own min_lr


CHAINS = {
    "exponential+step": lambda m, o: [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, step_size=3, gamma=0.5)],
    "warmup+cosine": lambda m, o: [m.LinearLR(o, 0.1, 1.0, 5), m.CosineAnnealingLR(o, T_max=30, eta_min=0.001)],
    "linear+step+multistep": lambda m, o: [m.LinearLR(o, 0.2, 1.0, 6), m.StepLR(o, 4), m.MultiStepLR(o, [10, 20])],
    "step+lambda": lambda m, o: [m.StepLR(o, 3, gamma=0.5), m.LambdaLR(o, lambda t: 0.9**t)],
}


def _chained_rates(module, opt, make, steps=30):
    schedulers = make(module, opt)
    rates = [[group["lr"] for group in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        for scheduler in schedulers:
            scheduler.step()
        rates.append([group["lr"] for group in opt.param_groups])
        assert schedulers[-1].get_last_lr() == rates[-1]
    return rates


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chained_schedulers_compose_as_in_pytorch(name):
    # each scheduler used to overwrite the rate with its own closed form: the last one alone counted
    torch = pytest.importorskip("torch")
    topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)])
    want = _chained_rates(torch.optim.lr_scheduler, topt, CHAINS[name])
    opt = optim.SGD([{"params": [mg.tensor([1.0], requires_grad=True)], "lr": lr} for lr in (0.1, 0.02)])
    got = _chained_rates(L, opt, CHAINS[name])
    assert np.asarray(got) == pytest.approx(np.asarray(want), rel=1e-12)


def test_a_scheduler_keeps_what_reduce_on_plateau_did():
    torch = pytest.importorskip("torch")
    rates = []
    for module, opt in [
        (torch.optim.lr_scheduler, torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)),
        (L, _opt()),
    ]:
        decay, plateau = module.ExponentialLR(opt, gamma=0.9), module.ReduceLROnPlateau(opt, patience=1, factor=0.5)
        rates.append([])
        for metric in PLATEAU:
            opt.step()
            decay.step()
            plateau.step(metric)
            rates[-1].append(opt.param_groups[0]["lr"])
    assert rates[1] == pytest.approx(rates[0], rel=1e-12)


def test_chained_schedulers_resume_from_state_dicts():
    def build(opt):
        return [L.LinearLR(opt, 0.1, 1.0, 5), L.ExponentialLR(opt, gamma=0.9)]

    straight = _chained_rates(L, _opt(), lambda m, o: build(o), steps=20)
    opt = _opt()
    first = build(opt)
    for _ in range(7):
        opt.step()
        for scheduler in first:
            scheduler.step()
    resumed_opt = _opt()
    resumed = build(resumed_opt)
    resumed_opt.load_state_dict(opt.state_dict())
    for scheduler, saved in zip(resumed, first):
        scheduler.load_state_dict(saved.state_dict())
    assert resumed_opt.param_groups[0]["lr"] == straight[7][0]
    rest = _chained_rates(L, resumed_opt, lambda m, o: resumed, steps=13)
    assert rest == straight[7:]  # bit for bit


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda o: L.StepLR(o, step_size=0), "StepLR: step_size must be positive"),
        (lambda o: L.CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be positive"),
        (lambda o: L.LinearLR(o, total_iters=0), "LinearLR: total_iters must be positive"),
        (lambda o: L.PolynomialLR(o, total_iters=-2), "PolynomialLR: total_iters must be positive"),
    ],
)
def test_a_zero_period_is_a_clear_error(make, message):
    # these used to fail with a bare ZeroDivisionError from the closed form
    with pytest.raises(ValueError, match=message):
        make(_opt())


def test_constant_lr_matches_pytorch_closed_form():
    got = _rates(L.ConstantLR(_opt(), factor=0.25, total_iters=4), steps=10)
    want = [0.1 * (0.25 if t < 4 else 1.0) for t in range(11)]
    assert got == pytest.approx(want, rel=1e-12)
    with pytest.raises(ValueError, match="ConstantLR: factor"):
        L.ConstantLR(_opt(), factor=1.5)


def test_multiplicative_lr_matches_pytorch_recurrence():
    got = _rates(L.MultiplicativeLR(_opt(), lambda t: 0.9 + 0.01 * t), steps=12)
    want = [0.1]
    for t in range(1, 13):
        want.append(want[-1] * (0.9 + 0.01 * t))
    assert got == pytest.approx(np.array(want), rel=1e-12)
    with pytest.raises(TypeError, match="MultiplicativeLR: lr_lambda"):
        L.MultiplicativeLR(_opt(), 0.9)


def test_constant_and_multiplicative_chain_and_resume():
    opt = _opt()
    warm = L.ConstantLR(opt, factor=0.5, total_iters=3)
    decay = L.MultiplicativeLR(opt, lambda t: 0.8)
    rates = [opt.param_groups[0]["lr"]]
    for _ in range(6):
        opt.step()
        warm.step()
        decay.step()
        rates.append(opt.param_groups[0]["lr"])
    want = [0.1 * (0.5 if t < 3 else 1.0) * 0.8**t for t in range(7)]
    assert rates == pytest.approx(want, rel=1e-12)
    resumed = L.ConstantLR(_opt(), factor=0.5, total_iters=3)
    resumed.load_state_dict(warm.state_dict())
    assert resumed.last_epoch == warm.last_epoch


def _sgdr_recurrence(T_0, T_mult, eta_min, steps, base=0.1):
    """PyTorch's integer-step recurrence: T_cur += 1; on T_cur >= T_i restart with T_i *= T_mult."""
    t_cur, t_i, out = 0, T_0, []
    for _ in range(steps + 1):
        out.append(eta_min + (base - eta_min) * (1 + np.cos(np.pi * t_cur / t_i)) / 2)
        t_cur += 1
        if t_cur >= t_i:
            t_cur, t_i = t_cur - t_i, t_i * T_mult
    return out


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_cosine_warm_restarts_matches_pytorch_recurrence(T_mult):
    got = _rates(L.CosineAnnealingWarmRestarts(_opt(), T_0=3, T_mult=T_mult, eta_min=0.01), steps=40)
    assert got == pytest.approx(_sgdr_recurrence(3, T_mult, 0.01, 40), rel=1e-12)


def test_cosine_warm_restarts_fractional_epochs_and_resume():
    sched = L.CosineAnnealingWarmRestarts(_opt(), T_0=2, T_mult=2, eta_min=0.0)
    for epoch, (t_cur, t_i) in [(0.5, (0.5, 2)), (2.5, (0.5, 4)), (7.25, (1.25, 8)), (1.0, (1.0, 2))]:
        sched.step(epoch)
        assert sched.get_last_lr()[0] == pytest.approx(0.1 * (1 + math.cos(math.pi * t_cur / t_i)) / 2, rel=1e-12)
    sched.step(7.25)
    resumed = L.CosineAnnealingWarmRestarts(_opt(), T_0=2, T_mult=2)
    resumed.load_state_dict(sched.state_dict())
    assert resumed.get_last_lr() == pytest.approx(sched.get_last_lr(), rel=1e-12)
    for bad in [dict(T_0=0), dict(T_0=2, T_mult=0), dict(T_0=2.5)]:
        with pytest.raises(ValueError, match="CosineAnnealingWarmRestarts: T_"):
            L.CosineAnnealingWarmRestarts(_opt(), **bad)

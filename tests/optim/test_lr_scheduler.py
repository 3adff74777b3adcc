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


# --- OneCycleLR, CyclicLR, ChainedScheduler against their closed forms (issue #18) -----------------------

from minigrad.errors import ArgumentError  # noqa: E402


def _two_groups(cls=optim.SGD, **kwargs):
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([1.0], requires_grad=True)
    return cls([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.02}], **kwargs)


def _momentum(group):
    return group["betas"][0] if "betas" in group else group["momentum"]


def _walk(scheduler, steps):
    """[(lr, momentum) per group] after construction and after each step."""
    opt = scheduler.optimizer
    out = [[(g["lr"], _momentum(g)) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        out.append([(g["lr"], _momentum(g)) for g in opt.param_groups])
        assert scheduler.get_last_lr() == [lr for lr, _ in out[-1]]
    return np.array(out)


def _piecewise(knots, t, strategy):
    """Interpolate (step, value) knots at t, cosine or linear on each piece; t past the last knot extrapolates."""
    for (s0, v0), (s1, v1) in zip(knots, knots[1:]):
        if t <= s1 or s1 == knots[-1][0]:
            p = (t - s0) / (s1 - s0)
            return v0 + (v1 - v0) * ((1 - math.cos(math.pi * p)) / 2 if strategy == "cos" else p)


def _one_cycle(max_lr, T, pct=0.3, div=25.0, final=1e4, strategy="cos", three=False, base_m=0.85, max_m=0.95):
    """The 1cycle rates and momenta of steps 0..T from the knots of its phases."""
    lo, e1 = max_lr / div, pct * T - 1
    if three:
        lrs = [(0, lo), (e1, max_lr), (2 * pct * T - 2, lo), (T - 1, lo / final)]
        moms = [(0, max_m), (e1, base_m), (2 * pct * T - 2, max_m), (T - 1, max_m)]
    else:
        lrs, moms = [(0, lo), (e1, max_lr), (T - 1, lo / final)], [(0, max_m), (e1, base_m), (T - 1, max_m)]
    return np.array([[_piecewise(lrs, t, strategy), _piecewise(moms, t, strategy)] for t in range(T + 1)])


@pytest.mark.parametrize(
    "cls, kwargs, reference",
    [
        (optim.SGD, dict(max_lr=[1.0, 0.4], total_steps=40), [dict(max_lr=1.0, T=40), dict(max_lr=0.4, T=40)]),
        (
            optim.Adam,
            dict(
                max_lr=0.5,
                total_steps=30,
                pct_start=0.25,
                anneal_strategy="linear",
                three_phase=True,
                base_momentum=[0.8, 0.7],
                max_momentum=0.9,
                div_factor=10.0,
                final_div_factor=100.0,
            ),
            [
                dict(
                    max_lr=0.5,
                    T=30,
                    pct=0.25,
                    div=10.0,
                    final=100.0,
                    strategy="linear",
                    three=True,
                    base_m=bm,
                    max_m=0.9,
                )
                for bm in (0.8, 0.7)
            ],
        ),  # fmt: skip
        (
            optim.NAdam,
            dict(max_lr=2.0, epochs=4, steps_per_epoch=6, pct_start=0.5),
            [dict(max_lr=2.0, T=24, pct=0.5)] * 2,
        ),
    ],
)
def test_one_cycle_follows_its_closed_form(cls, kwargs, reference):
    opt = _two_groups(cls)
    betas2 = [tuple(g["betas"])[1] for g in opt.param_groups] if "betas" in opt.defaults else None
    got = _walk(L.OneCycleLR(opt, **kwargs), reference[0]["T"])
    for i, ref in enumerate(reference):
        np.testing.assert_allclose(got[:, i], _one_cycle(**ref), rtol=1e-12, atol=1e-15)
    if betas2 is not None:  # Adam-like: the cycle sets betas[0] and leaves betas[1]
        assert [g["betas"][1] for g in opt.param_groups] == betas2
    group = opt.param_groups[0]
    assert group["initial_lr"] == group["max_lr"] / kwargs.get("div_factor", 25.0)
    assert group["min_lr"] == group["initial_lr"] / kwargs.get("final_div_factor", 1e4)


def test_one_cycle_without_momentum_cycling_leaves_momentum_and_takes_any_optimizer():
    opt = optim.Adagrad([mg.tensor([1.0], requires_grad=True)], lr=0.1)
    rates = _rates(L.OneCycleLR(opt, max_lr=1.0, total_steps=20, cycle_momentum=False), steps=20)
    assert rates == pytest.approx(list(_one_cycle(1.0, 20)[:, 0]), rel=1e-12)
    sgd = _opt()
    L.OneCycleLR(sgd, max_lr=1.0, total_steps=20, cycle_momentum=False).step()
    assert sgd.param_groups[0]["momentum"] == 0.9 and "max_momentum" not in sgd.param_groups[0]


def test_one_cycle_refuses_to_step_past_total_steps_and_keeps_its_state():
    sched = L.OneCycleLR(_opt(), max_lr=1.0, total_steps=5)
    rates = _rates(sched, steps=5)  # t = total_steps itself is allowed, as in PyTorch (the formula extrapolates)
    assert rates == pytest.approx(list(_one_cycle(1.0, 5)[:, 0]), rel=1e-12)
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 6 times, but total_steps is 5"):
        sched.step()
    assert sched.last_epoch == 5 and sched.optimizer.param_groups[0]["lr"] == rates[-1]


def test_one_cycle_names_an_empty_phase_instead_of_dividing_by_zero():
    opt = _opt()
    with pytest.raises(ValueError, match=r"OneCycleLR: pct_start and total_steps=10 leave phase 1 .* empty"):
        L.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=0.1)  # pct_start * T - 1 = 0: phase 1 is [0, 0]
    assert "max_lr" not in opt.param_groups[0] and opt.param_groups[0]["momentum"] == 0.9  # nothing changed
    sched = L.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.0)  # warms up over all ten steps
    assert _rates(sched, steps=9)[-1] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="OneCycleLR: pct_start and total_steps=10 leave phase 2"):
        sched.step()
    assert sched.last_epoch == 9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(total_steps=0), "OneCycleLR: total_steps must be a positive integer, got 0"),
        (dict(total_steps=-3), "OneCycleLR: total_steps must be a positive integer"),
        (dict(total_steps=10.0), "OneCycleLR: total_steps must be a positive integer, got 10.0"),
        (dict(), "OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
        (dict(epochs=3), "OneCycleLR: give total_steps, or both epochs and steps_per_epoch"),
        (dict(epochs=0, steps_per_epoch=4), "OneCycleLR: epochs must be a positive integer"),
        (dict(epochs=2, steps_per_epoch=1.5), "OneCycleLR: steps_per_epoch must be a positive integer"),
        (dict(total_steps=10, pct_start=-0.1), r"OneCycleLR: pct_start must be a number in \[0, 1\], got -0.1"),
        (dict(total_steps=10, pct_start=1.5), r"OneCycleLR: pct_start must be a number in \[0, 1\]"),
        (dict(total_steps=10, anneal_strategy="exp"), "OneCycleLR: anneal_strategy must be 'cos' or 'linear'"),
        (dict(total_steps=10, div_factor=0.0), "OneCycleLR: div_factor must be positive"),
        (dict(total_steps=10, final_div_factor=-1.0), "OneCycleLR: final_div_factor must be positive"),
        (dict(total_steps=10, max_lr=[1.0, 2.0, 3.0]), "OneCycleLR: max_lr has 3 values for 2 parameter groups"),
        (dict(total_steps=10, base_momentum=[0.8]), "OneCycleLR: base_momentum has 1 values for 2 parameter groups"),
    ],
)
def test_one_cycle_bad_arguments_name_the_argument_and_change_nothing(kwargs, message):
    opt = _two_groups(momentum=0.5)
    kwargs = {"max_lr": 1.0, **kwargs}
    with pytest.raises(ArgumentError, match=message):
        L.OneCycleLR(opt, **kwargs)
    assert [(g["lr"], g["momentum"]) for g in opt.param_groups] == [(0.1, 0.5), (0.02, 0.5)]
    assert not any(key in opt.param_groups[0] for key in ("initial_lr", "max_lr", "min_lr", "max_momentum"))


@pytest.mark.parametrize("scheduler", ["OneCycleLR", "CyclicLR"])
def test_momentum_cycling_needs_momentum_or_betas(scheduler):
    opt = optim.Adagrad([mg.tensor([1.0], requires_grad=True)], lr=0.1)
    make = {"OneCycleLR": lambda: L.OneCycleLR(opt, 1.0, 10), "CyclicLR": lambda: L.CyclicLR(opt, 0.01, 0.1)}
    with pytest.raises(ArgumentError, match=f"{scheduler}: cycle_momentum=True needs .* Adagrad has neither"):
        make[scheduler]()
    assert opt.param_groups[0]["lr"] == 0.1
    with pytest.raises(TypeError, match=f"{scheduler}: expected an Optimizer"):
        getattr(L, scheduler)([mg.tensor([1.0])], 0.1, 1.0)


def _resume(make, steps, split, tmp_path):
    """The walk of ``make(opt)`` uninterrupted, and the one saved at ``split`` and resumed on fresh objects."""
    straight = _walk(make(_two_groups(optim.Adam)), steps)
    opt = _two_groups(optim.Adam)
    first = make(opt)
    _walk(first, split)
    mg.save({"opt": opt.state_dict(), "sched": first.state_dict()}, tmp_path / "ckpt.npz")
    saved = mg.load(tmp_path / "ckpt.npz")
    opt2 = _two_groups(optim.Adam)
    second = make(opt2)
    opt2.load_state_dict(saved["opt"])
    second.load_state_dict(saved["sched"])
    return straight, _walk(second, steps - split)


def test_one_cycle_resuming_with_last_epoch_needs_the_groups_entries():
    opt = _opt()
    with pytest.raises(ArgumentError, match=r"OneCycleLR: resuming at last_epoch=3 needs the param groups' \['base_"):
        L.OneCycleLR(opt, max_lr=1.0, total_steps=20, last_epoch=3)
    first = _opt()
    _rates(L.OneCycleLR(first, max_lr=1.0, total_steps=20), steps=3)
    opt.load_state_dict(first.state_dict())  # now the groups carry initial_lr, max_lr, min_lr and the momenta
    resumed = L.OneCycleLR(opt, max_lr=1.0, total_steps=20, last_epoch=3)
    assert resumed.last_epoch == 4
    assert resumed.get_last_lr() == pytest.approx([_one_cycle(1.0, 20)[4, 0]], rel=1e-12)


def test_one_cycle_resumes_from_saved_state(tmp_path):
    straight, resumed = _resume(
        lambda o: L.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=30, three_phase=True), 30, 11, tmp_path
    )
    np.testing.assert_array_equal(resumed, straight[11:])  # bit for bit, momenta included


def _cyclic_closed_form(base, top, up, down, t, scale=lambda cycle, t: 1.0):
    """The triangle wave of height 1 at step t (piecewise, by position in the cycle) times scale(cycle, t)."""
    length = up + down
    cycle, position = t // length + 1, t % length
    height = position / up if position <= up else (length - position) / down
    return base + (top - base) * height * scale(cycle, t)


def test_cyclic_triangular_is_the_papers_formula():
    # Smith (2017): cycle = floor(1 + t / 2s), x = |t / s - 2 cycle + 1|, lr = base + (max - base) max(0, 1 - x)
    opt = _two_groups()
    got = _walk(L.CyclicLR(opt, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=4), 30)
    for i, (base, top) in enumerate([(0.01, 0.1), (0.001, 0.05)]):
        cycle = np.floor(1 + np.arange(31) / 8)
        x = np.abs(np.arange(31) / 4 - 2 * cycle + 1)
        np.testing.assert_allclose(got[:, i, 0], base + (top - base) * np.maximum(0, 1 - x), rtol=1e-12)
        np.testing.assert_allclose(got[:, i, 1], 0.9 - 0.1 * np.maximum(0, 1 - x), rtol=1e-12)  # the other way


@pytest.mark.parametrize(
    "kwargs, scale",
    [
        (dict(mode="triangular2"), lambda cycle, t: 0.5 ** (cycle - 1)),
        (dict(mode="exp_range", gamma=0.97), lambda cycle, t: 0.97**t),
        (dict(mode="exp_range", gamma=0.97, scale_mode="cycle"), lambda cycle, t: 0.97**t),  # fixed by the mode
        (dict(scale_fn=lambda x: 1 / (1 + x)), lambda cycle, t: 1 / (1 + cycle)),
        (dict(scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations"), lambda cycle, t: 1 / (1 + t)),
        (dict(mode="not a mode", scale_fn=lambda x: 0.9**x), lambda cycle, t: 0.9**cycle),  # scale_fn wins
    ],
)
def test_cyclic_modes_and_scale_functions(kwargs, scale):
    opt = _two_groups(optim.Adam)
    got = _walk(L.CyclicLR(opt, 0.01, 0.1, step_size_up=3, step_size_down=5, base_momentum=0.7, **kwargs), 40)
    lrs = [_cyclic_closed_form(0.01, 0.1, 3, 5, t, scale) for t in range(41)]
    moms = [0.9 - (_cyclic_closed_form(0.0, 0.2, 3, 5, t, scale)) for t in range(41)]
    np.testing.assert_allclose(got[:, 0, 0], lrs, rtol=1e-12)
    np.testing.assert_allclose(got[:, 1, 1], moms, rtol=1e-12)  # betas[0] of an Adam-like optimizer
    assert all(g["betas"][1] == 0.999 for g in opt.param_groups)


def test_cyclic_refuses_max_lr_below_base_lr_and_a_zero_step_down_is_a_sawtooth():
    opt = _two_groups()
    before = [dict(g) for g in opt.param_groups]
    with pytest.raises(ArgumentError, match=r"CyclicLR: max_lr 0.002 is below base_lr 0.004 \(param group 1\)"):
        L.CyclicLR(opt, base_lr=[0.001, 0.004], max_lr=0.002)
    assert opt.param_groups == before  # nothing changed
    saw = _rates(L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=4, step_size_down=0, cycle_momentum=False), 12)
    assert saw == pytest.approx([0.01 + 0.09 * (t % 4) / 4 for t in range(13)], rel=1e-12)


def test_cyclic_sets_base_lr_at_construction():
    opt = _two_groups()
    L.CyclicLR(opt, base_lr=[0.003, 0.004], max_lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.003, 0.004]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]  # max_momentum at the foot of the cycle
    # as PyTorch: step 0 uses the groups' initial_lr, which an earlier scheduler may have recorded already
    opt = _opt(0.1)
    L.StepLR(opt, 10)
    sched = L.CyclicLR(opt, base_lr=0.003, max_lr=0.1, step_size_up=4)
    assert sched.get_last_lr() == [0.1]
    sched.step()
    assert sched.get_last_lr() == pytest.approx([0.003 + 0.097 / 4], rel=1e-12)


class _Decay:
    """A scale_fn with state: PyTorch saves a callable object's attributes (a function is not saved)."""

    def __init__(self, rate):
        self.rate = rate

    def __call__(self, x):
        return self.rate**x


def test_cyclic_state_dict_saves_a_callable_objects_attributes_not_a_function(tmp_path):
    sched = L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 0.5**x)
    assert sched.state_dict()["_scale_fn_custom"] is None and "scale_fn" not in sched.state_dict()
    sched = L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=2, scale_fn=_Decay(0.5))
    _rates(sched, 3)
    sched._scale_fn_custom.rate = 0.8
    state = sched.state_dict()
    assert state["_scale_fn_custom"] == {"rate": 0.8}
    mg.save(state, tmp_path / "s.npz")
    fresh = L.CyclicLR(_opt(), 0.01, 0.1, step_size_up=2, scale_fn=_Decay(0.5))
    fresh.load_state_dict(mg.load(tmp_path / "s.npz"))
    assert fresh._scale_fn_custom.rate == 0.8 and fresh.last_epoch == 3
    assert fresh.get_last_lr() == pytest.approx([_cyclic_closed_form(0.01, 0.1, 2, 2, 3, lambda c, t: 0.8**c)])


def test_cyclic_resumes_from_saved_state(tmp_path):
    def make(o):
        return L.CyclicLR(o, [0.01, 0.002], 0.1, step_size_up=3, step_size_down=4, mode="triangular2")

    straight, resumed = _resume(make, 30, 13, tmp_path)
    np.testing.assert_array_equal(resumed, straight[13:])


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(step_size_up=0), ArgumentError, "CyclicLR: step_size_up must be positive, got 0"),
        (dict(step_size_up=-2), ArgumentError, "CyclicLR: step_size_up must be positive"),
        (dict(step_size_down=-1), ArgumentError, "CyclicLR: step_size_down must be non-negative"),
        (dict(mode="cosine"), ArgumentError, "CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range'"),
        (dict(scale_fn=lambda x: 1.0, scale_mode="epochs"), ArgumentError, "CyclicLR: scale_mode must be"),
        (dict(scale_fn=0.5), TypeError, "CyclicLR: scale_fn must be callable"),
        (dict(base_lr=[0.1]), ArgumentError, "CyclicLR: base_lr has 1 values for 2 parameter groups"),
        (dict(max_momentum=[0.9, 0.9, 0.9]), ArgumentError, "CyclicLR: max_momentum has 3 values"),
    ],
)
def test_cyclic_bad_arguments_name_the_argument_and_change_nothing(kwargs, error, message):
    opt = _two_groups(momentum=0.5)
    with pytest.raises(error, match=message):
        L.CyclicLR(opt, **{"base_lr": 0.01, "max_lr": 0.1, **kwargs})
    assert [(g["lr"], g["momentum"]) for g in opt.param_groups] == [(0.1, 0.5), (0.02, 0.5)]


def test_chained_scheduler_steps_each_in_order():
    opt = _opt()
    chain = L.ChainedScheduler([L.ConstantLR(opt, factor=0.1, total_iters=5), L.ExponentialLR(opt, gamma=0.9)])
    assert _rates(chain, 20) == pytest.approx([0.1 * (0.1 if t < 5 else 1.0) * 0.9**t for t in range(21)], rel=1e-12)
    cyc_opt = _opt()
    chain = L.ChainedScheduler([L.CyclicLR(cyc_opt, 0.01, 0.1, 4), L.StepLR(cyc_opt, 3, 0.5)], optimizer=cyc_opt)
    want = [_cyclic_closed_form(0.01, 0.1, 4, 4, t) * 0.5 ** (t // 3 - (t - 1) // 3 if t else 0) for t in range(21)]
    assert _rates(chain, 20) == pytest.approx(want, rel=1e-12)  # CyclicLR sets, then StepLR scales that step


def test_chained_scheduler_resumes_from_saved_state(tmp_path):
    def make(o):
        return L.ChainedScheduler([L.LinearLR(o, 0.2, 1.0, 6), L.OneCycleLR(o, 1.0, 25), L.ExponentialLR(o, 0.95)])

    straight, resumed = _resume(make, 25, 9, tmp_path)
    np.testing.assert_array_equal(resumed, straight[9:])
    state = make(_two_groups(optim.Adam)).state_dict()
    assert [entry["last_epoch"] for entry in state["_schedulers"]] == [0, 0, 0] and "optimizer" not in state
    with pytest.raises(ArgumentError, match="ChainedScheduler.load_state_dict: the state holds 3 schedulers"):
        L.ChainedScheduler([L.StepLR(_opt(), 2)]).load_state_dict(state)


def test_chained_scheduler_bad_arguments():
    opt, other = _opt(), _opt()
    with pytest.raises(ArgumentError, match="ChainedScheduler: expects at least one scheduler"):
        L.ChainedScheduler([])
    with pytest.raises(ArgumentError, match=r"ChainedScheduler: schedulers\[1\] is a ReduceLROnPlateau"):
        L.ChainedScheduler([L.StepLR(opt, 2), L.ReduceLROnPlateau(opt)])
    with pytest.raises(ArgumentError, match=r"ChainedScheduler: schedulers\[1\] \(StepLR\) adjusts another optimizer"):
        L.ChainedScheduler([L.StepLR(opt, 2), L.StepLR(other, 2)])
    with pytest.raises(ArgumentError, match=r"ChainedScheduler: schedulers\[0\] \(StepLR\) adjusts another"):
        L.ChainedScheduler([L.StepLR(opt, 2)], optimizer=other)
    with pytest.raises(TypeError, match=r"ChainedScheduler: schedulers\[0\] is a function"):
        L.ChainedScheduler([lambda: None])


def test_sequential_runs_cyclic_and_one_cycle_phases_from_their_own_settings():
    opt = _opt()
    seq = L.SequentialLR(opt, [L.LinearLR(opt, 0.1, 1.0, 5), L.CyclicLR(opt, 0.01, 0.1, 4)], milestones=[5])
    got = _walk(seq, 20)
    warm = [0.1 * (0.1 + 0.9 * t / 5) for t in range(5)]
    np.testing.assert_allclose(got[:, 0, 0], warm + [_cyclic_closed_form(0.01, 0.1, 4, 4, t) for t in range(16)])
    np.testing.assert_allclose(got[5:, 0, 1], [0.9 - _cyclic_closed_form(0.0, 0.1, 4, 4, t) for t in range(16)])
    opt = _opt()
    seq = L.SequentialLR(opt, [L.OneCycleLR(opt, 1.0, 20), L.ConstantLR(opt, 0.5, 100)], milestones=[15])
    np.testing.assert_allclose(_walk(seq, 16)[:15, 0], _one_cycle(1.0, 20)[:15], rtol=1e-12)

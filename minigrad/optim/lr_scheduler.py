"""Learning-rate schedulers as PyTorch's ``torch.optim.lr_scheduler``.

Each scheduler sets ``group["lr"]`` from a closed form of the step count
``last_epoch`` (0 right after construction; each ``step()`` adds one):
``lr = f(base_lr, t)``. Closed forms mean resuming from ``state_dict`` gives
exactly the rates of an uninterrupted run.

Chaining, as PyTorch: when something else changed a group's rate since the
scheduler last set it (a second scheduler on the same optimizer,
:class:`ReduceLROnPlateau`, the user), the scheduler multiplies the rate it
finds by f(t) / f(t - 1) instead of overwriting it, so chained schedulers
compose multiplicatively (a LinearLR warmup times a cosine decay);
CosineAnnealingLR scales the distance to eta_min instead, and LambdaLR
always sets base_lr * lr_lambda(t), as in PyTorch. A scheduler alone still
sets f(base_lr, t) exactly.

One documented difference from PyTorch: :class:`CosineAnnealingLR` stays at
``eta_min`` after ``T_max`` steps instead of climbing back up (PyTorch's
closed form is periodic).
"""

from __future__ import annotations

import bisect
import math
import types

from ..errors import ArgumentError
from ..interpreter import host_call
from .optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define ``lr_at(base_lr, t)``."""

    _chainable = True  # scale a rate that something else changed, rather than overwrite it
    _chain_floor = 0.0  # chained, the rate's distance to this floor is what gets scaled

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        # the rates this scheduler set last (its own f(base_lr, t)); a group still at its base rate is untouched
        self._scheduled_lr = list(self.base_lrs) if last_epoch < 0 else self._rates_at(last_epoch)
        self._set_rates(self.last_epoch + 1, untouched=self.base_lrs)

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def _rates_at(self, t) -> list:
        """This scheduler's own rate for every group at step t (a scheduler with per-group settings overrides it)."""
        return [self.lr_at(base, t) for base in self.base_lrs]

    @host_call  # minigrad.compile replays the call itself
    def step(self) -> None:
        """Advance one step and set every group's learning rate (scaling it, if chained; see the module)."""
        self._set_rates(self.last_epoch + 1)

    def _set_rates(self, t: int, untouched=()) -> None:
        new = self._rates_at(t)  # first, so that a closed form that refuses t leaves the scheduler as it was
        self.last_epoch = t
        for i, (group, lr, previous) in enumerate(zip(self.optimizer.param_groups, new, self._scheduled_lr)):
            current = group["lr"]
            alone = current == previous or (i < len(untouched) and current == untouched[i])
            floor = self._chain_floor
            if alone or not self._chainable or previous == floor:
                group["lr"] = lr
            else:
                group["lr"] = floor + (current - floor) * ((lr - floor) / (previous - floor))
        self._scheduled_lr = new
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        """The learning rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer (and functions, which cannot be saved)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer" and not callable(v) and k != "schedulers"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the step count; set a group's rate too unless something else set it since this scheduler did.

        So a scheduler alone resumes its rates even on a fresh optimizer, and
        chained schedulers leave the rates that the optimizer's own
        ``load_state_dict`` restored.
        """
        left = self._last_lr
        self.__dict__.update(state_dict)
        self._scheduled_lr = self._rates_at(self.last_epoch)
        for group, lr, mine in zip(self.optimizer.param_groups, self._scheduled_lr, left):
            if group["lr"] == mine:
                group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _check_positive(name: str, argument: str, value) -> None:
    """A period or length a closed form divides by must be positive (0 would be a ZeroDivisionError)."""
    if not value > 0:
        raise ValueError(f"{name}: {argument} must be positive, got {value!r}")


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(t): any function of the step, e.g. from :mod:`minigrad.optim.schedules`.

    Not chainable, as in PyTorch: it sets that rate whatever other schedulers did.
    """

    _chainable = False

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.lr_lambda(t)


class StepLR(LRScheduler):
    """lr = base_lr * gamma^floor(t / step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check_positive("StepLR", "step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma^(number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** bisect.bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma^t."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma**t


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(t, total_iters) / total_iters)^power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        _check_positive("PolynomialLR", "total_iters", total_iters)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (1 - min(t, self.total_iters) / self.total_iters) ** self.power


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min)(1 + cos(pi min(t, T_max) / T_max)) / 2, then eta_min after T_max."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _check_positive("CosineAnnealingLR", "T_max", T_max)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    @property
    def _chain_floor(self):
        return self.eta_min

    def lr_at(self, base_lr, t):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * min(t, self.T_max) / self.T_max)) / 2


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) min(t, total_iters) / total_iters): a warmup."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        _check_positive("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        fraction = min(t, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * fraction)


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for t < total_iters, then base_lr (PyTorch's ``ConstantLR``)."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if not 0 <= factor <= 1:
            raise ValueError(f"ConstantLR: factor must be in [0, 1], got {factor!r}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * (self.factor if t < self.total_iters else 1.0)


class MultiplicativeLR(LRScheduler):
    """lr_t = lr_{t-1} * lr_lambda(t) for t >= 1, i.e. base_lr * prod_{k=1}^{t} lr_lambda(k) (PyTorch's recurrence)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        if not callable(lr_lambda):
            raise TypeError(f"MultiplicativeLR: lr_lambda must be callable, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        lr = base_lr
        for k in range(1, t + 1):
            lr *= self.lr_lambda(k)
        return lr


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: lr = eta_min + (base_lr - eta_min)(1 + cos(pi T_cur / T_i)) / 2, restarting after each period.

    The first period is T_0 steps, each next one T_mult times longer. With an
    epoch t (fractional allowed, as PyTorch's ``step(epoch)``): for T_mult = 1,
    T_cur = t mod T_0; otherwise n = floor(log_{T_mult}(t (T_mult - 1) / T_0 + 1)),
    T_i = T_0 T_mult^n, T_cur = t - T_0 (T_mult^n - 1) / (T_mult - 1). Sets its
    rate outright, as PyTorch's closed form does. ``last_epoch`` keeps the
    (possibly fractional) epoch last given, so a saved state resumes exactly.
    """

    _chainable = False

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_0 must be a positive integer, got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: T_mult must be an integer >= 1, got {T_mult!r}")
        self.T_0, self.T_mult, self.eta_min = T_0, T_mult, eta_min
        super().__init__(optimizer, last_epoch)

    def _period(self, t):
        """(T_cur, T_i) at epoch t."""
        if t < self.T_0:
            return t, self.T_0
        if self.T_mult == 1:
            return t % self.T_0, self.T_0
        n = int(math.log(t / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        return t - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1), self.T_0 * self.T_mult**n

    def lr_at(self, base_lr, t):
        t_cur, t_i = self._period(t)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2

    @host_call  # minigrad.compile replays the call itself
    def step(self, epoch=None) -> None:
        """Advance one step, or jump to ``epoch`` (which may be fractional, e.g. ``epoch + i / iters``)."""
        if epoch is not None and epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: epoch must be non-negative, got {epoch!r}")
        self._set_rates(self.last_epoch + 1 if epoch is None else epoch)


class SequentialLR(LRScheduler):
    """schedulers[i] from milestones[i-1] on, each restarted at its milestone (PyTorch's ``SequentialLR``)."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) != len(milestones) + 1:
            raise ValueError("SequentialLR: need one more scheduler than milestones")
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        for group in optimizer.param_groups:  # undo the schedulers' own first steps, as PyTorch does
            group["lr"] = group.get("initial_lr", group["lr"])
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        i = bisect.bisect_right(self.milestones, t)
        start = 0 if i == 0 else self.milestones[i - 1]
        return self.schedulers[i].lr_at(base_lr, t - start)

    def _phase(self, t):
        """The scheduler in charge at step t and its own step count there."""
        i = bisect.bisect_right(self.milestones, t)
        return self.schedulers[i], t - (0 if i == 0 else self.milestones[i - 1])

    def _rates_at(self, t):
        scheduler, local = self._phase(t)
        if getattr(scheduler, "_per_group_rates", False):  # OneCycleLR, CyclicLR: their own per-group settings
            return scheduler._rates_at(local)
        return super()._rates_at(t)

    def _set_rates(self, t, untouched=()):
        super()._set_rates(t, untouched)
        scheduler, local = self._phase(t)
        if hasattr(scheduler, "_set_momenta"):  # a momentum-cycling phase sets the momentum of its own steps
            scheduler._set_momenta(local)


class ReduceLROnPlateau:
    """Multiply the rate by ``factor`` when a metric stopped improving for ``patience`` steps (PyTorch's rules).

    ``step(metric)`` after each evaluation. Improvement means, for mode "min"
    with threshold_mode "rel", metric < best * (1 - threshold) ("abs": metric
    < best - threshold; "max" mirrors). After a reduction, ``cooldown`` steps
    pass before bad steps count again; rates never go below ``min_lr`` and a
    change smaller than ``eps`` is skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):  # fmt: skip
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau: factor must be < 1")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError("ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode 'rel' or 'abs'")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.eps = threshold, threshold_mode, cooldown, eps
        groups = len(optimizer.param_groups)
        self.min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * groups
        if len(self.min_lrs) != groups:  # zip would silently leave the extra groups unreduced
            raise ValueError(f"ReduceLROnPlateau: got {len(self.min_lrs)} min_lr values for {groups} parameter groups")
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, current: float, best: float) -> bool:
        if self.mode == "min":
            return current < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return current > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    @host_call  # minigrad.compile replays the call itself
    def step(self, metrics) -> None:
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, min_lr)
                if group["lr"] - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list:
        return list(self._last_lr)

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(state_dict)


# --- OneCycleLR, CyclicLR, ChainedScheduler (issue #18) ------------------------------------------------


def _check_optimizer(name: str, optimizer) -> None:
    """The type check the base class makes, done first by schedulers that read the groups before it runs."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected an Optimizer, got {type(optimizer).__name__}")


def _per_group(name: str, argument: str, optimizer: Optimizer, value) -> list:
    """One value per parameter group: a list or tuple of exactly that many, or one value for all (PyTorch's rule)."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ArgumentError(f"{name}: {argument} has {len(value)} values for {groups} parameter groups")
        return list(value)
    return [value] * groups


def _check_count(name: str, argument: str, value) -> None:
    """A number of steps: a positive int (PyTorch refuses floats such as 100.0 too)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ArgumentError(f"{name}: {argument} must be a positive integer, got {value!r}")


def _uses_beta1(name: str, optimizer: Optimizer) -> bool:
    """Whether momentum cycling sets ``betas[0]`` (Adam-like) or ``momentum`` (SGD-like), as PyTorch decides it."""
    if "betas" in optimizer.defaults:
        return True
    if "momentum" in optimizer.defaults:
        return False
    raise ArgumentError(
        f"{name}: cycle_momentum=True needs an optimizer with a 'momentum' or 'betas' hyperparameter, "
        f"and {type(optimizer).__name__} has neither; pass cycle_momentum=False"
    )


def _set_momentum(group: dict, value: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (value, *tuple(group["betas"])[1:])
    else:
        group["momentum"] = value


class OneCycleLR(LRScheduler):
    r"""The 1cycle policy (Smith and Topin, 2019), exactly as PyTorch's ``OneCycleLR``; call ``step()`` every batch.

    Each group starts at initial_lr = max_lr / div_factor, rises to max_lr,
    then falls to min_lr = initial_lr / final_div_factor, over
    ``total_steps`` (or ``epochs * steps_per_epoch``) steps. The phases end at
    steps (counting from 0)

        two phases (default):   e_1 = pct_start T - 1 (initial_lr -> max_lr),  e_2 = T - 1 (max_lr -> min_lr)
        three_phase=True:       e_1 = pct_start T - 1 (initial -> max),  e_2 = 2 pct_start T - 2 (max -> initial),
                                e_3 = T - 1 (initial -> min_lr)

    and at step t in phase i (from s = e_{i-1}, s = 0 for the first) with pct = (t - s) / (e_i - s):

        cos:     lr = end + (start - end) (1 + cos(pi pct)) / 2
        linear:  lr = start + (end - start) pct

    With ``cycle_momentum`` the momentum runs the other way, max_momentum ->
    base_momentum -> max_momentum (three phases: max -> base -> max -> max),
    set as ``momentum`` for an optimizer whose defaults have one (SGD,
    RMSprop) and as ``betas[0]`` for one with betas (Adam and its kin), as
    PyTorch does; an optimizer with neither is an error unless
    ``cycle_momentum=False``. The values live where PyTorch keeps them: the
    groups get ``initial_lr``, ``max_lr``, ``min_lr``, ``max_momentum`` and
    ``base_momentum`` entries (saved with the optimizer's state), read at
    every step. Sets its rates outright (not chainable), as PyTorch.

    As PyTorch, t may reach ``total_steps`` (one step past the last phase's
    end, where the formula extrapolates); stepping beyond raises ValueError,
    and unlike PyTorch leaves ``last_epoch`` as it was. A phase of zero length
    that a step falls into (pct_start T = 1, or pct_start = 1 at t = T) is a
    ValueError naming pct_start and total_steps, where PyTorch divides by zero.
    Stricter than PyTorch: div_factor and final_div_factor must be positive;
    looser: pct_start may be an int (0 or 1), where PyTorch insists on a float.

    What it is good for: fast training with large rates ("super-convergence"):
    the warmup keeps early steps stable, the high middle explores and
    regularizes, and the long anneal to a tiny rate settles into a minimum;
    lowering momentum while the rate is high keeps the effective step in check.
    """

    _chainable = False
    _per_group_rates = True  # SequentialLR asks _rates_at, not lr_at

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):  # fmt: skip
        name = "OneCycleLR"
        _check_optimizer(name, optimizer)
        if total_steps is not None:
            _check_count(name, "total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            _check_count(name, "epochs", epochs)
            _check_count(name, "steps_per_epoch", steps_per_epoch)
            total_steps = epochs * steps_per_epoch
        else:
            raise ArgumentError(f"{name}: give total_steps, or both epochs and steps_per_epoch")
        if isinstance(pct_start, bool) or not isinstance(pct_start, (int, float)) or not 0 <= pct_start <= 1:
            raise ArgumentError(f"{name}: pct_start must be a number in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ArgumentError(f"{name}: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        for argument, value in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if not value > 0:
                raise ArgumentError(f"{name}: {argument} must be positive, got {value!r}")
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        if cycle_momentum:
            use_beta1 = _uses_beta1(name, optimizer)
            max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
            base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
        needed = ["initial_lr", "max_lr", "min_lr"] + (["max_momentum", "base_momentum"] if cycle_momentum else [])
        if last_epoch != -1:
            missing = sorted({key for group in optimizer.param_groups for key in needed if key not in group})
            if missing:
                raise ArgumentError(
                    f"{name}: resuming at last_epoch={last_epoch} needs the param groups' {missing} entries "
                    "(load the optimizer's state first)"
                )
        self.total_steps = total_steps
        self._anneal_func_type = anneal_strategy
        first = float(pct_start * total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                {"end_step": first, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * total_steps) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": total_steps - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                {"end_step": first, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": total_steps - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        self._phase(last_epoch + 1)  # the first step must fit in the schedule (not in an empty phase)
        # everything checked: only now change the optimizer's groups
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            if last_epoch == -1:
                for group, top, bottom in zip(optimizer.param_groups, max_momentums, base_momentums):
                    _set_momentum(group, top, use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _phase(self, t):
        """The phase that step t falls in and the fraction of it done, walking the phases as PyTorch does."""
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR: tried to step {t} times, but total_steps is {self.total_steps} "
                "(the schedule ends there; make total_steps, or epochs * steps_per_epoch, cover every step)"
            )
        start = 0.0
        last = len(self._schedule_phases) - 1
        for i, phase in enumerate(self._schedule_phases):
            end = phase["end_step"]
            if t <= end or i == last:
                if end == start:
                    raise ValueError(
                        f"OneCycleLR: pct_start and total_steps={self.total_steps} leave phase {i + 1} of the "
                        f"schedule empty (it starts and ends at step {end:g}), and step {t} falls in it"
                    )
                return phase, (t - start) / (end - start)
            start = end

    def _rates_at(self, t):
        phase, pct = self._phase(t)
        return [self._anneal(g[phase["start_lr"]], g[phase["end_lr"]], pct) for g in self.optimizer.param_groups]

    def _set_momenta(self, t) -> None:
        if self.cycle_momentum:
            phase, pct = self._phase(t)
            for group in self.optimizer.param_groups:
                momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                _set_momentum(group, momentum, self.use_beta1)

    def lr_at(self, base_lr, t):
        raise TypeError(
            "OneCycleLR: its rates come from each group's max_lr, not from one base rate; use get_last_lr() "
            "after step()"
        )

    def _set_rates(self, t, untouched=()):
        super()._set_rates(t, untouched)
        self._set_momenta(t)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the step count, and set the rates (see :meth:`LRScheduler.load_state_dict`) and momenta of step t."""
        super().load_state_dict(state_dict)
        self._set_momenta(self.last_epoch)


class CyclicLR(LRScheduler):
    r"""Cyclical learning rates (Smith, 2017), exactly as PyTorch's ``CyclicLR``; call ``step()`` every batch.

    The rate runs from base_lr to max_lr in ``step_size_up`` steps and back in
    ``step_size_down`` (default: the same), again and again. With
    L = step_size_up + step_size_down, r = step_size_up / L and step t:

        cycle = floor(1 + t / L),   x = 1 + t / L - cycle            (position in the cycle, [0, 1))
        h = x / r  if x <= r  else  (x - 1) / (r - 1)                (0 -> 1 -> 0)
        lr = base_lr + (max_lr - base_lr) h scale_fn(cycle or t)

    ``mode``: "triangular" (scale_fn = 1), "triangular2" (halved each cycle:
    1 / 2^(cycle - 1)), "exp_range" (gamma^t, of the step t); a ``scale_fn``
    replaces the mode, taking the cycle or the step as ``scale_mode`` says (the
    built-in modes fix their own scale_mode, as in PyTorch). With
    ``cycle_momentum`` the momentum runs the other way, momentum = max_momentum
    - (max_momentum - base_momentum) h scale_fn(...), set as ``momentum`` or
    ``betas[0]`` as in :class:`OneCycleLR`.

    As PyTorch: construction sets each group's rate to base_lr, and the rate of
    step 0 is computed from the group's ``initial_lr`` (which is base_lr unless
    an earlier scheduler recorded another); from step 1 on, from base_lr.
    Sets its rates outright (not chainable). ``state_dict``
    does not save a ``scale_fn`` function (a callable object's ``__dict__`` is
    saved), as PyTorch. Stricter than PyTorch: max_lr may not be below base_lr
    (PyTorch runs such a cycle upside down, which is almost always a swapped
    pair of arguments), step_size_up must be positive
    (0 divides by zero there, a negative one gives nonsense), step_size_down
    non-negative, and scale_mode "cycle" or "iterations".

    What it is good for: rates that need no careful tuning. Sweeping between a
    small and a large rate spends part of each cycle at rates too large to
    settle, which lets the run escape saddle points and sharp minima, and part
    at small ones that make progress stable; a run across one cycle is also the
    "LR range test" for picking base_lr and max_lr.
    """

    _chainable = False
    _per_group_rates = True  # SequentialLR asks _rates_at, not lr_at

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0, scale_fn=None,
                 scale_mode: str = "cycle", cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9,
                 last_epoch: int = -1):  # fmt: skip
        name = "CyclicLR"
        _check_optimizer(name, optimizer)
        base_lrs = _per_group(name, "base_lr", optimizer, base_lr)
        max_lrs = _per_group(name, "max_lr", optimizer, max_lr)
        for i, (low, high) in enumerate(zip(base_lrs, max_lrs)):
            if high < low:
                raise ArgumentError(f"{name}: max_lr {high!r} is below base_lr {low!r} (param group {i})")
        if not step_size_up > 0:
            raise ArgumentError(f"{name}: step_size_up must be positive, got {step_size_up!r}")
        if step_size_down is not None and not step_size_down >= 0:
            raise ArgumentError(f"{name}: step_size_down must be non-negative, got {step_size_down!r}")
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ArgumentError(
                f"{name}: mode must be 'triangular', 'triangular2' or 'exp_range' (or give a scale_fn), got {mode!r}"
            )
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"{name}: scale_fn must be callable, got {type(scale_fn).__name__}")
        if scale_mode not in ("cycle", "iterations"):
            raise ArgumentError(f"{name}: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        if cycle_momentum:
            use_beta1 = _uses_beta1(name, optimizer)
            base_momentums = _per_group(name, "base_momentum", optimizer, base_momentum)
            max_momentums = _per_group(name, "max_momentum", optimizer, max_momentum)
        # everything checked: only now change the optimizer's groups
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = max_lrs
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = use_beta1
            self.base_momentums, self.max_momentums = base_momentums, max_momentums
            if last_epoch == -1:
                for group, top, bottom in zip(optimizer.param_groups, max_momentums, base_momentums):
                    _set_momentum(group, top, use_beta1)
                    group["max_momentum"] = top
                    group["base_momentum"] = bottom
        super().__init__(optimizer, last_epoch)  # step 0 from the groups' initial_lr, as PyTorch
        self.base_lrs = base_lrs

    def scale_fn(self, x) -> float:
        """The amplitude's scale at cycle (or step) x: the given scale_fn, or the mode's."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def _position(self, t):
        """(h, scale): the height in the cycle, 0 at base_lr and 1 at max_lr, and the scale_fn factor."""
        cycle = math.floor(1 + t / self.total_size)
        x = 1.0 + t / self.total_size - cycle
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        return height, self.scale_fn(cycle if self.scale_mode == "cycle" else t)

    def _rates_at(self, t):
        height, scale = self._position(t)
        return [base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)]

    def _set_momenta(self, t) -> None:
        if self.cycle_momentum:
            height, scale = self._position(t)
            for group, bottom, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, top - (top - bottom) * height * scale, self.use_beta1)

    def lr_at(self, base_lr, t):
        raise TypeError(
            "CyclicLR: its rates come from its own base_lr and max_lr per group, not from one base rate; use "
            "get_last_lr() after step()"
        )

    def _set_rates(self, t, untouched=()):
        super()._set_rates(t, untouched)
        self._set_momenta(t)

    def state_dict(self) -> dict:
        """As the base class, plus ``_scale_fn_custom``: None for a function (not saved), a callable object's dict."""
        state = super().state_dict()
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the state; a saved callable object's attributes go back into this scheduler's scale_fn object."""
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom", None)
        if fn_state is not None and self._scale_fn_custom is not None:  # first: the rates below depend on it
            self._scale_fn_custom.__dict__.update(fn_state)
        super().load_state_dict(state)
        self._set_momenta(self.last_epoch)


class ChainedScheduler(LRScheduler):
    """Step several schedulers of one optimizer with one ``step()`` (PyTorch's ``ChainedScheduler``).

    ``step()`` calls each scheduler's ``step()`` in order, so chainable ones
    compose multiplicatively as when stepped by hand (see the module notes);
    ``get_last_lr()`` reads the groups' rates after the last one.
    ``state_dict()`` holds each scheduler's own under ``"_schedulers"``, as
    PyTorch's. ``optimizer`` defaults to the first scheduler's; all must
    share it. :class:`ReduceLROnPlateau` cannot be chained (its step needs a
    metric), as in PyTorch.
    """

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        name = "ChainedScheduler"
        schedulers = list(schedulers)
        if not schedulers:
            raise ArgumentError(f"{name}: expects at least one scheduler to chain, got none")
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau):
                raise ArgumentError(
                    f"{name}: schedulers[{i}] is a ReduceLROnPlateau, whose step needs a metric; step it on its own"
                )
            if not isinstance(scheduler, LRScheduler):
                raise TypeError(f"{name}: schedulers[{i}] is a {type(scheduler).__name__}, not a scheduler")
        if optimizer is None:
            optimizer = schedulers[0].optimizer
        _check_optimizer(name, optimizer)
        for i, scheduler in enumerate(schedulers):
            if scheduler.optimizer is not optimizer:
                raise ArgumentError(
                    f"{name}: schedulers[{i}] ({type(scheduler).__name__}) adjusts another optimizer than "
                    f"{'schedulers[0]' if i else 'the given one'}; all must share one"
                )
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    @host_call  # minigrad.compile replays the call itself
    def step(self) -> None:
        """Step every chained scheduler, in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]

    def lr_at(self, base_lr, t):
        raise TypeError("ChainedScheduler: it has no closed form of its own; SequentialLR cannot run it as a phase")

    def state_dict(self) -> dict:
        """``_last_lr`` and ``"_schedulers"``: the list of the chained schedulers' own state dicts."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore each chained scheduler from its entry in ``"_schedulers"`` (the dict given is not changed)."""
        state = dict(state_dict)
        saved = state.pop("_schedulers")
        if len(saved) != len(self._schedulers):
            raise ArgumentError(
                f"ChainedScheduler.load_state_dict: the state holds {len(saved)} schedulers, this chain "
                f"{len(self._schedulers)}"
            )
        self.__dict__.update(state)
        for scheduler, entry in zip(self._schedulers, saved):
            scheduler.load_state_dict(entry)

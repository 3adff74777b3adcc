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
        self._scheduled_lr = [base if last_epoch < 0 else self.lr_at(base, last_epoch) for base in self.base_lrs]
        self._set_rates(self.last_epoch + 1, untouched=self.base_lrs)

    def lr_at(self, base_lr: float, t: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set every group's learning rate (scaling it, if chained; see the module)."""
        self._set_rates(self.last_epoch + 1)

    def _set_rates(self, t: int, untouched=()) -> None:
        self.last_epoch = t
        new = [self.lr_at(base, t) for base in self.base_lrs]
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
        self._scheduled_lr = [self.lr_at(base, self.last_epoch) for base in self.base_lrs]
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

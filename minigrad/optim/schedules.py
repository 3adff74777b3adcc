"""Learning-rate schedules as pure functions of the step: ``schedule(t) -> lr``.

Each constructor returns a function of the step t = 0, 1, 2, ...; they
compose (``warmup``, ``join``) and plug into
:class:`minigrad.optim.lr_scheduler.LambdaLR` (build them with lr0 = 1 to
get the multiplicative factor LambdaLR expects).
"""

from __future__ import annotations

import bisect
import math


def constant(lr0: float):
    """eta_t = eta_0."""
    return lambda t: lr0


def piecewise_constant(boundaries, values):
    """values[i] for boundaries[i-1] <= t < boundaries[i]: values has one more entry than boundaries."""
    boundaries, values = list(boundaries), list(values)
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"piecewise_constant: need len(values) == len(boundaries) + 1, got {len(values)} and {len(boundaries)}"
        )
    if boundaries != sorted(boundaries):
        raise ValueError(f"piecewise_constant: boundaries must increase, got {boundaries}")
    return lambda t: values[bisect.bisect_right(boundaries, t)]


def exponential(lr0: float, decay_rate: float, decay_steps: int = 1, staircase: bool = False):
    """eta_t = eta_0 exp(-lambda t / s), lambda = ``decay_rate``, s = ``decay_steps``; the staircase
    form uses floor(t / s), so the rate drops every s steps."""

    def schedule(t):
        k = t // decay_steps if staircase else t / decay_steps
        return lr0 * math.exp(-decay_rate * k)

    return schedule


def inverse_power(lr0: float, beta: float = 1.0, alpha: float = 0.5):
    """eta_t = eta_0 (beta t + 1)^(-alpha): alpha = 0.5 is the 1/sqrt(t) decay of convex theory."""
    return lambda t: lr0 * (beta * t + 1) ** (-alpha)


def polynomial(lr0: float, end: float, power: float, total_steps: int):
    """eta_t = (eta_0 - end)(1 - min(t, T)/T)^power + end: from lr0 to ``end`` in T steps, then ``end``."""
    _positive("polynomial", total_steps)
    return lambda t: (lr0 - end) * (1 - min(t, total_steps) / total_steps) ** power + end


def cosine(lr0: float, final: float, total_steps: int):
    """eta_t = final + (eta_0 - final)(1 + cos(pi min(t, T) / T)) / 2, pinned to ``final`` after T."""
    _positive("cosine", total_steps)
    return lambda t: final + (lr0 - final) * (1 + math.cos(math.pi * min(t, total_steps) / total_steps)) / 2


def warmup(schedule, warmup_steps: int, start: float = 0.0):
    """Linear from ``start`` to ``schedule(0)`` over ``warmup_steps``, then ``schedule`` shifted to begin there."""
    if warmup_steps <= 0:
        return schedule
    top = schedule(0)

    def warmed(t):
        if t < warmup_steps:
            return start + (top - start) * t / warmup_steps
        return schedule(t - warmup_steps)

    return warmed


def join(schedules, boundaries):
    """schedules[i] from boundaries[i-1] on, each restarted at its boundary (its own step 0 there)."""
    schedules, boundaries = list(schedules), list(boundaries)
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"join: need one more schedule than boundaries, got {len(schedules)} and {len(boundaries)}")
    starts = [0, *boundaries]

    def joined(t):
        i = bisect.bisect_right(boundaries, t)
        return schedules[i](t - starts[i])

    return joined


def _positive(name, total_steps):
    if total_steps <= 0:
        raise ValueError(f"{name}: total_steps must be positive, got {total_steps}")

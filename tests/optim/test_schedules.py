"""Schedules match their closed forms; combinators compose them."""

import math

import pytest

from minigrad.optim import schedules as S

STEPS = range(0, 40)


def test_constant_and_piecewise_constant():
    assert [S.constant(0.3)(t) for t in (0, 10, 1000)] == [0.3] * 3
    f = S.piecewise_constant([5, 10], [1.0, 0.5, 0.1])
    assert [f(t) for t in (0, 4, 5, 9, 10, 100)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]
    with pytest.raises(ValueError):
        S.piecewise_constant([5], [1.0])


def test_exponential_and_its_staircase():
    f = S.exponential(0.1, 0.05)
    assert all(f(t) == pytest.approx(0.1 * math.exp(-0.05 * t)) for t in STEPS)
    g = S.exponential(0.1, 0.5, decay_steps=10, staircase=True)
    drop = 0.1 * math.exp(-0.5)
    assert [g(t) for t in (0, 9, 10, 19, 20)] == pytest.approx([0.1, 0.1, drop, drop, 0.1 * math.exp(-1.0)])


def test_inverse_power_gives_one_over_sqrt_t_at_alpha_one_half():
    f = S.inverse_power(1.0, beta=1.0, alpha=0.5)
    assert all(f(t) == pytest.approx(1 / math.sqrt(t + 1)) for t in STEPS)
    g = S.inverse_power(0.2, beta=0.3, alpha=2.0)
    assert all(g(t) == pytest.approx(0.2 * (0.3 * t + 1) ** -2) for t in STEPS)


def test_polynomial_reaches_end_and_stays():
    f = S.polynomial(1.0, 0.1, power=2.0, total_steps=20)
    assert all(f(t) == pytest.approx(0.9 * (1 - min(t, 20) / 20) ** 2 + 0.1) for t in STEPS)
    assert f(20) == pytest.approx(0.1) and f(35) == pytest.approx(0.1)


def test_cosine_is_pinned_to_final_after_total_steps():
    f = S.cosine(1.0, 0.01, total_steps=30)
    assert all(f(t) == pytest.approx(0.01 + 0.99 * (1 + math.cos(math.pi * min(t, 30) / 30)) / 2) for t in STEPS)
    assert f(0) == 1.0 and f(30) == pytest.approx(0.01) and f(1000) == pytest.approx(0.01)


def test_warmup_is_linear_then_the_shifted_schedule():
    base = S.cosine(1.0, 0.0, total_steps=10)
    f = S.warmup(base, warmup_steps=5, start=0.1)
    assert [f(t) for t in range(5)] == pytest.approx([0.1, 0.28, 0.46, 0.64, 0.82])
    assert all(f(t) == pytest.approx(base(t - 5)) for t in range(5, 30))
    assert S.warmup(base, 0) is base


def test_join_restarts_each_schedule_at_its_boundary():
    f = S.join([S.constant(1.0), S.exponential(0.5, 0.1), S.constant(0.01)], [10, 20])
    assert f(0) == 1.0 and f(9) == 1.0
    assert f(10) == pytest.approx(0.5) and f(15) == pytest.approx(0.5 * math.exp(-0.5))
    assert f(20) == 0.01

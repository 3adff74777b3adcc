"""Measured convergence rates on quadratics agree with theory within 1%."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim


def _quadratic(eigenvalues, seed=0):
    """A = Q diag(eigenvalues) Q^T with a random rotation Q; f(x) = x^T A x / 2, minimum at 0."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T, q


def _run(a, x0, make, steps):
    x = mg.tensor(x0.copy(), requires_grad=True)
    A = mg.tensor(a)
    opt = make([x])
    errors = [np.linalg.norm(x0)]
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * (x @ (A @ x))).backward()
        opt.step()
        errors.append(np.linalg.norm(x.numpy()))
    return np.array(errors)


def _rate(errors, start, end):
    return (errors[end] / errors[start]) ** (1 / (end - start))


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_gradient_descent_contracts_at_kappa_minus_one_over_kappa_plus_one(kappa):
    lam = np.linspace(1.0, kappa, 6)
    a, q = _quadratic(lam)
    x0 = q @ np.ones(6)  # weight on every eigendirection, the extreme ones included
    lr = 2 / (lam[0] + lam[-1])
    errors = _run(a, x0, lambda p: optim.SGD(p, lr=lr), 300)
    assert _rate(errors, 100, 300) == pytest.approx((kappa - 1) / (kappa + 1), rel=0.01)


def test_gradient_descent_diverges_above_two_over_lambda_max():
    lam = np.linspace(1.0, 10.0, 5)
    a, q = _quadratic(lam)
    x0 = q @ np.ones(5)
    stable = _run(a, x0, lambda p: optim.SGD(p, lr=1.95 / lam[-1]), 200)
    unstable = _run(a, x0, lambda p: optim.SGD(p, lr=2.05 / lam[-1]), 200)
    assert stable[-1] < stable[0] * 1e-3
    assert unstable[-1] > unstable[0] * 10 and _rate(unstable, 100, 200) > 1


@pytest.mark.parametrize("kappa", [10.0, 100.0])
def test_heavy_ball_contracts_at_sqrt_kappa_rate(kappa):
    lam = np.linspace(1.0, kappa, 6)
    a, q = _quadratic(lam, seed=1)
    x0 = q @ np.ones(6)
    lr = 4 / (math.sqrt(lam[-1]) + math.sqrt(lam[0])) ** 2
    theory = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    errors = _run(a, x0, lambda p: optim.SGD(p, lr=lr, momentum=theory**2), 400)
    assert _rate(errors, 150, 400) == pytest.approx(theory, rel=0.01)
    assert theory < (kappa - 1) / (kappa + 1)  # momentum beats gradient descent


def test_newton_solves_a_quadratic_in_one_step():
    lam = np.array([0.1, 1.0, 30.0])
    a, q = _quadratic(lam, seed=2)
    b = np.array([1.0, -2.0, 0.5])
    x = mg.tensor(np.zeros(3), requires_grad=True)
    A, B = mg.tensor(a), mg.tensor(b)
    opt = optim.Newton([x])
    opt.step(lambda: 0.5 * (x @ (A @ x)) - B @ x)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-10)
    assert opt.state["step_size"] == 1.0 and opt.state["damping"] == 0.0


def test_newton_does_not_climb_on_an_indefinite_hessian():
    x = mg.tensor([0.3, 0.1], dtype=mg.float64, requires_grad=True)

    def f():
        return x[0] ** 2 - x[1] ** 2 + x[1] ** 4 / 4  # a saddle at the origin, minima at (0, +-sqrt(2))

    opt = optim.Newton([x])
    values = [f().item()]
    for _ in range(30):
        opt.step(f)
        values.append(f().item())
    assert all(b <= a + 1e-15 for a, b in zip(values, values[1:]))
    assert opt.state["damping"] >= 0
    np.testing.assert_allclose(np.abs(x.numpy()), [0.0, math.sqrt(2)], atol=1e-8)


def test_newton_converges_quadratically():
    x = mg.tensor([1.5, -0.5], dtype=mg.float64, requires_grad=True)

    def f():  # strongly convex, not quadratic
        return (x.exp() + (-x).exp()).sum() + (x[0] - x[1]) ** 2

    opt = optim.Newton([x])
    errors = []
    for _ in range(5):
        opt.step(f)
        errors.append(np.linalg.norm(x.numpy()))
    # e_{k+1} <= C e_k^2 once close: the digits double each step
    assert errors[3] < 1e-6 and errors[2] ** 2 * 10 > errors[3]


def test_armijo_line_search_decreases_the_objective_and_reports_its_step():
    lam = np.linspace(1.0, 20.0, 4)
    a, q = _quadratic(lam, seed=3)
    x = mg.tensor(q @ np.ones(4), requires_grad=True)
    A = mg.tensor(a)
    opt = optim.GradientDescentLineSearch([x], lr=1.0)

    def closure():
        opt.zero_grad()
        loss = 0.5 * (x @ (A @ x))
        loss.backward()
        return loss

    losses = []
    for _ in range(50):
        losses.append(float(opt.step(closure)))
    assert all(b < a for a, b in zip(losses, losses[1:]))
    assert math.log2(opt.state["step_size"]) == round(math.log2(opt.state["step_size"])) <= 0  # 1 * 0.5^k
    assert losses[-1] < 1e-3 * losses[0]

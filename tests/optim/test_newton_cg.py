"""NewtonCG: exact on quadratics within n CG iterations, cheap on ill-conditioned ones, Hessian-free at 100k
parameters, the Levenberg-Marquardt damping rule, negative curvature, and its errors."""

import math
import time
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.errors import ArgumentError, GraphError, ShapeError


def _spd(n, low, high, seed=0):
    """A random symmetric positive definite matrix with eigenvalues spread log-uniformly over [low, high]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(np.logspace(np.log10(low), np.log10(high), n)) @ q.T, rng


def _quadratic(a, xstar, x):
    """f(x) = 1/2 (x - x*)^T A (x - x*), minimum 0 at x*."""
    at, xt = mg.tensor(a, device=x.device), mg.tensor(xstar, device=x.device)

    def f():
        r = x - xt
        return 0.5 * (r @ (at @ r))

    return f


def test_one_step_reaches_the_minimiser_of_an_spd_quadratic_within_n_cg_iterations(device):
    n = 10
    a, rng = _spd(n, 1.0, 10.0)
    b = rng.standard_normal(n)
    xstar = np.linalg.solve(a, b)
    x = mg.tensor(np.zeros(n), requires_grad=True, device=device)
    at, bt = mg.tensor(a, device=device), mg.tensor(b, device=device)
    opt = optim.NewtonCG([x], damping=0.0, cg_tol=1e-12)
    loss = opt.step(lambda: 0.5 * (x @ (at @ x)) - bt @ x)
    state = opt.state[id(x)]
    assert np.abs(x.numpy() - xstar).max() < 1e-10
    assert state["cg_iterations"] <= n and state["hvp_evals"] == state["cg_iterations"]
    assert state["grad_evals"] == 1 and state["loss_evals"] == 1 and state["accepted"]
    assert state["rho"] == pytest.approx(1.0, abs=1e-8)  # the quadratic model is exact
    assert loss.item() == 0.0 and not loss.requires_grad  # the loss before the step, detached


def test_lr_scales_the_step_and_the_predicted_decrease():
    a, rng = _spd(5, 1.0, 10.0)
    xstar = rng.standard_normal(5)
    x = mg.tensor(np.zeros(5), requires_grad=True)
    opt = optim.NewtonCG([x], lr=0.5, damping=0.0, cg_tol=1e-12)
    opt.step(_quadratic(a, xstar, x))
    np.testing.assert_allclose(x.numpy(), xstar / 2, atol=1e-10)  # half of the exact Newton step
    assert opt.state[id(x)]["rho"] == pytest.approx(1.0, abs=1e-8)  # the model of s = lr d is still exact


def test_cg_max_iter_defaults_to_n_capped_at_250():
    for n, expected in ((40, 40), (300, 250)):
        scales = mg.tensor(np.logspace(-6, 0, n))  # condition number 1e6: CG does not finish early
        x = mg.tensor(np.zeros(n), requires_grad=True)
        opt = optim.NewtonCG([x], damping=0.0, cg_tol=0.0)
        opt.step(lambda x=x, scales=scales: 0.5 * (scales * (x - 1) ** 2).sum())
        assert opt.state[id(x)]["cg_iterations"] == expected


def test_ill_conditioned_quadratic_needs_far_fewer_gradient_evaluations_than_tuned_gradient_descent():
    n, low, high = 50, 1e-4, 1.0  # condition number 1e4
    a, rng = _spd(n, low, high)
    xstar = rng.standard_normal(n)
    x = mg.tensor(np.zeros(n), requires_grad=True)
    f = _quadratic(a, xstar, x)
    opt = optim.NewtonCG([x])
    steps = 0
    while f().item() > 1e-8:
        opt.step(f)
        steps += 1
        assert steps < 50
    state = opt.state[id(x)]
    # a Hessian-vector product is a reverse pass through the gradient's graph: count it as two gradients
    newton_cg_cost = state["grad_evals"] + 2 * state["hvp_evals"]

    # gradient descent with the best constant step for a quadratic, 2 / (L + mu): minigrad's SGD for a while,
    # then (it is the same linear iteration x <- x - lr A (x - x*)) NumPy until it reaches 1e-8
    lr = 2.0 / (high + low)
    x.array[...] = 0
    gd = optim.SGD([x], lr=lr)
    for _ in range(100):
        gd.zero_grad()
        f().backward()
        gd.step()
    e = -xstar
    for _ in range(100):
        e = e - lr * (a @ e)
    np.testing.assert_allclose(x.numpy() - xstar, e, rtol=1e-9, atol=1e-12)
    gd_evals = 100
    while 0.5 * e @ a @ e > 1e-8:
        e = e - lr * (a @ e)
        gd_evals += 1
    assert gd_evals > 20 * newton_cg_cost  # measured: ~45,000 against ~930


def _rosenbrock(w):
    return lambda: (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2


def test_rosenbrock_converges(device):
    for preconditioner in (None, "jacobi"):
        mg.manual_seed(0)
        w = mg.tensor([-1.2, 1.0], dtype=mg.float64, requires_grad=True, device=device)
        opt = optim.NewtonCG([w], preconditioner=preconditioner)
        for _ in range(150):
            opt.step(_rosenbrock(w))
            if np.abs(w.numpy() - 1).max() < 1e-8:
                break
        np.testing.assert_allclose(w.numpy(), [1.0, 1.0], atol=1e-8)


def test_a_100k_parameter_mlp_step_never_forms_the_hessian():
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 128), nn.Tanh(), nn.Linear(128, 10))
    n = sum(p.numel() for p in model.parameters())
    assert n > 100_000
    x, y = mg.randn(64, 784), mg.randint(0, 10, (64,))

    def closure():
        return F.cross_entropy(model(x), y)

    opt = optim.NewtonCG(model.parameters(), cg_max_iter=10, preconditioner="jacobi")
    before = closure().item()
    tracemalloc.start()
    start = time.perf_counter()
    opt.step(closure)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    state = opt.state[id(next(iter(model.parameters())))]
    assert 1 <= state["cg_iterations"] <= 10 and state["hvp_evals"] == state["cg_iterations"] + 1  # + Hutchinson
    # a dense H would be n^2 * 8 = 83 GB; the step holds a few n-vectors and one graph (measured ~5 MB)
    assert peak < 64e6 < n * n * 8 / 1000
    assert elapsed < 30.0
    assert closure().item() < before


def _one_d(c, x0=1.0, damping=0.1, **kwargs):
    """f(x) = x^2/2 + c x^3 from x0; one step; returns the optimizer, x and the expected ratio and step."""
    x = mg.tensor([x0], dtype=mg.float64, requires_grad=True)
    opt = optim.NewtonCG([x], damping=damping, **kwargs)

    def f(v):
        return v * v / 2 + c * v**3

    g, h = x0 + 3 * c * x0**2, 1 + 6 * c * x0
    d = -g / (h + damping)  # one CG iteration solves the 1-D damped system exactly
    predicted = -(g * d + 0.5 * h * d * d)
    rho = (f(x0) - f(x0 + d)) / predicted
    opt.step(lambda: (f(x)).sum())
    return opt, x, rho, d


def test_levenberg_marquardt_damping_rule():
    seen = set()
    for c in (0.0, 0.5, -0.05, -0.1, -0.12, -0.13, -0.15):  # rho: 1, 1.15, 0.88, 0.53, 0.16, -0.18, -1.75
        opt, x, rho, d = _one_d(c)
        state = opt.state[id(x)]
        assert state["rho"] == pytest.approx(rho, rel=1e-9, abs=1e-12)
        if rho > 0.75:
            regime, damping = "good", 0.1 * 2 / 3
        elif rho >= 0.25:
            regime, damping = "fair", 0.1
        elif rho >= 0:
            regime, damping = "poor", 0.1 * 1.5
        else:
            regime, damping = "rejected", 0.1 * 1.5
        seen.add(regime)
        assert opt.damping == pytest.approx(damping, rel=1e-12) and state["damping"] == opt.damping
        assert state["accepted"] == (regime != "rejected")
        expected_x = 1.0 + d if state["accepted"] else 1.0  # a rejected step restores the parameters exactly
        assert x.numpy()[0] == pytest.approx(expected_x, rel=1e-12)
    assert seen == {"good", "fair", "poor", "rejected"}  # the constructed cases cover every branch of the rule


def test_damping_is_clipped_to_its_range_and_a_zero_start_is_lifted():
    opt, x, rho, _ = _one_d(0.0, damping=0.0, min_damping=1e-4)
    assert rho == pytest.approx(1.0) and opt.damping == 1e-4  # 0 * 2/3, lifted to min_damping
    opt, x, rho, _ = _one_d(-0.15, damping=0.1, max_damping=0.12)
    assert rho < 0 and opt.damping == 0.12


def _saddle(w):
    """f = x^2/2 - y^2/2 + y^4/4: a saddle at the origin, minima at (0, +-1) with f = -1/4."""
    return 0.5 * w[0] ** 2 - 0.5 * w[1] ** 2 + 0.25 * w[1] ** 4


def test_negative_curvature_on_the_first_direction_takes_the_scaled_steepest_descent_step():
    w = mg.tensor([0.0, 0.1], dtype=mg.float64, requires_grad=True)
    damping = 1e-3
    opt = optim.NewtonCG([w], damping=damping)
    opt.step(lambda: _saddle(w))
    state = opt.state[id(w)]
    assert state["negative_curvature"] and state["cg_iterations"] == 1 and state["accepted"]
    g, h = -0.1 + 0.1**3, -1 + 3 * 0.1**2  # along y only; curvature h < 0
    expected = 0.1 - g / (abs(h) + damping)  # -g scaled by 1 / (|p^T H p| / |p|^2 + lambda)
    np.testing.assert_allclose(w.numpy(), [0.0, expected], rtol=1e-12)


def test_negative_curvature_later_in_cg_returns_the_last_good_iterate():
    w0 = np.array([0.3, 1e-3])
    w = mg.tensor(w0, dtype=mg.float64, requires_grad=True)
    damping = 1e-3
    opt = optim.NewtonCG([w], damping=damping)
    opt.step(lambda: _saddle(w))
    state = opt.state[id(w)]
    assert state["negative_curvature"] and state["cg_iterations"] == 2
    g = np.array([w0[0], -w0[1] + w0[1] ** 3])
    a = np.diag([1.0, -1 + 3 * w0[1] ** 2]) + damping * np.eye(2)
    cauchy = -(g @ g) / (g @ a @ g) * g  # the first CG iterate: the model's minimum along -g
    np.testing.assert_allclose(w.numpy(), w0 + cauchy, rtol=1e-12)


def test_newton_cg_leaves_the_saddle_for_a_minimum():
    # from near the saddle Newton's raw step would jump to the origin; NewtonCG sees the negative curvature
    w = mg.tensor([0.3, 1e-3], dtype=mg.float64, requires_grad=True)
    opt = optim.NewtonCG([w])
    for _ in range(100):
        opt.step(lambda: _saddle(w))
    np.testing.assert_allclose(w.numpy(), [0.0, 1.0], atol=1e-8)
    assert _saddle(w).item() == pytest.approx(-0.25, abs=1e-14)


def test_jacobi_preconditioner_solves_a_badly_scaled_diagonal_quadratic_in_one_cg_iteration():
    scales = np.logspace(0, 4, 20)
    xstar = np.linspace(-1, 1, 20)
    mg.manual_seed(0)
    results = {}
    for preconditioner in (None, "jacobi"):
        x = mg.tensor(np.zeros(20), requires_grad=True)
        opt = optim.NewtonCG([x], damping=0.0, cg_tol=1e-10, preconditioner=preconditioner)
        opt.step(lambda x=x: 0.5 * (mg.tensor(scales) * (x - mg.tensor(xstar)) ** 2).sum())
        results[preconditioner] = opt.state[id(x)]["cg_iterations"], np.abs(x.numpy() - xstar).max()
    # Hutchinson's estimate z * (H z) is exact for a diagonal H, so M^-1 (H + 0 I) = I: one iteration
    assert results["jacobi"][0] == 1 and results["jacobi"][1] < 1e-12
    # plain CG spends all n = 20 iterations and, in floating point at condition number 1e4, is still far off
    assert results[None][0] == 20 and results[None][1] > 1e-2


def test_callable_preconditioner_receives_the_flat_residual():
    a, rng = _spd(6, 1.0, 100.0)
    xstar = rng.standard_normal(6)
    x = mg.tensor(np.zeros(6), requires_grad=True)
    inverse = np.linalg.inv(a)
    seen = []

    def exact(r):
        seen.append(tuple(r.shape))
        return mg.tensor(inverse @ r.numpy())

    opt = optim.NewtonCG([x], damping=0.0, cg_tol=1e-12, preconditioner=exact)
    opt.step(_quadratic(a, xstar, x))
    assert seen[0] == (6,) and opt.state[id(x)]["cg_iterations"] == 1
    np.testing.assert_allclose(x.numpy(), xstar, atol=1e-10)


def test_several_parameters_of_several_shapes_and_a_frozen_one():
    mg.manual_seed(0)
    w = mg.tensor(np.full((2, 3), 0.5), requires_grad=True)
    b = mg.tensor(np.zeros(3), requires_grad=True)
    frozen = mg.tensor(np.ones(3))
    target = np.arange(6.0).reshape(2, 3)
    opt = optim.NewtonCG([w, b, frozen], damping=0.0, cg_tol=1e-12)
    opt.step(lambda: ((w + b - mg.tensor(target)) ** 2).sum() + (b * b).sum() + (frozen * w).sum())
    # a quadratic, so one step lands where its gradient (by hand) vanishes:
    # d/dw = 2 (w + b - t) + frozen,  d/db = 2 sum_rows (w + b - t) + 2 b
    wn, bn = w.numpy(), b.numpy()
    np.testing.assert_allclose(2 * (wn + bn - target) + np.ones(3), 0, atol=1e-10)
    np.testing.assert_allclose(2 * (wn + bn - target).sum(0) + 2 * bn, 0, atol=1e-10)
    np.testing.assert_array_equal(frozen.numpy(), np.ones(3))


def test_state_dict_round_trip_resumes_the_same_trajectory(tmp_path):
    def make():
        w = mg.tensor([-1.2, 1.0], dtype=mg.float64, requires_grad=True)
        return w, optim.NewtonCG([w], damping=0.5)

    w, opt = make()
    for _ in range(4):
        opt.step(_rosenbrock(w))
    mg.save(opt.state_dict(), tmp_path / "newton_cg.npz")  # numbers and flags only: .npz stores them as they are
    saved, at = mg.load(tmp_path / "newton_cg.npz"), w.numpy().copy()
    assert saved == opt.state_dict()
    w2, opt2 = make()
    w2.array[...] = at
    opt2.load_state_dict(saved)
    assert opt2.state[id(w2)] == opt.state[id(w)] and opt2.damping == opt.damping != 0.5
    for _ in range(3):
        opt.step(_rosenbrock(w))
        opt2.step(_rosenbrock(w2))
    np.testing.assert_array_equal(w.numpy(), w2.numpy())
    assert opt2.state[id(w2)] == opt.state[id(w)]


def test_a_stationary_point_is_left_alone():
    x = mg.tensor([0.0, 0.0], requires_grad=True)
    opt = optim.NewtonCG([x])
    opt.step(lambda: (x * x).sum())
    assert x.numpy().tolist() == [0.0, 0.0] and opt.state[id(x)]["hvp_evals"] == 0


def test_a_non_finite_trial_loss_rejects_the_step():
    x = mg.tensor([0.0], dtype=mg.float64, requires_grad=True)
    opt = optim.NewtonCG([x], damping=0.1)
    with np.errstate(invalid="ignore"):  # log(2 - x) is NaN past x = 2, where the full step lands
        opt.step(lambda: (0.5 * (x - 3) ** 2 + 0 * mg.log(2 - x)).sum())
    state = opt.state[id(x)]
    assert not state["accepted"] and state["rho"] == -math.inf and opt.damping == pytest.approx(0.15)
    assert x.numpy().tolist() == [0.0]


def test_errors():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    bad = [
        (dict(lr=0.0), "lr must be positive"),
        (dict(cg_max_iter=0), "cg_max_iter must be None or a positive int"),
        (dict(cg_max_iter=2.5), "cg_max_iter must be None or a positive int"),
        (dict(cg_tol=-1.0), "cg_tol must be non-negative"),
        (dict(damping_increase=1.0), "damping_increase must be greater than 1"),
        (dict(damping_decrease=1.0), r"damping_decrease must be in \(0, 1\)"),
        (dict(min_damping=0.0), "need 0 < min_damping <= max_damping"),
        (dict(min_damping=2.0, max_damping=1.0), "need 0 < min_damping <= max_damping"),
        (dict(damping=10.0, max_damping=1.0), "damping must be at most max_damping"),
        (dict(damping=-1.0), "damping must be non-negative"),
        (dict(preconditioner="ilu"), "preconditioner must be None, 'jacobi' or a callable"),
        (dict(preconditioner_samples=0), "preconditioner_samples must be a positive int"),
    ]
    for kwargs, message in bad:
        with pytest.raises(ValueError, match="NewtonCG: " + message):
            optim.NewtonCG([x], **kwargs)
    with pytest.raises(ArgumentError, match="per-parameter options"):
        optim.NewtonCG([{"params": [x]}, {"params": [mg.tensor([1.0], requires_grad=True)]}])

    opt = optim.NewtonCG([x])
    with pytest.raises(ArgumentError, match="NewtonCG.step needs a closure"):
        opt.step()
    with pytest.raises(ShapeError, match="NewtonCG: the closure must return a loss with one element"):
        opt.step(lambda: x * x)
    with pytest.raises(TypeError, match="NewtonCG: the closure must return the loss as a Tensor"):
        opt.step(lambda: 1.0)
    for value in (math.nan, math.inf):
        with pytest.raises(ArgumentError, match="NewtonCG: the closure returned a non-finite loss"):
            opt.step(lambda v=value: (x * v).sum())
    assert x.numpy().tolist() == [1.0, 2.0] and x._version == 0  # parameters unchanged
    z = mg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(divide="ignore"), pytest.raises(ArgumentError, match="NewtonCG: the gradient is not finite"):
        optim.NewtonCG([z]).step(lambda: mg.sqrt(z).sum())  # d sqrt(z) / dz = inf at 0
    assert z.numpy().tolist() == [0.0, 1.0]

    def calls_backward():
        loss = (x**4).sum()
        loss.backward()  # frees the graph NewtonCG needs
        return loss

    with pytest.raises(GraphError, match=r"NewtonCG: could not differentiate .* without calling backward\(\)"):
        opt.step(calls_backward)
    x.grad = None

    wrong_shape = optim.NewtonCG([x], preconditioner=lambda r: r[:1])
    with pytest.raises(ShapeError, match=r"NewtonCG: the preconditioner must return M\^-1 r of shape \(2,\)"):
        wrong_shape.step(lambda: (x**4).sum())
    indefinite = optim.NewtonCG([x], preconditioner=lambda r: -r)
    with pytest.raises(ArgumentError, match="NewtonCG: the preconditioner is not positive definite"):
        indefinite.step(lambda: (x**4).sum())
    assert x.numpy().tolist() == [1.0, 2.0]

    def failing():
        if x.numpy()[0] != 1.0:  # at the trial point
            raise RuntimeError("boom")
        return (x**4).sum()

    with pytest.raises(RuntimeError, match="boom"):
        optim.NewtonCG([x]).step(failing)
    assert x.numpy().tolist() == [1.0, 2.0]  # restored before the error propagates

"""LBFGS: the two-loop recursion against a NumPy transcription of the update rule, convergence, the stopping rules
and counters, the history bound, the strong-Wolfe conditions, state round trips, and bad input."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.errors import ArgumentError, DTypeError

RNG = np.random.default_rng(3)
_M = RNG.standard_normal((5, 5))
A = _M @ _M.T + 2 * np.eye(5)  # symmetric positive definite, condition number ~ 10
B = RNG.standard_normal(5)
X_STAR = np.linalg.solve(A, B)
EXACT = {"tolerance_grad": 1e-11, "tolerance_change": 0.0}  # stop on the gradient alone


def _quadratic(x):
    """f(x) = x^T A x / 2 - b^T x, minimised at A^{-1} b."""
    a, b = mg.tensor(A, device=x.device, dtype=x.dtype), mg.tensor(B, device=x.device, dtype=x.dtype)
    return 0.5 * (x * (a @ x)).sum() - (b * x).sum()


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _setup(fn, x0, device="cpu", dtype="float64", **kwargs):
    x = mg.tensor(np.array(x0, dtype=dtype), requires_grad=True, device=device)
    opt = optim.LBFGS([x], **kwargs)
    calls = []

    def closure():
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        calls.append((x.numpy().copy(), float(loss), x.grad.numpy().copy()))
        return loss

    return x, opt, closure, calls


def _state(opt, x):
    return opt.state[id(x)]


def _numpy_lbfgs(x, steps, lr, history_size):
    """The documented fixed-step rule, one iteration per step, on the quadratic: x_k and the pair count."""
    dirs, stps, out = [], [], []
    g_prev = d = t = h0 = None
    for k in range(steps):
        g = A @ x - B
        if k == 0:
            d, h0 = -g, 1.0
        else:
            y, s = g - g_prev, d * t
            if y @ s > 1e-10:
                if len(dirs) == history_size:
                    dirs.pop(0), stps.pop(0)
                dirs.append(y), stps.append(s)
                h0 = (y @ s) / (y @ y)
            q, alphas = -g, []
            for y_i, s_i in reversed(list(zip(dirs, stps))):
                alphas.insert(0, (s_i @ q) / (y_i @ s_i))
                q = q - alphas[0] * y_i
            r = h0 * q
            for (y_i, s_i), a_i in zip(zip(dirs, stps), alphas):
                r = r + (a_i - (y_i @ r) / (y_i @ s_i)) * s_i
            d = r
        g_prev = g
        t = min(1.0, 1.0 / np.abs(g).sum()) * lr if k == 0 else lr
        x = x + t * d
        out.append((x.copy(), len(dirs)))
    return out


@pytest.mark.parametrize("history_size", [2, 100])
def test_fixed_step_iterates_follow_the_two_loop_recursion(device, history_size):
    x, opt, closure, calls = _setup(_quadratic, np.ones(5), device, max_iter=1, lr=0.8, history_size=history_size)
    expected = _numpy_lbfgs(np.ones(5), 12, 0.8, history_size)
    for k, (x_k, pairs) in enumerate(expected, start=1):
        loss = opt.step(closure)
        assert float(loss) == pytest.approx(calls[-1][1], rel=0, abs=0)  # the loss of the step's first evaluation
        np.testing.assert_allclose(x.numpy(), x_k, rtol=1e-12, atol=1e-14)
        state = _state(opt, x)
        assert (state["n_iter"], state["func_evals"]) == (k, k)  # the last iteration of a step never re-evaluates
        assert len(state["old_dirs"]) == len(state["old_stps"]) == len(state["ro"]) == pairs
    assert len(_state(opt, x)["old_dirs"]) == min(history_size, 11)


def test_first_step_is_gradient_descent_with_step_min_1_over_l1_norm():
    for x0, lr in ((np.ones(5), 1.0), (np.full(5, 1e-3), 0.5)):  # |g|_1 above 1, then below 1
        x, opt, closure, _ = _setup(_quadratic, x0, max_iter=1, lr=lr)
        g = A @ x0 - B
        opt.step(closure)
        np.testing.assert_allclose(x.numpy(), x0 - min(1.0, 1.0 / np.abs(g).sum()) * lr * g, rtol=1e-14)
        assert _state(opt, x)["t"] == pytest.approx(min(1.0, 1.0 / np.abs(g).sum()) * lr, rel=1e-15)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_quadratic_converges(device, line_search_fn):
    x, opt, closure, calls = _setup(
        _quadratic, np.zeros(5), device, max_iter=30, max_eval=100, line_search_fn=line_search_fn, **EXACT
    )
    opt.step(closure)
    np.testing.assert_allclose(x.numpy(), X_STAR, rtol=0, atol=1e-9)
    assert _state(opt, x)["n_iter"] < 30 and _state(opt, x)["func_evals"] == len(calls)


def test_isotropic_quadratic_is_solved_on_the_second_iteration():
    """With A = a I the first pair gives H_diag = y^T s / y^T y = 1 / a, so d = -g / a is the exact Newton step."""
    a, c = 3.0, np.array([1.0, -2.0, 0.5])
    x, opt, closure, _ = _setup(
        lambda x: 0.5 * a * ((x - mg.tensor(c)) ** 2).sum(), np.zeros(3), max_iter=2, max_eval=10
    )
    opt.step(closure)
    np.testing.assert_allclose(x.numpy(), c, rtol=1e-15)
    assert _state(opt, x)["H_diag"] == pytest.approx(1 / a, rel=1e-15)


def test_rosenbrock_converges_with_the_line_search():
    x, opt, closure, _ = _setup(_rosenbrock, [-1.2, 1.0], line_search_fn="strong_wolfe", max_iter=100, **EXACT)
    opt.step(closure)
    assert _state(opt, x)["n_iter"] < 100
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], rtol=0, atol=1e-8)
    assert float(_rosenbrock(x)) < 1e-15


def test_rosenbrock_10d_converges_with_the_line_search():
    x, opt, closure, _ = _setup(
        _rosenbrock, np.linspace(-1.5, 1.2, 10), line_search_fn="strong_wolfe", max_iter=200, **EXACT
    )
    opt.step(closure)
    assert _state(opt, x)["n_iter"] < 200
    np.testing.assert_allclose(x.numpy(), np.ones(10), rtol=0, atol=1e-8)


def test_accepted_steps_satisfy_the_strong_wolfe_conditions():
    """Each iteration's accepted point: f(x + t d) <= f(x) + c1 t g^T d and |g(x + t d)^T d| <= c2 |g^T d|."""
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], line_search_fn="strong_wolfe", max_iter=1, max_eval=25)
    for _ in range(15):
        x_before = x.numpy().copy()
        start = len(calls)
        opt.step(closure)
        x0, f0, g0 = calls[start]
        step = x.numpy() - x_before
        if not step.any():
            continue
        accepted = [c for c in calls[start + 1 :] if np.allclose(c[0], x.numpy(), rtol=0, atol=1e-15)]
        assert accepted, "the accepted point was one of the trial points"
        _, f1, g1 = accepted[-1]
        assert f1 <= f0 + 1e-4 * (g0 @ step)
        assert abs(g1 @ step) <= 0.9 * abs(g0 @ step) + 1e-12


def test_max_iter_and_max_eval_bound_a_step():
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], max_iter=5, lr=1e-4)
    opt.step(closure)
    state = _state(opt, x)
    assert (state["n_iter"], state["func_evals"], len(calls)) == (5, 5, 5)  # 1 + 4 re-evaluations
    assert opt.param_groups[0]["max_eval"] == 5 * 5 // 4
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], max_iter=50, max_eval=3, lr=1e-4)
    opt.step(closure)
    assert (_state(opt, x)["n_iter"], _state(opt, x)["func_evals"]) == (2, 3)
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], max_iter=50, max_eval=7, line_search_fn="strong_wolfe")
    opt.step(closure)
    assert _state(opt, x)["func_evals"] == len(calls) <= 7


def test_counters_accumulate_across_steps():
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], max_iter=3, max_eval=10, lr=1e-4)
    opt.step(closure)
    opt.step(closure)
    assert (_state(opt, x)["n_iter"], _state(opt, x)["func_evals"], len(calls)) == (6, 6, 6)
    # max_eval defaults to max_iter * 5 // 4 = 3: a step ends after 2 iterations, on the third evaluation
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], max_iter=3, lr=1e-4)
    opt.step(closure)
    opt.step(closure)
    assert (_state(opt, x)["n_iter"], _state(opt, x)["func_evals"], len(calls)) == (4, 6, 6)


def test_tolerance_grad_stops_before_any_iteration():
    x, opt, closure, calls = _setup(_quadratic, X_STAR, tolerance_grad=1e-6)
    loss = opt.step(closure)
    assert float(loss) == pytest.approx(-0.5 * B @ X_STAR)
    assert _state(opt, x) == {"func_evals": 1, "n_iter": 0}  # as PyTorch: nothing else is stored
    np.testing.assert_array_equal(x.numpy(), X_STAR)


def test_tolerance_grad_stops_during_the_iterations():
    x, opt, closure, calls = _setup(_quadratic, np.zeros(5), tolerance_grad=1e-3, line_search_fn="strong_wolfe")
    opt.step(closure)
    assert np.abs(calls[-1][2]).max() <= 1e-3 < np.abs(calls[-2][2]).max()
    assert _state(opt, x)["n_iter"] < 20


def test_tolerance_change_stops_on_a_small_loss_change():
    x, opt, closure, calls = _setup(_quadratic, np.zeros(5), tolerance_change=1e-2, tolerance_grad=0, max_iter=100)
    opt.step(closure)
    losses = [c[1] for c in calls]
    assert abs(losses[-1] - losses[-2]) < 1e-2
    assert all(abs(a - b) >= 1e-2 for a, b in zip(losses[:-2], losses[1:-1]))


def test_no_descent_direction_stops():
    """g^T d > -tolerance_change ends the loop before a step is taken: here with a huge tolerance_change."""
    x, opt, closure, calls = _setup(_quadratic, np.zeros(5), tolerance_change=1e9)
    opt.step(closure)
    np.testing.assert_array_equal(x.numpy(), np.zeros(5))
    assert (_state(opt, x)["n_iter"], len(calls)) == (1, 1)


def test_history_never_exceeds_history_size():
    x, opt, closure, _ = _setup(_rosenbrock, np.linspace(-1.5, 1.2, 10), history_size=4, line_search_fn="strong_wolfe")
    lengths = []
    for _ in range(5):
        opt.step(closure)
        lengths.append(len(_state(opt, x)["old_dirs"]))
    assert max(lengths) == 4 and len(_state(opt, x)["al"]) == 4
    ro = _state(opt, x)["ro"]
    pairs = zip(_state(opt, x)["old_dirs"], _state(opt, x)["old_stps"], ro)
    assert all(float(r) == pytest.approx(1 / (y @ s), rel=1e-14) and y @ s > 1e-10 for y, s, r in pairs)


def test_returns_the_first_closure_result():
    x, opt, closure, calls = _setup(_quadratic, np.ones(5))
    out = []

    def recording():
        out.append(closure())
        return out[-1]

    assert opt.step(recording) is out[0]


def test_float32_parameters_keep_float32_state(device):
    x, opt, closure, _ = _setup(_quadratic, np.zeros(5), device, dtype="float32", line_search_fn="strong_wolfe")
    opt.step(closure)
    state = _state(opt, x)
    for array in [state["d"], state["prev_flat_grad"], *state["old_dirs"], *state["old_stps"]]:
        assert array.dtype == np.float32 and array.shape == (5,)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.numpy(), X_STAR, rtol=0, atol=1e-4)


def test_several_parameters_are_one_flat_vector():
    """Splitting the variable into tensors of different shapes changes nothing: the method sees one flat vector."""
    whole, opt_w, closure_w, _ = _setup(_quadratic, np.ones(5), line_search_fn="strong_wolfe", max_iter=4)
    a = mg.tensor(np.ones((2, 1)), requires_grad=True)
    b = mg.tensor(np.ones(3), requires_grad=True)
    unused = mg.tensor(np.array([7.0]), requires_grad=True)  # never gets a gradient: its part of the flat gradient is 0
    opt = optim.LBFGS([a, b, unused], line_search_fn="strong_wolfe", max_iter=4)

    def closure():
        opt.zero_grad()
        loss = _quadratic(mg.cat([a.reshape(-1), b]))
        loss.backward()
        return loss

    opt.step(closure)
    opt_w.step(closure_w)
    np.testing.assert_allclose(np.concatenate([a.numpy().ravel(), b.numpy()]), whole.numpy(), rtol=1e-13)
    assert unused.tolist() == [7.0]
    assert set(opt.state) == {id(a)} and _state(opt, a)["d"].shape == (6,)


# --- saving and resuming ---------------------------------------------------------------------


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_state_dict_round_trip_resumes_the_same_trajectory(tmp_path, line_search_fn):
    kwargs = {"max_iter": 3, "history_size": 5, "line_search_fn": line_search_fn, "lr": 1 if line_search_fn else 0.1}
    straight, opt_s, closure_s, _ = _setup(_rosenbrock, np.linspace(-1.5, 1.2, 6), **kwargs)
    for k in range(8):
        opt_s.step(closure_s)
        if k == 3:
            n_iter_half = _state(opt_s, straight)["n_iter"]

    x, opt, closure, _ = _setup(_rosenbrock, np.linspace(-1.5, 1.2, 6), **kwargs)
    for _ in range(4):
        opt.step(closure)
    saved_state = opt.state_dict()
    assert sorted(saved_state["state"][0]) == sorted(
        ["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss", "al"]
    )
    mg.save({"x": x, "opt": saved_state}, tmp_path / "ckpt.npz")
    opt.step(closure)  # the saved state is a snapshot: later steps do not change it
    loaded = mg.load(tmp_path / "ckpt.npz")
    for a, b in zip(loaded["opt"]["state"][0]["old_dirs"], saved_state["state"][0]["old_dirs"]):
        np.testing.assert_array_equal(a.numpy(), b.numpy())

    x2, opt2, closure2, _ = _setup(_rosenbrock, loaded["x"].numpy(), **kwargs)
    opt2.load_state_dict(loaded["opt"])
    assert _state(opt2, x2)["n_iter"] == n_iter_half
    for _ in range(4):
        opt2.step(closure2)
    np.testing.assert_array_equal(x2.numpy(), straight.numpy())
    assert _state(opt2, x2)["func_evals"] == _state(opt_s, straight)["func_evals"]


def test_load_state_dict_without_save_copies_the_state():
    x, opt, closure, _ = _setup(_quadratic, np.ones(5), max_iter=3)
    opt.step(closure)
    state = opt.state_dict()
    n_iter = _state(opt, x)["n_iter"]
    x2, opt2, closure2, _ = _setup(_quadratic, x.numpy(), max_iter=3)
    opt2.load_state_dict(state)
    opt2.step(closure2)
    opt.step(closure)
    np.testing.assert_array_equal(x2.numpy(), x.numpy())
    assert state["state"][0]["n_iter"] == n_iter < _state(opt, x)["n_iter"]


def test_load_state_dict_rejects_flat_vectors_of_the_wrong_length():
    x, opt, closure, _ = _setup(_quadratic, np.ones(5), max_iter=3)
    opt.step(closure)
    state = opt.state_dict()
    _, other, _, _ = _setup(_quadratic, np.ones(4))
    with pytest.raises(optim.OptimizerStateError, match="'d' of parameter 0 has shape \\(5,\\)"):
        other.load_state_dict(state)
    assert other.state == {}


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"history_size": 0}, "LBFGS: history_size must be a positive integer, got 0"),
        ({"history_size": -3}, "LBFGS: history_size must be a positive integer, got -3"),
        ({"max_iter": 0}, "LBFGS: max_iter must be a positive integer, got 0"),
        ({"max_iter": -1}, "LBFGS: max_iter must be a positive integer, got -1"),
        ({"max_iter": 2.5}, "LBFGS: max_iter must be a positive integer, got 2.5"),
        ({"max_eval": 0}, "LBFGS: max_eval must be a positive integer, got 0"),
        ({"line_search_fn": "armijo"}, "LBFGS: line_search_fn must be 'strong_wolfe' or None, got 'armijo'"),
        ({"tolerance_grad": -1.0}, "LBFGS: tolerance_grad must be non-negative"),
        ({"tolerance_change": math.nan}, "LBFGS: tolerance_change must be non-negative"),
    ],
)
def test_bad_arguments_name_lbfgs_and_the_argument(kwargs, message):
    with pytest.raises(ArgumentError, match=message.replace("(", "\\(").replace(")", "\\)")):
        optim.LBFGS([mg.tensor([1.0], requires_grad=True)], **kwargs)


def test_bad_learning_rate():
    with pytest.raises(ValueError, match="LBFGS: invalid learning rate -1"):
        optim.LBFGS([mg.tensor([1.0], requires_grad=True)], lr=-1)


def test_only_one_parameter_group():
    a, b = mg.tensor([1.0], requires_grad=True), mg.tensor([2.0], requires_grad=True)
    with pytest.raises(ArgumentError, match="LBFGS doesn't support per-parameter options \\(parameter groups\\)"):
        optim.LBFGS([{"params": [a]}, {"params": [b], "lr": 0.1}])
    opt = optim.LBFGS([a])
    with pytest.raises(ArgumentError, match="parameter groups"):
        opt.add_param_group({"params": [b]})
    assert len(opt.param_groups) == 1


def test_parameters_of_mixed_dtypes_are_refused():
    a = mg.tensor(np.ones(2, np.float32), requires_grad=True)
    b = mg.tensor(np.ones(2, np.float64), requires_grad=True)
    with pytest.raises(DTypeError, match="LBFGS: params must be floating tensors of one dtype"):
        optim.LBFGS([a, b])


def test_closure_errors():
    x, opt, closure, _ = _setup(_quadratic, np.ones(5))
    with pytest.raises(ArgumentError, match="LBFGS.step needs a closure"):
        opt.step(None)
    with pytest.raises(ArgumentError, match="LBFGS.step: the closure returned None"):
        opt.step(lambda: None)
    np.testing.assert_array_equal(x.numpy(), np.ones(5))


def _finite_only_at_start(x):
    """A finite loss at the start x = 1; NaN everywhere else (so at every trial point)."""
    loss = _quadratic(x)
    return loss if x.tolist() == [1.0] * 5 else loss * math.nan


def test_non_finite_loss_at_every_trial_point_raises_and_leaves_the_parameters():
    x, opt, closure, calls = _setup(_finite_only_at_start, np.ones(5), line_search_fn="strong_wolfe")
    with pytest.raises(
        ArgumentError, match="LBFGS.step: the closure returned a non-finite loss or gradient at all 25 trial points"
    ):
        opt.step(closure)
    np.testing.assert_array_equal(x.numpy(), np.ones(5))
    assert x.grad is not None
    state = _state(opt, x)
    assert state["func_evals"] == len(calls) == 26 and state["t"] == 0.0  # 1, then 1 + max_eval - 1 trials
    assert all(not np.isfinite(c[1]) for c in calls[1:])

    def sane():  # the failed step left a usable state: the next step on a finite loss goes on from it
        opt.zero_grad()
        loss = _quadratic(x)
        loss.backward()
        return loss

    assert float(opt.step(sane)) > float(_quadratic(x))


def test_a_closure_error_in_the_line_search_restores_the_parameters_and_keeps_the_state_usable():
    x, opt, closure, calls = _setup(_rosenbrock, [-1.2, 1.0], line_search_fn="strong_wolfe", **EXACT, max_iter=5)
    opt.step(closure)  # build some history first
    x_before, n, n_iter = x.numpy().copy(), len(calls), _state(opt, x)["n_iter"]

    def failing():  # fine at the start of the step, None at the line search's first trial
        return None if len(calls) > n else closure()

    with pytest.raises(ArgumentError, match="the closure returned None"):
        opt.step(failing)
    np.testing.assert_array_equal(x.numpy(), x_before)
    assert _state(opt, x)["n_iter"] == n_iter + 1 and _state(opt, x)["t"] == 0  # no step taken
    for _ in range(40):
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), [1.0, 1.0], rtol=0, atol=1e-8)


def test_non_finite_loss_at_the_start_raises_with_the_line_search():
    x, opt, closure, _ = _setup(lambda x: _quadratic(x) + math.inf, np.ones(5), line_search_fn="strong_wolfe")
    with pytest.raises(ArgumentError, match="non-finite loss \\(inf\\) at the current parameters"):
        opt.step(closure)
    np.testing.assert_array_equal(x.numpy(), np.ones(5))


def test_line_search_backs_off_from_non_finite_trial_points():
    """Where the loss is not finite (here outside a box) the search treats the trial as failed and shrinks t."""

    def boxed(x):
        loss = _quadratic(x)
        return loss * math.nan if float(abs(x).max()) > 1.2 else loss

    x, opt, closure, calls = _setup(boxed, np.ones(5), line_search_fn="strong_wolfe", lr=50.0)
    opt.step(closure)
    assert any(not np.isfinite(c[1]) for c in calls)
    assert np.isfinite(x.numpy()).all() and float(boxed(x)) < float(boxed(mg.tensor(np.ones(5))))


def test_state_scalars_are_0d_arrays_and_come_back_as_tensors():
    x, opt, closure, _ = _setup(_quadratic, np.ones(5), dtype="float32", max_iter=4, max_eval=10)
    opt.step(closure)
    state = _state(opt, x)
    for value in [state["H_diag"], *state["ro"], *[a for a in state["al"] if a is not None]]:
        assert value.shape == () and value.dtype == np.float32
    saved = opt.state_dict()["state"][0]
    assert isinstance(saved["H_diag"], mg.Tensor) and all(isinstance(r, mg.Tensor) for r in saved["ro"])
    assert saved["al"][-1] is None  # PyTorch's scratch list has history_size slots, filled as pairs arrive


def test_step_runs_the_closure_with_recording_on_inside_no_grad():
    x, opt, closure, calls = _setup(_quadratic, np.zeros(5), line_search_fn="strong_wolfe", **EXACT)
    with mg.no_grad():
        opt.step(closure)
    np.testing.assert_allclose(x.numpy(), X_STAR, rtol=0, atol=1e-9)

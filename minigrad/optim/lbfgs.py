"""L-BFGS: a limited-memory quasi-Newton method, with PyTorch's ``LBFGS`` arguments, state and stopping rules.

All parameters are handled as one flat vector x (their values concatenated
in order) in the parameters' dtype, on their device, through the backend's
array module: the gradient g, the direction d and the stored pairs are flat
arrays of the same length. The scalars made from them (g^T d, y^T s, the
line search's slopes and interpolations) stay 0-d values of that dtype, as
PyTorch's 0-d tensors do, so that in float32 the tests compare what PyTorch
compares; losses are Python floats, as there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from .. import backend
from ..autograd import enable_grad
from ..errors import ArgumentError, DeviceError, DTypeError
from .optimizer import Optimizer

_LINE_SEARCHES = (None, "strong_wolfe")


class _NoFiniteTrial(Exception):
    """Raised inside the line search when every trial point gave a non-finite loss (caught by ``LBFGS.step``)."""

    def __init__(self, evals: int, first_bad: float):
        super().__init__(evals, first_bad)
        self.evals, self.first_bad = evals, first_bad


def _cubic_minimizer(x1, f1: float, g1, x2, f2: float, g2, bounds=None):
    r"""The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped to ``bounds``.

    The cubic's stationary point is, with x2 the far end (x1 < x2)

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2),   d2 = sqrt(d1^2 - g1 g2),
        x* = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)

    (by symmetry with the roles swapped when x2 < x1). ``bounds`` defaults
    to the interval between the two points. When d1^2 < g1 g2 the cubic has
    no minimiser and the midpoint of the bounds is returned; so is it when
    the formula is not finite (a non-finite value at one end), so that the
    search bisects rather than stepping to NaN.
    """
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = backend.xp_of(d2_square).sqrt(d2_square)
        if x1 <= x2:
            x = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            x = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        if math.isfinite(float(x)):
            return min(max(x, low), high)
    return (low + high) / 2.0


def _strong_wolfe(evaluate, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    r"""A step t along d satisfying the strong Wolfe conditions (More & Thuente's bracketing and zoom).

    With phi(t) = f(x + t d) and phi'(t) = g(x + t d)^T d, the conditions are

        phi(t) <= phi(0) + c1 t phi'(0)     (sufficient decrease, Armijo)
        |phi'(t)| <= -c2 phi'(0)            (curvature)

    Bracketing: from the initial t, extrapolate (the cubic's minimiser,
    kept within [t + 0.01 (t - t_prev), 10 t]) until an interval is known to
    contain a Wolfe point: a trial fails the Armijo condition or does not
    improve on the previous one, or the slope turns non-negative. Zoom:
    shrink the bracket by cubic interpolation, moving a trial that falls
    within 10% of the bracket's length from an end to that distance, until the
    conditions hold, the bracket is shorter than ``tolerance_change`` (in the
    max norm of t d) or ``max_ls`` evaluations are spent. Returns the lowest
    point seen in the bracket as (loss, flat gradient, t, evaluations).

    ``evaluate(t)`` returns (loss, flat gradient) at x + t d. A trial whose
    loss or slope is not finite counts as a failed trial (as +inf, so the
    search backs off from it); if no trial was finite, ``_NoFiniteTrial``.
    """
    xp = backend.xp_of(d)
    d_norm = xp.abs(d).max()
    evals, finite, first_bad = 0, 0, None

    def trial(step):
        nonlocal evals, finite, first_bad
        loss, grad = evaluate(step)
        evals += 1
        slope = grad @ d
        if math.isfinite(loss) and math.isfinite(float(slope)):
            finite += 1
        else:
            first_bad = loss if first_bad is None else first_bad
            loss = math.inf
        return [step, loss, grad, slope]

    start = [0, f, g.copy(), gtd]
    new = trial(t)
    prev, bracket, done, ls_iter = start, None, False, 0
    while ls_iter < max_ls:
        _, f_new, _, gtd_new = new
        if f_new > f + c1 * new[0] * gtd or (ls_iter > 1 and f_new >= prev[1]):
            bracket = [prev, new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, done = [new], True
            break
        if gtd_new >= 0:
            bracket = [prev, new]
            break
        t = new[0]
        step = _cubic_minimizer(prev[0], prev[1], prev[3], t, f_new, gtd_new, bounds=(t + 0.01 * (t - prev[0]), t * 10))
        prev, new = new, trial(step)
        ls_iter += 1
    if ls_iter >= max_ls:  # out of evaluations while bracketing: the start or the last trial, whichever is lower
        bracket = [start, new]

    low, high = (0, 1) if bracket[0][1] <= bracket[-1][1] else (1, 0)
    insufficient = False
    while not done and ls_iter < max_ls:
        if abs(bracket[1][0] - bracket[0][0]) * d_norm < tolerance_change:
            break
        step = _cubic_minimizer(*bracket[0][:2], bracket[0][3], *bracket[1][:2], bracket[1][3])
        left, right = min(bracket[0][0], bracket[1][0]), max(bracket[0][0], bracket[1][0])
        margin = 0.1 * (right - left)
        if min(right - step, step - left) < margin:  # too near an end: progress would be slow
            if insufficient or step >= right or step <= left:
                step = right - margin if abs(step - right) < abs(step - left) else left + margin
                insufficient = False
            else:
                insufficient = True
        else:
            insufficient = False
        new = trial(step)
        ls_iter += 1
        if new[1] > f + c1 * step * gtd or new[1] >= bracket[low][1]:
            bracket[high] = new
            low, high = (0, 1) if bracket[0][1] <= bracket[1][1] else (1, 0)
        else:
            if abs(new[3]) <= -c2 * gtd:
                done = True
            elif new[3] * (bracket[high][0] - bracket[low][0]) >= 0:
                bracket[high] = bracket[low]
            bracket[low] = new
    if finite == 0:
        raise _NoFiniteTrial(evals, first_bad)
    best = bracket[low]
    return best[1], best[2], best[0], evals


class LBFGS(Optimizer):
    r"""L-BFGS, as PyTorch's ``torch.optim.LBFGS`` (heavily inspired by minFunc).

    One ``step(closure)`` runs up to ``max_iter`` iterations on the flat
    parameter vector x with gradient g. It keeps the last ``history_size``
    pairs s_k = x_{k+1} - x_k, y_k = g_{k+1} - g_k (a pair is stored only if
    y^T s > 1e-10, which keeps the implied Hessian positive definite) and
    gets the direction d = -H g by the two-loop recursion, with
    rho_i = 1 / y_i^T s_i and the initial scaling H_0 = (y^T s / y^T y) I of
    the newest pair:

        q = -g;  for i newest..oldest: a_i = rho_i s_i^T q,  q -= a_i y_i
        r = H_0 q;  for i oldest..newest: b_i = rho_i y_i^T r,  r += (a_i - b_i) s_i;  d = r

    The first iteration ever uses d = -g with step t = min(1, 1 / |g|_1) lr;
    later ones t = lr. With ``line_search_fn=None`` the step is x += t d (then
    the closure is re-evaluated, except after the last iteration); with
    ``"strong_wolfe"`` t is chosen by a strong-Wolfe line search (cubic
    interpolation, c1 = 1e-4, c2 = 0.9) that spends at most what is left of
    ``max_eval``.

    An iteration loop stops after ``max_iter`` iterations or ``max_eval``
    closure evaluations, when max|g| <= ``tolerance_grad`` (checked first,
    before any iteration), when g^T d > -``tolerance_change`` (no descent),
    when max|t d| <= ``tolerance_change`` or when the loss changed by less than
    ``tolerance_change``. The history persists across calls to ``step``.

    What it is good for: deterministic, smooth, full-batch problems of
    moderate size (curve fitting, small regressions, style transfer on one
    image), where a few dozen iterations reach what first-order methods need
    thousands for. It is not made for noisy minibatch gradients, and it
    stores about 2 ``history_size`` + 4 flat copies of the parameters.

    Args:
        params: the parameters (one group only, as in PyTorch).
        lr: learning rate (default: 1).
        max_iter: maximal number of iterations per ``step`` (default: 20).
        max_eval: maximal number of closure evaluations per ``step``
            (default: ``max_iter * 5 // 4``).
        tolerance_grad: termination tolerance on first-order optimality (default: 1e-7).
        tolerance_change: termination tolerance on changes of the loss and the parameters (default: 1e-9).
        history_size: update history size (default: 100).
        line_search_fn: ``"strong_wolfe"`` or None (default: None).

    ``step(closure)``: the closure zeroes the gradients, computes the loss,
    calls ``backward()`` and returns the loss; it runs with recording on. The
    state (``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``n_iter``, ``func_evals`` and the
    scratch list ``al``) lives under the first parameter, as in PyTorch.

    Raises ArgumentError (naming LBFGS and the argument) for a second
    parameter group, ``max_iter``, ``max_eval`` or ``history_size`` that is not
    a positive integer, a negative tolerance or an unknown
    ``line_search_fn``; for a closure that returns None; and with the line
    search, for a non-finite loss at the start of a step or at every trial
    point, leaving the parameters where the line search started.
    DTypeError / DeviceError for parameters of mixed dtypes or devices.
    """

    def __init__(
        self,
        params,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None and _is_count(max_iter):
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)

    def add_param_group(self, group: dict) -> None:
        """Add the one parameter group; a second raises (LBFGS has no per-parameter options, as PyTorch)."""
        if self.param_groups:
            raise ArgumentError("LBFGS doesn't support per-parameter options (parameter groups): params has 2 or more")
        super().add_param_group(group)
        params = self.param_groups[0]["params"]
        dtypes, devices = {p.dtype for p in params}, {p.device for p in params}
        if len(dtypes) > 1 or next(iter(dtypes)).kind != "f":
            self.param_groups.clear()
            raise DTypeError(f"LBFGS: params must be floating tensors of one dtype, got {sorted(map(str, dtypes))}")
        if len(devices) > 1:
            self.param_groups.clear()
            raise DeviceError(f"LBFGS: params must all be on one device, got {sorted(devices)}")

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)
        for key in ("max_iter", "max_eval", "history_size"):
            if not _is_count(group[key]):
                raise ArgumentError(f"LBFGS: {key} must be a positive integer, got {group[key]!r}")
        for key in ("tolerance_grad", "tolerance_change"):
            if not group[key] >= 0:
                raise ArgumentError(f"LBFGS: {key} must be non-negative, got {group[key]!r}")
        if group["line_search_fn"] not in _LINE_SEARCHES:
            raise ArgumentError(
                f"LBFGS: line_search_fn must be 'strong_wolfe' or None, got {group['line_search_fn']!r}"
            )

    # --- the parameters as one flat vector -------------------------------------------
    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    def _numel(self) -> int:
        return sum(p.numel() for p in self._params)

    def _state_array_shapes(self, param) -> tuple:
        return ((self._numel(),), ())  # flat vectors and 0-d scalars

    def _gather_flat_grad(self):
        xp, dtype = self._params[0].xp, self._params[0].dtype
        parts = [xp.zeros(p.numel(), dtype) if p.grad is None else p.grad.array.reshape(-1) for p in self._params]
        return xp.concatenate(parts).astype(dtype, copy=False)

    def _add_grad(self, step_size: float, update) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            p.array += step_size * update[offset : offset + n].reshape(p.shape)
            p._vc[0] += 1
            offset += n

    def _clone_param(self) -> list:
        return [p.array.copy() for p in self._params]

    def _set_param(self, arrays) -> None:
        for p, array in zip(self._params, arrays):
            p.array[...] = array
            p._vc[0] += 1

    def _evaluate(self, closure: Callable):
        """Call the closure with recording on; (its result, that result as a float)."""
        with enable_grad():
            loss = closure()
        if loss is None:
            raise ArgumentError("LBFGS.step: the closure returned None; it must return the loss (after backward())")
        return loss, float(loss)

    def _directional_evaluate(self, closure: Callable, x, t: float, d):
        """(loss, flat gradient) at x + t d; the parameters are set back to x afterwards."""
        self._add_grad(t, d)
        try:
            _, loss = self._evaluate(closure)
            flat_grad = self._gather_flat_grad()
        finally:
            self._set_param(x)
        return loss, flat_grad

    # --- the step -------------------------------------------------------------------
    def step(self, closure: Callable):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first closure call (as PyTorch)."""
        if closure is None:
            raise ArgumentError("LBFGS.step needs a closure that returns the loss after backward()")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        xp = self._params[0].xp

        state = self.state.setdefault(id(self._params[0]), {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        if line_search_fn is not None and not math.isfinite(loss):
            raise ArgumentError(
                f"LBFGS.step: the closure returned a non-finite loss ({loss}) at the current parameters; "
                "the strong-Wolfe line search needs a finite one (parameters left unchanged)"
            )
        flat_grad = self._gather_flat_grad()
        opt_cond = bool(xp.abs(flat_grad).max() <= tolerance_grad)
        if opt_cond:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        try:  # the state stays consistent even when the closure raises or the line search fails
            while n_iter < max_iter:
                n_iter += 1
                state["n_iter"] += 1

                # the direction: steepest descent at first, then the two-loop recursion
                if state["n_iter"] == 1:
                    d = -flat_grad
                    old_dirs, old_stps, ro = [], [], []
                    H_diag = 1
                else:
                    y = flat_grad - prev_flat_grad
                    s = d * t
                    ys = y @ s
                    if ys > 1e-10:  # keep only pairs of positive curvature
                        if len(old_dirs) == history_size:
                            old_dirs.pop(0)
                            old_stps.pop(0)
                            ro.pop(0)
                        old_dirs.append(y)
                        old_stps.append(s)
                        # scalars as 0-d arrays of the parameters' dtype (0-d tensors in PyTorch's state)
                        ro.append(xp.asarray(1.0 / ys))
                        H_diag = xp.asarray(ys / (y @ y))
                    num_old = len(old_dirs)
                    al = state.setdefault("al", [None] * history_size)
                    if len(al) < num_old:  # history_size was raised (e.g. by load_state_dict)
                        al.extend([None] * (num_old - len(al)))
                    q = -flat_grad
                    for i in range(num_old - 1, -1, -1):
                        al[i] = xp.asarray((old_stps[i] @ q) * ro[i])
                        q += -al[i] * old_dirs[i]
                    d = r = q * H_diag
                    for i in range(num_old):
                        be_i = (old_dirs[i] @ r) * ro[i]
                        r += (al[i] - be_i) * old_stps[i]

                prev_flat_grad = flat_grad.copy()
                prev_loss = loss

                # the step length
                if state["n_iter"] == 1:
                    t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr  # |g|_1 > 0, or opt_cond would have held
                else:
                    t = lr
                gtd = flat_grad @ d
                if gtd > -tolerance_change:  # not a descent direction (to working precision)
                    break

                ls_func_evals = 0
                if line_search_fn is not None:
                    x_init = self._clone_param()
                    try:
                        loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                            partial(self._directional_evaluate, closure, x_init, d=d),
                            t,
                            d,
                            loss,
                            flat_grad,
                            gtd,
                            max_ls=max_eval - current_evals,
                        )
                    except _NoFiniteTrial as exc:  # no step taken: t = 0, the evaluations counted
                        t = 0.0
                        state["func_evals"] += exc.evals
                        raise ArgumentError(
                            f"LBFGS.step: the closure returned a non-finite loss or gradient at all {exc.evals} "
                            f"trial points of the strong-Wolfe line search (the first loss: {exc.first_bad}); "
                            "parameters left where the line search started"
                        ) from None
                    except BaseException:  # the closure raised: the parameters are back at x_init, no step taken
                        t = 0.0
                        raise
                    self._add_grad(t, d)
                    opt_cond = bool(xp.abs(flat_grad).max() <= tolerance_grad)
                else:
                    self._add_grad(t, d)
                    if n_iter != max_iter:  # the last iteration does not re-evaluate (no use in a stochastic setting)
                        _, loss = self._evaluate(closure)
                        flat_grad = self._gather_flat_grad()
                        opt_cond = bool(xp.abs(flat_grad).max() <= tolerance_grad)
                        ls_func_evals = 1

                current_evals += ls_func_evals
                state["func_evals"] += ls_func_evals

                if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                    break
                if xp.abs(d * t).max() <= tolerance_change:  # lack of progress
                    break
                if abs(loss - prev_loss) < tolerance_change:
                    break
        finally:
            state.update(
                d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                prev_flat_grad=prev_flat_grad, prev_loss=prev_loss,
            )  # fmt: skip
        return orig_loss


def _is_count(value) -> bool:
    """A positive integer (not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1

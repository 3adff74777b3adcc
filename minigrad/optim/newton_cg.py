r"""Hessian-free (truncated) Newton: conjugate gradients on Hessian-vector products, Levenberg-Marquardt damping.

:class:`NewtonCG` never forms the Hessian. Each step takes the gradient g of
the closure's loss with ``create_graph=True`` once, and then every product
H v is one more reverse pass through that recorded gradient (reverse over
reverse: ``grad(g, params, grad_outputs=v)`` is v^T H = (H v)^T, H being
symmetric). Memory is a few vectors of the parameters' size plus the graph of
one gradient, so it runs on networks of 100k parameters and more, where the
dense :class:`~minigrad.optim.Newton` (n products and an n x n matrix per
step) cannot.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .. import backend
from ..autograd.functional import _vjp_of
from ..errors import ArgumentError, DeviceError, GraphError, ShapeError
from ..grad_mode import enable_grad, no_grad
from ..tensor import Tensor
from .optimizer import Optimizer

__all__ = ["NewtonCG"]

# cg_max_iter=None means "as many as there are parameters", but never more than this (Martens 2010 used 250)
_CG_CAP = 250


class NewtonCG(Optimizer):
    r"""Hessian-free Newton: each step solves (H + lambda I) d = -g approximately by (preconditioned) CG.

    **The step.** With g the gradient and H the Hessian of the loss f at the
    parameters x (concatenated in group order into one vector of n numbers),
    conjugate gradients, started at d = 0, minimises the damped quadratic model

        q_lambda(d) = g^T d + 1/2 d^T (H + lambda I) d

    using one Hessian-vector product per iteration (no n x n matrix is ever
    built). CG stops at the first of:

    * the relative residual ||(H + lambda I) d + g|| / ||g|| <= ``cg_tol``;
    * ``cg_max_iter`` iterations (default: n, capped at 250). On a quadratic
      with positive definite H, CG is exact after at most n iterations in
      exact arithmetic, so with ``damping=0`` one step lands on the minimiser;
    * **negative curvature**: a search direction p with p^T (H + lambda I) p <= 0
      means the damped model is unbounded below along p. CG stops and returns
      its last iterate, which still decreases the model. If that happens on
      the very first direction p_0 = -M^{-1} g (steepest descent, M the
      preconditioner; -g without one), the step is p_0 scaled to the minimiser
      of the model with the curvature taken by absolute value (the
      "saddle-free" choice of Dauphin et al., 2014):
      d = a p_0, a = -g^T p_0 / (|p_0^T H p_0| + lambda ||p_0||^2).

    The parameters move to x + lr d.

    **The damping rule** (Levenberg-Marquardt, as Martens 2010). The step is
    judged by the ratio of the actual to the predicted decrease,

        rho = (f(x) - f(x + s)) / -(g^T s + 1/2 s^T H s),   s = lr d,

    where the predicted decrease uses the *undamped* model (s^T H s comes for
    free from CG's residual: s^T H s = -s^T g - s^T r - lambda ||s||^2 for
    s = d, r the CG residual). Then

        rho < 1/4:  lambda <- lambda * damping_increase   (the model was too optimistic: trust it less)
        rho > 3/4:  lambda <- lambda * damping_decrease   (the model was good: move towards Newton)

    clipped to [``min_damping``, ``max_damping``], and otherwise unchanged. A
    large lambda turns the step into gradient descent with rate 1/lambda, a
    small one into Newton's step: lambda plays the role of a trust-region
    radius. A step with rho < 0 (the loss went up) or a non-finite trial loss
    is **rejected**: the parameters are restored and lambda is raised. A
    ``damping=0`` start is allowed (pure Newton-CG); its first adaptation
    brings lambda into [min_damping, max_damping].

    **Preconditioner.** ``"jacobi"`` runs PCG with M = |diag(H)| + lambda,
    the diagonal estimated by Hutchinson's estimator diag(H) ~ mean_k z_k * (H z_k)
    over ``preconditioner_samples`` Rademacher vectors z_k drawn from
    minigrad's seeded generator (:func:`minigrad.manual_seed`), one
    Hessian-vector product each. Why Hutchinson and not Martens' squared
    per-example gradients (an empirical Fisher diagonal): the optimizer sees
    only the closure's scalar loss, not per-example gradients, and the
    squared *mean* gradient is a rank-one proxy that vanishes at a minimum;
    Hutchinson's estimate is unbiased for the true diagonal, uses the
    products CG already relies on, and is exact for a diagonal Hessian (the
    case Jacobi preconditioning is good at: badly scaled coordinates). The
    absolute value keeps M positive where the estimate is negative (an
    indefinite H, or noise). A callable ``preconditioner(r)`` receives the
    flat residual (a 1-D tensor of n elements) and returns M^{-1} r, M
    symmetric positive definite, approximating H + lambda I (read the
    current lambda from :attr:`damping`).

    **Costs**, counted in ``state`` (the entry of the first parameter, as
    PyTorch's LBFGS keeps its counters): ``grad_evals`` (one per step: the
    gradient with its graph), ``hvp_evals`` (one per CG iteration, plus the
    preconditioner's samples; each is a reverse pass through the gradient's
    graph, about the cost of one or two gradients), ``loss_evals`` (one per
    step: the trial point, with recording off). Also, for the last step:
    ``cg_iterations``, ``cg_residual`` (relative), ``negative_curvature``,
    ``rho``, ``accepted``; and ``damping`` (the current lambda) and ``n_iter``.

    ``step(closure)``: the closure returns the loss *without* calling
    ``backward`` (the optimizer differentiates it twice itself); it is called
    twice per step, at x with recording on and at the trial point with
    recording off. Returns the loss at x, detached. Parameters with
    ``requires_grad=False`` are left alone. As PyTorch's LBFGS, one parameter
    group only.

    Args:
        params: the parameters (one group).
        lr: scale of the step, s = lr d (1: the damped Newton step).
        damping: the initial lambda.
        cg_max_iter: most CG iterations per step (None: the number of parameters, at most 250).
        cg_tol: CG stops when the relative residual ||(H + lambda I) d + g|| / ||g|| is at most this.
        damping_increase: factor (> 1) for lambda when rho < 1/4.
        damping_decrease: factor (in (0, 1)) for lambda when rho > 3/4.
        preconditioner: None, ``"jacobi"`` or a callable r -> M^{-1} r.
        min_damping, max_damping: the range lambda is kept in when it adapts (0 < min <= max).
        preconditioner_samples: Rademacher vectors per step for the Jacobi diagonal.

    Raises ArgumentError for invalid hyperparameters, a missing closure, a
    non-finite loss or gradient at the current parameters (the parameters
    are left unchanged), or a preconditioner that is not positive definite;
    ShapeError when the closure's loss has more than one element or a
    callable preconditioner returns the wrong shape; DeviceError when the
    parameters are on different devices; GraphError when the closure's graph
    cannot be differentiated (e.g. the closure already called ``backward``).
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        damping: float = 1e-3,
        cg_max_iter: int | None = None,
        cg_tol: float = 1e-5,
        damping_increase: float = 1.5,
        damping_decrease: float = 2.0 / 3.0,
        preconditioner: str | Callable | None = None,
        min_damping: float = 1e-8,
        max_damping: float = 1e8,
        preconditioner_samples: int = 1,
    ):
        defaults = {
            "lr": lr,
            "damping": damping,
            "cg_max_iter": cg_max_iter,
            "cg_tol": cg_tol,
            "damping_increase": damping_increase,
            "damping_decrease": damping_decrease,
            "preconditioner": preconditioner,
            "min_damping": min_damping,
            "max_damping": max_damping,
            "preconditioner_samples": preconditioner_samples,
        }
        super().__init__(params, defaults)

    def add_param_group(self, group: dict) -> None:
        """One group only, as PyTorch's LBFGS: the step couples every parameter through H."""
        if self.param_groups:
            raise ArgumentError("NewtonCG doesn't support per-parameter options (parameter groups)")
        super().add_param_group(group)

    def _check_group(self, group: dict) -> None:
        super()._check_group(group)

        def bad(what):
            raise ArgumentError(f"NewtonCG: {what}")

        if not (group["lr"] > 0 and math.isfinite(group["lr"])):
            bad(f"lr must be positive and finite, got {group['lr']}")
        m = group["cg_max_iter"]
        if m is not None and (isinstance(m, bool) or not isinstance(m, int) or m < 1):
            bad(f"cg_max_iter must be None or a positive int, got {m!r}")
        if not 0 <= group["cg_tol"] < math.inf:
            bad(f"cg_tol must be non-negative and finite, got {group['cg_tol']}")
        if not 1 < group["damping_increase"] < math.inf:
            bad(f"damping_increase must be greater than 1, got {group['damping_increase']}")
        if not 0 < group["damping_decrease"] < 1:
            bad(f"damping_decrease must be in (0, 1), got {group['damping_decrease']}")
        lo, hi = group["min_damping"], group["max_damping"]
        if not 0 < lo <= hi < math.inf:
            bad(f"need 0 < min_damping <= max_damping < inf, got min_damping={lo}, max_damping={hi}")
        if not group["damping"] <= hi:
            bad(f"damping must be at most max_damping={hi}, got {group['damping']}")
        p = group["preconditioner"]
        if not (p is None or p == "jacobi" or callable(p)):
            bad(f"preconditioner must be None, 'jacobi' or a callable r -> M^-1 r, got {p!r}")
        k = group["preconditioner_samples"]
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            bad(f"preconditioner_samples must be a positive int, got {k!r}")

    # --- state -------------------------------------------------------------------------------
    def _state(self) -> dict:
        """The optimizer's counters and lambda, kept with the first parameter (so state_dict saves them)."""
        group = self.param_groups[0]
        first = group["params"][0]
        state = self.state.get(id(first))
        if state is None:
            state = self.state[id(first)] = {
                "n_iter": 0,
                "damping": float(group["damping"]),
                "grad_evals": 0,
                "hvp_evals": 0,
                "loss_evals": 0,
            }
        return state

    @property
    def damping(self) -> float:
        """The current lambda (it adapts every step; the group's ``damping`` is the initial value)."""
        return float(self._state()["damping"])

    # --- flat vectors -----------------------------------------------------------------------
    @staticmethod
    def _layout(params):
        devices = {p.device for p in params}
        if len(devices) > 1:
            raise DeviceError(f"NewtonCG: all parameters must be on one device, got {sorted(map(str, devices))}")
        xp = params[0].xp
        return xp, xp.result_type(*[p.dtype for p in params])

    @staticmethod
    def _flat(xp, dtype, arrays):
        return xp.concatenate([a.reshape(-1).astype(dtype, copy=False) for a in arrays])

    @staticmethod
    def _split(flat, params) -> list:
        pieces, offset = [], 0
        for p in params:
            n = p.numel()
            pieces.append(Tensor._wrap(flat[offset : offset + n].reshape(p.shape).astype(p.dtype, copy=False)))
            offset += n
        return pieces

    @staticmethod
    def _assign(params, arrays) -> None:
        for p, a in zip(params, arrays):
            p.array[...] = a
            p._vc[0] += 1

    @staticmethod
    def _loss_value(loss, where: str) -> float:
        if not isinstance(loss, Tensor):
            raise TypeError(
                f"NewtonCG: the closure must return the loss as a Tensor {where}, got {type(loss).__name__}"
            )
        if loss.numel() != 1:
            raise ShapeError(
                f"NewtonCG: the closure must return a loss with one element {where}, got shape {tuple(loss.shape)}"
            )
        return float(loss.item())

    # --- the step ---------------------------------------------------------------------------
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor:
        """One damped Newton-CG step (see the class docstring); returns the loss before it, detached."""
        if closure is None:
            raise ArgumentError("NewtonCG.step needs a closure that returns the loss (without calling backward)")
        group = self.param_groups[0]
        state = self._state()
        params = [p for p in group["params"] if p.requires_grad]
        with enable_grad():
            loss = closure()
        f0 = self._loss_value(loss, "at the current parameters")
        if not math.isfinite(f0):
            raise ArgumentError(
                f"NewtonCG: the closure returned a non-finite loss ({f0}) at the current parameters; "
                "parameters unchanged"
            )
        result = loss.detach()
        if not params:
            return result
        xp, dtype = self._layout(params)
        lam = float(state["damping"])

        with enable_grad():
            ones = Tensor._wrap(loss.xp.ones(loss.shape, loss.dtype))
            try:
                grads = _vjp_of("NewtonCG", (loss,), params, (ones,), True, False)
            except GraphError as exc:
                raise GraphError(
                    f"NewtonCG: could not differentiate the closure's loss ({exc}); the closure must return the loss "
                    "without calling backward() (NewtonCG differentiates it itself)"
                ) from exc
        state["grad_evals"] += 1
        g = self._flat(xp, dtype, [t.array for t in grads])
        gnorm = float(xp.sqrt(g @ g))
        if not math.isfinite(gnorm):
            raise ArgumentError(f"NewtonCG: the gradient is not finite (norm {gnorm}); parameters unchanged")
        state["n_iter"] += 1
        state.update(cg_iterations=0, cg_residual=0.0, negative_curvature=False, rho=math.nan, accepted=False)
        if gnorm == 0.0:  # a stationary point: nothing to do
            state["accepted"] = True
            return result

        def hvp(v):
            state["hvp_evals"] += 1
            hv = _vjp_of("NewtonCG", grads, params, self._split(v, params), False, False, retain_graph=True)
            return self._flat(xp, dtype, [t.array for t in hv])

        precondition = self._preconditioner(group, hvp, params, xp, dtype, g.size, lam)
        d, dHd, iters, residual, negative = self._cg(group, hvp, precondition, g, gnorm, lam, xp)
        grads = loss = hvp = None  # release the gradient's graph before the trial evaluation
        state.update(cg_iterations=iters, cg_residual=residual, negative_curvature=negative)

        lr = float(group["lr"])
        s = lr * d
        predicted = -(lr * float(g @ d) + 0.5 * lr * lr * dHd)
        originals = [p.array.copy() for p in params]
        self._assign(params, [o + piece.array for o, piece in zip(originals, self._split(s, params))])
        try:
            with no_grad():
                trial = closure()
            f1 = self._loss_value(trial, "at the trial point")
        except BaseException:
            self._assign(params, originals)
            raise
        state["loss_evals"] += 1

        if not math.isfinite(f1):
            rho = -math.inf
        elif predicted > 0:
            rho = (f0 - f1) / predicted
        else:  # the model promised nothing (roundoff near a minimum): keep a non-increase, reject an increase
            rho = 0.0 if f1 <= f0 else -math.inf
        accepted = rho >= 0
        if not accepted:
            self._assign(params, originals)
        if rho < 0.25:
            lam = lam * group["damping_increase"]
        elif rho > 0.75:
            lam = lam * group["damping_decrease"]
        if rho < 0.25 or rho > 0.75:
            lam = min(max(lam, group["min_damping"]), group["max_damping"])
        state.update(rho=rho, accepted=accepted, damping=lam)
        return result

    def _preconditioner(self, group, hvp, params, xp, dtype, n, lam):
        """r -> M^{-1} r, or None for plain CG."""
        kind = group["preconditioner"]
        if kind is None:
            return None
        if kind == "jacobi":
            gen = backend.generator(params[0].device)
            diag = xp.zeros(n, dtype)
            for _ in range(group["preconditioner_samples"]):
                z = xp.where(gen.random(n) < 0.5, -1.0, 1.0).astype(dtype)
                diag += z * hvp(z)
            m = xp.abs(diag / group["preconditioner_samples"]) + lam
            top = float(m.max())
            m = xp.ones_like(m) if top == 0 else xp.maximum(m, 1e-12 * top)  # no division by zero
            return lambda r: r / m

        def apply(r):
            out = kind(Tensor._wrap(r.copy()))
            out = out.array if isinstance(out, Tensor) else xp.asarray(out)
            if tuple(out.shape) != (n,):
                raise ShapeError(
                    f"NewtonCG: the preconditioner must return M^-1 r of shape ({n},) like r, got {tuple(out.shape)}"
                )
            return out.astype(dtype, copy=False)

        return apply

    @staticmethod
    def _cg(group, hvp, precondition, g, gnorm, lam, xp):
        """Preconditioned CG on (H + lam I) d = -g from d = 0.

        Returns (d, d^T H d, iterations, relative residual, negative curvature met).
        """
        n = g.size
        max_iter = group["cg_max_iter"] if group["cg_max_iter"] is not None else min(n, _CG_CAP)
        tol = group["cg_tol"] * gnorm
        d = xp.zeros_like(g)
        r = -g  # r = -g - (H + lam I) d
        z = r if precondition is None else precondition(r)
        rz = float(r @ z)
        if not rz > 0:
            raise ArgumentError(f"NewtonCG: the preconditioner is not positive definite (r^T M^-1 r = {rz})")
        p = z.copy()
        rnorm, iters, negative = gnorm, 0, False
        for j in range(max_iter):
            hp = hvp(p)
            ap = hp + lam * p
            curvature = float(p @ ap)
            iters = j + 1
            if not math.isfinite(curvature):
                raise ArgumentError(
                    f"NewtonCG: a Hessian-vector product is not finite (p^T H p = {curvature}); parameters unchanged"
                )
            if curvature <= 0:
                negative = True
                if j == 0:  # the first direction p_0 = -M^-1 g: step to the model's minimum with |curvature|
                    pp = float(p @ p)
                    php = curvature - lam * pp
                    denominator = abs(php) + lam * pp
                    a = rz / denominator if denominator > 0 else 1.0
                    return a * p, a * a * php, iters, rnorm / gnorm, negative
                break
            alpha = rz / curvature
            d += alpha * p
            r -= alpha * ap
            rnorm = float(xp.sqrt(r @ r))
            if rnorm <= tol:
                break
            z = r if precondition is None else precondition(r)
            rz_next = float(r @ z)
            if not rz_next > 0:
                raise ArgumentError(f"NewtonCG: the preconditioner is not positive definite (r^T M^-1 r = {rz_next})")
            p = z + (rz_next / rz) * p
            rz = rz_next
        # (H + lam I) d = -g - r, so d^T H d = -d^T g - d^T r - lam ||d||^2
        dHd = -float(d @ g) - float(d @ r) - lam * float(d @ d)
        return d, dHd, iters, rnorm / gnorm, negative

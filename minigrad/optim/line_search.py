"""Classical methods: gradient descent with a backtracking (Armijo) line search, and damped Newton.

Both take a closure, as PyTorch's LBFGS does, because they evaluate the
objective more than once per step.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd import enable_grad, no_grad
from ..autograd.functional import _jacobian_blocks, _vjp_of
from ..tensor import Tensor
from .optimizer import Optimizer


def _flat(arrays) -> np.ndarray:
    return np.concatenate([backend.to_device(a, "cpu").ravel().astype(np.float64) for a in arrays])


class _ClosureOptimizer(Optimizer):
    """Shared machinery: read and write all parameters as one flat vector."""

    def _check_group(self, group):
        super()._check_group(group)
        if not 0 < group["c"] < 1 or not 0 < group["shrink"] < 1:
            raise ValueError(
                f"{type(self).__name__}: need 0 < c < 1 and 0 < shrink < 1, got c={group['c']}, "
                f"shrink={group['shrink']}"
            )

    def _params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def _get(self) -> np.ndarray:
        return _flat([p.array for p in self._params()])

    def _set(self, flat: np.ndarray) -> None:
        offset = 0
        for p in self._params():
            n = p.array.size
            p.array[...] = backend.to_device(flat[offset : offset + n].reshape(p.shape), p.device)
            p._vc[0] += 1
            offset += n

    def _armijo(self, evaluate, x0, f0, g0, direction, step, c, shrink, max_shrinks):
        """Largest step = step * shrink^k with f(x0 + step d) <= f0 + c step g0^T d (the Armijo condition)."""
        slope = float(g0 @ direction)
        for _ in range(max_shrinks):
            self._set(x0 + step * direction)
            if evaluate() <= f0 + c * step * slope:
                return step
            step *= shrink
        self._set(x0)
        warnings.warn(
            f"{type(self).__name__}: no step satisfied the Armijo condition; parameters left unchanged", stacklevel=3
        )
        return 0.0


class GradientDescentLineSearch(_ClosureOptimizer):
    r"""Steepest descent d = -g with a backtracking line search.

    Starting from ``lr``, the step a is multiplied by ``shrink`` until the
    Armijo (sufficient decrease) condition holds:

        f(x + a d) <= f(x) + c a g^T d.

    ``step(closure)``: the closure zeroes the gradients, computes the loss,
    calls ``backward()`` and returns the loss (as for PyTorch's LBFGS).
    Returns the loss before the step; ``state["step_size"]`` is the step taken.
    """

    def __init__(self, params, lr=1.0, c=1e-4, shrink=0.5, max_shrinks=40):
        super().__init__(params, {"lr": lr, "c": c, "shrink": shrink, "max_shrinks": max_shrinks})

    def step(self, closure=None):
        if closure is None:
            raise ValueError("GradientDescentLineSearch.step needs a closure that returns the loss after backward()")
        group = self.param_groups[0]
        with enable_grad():
            f0 = float(closure())
        g0 = _flat([p.grad.array if p.grad is not None else p.array * 0 for p in self._params()])
        x0 = self._get()

        def evaluate():
            with enable_grad():
                return float(closure())

        taken = self._armijo(evaluate, x0, f0, g0, -g0, group["lr"], group["c"], group["shrink"], group["max_shrinks"])
        self.state["step_size"] = taken
        return f0


class Newton(_ClosureOptimizer):
    r"""Damped Newton's method for small problems, with a backtracking line search.

    The Hessian H is the Jacobian of the gradient (taken with
    ``create_graph=True``), by :mod:`minigrad.autograd.functional`'s reverse
    mode: one Hessian-vector product per parameter element. The step solves

        (H + mu I) d = -g,   mu = 0 if H is positive definite, else -lambda_min(H) + damping * max(1, |lambda|_max),

    so an indefinite Hessian (a saddle, a maximum) becomes a positive
    definite model and d is a descent direction: Newton cannot climb. The
    line search (Armijo, from a = 1) then guarantees decrease; on a quadratic
    with positive definite H the first full step lands on the minimum.

    ``step(closure)``: the closure returns the loss *without* calling
    backward (the method differentiates it twice itself). Cost: n
    Hessian-vector products for n parameters, so keep n small.
    """

    def __init__(self, params, lr=1.0, damping=1e-3, c=1e-4, shrink=0.5, max_shrinks=40):
        super().__init__(params, {"lr": lr, "damping": damping, "c": c, "shrink": shrink, "max_shrinks": max_shrinks})

    def hessian(self, closure):
        """(loss, gradient, Hessian) at the current parameters, in float64 NumPy.

        The gradient is taken with ``create_graph=True`` and the Hessian is its
        Jacobian with respect to the parameters, by the machinery of
        :func:`minigrad.autograd.functional.hessian` (one Hessian-vector
        product per parameter element); the closure reads the parameters
        themselves, so the blocks are computed on its output rather than
        through ``hessian``'s function-of-inputs form.
        """
        params = self._params()
        with enable_grad():
            loss = closure()
            ones = Tensor._wrap(loss.xp.ones(loss.shape, loss.dtype))
            grads = tuple(_vjp_of("Newton", (loss,), params, (ones,), True, False))
            blocks = _jacobian_blocks(grads, params, False, False, "reverse-mode")
        sizes = [p.array.size for p in params]
        hessian = np.block(
            [
                [backend.to_device(b.array, "cpu").reshape(m, n).astype(np.float64) for b, n in zip(row, sizes)]
                for row, m in zip(blocks, sizes)
            ]
        )
        return float(loss.item()), _flat([g.array for g in grads]), hessian

    def step(self, closure=None):
        if closure is None:
            raise ValueError("Newton.step needs a closure that returns the loss (without calling backward)")
        group = self.param_groups[0]
        f0, g0, hessian = self.hessian(closure)
        hessian = (hessian + hessian.T) / 2
        eigenvalues = np.linalg.eigvalsh(hessian)
        scale = max(1.0, float(np.abs(eigenvalues).max()))
        mu = 0.0 if eigenvalues[0] > 1e-12 * scale else -eigenvalues[0] + group["damping"] * scale
        direction = np.linalg.solve(hessian + mu * np.eye(len(g0)), -g0)
        x0 = self._get()

        def evaluate():
            with no_grad():
                return float(closure().item())

        taken = self._armijo(
            evaluate, x0, f0, g0, direction, group["lr"], group["c"], group["shrink"], group["max_shrinks"]
        )
        self.state["step_size"], self.state["damping"] = taken, mu
        return f0

"""Stochastic gradient descent, with momentum (heavy ball) and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from .. import backend
from .optimizer import Optimizer, plain_numbers, scratch_like


class SGD(Optimizer):
    r"""Gradient descent, optionally with momentum, exactly as PyTorch's ``SGD``.

    With g = grad + weight_decay * p:

        b_1 = g,   b_t = momentum * b_{t-1} + (1 - dampening) * g     (momentum > 0)
        d = g + momentum * b_t  (nesterov)   or   d = b_t
        p <- p - lr * d

    What it is good for: the baseline, and with momentum the workhorse of
    convolutional nets. Momentum is the heavy-ball method: on a quadratic with
    condition number kappa it contracts the error at (sqrt(kappa) - 1) /
    (sqrt(kappa) + 1) per step at the best lr and momentum, against
    (kappa - 1) / (kappa + 1) for plain gradient descent, because the velocity
    averages out the zig-zag across a narrow valley. Nesterov evaluates the
    momentum step "ahead", which damps oscillation further.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires momentum > 0 and dampening = 0")
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
            },  # fmt: skip
        )

    def _update(self, param, grad, state, group):
        g = grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += g if group["dampening"] == 0 else (1 - group["dampening"]) * g
            if group["nesterov"]:  # d = g + momentum * b, built in one temporary
                d = buf * momentum
                d += g
                d *= group["lr"]
                param -= d
                return
            g = buf
        backend.sub_scaled_(param, group["lr"], g)

    def _update_into(self, param, grad, state, group, scratch):
        """``_update`` with every temporary written into a scratch buffer (``minigrad.compile``'s replay): the
        same ufuncs on the same operands in the same order, so the same bits."""
        lr, momentum, dampening, decay = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        buf = state.get("momentum_buffer")
        if (
            grad.dtype != param.dtype
            or type(grad) is not type(param)
            or not plain_numbers(lr, momentum, dampening, decay)
            or (momentum and buf is not None and buf.dtype != param.dtype)
        ):
            self._update(param, grad, state, group)  # a tensor lr, mixed dtypes: the eager arithmetic itself
            return
        xp = backend.xp_of(param)
        g = grad
        if decay:  # g = grad + weight_decay * param
            g = scratch_like(scratch, param, 0)
            xp.multiply(param, decay, out=g)
            xp.add(grad, g, out=g)
        if momentum:
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                if dampening == 0:
                    buf += g
                else:
                    t = scratch_like(scratch, param, 1)
                    xp.multiply(g, 1 - dampening, out=t)
                    buf += t
            if group["nesterov"]:  # d = g + momentum * b
                d = scratch_like(scratch, param, 1)
                xp.multiply(buf, momentum, out=d)
                d += g
                d *= lr
                param -= d
                return
            g = buf
        if isinstance(param, np.ndarray):  # sub_scaled_'s NumPy form, the product into a scratch
            t = scratch_like(scratch, param, 1)
            xp.multiply(g, lr, out=t)
            param -= t
        else:
            backend.sub_scaled_(param, lr, g)

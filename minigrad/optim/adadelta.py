"""AdaDelta: unit-correct steps from two leaky averages."""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class Adadelta(Optimizer):
    r"""AdaDelta (Zeiler, 2012), exactly as PyTorch's ``Adadelta``.

    With g = grad + weight_decay * p:

        v_t = rho v_{t-1} + (1 - rho) g^2
        d   = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g
        u_t = rho u_{t-1} + (1 - rho) d^2
        p  <- p - lr d

    What it is good for: no learning rate to tune (lr = 1 is the method as
    published). The ratio of the RMS of past updates to the RMS of gradients
    gives the step the units of the parameter, like a diagonal Newton step,
    instead of the units of a gradient.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay})

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {"step": 0, "square_avg": xp.zeros_like(param.array), "acc_delta": xp.zeros_like(param.array)}

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        rho, eps = group["rho"], group["eps"]
        g = grad + group["weight_decay"] * param if group["weight_decay"] else grad
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param -= group["lr"] * delta

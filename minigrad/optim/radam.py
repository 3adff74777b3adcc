"""RAdam: Adam whose adaptive step is switched on only once the variance estimate can be trusted."""

from __future__ import annotations

import math

from .. import backend
from ._adam_family import check_flags, torch_flags
from .optimizer import Optimizer


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), exactly as PyTorch's ``RAdam``.

    With g = -grad if ``maximize`` else grad, weight decay folded into the
    gradient (g += weight_decay * p) or, with ``decoupled_weight_decay``,
    applied to the weights (p *= 1 - lr weight_decay), and t = 1, 2, ...:

        m_t = beta1 m_{t-1} + (1 - beta1) g                     (state "exp_avg")
        v_t = beta2 v_{t-1} + (1 - beta2) g^2                   (state "exp_avg_sq")
        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        m_hat = m_t / (1 - beta1^t)
        if rho_t > 5:  r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                       p <- p - lr m_hat r_t sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
        else:          p <- p - lr m_hat                         (plain momentum SGD)

    ``foreach`` and ``capturable`` are accepted and ignored (they choose how
    PyTorch computes the same numbers); ``differentiable=True`` is refused.

    What it is good for: Adam without a hand-tuned warmup. In the first steps
    v_t averages so few squared gradients that lr / sqrt(v_t) has a huge
    variance; rho_t is the length of the moving average's effective window,
    and until it exceeds 5 RAdam takes momentum-SGD steps. After that, r_t
    (which rises towards 1) scales the adaptive step down by how much larger
    its variance still is than in the limit, a warmup derived from beta2.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):  # fmt: skip
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, {**defaults, **torch_flags(foreach, maximize, capturable, differentiable)})

    def _check_group(self, group):
        super()._check_group(group)
        check_flags(type(self).__name__, group)

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {"step": 0, "exp_avg": xp.zeros_like(param.array), "exp_avg_sq": xp.zeros_like(param.array)}

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        t = state["step"]
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        g = -grad if group["maximize"] else grad
        if decay:
            if group["decoupled_weight_decay"]:
                param *= 1 - lr * decay
            else:
                g = g + decay * param
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        correction1, correction2 = 1 - beta1**t, 1 - beta2**t
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * beta2**t / correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            denom = xp.sqrt(v)
            denom += group["eps"]
            param -= (lr * rect * math.sqrt(correction2) / correction1) * m / denom
        else:
            param -= (lr / correction1) * m

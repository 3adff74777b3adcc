"""RMSProp: AdaGrad with a leaky average of squared gradients."""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class RMSprop(Optimizer):
    r"""RMSProp (Hinton's lecture notes), exactly as PyTorch's ``RMSprop``.

    With g = grad + weight_decay * p:

        v_t = alpha v_{t-1} + (1 - alpha) g^2
        c_t = alpha c_{t-1} + (1 - alpha) g                    (centered only)
        a   = sqrt(v_t - c_t^2) + eps  (centered)   or   sqrt(v_t) + eps
        b_t = momentum b_{t-1} + g / a,  p <- p - lr b_t      (momentum > 0)
        p  <- p - lr g / a                                     (otherwise)

    What it is good for: AdaGrad's per-coordinate scaling without its ever
    shrinking rate. The leaky average forgets old gradients with time
    constant 1 / (1 - alpha), so the scale tracks the recent gradient size;
    a good default for recurrent nets and non-stationary objectives.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(
            params,
            {
                "lr": lr,
                "alpha": alpha,
                "eps": eps,
                "weight_decay": weight_decay,
                "momentum": momentum,
                "centered": centered,
            },  # fmt: skip
        )

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        state = {"step": 0, "square_avg": xp.zeros_like(param.array)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param.array)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param.array)
        return state

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        alpha = group["alpha"]
        g = grad + group["weight_decay"] * param if group["weight_decay"] else grad
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            avg = xp.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = xp.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            param -= group["lr"] * buf
        else:
            param -= group["lr"] * g / avg

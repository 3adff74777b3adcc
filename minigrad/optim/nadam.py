"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from .. import backend
from ._adam_family import check_flags, torch_flags
from .optimizer import Optimizer


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), exactly as PyTorch's ``NAdam``.

    With g = -grad if ``maximize`` else grad, weight decay either folded into
    the gradient (g += weight_decay * p) or, with ``decoupled_weight_decay``,
    applied to the weights (p *= 1 - lr weight_decay, as AdamW), and t = 1, 2, ...:

        mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay))        (the momentum schedule)
        P_t  = P_{t-1} mu_t,  P_0 = 1                           (state "mu_product")
        m_t  = beta1 m_{t-1} + (1 - beta1) g                    (state "exp_avg")
        v_t  = beta2 v_{t-1} + (1 - beta2) g^2                  (state "exp_avg_sq")
        d    = sqrt(v_t / (1 - beta2^t)) + eps
        p   <- p - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m_t / d

    ``foreach`` and ``capturable`` are accepted and ignored (they choose how
    PyTorch computes the same numbers); ``differentiable=True`` is refused.
    P_t is kept as a Python float (float64). PyTorch keeps it in a 0-d tensor
    of its default dtype, so with the default float32 its P_t, and with it
    the two step factors, are rounded to float32 (about 1e-7 relative);
    under ``torch.set_default_dtype(torch.float64)`` the two agree to rounding.

    What it is good for: Adam with a look-ahead. The Nesterov form uses the
    next step's momentum coefficient on m and the current one on the fresh
    gradient, so the step reacts to a change of direction one step sooner; the
    schedule mu_t ramps the momentum up from about beta1 / 2 towards beta1
    (momentum_decay sets how fast), which tempers the first steps.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):  # fmt: skip
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, {**defaults, **torch_flags(foreach, maximize, capturable, differentiable)})

    def _check_group(self, group):
        super()._check_group(group)
        if not group["momentum_decay"] >= 0:
            name, value = type(self).__name__, group["momentum_decay"]
            raise ValueError(f"{name}: momentum_decay must be non-negative, got {value}")
        check_flags(type(self).__name__, group)

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {
            "step": 0,
            "mu_product": 1.0,
            "exp_avg": xp.zeros_like(param.array),
            "exp_avg_sq": xp.zeros_like(param.array),
        }

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
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        denom = v / (1 - beta2**t)
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        param -= (lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        param -= (lr * mu_next / (1.0 - mu_product * mu_next)) * m / denom

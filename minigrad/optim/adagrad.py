"""AdaGrad: per-coordinate rates that shrink with the gradients seen so far."""

from __future__ import annotations

from .. import backend
from .optimizer import Optimizer


class Adagrad(Optimizer):
    r"""AdaGrad (Duchi et al., 2011), exactly as PyTorch's ``Adagrad``.

    With g = grad + weight_decay * p and step t = 1, 2, ...:

        s_t = s_{t-1} + g^2                       (s_0 = initial_accumulator_value)
        p  <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s_t) + eps)

    What it is good for: sparse features. A coordinate that rarely gets a
    gradient keeps a small accumulator and so a large effective rate, while
    frequent ones slow down; on a constant gradient the effective rate decays
    as 1 / sqrt(t). That decay is also its weakness on long non-convex runs,
    which RMSProp and Adam fix with leaky averages.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(
            params,
            {
                "lr": lr,
                "lr_decay": lr_decay,
                "weight_decay": weight_decay,
                "initial_accumulator_value": initial_accumulator_value,
                "eps": eps,
            },  # fmt: skip
        )

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {"step": 0, "sum": xp.full(param.shape, group["initial_accumulator_value"], dtype=param.dtype)}

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        g = grad + group["weight_decay"] * param if group["weight_decay"] else grad
        rate = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        param -= rate * g / (xp.sqrt(state["sum"]) + group["eps"])

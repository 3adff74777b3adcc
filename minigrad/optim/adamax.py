"""Adamax: Adam with the infinity norm in place of the root mean square."""

from __future__ import annotations

from .. import backend
from ._adam_family import check_flags, torch_flags
from .optimizer import Optimizer


class Adamax(Optimizer):
    r"""Adamax (Kingma and Ba, 2015, section 7.1), exactly as PyTorch's ``Adamax``.

    With g = -grad if ``maximize`` else grad, then g += weight_decay * p, and step t = 1, 2, ...:

        m_t = beta1 m_{t-1} + (1 - beta1) g                     (state "exp_avg")
        u_t = max(beta2 u_{t-1}, |g| + eps)                     (state "exp_inf")
        p  <- p - lr / (1 - beta1^t) * m_t / u_t

    eps is added to |g| inside the maximum, as PyTorch does (not to the
    denominator). ``foreach`` and ``capturable`` are accepted and ignored (they
    choose how PyTorch computes the same numbers); ``differentiable=True`` is
    refused.

    What it is good for: Adam's p-norm generalised to p -> infinity. The scale
    u is the largest recent |g| rather than their root mean square, so it needs
    no bias correction and one huge gradient sets the scale for about
    1 / (1 - beta2) steps instead of being averaged in: steps stay bounded by
    lr / (1 - beta1^t) per coordinate.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach=None, *, maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):  # fmt: skip
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, {**defaults, **torch_flags(foreach, maximize, capturable, differentiable)})

    def _check_group(self, group):
        super()._check_group(group)
        check_flags(type(self).__name__, group)

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {"step": 0, "exp_avg": xp.zeros_like(param.array), "exp_inf": xp.zeros_like(param.array)}

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        g = -grad if group["maximize"] else grad
        if group["weight_decay"]:
            g = g + group["weight_decay"] * param
        m, u = state["exp_avg"], state["exp_inf"]
        m *= beta1
        m += (1 - beta1) * g
        u *= beta2
        xp.maximum(u, xp.abs(g) + group["eps"], out=u)
        param -= (group["lr"] / (1 - beta1**t)) * m / u

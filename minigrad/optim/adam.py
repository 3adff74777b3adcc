"""Adam, AdamW and Yogi: momentum plus a leaky average of squared gradients."""

from __future__ import annotations

import math

from .. import backend
from .optimizer import Optimizer, plain_numbers, scratch_like


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), exactly as PyTorch's ``Adam`` (eps outside the square root).

    With g = grad + weight_decay * p and step t = 1, 2, ...:

        m_t = beta1 m_{t-1} + (1 - beta1) g
        v_t = beta2 v_{t-1} + (1 - beta2) g^2           (amsgrad: vmax_t = max(vmax_{t-1}, v_t))
        p  <- p - lr / (1 - beta1^t) * m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)

    What it is good for: the default for most nets. Momentum (m) smooths the
    direction, the RMSProp-style scale (v) adapts each coordinate, and the
    bias corrections undo the zero start, so the first step has magnitude
    about lr per coordinate whatever the gradient's scale.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(
            params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad}
        )

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        state = {"step": 0, "exp_avg": xp.zeros_like(param.array), "exp_avg_sq": xp.zeros_like(param.array)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param.array)
        return state

    def _decay(self, param, group):
        """L2 regularization folded into the gradient (Adam's weight_decay)."""
        return group["weight_decay"]

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        decay = self._decay(param, group)
        g = grad + decay * param if decay else grad
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = xp.sqrt(v) / math.sqrt(1 - beta2**t) + group["eps"]
        param -= (group["lr"] / (1 - beta1**t)) * m / denom

    def _update_into(self, param, grad, state, group, scratch):
        """``_update`` with every temporary written into a scratch buffer (``minigrad.compile``'s replay): the
        same ufuncs on the same operands in the same order, so the same bits."""
        lr, eps, decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        arrays = (grad, m, v, state["max_exp_avg_sq"]) if group["amsgrad"] else (grad, m, v)
        if not plain_numbers(lr, eps, decay, beta1, beta2, state["step"]) or any(
            a.dtype != param.dtype or type(a) is not type(param) for a in arrays
        ):
            self._update(param, grad, state, group)  # a tensor lr, mixed dtypes: the eager arithmetic itself
            return
        xp = backend.xp_of(param)
        state["step"] += 1
        t = state["step"]
        decay = self._decay(param, group)
        t0, t1 = scratch_like(scratch, param, 0), scratch_like(scratch, param, 1)
        g = grad
        if decay:  # g = grad + decay * param
            if plain_numbers(decay):
                g = scratch_like(scratch, param, 2)
                xp.multiply(param, decay, out=g)
                xp.add(grad, g, out=g)
            else:
                g = grad + decay * param
        m *= beta1
        xp.multiply(g, 1 - beta1, out=t0)  # m += (1 - beta1) * g
        m += t0
        v *= beta2
        xp.multiply(g, 1 - beta2, out=t0)  # v += (1 - beta2) * g * g
        xp.multiply(t0, g, out=t0)
        v += t0
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        xp.sqrt(v, out=t0)  # denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        xp.divide(t0, math.sqrt(1 - beta2**t), out=t0)
        xp.add(t0, eps, out=t0)
        xp.multiply(m, lr / (1 - beta1**t), out=t1)  # param -= lr / (1 - beta1^t) * m / denom
        xp.divide(t1, t0, out=t1)
        param -= t1


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov and Hutter, 2019), exactly as PyTorch's ``AdamW``.

        p <- p (1 - lr weight_decay),   then the Adam step on the raw gradient.

    What it is good for: regularized training with Adam. Folding L2 into the
    gradient (Adam's weight_decay) lets the adaptive scale shrink the decay of
    coordinates with large gradients; decoupling applies the same relative
    decay to every weight.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)

    def _decay(self, param, group):
        if group["weight_decay"]:
            param *= 1 - group["lr"] * group["weight_decay"]
        return 0.0


class Yogi(Optimizer):
    r"""Yogi (Zaheer et al., 2018): Adam whose second moment grows additively.

    With g = grad + weight_decay * p:

        m_t = beta1 m_{t-1} + (1 - beta1) g
        v_t = v_{t-1} - (1 - beta2) sign(v_{t-1} - g^2) g^2      (v_0 = initial_accumulator_value)
        p  <- p - lr m_t / (sqrt(v_t) + eps)

    with ``bias_correction=True``, m_t and v_t divided by (1 - beta^t) as in
    Adam (the Dive into Deep Learning form).

    What it is good for: controlled growth of the effective rate. Adam's v
    forgets multiplicatively, so after a burst of large gradients followed by
    small ones lr / sqrt(v) can blow up quickly; Yogi changes v by at most
    (1 - beta2) g^2 per step in the direction of g^2, so the effective rate
    increases gently and the method tolerates larger learning rates.
    """

    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-3, initial_accumulator_value=1e-6,
                 weight_decay=0.0, bias_correction=False):  # fmt: skip
        super().__init__(
            params,
            {
                "lr": lr,
                "betas": tuple(betas),
                "eps": eps,
                "initial_accumulator_value": initial_accumulator_value,
                "weight_decay": weight_decay,
                "bias_correction": bias_correction,
            },  # fmt: skip
        )

    def _init_state(self, param, group):
        xp = backend.xp_of(param.array)
        return {
            "step": 0,
            "exp_avg": xp.zeros_like(param.array),
            "exp_avg_sq": xp.full(param.shape, group["initial_accumulator_value"], dtype=param.dtype),
        }

    def _update(self, param, grad, state, group):
        xp = backend.xp_of(param)
        state["step"] += 1
        t = state["step"]
        beta1, beta2 = group["betas"]
        g = grad + group["weight_decay"] * param if group["weight_decay"] else grad
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        g2 = g * g
        change = v - g2  # computed in place below: sign(v - g^2) g^2 (1 - beta2), without temporaries
        xp.sign(change, out=change)
        change *= g2
        change *= 1 - beta2
        v -= change
        denom = v / (1 - beta2**t) if group["bias_correction"] else v.copy()
        xp.sqrt(denom, out=denom)
        denom += group["eps"]
        xp.divide(m, denom, out=denom)
        denom *= group["lr"] / (1 - beta1**t) if group["bias_correction"] else group["lr"]
        param -= denom

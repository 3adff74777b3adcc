"""Gradient clipping, as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both work on the gradients' own arrays, in place, and read nothing back to
the host, so on a GPU they add no synchronisation to a training step.
"""

from __future__ import annotations

import math

from .. import backend
from ..errors import ArgumentError
from ..tensor import Tensor


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.data for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = (sum_i ||g_i||_p^p)^(1/p) over every gradient (p = inf: the largest
    |g|); each g is multiplied by min(1, max_norm / (total + 1e-6)). Returns the
    total norm before clipping, as a 0-d tensor on the gradients' device.
    ``error_if_nonfinite`` raises when the norm is NaN or Inf (which reads it
    back to the host).
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ArgumentError(f"clip_grad_norm_: norm_type must be positive, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(backend.xp_for("cpu").zeros(()))
    xp = backend.xp_of(grads[0])
    if math.isinf(norm_type):
        total = xp.stack([xp.abs(g).max() for g in grads]).max()
    else:
        total = xp.stack([(xp.abs(g) ** norm_type).sum() for g in grads]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise ArgumentError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}")
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale.astype(g.dtype)
    return Tensor._wrap(xp.asarray(total))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place."""
    if clip_value < 0:
        raise ArgumentError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        backend.xp_of(g).clip(g, -clip_value, clip_value, out=g)

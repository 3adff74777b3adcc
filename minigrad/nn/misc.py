"""Small layers and functions of the #17 sweep, with PyTorch's names, arguments and behaviour:
``F.gumbel_softmax`` (discrete latents of small VAEs and GANs), ``F.channel_shuffle`` / ``nn.ChannelShuffle``
(ShuffleNet blocks).

Both are compositions of existing primitives (softmax, reshape, transpose), so their gradients,
second order included, come from the tape.
"""

from __future__ import annotations

import numbers
import warnings

from .. import backend, creation
from ..errors import ArgumentError, ShapeError
from ..ops.reduction import softmax
from ..tensor import Tensor
from .module import Module


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (Concrete) distribution over ``dim``, optionally made one-hot.

    y = softmax((logits + g) / tau) along ``dim``, with g = -log(E), E ~ Exp(1) i.i.d. (Gumbel(0, 1)
    noise, drawn from minigrad's generator). With ``hard=True`` the result is the one-hot vector of
    y's largest entry (the first one on ties), but its gradient is y's: y_hard - detach(y) + y, the
    straight-through estimator, as PyTorch. ``eps`` is deprecated and unused, as in PyTorch (a value
    other than 1e-10 warns). ``logits`` need not be normalized. Raises ArgumentError for tau <= 0
    or non-floating logits.
    """
    if not isinstance(logits, Tensor):
        raise ArgumentError(f"gumbel_softmax: logits must be a Tensor, got {type(logits).__name__}")
    if logits.dtype.kind != "f":
        raise ArgumentError(f"gumbel_softmax: logits must be floating point, got dtype {logits.dtype}")
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not tau > 0:
        raise ArgumentError(f"gumbel_softmax: tau must be a positive number, got {tau!r}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    noise = creation.empty(logits.shape, dtype=logits.dtype, device=logits.device).exponential_()
    y_soft = softmax((logits - noise.log()) / tau, dim=dim)
    if not hard:
        return y_soft
    xp, soft = backend.xp_of(y_soft.array), y_soft.array
    if soft.ndim == 0:
        hard_array = xp.ones_like(soft)
    else:
        axis = dim % soft.ndim
        positions = xp.arange(soft.shape[axis]).reshape((-1,) + (1,) * (soft.ndim - axis - 1))
        hard_array = (positions == xp.expand_dims(soft.argmax(axis=axis), axis)).astype(soft.dtype)
    return Tensor(hard_array) - y_soft.detach() + y_soft


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels (dim 1) of ``groups`` groups: (N, g*k, *) -> view (N, g, k, *), swap g and k, flatten.

    Output channel c*g + j is input channel j*k + c, PyTorch's ``F.channel_shuffle``. Raises ShapeError for
    an input of fewer than 3 dimensions or channels not divisible by ``groups``, ArgumentError for
    ``groups`` <= 0.
    """
    if not isinstance(input, Tensor):
        raise ArgumentError(f"channel_shuffle: input must be a Tensor, got {type(input).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ArgumentError(f"channel_shuffle: Number of groups to divide channels in must be positive, got {groups!r}")
    if input.ndim <= 2:
        raise ShapeError(f"channel_shuffle: expects input with > 2 dims, but got input of shape {tuple(input.shape)}")
    channels = input.shape[1]
    if channels % groups:
        raise ShapeError(
            f"channel_shuffle: Number of channels must be divisible by groups. Got {channels} channels and "
            f"{groups} groups (input shape {tuple(input.shape)})"
        )
    n, rest = input.shape[0], tuple(input.shape[2:])
    grouped = input.reshape((n, int(groups), channels // int(groups)) + rest)
    return grouped.transpose(1, 2).reshape((n, channels) + rest)


class ChannelShuffle(Module):
    """Shuffle the channels of ``groups`` groups (see :func:`channel_shuffle`), as PyTorch's ``nn.ChannelShuffle``."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


__all__ = ["gumbel_softmax", "channel_shuffle", "ChannelShuffle"]

"""Weight initialization, in place, as ``torch.nn.init``.

Gains and fans follow PyTorch: fan_in = in_features (or in_channels/groups *
kh * kw), fan_out likewise; ``kaiming_*`` scale by gain / sqrt(fan), with the
gain sqrt(2 / (1 + a^2)) of a leaky relu of slope a; ``xavier_*`` by
gain * sqrt(2 / (fan_in + fan_out)). Draws come from minigrad's seeded
generator, so ``manual_seed`` makes initialization repeat.
"""

from __future__ import annotations

import math

from .. import backend
from ..errors import ArgumentError, ShapeError


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ArgumentError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fans(tensor) -> tuple:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if tensor.ndim < 2:
        raise ShapeError(f"init: fan in and fan out need at least 2 dimensions, got shape {tuple(tensor.shape)}")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fill(tensor, draw):
    """Overwrite ``tensor``'s data in place with ``draw(generator, shape)`` and bump its version."""
    gen = backend.generator(tensor.device)
    tensor.array[...] = draw(gen, tensor.shape)
    tensor._vc[0] += 1
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0):
    """Fill with U(a, b)."""
    return _fill(tensor, lambda gen, shape: a + (b - a) * gen.random(shape))


def normal_(tensor, mean: float = 0.0, std: float = 1.0):
    """Fill with N(mean, std^2)."""
    return _fill(tensor, lambda gen, shape: mean + std * gen.standard_normal(shape))


def constant_(tensor, value: float):
    """Fill with ``value``."""
    tensor.array[...] = value
    tensor._vc[0] += 1
    return tensor


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def _no_elements(tensor) -> bool:
    """True for a zero-element weight (nn.Linear(0, 3)): a fan may be 0, and there is nothing to fill,
    as PyTorch. Its shape is still checked."""
    fans(tensor)
    return tensor.numel() == 0


def _fan(tensor, mode: str) -> int:
    fan_in, fan_out = fans(tensor)
    if mode not in ("fan_in", "fan_out"):
        raise ArgumentError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return fan_in if mode == "fan_in" else fan_out


def kaiming_uniform_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """He initialization, uniform: U(-b, b) with b = gain * sqrt(3 / fan)."""
    if _no_elements(tensor):
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu"):
    """He initialization, normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if _no_elements(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std)


def xavier_uniform_(tensor, gain: float = 1.0):
    """Glorot initialization, uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out))."""
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor, gain: float = 1.0):
    """Glorot initialization, normal: std = gain * sqrt(2 / (fan_in + fan_out))."""
    if _no_elements(tensor):
        return tensor
    fan_in, fan_out = fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))

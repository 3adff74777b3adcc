"""Binary cross-entropy of probabilities, the one new loss that needs its own primitive.

As PyTorch's ``binary_cross_entropy``, each log is clamped at -100, so that a
probability of exactly 0 or 1 gives a finite loss (100 per element):

    l = -(t max(log x, -100) + (1 - t) max(log(1 - x), -100)).

The vjps are PyTorch's, not the clamped forward's derivative: d l / dx =
(x - t) / max(x (1 - x), 1e-12), finite (1e12 at most) at x = 0 or 1, and
d l / dt = log(1 - x) - log(x) = -logit(x). Written as a composition the clamp
would zero the gradient below e^-100 and log's vjp would give 0 / 0 at x = 0.
Inside (0, 1) away from e^-100 the function is smooth; the derivative bends
only where x (1 - x) = 1e-12 (the second derivative jumps there, the first
does not), so the primitive declares no kinks. ``weight`` and the reduction
are applied around it (:func:`minigrad.nn.losses_functional.binary_cross_entropy`).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError
from ..monitor import is_anomaly_enabled
from ..primitive import primitive
from .elementwise import log, maximum
from .pointwise import log1p

_EPSILON = float(np.float32(1e-12))  # PyTorch's floor of x (1 - x) in the gradient: 1e-12 as a C float


@primitive(name="binary_cross_entropy", saves=(0, 1))
def _binary_cross_entropy(x, t):
    """-(t max(log x, -100) + (1 - t) max(log1p(-x), -100)), elementwise (x and t of one shape).

    Probabilities outside [0, 1] raise ArgumentError. On CUDA that check would copy a flag to the host
    and stall the device, so there it runs only in anomaly mode (an input outside gives NaN otherwise).
    """
    xp = backend.xp_of(x)
    if (backend.is_host_array(x) or is_anomaly_enabled()) and x.size:
        low, high = x.min(), x.max()
        if not (low >= 0 and high <= 1):  # NaN fails too, as PyTorch
            raise ArgumentError(f"all elements of input should be between 0 and 1, got values in [{low}, {high}]")
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped; CuPy does not warn
        log_x = xp.maximum(xp.log(x), -100)
        log_1mx = xp.maximum(xp.log1p(-x), -100)
    return -(t * log_x + (1 - t) * log_1mx)


_binary_cross_entropy.defvjp(
    lambda g, ans, x, t: g * (x - t) / maximum((1 - x) * x, _EPSILON),
    lambda g, ans, x, t: g * (log1p(-x) - log(x)),
)

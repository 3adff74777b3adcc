"""The Tensor-method forms of activations whose checked functional form lives in :mod:`minigrad.nn.activation`:
``t.prelu(weight)`` and ``t.hardshrink(lambd=0.5)``, as PyTorch's Tensor methods (``t.relu_()`` is
:mod:`minigrad.ops.arith`'s, with the other in-place pointwise forms).

They hand on to the functional forms (imported on first call: the ops package is loaded before
``minigrad.nn``), so the method and ``F.prelu`` / ``F.hardshrink`` check the same
things and give the same numbers and gradients.
"""

from __future__ import annotations


def prelu(input, weight):
    """x for x > 0, else weight * x, one weight for all or one per channel (dim 1); see ``F.prelu``.

    Raises ShapeError for a weight of more than one dimension or a count that is neither 1 nor C.
    """
    from ..nn import activation

    return activation.prelu(input, weight)


def hardshrink(input, lambd: float = 0.5):
    """x where |x| > lambd, else 0 (gradient 0 at +-lambd); see ``F.hardshrink``."""
    from ..nn import activation

    return activation.hardshrink(input, lambd)

"""The primitives, grouped by kind; each forward sits beside its vjp."""

from . import conv, elementwise, inplace, linalg, pointwise, reduction, shape

__all__ = ["conv", "elementwise", "inplace", "linalg", "pointwise", "reduction", "shape"]

"""The primitives, grouped by kind; each forward sits beside its vjp."""

from . import elementwise, inplace, linalg, reduction, shape

__all__ = ["elementwise", "inplace", "linalg", "reduction", "shape"]

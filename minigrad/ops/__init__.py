"""The primitives, grouped by kind; each forward sits beside its vjp."""

from . import construct, contraction, conv, elementwise, inplace, linalg, pointwise, reduction, scan, shape

__all__ = ["construct", "contraction", "conv", "elementwise", "inplace", "linalg", "pointwise", "reduction", "shape"]
__all__ += ["scan"]

from . import activation  # noqa: E402

__all__ += ["activation"]

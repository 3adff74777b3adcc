"""The primitives, grouped by kind; each forward sits beside its vjp."""

from . import construct, contraction, conv, elementwise, inplace, linalg, pointwise, reduction, scan, shape

__all__ = ["construct", "contraction", "conv", "elementwise", "inplace", "linalg", "pointwise", "reduction", "shape"]
__all__ += ["scan"]
from . import conv_transpose  # noqa: E402

__all__ += ["conv_transpose"]
from . import sorting  # noqa: E402

__all__ += ["sorting"]

from . import activation  # noqa: E402

__all__ += ["activation"]

from . import sampling  # noqa: E402

__all__ += ["sampling"]
from . import indexing, selection  # noqa: E402

__all__ += ["indexing", "selection"]
from . import arith, logical, nanreduce, numeric, special  # noqa: E402

__all__ += ["arith", "logical", "nanreduce", "numeric", "special"]
from . import activation_methods  # noqa: E402  (Tensor.prelu / hardshrink, #17)

__all__ += ["activation_methods"]

# the shape, stacking/splitting, linear-algebra and counting sweep of issue #16
from . import blas, building, counting, decomp, series, stacking  # noqa: E402

__all__ += ["stacking", "blas", "series", "counting", "decomp", "building"]

# the LU family and triangular solves (issue #16)
from . import lu_decomp  # noqa: E402

__all__ += ["lu_decomp"]

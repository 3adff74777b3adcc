"""``torch.linalg``'s names that minigrad has, for programs that write ``torch.linalg.vector_norm``.

Only ``vector_norm`` so far: PyTorch's ``linalg.norm`` and ``matrix_norm`` take operator norms of
matrices (singular values), which minigrad does not compute. :func:`minigrad.norm` is ``torch.norm``.
"""

from .ops.linalg import vector_norm

__all__ = ["vector_norm"]

# the linear-algebra sweep of issue #16
from .ops.blas import linalg_cross as cross  # noqa: E402
from .ops.blas import vecdot  # noqa: E402
from .ops.linalg import matmul  # noqa: E402

__all__ += ["cross", "vecdot", "matmul"]

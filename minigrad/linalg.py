"""``torch.linalg``'s names that minigrad has, for programs that write ``torch.linalg.vector_norm``.

Only ``vector_norm`` so far: PyTorch's ``linalg.norm`` and ``matrix_norm`` take operator norms of
matrices (singular values), which minigrad does not compute. :func:`minigrad.norm` is ``torch.norm``.
"""

from .ops.linalg import vector_norm

__all__ = ["vector_norm"]

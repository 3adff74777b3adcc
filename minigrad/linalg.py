"""``torch.linalg``'s names that minigrad has, for programs that write ``torch.linalg.vector_norm``.

``vector_norm``, and (issue #16) ``cross``, ``vecdot``, ``matmul``, ``inv``, ``det``, ``slogdet``,
``solve``, ``cholesky``, ``matrix_power``, ``matrix_exp``, ``pinv``, ``lstsq``, ``vander``, ``LinAlgError``, and
``svd``, ``svdvals``, ``qr`` (with gradients), ``matrix_rank``, and the LU family ``lu_factor``,
``lu_factor_ex``, ``lu``, ``lu_solve``, with ``solve_triangular``, ``inv_ex``, ``solve_ex``, ``multi_dot``. PyTorch's
``linalg.norm`` and ``matrix_norm`` take operator norms of matrices (singular values), which
minigrad does not compute. :func:`minigrad.norm` is ``torch.norm``.
"""

from .ops.linalg import vector_norm

__all__ = ["vector_norm"]

# the linear-algebra sweep of issue #16
from .ops.blas import linalg_cross as cross  # noqa: E402
from .ops.blas import vecdot  # noqa: E402
from .ops.building import linalg_vander as vander  # noqa: E402
from .ops.decomp import LinAlgError, matrix_exp, matrix_power, solve  # noqa: E402
from .ops.decomp import linalg_cholesky as cholesky  # noqa: E402
from .ops.decomp import linalg_det as det  # noqa: E402
from .ops.decomp import linalg_inv as inv  # noqa: E402
from .ops.decomp import linalg_lstsq as lstsq  # noqa: E402
from .ops.decomp import linalg_matrix_rank as matrix_rank  # noqa: E402
from .ops.decomp import linalg_pinv as pinv  # noqa: E402
from .ops.decomp import linalg_qr as qr  # noqa: E402
from .ops.decomp import linalg_slogdet as slogdet  # noqa: E402
from .ops.decomp import linalg_svd as svd  # noqa: E402
from .ops.decomp import linalg_svdvals as svdvals  # noqa: E402
from .ops.linalg import matmul  # noqa: E402
from .ops.lu_decomp import eig, eigh, eigvals, eigvalsh, matrix_norm, multi_dot, solve_triangular  # noqa: E402
from .ops.lu_decomp import linalg_cholesky_ex as cholesky_ex  # noqa: E402
from .ops.lu_decomp import linalg_inv_ex as inv_ex  # noqa: E402
from .ops.lu_decomp import linalg_lu as lu  # noqa: E402
from .ops.lu_decomp import linalg_lu_factor as lu_factor  # noqa: E402
from .ops.lu_decomp import linalg_lu_factor_ex as lu_factor_ex  # noqa: E402
from .ops.lu_decomp import linalg_lu_solve as lu_solve  # noqa: E402
from .ops.lu_decomp import linalg_solve_ex as solve_ex  # noqa: E402

__all__ += ["cross", "vecdot", "matmul"]
__all__ += ["vander", "pinv", "svd", "svdvals", "qr", "matrix_rank", "lstsq"]
__all__ += ["LinAlgError", "inv", "det", "slogdet", "solve", "cholesky", "matrix_power", "matrix_exp"]
__all__ += ["lu_factor", "lu_factor_ex", "lu", "lu_solve", "solve_triangular", "inv_ex", "solve_ex", "multi_dot"]
__all__ += ["eigh", "eigvalsh", "eig", "eigvals", "matrix_norm"]
__all__ += ["cholesky_ex"]

"""Matrix products.

``matmul`` follows NumPy: 1-D operands are promoted to a row (left) or a
column (right) and the added axis is dropped again; leading dimensions are
batch dimensions and broadcast. With C = A B, the vjps are dA = G B^T and
dB = A^T G, summed over broadcast batch dimensions.
"""

from __future__ import annotations

from ..backend import xp_of
from ..primitive import primitive
from .shape import squeeze, transpose, unsqueeze


@primitive(nin=2, saves=(0, 1))
def matmul(a, b):
    """Matrix product a @ b with NumPy's rules for 1-D and batched operands."""
    return xp_of(a if hasattr(a, "ndim") else b).matmul(a, b)


def _mT(x):
    return transpose(x, -2, -1)


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n): dA[..., n, k] = g[..., n] b[k]
        return unsqueeze(g, -1) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m): dA[k] = sum B[..., k, m] g[..., m]
        return squeeze(matmul(b, unsqueeze(g, -1)), -1)
    return matmul(g, _mT(b))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:  # dot product: dB = g a
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): dB[..., k, m] = a[k] g[..., m]
        return unsqueeze(a, -1) * unsqueeze(g, -2)
    if b.ndim == 1:  # (..., n, k) @ (k,): dB[k] = sum A[..., n, k] g[..., n]
        return squeeze(matmul(_mT(a), unsqueeze(g, -1)), -1)
    return matmul(_mT(a), g)


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)

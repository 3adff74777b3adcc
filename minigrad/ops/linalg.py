"""Matrix products.

``matmul`` follows NumPy: 1-D operands are promoted to a row (left) or a
column (right) and the added axis is dropped again; leading dimensions are
batch dimensions and broadcast. With C = A B, the vjps are dA = G B^T and
dB = A^T G, summed over broadcast batch dimensions.
"""

from __future__ import annotations

import math

from ..errors import ShapeError
from ..primitive import primitive
from .reduction import _sum
from .shape import squeeze, unsqueeze


@primitive(saves=(0, 1))
def matmul(a, b):
    """Matrix product a @ b with NumPy's rules for 1-D and batched operands."""
    return a @ b


@primitive(view=True)
def _mT(x):
    """The last two axes swapped (the matrix transpose of each batch element). Its own vjp."""
    return x.swapaxes(-1, -2)


_mT.defvjp(lambda g, ans, x: _mT(g))


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


@primitive(name="linear", saves=(0, 1))
def _linear(x, w, b):
    """x W^T + b in one node: one GEMM, the bias added in place into its fresh output."""
    out = x @ w.swapaxes(-1, -2)
    if out.dtype == getattr(b, "dtype", None) and out.ndim:
        out += b
        return out
    return out + b


@primitive(name="linear_weight_grad", saves=(0, 1))
def _weight_grad(g, x):
    """dW = sum over the batch of g^T x: linear's weight gradient, the batch dimensions flattened into one GEMM.

    Computed as (x^T g)^T, so the gradient comes out in the weight's own
    memory order when the weight is stored column-major (as nn.Linear's is).
    One primitive, so a plain backward pays one call for it, not five.
    With H the cotangent of dW: d/dg = x H^T, d/dx = g H.
    """
    n = math.prod(g.shape[:-1])  # not -1, which a zero-size batch or output would leave undetermined
    return (x.reshape(n, x.shape[-1]).T @ g.reshape(n, g.shape[-1])).T


_weight_grad.defvjp(
    lambda h, ans, g, x: matmul(x, _mT(h)),
    lambda h, ans, g, x: matmul(g, h),
)


def _bias_grad(g, ans, x, w, b):
    """db = g summed over the batch dimensions."""
    return _sum(g, axis=tuple(range(g.ndim - 1)), keepdims=False) if g.ndim > 1 else g


_linear.defvjp(
    lambda g, ans, x, w, b: matmul(g, w),
    lambda g, ans, x, w, b: _weight_grad(g, x),
    _bias_grad,
)


def linear(x, weight, bias=None):
    """y = x W^T + b with W of shape (out_features, in_features), as PyTorch's ``F.linear``.

    One node instead of transpose, matmul and add: dx = g W, dW = g^T x (batch
    dimensions flattened), db = g summed over the batch.
    """
    if weight.ndim != 2:  # a 1-D weight (in_features,) gives x @ w, as PyTorch; other shapes are errors
        if weight.ndim != 1:
            raise ShapeError(
                "linear: weight must have shape (out_features, in_features) or (in_features,), "
                f"got {tuple(weight.shape)}"
            )
        out = matmul(x, weight)
        return out if bias is None else out + bias
    if bias is None:
        return matmul(x, _mT(weight))
    if tuple(getattr(bias, "shape", ())) != tuple(weight.shape[:1]):  # a bias that broadcasts otherwise: x W^T + b
        return matmul(x, _mT(weight)) + bias
    return _linear(x, weight, bias)

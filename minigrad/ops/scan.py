"""Scans: cumulative sums along one dimension (more scans and sorting to follow, issue #16)."""

from __future__ import annotations

from ..backend import xp_of
from ..primitive import primitive
from .construct import _dim_list, _flip


@primitive(name="cumsum")
def _cumsum(x, *, axis):
    if x.ndim == 0:
        return x.copy()
    return xp_of(x).cumsum(x, axis=axis)


def _cumsum_vjp(g, ans, x, axis):
    """out_i = sum_{j<=i} x_j, so dL/dx_j = sum_{i>=j} g_i: the cumulative sum of g taken from the end."""
    if g.ndim == 0:
        return g
    return _flip(_cumsum(_flip(g, dims=(axis,)), axis=axis), dims=(axis,))


_cumsum.defvjp(_cumsum_vjp)


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """Cumulative sum along ``dim``, ``torch.cumsum``: out[..., i, ...] = sum_{j <= i} input[..., j, ...].

    ``dim`` is required, as in PyTorch (NumPy's ``axis`` is accepted instead); a 0-d tensor takes dim
    0 or -1 and is returned as is. ``dtype`` casts the input first. The vjp is the reversed cumulative
    sum of the cotangent, itself a cumsum, so double backward works. Raises IndexOutOfRange for a dim
    outside the tensor.
    """
    if dim is None:
        dim = axis
    elif axis is not None:
        raise TypeError("cumsum: give axis or dim, not both")
    if dim is None:
        raise TypeError("cumsum: missing the dim argument")
    (axis,) = _dim_list("cumsum", input, dim)
    if dtype is not None:
        input = input.to(dtype)
    return _cumsum(input, axis=axis)

"""Scans and sorting: cumulative sums along one dimension, and argsort (more to follow, issue #16)."""

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


@primitive(name="argsort", differentiable=False)
def _argsort(x, *, axis, descending):
    xp = xp_of(x)
    if x.ndim == 0:
        return xp.zeros((), dtype=xp.int64)
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable").astype(xp.int64)
    # descending with ties in index order: sort the reversed slice ascending (ties then come latest
    # index first), reverse that order, and map the reversed positions back: i -> n - 1 - i
    n = x.shape[axis]
    order = xp.argsort(xp.flip(x, axis=axis), axis=axis, kind="stable")
    return (n - 1 - xp.flip(order, axis=axis)).astype(xp.int64)


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False, *, axis=None):
    """The indices that sort ``input`` along ``dim``, ``torch.argsort``: int64, no gradient.

    input.gather(dim, argsort(input, dim)) is sorted ascending (descending with ``descending=True``).
    The sort is always stable -- equal elements keep their index order, in both directions -- so
    ``stable`` is accepted and changes nothing (PyTorch leaves the order of ties unspecified unless
    stable=True). NaN sorts as the largest value, as PyTorch's. NumPy's ``axis`` is accepted for
    ``dim``. Raises IndexOutOfRange for a dim outside the tensor.
    """
    if axis is not None:
        dim = axis
    (axis,) = _dim_list("argsort", input, dim)
    return _argsort(input, axis=axis, descending=bool(descending))

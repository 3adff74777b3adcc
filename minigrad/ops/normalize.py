"""Layer normalization with a weight and a bias as one primitive, with its closed-form vjp.

``F.layer_norm`` composed of ``mean``, ``sub``, ``mul``, ``rsqrt`` and the affine ops records eight
nodes and its backward runs about twenty array operations; a transformer runs two or three per
block. Over the trailing ``k`` axes (n elements per sample), with xhat = (x - mean) * rstd and
rstd = 1 / sqrt(var + eps) (the biased variance):

    y = xhat * weight + bias
    dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),  gw = g * weight (means over the k axes)
    dweight = sum over the leading axes of g * xhat,        dbias = sum over the leading axes of g

The forward keeps xhat and rstd for a plain backward; a recorded backward (``create_graph=True``)
recomputes them from the input tensor with minigrad ops, so the same formulas are differentiated.
"""

from __future__ import annotations

from .. import backend
from ..primitive import primitive
from .pointwise import rsqrt
from .reduction import _mean, _sum


def _normalized(x, k: int, eps: float):
    """(xhat, rstd) of x over its last k axes, computed as the composite ``layer_norm`` computes them."""
    axes = tuple(range(x.ndim - k, x.ndim))
    centered = x - _mean(x, axis=axes, keepdims=True)
    rstd = rsqrt(_mean(centered * centered, axis=axes, keepdims=True) + eps)
    return centered * rstd, rstd


@primitive(name="layer_norm", saves=(0, 1), residual=True)
def _layer_norm(x, weight, bias, *, k, eps):
    """xhat * weight + bias over the last k axes, and (xhat, rstd) for the vjps."""
    axes = tuple(range(x.ndim - k, x.ndim))
    n = 1
    for a in axes:
        n *= x.shape[a]
    centered = x - x.sum(axis=axes, keepdims=True) / n
    rstd = 1 / backend.xp_of(x).sqrt((centered * centered).sum(axis=axes, keepdims=True) / n + eps)
    xhat = centered * rstd
    out = xhat * weight
    out += bias
    return out, (xhat, rstd)


def _kept(kept, x, k, eps):
    return kept if kept is not None else _normalized(x, k, eps)


def _input_vjp(g, kept, x, weight, bias, *, k, eps):
    xhat, rstd = _kept(kept, x, k, eps)
    axes = tuple(range(x.ndim - k, x.ndim))
    gw = g * weight
    return rstd * (gw - _mean(gw, axis=axes, keepdims=True) - xhat * _mean(gw * xhat, axis=axes, keepdims=True))


def _weight_vjp(g, kept, x, weight, bias, *, k, eps):
    xhat, _ = _kept(kept, x, k, eps)
    return _sum(g * xhat, axis=tuple(range(x.ndim - k)), keepdims=False)


def _bias_vjp(g, kept, x, weight, bias, *, k, eps):
    return _sum(g, axis=tuple(range(x.ndim - k)), keepdims=False)


_layer_norm.defvjp(_input_vjp, _weight_vjp, _bias_vjp)


def layer_norm_affine(x, weight, bias, k: int, eps: float):
    """Layer normalization of ``x`` over its last ``k`` axes, then ``* weight + bias`` (both of the
    normalized shape, x's floating dtype): one node. See the module docstring."""
    return _layer_norm(x, weight, bias, k=k, eps=eps)

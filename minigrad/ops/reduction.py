"""Reductions: sum, mean, var/std, max/min, logsumexp, softmax, log_softmax.

Every reduction takes NumPy's ``axis`` (int, tuple or None) and ``keepdims``
and, for PyTorch users, ``dim`` and ``keepdim``. The vjp of a reduction
spreads the cotangent back over the reduced axes: re-insert them as size-1
axes, then broadcast.
"""

from __future__ import annotations

import warnings
from collections import namedtuple

from ..backend import xp_of
from ..errors import DTypeError, IndexOutOfRange, MinigradError, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .elementwise import astype, exp, maximum, minimum, sqrt, where
from .shape import _broadcast_to, reshape


def reduce_args(op: str, axis, keepdims, dim, keepdim):
    """Merge NumPy's (axis, keepdims) with PyTorch's (dim, keepdim); axis becomes an int, tuple or None."""
    if dim is not None:
        if axis is not None:
            raise TypeError(f"{op}: give axis or dim, not both")
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis, bool(keepdims)


def _kept_shape(shape, axis):
    """``shape`` with the reduced axes set to 1 (the keepdims shape)."""
    if axis is None:
        return (1,) * len(shape)
    axes = axis if isinstance(axis, tuple) else (axis,)
    axes = {a % len(shape) for a in axes} if shape else set()
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _spread(g, x_shape, axis, keepdims):
    """Broadcast a reduction's cotangent back to the input's shape."""
    if not keepdims and g.ndim:
        g = reshape(g, _kept_shape(x_shape, axis))
    return _broadcast_to(g, shape=tuple(x_shape))


# --- sum and mean ------------------------------------------------------------------


@primitive(name="sum")
def _sum(x, *, axis=None, keepdims=False):
    return x.sum(axis=axis, keepdims=keepdims)


_sum.defvjp(lambda g, ans, x, axis, keepdims: _spread(g, x.shape, axis, keepdims))


def sum(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Sum over ``axis`` (all axes when None). The vjp broadcasts the cotangent back."""
    axis, keepdims = reduce_args("sum", axis, keepdims, dim, keepdim)
    return _sum(x, axis=axis, keepdims=keepdims)


@primitive(name="mean")
def _mean(x, *, axis=None, keepdims=False):
    # ndarray.mean goes through NumPy's Python-level _methods, slower than sum / n on small arrays
    # (benchmarks/README.md has the figure). Not for float16, which NumPy's mean accumulates in
    # float32 (a float16 sum overflows at 65504).
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        return x.sum(axis=axis, keepdims=keepdims) / _reduced_size(x.shape, axis)
    if x.ndim == 0 and axis is not None:  # axis 0 or -1 of a 0-d array, which NumPy's sum takes but its mean refuses
        x.sum(axis=axis)  # raises for any other axis
        axis = None
    return x.mean(axis=axis, keepdims=keepdims)


_mean.defvjp(lambda g, ans, x, axis, keepdims: _spread(g, x.shape, axis, keepdims) / _reduced_size(x.shape, axis))


def _reduced_size(shape, axis) -> int:
    """How many elements each output of a reduction over ``axis`` combines."""
    if not shape:  # a 0-d array, which NumPy lets reduce over axis 0 or -1
        return 1
    if axis is None:
        axes = range(len(shape))
    else:
        axes = axis if isinstance(axis, tuple) else (axis,)
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def mean(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Arithmetic mean over ``axis``. The vjp spreads g / n over the n averaged elements."""
    axis, keepdims = reduce_args("mean", axis, keepdims, dim, keepdim)
    return _mean(x, axis=axis, keepdims=keepdims)


# --- variance and standard deviation (composed of differentiable ops) ---------------------------


def _moment_args(op, x, axis, unbiased, keepdims, dim, keepdim, correction):
    """Merge the spellings of var/std into (axis as a tuple or None, keepdims, correction)."""
    if isinstance(axis, bool):  # PyTorch's var(x, unbiased) overload: a bool in the dim's place
        if unbiased is not None:
            raise TypeError(f"{op}: unbiased given twice (a bool in the dim's place is unbiased)")
        axis, unbiased = None, axis
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give correction or unbiased, not both")
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: only floating-point tensors have a {op}, got dtype {x.dtype}; cast with .double()")
    axis, keepdims = reduce_args(op, axis, keepdims, dim, keepdim)
    if axis is None:
        return None, keepdims, correction
    ndim = x.ndim
    n = ndim or 1  # a 0-d tensor takes dim 0 or -1, as PyTorch
    axes = axis if isinstance(axis, tuple) else (axis,)
    for a in axes:
        if not -n <= a < n:
            raise IndexOutOfRange(f"{op}: dim {a} is out of range for a tensor of shape {tuple(x.shape)}")
    normal = [a % n for a in axes]
    if len(set(normal)) != len(normal):
        raise ShapeError(f"{op}: dim {axis} names a dimension more than once")
    return tuple(normal) if ndim else None, keepdims, correction


def _variance(op, x, axis, unbiased, keepdims, dim, keepdim, correction):
    axis, keepdims, correction = _moment_args(op, x, axis, unbiased, keepdims, dim, keepdim, correction)
    centered = x - _mean(x, axis=axis, keepdims=True)
    dof = _reduced_size(x.shape, axis) - correction
    return _sum(centered * centered, axis=axis, keepdims=keepdims) / (dof if dof > 0 else 0)


def var(x, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None):
    """Variance over ``axis`` (all axes when None), PyTorch's ``torch.var``.

    var = sum((x - mean(x))^2) / max(0, N - correction), with N the number of
    elements reduced. ``correction=1`` (the default, Bessel's correction) gives
    the unbiased estimate, ``correction=0`` the population variance (NumPy's
    default, ``ddof=0``); ``unbiased=True/False`` is PyTorch's older spelling
    of correction 1/0, and ``var(x, dim, unbiased, keepdim)`` its positional
    order. N <= correction gives nan or inf, as PyTorch. Composed of mean,
    sub, mul, sum and div, so its gradient 2 (x - mean) / (N - correction) and
    higher derivatives come from theirs.

    Raises DTypeError for a non-floating tensor, IndexOutOfRange for a dim
    outside the tensor, ShapeError for a dim given twice.
    """
    return _variance("var", x, axis, unbiased, keepdims, dim, keepdim, correction)


def std(x, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None):
    """Standard deviation over ``axis``: sqrt(var(x)), PyTorch's ``torch.std``; arguments as :func:`var`.

    Its gradient is (x - mean) / ((N - correction) std); where every element
    reduced is equal (std = 0) that is 0/0, and the gradient is 0 instead, as
    PyTorch's: the square root is taken of 1 there and its result replaced by
    0, so no inf ever meets a zero cotangent.
    """
    v = _variance("std", x, axis, unbiased, keepdims, dim, keepdim, correction)
    flat = v == 0
    return where(flat, 0, sqrt(where(flat, 1, v)))


def sum_to(x, shape):
    """Sum ``x`` down to ``shape``, undoing a broadcast from ``shape`` to ``x.shape``."""
    shape = tuple(shape)
    lead = x.ndim - len(shape)
    if lead > 0 and x.shape[lead:] == shape:  # only leading axes were added (a bias): one plain sum
        return _sum(x, axis=tuple(range(lead)), keepdims=False)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and x.shape[lead + i] != 1)
    out = _sum(x, axis=axes, keepdims=True) if axes else x
    return reshape(out, shape) if out.shape != shape else out


# --- max and min ------------------------------------------------------------------------


def _winners(x, axis):
    """Boolean mask of the elements equal to the max (or min) of their slice: the branch signature."""
    return x == x.max(axis=axis, keepdims=True)


def _losers(x, axis):
    return x == x.min(axis=axis, keepdims=True)


@primitive(name="max", saves=(0,), saves_output=True, signature=lambda x, axis, keepdims: _winners(x, axis))
def _amax(x, *, axis=None, keepdims=False):
    return x.max(axis=axis, keepdims=keepdims)


@primitive(name="min", saves=(0,), saves_output=True, signature=lambda x, axis, keepdims: _losers(x, axis))
def _amin(x, *, axis=None, keepdims=False):
    return x.min(axis=axis, keepdims=keepdims)


def _extremum_vjp(g, ans, x, axis, keepdims):
    """The gradient goes to the winning element; tied winners share it evenly."""
    best = ans if keepdims else reshape(ans, _kept_shape(x.shape, axis))
    won = x == best
    ties = astype(_sum(won, axis=axis, keepdims=True), dtype=g.dtype)
    return where(won, _spread(g, x.shape, axis, keepdims), 0) / ties


_amax.defvjp(_extremum_vjp)
_amin.defvjp(_extremum_vjp)

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
ValuesIndices.__doc__ = "What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch's ``torch.return_types.max``."


def amax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Largest value over ``axis``. Ties share the gradient evenly, and are kinks."""
    axis, keepdims = reduce_args("amax", axis, keepdims, dim, keepdim)
    return _amax(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Smallest value over ``axis``. Ties share the gradient evenly, and are kinks."""
    axis, keepdims = reduce_args("amin", axis, keepdims, dim, keepdim)
    return _amin(x, axis=axis, keepdims=keepdims)


def _extremum(op, best, pick, elementwise, x, dim, keepdim, axis, keepdims):
    """Shared by :func:`max` and :func:`min`: PyTorch's three overloads plus NumPy's ``axis=`` spelling."""
    if isinstance(dim, Tensor):  # torch.max(input, other): the elementwise maximum
        if axis is not None or keepdims is not None or keepdim:
            raise TypeError(f"{op}: with a tensor as second argument (the elementwise {op}imum) give no dim/axis")
        return elementwise(x, dim)
    if dim is None:  # no dim: NumPy's axis= (values only), or the full reduction
        return best(x, axis, bool(keepdims) if keepdims is not None else bool(keepdim))
    if axis is not None:
        raise TypeError(f"{op}: give axis or dim, not both")
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"{op}: dim must be an int, got {tuple(dim)}; use amax/amin (or axis=) to reduce several")
    return ValuesIndices(best(x, dim=dim, keepdim=keepdim), pick(x, dim=dim, keepdim=keepdim))


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """PyTorch's ``max``: ``max(x)`` is the largest value; ``max(x, dim)`` the named tuple ``(values, indices)``.

    ``x.max(1)``, ``x.max(dim=1)`` and ``minigrad.max(x, 1, keepdim=True)`` return a ``ValuesIndices``
    named tuple (``.values``, ``.indices``, unpackable) as ``torch.return_types.max``, so ported code
    such as ``pred = output.max(1)[1]`` works. ``x.max(other)`` with a tensor ``other`` is
    :func:`~minigrad.ops.elementwise.maximum`, as in PyTorch. NumPy's spelling ``x.max(axis=1)``
    (an int or a tuple) returns the values only. Ties share the gradient evenly and are kinks; the
    index of a tie is the first one (as NumPy's argmax).
    """
    return _extremum("max", amax, argmax, maximum, x, dim, keepdim, axis, keepdims)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """PyTorch's ``min``: ``min(x)``, ``min(x, dim)`` -> ``(values, indices)``, ``min(x, other)``; see :func:`max`."""
    return _extremum("min", amin, argmin, minimum, x, dim, keepdim, axis, keepdims)


# --- any and all ----------------------------------------------------------------------------------


@primitive(name="any", differentiable=False)
def _any(x, *, axis=None, keepdims=False):
    return x.any(axis=axis, keepdims=keepdims)


@primitive(name="all", differentiable=False)
def _all(x, *, axis=None, keepdims=False):
    return x.all(axis=axis, keepdims=keepdims)


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``torch.any``: True where any element over ``dim`` (all when None) is nonzero; bool, no gradient.

    ``dim`` may be an int or a tuple; NumPy's ``axis``/``keepdims`` are accepted. An empty reduction is False.
    """
    axis, keepdims = reduce_args("any", axis, bool(keepdims) if keepdims is not None else keepdim, dim, None)
    return _any(input, axis=axis, keepdims=keepdims)


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``torch.all``: True where every element over ``dim`` (all when None) is nonzero; bool, no gradient.

    ``dim`` may be an int or a tuple; NumPy's ``axis``/``keepdims`` are accepted. An empty reduction is True.
    """
    axis, keepdims = reduce_args("all", axis, bool(keepdims) if keepdims is not None else keepdim, dim, None)
    return _all(input, axis=axis, keepdims=keepdims)


@primitive(name="argmax", differentiable=False)
def _argmax(x, *, axis=None, keepdims=False):
    return x.argmax(axis=axis, keepdims=keepdims)


@primitive(name="argmin", differentiable=False)
def _argmin(x, *, axis=None, keepdims=False):
    return x.argmin(axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the largest value over ``axis`` (of the flattened tensor when None); int64, no gradient."""
    axis, keepdims = reduce_args("argmax", axis, keepdims, dim, keepdim)
    if isinstance(axis, tuple):
        raise DTypeError(f"argmax: axis must be an int or None, got the tuple {axis}")  # a TypeError, as NumPy's
    return _argmax(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Index of the smallest value over ``axis``; int64, no gradient."""
    axis, keepdims = reduce_args("argmin", axis, keepdims, dim, keepdim)
    if isinstance(axis, tuple):
        raise DTypeError(f"argmin: axis must be an int or None, got the tuple {axis}")  # a TypeError, as NumPy's
    return _argmin(x, axis=axis, keepdims=keepdims)


# --- log-sum-exp and softmax --------------------------------------------------------------


def _as_float(x):
    """``x``, or an integer or bool ``x`` as the float dtype NumPy's ``exp`` gives it (int32 -> float64,
    bool -> float16), so that ``x - max(x)`` cannot wrap around."""
    if x.dtype.kind == "f":
        return x
    xp = xp_of(x)
    return x.astype(xp.result_type(x.dtype, xp.float16))


def _shift(x, axis):
    """The max over ``axis`` (kept dims), with infinities replaced by 0 so x - shift stays finite
    (zeros over an empty axis, where softmax of nothing is an empty result, as PyTorch's)."""
    xp = xp_of(x)
    if not x.size:
        return x.sum(axis=axis, keepdims=True)  # zeros of the kept shape (a max over nothing has no value)
    m = x.max(axis=axis, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0).astype(x.dtype, copy=False)


@primitive(name="logsumexp", saves=(0,), saves_output=True)
def _logsumexp(x, *, axis=None, keepdims=False):
    xp = xp_of(x)
    x = _as_float(x)
    m = _shift(x, axis)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))


def _reduced_shape(shape, axis):
    """The shape of a reduction over ``axis`` without keepdims."""
    if axis is None:
        return ()
    axes = axis if isinstance(axis, tuple) else (axis,)
    drop = {a % len(shape) for a in axes} if shape else set()  # NumPy lets a 0-d array reduce over axis 0 or -1
    return tuple(s for i, s in enumerate(shape) if i not in drop)


_logsumexp.defvjp(
    lambda g, ans, x, axis, keepdims: (
        _spread(g, x.shape, axis, keepdims) * exp(x - _spread(ans, x.shape, axis, keepdims))
    )
)


def logsumexp(x, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """log(sum(exp(x))) over ``axis``, computed as m + log(sum(exp(x - m))) with m the max.

    Exact and finite for logits of any magnitude. d/dx = softmax(x) over the axis.
    """
    axis, keepdims = reduce_args("logsumexp", axis, keepdims, dim, keepdim)
    return _logsumexp(x, axis=axis, keepdims=keepdims)


@primitive(name="softmax", saves_output=True)
def _softmax(x, *, axis=-1):
    xp = xp_of(x)
    x = _as_float(x)
    e = xp.exp(x - _shift(x, axis))
    return e / e.sum(axis=axis, keepdims=True)


_softmax.defvjp(lambda g, ans, x, axis: ans * (g - _sum(g * ans, axis=axis, keepdims=True)))


@primitive(name="log_softmax", saves_output=True)
def _log_softmax(x, *, axis=-1):
    xp = xp_of(x)
    x = _as_float(x)
    shifted = x - _shift(x, axis)
    if not shifted.size:  # nothing to normalize (an empty dim), and no log(0) of an empty sum to warn about
        return shifted
    return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


_log_softmax.defvjp(lambda g, ans, x, axis: g - exp(ans) * _sum(g, axis=axis, keepdims=True))


def implicit_softmax_dim(op: str, ndim: int, stacklevel: int = 3) -> int:
    """PyTorch's implicit dim for softmax-like functions called with dim=None (deprecated there, with a
    UserWarning): 0 for 0-, 1- and 3-dimensional inputs, else 1. ``stacklevel`` counts from this function."""
    warnings.warn(
        f"Implicit dimension choice for {op} has been deprecated. Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _softmax_args(op, input, dim, axis, dtype, stacklevel):
    """(input cast to ``dtype``, the axis) for softmax/log_softmax: ``axis`` (NumPy) or ``dim`` (PyTorch),
    PyTorch's implicit choice with its warning when neither is given."""
    if dim is None and axis is None:
        dim = implicit_softmax_dim(op, input.ndim, stacklevel + 1)
    axis, _ = reduce_args(op, axis, False, dim, None)
    if dtype is not None:
        input = input.to(dtype)
    return input, axis


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None):
    """exp(x) / sum(exp(x)) along ``dim``, shifted by the max so it never overflows.

    As PyTorch's ``F.softmax(input, dim=None, _stacklevel=3, dtype=None)``: ``dim=None`` takes PyTorch's
    implicit (deprecated) choice with a UserWarning, 0 for 0-, 1- and 3-d inputs, else 1; ``dtype``
    casts the input first; NumPy's ``axis`` is accepted too. Over an empty dim the result is empty.
    vjp: s * (g - sum(g * s)) along the axis.
    """
    input, axis = _softmax_args("softmax", input, dim, axis, dtype, _stacklevel)
    return _softmax(input, axis=axis)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None, *, axis=None):
    """x - logsumexp(x) along ``dim``: stable log-probabilities.

    Arguments as :func:`softmax` (PyTorch's ``F.log_softmax``). vjp: g - softmax(x) * sum(g) along the axis.
    """
    input, axis = _softmax_args("log_softmax", input, dim, axis, dtype, _stacklevel)
    return _log_softmax(input, axis=axis)


# --- prod, var_mean / std_mean, count_nonzero (issue #16) ------------------------------------------


def _raw(x):
    """The array of a tensor (a vjp runs on arrays in a plain backward, on tensors under create_graph)."""
    return x.array if isinstance(x, Tensor) else x


@primitive(name="prod", saves=(0,))
def _prod(x, *, axis=None, keepdims=False):
    if x.dtype.kind in "biu":  # integers and bools multiply in int64, as PyTorch's
        return x.prod(axis=axis, keepdims=keepdims, dtype=xp_of(x).int64)
    return x.prod(axis=axis, keepdims=keepdims)


def _prod_vjp(g, ans, x, axis, keepdims):
    """d prod(x) / d x_k = prod_{j != k} x_j, the product of the others, computed without dividing by a zero.

    With P the product of the nonzero elements of a slice and Z its zeros: no zero, P / x_k; one zero z,
    P at z and x_z P / x_k elsewhere (x_z = 0: zero, but its derivative in x_z is not); two zeros z1, z2,
    x_z2 P at z1 (and the reverse) and x_z1 x_z2 P / x_k elsewhere; three or more, 0 (every first and
    second derivative vanishes). Each case is the exact polynomial, written with prod, sum and where on
    the zeros' own values, so create_graph=True differentiates it correctly too.
    """
    raw = _raw(x)
    zero = raw == 0
    g = _spread(g, x.shape, axis, keepdims)
    nonzero = where(zero, 1, x) if zero.any() else x
    others = _prod(nonzero, axis=axis, keepdims=True) / nonzero  # the product of the nonzero others
    if not zero.any():
        return g * others
    count = zero.sum(axis=axis, keepdims=True)
    zeros_only = where(zero, x, 0)  # value 0, derivative 1 at the zeros
    s1 = _sum(zeros_only, axis=axis, keepdims=True)
    e2 = (s1 * s1 - _sum(zeros_only * zeros_only, axis=axis, keepdims=True)) / 2  # x_z1 x_z2
    one = where(zero, 1, s1)
    two = where(zero, s1 - zeros_only, e2)
    factor = where(count == 0, 1, where(count == 1, one, where(count == 2, two, 0)))
    return g * others * factor


_prod.defvjp(_prod_vjp)


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The product of the elements over ``dim`` (all when None), ``torch.prod``.

    ``dtype`` casts the input first; integer and bool tensors give int64, as PyTorch. NumPy's
    ``axis``/``keepdims`` are accepted (axis may be a tuple). The gradient is the product of the
    other elements, exact where the input has zeros (see :func:`_prod_vjp`) and differentiable
    again. The product of an empty slice is 1. Raises IndexOutOfRange for a dim outside the tensor.
    """
    if dim is not None and axis is not None:
        raise TypeError("prod: give axis or dim, not both")
    axis, keepdims = reduce_args("prod", axis, keepdim if keepdims is None else keepdims, dim, None)
    _check_dims("prod", input, axis)
    if dtype is not None:
        input = input.to(dtype)
    return _prod(input, axis=axis, keepdims=keepdims)


def _check_dims(op, x, axis) -> None:
    """Raise IndexOutOfRange for a dim outside ``x`` (a 0-d tensor takes 0 and -1)."""
    if axis is None:
        return
    n = x.ndim or 1
    for a in axis if isinstance(axis, tuple) else (axis,):
        if not -n <= a < n:
            raise IndexOutOfRange(f"{op}: dim {a} is out of range for a tensor of shape {tuple(x.shape)}")


def _moments(op, input, dim, unbiased, keepdim, correction, moment):
    mean_axis = None if dim is None or isinstance(dim, bool) else dim
    try:
        spread = moment(input, dim, unbiased, keepdim, correction=correction)
    except MinigradError as exc:  # name the op the user called, not var or std inside it
        raise type(exc)(f"{op}: {str(exc).split(': ', 1)[-1]}") from exc
    return spread, mean(input, axis=mean_axis, keepdims=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple:
    """``(var, mean)`` over ``dim`` in one call, ``torch.var_mean``: a plain tuple, as PyTorch's.

    The arguments are :func:`var`'s: ``correction`` (1 by default, Bessel's), or ``unbiased``, also
    as PyTorch's overload ``var_mean(input, unbiased)`` with a bool in the dim's place. Both results
    are differentiable. Raises as :func:`var`.
    """
    return _moments("var_mean", input, dim, unbiased, keepdim, correction, var)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None) -> tuple:
    """``(std, mean)`` over ``dim`` in one call, ``torch.std_mean``: a plain tuple; arguments as :func:`var_mean`."""
    return _moments("std_mean", input, dim, unbiased, keepdim, correction, std)


@primitive(name="count_nonzero", differentiable=False)
def _count_nonzero(x, *, axis=None):
    xp = xp_of(x)
    if x.ndim == 0:
        return xp.asarray(x != 0, dtype=xp.int64)
    return xp.asarray(xp.count_nonzero(x, axis=axis), dtype=xp.int64)


def count_nonzero(input, dim=None):
    """How many elements over ``dim`` (an int, a tuple, or all when None) are nonzero, ``torch.count_nonzero``.

    int64, no gradient; the reduced dims are dropped. Raises IndexOutOfRange for a dim outside the tensor.
    """
    axis, _ = reduce_args("count_nonzero", None, False, dim, None)
    _check_dims("count_nonzero", input, axis)
    if input.ndim == 0:
        axis = None
    return _count_nonzero(input, axis=axis)


__all__ = [
    "sum", "mean", "var", "std", "max", "min", "amax", "amin", "argmax", "argmin",
    "logsumexp", "softmax", "log_softmax", "sum_to", "ValuesIndices",
]  # fmt: skip
__all__ += ["prod", "var_mean", "std_mean", "count_nonzero"]

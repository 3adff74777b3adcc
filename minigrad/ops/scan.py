"""Scans: cumulative sums and products, running maxima and minima, and log-cumulative-sum-exp (issue #16).

Each runs along one dimension ``dim`` (required, as PyTorch; NumPy's ``axis`` accepted where the op has
always taken it). cumsum and cumprod are primitives with their own vjps; cummax and cummin find the
running winner's index on the arrays and pick the values with a picking primitive (see
:mod:`minigrad.ops.sorting`), whose branch signature is that index; logcumsumexp is computed by a
scan of logaddexp, finite for inputs of any magnitude. argsort lives in :mod:`minigrad.ops.sorting`.
"""

from __future__ import annotations

import numpy as np

from ..backend import xp_of
from ..errors import DTypeError
from ..primitive import primitive
from ..tensor import Tensor
from .construct import _flip
from .elementwise import exp, log, where
from .reduction import _prod, _sum
from .sorting import _named, _one_dim, _picker, _wrap


@primitive(name="cumsum")
def _cumsum(x, *, axis):
    if x.ndim == 0:  # integers and bools accumulate in int64 here too, as in the 1-D case and PyTorch
        return x.astype(xp_of(x).int64) if x.dtype.kind in "biu" else x.copy()
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
    axis = _scan_dim("cumsum", input, dim, axis)
    if dtype is not None:
        input = input.to(dtype)
    return _cumsum(input, axis=axis)


def _rev_cumsum(v, axis):
    """sum_{i >= j} v_i along ``axis``: the cumulative sum taken from the end."""
    return _flip(_cumsum(_flip(v, dims=(axis,)), axis=axis), dims=(axis,))


def _scan_dim(op, input, dim, axis=None):
    if dim is None:
        dim = axis
    elif axis is not None:
        raise TypeError(f"{op}: give axis or dim, not both")
    if dim is None:
        raise TypeError(f"{op}: missing the dim argument")
    return _one_dim(op, input, dim)


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _positions(raw, axis):
    """0, 1, ..., n - 1 along ``axis``, shaped to broadcast against ``raw``."""
    xp = xp_of(raw)
    shape = [1] * raw.ndim
    shape[axis] = raw.shape[axis]
    return xp.arange(raw.shape[axis]).reshape(shape)


def _accumulate(name: str, x, axis: int):
    """The inclusive scan of the ufunc ``name`` along ``axis``: NumPy's accumulate, else a doubling scan."""
    if isinstance(x, np.ndarray):
        return getattr(np, name).accumulate(x, axis=axis)
    xp = xp_of(x)
    ufunc = getattr(xp, name)
    out = xp.moveaxis(x, axis, -1).copy()
    step = 1
    while step < out.shape[-1]:  # Hillis-Steele: after the pass with step s, out_i combines x_{i-2s+1..i}
        out[..., step:] = ufunc(out[..., step:], out[..., :-step])
        step *= 2
    return xp.moveaxis(out, -1, axis)


# --- cumprod ----------------------------------------------------------------------------------------


@primitive(name="cumprod", saves=(0,), saves_output=True)
def _cumprod(x, *, axis):
    if x.ndim == 0:  # integers and bools accumulate in int64 here too, as in the 1-D case and PyTorch
        return x.astype(xp_of(x).int64) if x.dtype.kind in "biu" else x.copy()
    xp = xp_of(x)
    return xp.cumprod(x, axis=axis, dtype=xp.int64 if x.dtype.kind in "biu" else None)


def _cumprod_grad(g, out, x, axis):
    """d/dx_k of sum_i g_i out_i, out = cumprod(x): sum_{i >= k} g_i prod_{j <= i, j != k} x_j.

    Without a zero in the slice that is revcumsum(g out)_k / x_k. With the first zero at z: the same
    for k < z (x_k != 0); for k >= z the product of the elements before z, q, times x_z (1 at k = z)
    times the same gradient of the rest of the slice y (x with its first z + 1 elements set to 1),
    found by recursion -- y has one zero fewer. Each piece is the exact polynomial (x_z is kept as a
    value, 0, whose derivative is 1), so create_graph=True differentiates it correctly too.
    """
    raw = _raw(x)
    zero = raw == 0
    if not zero.any():
        return _rev_cumsum(g * out, axis) / x
    xp = xp_of(raw)
    n = raw.shape[axis]
    first = xp.where(zero.any(axis=axis, keepdims=True), zero.argmax(axis=axis, keepdims=True), n)
    pos = _positions(raw, axis)
    before, at = pos < first, pos == first
    safe = where(before, x, 1)
    left = where(before, _rev_cumsum(g * out, axis) / safe, 0)
    q = _prod(safe, axis=axis, keepdims=True)  # prod_{j < z} x_j
    x_z = _sum(where(at, x, 0), axis=axis, keepdims=True)
    y = where(pos <= first, 1, x)
    rest = _cumprod_grad(g, _cumprod(y, axis=axis), y, axis)
    return left + where(before, 0, q * where(at, 1, x_z) * rest)


_cumprod.defvjp(lambda g, ans, x, axis: g if x.ndim == 0 else _cumprod_grad(g, ans, x, axis))


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """Cumulative product along ``dim``, ``torch.cumprod``: out[..., i, ...] = prod_{j <= i} input[..., j, ...].

    ``dim`` is required (NumPy's ``axis`` accepted); integer and bool inputs give int64, as PyTorch;
    ``dtype`` casts the input first. The gradient sum_{i >= k} g_i prod_{j <= i, j != k} x_j is exact
    where the input has zeros (see :func:`_cumprod_grad`) and differentiable again. Raises
    IndexOutOfRange for a dim outside the tensor.
    """
    axis = _scan_dim("cumprod", input, dim, axis)
    if dtype is not None:
        input = input.to(dtype)
    return _cumprod(input, axis=axis)


# --- cummax and cummin ------------------------------------------------------------------------------

CummaxResult = _named("cummax", "the running maximum and the index where it was reached.")
CumminResult = _named("cummin", "the running minimum and the index where it was reached.")
_cummax = _picker("cummax", __name__)
_cummin = _picker("cummin", __name__)


def _running_index(raw, axis, largest):
    """Where the running max (min) of each prefix was last reached; NaN wins and propagates, as PyTorch."""
    xp = xp_of(raw)
    best = _accumulate("maximum" if largest else "minimum", raw, axis)  # both propagate NaN
    previous = xp.concatenate([raw[(slice(None),) * axis + (slice(0, 1),)], best], axis=axis)
    previous = previous[(slice(None),) * axis + (slice(0, raw.shape[axis]),)]
    takes = raw >= previous if largest else raw <= previous  # ties: the latest index
    if raw.dtype.kind == "f":
        takes |= xp.isnan(raw)
    pos = _positions(raw, axis)
    return _accumulate("maximum", xp.where(takes, pos, 0), axis).astype(xp.int64)


def _cumulative_extremum(op, result, input, dim, largest):
    axis = _scan_dim(op.name, input, dim)
    raw = _raw(input)
    xp = xp_of(raw)
    if raw.ndim == 0:
        picked = xp.zeros((), dtype=xp.int64)
        return result(op(input, picked=picked, axis=0), _wrap(picked))
    picked = _running_index(raw, axis, largest)
    return result(op(input, picked=picked, axis=axis), _wrap(picked))


def cummax(input, dim: int) -> CummaxResult:
    """The running maximum along ``dim`` and where it was reached, ``torch.cummax``: ``(values, indices)``.

    values[i] = max_{j <= i} input[j]; of equal maxima the index is the latest, and a NaN becomes the
    maximum from there on (a later NaN takes the index), as PyTorch's. The values' gradient goes to the
    element at the index (one element, not shared); a tie is a kink. Raises IndexOutOfRange for a dim
    outside the tensor.
    """
    return _cumulative_extremum(_cummax, CummaxResult, input, dim, True)


def cummin(input, dim: int) -> CumminResult:
    """The running minimum along ``dim`` and where it was reached, ``torch.cummin``; ties and NaN as :func:`cummax`."""
    return _cumulative_extremum(_cummin, CumminResult, input, dim, False)


# --- logcumsumexp -------------------------------------------------------------------------------------


@primitive(name="logcumsumexp", saves=(0,), saves_output=True)
def _logcumsumexp(x, *, axis):
    if x.ndim == 0:
        return x.copy()
    return _accumulate("logaddexp", x, axis)


def _rev_logcumsumexp(v, axis):
    return _flip(_logcumsumexp(_flip(v, dims=(axis,)), axis=axis), dims=(axis,))


def _logcumsumexp_vjp(g, ans, x, axis):
    """dL/dx_j = sum_{i >= j} g_i exp(x_j - out_i) (a softmax over each prefix, transposed).

    In a plain backward the positive and negative parts of g are summed apart in log space, each as
    exp(x_j + a_j) with a = reversed logcumsumexp(log|g| - out) (PyTorch's scheme): finite for inputs
    of any range. Under create_graph=True the vjp must be differentiable in g also where g is 0 (log|g|
    is not), so it is the linear form exp(x - c) revcumsum(g exp(c - out)) with c the slice's last
    (largest) output: exact, but it overflows where the outputs of one slice span more than the
    dtype's exp range (about 700 in float64, 88 in float32).
    """
    if x.ndim == 0:
        return g
    if isinstance(g, Tensor):
        last = ans[(slice(None),) * axis + (slice(ans.shape[axis] - 1, None),)] if ans.shape[axis] else ans
        c = where(_raw(last) == -np.inf, 0, last).detach()
        return exp(x - c) * _rev_cumsum(g * exp(c - ans), axis)
    low = float(np.finfo(g.dtype).min) / 4  # log of an empty part: very negative, finite
    parts = []
    for sign, mask in ((1, g > 0), (-1, g < 0)):
        logs = where(mask, log(where(mask, g * sign, 1)), low)
        parts.append(exp(x + _rev_logcumsumexp(logs - ans, axis)))
    return parts[0] - parts[1]


_logcumsumexp.defvjp(_logcumsumexp_vjp)


def logcumsumexp(input, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along ``dim``, ``torch.logcumsumexp``: out_i = log sum_{j <= i} exp(x_j).

    Computed as a scan of logaddexp, so it is exact and finite for inputs of any magnitude (-1000 stays
    -1000, where exp underflows). d out_i / d x_j = exp(x_j - out_i) for j <= i (a softmax over the
    prefix). Floating-point input only: raises DTypeError otherwise, IndexOutOfRange for a dim
    outside the tensor.
    """
    axis = _scan_dim("logcumsumexp", input, dim)
    if input.dtype.kind != "f":
        raise DTypeError(f"logcumsumexp: needs a floating-point tensor, got dtype {input.dtype}; cast with .double()")
    return _logcumsumexp(input, axis=axis)


__all__ = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "CummaxResult", "CumminResult"]

"""Elementwise primitives: arithmetic with broadcasting, exp/log/..., activations.

Each forward works on backend arrays with NumPy's broadcasting and dtype
rules; each vjp is the local derivative times the cotangent ``g``, written
with minigrad ops so that it can itself be differentiated. Broadcast inputs
get their cotangent summed back to their shape by the primitive machinery.

Non-smooth ops (abs, relu, leaky_relu, clip, maximum, minimum, sign, div
with a rounding mode) declare a branch signature: which side of the kink each
element is on, or for piecewise-constant ops the step it is on. More pointwise
math (trigonometric, rounding, atan2, fmod, lerp, predicates) is in
:mod:`minigrad.ops.pointwise`.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..backend import xp_of
from ..errors import ArgumentError, DTypeError, ShapeError, public_op
from ..primitive import primitive
from ..tensor import Tensor


def _xp(*arrays):
    for a in arrays:
        if not isinstance(a, (int, float, bool, complex)):
            return xp_of(a)
    return np


# --- arithmetic ------------------------------------------------------------------


@primitive
def add(a, b):
    """a + b, with NumPy broadcasting. d/da = d/db = 1."""
    return a + b


add.defvjp(lambda g, ans, a, b: g, lambda g, ans, a, b: g)


@primitive
def sub(a, b):
    """a - b, with NumPy broadcasting. d/da = 1, d/db = -1."""
    return a - b


sub.defvjp(lambda g, ans, a, b: g, lambda g, ans, a, b: -g)


@primitive(saves=(0, 1))
def mul(a, b):
    """a * b, with NumPy broadcasting. d/da = b, d/db = a."""
    return a * b


mul.defvjp(lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a)


@primitive(name="div", saves=(1,), saves_output=True)
def true_divide(a, b):
    """a / b, with NumPy broadcasting. d/da = 1/b, d/db = -a/b^2 = -(a/b)/b."""
    return a / b


true_divide.defvjp(lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b)


def div(input, other, *, rounding_mode=None):
    """input / other with broadcasting, PyTorch's ``div``: true division, or rounded by ``rounding_mode``.

    ``rounding_mode=None`` is true division (d/dinput = 1/other, d/dother =
    -input/other^2). ``"trunc"`` rounds the quotient toward zero (C's integer
    division), ``"floor"`` toward minus infinity (Python's ``//``); integer
    inputs then give integers. The rounded quotient is piecewise constant: its
    gradient is zero, as PyTorch's, and it declares a kink wherever the
    quotient steps. Raises ArgumentError for another ``rounding_mode``.
    """
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ArgumentError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    return div_rounded(input, other, rounding_mode=rounding_mode)


@public_op("floor_divide")
def floor_divide(input, other):
    """input // other: the quotient rounded toward minus infinity (``div(..., rounding_mode="floor")``)."""
    return div_rounded(input, other, rounding_mode="floor")


def _rounded_quotient(a, b, rounding_mode):
    xp = _xp(a, b)
    floor = xp.floor_divide(a, b)  # Python's floor division, for floats too (PyTorch's div_floor)
    if rounding_mode == "floor":
        return floor
    kinds = {np.asarray(v).dtype.kind if not hasattr(v, "dtype") else v.dtype.kind for v in (a, b)}
    if "f" in kinds:
        return xp.trunc(a / b)  # PyTorch's trunc division of floats
    # integers: floor division is one below the truncated quotient where the division is inexact and negative
    return floor + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)))


def _quotient_step(a, b, rounding_mode):
    return _rounded_quotient(a, b, rounding_mode)


@primitive(signature=_quotient_step)
def div_rounded(a, b, *, rounding_mode):
    """a / b rounded toward zero (``rounding_mode="trunc"``) or minus infinity (``"floor"``); see :func:`div`.

    d/da = d/db = 0 (piecewise constant, as PyTorch); the branch signature is
    the rounded quotient itself, so a step crossed by gradcheck is a kink.
    """
    return _rounded_quotient(a, b, rounding_mode)


def zero_vjp(g, ans, *args, **params):
    """The cotangent of a piecewise-constant op: zeros of ``g``'s shape and dtype (PyTorch's ``zeros_like``).

    Under ``create_graph=True`` it is a constant tensor: its derivative is zero too.
    """
    if isinstance(g, Tensor):
        return Tensor._wrap(g.xp.zeros_like(g.array))
    return xp_of(g).zeros_like(g)


div_rounded.defvjp(zero_vjp, zero_vjp)


@primitive
def neg(x):
    """-x. d/dx = -1."""
    return -x


neg.defvjp(lambda g, ans, x: -g)


@primitive(saves=(0, 1), saves_output=True)
def pow(a, b):
    """a ** b, with NumPy broadcasting.

    d/da = b a^(b-1), taken as 0 where a == b == 0 (a^0 = 1 is constant, but
    the formula gives 0 * inf = nan there; PyTorch gives 0 too);
    d/db = a^b log a (defined for a > 0; 0 where a == 0 and the result is 0,
    as the limit of a^b log a).
    """
    return a**b


def _pow_vjp_base(g, ans, a, b):
    if isinstance(b, (int, float)):  # a constant exponent, as in x ** 2
        return g * b * a ** (b - 1) if b != 0 else g * 0
    grad = g * b * a ** (b - 1)
    return where(a == 0, where(b == 0, 0, grad), grad)  # masked only at a == b == 0: keeps d/db elsewhere


def _pow_vjp_exponent(g, ans, a, b):
    if isinstance(a, (int, float)):  # a constant base, as in 2 ** x
        return g * ans * math.log(a) if a > 0 else g * 0
    return g * ans * log(where(a > 0, a, 1))


pow.defvjp(_pow_vjp_base, _pow_vjp_exponent)


# --- smooth functions --------------------------------------------------------------


@primitive(saves_output=True)
def exp(x):
    """e^x. d/dx = e^x, so the vjp reuses the output."""
    return _xp(x).exp(x)


exp.defvjp(lambda g, ans, x: g * ans)


@primitive(saves=(0,))
def log(x):
    """Natural logarithm. d/dx = 1/x."""
    return _xp(x).log(x)


log.defvjp(lambda g, ans, x: g / x)


@primitive(saves_output=True)
def sqrt(x):
    """Square root. d/dx = 1 / (2 sqrt(x))."""
    return _xp(x).sqrt(x)


sqrt.defvjp(lambda g, ans, x: g / (ans * 2))


@primitive(saves_output=True)
def tanh(x):
    """Hyperbolic tangent. d/dx = 1 - tanh(x)^2."""
    return _xp(x).tanh(x)


tanh.defvjp(lambda g, ans, x: g * (1 - ans * ans))


@primitive(saves_output=True)
def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), computed without overflow. d/dx = s (1 - s).

    For x >= 0 it uses 1 / (1 + e^-x); for x < 0 the equal e^x / (1 + e^x), so
    that e^|x| never overflows.
    """
    xp = _xp(x)
    z = xp.exp(-xp.abs(x))
    return _keep_float_dtype(xp.where(x >= 0, 1 / (1 + z), z / (1 + z)), x)


sigmoid.defvjp(lambda g, ans, x: g * ans * (1 - ans))


def _keep_float_dtype(out, x):
    """``out`` in the dtype of a floating ``x``; integer and bool inputs keep NumPy's promotion
    (sigmoid of an int is a float, as ``np.exp``; clipping an int at 0.5 gives a float, as ``np.clip``)."""
    return out.astype(x.dtype, copy=False) if x.dtype.kind == "f" else out


# --- non-smooth functions (they declare branch signatures) ------------------------------


def _positive(x, *args, **kwargs):
    return x > 0


@primitive(saves=(0,), signature=_positive)
def abs(x):
    """|x|. d/dx = sign(x) (0 at x = 0, as PyTorch). Kink at 0."""
    return _xp(x).abs(x)


abs.defvjp(lambda g, ans, x: g * sign(x))


def _sign_step(x):
    return _xp(x).sign(x)


@primitive(signature=_sign_step)
def sign(x):
    """-1, 0 or 1 by the sign of x. d/dx = 0 (PyTorch's convention, also at the jump at 0, its kink)."""
    return _xp(x).sign(x)


sign.defvjp(zero_vjp)


@primitive(saves=(0,), signature=_positive)
def relu(x):
    """max(x, 0). d/dx = 1 where x > 0, else 0 (0 at the kink x = 0, as PyTorch).

    A large float result comes from the buffer pool (see :func:`minigrad.backend.empty`): a CNN makes one
    per layer and step.
    """
    xp = _xp(x)
    if x.dtype.kind == "f" and x.nbytes >= backend.POOL_MIN_BYTES:
        return xp.maximum(x, 0, out=backend.empty_like(x))
    return xp.maximum(x, 0).astype(x.dtype, copy=False)


@primitive(name="relu_grad", saves=(1,), signature=lambda g, x: x > 0)
def _relu_grad(g, x):
    """relu's vjp: g where x > 0, else 0. Linear in g; x only says on which side of the kink each element is
    (no gradient). A primitive rather than ``g * (x > 0)`` so that a large result and its mask come from
    the buffer pool, as relu's output does."""
    if g.nbytes < backend.POOL_MIN_BYTES or g.shape != x.shape:
        return g * (x > 0)
    xp = _xp(g)
    return xp.multiply(g, xp.greater(x, 0, out=backend.empty_like(x, bool)), out=backend.empty_like(g))


def _relu_vjp(g, ans, x):
    """g where x > 0. For a large cotangent the relu_grad primitive, whose result and mask come from the
    buffer pool; for a small one the plain product, where one more primitive call costs more than the
    arithmetic. Both work on arrays and tensors alike, so create_graph differentiates either."""
    if math.prod(g.shape) * g.dtype.itemsize >= backend.POOL_MIN_BYTES:
        return _relu_grad(g, x)
    return g * (x > 0)


relu.defvjp(_relu_vjp)
_relu_grad.defvjp(lambda gg, ans, g, x: _relu_grad(gg, x), None)


@primitive(saves=(0,), signature=_positive)
def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, else negative_slope * x. d/dx = 1 or negative_slope. Kink at 0."""
    return _keep_float_dtype(_xp(x).where(x > 0, x, x * negative_slope), x)


leaky_relu.defvjp(lambda g, ans, x, negative_slope=0.01: where(x > 0, g, g * negative_slope))


def _clip_side(x, min=None, max=None):
    side = np.int8(0) if min is None else (x >= min).astype(np.int8)
    return side if max is None else side + (x > max)


@primitive(name="clip", saves=(0,), signature=_clip_side)
def _clip(x, min=None, max=None):
    """Clamp to number bounds [min, max] (either may be None); see :func:`clip`. Kinks at min and max.

    d/dx = 1 where min <= x <= max, else 0 (PyTorch's convention at the bounds).
    """
    if min is None and max is None:
        raise ArgumentError("at least one of min and max must be given")
    xp = _xp(x)
    out = x
    if min is not None:
        out = xp.maximum(out, min)
    if max is not None:
        out = xp.minimum(out, max)
    return _keep_float_dtype(out, x)


def _clip_vjp(g, ans, x, min=None, max=None):
    if min is not None:
        g = where(x < min, 0, g)
    if max is not None:
        g = where(x > max, 0, g)
    return g


_clip.defvjp(_clip_vjp)


class _NoBound(float):
    """The bound :func:`clip` passes for a missing one next to a tensor bound: a number, so no input to record."""

    def __repr__(self) -> str:
        return "None"


_NO_BOUND = _NoBound("nan")


def _clamp_side(x, min, max):
    if max is _NO_BOUND:
        return (x >= min).astype(np.int8)
    if min is _NO_BOUND:
        return (x > max).astype(np.int8)
    return (x >= min).astype(np.int8) + (x > max) + 3 * (min > max)  # where min > max the output is max


@primitive(name="clamp", saves=(0, 1, 2), signature=_clamp_side)
def _clamp_tensors(x, min, max):
    """min(max(x, min), max) with tensor bounds, the three broadcast together; see :func:`clip`."""
    xp = _xp(x, min, max)
    out = x if min is _NO_BOUND else xp.maximum(x, min)
    return out if max is _NO_BOUND else xp.minimum(out, max)


def _clamp_vjp_x(g, ans, x, min, max):
    if min is not _NO_BOUND:
        g = where(x >= min, g, 0)
    if max is not _NO_BOUND:
        g = where(x <= max, g, 0)
    return g


def _clamp_vjp_min(g, ans, x, min, max):
    if max is _NO_BOUND:
        return where(x < min, g, 0)
    return where((x < min) & (min < max), g, 0)


def _clamp_vjp_max(g, ans, x, min, max):
    if min is _NO_BOUND:
        return where(x > max, g, 0)
    return where((x > max) | (max < min), g, 0)


_clamp_tensors.defvjp(_clamp_vjp_x, _clamp_vjp_min, _clamp_vjp_max)


def clip(input, min=None, max=None):
    """Clamp to [min, max], PyTorch's ``clamp``: ``minimum(maximum(input, min), max)``.

    Either bound may be None (not both); each is a number or a tensor that
    broadcasts with ``input``. Where min > max every element is max, as in
    PyTorch. Gradients follow PyTorch: ``input`` gets the cotangent where
    min <= input <= max (the bounds themselves included), a tensor ``min``
    where input < min (and min < max), a tensor ``max`` where input > max
    or max < min. Kinks at both bounds (and where min and max cross).

    With number bounds the result keeps a floating input's dtype; a tensor
    bound takes part in the promotion (float32 input, float64 bound: float64).
    Raises ArgumentError (naming the op ``clip``) when both bounds are None.
    """
    if isinstance(min, (int, float, type(None))) and isinstance(max, (int, float, type(None))):
        return _clip(input, min=min, max=max)
    return _clamp_tensors(input, _NO_BOUND if min is None else min, _NO_BOUND if max is None else max)


clamp = clip


def _greater(a, b):
    return a > b


@primitive(saves=(0, 1), signature=_greater)
def maximum(a, b):
    """Elementwise max(a, b). The gradient goes to the larger input; a tie splits it evenly."""
    return _xp(a, b).maximum(a, b)


@primitive(saves=(0, 1), signature=_greater)
def minimum(a, b):
    """Elementwise min(a, b). The gradient goes to the smaller input; a tie splits it evenly."""
    return _xp(a, b).minimum(a, b)


def _winner_gets(g, mine, other, wins):
    """g where this input wins, g/2 at a tie, 0 where it loses."""
    return where(wins(mine, other), g, where(mine == other, g * 0.5, 0))


maximum.defvjp(
    lambda g, ans, a, b: _winner_gets(g, a, b, _greater),
    lambda g, ans, a, b: _winner_gets(g, b, a, _greater),
)
minimum.defvjp(
    lambda g, ans, a, b: _winner_gets(g, a, b, _less),
    lambda g, ans, a, b: _winner_gets(g, b, a, _less),
)


def _less(a, b):
    return a < b


@primitive(saves=(0,))
def where(condition, x, y):
    """x where condition holds, else y (all three broadcast). The condition gets no gradient."""
    return _xp(condition, x, y).where(condition, x, y)


where.defvjp(
    None,
    lambda g, ans, c, x, y: where(c, g, 0),
    lambda g, ans, c, x, y: where(c, 0, g),
)


def masked_fill(x, mask, value):
    """``value`` where the boolean ``mask`` is True, else ``x``: PyTorch's ``masked_fill``.

    out = where(mask, value, x), with mask and x broadcast together (the
    result has their broadcast shape, as PyTorch's out-of-place masked_fill).
    ``value`` is a number or a 0-d tensor, cast to x's dtype (so filling an
    integer tensor with 1.7 gives 1, as PyTorch). d out / d x = 1 where the
    mask is False and 0 where it is True; a 0-d tensor ``value`` gets the
    sum of the cotangent over the masked elements.

    Raises DTypeError for a mask that is not bool or a value x's dtype cannot
    hold, ShapeError for a mask that does not broadcast with x or a value
    tensor that is not 0-d.
    """
    dtype = np.dtype(x.dtype)
    mask_dtype = mask.dtype if hasattr(mask, "dtype") else np.asarray(mask).dtype
    if mask_dtype != np.bool_:
        raise DTypeError(f"masked_fill: the mask must be a bool tensor, got dtype {mask_dtype}; compare, as x > 0")
    mask_shape = tuple(np.shape(mask) if not hasattr(mask, "shape") else mask.shape)
    try:
        np.broadcast_shapes(mask_shape, tuple(x.shape))
    except ValueError:
        raise ShapeError(
            f"masked_fill: the mask of shape {mask_shape} does not broadcast with the tensor's shape {tuple(x.shape)}"
        ) from None
    if isinstance(value, Tensor) or hasattr(value, "shape"):
        if value.ndim != 0:
            raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got shape {tuple(value.shape)}")
        if value.dtype != dtype:
            value = value.to(dtype=dtype) if isinstance(value, Tensor) else value.astype(dtype)
    else:
        try:
            value = dtype.type(value)  # a NumPy scalar of x's dtype: the result keeps x's dtype
        except (TypeError, ValueError, OverflowError) as exc:
            raise DTypeError(f"masked_fill: the value {value!r} does not fit the tensor's dtype {dtype}") from exc
    return where(mask, value, x)


# --- dtype and copies ---------------------------------------------------------


@primitive
def astype(x, *, dtype):
    """Cast to ``dtype``; the gradient is cast back to the input's dtype."""
    return x.astype(dtype)


astype.defvjp(lambda g, ans, x, dtype: astype(g, dtype=x.dtype))


@primitive
def clone(x):
    """A copy with its own buffer; the gradient passes through unchanged."""
    return x.copy()


clone.defvjp(lambda g, ans, x: g)


# --- comparisons (boolean results, no gradient) ----------------------------------------


def _logical(name, fn):
    op = primitive(fn, name=name, differentiable=False)
    op.__doc__ = f"Elementwise logical ``{name}`` of boolean tensors; not differentiable."
    return op


logical_and = _logical("logical_and", lambda a, b: a & b)
logical_or = _logical("logical_or", lambda a, b: a | b)
logical_xor = _logical("logical_xor", lambda a, b: a ^ b)


@primitive(differentiable=False)
def logical_not(x):
    """Elementwise logical not (``~x`` on bool tensors); not differentiable."""
    return ~x


def _comparison(name, fn):
    op = primitive(fn, name=name, differentiable=False)
    op.__doc__ = f"Elementwise ``{name}`` comparison with broadcasting; a bool tensor, not differentiable."
    return op


eq = _comparison("eq", lambda a, b: a == b)
ne = _comparison("ne", lambda a, b: a != b)
lt = _comparison("lt", lambda a, b: a < b)
le = _comparison("le", lambda a, b: a <= b)
gt = _comparison("gt", lambda a, b: a > b)
ge = _comparison("ge", lambda a, b: a >= b)

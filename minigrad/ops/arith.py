"""The arithmetic of issue #16 beyond the operators: PyTorch's ``add``/``sub`` with ``alpha``, ``rsub``,
``positive``, ``square``, ``reciprocal``, ``float_power``, ``addcmul``/``addcdiv``, and the in-place forms
of the pointwise ops (``x.exp_()``, ``x.pow_(2)``, ``torch.sigmoid_(x)``, ...).

Everything here is composed from the primitives of :mod:`minigrad.ops.elementwise` and
:mod:`minigrad.ops.pointwise` (gradients, second order and kinks come from them), except ``reciprocal``,
a primitive of its own so that an integer input becomes the default float dtype as in PyTorch.

The in-place forms go through :func:`minigrad.ops.selection._in_place`, the recorded path of
:mod:`minigrad.ops.inplace`: while recording, the out-of-place op is applied to a copy of the old value
and becomes the tensor's history; a leaf that requires grad is refused (GraphError); the version counter
goes up either way, so a node that saved the old value raises in backward. A result whose dtype cannot be
stored in the tensor (``int_tensor.exp_()``, float32 into int64) raises DTypeError, as PyTorch's
"result type Float can't be cast to the desired output type Long".
"""

from __future__ import annotations

import numpy as np

from ..errors import DTypeError, public_op
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise, pointwise
from .elementwise import _xp
from .selection import _in_place


def _kind(value) -> str:
    """The NumPy kind letter of a tensor, array or Python number ('b', 'i', 'u', 'f', 'c')."""
    if hasattr(value, "dtype"):
        return np.dtype(value.dtype).kind
    return np.asarray(value).dtype.kind


def _check_alpha(op: str, input, other, alpha) -> None:
    if _kind(input) in "biu" and _kind(other) in "biu" and isinstance(alpha, float):
        raise DTypeError(
            f"{op}: for integral input tensors, argument alpha must not be a floating point number, got {alpha}"
        )


def _scaled(other, alpha):
    if alpha == 1:
        return other
    if isinstance(other, (int, float, bool)):  # a Python number stays one: its dtype must not join the promotion
        return other * alpha
    return elementwise.mul(other, alpha)


def add(input, other, *, alpha=1) -> Tensor:
    """input + alpha * other, with broadcasting (PyTorch's ``add``; ``alpha=1`` is the ``+`` operator).

    d/dinput = 1, d/dother = alpha. Raises DTypeError for a float ``alpha`` with integer tensors (as PyTorch).
    """
    _check_alpha("add", input, other, alpha)
    return elementwise.add(input, _scaled(other, alpha))


def sub(input, other, *, alpha=1) -> Tensor:
    """input - alpha * other, with broadcasting (PyTorch's ``sub``/``subtract``).

    d/dinput = 1, d/dother = -alpha. Raises DTypeError for bool tensors (PyTorch: use ``^``/``logical_xor``)
    and for a float ``alpha`` with integer tensors.
    """
    if _kind(input) == "b" and _kind(other) == "b":
        raise DTypeError("sub: subtraction of two bool tensors is not supported; use ^ or logical_xor")
    _check_alpha("sub", input, other, alpha)
    return elementwise.sub(input, _scaled(other, alpha))


subtract = sub


@public_op("rsub")
def rsub(input, other, *, alpha=1) -> Tensor:
    """other - alpha * input: :func:`sub` with the operands swapped (PyTorch's ``torch.rsub``)."""
    if _kind(input) == "b" and _kind(other) == "b":
        raise DTypeError("rsub: subtraction of two bool tensors is not supported; use ^ or logical_xor")
    _check_alpha("rsub", input, other, alpha)
    return elementwise.sub(other, _scaled(input, alpha))


def positive(input: Tensor) -> Tensor:
    """``+input``: the tensor itself (PyTorch returns ``input``, not a copy). Raises DTypeError for bool."""
    if input.dtype == np.bool_:
        raise DTypeError("positive: the + operator on a bool tensor is not supported")
    return input


def negative(input: Tensor) -> Tensor:
    """-input (PyTorch's ``neg``/``negative``). d/dinput = -1. Raises DTypeError for bool (use ``~``)."""
    if input.dtype == np.bool_:
        raise DTypeError("neg: negation of a bool tensor is not supported; use ~ or logical_not to invert a mask")
    return elementwise.neg(input)


def square(input) -> Tensor:
    """input * input; integers stay integers, bool becomes int64 (PyTorch's). d/dinput = 2 input."""
    if _kind(input) == "b":
        input = elementwise.astype(input, dtype=np.int64)
    return elementwise.mul(input, input)


@primitive(saves_output=True)
def reciprocal(x):
    """1 / x; integer and bool inputs give the default float dtype (float32), as PyTorch.

    d/dx = -1/x^2 = -out^2, from the output.
    """
    (x,) = pointwise._floating(x)
    return _xp(x).reciprocal(x)


reciprocal.defvjp(lambda g, ans, x: -g * ans * ans)


@public_op("float_power")
def float_power(input, exponent) -> Tensor:
    """input ** exponent computed in float64 (PyTorch's ``float_power``: the result is always double).

    The gradients are pow's, cast back to each input's dtype.
    """
    base = _as_double(input)
    power = _as_double(exponent)
    return elementwise.pow(base, power)


def _as_double(value):
    if isinstance(value, Tensor) or hasattr(value, "dtype"):
        return value if value.dtype == np.float64 else elementwise.astype(value, dtype=np.float64)
    return float(value)


@public_op("addcmul")
def addcmul(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 * tensor2, all three broadcast (PyTorch's ``addcmul``; Adam's moments use it).

    d/dinput = 1, d/dtensor1 = value tensor2, d/dtensor2 = value tensor1.
    """
    _check_alpha("addcmul", input, tensor1, value)
    return elementwise.add(input, _scaled(elementwise.mul(tensor1, tensor2), value))


@public_op("addcdiv")
def addcdiv(input, tensor1, tensor2, *, value=1) -> Tensor:
    """input + value * tensor1 / tensor2, all three broadcast (PyTorch's ``addcdiv``).

    Raises DTypeError when tensor1 and tensor2 are both integers (PyTorch: integer division with addcdiv is
    no longer supported).
    """
    if _kind(tensor1) in "biu" and _kind(tensor2) in "biu":
        raise DTypeError(
            "addcdiv: integer division of tensor1 by tensor2 is not supported; cast them to a floating dtype"
        )
    return elementwise.add(input, _scaled(elementwise.true_divide(tensor1, tensor2), value))


# --- in place: x.op_() is x = op(x), recorded as minigrad.ops.inplace does it ---------------------------


def _unary_inplace(name: str, op, what: str):
    def method(input: Tensor) -> Tensor:
        return _in_place(name, input, op)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"In place ``{what}``: ``input = {what}(input)``; the version goes up, recorded while recording."
        "\n\nRaises GraphError for a leaf that requires grad (while recording) and DTypeError when the result's "
        "dtype does not fit the tensor's (an integer tensor and a float result)."
    )
    method.__module__ = __name__
    return method


abs_ = _unary_inplace("abs_", elementwise.abs, "abs")
neg_ = _unary_inplace("neg_", negative, "neg")
negative_ = _unary_inplace("negative_", negative, "negative")
exp_ = _unary_inplace("exp_", elementwise.exp, "exp")
log_ = _unary_inplace("log_", elementwise.log, "log")
sqrt_ = _unary_inplace("sqrt_", elementwise.sqrt, "sqrt")
tanh_ = _unary_inplace("tanh_", elementwise.tanh, "tanh")
sigmoid_ = _unary_inplace("sigmoid_", elementwise.sigmoid, "sigmoid")
sign_ = _unary_inplace("sign_", elementwise.sign, "sign")
exp2_ = _unary_inplace("exp2_", pointwise.exp2, "exp2")
expm1_ = _unary_inplace("expm1_", pointwise.expm1, "expm1")
log2_ = _unary_inplace("log2_", pointwise.log2, "log2")
log10_ = _unary_inplace("log10_", pointwise.log10, "log10")
log1p_ = _unary_inplace("log1p_", pointwise.log1p, "log1p")
rsqrt_ = _unary_inplace("rsqrt_", pointwise.rsqrt, "rsqrt")
sin_ = _unary_inplace("sin_", pointwise.sin, "sin")
cos_ = _unary_inplace("cos_", pointwise.cos, "cos")
tan_ = _unary_inplace("tan_", pointwise.tan, "tan")
asin_ = _unary_inplace("asin_", pointwise.asin, "asin")
acos_ = _unary_inplace("acos_", pointwise.acos, "acos")
atan_ = _unary_inplace("atan_", pointwise.atan, "atan")
sinh_ = _unary_inplace("sinh_", pointwise.sinh, "sinh")
cosh_ = _unary_inplace("cosh_", pointwise.cosh, "cosh")
asinh_ = _unary_inplace("asinh_", pointwise.asinh, "asinh")
acosh_ = _unary_inplace("acosh_", pointwise.acosh, "acosh")
atanh_ = _unary_inplace("atanh_", pointwise.atanh, "atanh")
arcsin_ = _unary_inplace("arcsin_", pointwise.asin, "arcsin")
arccos_ = _unary_inplace("arccos_", pointwise.acos, "arccos")
arctan_ = _unary_inplace("arctan_", pointwise.atan, "arctan")
arcsinh_ = _unary_inplace("arcsinh_", pointwise.asinh, "arcsinh")
arccosh_ = _unary_inplace("arccosh_", pointwise.acosh, "arccosh")
arctanh_ = _unary_inplace("arctanh_", pointwise.atanh, "arctanh")
erf_ = _unary_inplace("erf_", pointwise.erf, "erf")
floor_ = _unary_inplace("floor_", pointwise.floor, "floor")
ceil_ = _unary_inplace("ceil_", pointwise.ceil, "ceil")
trunc_ = _unary_inplace("trunc_", pointwise.trunc, "trunc")
fix_ = _unary_inplace("fix_", pointwise.trunc, "fix")
reciprocal_ = _unary_inplace("reciprocal_", reciprocal, "reciprocal")
square_ = _unary_inplace("square_", square, "square")
relu_ = _unary_inplace("relu_", elementwise.relu, "relu")


def round_(input: Tensor, *, decimals: int = 0) -> Tensor:
    """In place ``round(input, decimals=decimals)`` (halves to even); see :func:`minigrad.round`."""
    return _in_place("round_", input, lambda s: pointwise.round(s, decimals=decimals))


def pow_(input: Tensor, exponent) -> Tensor:
    """In place ``input ** exponent`` (a number or a tensor that broadcasts to input's shape)."""
    return _in_place("pow_", input, elementwise.pow, exponent)


def float_power_(input: Tensor, exponent) -> Tensor:
    """In place :func:`float_power`; the tensor must be float64 (PyTorch: the result requires dtype Double)."""
    if input.dtype != np.float64:
        raise DTypeError(f"float_power_: the base has dtype {input.dtype} but the operation's result requires float64")
    return _in_place("float_power_", input, float_power, exponent)


def subtract_(input: Tensor, other, *, alpha=1) -> Tensor:
    """In place ``input - alpha * other`` (PyTorch's alias of ``sub_``)."""
    return _in_place("subtract_", input, lambda s, o: sub(s, o, alpha=alpha), other)


def true_divide_(input: Tensor, other) -> Tensor:
    """In place ``input / other`` (true division: an integer tensor raises DTypeError, as PyTorch)."""
    return _in_place("true_divide_", input, elementwise.true_divide, other)


def divide_(input: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    """In place :func:`minigrad.div` with its ``rounding_mode`` (None, ``"trunc"`` or ``"floor"``)."""
    return _in_place("divide_", input, lambda s, o: elementwise.div(s, o, rounding_mode=rounding_mode), other)


def multiply_(input: Tensor, other) -> Tensor:
    """In place ``input * other`` (PyTorch's alias of ``mul_``)."""
    return _in_place("multiply_", input, elementwise.mul, other)


def floor_divide_(input: Tensor, other) -> Tensor:
    """In place ``input // other`` (the quotient rounded toward minus infinity)."""
    return _in_place("floor_divide_", input, elementwise.floor_divide, other)


def fmod_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.fmod` (C's remainder, the sign of input)."""
    return _in_place("fmod_", input, pointwise.fmod, other)


def remainder_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.remainder` (Python's ``%``, the sign of other)."""
    return _in_place("remainder_", input, pointwise.remainder, other)


def atan2_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.atan2`: input becomes the angle of the point (other, input)."""
    return _in_place("atan2_", input, pointwise.atan2, other)


def arctan2_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.atan2` (PyTorch's alias ``arctan2_``)."""
    return _in_place("arctan2_", input, pointwise.atan2, other)


def copysign_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.copysign`: |input| with the sign of other."""
    return _in_place("copysign_", input, pointwise.copysign, other)


def hypot_(input: Tensor, other) -> Tensor:
    """In place :func:`minigrad.hypot`: sqrt(input^2 + other^2)."""
    return _in_place("hypot_", input, pointwise.hypot, other)


def lerp_(input: Tensor, end, weight) -> Tensor:
    """In place :func:`minigrad.lerp`: input + weight (end - input)."""
    return _in_place("lerp_", input, pointwise.lerp, end, weight)


def addcmul_(input: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    """In place :func:`addcmul`: input += value * tensor1 * tensor2."""
    return _in_place("addcmul_", input, lambda s, a, b: addcmul(s, a, b, value=value), tensor1, tensor2)


def addcdiv_(input: Tensor, tensor1, tensor2, *, value=1) -> Tensor:
    """In place :func:`addcdiv`: input += value * tensor1 / tensor2."""
    return _in_place("addcdiv_", input, lambda s, a, b: addcdiv(s, a, b, value=value), tensor1, tensor2)

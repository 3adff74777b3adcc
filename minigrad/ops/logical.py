"""Logical, bitwise and comparison ops of issue #16, with PyTorch's names: ``logical_and/or/xor/not``,
``bitwise_and/or/xor/not/left_shift/right_shift``, the comparison aliases (``greater``, ``less_equal``,
``not_equal``, ...), ``equal``, ``isin``, ``isposinf``/``isneginf``/``isreal``/``signbit``, the dtype
predicates (``is_floating_point``, ``is_signed``, ...) and the in-place forms (``x.eq_(y)``,
``mask.logical_and_(other)``, ``bits.bitwise_xor_(k)``).

None of them is differentiable: their results are booleans or integers. PyTorch's rules:

- ``logical_*`` read any dtype as "nonzero is True" and give bool (``logical_and`` of 3 and 4 is True);
- ``bitwise_*`` take integer and bool tensors only (DTypeError for floats); shifts of signed integers are
  arithmetic (``-8 >> 1 == -4``);
- an in-place comparison or logical op writes 1 / 0 in the tensor's own dtype
  (``float_tensor.eq_(y)`` holds 1.0 and 0.0).

The in-place forms write a constant: while recording, the tensor leaves the graph (as ``fill_`` does;
PyTorch keeps ``requires_grad`` with an all-zero gradient instead, a gradient that says nothing), a leaf
that requires grad is refused, and the version goes up.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import DeviceError, DTypeError, ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise
from .elementwise import _xp
from .inplace import _overwrite

# --- logical: nonzero is True, the result is bool -------------------------------------------------------


@primitive(differentiable=False)
def logical_and(input, other):
    """True where both input and other are nonzero (any dtypes, broadcast); a bool tensor."""
    return _xp(input, other).logical_and(input, other)


@primitive(differentiable=False)
def logical_or(input, other):
    """True where input or other is nonzero (any dtypes, broadcast); a bool tensor."""
    return _xp(input, other).logical_or(input, other)


@primitive(differentiable=False)
def logical_xor(input, other):
    """True where exactly one of input and other is nonzero (any dtypes, broadcast); a bool tensor."""
    return _xp(input, other).logical_xor(input, other)


@primitive(differentiable=False)
def logical_not(input):
    """True where input is zero (any dtype); a bool tensor."""
    return _xp(input).logical_not(input)


# --- bitwise: integer and bool tensors only -----------------------------------------------------------


def _integral(op: str, *args) -> None:
    for a in args:
        kind = a.dtype.kind if hasattr(a, "dtype") else np.asarray(a).dtype.kind
        if kind not in "biu":
            dtype = a.dtype if hasattr(a, "dtype") else type(a).__name__
            raise DTypeError(f"{op}: takes integer and bool tensors only, got {dtype}")


def _bitwise(name: str, ufunc: str, what: str):
    @primitive(name=name, differentiable=False)
    def op(input, other):
        _integral(name, input, other)
        return getattr(_xp(input, other), ufunc)(input, other)

    op.__doc__ = f"{what} of integer or bool tensors (broadcast); DTypeError for floating-point inputs."
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and", "Elementwise bitwise AND (``&``)")
bitwise_or = _bitwise("bitwise_or", "bitwise_or", "Elementwise bitwise OR (``|``)")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor", "Elementwise bitwise XOR (``^``)")
bitwise_left_shift = _bitwise(
    "bitwise_left_shift", "left_shift", "input shifted left by other bits, input * 2**other (``<<``)"
)
bitwise_right_shift = _bitwise(
    "bitwise_right_shift",
    "right_shift",
    "input shifted right by other bits, arithmetic for signed integers: floor(input / 2**other) (``>>``)",
)


@primitive(differentiable=False)
def bitwise_not(input):
    """Elementwise bitwise NOT (``~``): -x - 1 for integers, logical not for bool; DTypeError for floats."""
    _integral("bitwise_not", input)
    return _xp(input).invert(input)


# --- comparisons under PyTorch's other names -----------------------------------------------------------

greater = elementwise.gt
greater_equal = elementwise.ge
less = elementwise.lt
less_equal = elementwise.le
not_equal = elementwise.ne


def _array(value):
    return value.array if isinstance(value, Tensor) else value


def equal(input: Tensor, other: Tensor) -> bool:
    """True when input and other have the same shape and the same values (a Python bool, ``torch.equal``).

    Dtypes may differ (``equal(tensor([1.]), tensor([1]))`` is True); a NaN is equal to nothing.
    """
    a, b = _array(input), _array(other)
    if tuple(a.shape) != tuple(b.shape):
        return False
    return bool(_xp(a, b).all(a == b))


@primitive(name="isin", differentiable=False)
def _isin(elements, test_elements, *, assume_unique, invert):
    xp = _xp(elements, test_elements)
    return xp.isin(elements, test_elements, assume_unique=assume_unique, invert=invert)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """True where an element of ``elements`` is in ``test_elements`` (a tensor or a number); a bool tensor
    of elements' shape. ``invert=True`` gives the opposite (``not in``). Not differentiable."""
    return _isin(elements, test_elements, assume_unique=assume_unique, invert=invert)


@primitive(differentiable=False)
def isposinf(input):
    """True where input is +inf; a bool tensor."""
    return _xp(input).isposinf(input) if input.dtype.kind == "f" else _xp(input).zeros(input.shape, dtype=bool)


@primitive(differentiable=False)
def isneginf(input):
    """True where input is -inf; a bool tensor."""
    return _xp(input).isneginf(input) if input.dtype.kind == "f" else _xp(input).zeros(input.shape, dtype=bool)


@primitive(differentiable=False)
def isreal(input):
    """True where input has no imaginary part: everywhere, for minigrad's real dtypes; a bool tensor."""
    return _xp(input).ones(input.shape, dtype=bool)


@primitive(differentiable=False)
def signbit(input):
    """True where the sign bit of input is set (negative numbers and -0.0); a bool tensor."""
    return _xp(input).signbit(input)


# --- Python-valued predicates ------------------------------------------------------------------------------


def is_nonzero(input: Tensor) -> bool:
    """Whether the single element of input is nonzero (``torch.is_nonzero``).

    Raises ShapeError for a tensor with no element or more than one (their truth value is ambiguous).
    """
    if input.numel() != 1:
        count = "no values" if input.numel() == 0 else "more than one value"
        raise ShapeError(f"is_nonzero: Boolean value of Tensor with {count} is ambiguous (shape {input.shape})")
    return bool(input.array.reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether input and other have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_floating_point(input: Tensor) -> bool:
    """Whether input's dtype is floating point (float16, float32, float64)."""
    return np.dtype(input.dtype).kind == "f"


def is_complex(input: Tensor) -> bool:
    """Whether input's dtype is complex (never, for minigrad's dtypes)."""
    return np.dtype(input.dtype).kind == "c"


def is_signed(input: Tensor) -> bool:
    """Whether input's dtype is signed: floats and signed integers (not uint8, not bool)."""
    return np.dtype(input.dtype).kind in "fic"


# --- in place: the result written as constants in self's dtype ------------------------------------------


def _constant_in_place(op: str, self: Tensor, fn, *others) -> Tensor:
    """``self = fn(self, *others)`` for a non-differentiable ``fn``, in self's dtype; see the module docstring."""
    if not isinstance(self, Tensor):
        raise DTypeError(f"{op}: an in-place op needs a tensor, got {type(self).__name__}")
    for o in others:
        if isinstance(o, Tensor) and backend.device_of(o.array) != self.device:
            raise DeviceError(f"{op}: tensor on {self.device} cannot be updated from {o.device}")
    result = fn(self, *others).array
    if tuple(result.shape) != tuple(self.shape):
        raise ShapeError(
            f"{op}: the result has shape {tuple(result.shape)}, which does not fit the tensor's {self.shape}"
        )
    if result.dtype != self.dtype and not self.xp.can_cast(result.dtype, self.dtype, casting="same_kind"):
        raise DTypeError(f"{op}: result dtype {result.dtype} cannot be stored in a tensor of dtype {self.dtype}")

    def write(data):
        data[...] = result

    return _overwrite(op, self, write)


def _inplace_binary(name: str, op, what: str):
    def method(input: Tensor, other) -> Tensor:
        return _constant_in_place(name, input, op, other)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"In place ``{what}``: input becomes {what}(input, other), as 1 / 0 (or the integer result) in "
        "input's dtype; a constant, so input leaves the graph. GraphError for a leaf that requires grad "
        "(while recording), DTypeError for a result its dtype cannot hold."
    )
    method.__module__ = __name__
    return method


def _inplace_unary(name: str, op, what: str):
    def method(input: Tensor) -> Tensor:
        return _constant_in_place(name, input, op)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = (
        f"In place ``{what}``: input becomes {what}(input) in its own dtype; a constant, so input leaves the "
        "graph. GraphError for a leaf that requires grad (while recording)."
    )
    method.__module__ = __name__
    return method


eq_ = _inplace_binary("eq_", elementwise.eq, "eq")
ne_ = _inplace_binary("ne_", elementwise.ne, "ne")
lt_ = _inplace_binary("lt_", elementwise.lt, "lt")
le_ = _inplace_binary("le_", elementwise.le, "le")
gt_ = _inplace_binary("gt_", elementwise.gt, "gt")
ge_ = _inplace_binary("ge_", elementwise.ge, "ge")
greater_ = _inplace_binary("greater_", elementwise.gt, "greater")
greater_equal_ = _inplace_binary("greater_equal_", elementwise.ge, "greater_equal")
less_ = _inplace_binary("less_", elementwise.lt, "less")
less_equal_ = _inplace_binary("less_equal_", elementwise.le, "less_equal")
not_equal_ = _inplace_binary("not_equal_", elementwise.ne, "not_equal")
logical_and_ = _inplace_binary("logical_and_", logical_and, "logical_and")
logical_or_ = _inplace_binary("logical_or_", logical_or, "logical_or")
logical_xor_ = _inplace_binary("logical_xor_", logical_xor, "logical_xor")
logical_not_ = _inplace_unary("logical_not_", logical_not, "logical_not")
bitwise_and_ = _inplace_binary("bitwise_and_", bitwise_and, "bitwise_and")
bitwise_or_ = _inplace_binary("bitwise_or_", bitwise_or, "bitwise_or")
bitwise_xor_ = _inplace_binary("bitwise_xor_", bitwise_xor, "bitwise_xor")
bitwise_left_shift_ = _inplace_binary("bitwise_left_shift_", bitwise_left_shift, "bitwise_left_shift")
bitwise_right_shift_ = _inplace_binary("bitwise_right_shift_", bitwise_right_shift, "bitwise_right_shift")
bitwise_not_ = _inplace_unary("bitwise_not_", bitwise_not, "bitwise_not")

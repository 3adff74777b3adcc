"""Floating-point and integer helpers of issue #16: ``frac``, ``sgn``, ``heaviside``, ``fmax``/``fmin``,
``nextafter``, ``ldexp``, ``frexp``, ``gcd``/``lcm``, ``deg2rad``/``rad2deg``, ``nan_to_num``, and the
in-place forms.

Gradients follow PyTorch's conventions (checked against torch 2.13):

- ``frac(x) = x - trunc(x)``: d/dx = 1, a jump at every nonzero integer (declared kink);
- ``fmax``/``fmin``: NaN-ignoring max/min; the gradient goes to the chosen operand, on a tie all of it to
  ``input`` (PyTorch's masks: fmax's input gets it where input >= other or other is NaN, fmin's where
  input <= other or other is NaN; unlike maximum, which splits a tie). The switch is a declared kink;
- ``nextafter(x, y)``: d/dx = 1, d/dy = 0 (PyTorch's);
- ``nan_to_num``: d/dx = 1 at finite entries, 0 at the replaced NaN and infinities;
- ``ldexp``, ``deg2rad``, ``rad2deg``: products, differentiated as such;
- ``heaviside``, ``frexp``, ``gcd``, ``lcm``, ``sgn`` of integers: no gradient (PyTorch has none, or zero).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from ..errors import DTypeError
from ..primitive import primitive
from ..tensor import Tensor
from . import elementwise, pointwise
from .elementwise import _xp, where, zero_vjp
from .pointwise import _floating
from .selection import _in_place

FrexpResult = namedtuple("frexp", ["mantissa", "exponent"])
FrexpResult.__doc__ = "What ``frexp`` returns, as PyTorch's ``torch.return_types.frexp``: (mantissa, exponent)."


def _kind(a):
    return a.dtype.kind if hasattr(a, "dtype") else np.asarray(a).dtype.kind


@primitive(signature=lambda x: _xp(x).trunc(x))
def frac(x):
    """The fractional part x - trunc(x), with the sign of x. d/dx = 1 (PyTorch's); a jump at every nonzero
    integer (a declared kink). Raises DTypeError for integer tensors (as PyTorch)."""
    if x.dtype.kind != "f":
        raise DTypeError(f"frac: takes floating-point tensors only, got {x.dtype}")
    xp = _xp(x)
    return x - xp.trunc(x)


frac.defvjp(lambda g, ans, x: g)


def sgn(input) -> Tensor:
    """The sign of input (-1, 0 or 1; PyTorch's ``sgn``, which is ``sign`` for real tensors). d/dx = 0."""
    return elementwise.sign(input)


def heaviside(input, values) -> Tensor:
    """The Heaviside step: 0 where input < 0, ``values`` where input == 0, 1 where input > 0.

    ``values`` is a tensor (broadcast; PyTorch takes no number here). Not differentiable (PyTorch: "derivative
    for heaviside is not implemented"). Raises DTypeError for a number ``values``.
    """
    if not isinstance(values, Tensor):
        raise DTypeError(f"heaviside: values must be a tensor, not {type(values).__name__}")
    return _heaviside(input, values)


@primitive(name="heaviside", differentiable=False)
def _heaviside(input, values):
    xp = _xp(input, values)
    dtype = np.result_type(input.dtype, values.dtype)
    out = xp.where(input > 0, 1, xp.where(input == 0, values, 0)).astype(dtype, copy=False)
    return xp.where(xp.isnan(input), input, out) if input.dtype.kind == "f" else out


def _fmax_side(a, b):
    xp = _xp(a, b)
    return ((a >= b) | xp.isnan(b)).astype(np.int8)


def _fmin_side(a, b):
    xp = _xp(a, b)
    return ((a <= b) | xp.isnan(b)).astype(np.int8)


@primitive(saves=(0, 1), signature=_fmax_side)
def fmax(input, other):
    """The larger of input and other, ignoring NaN (NaN only where both are NaN), broadcast.

    The gradient goes to input where input >= other or other is NaN, else to other (a tie: all to input,
    as PyTorch's). A declared kink where they cross.
    """
    a, b = _floating_pair(input, other)
    return _xp(a, b).fmax(a, b)


@primitive(saves=(0, 1), signature=_fmin_side)
def fmin(input, other):
    """The smaller of input and other, ignoring NaN (NaN only where both are NaN), broadcast.

    The gradient goes to input where input <= other or other is NaN, else to other (a tie: all to input,
    as PyTorch's). A declared kink where they cross.
    """
    a, b = _floating_pair(input, other)
    return _xp(a, b).fmin(a, b)


def _floating_pair(a, b):
    """Integers next to a floating operand take its dtype (PyTorch's promotion); two integers stay integers."""
    if _kind(a) == "f" or _kind(b) == "f":
        return _floating(a, b)
    return a, b


def _mask_grad(g, mask):
    return where(mask, g, 0.0)


def _nan_of(x):
    return x != x  # NaN is the only value not equal to itself (arrays and tensors alike)


fmax.defvjp(
    lambda g, ans, a, b: _mask_grad(g, (a >= b) | _nan_of(b)),
    lambda g, ans, a, b: _mask_grad(g, ~((a >= b) | _nan_of(b))),
)
fmin.defvjp(
    lambda g, ans, a, b: _mask_grad(g, (a <= b) | _nan_of(b)),
    lambda g, ans, a, b: _mask_grad(g, ~((a <= b) | _nan_of(b))),
)


@primitive
def nextafter(input, other):
    """The next floating-point value after input in the direction of other (input's dtype).

    d/dinput = 1, d/dother = 0 (PyTorch's). Raises DTypeError for integer tensors.
    """
    if _kind(input) != "f":
        raise DTypeError(f"nextafter: takes floating-point tensors, got {getattr(input, 'dtype', type(input))}")
    xp = _xp(input, other)
    return xp.nextafter(input, xp.asarray(other, dtype=input.dtype) if not hasattr(other, "dtype") else other)


nextafter.defvjp(lambda g, ans, a, b: g, zero_vjp)


def ldexp(input, other) -> Tensor:
    """input * 2^other (``torch.ldexp``; integers give float32). d/dinput = 2^other, d/dother = out ln 2."""
    return elementwise.mul(_float_tensor(input), pointwise.exp2(other))


def _float_tensor(x):
    if isinstance(x, Tensor) and x.dtype.kind in "biu":
        from ..tensor import get_default_dtype

        return elementwise.astype(x, dtype=get_default_dtype())
    return x


def deg2rad(input) -> Tensor:
    """Degrees to radians: input * pi / 180 (integers give float32). d/dinput = pi / 180."""
    return elementwise.mul(_float_tensor(input), math.pi / 180)


def rad2deg(input) -> Tensor:
    """Radians to degrees: input * 180 / pi (integers give float32). d/dinput = 180 / pi."""
    return elementwise.mul(_float_tensor(input), 180 / math.pi)


@primitive(name="frexp_mantissa", differentiable=False)
def _frexp(x):
    return _xp(x).frexp(x)[0]


def frexp(input: Tensor) -> FrexpResult:
    """``(mantissa, exponent)`` with input = mantissa * 2^exponent and 0.5 <= |mantissa| < 1 (0 for 0);
    the exponent is int32 (``torch.frexp``). Not differentiable. Raises DTypeError for integer tensors."""
    if input.dtype.kind != "f":
        raise DTypeError(f"frexp: only supports floating-point dtypes, got {input.dtype}")
    xp = input.xp
    mantissa, exponent = xp.frexp(input.array)  # NumPy scalars for a 0-d input: made arrays again
    return FrexpResult(Tensor._wrap(xp.asarray(mantissa)), Tensor._wrap(xp.asarray(exponent).astype(np.int32)))


def _integers(op, *args):
    for a in args:
        if _kind(a) not in "biu":
            raise DTypeError(f"{op}: takes integer tensors only, got {getattr(a, 'dtype', type(a).__name__)}")


@primitive(differentiable=False)
def gcd(input, other):
    """The greatest common divisor of integer tensors (nonnegative; gcd(0, 0) = 0). DTypeError for floats."""
    _integers("gcd", input, other)
    return _xp(input, other).gcd(input, other)


@primitive(differentiable=False)
def lcm(input, other):
    """The least common multiple of integer tensors (nonnegative; 0 if either is 0). DTypeError for floats."""
    _integers("lcm", input, other)
    return _xp(input, other).lcm(input, other)


@primitive(name="nan_to_num", saves=(0,))
def _nan_to_num(x, *, nan=0.0, posinf=None, neginf=None):
    if x.dtype.kind != "f":
        return x.copy()
    xp = _xp(x)
    info = np.finfo(x.dtype)
    big = info.max if posinf is None else posinf
    small = info.min if neginf is None else neginf
    out = xp.where(xp.isnan(x), x.dtype.type(nan), x)
    out = xp.where(xp.isposinf(x), x.dtype.type(big), out)
    return xp.where(xp.isneginf(x), x.dtype.type(small), out).astype(x.dtype, copy=False)


_nan_to_num.defvjp(lambda g, ans, x, nan=0.0, posinf=None, neginf=None: where(pointwise.isfinite(x), g, 0.0))


def nan_to_num(input, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN replaced by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (by default the dtype's largest and
    smallest finite values), as ``torch.nan_to_num``. Integer tensors come back unchanged (a copy).
    d/dinput = 1 at finite entries, 0 at the replaced ones."""
    return _nan_to_num(input, nan=nan, posinf=posinf, neginf=neginf)


# --- in place -------------------------------------------------------------------------------------------------


def frac_(input: Tensor) -> Tensor:
    """In place :func:`frac`."""
    return _in_place("frac_", input, frac)


def sgn_(input: Tensor) -> Tensor:
    """In place :func:`sgn`."""
    return _in_place("sgn_", input, sgn)


def heaviside_(input: Tensor, values: Tensor) -> Tensor:
    """In place :func:`heaviside`; input becomes a constant."""
    from .logical import _constant_in_place

    return _constant_in_place("heaviside_", input, heaviside, values)


def nextafter_(input: Tensor, other) -> Tensor:
    """In place :func:`nextafter`."""
    return _in_place("nextafter_", input, nextafter, other)


def ldexp_(input: Tensor, other) -> Tensor:
    """In place :func:`ldexp`: input *= 2^other."""
    return _in_place("ldexp_", input, ldexp, other)


def gcd_(input: Tensor, other) -> Tensor:
    """In place :func:`gcd`."""
    from .logical import _constant_in_place

    return _constant_in_place("gcd_", input, gcd, other)


def lcm_(input: Tensor, other) -> Tensor:
    """In place :func:`lcm`."""
    from .logical import _constant_in_place

    return _constant_in_place("lcm_", input, lcm, other)


def deg2rad_(input: Tensor) -> Tensor:
    """In place :func:`deg2rad`."""
    return _in_place("deg2rad_", input, deg2rad)


def rad2deg_(input: Tensor) -> Tensor:
    """In place :func:`rad2deg`."""
    return _in_place("rad2deg_", input, rad2deg)


def nan_to_num_(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """In place :func:`nan_to_num`."""
    return _in_place("nan_to_num_", input, lambda s: nan_to_num(s, nan, posinf, neginf))

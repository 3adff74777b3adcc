"""The op table: one record per differentiable primitive, read by the generic tests of test_optable.py.

A record says everything the generic checks need to know about one op, in
one place (Chainer's ``check_backward`` / ``check_double_backward`` are the
model: one harness, every op fed through it):

- ``primitive``: the :class:`~minigrad.primitive.Primitive` it describes
  (its ``name`` is the record's key, its ``saves`` and ``signature`` what the
  generic tests hold it to);
- ``call(*tensors, **params)``: the op as users reach it, returning the
  primitive's own output; ``positions`` maps each tensor argument to the
  primitive's input it becomes (None: it reaches the primitive through
  another primitive that saves nothing, as conv2d's input through im2col);
- ``spellings``: other public spellings with the same arguments (operators,
  methods, PyTorch's ``dim=``), each compared with NumPy in the forward test
  and drawn at random in the gradient test;
- ``reference(*arrays, **params)``: the NumPy result;
- ``case``: a hypothesis strategy for a :class:`Case` -- the input arrays,
  drawn in the op's domain (values away from kinks, denominators nonzero, no
  ties for max, shapes that broadcast where the op broadcasts), and the
  settings;
- ``kinked``: whether the op is non-smooth, so that it must declare a branch
  signature (and smooth ops must not);
- ``second_order``: whether create_graph=True is checked through it;
- ``exact``, ``keeps_dtype``, ``gradcheck`` options, ``examples`` (a
  smaller hypothesis budget for expensive ops).

Primitives without a record are listed in :data:`EXEMPT` with the reason.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import arrays, axes, distinct_arrays, nonzero, separated_pair, shapes, values

import minigrad
import minigrad.nn.functional as F
import minigrad.ops.decomp as decomp
import minigrad.ops.loss_breadth as loss_breadth
import minigrad.ops.lu_decomp as lu_decomp
import minigrad.ops.normalize as normalize
import minigrad.ops.recurrent as recurrent
import minigrad.ops.stacking as stacking
from minigrad.ops import construct, contraction, conv, elementwise, linalg, loss, pointwise, reduction, scan, sorting
from minigrad.ops import shape as shape_ops
from minigrad.primitive import Primitive

# --- what a record is ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One drawn input: the arrays that become tensors, the settings, and which arrays are constants.

    Constant arrays (integer class targets) become tensors that do not require
    grad and keep their dtype; the others are floats, checked in float64.
    """

    arrays: tuple
    params: dict = field(default_factory=dict)
    constant: tuple = ()

    @property
    def differentiable(self) -> list[int]:
        return [i for i in range(len(self.arrays)) if i not in self.constant]


@dataclass(frozen=True)
class OpRecord:
    primitive: Primitive
    call: Callable
    reference: Callable
    case: st.SearchStrategy
    spellings: dict = field(default_factory=dict)
    elements: tuple = ()  # each input's element strategy (its domain), where the inputs are plain arrays
    positions: tuple | None = None  # tensor argument -> primitive input (None: identity)
    kinked: bool = False
    second_order: bool = True
    exact: bool = False  # the forward equals NumPy's bit for bit (ops that move elements)
    keeps_dtype: bool = True  # the output has the inputs' dtype
    gradcheck: dict = field(default_factory=dict)  # extra keyword arguments of minigrad.gradcheck
    examples: int | None = None  # hypothesis examples for the gradient checks; None: the profile's
    signature_shape: Callable | None = None  # case -> the shape of the branch signature, for kinked ops
    id: str | None = None  # the test id, when one primitive has several records
    forward_case: st.SearchStrategy | None = None  # a wider domain for the forward alone; None: ``case``
    forward_examples: int | None = 20  # per dtype; None: the profile's (for ops with many spellings)

    @property
    def name(self) -> str:
        return self.id or self.primitive.name

    def position(self, j: int) -> int | None:
        return j if self.positions is None else self.positions[j]

    def calls(self) -> dict:
        """Every spelling of the op, the primary ``call`` first."""
        return {"call": self.call, **self.spellings}


def case_of(*strategies, params=st.just({}), broadcast=True):
    """Cases of arrays whose shapes broadcast together (or are equal), elements from ``strategies``."""

    @st.composite
    def draw_case(draw):
        n = len(strategies)
        if n == 1:
            input_shapes = [draw(shapes())]
        elif broadcast:
            input_shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=4)).input_shapes
        else:
            input_shapes = [draw(shapes())] * n
        return Case(tuple(draw(arrays(s, e)) for s, e in zip(input_shapes, strategies)), draw(params))

    return draw_case()


def _broadcast_shape(case):
    return np.broadcast_shapes(*(np.shape(a) for a in case.arrays))


# --- elementwise ---------------------------------------------------------------------------------


def _leaky_ref(x, negative_slope=0.01):
    return np.where(x > 0, x, x * x.dtype.type(negative_slope))


def _leaky(x, negative_slope=0.01):
    return minigrad.leaky_relu(x) if negative_slope == 0.01 else minigrad.leaky_relu(x, negative_slope)


CLIP_BOUNDS = [(-1.0, 1.0), (-1.0, 0.5), (-0.5, None), (None, 0.5)]


def _clip_ref(x, min=None, max=None):
    if min is not None:
        x = np.maximum(x, x.dtype.type(min))
    if max is not None:
        x = np.minimum(x, x.dtype.type(max))
    return x


def _where_call(x, y, condition):
    return minigrad.where(minigrad.tensor(condition, device=x.device), x, y)


@st.composite
def _where_case(draw):
    shape_c, shape_x, shape_y = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4)
    ).input_shapes
    return Case((draw(arrays(shape_x)), draw(arrays(shape_y))), {"condition": draw(hnp.arrays(np.bool_, shape_c))})


@st.composite
def _separated_case(draw):
    """maximum/minimum: no ties (|a - b| >= 0.05), either operand order."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    a, b = draw(separated_pair(shape_a, shape_b))
    return Case((b, a) if draw(st.booleans()) else (a, b))


def _unary(prim, call, ref, elements, **options):
    return OpRecord(prim, call, ref, case_of(elements), elements=(elements,), **options)


def _binary(prim, call, ref, left, right, op_form, **options):
    return OpRecord(
        prim, call, ref, case_of(left, right), spellings={"operator": op_form}, elements=(left, right), **options
    )


ELEMENTWISE = [
    _binary(elementwise.add, minigrad.add, np.add, values(), values(), operator.add),
    _binary(elementwise.sub, minigrad.sub, np.subtract, values(), values(), operator.sub),
    _binary(elementwise.mul, minigrad.mul, np.multiply, values(), values(), operator.mul),
    _binary(elementwise.true_divide, minigrad.div, np.divide, values(), nonzero(), operator.truediv),
    _binary(elementwise.pow, minigrad.pow, np.power, values(0.5, 2.0), values(-2.0, 2.0), operator.pow),
    _unary(elementwise.neg, minigrad.neg, np.negative, values(), spellings={"operator": operator.neg}),
    _unary(elementwise.exp, minigrad.exp, np.exp, values(), spellings={"method": lambda x: x.exp()}),
    _unary(elementwise.log, minigrad.log, np.log, values(0.1, 3.0)),
    _unary(elementwise.sqrt, minigrad.sqrt, np.sqrt, values(0.1, 3.0)),
    _unary(elementwise.tanh, minigrad.tanh, np.tanh, values()),
    _unary(elementwise.sigmoid, minigrad.sigmoid, lambda x: 1 / (1 + np.exp(-x)), values(-6.0, 6.0)),
    _unary(
        elementwise.abs,
        minigrad.abs,
        np.abs,
        values(avoid=(0.0,)),
        spellings={"builtin": abs},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    _unary(
        elementwise.relu,
        minigrad.relu,
        lambda x: np.maximum(x, x.dtype.type(0)),
        values(avoid=(0.0,)),
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        elementwise.leaky_relu,
        _leaky,
        _leaky_ref,
        case_of(
            values(avoid=(0.0,)), params=st.fixed_dictionaries({"negative_slope": st.sampled_from([0.01, 0.1, 0.2])})
        ),
        spellings={"method": lambda x, negative_slope: x.leaky_relu(negative_slope=negative_slope)},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        elementwise._clip,
        lambda x, min, max: minigrad.clip(x, min, max),
        _clip_ref,
        case_of(
            values(avoid=(-1.0, -0.5, 0.5, 1.0)),
            params=st.sampled_from(CLIP_BOUNDS).map(lambda b: {"min": b[0], "max": b[1]}),
        ),
        spellings={
            "clamp": lambda x, min, max: x.clamp(min=min, max=max),
            "clip-method": lambda x, min, max: x.clip(min, max),
        },
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        elementwise.maximum,
        minigrad.maximum,
        np.maximum,
        _separated_case(),
        spellings={"method": lambda a, b: a.maximum(b)},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        elementwise.minimum,
        minigrad.minimum,
        np.minimum,
        _separated_case(),
        spellings={"method": lambda a, b: a.minimum(b)},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        elementwise.where,
        _where_call,
        lambda x, y, condition: np.where(condition, x, y),
        _where_case(),
        positions=(1, 2),
    ),
    _unary(elementwise.clone, lambda x: x.clone(), np.copy, values(), exact=True),
    _unary(
        elementwise.astype,
        lambda x: elementwise.astype(x, dtype=np.float64),
        lambda x: x.astype(np.float64),
        values(),
        exact=True,
        keeps_dtype=False,
        spellings={"method": lambda x: x.double()},
    ),
]


# --- pointwise math (minigrad.ops.pointwise), clamp with tensor bounds, div with a rounding mode -------------

FEW = {"examples": 8, "forward_examples": 8}  # a small budget each: there are many of these records


def _method(name):
    return {"method": lambda *ts: getattr(ts[0], name)(*ts[1:])}


def _smooth(prim, ref, elements, **options):
    return _unary(prim, getattr(minigrad, prim.name), ref, elements, spellings=_method(prim.name), **FEW, **options)


def _erf_ref(x):
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, dtype=np.float64))


def _stepwise(prim, ref, avoid, **options):
    """A piecewise-constant unary op: values kept away from its steps, exact against NumPy, no second order."""
    return _unary(
        prim,
        getattr(minigrad, prim.name),
        ref,
        values(avoid=avoid, gap=1e-2),
        spellings=_method(prim.name),
        kinked=True,
        exact=True,
        second_order=False,
        signature_shape=_broadcast_shape,
        **FEW,
        **options,
    )


INTEGERS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-4, 4))


@st.composite
def _round_case(draw):
    """round(x, decimals): x kept 1% of a step away from every half step at that many decimals."""
    decimals = draw(st.sampled_from([0, 1, 2, -1]))
    scale = 10.0**decimals
    hi = 3.0 * max(1.0, 1 / scale)
    elements = st.floats(-hi, hi).filter(lambda v: abs(abs(math.remainder(v * scale, 1.0)) - 0.5) > 1e-2)
    return Case((draw(arrays(draw(shapes()), elements)),), {"decimals": decimals})


@st.composite
def _quotient_case(draw, modes=(None,)):
    """a, b that broadcast, b nonzero and a / b at least 0.05 away from every integer (the steps of trunc and
    floor): one operand is drawn, the other made from it and a drawn quotient (so it has the broadcast shape)."""
    shape_a, shape_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    full = np.broadcast_shapes(shape_a, shape_b)
    whole = draw(hnp.arrays(np.int64, full, elements=st.integers(-3, 3)))
    frac = draw(hnp.arrays(np.float64, full, elements=st.floats(0.05, 0.95)))
    q = whole + frac
    if draw(st.booleans()):
        b = draw(arrays(shape_b, nonzero()))
        arrays_ = (q * b, b)
    else:
        a = draw(arrays(shape_a, nonzero(0.5, 3.0)))
        arrays_ = (a, a / q)
    mode = draw(st.sampled_from(modes))
    return Case(arrays_, {} if mode is None else {"rounding_mode": mode})


def _div_rounded_ref(a, b, rounding_mode):
    return np.floor_divide(a, b) if rounding_mode == "floor" else np.trunc(a / b)


def _div_rounded_spelled(a, b, rounding_mode):
    return a // b if rounding_mode == "floor" else a.div(b, rounding_mode=rounding_mode)


@st.composite
def _clamp_case(draw):
    """x and tensor bounds that broadcast, pairwise at least 0.04 apart (x on 0.25 k + 0.16, min on 0.25 k,
    max on 0.25 k + 0.08, each with jitter below 0.04): no element at a bound, and min > max in places."""
    which = draw(st.sampled_from(["both", "min", "max"]))
    n = 3 if which == "both" else 2
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=4)).input_shapes

    def grid(shape, offset):
        k = draw(hnp.arrays(np.int64, shape, elements=st.integers(-8, 8)))
        return 0.25 * k + offset + draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 0.04)))

    offsets = {"both": (0.16, 0.0, 0.08), "min": (0.16, 0.0), "max": (0.16, 0.08)}[which]
    return Case(tuple(grid(s, o) for s, o in zip(drawn, offsets)), {"which": which})


def _clamp_call(x, *bounds, which, spell=minigrad.clamp):
    if which == "both":
        return spell(x, bounds[0], bounds[1])
    return spell(x, **{which: bounds[0]})


def _clamp_ref(x, *bounds, which):
    lo, hi = bounds if which == "both" else (bounds[0], None) if which == "min" else (None, bounds[0])
    out = x if lo is None else np.maximum(x, lo)
    return out if hi is None else np.minimum(out, hi)


@st.composite
def _lerp_case(draw, tensor_weight=True):
    n = 3 if tensor_weight else 2
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=4)).input_shapes
    parts = tuple(draw(arrays(s)) for s in drawn[:2])
    if tensor_weight:
        return Case((*parts, draw(arrays(drawn[2], values(-0.5, 1.5)))))
    return Case(parts, {"weight": draw(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0, 1.5]))})


def _lerp_ref(start, end, weight):
    return start + weight * (end - start)


def _binary_record(prim, ref, case, **options):
    options = {**FEW, "spellings": _method(prim.name), **options}
    return OpRecord(prim, getattr(minigrad, prim.name), ref, case, **options)


POINTWISE = [
    _smooth(pointwise.sin, np.sin, values()),
    _smooth(pointwise.cos, np.cos, values()),
    _smooth(pointwise.tan, np.tan, values(-1.2, 1.2)),
    _smooth(pointwise.asin, np.arcsin, values(-0.9, 0.9)),
    _smooth(pointwise.acos, np.arccos, values(-0.9, 0.9)),
    _smooth(pointwise.atan, np.arctan, values()),
    _smooth(pointwise.sinh, np.sinh, values()),
    _smooth(pointwise.cosh, np.cosh, values()),
    _smooth(pointwise.asinh, np.arcsinh, values()),
    _smooth(pointwise.acosh, np.arccosh, values(1.1, 3.0)),
    _smooth(pointwise.atanh, np.arctanh, values(-0.9, 0.9)),
    _smooth(pointwise.log1p, np.log1p, values(-0.9, 3.0)),
    _smooth(pointwise.expm1, np.expm1, values()),
    _smooth(pointwise.log2, np.log2, values(0.1, 3.0)),
    _smooth(pointwise.log10, np.log10, values(0.1, 3.0)),
    _smooth(pointwise.exp2, np.exp2, values()),
    _smooth(pointwise.rsqrt, lambda x: 1 / np.sqrt(x), values(0.1, 3.0)),
    _smooth(pointwise.erf, _erf_ref, values()),
    _stepwise(elementwise.sign, np.sign, (0.0,)),
    _stepwise(pointwise.floor, np.floor, INTEGERS),
    _stepwise(pointwise.ceil, np.ceil, INTEGERS),
    _stepwise(pointwise.trunc, np.trunc, INTEGERS),
    OpRecord(
        pointwise.round,
        lambda x, decimals: minigrad.round(x, decimals=decimals),
        lambda x, decimals: np.round(x, decimals),
        _round_case(),
        spellings={"method": lambda x, decimals: x.round(decimals=decimals)},
        kinked=True,
        exact=True,
        second_order=False,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    _binary_record(
        pointwise.atan2,
        np.arctan2,
        case_of(nonzero(0.1, 3.0), values()),
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    _binary_record(
        pointwise.fmod, np.fmod, _quotient_case(), kinked=True, exact=True, signature_shape=_broadcast_shape
    ),
    _binary_record(
        pointwise.remainder,
        np.remainder,
        _quotient_case(),
        spellings={"method": lambda a, b: a.remainder(b), "operator": operator.mod},
        kinked=True,
        exact=True,
        signature_shape=_broadcast_shape,
    ),
    _binary_record(
        pointwise.copysign,
        np.copysign,
        case_of(values(avoid=(0.0,), gap=1e-2), nonzero(0.1, 3.0)),
        kinked=True,
        exact=True,
        second_order=False,  # d/dother is a constant zero, as PyTorch's (test_copysign_second_order for input)
        signature_shape=_broadcast_shape,
    ),
    _binary_record(pointwise.logaddexp, np.logaddexp, case_of(values(), values())),
    _binary_record(pointwise.hypot, np.hypot, case_of(nonzero(0.3, 3.0), nonzero(0.3, 3.0))),
    OpRecord(
        pointwise.lerp,
        minigrad.lerp,
        _lerp_ref,
        _lerp_case(),
        spellings={"method": lambda s, e, w: s.lerp(e, w)},
        **FEW,
    ),
    OpRecord(
        pointwise.lerp,
        lambda s, e, weight: minigrad.lerp(s, e, weight),
        lambda s, e, weight: _lerp_ref(s, e, s.dtype.type(weight)),
        _lerp_case(tensor_weight=False),
        spellings={"method": lambda s, e, weight: s.lerp(e, weight)},
        id="lerp-number-weight",
        **FEW,
    ),
    OpRecord(
        elementwise._clamp_tensors,
        _clamp_call,
        _clamp_ref,
        _clamp_case(),
        spellings={
            "clip": lambda x, *b, which: _clamp_call(x, *b, which=which, spell=minigrad.clip),
            "method": lambda x, *b, which: _clamp_call(x, *b, which=which, spell=lambda t, *a, **k: t.clamp(*a, **k)),
        },
        kinked=True,
        exact=True,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    OpRecord(
        elementwise.div_rounded,
        lambda a, b, rounding_mode: minigrad.div(a, b, rounding_mode=rounding_mode),
        _div_rounded_ref,
        _quotient_case(modes=("trunc", "floor")),
        spellings={"spelled": _div_rounded_spelled},
        kinked=True,
        exact=True,
        second_order=False,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
]


# --- reductions ----------------------------------------------------------------------------------

STYLES = ["function", "method", "torch", "positional"]


def reduce(x, name, style, axis, keepdims):
    """Call reduction ``name`` on tensor ``x`` in one of the four spellings."""
    if style == "function":
        return getattr(minigrad, name)(x, axis=axis, keepdims=keepdims)
    if style == "method":
        return getattr(x, name)(axis=axis, keepdims=keepdims)
    if style == "positional":
        if name in ("max", "min") and axis is not None:  # PyTorch's max(x, dim): (values, indices), one dim
            if isinstance(axis, tuple):
                return getattr(x, "a" + name)(axis, keepdims)
            return getattr(x, name)(axis, keepdims).values
        return getattr(x, name)(axis, keepdims)
    if name in ("max", "min") and axis is not None:
        if isinstance(axis, tuple):  # PyTorch's max(dim=) takes one dim; amax takes several
            return getattr(x, "a" + name)(dim=axis, keepdim=keepdims)
        values, indices = getattr(x, name)(dim=axis, keepdim=keepdims)
        return values
    return getattr(x, name)(dim=axis, keepdim=keepdims)


@st.composite
def reduction_case(draw, min_dims=0):
    shape = draw(shapes(min_dims=min_dims))
    return shape, draw(axes(len(shape))), draw(st.booleans()), draw(st.sampled_from(STYLES))


def logsumexp_ref(x, axis=None, keepdims=False):
    """A float64 reference computed stably: m + log(sum(exp(x - m)))."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def softmax_ref(x, axis):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_ref(x, axis):
    shifted = np.asarray(x, dtype=np.float64) - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _reduction(prim, name, ref, element_arrays=arrays, names=None, **options):
    """A reduction, called in every spelling of ``reduce`` (and under every name in ``names``)."""

    @st.composite
    def draw_case(draw):
        shape, axis, keepdims, style = draw(reduction_case())
        spelled = draw(st.sampled_from(names or [name]))
        return Case(
            (draw(element_arrays(shape)),), {"axis": axis, "keepdims": keepdims, "style": style, "name": spelled}
        )

    return OpRecord(
        prim,
        lambda x, axis, keepdims, style, name: reduce(x, name, style, axis, keepdims),
        lambda x, axis, keepdims, style, name: np.asarray(ref(x, axis=axis, keepdims=keepdims)).astype(x.dtype),
        draw_case(),
        forward_examples=None,
        **options,
    )


SOFTMAX_STYLES = ["function", "method", "torch", "function-dim", "default"]


def _implicit_dim_call(fn):
    """``fn()`` without a dim, checking that PyTorch's deprecation warning of the implicit choice is given."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    assert any("Implicit dimension choice" in str(w.message) for w in caught), "no implicit-dim warning"
    return out


def _softmax_call(name):
    def call(x, axis, style):
        return {
            "function": lambda: getattr(minigrad, name)(x, axis),
            "method": lambda: getattr(x, name)(axis),
            "torch": lambda: getattr(x, name)(dim=axis),
            "function-dim": lambda: getattr(minigrad, name)(x, dim=axis),
            "default": lambda: _implicit_dim_call(getattr(x, name)),
        }[style]()

    return call


@st.composite
def _softmax_case(draw, bound):
    shape = draw(shapes(min_dims=1))
    style = draw(st.sampled_from(SOFTMAX_STYLES))
    # no dim: F.softmax's implicit (deprecated) choice, 0 for 0-, 1- and 3-d inputs, else 1, as PyTorch
    axis = (
        (0 if len(shape) in (0, 1, 3) else 1) if style == "default" else draw(st.integers(-len(shape), len(shape) - 1))
    )
    return Case((draw(arrays(shape, values(-bound, bound))),), {"axis": axis, "style": style})


def _softmax_record(prim, ref):
    return OpRecord(
        prim,
        _softmax_call(prim.name),
        lambda x, axis, style: ref(x, axis).astype(x.dtype),
        _softmax_case(4.0),  # gradcheck's centered differences of log_softmax lose digits beyond
        forward_case=_softmax_case(5.0),
        forward_examples=None,
    )


REDUCTIONS = [
    _reduction(reduction._sum, "sum", np.sum),
    _reduction(reduction._mean, "mean", np.mean),
    _reduction(
        reduction._amax,
        "max",
        np.max,
        distinct_arrays,
        names=["max", "amax"],
        kinked=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
    _reduction(
        reduction._amin,
        "min",
        np.min,
        distinct_arrays,
        names=["min", "amin"],
        kinked=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
    _reduction(reduction._logsumexp, "logsumexp", logsumexp_ref),
    _softmax_record(reduction._softmax, softmax_ref),
    _softmax_record(reduction._log_softmax, log_softmax_ref),
]


# --- shape ---------------------------------------------------------------------------------------


@st.composite
def reshape_targets(draw, shape):
    """A shape with the same number of elements (a random factorization), possibly with one -1."""
    rest = math.prod(shape)
    target = []
    for _ in range(draw(st.integers(0, 2))):
        factor = draw(st.sampled_from([f for f in range(1, rest + 1) if rest % f == 0]))
        target.append(factor)
        rest //= factor
    target.append(rest)
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


@st.composite
def concat_case(draw, count=None):
    """Shapes that agree everywhere but along ``axis``, and the axis (maybe negative)."""
    base = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    count = draw(st.integers(1, 3)) if count is None else count
    result = []
    for _ in range(count):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        result.append(tuple(s))
    return result, axis


@st.composite
def _reshape_case(draw):
    shape = draw(shapes())
    return Case((draw(arrays(shape)),), {"target": draw(reshape_targets(shape))})


@st.composite
def _permute_case(draw):
    shape = draw(shapes(min_dims=1))
    ndim = len(shape)
    perm = draw(st.permutations(range(ndim)))
    return Case((draw(arrays(shape)),), {"dims": tuple(p - ndim if draw(st.booleans()) else p for p in perm)})


@st.composite
def _transpose_case(draw):
    shape = draw(shapes(min_dims=1))
    ndim = len(shape)
    pair_of_dims = (draw(st.integers(-ndim, ndim - 1)), draw(st.integers(-ndim, ndim - 1)))
    spelling = draw(st.sampled_from(["transpose", "T"] + (["mT"] if ndim >= 2 else [])))
    return Case((draw(arrays(shape)),), {"dims": pair_of_dims, "spelling": spelling})


def _transpose_call(x, dims, spelling):
    return {"transpose": lambda: x.transpose(*dims), "T": lambda: x.T, "mT": lambda: x.mT}[spelling]()


def _transpose_ref(x, dims, spelling):
    return {"transpose": lambda: np.swapaxes(x, *dims), "T": lambda: x.T, "mT": lambda: np.swapaxes(x, -1, -2)}[
        spelling
    ]()


@st.composite
def _broadcast_case(draw):
    shape = draw(shapes())
    other = draw(hnp.broadcastable_shapes(shape, max_dims=3, max_side=4))
    target = np.broadcast_shapes(shape, other)
    lead = len(target) - len(shape)
    expanded = tuple(
        -1 if i >= lead and target[i] == shape[i - lead] and draw(st.booleans()) else s for i, s in enumerate(target)
    )
    return Case((draw(arrays(shape)),), {"target": target, "expanded": expanded})


@st.composite
def _concat_case(draw):
    case_shapes, axis = draw(concat_case())
    return Case(tuple(draw(arrays(s)) for s in case_shapes), {"axis": axis})


@st.composite
def _stack_case(draw):
    shape = draw(shapes(max_dims=2))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    return Case(tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3)))), {"axis": axis})


@st.composite
def _pad_case(draw):
    shape = draw(shapes(max_dims=2))
    width = draw(
        st.one_of(
            st.integers(0, 2),
            st.tuples(st.integers(0, 2), st.integers(0, 2)),
            *([st.tuples(*[st.tuples(st.integers(0, 2), st.integers(0, 2)) for _ in shape])] if shape else []),
        )
    )
    return Case((draw(arrays(shape)),), {"width": width, "value": draw(st.sampled_from([0, 0.5]))})


def _pad_ref(x, width, value):
    return np.pad(x, width, constant_values=value) if x.ndim else x.copy()


@st.composite
def index_case(draw, repeats=True):
    """An array and an index into it: basic (ints, slices, None, Ellipsis), integer arrays or boolean masks."""
    shape = draw(shapes(min_dims=1))
    kind = draw(st.sampled_from(["basic", "integer arrays", "mask", "row mask"] if repeats else ["basic"]))
    if kind == "basic":
        index = draw(hnp.basic_indices(shape, allow_newaxis=repeats, allow_ellipsis=True))
    elif kind == "integer arrays":
        index = draw(
            hnp.integer_array_indices(shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5))
        )
    elif kind == "mask":
        index = draw(hnp.arrays(np.bool_, shape))
    else:
        index = draw(hnp.arrays(np.bool_, shape[:1]))
    return shape, index


@st.composite
def _getitem_case(draw):
    shape, index = draw(index_case())
    return Case((draw(arrays(shape)),), {"index": index})


@st.composite
def _setitem_case(draw):
    """x[index] = value for basic indices (no repeats: the last write would win), value broadcast to x[index]."""
    shape, index = draw(index_case(repeats=False))
    x = draw(arrays(shape))
    target = x[index].shape
    ones = draw(st.lists(st.booleans(), min_size=len(target), max_size=len(target)))
    value_shape = tuple(1 if one else side for one, side in zip(ones, target))  # broadcasts to target...
    value_shape = value_shape[draw(st.integers(0, len(target))) :]  # ...with leading axes dropped too
    return Case((x, draw(arrays(value_shape))), {"index": index})


def _setitem_ref(x, value, index):
    out = x.copy()
    out[index] = value
    return out


def _assign(x, value, index):
    """x[index] = value, as a user writes it on a tensor that is not a leaf."""
    y = x * 1
    y[index] = value
    return y


@st.composite
def _scatter_case(draw):
    shape, index = draw(index_case())
    return Case((draw(arrays(np.zeros(shape)[index].shape)),), {"index": index, "shape": shape})


def _scatter_ref(g, index, shape):
    out = np.zeros(shape, dtype=g.dtype)
    np.add.at(out, index, g)
    return out


SHAPE = [
    OpRecord(
        shape_ops._reshape,
        lambda x, target: minigrad.reshape(x, target),
        lambda x, target: x.reshape(target),
        _reshape_case(),
        spellings={
            "method": lambda x, target: x.reshape(target),
            "varargs": lambda x, target: x.reshape(*target),
            "view": lambda x, target: x.view(*target),
        },
        exact=True,
    ),
    OpRecord(
        shape_ops._permute,
        lambda x, dims: minigrad.permute(x, dims),
        lambda x, dims: np.transpose(x, dims),
        _permute_case(),
        spellings={"method": lambda x, dims: x.permute(*dims)},
        exact=True,
    ),
    OpRecord(
        shape_ops._permute, _transpose_call, _transpose_ref, _transpose_case(), exact=True, id="permute-transpose"
    ),
    OpRecord(
        shape_ops._broadcast_to,
        lambda x, target, expanded: minigrad.broadcast_to(x, target),
        lambda x, target, expanded: np.broadcast_to(x, target),
        _broadcast_case(),
        spellings={"expand": lambda x, target, expanded: x.expand(*expanded)},
        exact=True,
    ),
    OpRecord(
        shape_ops._concatenate,
        lambda *xs, axis: minigrad.concatenate(xs, axis=axis),
        lambda *xs, axis: np.concatenate(xs, axis=axis),
        _concat_case(),
        spellings={"cat-dim": lambda *xs, axis: minigrad.cat(list(xs), dim=axis)},
        exact=True,
    ),
    OpRecord(
        shape_ops._stack,
        lambda *xs, axis: minigrad.stack(xs, axis=axis),
        lambda *xs, axis: np.stack(xs, axis=axis),
        _stack_case(),
        spellings={"dim": lambda *xs, axis: minigrad.stack(list(xs), dim=axis)},
        exact=True,
    ),
    OpRecord(
        shape_ops._pad,
        lambda x, width, value: minigrad.pad(x, width, value=value),
        _pad_ref,
        _pad_case(),
        exact=True,
    ),
    OpRecord(
        shape_ops._getitem,
        lambda x, index: x[index],
        lambda x, index: x[index],
        _getitem_case(),
        spellings={"function": lambda x, index: shape_ops.getitem(x, index)},
        exact=True,
    ),
    OpRecord(
        shape_ops._setitem,
        lambda x, value, index: shape_ops._setitem(x, value, index=index),
        _setitem_ref,
        _setitem_case(),
        spellings={"assign": _assign},
        exact=True,
    ),
    OpRecord(
        shape_ops._index_scatter,
        lambda g, index, shape: shape_ops._index_scatter(g, index=index, shape=shape),
        _scatter_ref,
        _scatter_case(),
    ),
    OpRecord(
        shape_ops._to_device,
        lambda x: shape_ops.to_device(x, "cpu"),
        lambda x: x.copy(),
        case_of(values()),
        spellings={"method": lambda x: x.to("cpu") * 1.0},
        exact=True,
    ),
]


# --- linear algebra -----------------------------------------------------------------------------

MATMUL_SHAPES = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3)


@st.composite
def _matmul_case(draw):
    shape_a, shape_b = draw(MATMUL_SHAPES).input_shapes
    return Case((draw(arrays(shape_a)), draw(arrays(shape_b))))


@st.composite
def _mt_case(draw):
    return Case((draw(arrays(draw(hnp.array_shapes(min_dims=2, max_dims=4, max_side=3)))),))


@st.composite
def _linear_case(draw, weight_grad=False):
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    if weight_grad:
        return Case(tuple(draw(arrays(s)) for s in (lead + (n_out,), lead + (n_in,))))
    return Case(tuple(draw(arrays(s)) for s in (lead + (n_in,), (n_out, n_in), (n_out,))))


def _weight_grad_ref(g, x):
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


LINALG = [
    OpRecord(
        linalg.matmul,
        minigrad.matmul,
        np.matmul,
        _matmul_case(),
        spellings={"operator": operator.matmul, "method": lambda a, b: a.matmul(b)},
    ),
    OpRecord(linalg._mT, lambda x: x.mT, lambda x: np.swapaxes(x, -1, -2), _mt_case(), exact=True),
    OpRecord(linalg._linear, linalg.linear, lambda x, w, b: x @ w.T + b, _linear_case()),
    OpRecord(linalg._weight_grad, linalg._weight_grad, _weight_grad_ref, _linear_case(weight_grad=True)),
]


# --- convolution and pooling ---------------------------------------------------------------------


def _pairs(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def _out_size(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _windows(x, kernel, stride, padding, dilation, fill):
    """(kh, kw) list of (N, C, Ho, Wo) arrays: the padded input at each kernel offset, by plain slicing."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    n, c, h, w = x.shape
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    ho, wo = _out_size(h, kh, sh, ph, dh), _out_size(w, kw, sw, pw, dw)
    return [
        [
            padded[:, :, a * dh : a * dh + (ho - 1) * sh + 1 : sh, e * dw : e * dw + (wo - 1) * sw + 1 : sw]
            for e in range(kw)
        ]
        for a in range(kh)
    ]


def conv2d_ref(x, w, b=None, *, stride, padding, dilation, groups):
    """out[n, o] = b[o] + sum over the group's channels c and kernel offsets (a, e) of x_pad[n, c] * w[o, c, a, e]."""
    win = _windows(x, w.shape[2:], _pairs(stride), _pairs(padding), _pairs(dilation), 0)
    cg, og = w.shape[1], w.shape[0] // groups
    out = 0
    for a, row in enumerate(win):
        for e, part in enumerate(row):
            grouped = part.reshape(part.shape[0], groups, cg, *part.shape[2:])  # (N, g, C/g, Ho, Wo)
            wg = w[:, :, a, e].reshape(groups, og, cg)
            out = out + np.einsum("ngchw,goc->ngohw", grouped, wg).reshape(part.shape[0], -1, *part.shape[2:])
    return out if b is None else out + b[:, None, None]


def pool2d_ref(x, kernel_size, stride=None, padding=0, dilation=1, *, kind):
    kernel = _pairs(kernel_size)
    stride = kernel if stride is None else _pairs(stride)
    win = _windows(x, kernel, stride, _pairs(padding), _pairs(dilation), -np.inf if kind == "max" else 0)
    parts = [p for row in win for p in row]
    return np.max(parts, axis=0) if kind == "max" else np.sum(parts, axis=0) / len(parts)


@st.composite
def _conv_case(draw):
    """A small conv2d geometry: groups 1-2, channels up to 4, sizes 3-5, kernel 1-3, stride 1-2, padding 0-1,
    dilation 1-2, with or without bias."""
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    size = (draw(st.integers(3, 5)), draw(st.integers(3, 5)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride, padding, dilation = (
        (draw(st.integers(lo, hi)), draw(st.integers(lo, hi))) for lo, hi in ((1, 2), (0, 1), (1, 2))
    )
    if not all(_out_size(size[k], kernel[k], stride[k], padding[k], dilation[k]) >= 1 for k in (0, 1)):
        dilation = (1, 1)
    x = draw(arrays((draw(st.integers(1, 2)), c_in, *size)))
    w = draw(arrays((c_out, c_in // groups, *kernel)))
    parts = (x, w, draw(arrays((c_out,)))) if draw(st.booleans()) else (x, w)
    return Case(parts, {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups})


@st.composite
def _pool_case(draw, with_dilation=True):
    """A pooling geometry (padding at most half the kernel; stride None or 1-2) over a scaled permutation:
    every window has one clear maximum, far above gradcheck's step."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(3, 5)), draw(st.integers(3, 5)))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 2), st.integers(1, 2))))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    s = kernel if stride is None else stride
    if not all(_out_size(shape[2 + k], kernel[k], s[k], padding[k], dilation[k]) >= 1 for k in (0, 1)):
        dilation = (1, 1)
    order = np.array(draw(st.permutations(range(math.prod(shape)))), dtype=np.float64)
    params = {"kernel_size": kernel, "stride": stride, "padding": padding}
    if with_dilation:
        params["dilation"] = dilation
    return Case((order.reshape(shape) * 0.5 - 5.0,), params)


CONV = [
    OpRecord(
        conv._conv_cols,
        lambda x, w, b=None, **p: F.conv2d(x, w, b, **p),
        conv2d_ref,
        _conv_case(),
        positions=(None, 1, 2),  # x reaches conv2d as im2col's columns (conv2d_unfold saves nothing)
        examples=10,
    ),
    OpRecord(
        conv._max_pool2d,
        F.max_pool2d,
        lambda x, **p: pool2d_ref(x, **p, kind="max"),
        _pool_case(),
        kinked=True,
        exact=True,
        examples=10,
    ),
    OpRecord(
        conv._avg_pool2d,
        F.avg_pool2d,
        lambda x, **p: pool2d_ref(x, **p, kind="avg"),
        _pool_case(with_dilation=False),
        examples=10,
    ),
]


# --- losses --------------------------------------------------------------------------------------

LOSS_REDUCTIONS = ["mean", "sum", "none"]


def _reduce_loss(per_sample, valid, reduction):
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    return total if reduction == "sum" else total / valid.sum()


def cross_entropy_ref(x, t, reduction="mean", label_smoothing=0.0, ignore_index=-100):
    """-sum_c q_c log softmax(x)_c with q = (1 - e) onehot(t) + e / C; ignored samples contribute 0."""
    c = x.shape[1]
    logp = log_softmax_ref(x, 1)
    valid = t != ignore_index
    onehot = np.moveaxis(np.eye(c)[np.where(valid, t, 0)], -1, 1)
    q = (1 - label_smoothing) * onehot + label_smoothing / c
    return _reduce_loss(-(q * logp).sum(axis=1) * valid, valid, reduction)


def nll_ref(x, t, reduction="mean", ignore_index=-100):
    valid = t != ignore_index
    picked = np.take_along_axis(x, np.expand_dims(np.where(valid, t, 0), 1), axis=1).squeeze(1)
    return _reduce_loss(-picked * valid, valid, reduction)


@st.composite
def _classification_case(draw, smoothing=True, log_probabilities=False):
    """Logits (N, C) or (N, C, d) with integer targets, some of them ignored (never all)."""
    n, c = draw(st.integers(1, 3)), draw(st.integers(2, 4))
    extra = draw(st.lists(st.integers(1, 2), max_size=1))
    x = draw(arrays((n, c, *extra), values(-4.0, 4.0)))
    ignore_index = draw(st.sampled_from([-100, 1]))
    t = draw(hnp.arrays(np.int64, (n, *extra), elements=st.integers(0, c - 1)))
    if draw(st.booleans()):
        t = np.where(draw(hnp.arrays(np.bool_, t.shape)), ignore_index, t)
    t.flat[0] = 0
    params = {"reduction": draw(st.sampled_from(LOSS_REDUCTIONS)), "ignore_index": ignore_index}
    if smoothing:
        params["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.35]))
    if log_probabilities:
        x = log_softmax_ref(x, 1)
    return Case((x, t), params, constant=(1,))


@st.composite
def _bce_case(draw):
    shape = draw(shapes())
    return Case(
        (draw(arrays(shape, values(-4.0, 4.0))), draw(arrays(shape, values(0.0, 1.0)))),
        {"reduction": draw(st.sampled_from(LOSS_REDUCTIONS))},
    )


def _bce_ref(x, t, reduction):
    out = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    return out if reduction == "none" else out.sum() if reduction == "sum" else out.mean()


LOSSES = [
    OpRecord(
        loss._cross_entropy,
        F.cross_entropy,
        cross_entropy_ref,
        _classification_case(),
        # the forward's rounding error is ~eps absolute where the loss is tiny: see test_cross_entropy_gradients
        gradcheck={"floor": 1e-2},
        examples=20,
    ),
    OpRecord(loss._nll_loss, F.nll_loss, nll_ref, _classification_case(False, True), examples=20),
    OpRecord(loss._bce_with_logits, F.binary_cross_entropy_with_logits, _bce_ref, _bce_case(), examples=20),
]


# --- linear algebra and construction beyond matmul (einsum, norms, diagonals, triangles, flip, roll) ------

BREADTH = {"examples": 15, "forward_examples": 10}

EINSUM_TWO = [
    "ij,jk->ik",
    "ij,jk",
    "bij,bjk->bik",
    "i,i->",
    "i,j->ij",
    "ij,kj->ik",
    "ij,ij->ij",
    "ii,i->i",
    "iij,jk->ik",
    "...ij,...jk->...ik",
    "...i,...i->...",
    "i...,j...->ij...",
    "...ij,j",
    "ab,ba->",
    "Ba,aC->BC",
    "ijk,ikl->jl",
]
EINSUM_ONE = ["ii->i", "ii", "ij->ji", "ij->", "ji", "...ij->...ji", "i...i->...", "ijk->kj"]
EINSUM_THREE = ["ij,jk,kl->il", "i,i,i->", "...i,...j,ij->...", "bi,bj,bk->bijk", "ij,jk,ki"]


def _einsum_terms(equation):
    lhs, _, rhs = equation.partition("->")
    return lhs.split(",")


@st.composite
def _einsum_case(draw, equations):
    """An equation and operands that fit it: a size 1-3 per subscript (0 for one of them now and then),
    size-1 dimensions that broadcast now and then (never on a repeated subscript), and '...' shapes that
    broadcast together."""
    equation = draw(st.sampled_from(equations))
    terms = _einsum_terms(equation)
    letters = sorted({c for term in terms for c in term if c.isalpha()})
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    if letters and draw(st.integers(0, 5)) == 0:  # now and then an empty dimension
        sizes[draw(st.sampled_from(letters))] = 0
    ellipses = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=len(terms), min_dims=0, max_dims=2, max_side=3)
    ).input_shapes
    operands = []
    for term, ell in zip(terms, ellipses):
        shape = []
        for part in term.replace("...", "."):
            if part == ".":
                shape.extend(ell)
            elif term.count(part) == 1 and sizes[part] > 1 and draw(st.integers(0, 5)) == 0:
                shape.append(1)  # broadcasts against the subscript's size in the other operands
            else:
                shape.append(sizes[part])
        operands.append(draw(arrays(tuple(shape))))
    return Case(tuple(operands), {"equation": equation})


def _sublists(equation):
    """The equation in einsum's other calling form: integers for letters, Ellipsis for '...'."""
    lhs, arrow, rhs = equation.partition("->")

    def sublist(term):
        return [
            Ellipsis if c == "." else (ord(c) - 65 if c.isupper() else ord(c) - 71) for c in term.replace("...", ".")
        ]

    return [sublist(t) for t in lhs.split(",")], (sublist(rhs) if arrow else None)


def _einsum_sublist_call(*xs, equation):
    subs, out = _sublists(equation)
    args = [v for pair in zip(xs, subs) for v in pair]
    return minigrad.einsum(*args, *([] if out is None else [out]))


EINSUM_SPELLINGS = {
    "list": lambda *xs, equation: minigrad.einsum(equation, list(xs)),
    "sublist": _einsum_sublist_call,
    "spaced": lambda *xs, equation: minigrad.einsum(" " + equation.replace(",", " , ") + " ", *xs),
}


NORM_ORDERS = {  # p: the element strategy that keeps gradcheck away from the kinks of that p
    2: "any",
    "fro": "any",
    3: "any",
    1.5: "far",
    1: "far",
    0.5: "far",
    -1: "far",
    math.inf: "distinct",
    -math.inf: "distinct",
}


@st.composite
def _distinct_magnitudes(draw, shape):
    """Values whose absolute values differ pairwise by at least 0.19 (no ties for max |x|), random signs."""
    n = math.prod(shape)
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0, 0.06)))
    signs = draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([-1.0, 1.0])))
    return (signs * ((order + 1) * 0.25 + jitter)).reshape(shape)


@st.composite
def _norm_case(draw, orders=tuple(NORM_ORDERS)):
    p = draw(st.sampled_from(orders))
    shape = draw(shapes(min_dims=0))
    if isinstance(p, float) and math.isinf(p):
        shape = tuple(max(s, 1) for s in shape)
    kind = NORM_ORDERS.get(p, "far")
    if kind == "distinct":
        x = draw(_distinct_magnitudes(shape))
    else:
        x = draw(arrays(shape, values(avoid=(0.0,), gap=1e-3 if kind == "any" else 0.1)))
    ndim = len(shape)
    options = ["none"] + (["int", "tuple"] if ndim else [])
    kind_of_dim = draw(st.sampled_from(options))
    if kind_of_dim == "none":
        dim = None
    elif kind_of_dim == "int":
        dim = draw(st.integers(-ndim, ndim - 1))
    else:
        dim = tuple(
            draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=2 if p == "fro" else ndim, unique=True))
        )
    return Case((x,), {"p": p, "dim": dim, "keepdim": draw(st.booleans())})


def _norm_ref(x, p, dim, keepdim):
    """||x||_p over dim from the formula, in float64."""
    a = np.abs(np.asarray(x, dtype=np.float64))
    axis = dim if dim is None or isinstance(dim, int) else tuple(dim)
    if p == "fro" or p == 2:
        out = np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdim))
    elif p == math.inf:
        out = np.max(a, axis=axis, keepdims=keepdim)
    elif p == -math.inf:
        out = np.min(a, axis=axis, keepdims=keepdim)
    elif p == 0:
        out = np.sum(a != 0, axis=axis, keepdims=keepdim).astype(np.float64)
    else:
        out = np.sum(a**p, axis=axis, keepdims=keepdim) ** (1 / p)
    return out


NORM_SPELLINGS = {
    "method": lambda x, p, dim, keepdim: x.norm(p=p, dim=dim, keepdim=keepdim),
    "positional": lambda x, p, dim, keepdim: minigrad.norm(x, p, dim, keepdim),
    "numpy-names": lambda x, p, dim, keepdim: minigrad.norm(x, p, axis=dim, keepdims=keepdim),
}


@st.composite
def _diagonal_case(draw):
    shape = draw(shapes(min_dims=2, max_dims=4))
    ndim = len(shape)
    dim1, dim2 = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2, unique_by=lambda d: d % ndim))
    return Case((draw(arrays(shape)),), {"offset": draw(st.integers(-3, 3)), "dim1": dim1, "dim2": dim2})


@st.composite
def _diag_embed_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    ndim = len(shape) + 1
    dim1, dim2 = draw(st.lists(st.integers(-ndim, ndim - 1), min_size=2, max_size=2, unique_by=lambda d: d % ndim))
    return Case((draw(arrays(shape)),), {"offset": draw(st.integers(-2, 2)), "dim1": dim1, "dim2": dim2})


def _diag_embed_ref(x, offset, dim1, dim2):
    """Zeros with x's last dimension on the offset diagonal of the (dim1, dim2) planes, by loops."""
    n = x.shape[-1]
    side = n + abs(offset)
    ndim = x.ndim + 1
    d1, d2 = dim1 % ndim, dim2 % ndim
    plane = np.zeros(x.shape[:-1] + (side, side), dtype=x.dtype)
    for i in range(n):
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        plane[..., r, c] = x[..., i]
    return np.moveaxis(plane, (-2, -1), (d1, d2))


@st.composite
def _triangle_case(draw):
    shape = draw(shapes(min_dims=2, max_dims=4))
    return Case((draw(arrays(shape)),), {"diagonal": draw(st.integers(-3, 3))})


@st.composite
def _flip_case(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    n = max(len(shape), 1)
    dims = draw(st.lists(st.integers(-n, n - 1), max_size=n, unique_by=lambda d: d % n)) if shape else []
    return Case((draw(arrays(shape)),), {"dims": tuple(dims)})


@st.composite
def _roll_case(draw):
    shape = draw(shapes(min_dims=0, max_dims=3))
    ndim = len(shape)
    if not ndim or draw(st.booleans()):
        return Case((draw(arrays(shape)),), {"shifts": draw(st.integers(-5, 5)), "dims": None})
    dims = tuple(draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=3)))
    shifts = tuple(draw(st.lists(st.integers(-5, 5), min_size=len(dims), max_size=len(dims))))
    return Case((draw(arrays(shape)),), {"shifts": shifts, "dims": dims})


def _roll_ref(x, shifts, dims):
    return np.roll(x, shifts) if dims is None else np.roll(x, shifts, dims)


LINALG_BREADTH = [
    OpRecord(
        contraction._einsum,
        lambda *xs, equation: minigrad.einsum(equation, *xs),
        lambda *xs, equation: np.einsum(equation, *xs),
        _einsum_case(EINSUM_TWO),
        spellings=EINSUM_SPELLINGS,
        **BREADTH,
    ),
    OpRecord(
        contraction._einsum,
        lambda *xs, equation: minigrad.einsum(equation, *xs),
        lambda *xs, equation: np.einsum(equation, *xs),
        _einsum_case(EINSUM_ONE),
        spellings=EINSUM_SPELLINGS,
        id="einsum-one-operand",  # diagonals, sums and a permutation: no contraction is left
        **BREADTH,
    ),
    OpRecord(
        contraction._einsum,
        lambda *xs, equation: minigrad.einsum(equation, *xs),
        lambda *xs, equation: np.einsum(equation, *xs),
        _einsum_case(EINSUM_THREE),
        spellings=EINSUM_SPELLINGS,
        positions=(0, 1, None),  # two contractions: the third operand enters the second one
        id="einsum-three-operands",
        examples=8,
        forward_examples=8,
    ),
    OpRecord(
        linalg._vector_norm,
        lambda x, p, dim, keepdim: minigrad.norm(x, p=p, dim=dim, keepdim=keepdim),
        _norm_ref,
        _norm_case(),
        spellings=NORM_SPELLINGS,
        kinked=True,
        signature_shape=lambda case: case.arrays[0].shape,
        examples=30,
        forward_examples=20,
    ),
    OpRecord(
        linalg._vector_norm,
        lambda x, p, dim, keepdim: minigrad.norm(x, p=p, dim=dim, keepdim=keepdim),
        _norm_ref,
        _norm_case(orders=(0,)),
        spellings=NORM_SPELLINGS,
        kinked=True,
        second_order=False,  # the count of nonzeros: its gradient is a constant 0, as PyTorch's
        signature_shape=lambda case: case.arrays[0].shape,
        id="vector_norm-count",
        **BREADTH,
    ),
    OpRecord(
        linalg._diagonal,
        lambda x, offset, dim1, dim2: minigrad.diagonal(x, offset, dim1, dim2),
        lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2),
        _diagonal_case(),
        spellings={"method": lambda x, offset, dim1, dim2: x.diagonal(offset=offset, dim1=dim1, dim2=dim2)},
        exact=True,
        **BREADTH,
    ),
    OpRecord(
        linalg._diag_embed,
        lambda x, offset, dim1, dim2: minigrad.diag_embed(x, offset, dim1, dim2),
        _diag_embed_ref,
        _diag_embed_case(),
        spellings={"method": lambda x, offset, dim1, dim2: x.diag_embed(offset=offset, dim1=dim1, dim2=dim2)},
        exact=True,
        **BREADTH,
    ),
    OpRecord(
        construct._tril,
        lambda x, diagonal: minigrad.tril(x, diagonal),
        lambda x, diagonal: np.tril(x, diagonal),
        _triangle_case(),
        spellings={"method": lambda x, diagonal: x.tril(diagonal=diagonal)},
        exact=True,
        **BREADTH,
    ),
    OpRecord(
        construct._triu,
        lambda x, diagonal: minigrad.triu(x, diagonal),
        lambda x, diagonal: np.triu(x, diagonal),
        _triangle_case(),
        spellings={"method": lambda x, diagonal: x.triu(diagonal=diagonal)},
        exact=True,
        **BREADTH,
    ),
    OpRecord(
        construct._flip,
        lambda x, dims: minigrad.flip(x, dims),
        lambda x, dims: np.flip(x, dims).copy() if x.ndim else x.copy(),
        _flip_case(),
        spellings={
            "method-varargs": lambda x, dims: x.flip(*dims),
            "method-dims": lambda x, dims: x.flip(dims=list(dims)),
        },
        exact=True,
        **BREADTH,
    ),
    OpRecord(
        construct._roll,
        lambda x, shifts, dims: minigrad.roll(x, shifts, dims),
        _roll_ref,
        _roll_case(),
        spellings={"method": lambda x, shifts, dims: x.roll(shifts, dims)},
        exact=True,
        **BREADTH,
    ),
]


# --- scans (minigrad/ops/scan.py) -----------------------------------------------------------------


@st.composite
def _scan_case(draw):
    shape = draw(shapes())  # empty dims included
    dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    spelling = draw(st.sampled_from(["function", "method", "axis"]))
    return Case((draw(arrays(shape)),), {"dim": dim, "spelling": spelling})


def _cumsum_call(x, dim, spelling):
    if spelling == "function":
        return minigrad.cumsum(x, dim)
    if spelling == "method":
        return x.cumsum(dim=dim)
    return minigrad.cumsum(x, axis=dim)


SCANS = [
    OpRecord(
        scan._cumsum,
        _cumsum_call,
        lambda x, dim, spelling: np.cumsum(x, axis=dim) if np.ndim(x) else np.asarray(x).copy(),
        _scan_case(),
    ),
]


# --- scans, sorting and prod (minigrad/ops/scan.py, sorting.py; prod in reduction.py) ------------------


def _factors():
    """Factors near 1 in size, with exact zeros often (prod's and cumprod's gradients at zeros).

    Near 1 so that a product of up to 27 of them stays moderate: the second-order check's centered
    differences of a product of large factors carry an absolute noise its atol cannot absorb.
    """
    return st.one_of(st.just(0.0), st.floats(0.6, 1.25), st.floats(-1.25, -0.6))


@st.composite
def _dim_case(draw, elements=None, distinct=False, nonempty_dim=False, max_side=4):
    """A shape (empty dims included), a dim of it, a spelling; distinct values (no ties) for picking ops."""
    shape = draw(shapes(min_side=0, max_side=max_side))
    dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    if nonempty_dim and shape and shape[dim] == 0:
        shape = tuple(1 if i == dim % len(shape) else s for i, s in enumerate(shape))
    x = draw(distinct_arrays(shape)) if distinct else draw(arrays(shape, elements))
    return Case((x,), {"dim": dim, "spelling": draw(st.sampled_from(["function", "method"]))})


def _spelled(name, *args, field=None):
    def call(x, dim, spelling, **params):
        fn = getattr(minigrad, name) if spelling == "function" else getattr(x, name).__func__
        out = fn(x, *[params[a] for a in args], dim) if args else fn(x, dim)
        return out if field is None else getattr(out, field)

    return call


@st.composite
def _prod_case(draw):
    shape = draw(shapes(min_side=0, max_side=3))
    style = draw(st.sampled_from(["dim", "all", "axis-tuple", "method"]))
    dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    if style == "axis-tuple":
        dim = draw(axes(len(shape), allow_none=False)) if shape else 0
    return Case((draw(arrays(shape, _factors())),), {"dim": dim, "keepdim": draw(st.booleans()), "style": style})


def _prod_call(x, dim, keepdim, style):
    if style == "all":
        return minigrad.prod(x)
    if style == "axis-tuple":
        return minigrad.prod(x, axis=dim, keepdims=keepdim)
    if style == "method":
        return x.prod(dim, keepdim=keepdim)
    return minigrad.prod(x, dim=dim, keepdim=keepdim)


def _prod_ref(x, dim, keepdim, style):
    if style == "all":
        return np.prod(x)
    if np.ndim(x) == 0:
        return np.asarray(x).copy()
    return np.prod(x, axis=dim, keepdims=keepdim)


@st.composite
def _topk_case(draw):
    case = draw(_dim_case(distinct=True))
    x = case.arrays[0]
    size = x.shape[case.params["dim"]] if x.ndim else 1
    params = {**case.params, "k": draw(st.integers(0, size)), "largest": draw(st.booleans())}
    return Case(case.arrays, params)


def _topk_call(x, dim, spelling, k, largest):
    fn = minigrad.topk if spelling == "function" else type(x).topk
    return fn(x, k, dim, largest).values


def _topk_ref(x, dim, spelling, k, largest):
    if np.ndim(x) == 0:
        return np.asarray(x).copy()
    s = np.sort(x, axis=dim)
    s = np.flip(s, axis=dim) if largest else s
    return np.take(s, np.arange(k), axis=dim)


@st.composite
def _kth_case(draw):
    case = draw(_dim_case(distinct=True, nonempty_dim=True))
    x = case.arrays[0]
    size = x.shape[case.params["dim"]] if x.ndim else 1
    return Case(case.arrays, {**case.params, "k": draw(st.integers(1, size)), "keepdim": draw(st.booleans())})


def _kth_call(x, dim, spelling, k, keepdim):
    fn = minigrad.kthvalue if spelling == "function" else type(x).kthvalue
    return fn(x, k, dim, keepdim).values


def _kth_ref(x, dim, spelling, k, keepdim):
    if np.ndim(x) == 0:
        return np.asarray(x).copy()
    out = np.take(np.sort(x, axis=dim), [k - 1], axis=dim)
    return out if keepdim else np.squeeze(out, axis=dim)


@st.composite
def _keep_case(draw, elements=None, distinct=True):
    case = draw(_dim_case(elements, distinct=distinct, nonempty_dim=True))
    return Case(case.arrays, {**case.params, "keepdim": draw(st.booleans())})


def _median_call(x, dim, spelling, keepdim):
    fn = minigrad.median if spelling == "function" else type(x).median
    return fn(x, dim, keepdim).values


def _median_ref(x, dim, spelling, keepdim):
    if np.ndim(x) == 0:
        return np.asarray(x).copy()
    n = x.shape[dim]
    out = np.take(np.sort(x, axis=dim), [(n - 1) // 2], axis=dim)
    return out if keepdim else np.squeeze(out, axis=dim)


def _mode_call(x, dim, spelling, keepdim):
    fn = minigrad.mode if spelling == "function" else type(x).mode
    return fn(x, dim, keepdim).values


def _mode_of(v):
    values, counts = np.unique(v, return_counts=True)  # sorted: argmax picks the smallest of the modes
    return values[np.argmax(counts)]


def _mode_ref(x, dim, spelling, keepdim):
    if np.ndim(x) == 0:
        return np.asarray(x).copy()
    if x.size == 0:  # nothing to count: the empty result of the right shape
        out = np.take(x, [0], axis=dim)
    else:
        out = np.expand_dims(np.apply_along_axis(_mode_of, dim, x), dim)
    return out if keepdim else np.squeeze(out, axis=dim)


def _scan_ref(fn):
    return lambda x, dim, spelling: fn(x, axis=dim) if np.ndim(x) else np.asarray(x).copy()


def _logcumsumexp_ref(x, axis):
    return np.logaddexp.accumulate(np.asarray(x, dtype=np.float64), axis=axis)


SORTING = [
    OpRecord(reduction._prod, _prod_call, _prod_ref, _prod_case(), forward_examples=None),
    OpRecord(scan._cumprod, _spelled("cumprod"), _scan_ref(np.cumprod), _dim_case(_factors(), max_side=3)),
    OpRecord(scan._logcumsumexp, _spelled("logcumsumexp"), _scan_ref(_logcumsumexp_ref), _dim_case()),
    OpRecord(
        scan._cummax,
        _spelled("cummax", field="values"),
        _scan_ref(np.maximum.accumulate),
        _dim_case(distinct=True),
        kinked=True,
        exact=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
    OpRecord(
        scan._cummin,
        _spelled("cummin", field="values"),
        _scan_ref(np.minimum.accumulate),
        _dim_case(distinct=True),
        kinked=True,
        exact=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
    OpRecord(
        sorting._sort,
        _spelled("sort", field="values"),
        _scan_ref(np.sort),
        _dim_case(distinct=True),
        spellings={"msort": lambda x, dim, spelling: minigrad.sort(x, dim=dim, descending=False)[0]},
        kinked=True,
        exact=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
    OpRecord(sorting._topk, _topk_call, _topk_ref, _topk_case(), kinked=True, exact=True),
    OpRecord(sorting._kthvalue, _kth_call, _kth_ref, _kth_case(), kinked=True, exact=True),
    OpRecord(sorting._median, _median_call, _median_ref, _keep_case(), kinked=True, exact=True),
    OpRecord(
        sorting._mode,
        _mode_call,
        _mode_ref,
        _keep_case(),
        forward_case=_keep_case(st.sampled_from([-1.0, 0.0, 0.5, 2.0]), distinct=False),  # ties: counts matter
        kinked=True,
        exact=True,
    ),
]


# --- binary cross-entropy of probabilities (minigrad.ops.loss_breadth) ------------------------------


def _bce_probability_ref(x, t):
    """-(t log x + (1 - t) log(1 - x)), each log clamped at -100, as PyTorch."""
    return -(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100))


LOSS_BREADTH = [
    OpRecord(
        loss_breadth._binary_cross_entropy,
        lambda x, t: F.binary_cross_entropy(x, t, reduction="none"),
        _bce_probability_ref,
        case_of(values(0.05, 0.95), values(0.0, 1.0), broadcast=False),
        examples=20,
    ),
]


# --- activations (minigrad/ops/activation.py, issue #17) -------------------------------------------------

from minigrad.ops import activation  # noqa: E402


def _gelu_ref(x, approximate="none"):
    x = np.asarray(x, dtype=np.float64)
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return 0.5 * x * (1 + _erf_ref(x / math.sqrt(2)))


ACTIVATIONS = [
    OpRecord(
        activation.gelu,
        lambda x, approximate: F.gelu(x, approximate=approximate),
        _gelu_ref,
        case_of(values(-5.0, 5.0), params=st.sampled_from([{"approximate": "none"}, {"approximate": "tanh"}])),
        spellings={"module": lambda x, approximate: minigrad.nn.GELU(approximate)(x)},
    ),
]

# the ELU kernel's settings behind elu (alpha), celu (input_scale = 1 / alpha) and selu (its alpha and scale)
_SELU = {"alpha": 1.6732632423543772848170429916717, "scale": 1.0507009873554804934193349852946, "input_scale": 1.0}
ELU_SETTINGS = [
    {"alpha": 1.0, "scale": 1.0, "input_scale": 1.0},
    {"alpha": 0.5, "scale": 1.0, "input_scale": 1.0},
    {"alpha": -1.5, "scale": 1.0, "input_scale": 1.0},
    {"alpha": 2.0, "scale": 1.0, "input_scale": 0.5},
    _SELU,
]


def _elu_ref(x, alpha, scale, input_scale):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(x * input_scale))


def _elu_public(x, alpha, scale, input_scale):
    """The public function that reaches the ELU kernel with these settings."""
    if scale != 1.0:
        return F.selu(x)
    if input_scale != 1.0:
        return F.celu(x, alpha)
    return F.elu(x, alpha)


def _elu_module(x, alpha, scale, input_scale):
    if scale != 1.0:
        return minigrad.nn.SELU()(x)
    if input_scale != 1.0:
        return minigrad.nn.CELU(alpha)(x)
    return minigrad.nn.ELU(alpha)(x)


HARDTANH_BOUNDS = [(-1.0, 1.0), (0.0, 6.0), (-0.5, 2.0)]
SOFTPLUS_SETTINGS = [(1.0, 20.0), (2.0, 4.0), (0.5, 1.0), (-1.0, 20.0), (1.0, math.inf)]  # kinks at x = 20, 2, 2
SHRINK_LAMBDAS = [0.5, 1.0, 0.0]
THRESHOLDS = [(0.5, 2.0), (-1.0, -7.0)]


def _softplus_ref(x, beta, threshold):
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _softshrink_ref(x, lambd):
    return np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0 * x))


def _hardshrink_ref(x, lambd):
    return np.where(np.abs(x) > lambd, x, 0 * x)


@st.composite
def _prelu_case(draw):
    """x of shape (N, C, ...) or fewer dimensions, and a weight of 1 or C entries; x away from the kink at 0."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.lists(st.integers(0 if ndim > 2 else 1, 3), min_size=ndim, max_size=ndim)))
    channels = shape[1] if ndim >= 2 else 1
    count = draw(st.sampled_from(sorted({1, channels})))
    return Case((draw(arrays(shape, values(avoid=(0.0,)))), draw(arrays((count,), values(-1.0, 1.5)))))


def _prelu_module(x, weight):
    layer = minigrad.nn.PReLU(weight.shape[0])
    layer.weight = minigrad.nn.Parameter(weight) if not weight.requires_grad else weight
    return layer(x)


ACTIVATIONS += [
    OpRecord(
        activation.elu,
        lambda x, alpha, scale, input_scale: activation.elu(x, alpha=alpha, scale=scale, input_scale=input_scale),
        _elu_ref,
        case_of(values(-4.0, 3.0, avoid=(0.0,)), params=st.sampled_from(ELU_SETTINGS)),
        spellings={"functional": _elu_public, "module": _elu_module},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.hardtanh,
        lambda x, min_val, max_val: F.hardtanh(x, min_val, max_val),
        lambda x, min_val, max_val: np.clip(x, x.dtype.type(min_val), x.dtype.type(max_val)),
        case_of(
            values(-2.0, 7.0, avoid=(-1.0, -0.5, 0.0, 1.0, 2.0, 6.0)),
            params=st.sampled_from(HARDTANH_BOUNDS).map(lambda b: {"min_val": b[0], "max_val": b[1]}),
        ),
        spellings={
            "module": lambda x, min_val, max_val: minigrad.nn.Hardtanh(min_val, max_val)(x),
            "primitive": lambda x, min_val, max_val: activation.hardtanh(x, min_val=min_val, max_val=max_val),
        },
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.softplus,
        lambda x, beta, threshold: F.softplus(x, beta, threshold),
        _softplus_ref,
        case_of(
            values(-6.0, 6.0, avoid=(2.0,)),
            params=st.sampled_from(SOFTPLUS_SETTINGS).map(lambda b: {"beta": b[0], "threshold": b[1]}),
        ),
        spellings={"module": lambda x, beta, threshold: minigrad.nn.Softplus(beta, threshold)(x)},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.softshrink,
        lambda x, lambd: F.softshrink(x, lambd),
        _softshrink_ref,
        case_of(
            values(avoid=(-1.0, -0.5, 0.0, 0.5, 1.0)),
            params=st.sampled_from(SHRINK_LAMBDAS).map(lambda v: {"lambd": v}),
        ),
        spellings={"module": lambda x, lambd: minigrad.nn.Softshrink(lambd)(x)},
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.hardshrink,
        lambda x, lambd: F.hardshrink(x, lambd),
        _hardshrink_ref,
        case_of(
            values(avoid=(-1.0, -0.5, 0.0, 0.5, 1.0)),
            params=st.sampled_from(SHRINK_LAMBDAS).map(lambda v: {"lambd": v}),
        ),
        spellings={
            "module": lambda x, lambd: minigrad.nn.Hardshrink(lambd)(x),
            "torch": lambda x, lambd: minigrad.hardshrink(x, lambd),
        },
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.threshold,
        lambda x, threshold, value: F.threshold(x, threshold, value),
        lambda x, threshold, value: np.where(x <= threshold, x.dtype.type(value), x),
        case_of(
            values(avoid=(-1.0, 0.5)),
            params=st.sampled_from(THRESHOLDS).map(lambda b: {"threshold": b[0], "value": b[1]}),
        ),
        spellings={
            "module": lambda x, threshold, value: minigrad.nn.Threshold(threshold, value)(x),
            "torch": lambda x, threshold, value: minigrad.threshold(x, threshold, value),
        },
        kinked=True,
        signature_shape=_broadcast_shape,
    ),
    OpRecord(
        activation.prelu,
        F.prelu,
        lambda x, w: np.where(x > 0, x, x * (w.reshape(()) if w.size == 1 else w.reshape((-1,) + (1,) * (x.ndim - 2)))),
        _prelu_case(),
        spellings={"torch": minigrad.prelu, "module": _prelu_module},
        positions=(0, 1),
        kinked=True,
        signature_shape=lambda case: np.shape(case.arrays[0]),
        examples=30,
    ),
]


# --- median() of all elements (sorting._median_all): its gradient is shared by ties, as PyTorch's -----


@st.composite
def _median_all_case(draw):
    x = draw(distinct_arrays(draw(shapes(min_side=1, max_side=4))))
    return Case((x,), {"spelling": draw(st.sampled_from(["function", "method"]))})


def _median_all_ref(x, spelling):
    flat = np.sort(np.ravel(x))
    return np.asarray(flat[(flat.size - 1) // 2])


MEDIAN_ALL = [
    OpRecord(
        sorting._median_all,
        lambda x, spelling: minigrad.median(x) if spelling == "function" else x.median(),
        _median_all_ref,
        _median_all_case(),
        kinked=True,
        exact=True,
        signature_shape=lambda case: case.arrays[0].shape,
    ),
]


# --- indexing along a dimension (minigrad/ops/indexing.py; selection.py composes them; issue #16) --------

from minigrad.ops import indexing  # noqa: E402


@st.composite
def _along_case(draw, distinct=False, with_src=True, elements=None, no_ties=False, reduce_flag=False, larger_src=True):
    """x (1 to 3 dims, empty ones too), a dim (either sign), an index along it that fits PyTorch's rules
    (no larger than x apart from dim), distinct positions per fibre with ``distinct`` (scatter: no
    repeated writes), a src no smaller than the index (one larger in some dims with ``larger_src``: its
    leading block is read; the kinked ops keep src the index's size, so that their primitive is the call's
    first op); values without ties with ``no_ties``."""
    shape = draw(shapes(min_dims=1, min_side=0, max_side=4))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    axis = dim % len(shape)
    size = shape[axis]
    index_shape = [draw(st.integers(0, s)) for s in shape]
    index_shape[axis] = draw(st.integers(0, size)) if distinct else (draw(st.integers(0, 4)) if size else 0)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if distinct:  # the first index_shape[axis] of a permutation of each fibre
        keys = rng.random([size if d == axis else n for d, n in enumerate(index_shape)])
        index = np.argsort(keys, axis=axis)[tuple(slice(0, n) for n in index_shape)].astype(np.int64)
    else:
        index = rng.integers(0, max(size, 1), size=index_shape).astype(np.int64)
    src_shape = tuple(n + (draw(st.integers(0, 1)) if larger_src else 0) for n in index_shape)
    if no_ties:
        both = draw(distinct_arrays((math.prod(shape) + math.prod(src_shape),)))
        x, src = both[: math.prod(shape)].reshape(shape), both[math.prod(shape) :].reshape(src_shape)
    else:
        x, src = draw(arrays(shape, elements)), draw(arrays(src_shape, elements))
    params = {"dim": dim, "spelling": draw(st.sampled_from(["function", "method"]))}
    if reduce_flag:
        params["include_self"] = draw(st.booleans())
    if not with_src:
        return Case((x, index), params, constant=(1,))
    return Case((x, index, src), params, constant=(1,))


def _lead(index, axis, shape=None):
    """The leading block of an array of ``shape`` that an index addresses (all of dim ``axis`` when shape)."""
    if shape is None:
        return tuple(slice(0, n) for n in index.shape)
    return tuple(slice(None) if d == axis else slice(0, n) for d, n in enumerate(index.shape))


def _gather_ref(x, index, dim, spelling):
    axis = dim % x.ndim
    return np.take_along_axis(x[_lead(index, axis, x.shape)], index, axis=axis)


def _scatter_ref(x, index, src, dim, spelling):
    axis = dim % x.ndim
    out = x.copy()
    np.put_along_axis(out[_lead(index, axis, x.shape)], index, src[_lead(index, axis)], axis=axis)
    return out


def _scatter_add_ref(x, index, src, dim, spelling):
    axis = dim % x.ndim
    out = x.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    np.add.at(out, tuple(grid), src[_lead(index, axis)])
    return out


def _scatter_loop_ref(combine, x, index, src, dim, include_self):
    """The formula, one write at a time in index's C order: out[pos] = combine(out[pos], src[i])."""
    axis = dim % x.ndim
    out = x.copy()
    seen = set()
    for i in np.ndindex(index.shape):
        pos = list(i)
        pos[axis] = index[i]
        pos = tuple(pos)
        if not include_self and pos not in seen:
            out[pos] = src[i]
        else:
            out[pos] = combine(out[pos], src[i])
        seen.add(pos)
    return out


def _along_call(name, *fixed, **keywords):
    def call(x, index, *rest, dim, spelling, **params):
        fn = getattr(minigrad, name) if spelling == "function" else getattr(type(x), name)
        return fn(x, dim, index, *rest, *fixed, **keywords, **params)

    return call


INDEXING = [
    OpRecord(indexing._gather, _along_call("gather"), _gather_ref, _along_case(with_src=False), exact=True),
    OpRecord(
        indexing._scatter,
        _along_call("scatter"),
        _scatter_ref,
        _along_case(distinct=True),
        spellings={"src-keyword": lambda x, index, src, dim, spelling: x.scatter(dim, index, src=src)},
        exact=True,
    ),
    OpRecord(
        indexing._gather_backward,
        _along_call("scatter_add"),
        _scatter_add_ref,
        _along_case(),
        positions=(None, 1, 0),
        spellings={"reduce-add": lambda x, index, src, dim, spelling: x.scatter(dim, index, src, reduce="add")},
    ),
    OpRecord(
        indexing._scatter_prod,
        _along_call("scatter_reduce", "prod"),
        lambda x, index, src, dim, spelling, include_self: _scatter_loop_ref(
            np.multiply, x, index, src, dim, include_self
        ),
        _along_case(elements=_factors(), reduce_flag=True),
    ),
    OpRecord(
        indexing._scatter_extreme,
        _along_call("scatter_reduce", "amax"),
        lambda x, index, src, dim, spelling, include_self: _scatter_loop_ref(
            np.maximum, x, index, src, dim, include_self
        ),
        _along_case(no_ties=True, reduce_flag=True, larger_src=False),
        kinked=True,
        exact=True,
        signature_shape=lambda case: (case.arrays[0].size + case.arrays[2].size,),
        id="scatter_amax",
    ),
    OpRecord(
        indexing._scatter_extreme,
        _along_call("scatter_reduce", "amin"),
        lambda x, index, src, dim, spelling, include_self: _scatter_loop_ref(
            np.minimum, x, index, src, dim, include_self
        ),
        _along_case(no_ties=True, reduce_flag=True, larger_src=False),
        kinked=True,
        exact=True,
        id="scatter_amin",
    ),
]


RECORDS = ELEMENTWISE + POINTWISE + REDUCTIONS + SHAPE + LINALG + CONV + LOSSES
RECORDS += LINALG_BREADTH
RECORDS += SCANS
RECORDS += SORTING
RECORDS += LOSS_BREADTH
RECORDS += ACTIVATIONS
RECORDS += MEDIAN_ALL
RECORDS += INDEXING
# issue #16's elementwise sweep (minigrad/ops/arith.py, ...)
from minigrad.ops import arith as arith_ops  # noqa: E402
from minigrad.ops import numeric as numeric_ops  # noqa: E402
from minigrad.ops import special as special_ops  # noqa: E402


def _each(fn, dtype=np.float64):
    return lambda x, **params: np.vectorize(lambda v: fn(v, **params), otypes=[dtype])(np.asarray(x, np.float64))


def _erfinv_reference(y):
    """Bisection on math.erf: erf is increasing, 80 halvings of [-7, 7] pin x to a float64 ulp."""
    lo, hi = -7.0, 7.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if math.erf(mid) < y else (lo, mid)
    return (lo + hi) / 2


def _hurwitz_reference(x, s, terms=100000):
    """sum_k 1/(x + k)^s by 10^5 direct terms and the integral tail (its error is below 1e-20 there)."""
    k = np.arange(terms, dtype=np.float64)
    z = x + terms
    return float(np.sum(1.0 / (x + k) ** s)) + z ** (1 - s) / (s - 1) + 0.5 * z ** (-s)


def _polygamma_reference(x, n):
    if n == 0:
        k = np.arange(100000, dtype=np.float64)
        z = x + 100000
        return math.log(z) - 0.5 / z - 1 / (12 * z * z) - float(np.sum(1.0 / (x + k)))
    return (-1.0) ** (n + 1) * math.factorial(n) * _hurwitz_reference(x, n + 1)


SWEEP_ELEMENTWISE = [
    _smooth(arith_ops.reciprocal, np.reciprocal, nonzero()),
    _smooth(special_ops.erfc, _each(math.erfc), values()),
    _smooth(special_ops.erfinv, _each(_erfinv_reference), values(-0.9, 0.9)),
    _smooth(special_ops.lgamma, _each(math.lgamma), values(0.3, 4.0)),
    _smooth(special_ops.digamma, _each(lambda v: _polygamma_reference(v, 0)), values(0.3, 4.0)),
    OpRecord(
        special_ops._polygamma,
        lambda x, n: minigrad.polygamma(n, x),
        _each(_polygamma_reference),
        case_of(values(0.5, 3.0), params=st.fixed_dictionaries({"n": st.sampled_from([1, 2, 3])})),
        spellings={"method": lambda x, n: x.polygamma(n)},
        **FEW,
    ),
    _smooth(special_ops.i0, np.i0, values()),
    _smooth(special_ops.sinc, np.sinc, values(avoid=(0.0,), gap=1e-2)),
    OpRecord(
        special_ops._logit,
        lambda x, eps: minigrad.logit(x, eps),
        lambda x, eps: (
            np.log(np.clip(x, eps, 1 - eps) / (1 - np.clip(x, eps, 1 - eps)))
            if eps is not None
            else np.log(x / (1 - x))
        ),
        case_of(
            values(0.02, 0.98, avoid=(0.1, 0.9), gap=1e-2),
            params=st.fixed_dictionaries({"eps": st.sampled_from([None, 0.1])}),
        ),
        spellings={"method": lambda x, eps: x.logit(eps)},
        kinked=True,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    _binary_record(
        special_ops.xlogy, lambda x, y: x * np.log(y), case_of(nonzero(), values(0.2, 3.0)), spellings=_method("xlogy")
    ),
    _unary(
        numeric_ops.frac,
        minigrad.frac,
        lambda x: x - np.trunc(x),
        values(avoid=INTEGERS, gap=1e-2),
        spellings=_method("frac"),
        kinked=True,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    OpRecord(
        numeric_ops.fmax,
        minigrad.fmax,
        np.fmax,
        _separated_case(),
        spellings=_method("fmax"),
        kinked=True,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    OpRecord(
        numeric_ops.fmin,
        minigrad.fmin,
        np.fmin,
        _separated_case(),
        spellings=_method("fmin"),
        kinked=True,
        signature_shape=_broadcast_shape,
        **FEW,
    ),
    _binary_record(
        numeric_ops.nextafter,
        np.nextafter,
        case_of(values(), values()),
        second_order=False,
        spellings=_method("nextafter"),
    ),
    OpRecord(
        numeric_ops._nan_to_num,
        lambda x: minigrad.nan_to_num(x),
        np.nan_to_num,
        case_of(values()),
        spellings={"method": lambda x: x.nan_to_num()},
        **FEW,
    ),
]
RECORDS += SWEEP_ELEMENTWISE

# --- the shape, stacking and linear-algebra sweep of issue #16 -----------------------------------------------


@st.composite
def _tensor_unfold_case(draw):
    shape = draw(shapes(min_dims=1, max_dims=3))
    dimension = draw(st.integers(-len(shape), len(shape) - 1))
    size = draw(st.integers(0, shape[dimension]))
    return Case((draw(arrays(shape)),), {"dimension": dimension, "size": size, "step": draw(st.integers(1, 3))})


def _tensor_unfold_ref(x, dimension, size, step):
    """out[..., i, ..., j] = x[..., i * step + j, ...], by a loop over the windows."""
    d = dimension % x.ndim
    count = (x.shape[d] - size) // step + 1
    moved = np.moveaxis(x, d, -1)
    windows = np.stack([moved[..., i * step : i * step + size] for i in range(count)], axis=-2)
    return np.moveaxis(windows, -2, d)


SWEEP = [
    OpRecord(
        stacking._unfold,
        lambda x, dimension, size, step: x.unfold(dimension, size, step),
        _tensor_unfold_ref,
        _tensor_unfold_case(),
        exact=True,
        **BREADTH,
    ),
]


@st.composite
def _matrices(draw, batch=None):
    """Well-conditioned square matrices (a random part of norm < 1 plus 2 I), batched, n from 0 to 3."""
    batch = draw(shapes(min_dims=0, max_dims=2, max_side=2)) if batch is None else batch
    n = draw(st.integers(0, 3))
    a = draw(arrays(batch + (n, n), values(-1.0, 1.0))) / max(n, 1)
    return a + 2.0 * np.eye(n)


@st.composite
def _square_case(draw):
    return Case((draw(_matrices()),))


@st.composite
def _solve_case(draw):
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2)).input_shapes
    a = draw(_matrices(batch_a))
    n = a.shape[-1]
    b = draw(arrays(batch_b + (n, draw(st.integers(0, 3)))))
    return Case((a, b))


def _spd(x):
    """The symmetric part of x: cholesky reads one triangle, so its gradient is taken for symmetric input."""
    return (x + x.mT) * 0.5


def _solve_ref(a, b):
    shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return np.linalg.solve(np.broadcast_to(a, shape + a.shape[-2:]), np.broadcast_to(b, shape + b.shape[-2:]))


SWEEP += [
    OpRecord(
        decomp._inv,
        minigrad.inverse,
        np.linalg.inv,
        _square_case(),
        spellings={"linalg": lambda x: minigrad.linalg.inv(x), "method": lambda x: x.inverse()},
        **BREADTH,
    ),
    OpRecord(
        decomp._det,
        minigrad.det,
        np.linalg.det,
        _square_case(),
        spellings={"linalg": lambda x: minigrad.linalg.det(x), "method": lambda x: x.det()},
        **BREADTH,
    ),
    OpRecord(
        decomp._logabsdet,
        lambda x: minigrad.slogdet(x).logabsdet,
        lambda x: np.linalg.slogdet(x)[1],
        _square_case(),
        spellings={"linalg": lambda x: minigrad.linalg.slogdet(x)[1], "logdet": minigrad.logdet},
        **BREADTH,
    ),
    OpRecord(decomp._solve, lambda a, b: minigrad.linalg.solve(a, b), _solve_ref, _solve_case(), **BREADTH),
    OpRecord(
        decomp._cholesky,
        lambda x: minigrad.cholesky(_spd(x)),
        lambda x: np.linalg.cholesky((x + np.swapaxes(x, -1, -2)) / 2),
        _square_case(),
        positions=(None,),
        spellings={"linalg": lambda x: minigrad.linalg.cholesky(_spd(x))},
        # the factor's upper triangle is structurally 0, so are its derivatives, where the analytic side
        # rounds to ~1e-19 (as test_decomp's cholesky checks): differences below 1e-16 absolute agree
        gradcheck={"floor": 1e-9},
        **BREADTH,
    ),
]


@st.composite
def _pinv_case(draw):
    """Full-rank rectangular matrices (the pinv gradient holds at constant rank): a random part plus 2 I."""
    batch = draw(shapes(min_dims=0, max_dims=1, max_side=2))
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a = draw(arrays(batch + (m, n), values(-1.0, 1.0))) / max(m, n) + 2.0 * np.eye(m, n)
    return Case((a,), {"rcond": draw(st.sampled_from([1e-15, 1e-3]))})


SWEEP += [
    OpRecord(
        decomp._pinv,
        lambda x, rcond: minigrad.pinverse(x, rcond),
        lambda x, rcond: np.linalg.pinv(x, rcond=rcond),
        _pinv_case(),
        spellings={
            "linalg": lambda x, rcond: minigrad.linalg.pinv(x, rtol=rcond),
            "method": lambda x, rcond: x.pinverse(rcond),
        },
        # the SVD forward rounds to ~n eps ||A+|| absolute (LAPACK's backward-stable bound), above the
        # per-output noise estimate: differences below 1e-10 absolute (gradients of size ~1) agree
        gradcheck={"floor": 1e-3},
        **BREADTH,
    ),
]
# --- linalg gradients (issue #16): svd, qr ------------------------------------------------------------------------


def _orthogonal(draw, batch, n):
    """A random orthogonal (..., n, n): the Q of a drawn matrix plus 2 I (well away from rank deficiency)."""
    x = draw(arrays(batch + (n, n), values(-1.0, 1.0))) + 2.0 * np.eye(n)
    return np.linalg.qr(x)[0] if n else x


@st.composite
def _svd_case(draw, square=False):
    """U diag(s) V^T from random orthogonal factors, singular values in [0.5, 3] at least 0.3 apart: the
    SVD's gradient is smooth there (it blows up as 1 / (s_j^2 - s_i^2) where they meet)."""
    batch = draw(shapes(min_dims=0, max_dims=1, max_side=2))
    m = draw(st.integers(1, 3))
    n = m if square else draw(st.integers(1, 3))
    k = min(m, n)
    gaps = draw(arrays((k,), values(0.3, 0.6)))
    s = 0.5 + np.cumsum(gaps)[::-1] - gaps[0] * 0.5
    u = _orthogonal(draw, batch, m)[..., :k]
    v = _orthogonal(draw, batch, n)[..., :k]
    return Case(((u * s) @ np.swapaxes(v, -1, -2),))


def _outer(u):
    """(..., m, m, k): the outer product of each column of u with itself, which the column's sign leaves alone."""
    return u[..., :, None, :] * u[..., None, :, :]


def _np_svd(x):
    return np.linalg.svd(x, full_matrices=False)


SWEEP_SVD = [
    # U and Vh are fixed only up to each column's sign (a gauge): the records check the outer products
    # u_i u_i^T of U's columns and v_i v_i^T of V's (functions of A, smooth where the singular values are
    # apart), and tests/ops/test_decomp.py the product U diag(S) Vh
    OpRecord(
        decomp._svd_u,
        lambda x: _outer(minigrad.linalg.svd(x, full_matrices=False).U),
        lambda x: _outer(_np_svd(x)[0]),
        _svd_case(),
        spellings={"svd": lambda x: _outer(minigrad.svd(x).U), "method": lambda x: _outer(x.svd()[0])},
        gradcheck={"floor": 1e-3},
        examples=8,
        forward_examples=6,
    ),
    OpRecord(
        decomp._svd_s,
        lambda x: minigrad.linalg.svdvals(x),
        lambda x: _np_svd(x)[1],
        _svd_case(),
        spellings={"svd": lambda x: minigrad.linalg.svd(x, full_matrices=False).S, "old": lambda x: minigrad.svd(x).S},
        examples=8,
        forward_examples=6,
    ),
    OpRecord(
        decomp._svd_vh,
        lambda x: _outer(minigrad.linalg.svd(x, full_matrices=False).Vh.mT),
        lambda x: _outer(np.swapaxes(_np_svd(x)[2], -1, -2)),
        _svd_case(),
        spellings={"svd": lambda x: _outer(minigrad.svd(x).V)},
        gradcheck={"floor": 1e-3},
        examples=8,
        forward_examples=6,
    ),
    OpRecord(
        decomp._qr_q,
        lambda x: minigrad.linalg.qr(x).Q,
        lambda x: np.linalg.qr(x)[0],
        _svd_case(),
        spellings={"old": lambda x: minigrad.qr(x).Q, "method": lambda x: x.qr()[0]},
        gradcheck={"floor": 1e-9},
        examples=8,
        forward_examples=6,
    ),
    OpRecord(
        decomp._qr_r,
        lambda x: minigrad.linalg.qr(x).R,
        lambda x: np.linalg.qr(x)[1],
        _svd_case(),
        spellings={"old": lambda x: minigrad.qr(x).R},
        gradcheck={"floor": 1e-9},
        examples=8,
        forward_examples=6,
    ),
]
SWEEP += SWEEP_SVD


def _lu_ref(x):
    """The packed L - I + U by Doolittle elimination with partial pivoting, one matrix at a time in Python
    (independent of lu_decomp's vectorised loop)."""
    out = np.array(x, dtype=x.dtype, copy=True).reshape((-1,) + x.shape[-2:])
    m, n = x.shape[-2:]
    for a in out:
        for j in range(min(m, n)):
            p = j + int(np.argmax(np.abs(a[j:, j])))
            a[[j, p]] = a[[p, j]]
            if a[j, j] != 0:
                a[j + 1 :, j] /= a[j, j]
                a[j + 1 :, j + 1 :] -= np.outer(a[j + 1 :, j], a[j, j + 1 :])
    return out.reshape(x.shape)


@st.composite
def _lu_case(draw):
    """Square, wide and tall matrices away from singular (the gradient needs the square block of U
    invertible); pivots keep a margin: the 2 I (m x n) is added to a random row permutation, so partial
    pivoting swaps rows and the choice is stable."""
    batch = draw(shapes(min_dims=0, max_dims=1, max_side=2))
    m, n = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    a = draw(arrays(batch + (m, n), values(-0.4, 0.4))) / max(m, n) + 2.0 * np.eye(m, n)
    return Case((a[..., draw(st.permutations(range(m))), :],))


SWEEP += [
    OpRecord(
        lu_decomp._lu_factor,
        lambda x: minigrad.linalg.lu_factor(x).LU,
        _lu_ref,
        _lu_case(),
        spellings={
            "ex": lambda x: minigrad.linalg.lu_factor_ex(x).LU,
            "torch_lu": lambda x: minigrad.lu(x)[0],
            "method": lambda x: x.lu()[0],
        },
        examples=10,
        forward_examples=6,
    ),
]


@st.composite
def _eigh_case(draw):
    """Q diag(w) Q^T, eigenvalues at least 0.3 apart (the vectors' gradient has 1 / (w_j - w_i)), and UPLO."""
    batch = draw(shapes(min_dims=0, max_dims=1, max_side=2))
    n = draw(st.integers(1, 3))
    w = np.cumsum(draw(arrays((n,), values(0.3, 0.6)))) - 1.0
    q = _orthogonal(draw, batch, n)
    return Case(((q * w) @ np.swapaxes(q, -1, -2),), {"UPLO": draw(st.sampled_from(["L", "U"]))})


def _sym_from(x, UPLO):
    """The symmetric matrix eigh reads from x's UPLO triangle, as differentiable ops (the gradient then
    reaches that triangle only, and gradcheck perturbs entries one at a time)."""
    t = x.tril() if UPLO == "L" else x.triu()
    return t + t.mT - t * minigrad.eye(x.shape[-1], dtype=x.dtype)


SWEEP += [
    OpRecord(
        lu_decomp._eigh_values,
        lambda x, UPLO: minigrad.linalg.eigvalsh(_sym_from(x, UPLO), UPLO=UPLO),
        lambda x, UPLO: np.linalg.eigvalsh(x, UPLO=UPLO),
        _eigh_case(),
        spellings={"eigh": lambda x, UPLO: minigrad.linalg.eigh(_sym_from(x, UPLO), UPLO).eigenvalues},
        examples=8,
        forward_examples=6,
    ),
    OpRecord(
        lu_decomp._eigh_vectors,
        lambda x, UPLO: _outer(minigrad.linalg.eigh(_sym_from(x, UPLO), UPLO=UPLO).eigenvectors),
        lambda x, UPLO: _outer(np.linalg.eigh(x, UPLO=UPLO)[1]),
        _eigh_case(),
        gradcheck={"floor": 1e-3},
        examples=8,
        forward_examples=6,
    ),
]

RECORDS += SWEEP

# --- the fused LSTM layer (minigrad.ops.recurrent) -------------------------------------------------------------


@st.composite
def _lstm_layer_case(draw):
    length, batch, n = draw(st.integers(1, 3)), draw(st.integers(0, 2)), draw(st.integers(1, 2))
    shapes = ((length, batch, 4 * n), (batch, n), (batch, n), (4 * n, n), (4 * n,))
    return Case(tuple(draw(arrays(s)) for s in shapes), {"reverse": draw(st.booleans())})


def _lstm_layer_ref(xw, h0, c0, w_hh, b_hh, reverse=False):
    """The recurrence step by step in NumPy, sigmoid as 1 / (1 + e^-x)."""
    n = h0.shape[-1]
    h, c = h0, c0
    hs = [None] * len(xw)
    for t in range(len(xw) - 1, -1, -1) if reverse else range(len(xw)):
        a = xw[t] + h @ w_hh.T + b_hh
        i, f, o = (1 / (1 + np.exp(-a[..., k * n : (k + 1) * n])) for k in (0, 1, 3))
        c = f * c + i * np.tanh(a[..., 2 * n : 3 * n])
        hs[t] = h = o * np.tanh(c)
    return np.concatenate([np.stack(hs), c[None]])


RECORDS += [
    OpRecord(
        recurrent._lstm_layer, recurrent.lstm_layer, _lstm_layer_ref, _lstm_layer_case(), examples=6, forward_examples=8
    ),  # fmt: skip
]

# --- layer normalization with weight and bias (minigrad.ops.normalize) ---------------------------------------


@st.composite
def _layer_norm_case(draw):
    lead = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=3))
    normalized = draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=3))
    shapes = (lead + normalized, normalized, normalized)
    return Case(
        tuple(draw(arrays(s)) for s in shapes), {"k": len(normalized), "eps": draw(st.sampled_from([1e-5, 0.1]))}
    )


def _layer_norm_ref(x, weight, bias, k, eps):
    axes = tuple(range(x.ndim - k, x.ndim))
    centered = x - x.mean(axis=axes, keepdims=True)
    return centered / np.sqrt((centered**2).mean(axis=axes, keepdims=True) + eps) * weight + bias


RECORDS += [
    OpRecord(
        normalize._layer_norm,
        lambda x, w, b, k, eps: F.layer_norm(x, tuple(x.shape[x.ndim - k :]), w, b, eps),
        _layer_norm_ref,
        _layer_norm_case(),
        examples=8,
        forward_examples=8,
    ),
]
BY_NAME = {r.name: r for r in RECORDS}

# Differentiable primitives without a record of their own, and why. Each is an internal step of a public
# op, reached only through it: its forward is that op's forward or its vjps are that op's backward, so the
# record of the public op (gradcheck and second order) and tests/nn/test_functional.py check it.
EXEMPT = {
    "eig_values": "linalg.eig's complex eigenvalues: the forward only, its backward raises (test_lu_decomp.py)",
    "eig_vectors": "linalg.eig's complex eigenvectors: the forward only, its backward raises (test_lu_decomp.py)",
    "conv2d_unfold": "im2col inside conv2d's forward (the conv2d record)",
    "conv2d_fold": "col2im, conv2d_unfold's vjp: conv2d's input gradient (the conv2d record)",
    "conv2d_input_grad": "conv2d's vjp for its columns, checked by conv2d's gradcheck and second order",
    "conv2d_weight_grad": "conv2d's vjp for its weight, checked by conv2d's gradcheck and second order",
    "fold": "the window col2im in the pools' vjps (max_pool2d, avg_pool2d records)",
    "unfold": "fold's vjp: the pools' second order (max_pool2d, avg_pool2d records)",
    "relu_grad": "relu's vjp for large cotangents: test_a_large_relu_takes_the_pooled_vjp... (test_elementwise)",
    "conv2d_bias_grad": "conv2d's vjp for its bias, checked by conv2d's gradcheck and second order",
    "max_pool2d_grad": "max_pool2d's vjp: its gradcheck, and its own vjp by its second order",
    "max_pool2d_gather": "max_pool2d_grad's vjp: max_pool2d's second order (and third order through its adjoint)",
    "normal_cdf": "Phi in gelu's vjp: gelu's second order; its forward by tests/nn/test_activation.py",
    # the samplers' outputs: a drawn constant whose gradient is zero by definition (as PyTorch's
    # NormalBackward, BernoulliBackward, PoissonBackward); tests/test_random.py checks values and zeros
    "normal": "a drawn sample, zero gradient as torch.normal's (tests/test_random.py)",
    "bernoulli": "a drawn sample, zero gradient as torch.bernoulli's (tests/test_random.py)",
    "poisson": "a drawn sample, zero gradient as torch.poisson's (tests/test_random.py)",
    "_i1": "I1, i0's vjp: i0's gradcheck and second order (the i0 record); its values in tests/ops/test_special.py",
    "tensor_unfold_backward": "Tensor.unfold's vjp: its gradcheck, and its own vjp by its second order (tensor_unfold)",
}

OP_MODULES = ["elementwise", "pointwise", "reduction", "shape", "linalg", "inplace", "conv", "loss"]
OP_MODULES += ["construct", "contraction"]
OP_MODULES += ["scan"]
OP_MODULES += ["conv_transpose"]
OP_MODULES += ["sorting"]
OP_MODULES += ["loss_breadth"]
OP_MODULES += ["activation"]
OP_MODULES += ["sampling"]
OP_MODULES += ["indexing", "selection"]
OP_MODULES += ["pooling", "resample"]  # composed of other modules' primitives; listed so new ones need records
OP_MODULES += ["arith", "logical", "nanreduce", "numeric", "special"]
OP_MODULES += ["stacking", "blas", "series", "counting", "decomp", "building"]
OP_MODULES += ["activation_methods"]
OP_MODULES += ["lu_decomp"]  # Tensor.prelu / hardshrink hand on to nn.activation: no primitives
OP_MODULES += ["recurrent", "normalize"]
OP_MODULES += ["conv3d"]  # composed of conv.py's and selection.py's primitives: listed so new ones need records


def defined_primitives(modules) -> dict:
    """name -> Primitive for every differentiable primitive *defined* in ``modules`` (not imported there)."""
    found = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Primitive) and value.__module__ == module.__name__ and value.differentiable:
                found[value.name] = value
    return found


def coverage_problems(prims: dict, records, exempt: dict) -> list[str]:
    """What is wrong between the primitives defined and the table: an empty list when they agree."""
    problems = []
    without_vjp = sorted(n for n, p in prims.items() if p.vjps is None and p.vjp_variadic is None)
    if without_vjp:
        problems.append(f"differentiable primitives without a vjp: {without_vjp}")
    recorded = {r.primitive.name for r in records}
    missing = sorted(set(prims) - recorded - set(exempt))
    if missing:
        problems.append(f"primitives without a record in tests/ops/optable.py: {missing}")
    stale = sorted(r.name for r in records if prims.get(r.primitive.name) is not r.primitive)
    if stale:
        problems.append(f"records of primitives that no longer exist: {stale}")
    gone = sorted(set(exempt) - set(prims))
    if gone:
        problems.append(f"exemptions for primitives that no longer exist: {gone}")
    both = sorted(recorded & set(exempt))
    if both:
        problems.append(f"primitives both recorded and exempt: {both}")
    return problems

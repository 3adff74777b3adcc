"""Fuzzing every public op and layer with hostile shapes, dtypes, values and parameters.

Each entry of :data:`CASES` draws one call of a public op or layer: shapes of
0 to 3 dimensions with sides 0 to 3 (4-D for convolutions and pooling),
pairs that broadcast and pairs that do not, dtypes float16/32/64, int32/64
and bool, values that are finite, NaN, +-Inf, huge (1e30) or tiny (1e-30),
and parameters that may be out of range (axes, kernels that do not fit,
negative padding, ...). The oracle, :func:`check`, then asks one thing of
every call: either

* it succeeds, and then its result matches NumPy's semantics where a NumPy
  reference is cheap (shape, dtype and values, NaN-aware); NumPy does not
  raise where minigrad returned; no warning other than NumPy's expected
  RuntimeWarnings is emitted; and, if it is floating and some float input
  requires grad, a backward (``out.sum()`` or a ones cotangent, with or
  without ``create_graph``) gives every such input a ``.grad`` of exactly its
  shape and dtype (NaN values allowed: the inputs may be NaN);
* or it raises a :class:`minigrad.MinigradError` whose message names the op
  (the function's name, or for a layer its class name or the op it calls),
  and where NumPy raises too, of the built-in class NumPy's error belongs to
  (ValueError, TypeError, IndexError), so ``except ValueError`` keeps working.

Any other exception (IndexError, AttributeError, TypeError, ValueError,
ZeroDivisionError, OverflowError, numpy's AxisError unwrapped, ...) is a bug.
In both cases the inputs' data must come back bit for bit unchanged and their
version counters untouched.

:data:`REGRESSIONS` replays, as fixed calls through the same oracle, each bug
the fuzzing found and that was fixed; the CI profile's 25 examples per op do
not reach all of them (extreme integers in a softmax, say), a thorough run
(HYPOTHESIS_PROFILE=thorough) does.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import currently_in_test_context, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.errors import MinigradError
from minigrad.tensor import Tensor

FLOATS = (np.float16, np.float32, np.float64)
INTS = (np.int32, np.int64)
DTYPES = FLOATS + INTS + (np.bool_,)
SPECIAL = (math.nan, math.inf, -math.inf, 1e30, -1e30, 1e-30, -1e-30, 0.0, -0.0)


# --- strategies ----------------------------------------------------------------------------------------


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def elements(dtype, hostile=True):
    """Values of ``dtype``: mostly small, sometimes (if ``hostile``) the extremes (NaN, Inf, huge, tiny;
    integer limits)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return st.booleans()
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if not hostile:
            return st.integers(-3, 3)
        return st.one_of(st.integers(-3, 3), st.integers(-3, 3), st.sampled_from([int(info.min), int(info.max)]))
    small = st.floats(-3, 3, allow_nan=False)
    return st.one_of(small, small, st.sampled_from(SPECIAL)) if hostile else small


def arrays(draw, dtype, shape, values=None, hostile=True):
    """An array of ``dtype`` and ``shape``; floats are drawn in float64 and cast (1e30 overflows float16)."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        values = elements(np.float64, hostile) if values is None else values
        base = draw(hnp.arrays(np.float64, shape, elements=values))
        with np.errstate(all="ignore"):
            return base.astype(dtype)
    return draw(hnp.arrays(dtype, shape, elements=elements(dtype, hostile) if values is None else values))


def tensor(draw, shape=None, dtypes=DTYPES, grad=None, values=None, hostile=True) -> Tensor:
    """A tensor; floating ones require grad unless ``grad`` says otherwise (or a draw does)."""
    shape = draw(shapes()) if shape is None else tuple(shape)
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    requires_grad = dtype.kind == "f" and (draw(st.sampled_from([True, True, False])) if grad is None else grad)
    return minigrad.tensor(arrays(draw, dtype, shape, values, hostile), requires_grad=requires_grad)


def float_tensor(draw, shape=None, grad=True, values=None, hostile=True) -> Tensor:
    return tensor(draw, shape, FLOATS, grad, values, hostile)


def rarely(draw, n=12) -> bool:
    """True about once in ``n`` draws: how often a builder makes an argument invalid on purpose.

    (Not ``== 0``: hypothesis favours the simplest value, so 0 comes up far more often than 1 in n.)"""
    return draw(st.integers(0, n - 1)) == 1


def other_shape(draw, shape):
    """A shape for a second operand: the same, one that broadcasts against ``shape``, one that does not, or any."""
    kind = draw(st.sampled_from(["same", "broadcast", "broadcast", "clash", "any"]))
    if kind == "same":
        return tuple(shape)
    if kind == "broadcast":
        return draw(hnp.broadcastable_shapes(tuple(shape), min_dims=0, max_dims=3, min_side=0, max_side=3))
    if kind == "clash" and shape:  # one dimension changed to a size that neither equals it nor is 1
        i = draw(st.integers(0, len(shape) - 1))
        return tuple(shape[:i]) + ({0: 2, 1: 2, 2: 3, 3: 2}[shape[i]],) + tuple(shape[i + 1 :])
    return draw(shapes())


def scalar(draw):
    """A Python number: bool, int (sometimes too big for int32) or float (sometimes special)."""
    kind = draw(st.sampled_from(["int", "float", "float", "bool", "bigint"]))
    if kind == "int":
        return draw(st.integers(-3, 3))
    if kind == "bigint":
        return 2**40
    if kind == "bool":
        return draw(st.booleans())
    return draw(st.one_of(st.floats(-3, 3), st.sampled_from(SPECIAL)))


def operand(draw, shape):
    """The second operand of a binary op: mostly a tensor, sometimes a Python number."""
    if draw(st.integers(0, 4)) == 0:
        return scalar(draw)
    return tensor(draw, other_shape(draw, shape))


def axis_arg(draw, ndim, allow_tuple=True):
    """An axis: None, an int (possibly out of range) or a tuple of ints (possibly repeated or out of range)."""
    ints = st.integers(-ndim - 1, ndim)
    options = [st.none(), ints, ints]
    if allow_tuple:
        options.append(st.lists(ints, max_size=3).map(tuple))
    return draw(st.one_of(*options))


# --- the oracle ------------------------------------------------------------------------------------------


class Invalid(Exception):
    """Raised by a reference for a call that minigrad must reject (with some MinigradError)."""


@dataclass
class Call:
    """One drawn call: ``fn()`` runs it on ``inputs``.

    ``inputs`` are every tensor the call reads (and must not change); those
    that require grad must get a ``.grad`` of their shape and dtype.
    ``names``: an error message must contain one of them. ``reference``,
    when given, takes copies of the inputs' arrays and returns NumPy's
    answer (or raises). ``exact``: compare values bit for bit (NaN-aware)
    rather than within a tolerance of the output's dtype.
    """

    fn: Callable[[], object]
    inputs: tuple
    names: tuple
    reference: Callable | None = None
    exact: bool = True
    describe: str = ""
    must_succeed: bool = False  # (the regression tests) an error, even a good one, fails


def _tensors(values):
    return tuple(v for v in values if isinstance(v, Tensor))


def call(fn, inputs, names, reference=None, exact=True, describe=""):
    if isinstance(names, str):
        names = (names,)
    return Call(fn, _tensors(inputs), tuple(names), reference, exact, describe)


class _Quiet:
    """NumPy's floating-point warnings are expected with NaN/Inf/huge values: silence them, record the rest."""

    def __enter__(self):
        self._err = np.errstate(all="ignore")
        self._err.__enter__()
        self._warn = warnings.catch_warnings(record=True)
        self.log = self._warn.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        self._err.__exit__(*exc)
        return False

    def unexpected(self):
        return [w for w in self.log if not issubclass(w.category, RuntimeWarning)]


def _snapshot(tensors):
    return [(t.array.copy(), t.array.dtype, t.array.shape, t._version) for t in tensors]


def _assert_unchanged(c: Call, before, when: str):
    for t, (data, dtype, shape, version) in zip(c.inputs, before):
        assert t.array.dtype == dtype and t.array.shape == shape, (
            f"{c.names[0]} changed an input's dtype or shape {when}"
        )
        assert t.array.tobytes() == data.tobytes(), f"{c.names[0]} changed an input's values {when}"
        assert t._version == version, f"{c.names[0]} bumped an input's version counter {when}"


_NUMPY_FAMILIES = (IndexError, TypeError, ValueError)


def _assert_good_error(c: Call, exc: BaseException, numpy_exc: BaseException | None):
    if not isinstance(exc, MinigradError):
        raise AssertionError(
            f"{c.names[0]} raised {type(exc).__name__}, not a MinigradError: {exc} [{c.describe}]"
        ) from exc
    message = str(exc)
    assert any(name in message for name in c.names), (
        f"{type(exc).__name__} from {c.names[0]} does not name the op (one of {c.names}): {message}"
    )
    if numpy_exc is not None and not isinstance(numpy_exc, Invalid):
        families = tuple(f for f in _NUMPY_FAMILIES if isinstance(numpy_exc, f))
        if families:
            assert isinstance(exc, families), (
                f"{c.names[0]}: NumPy raises {type(numpy_exc).__name__} ({numpy_exc}) but minigrad raised "
                f"{type(exc).__name__}, which is not a {'/'.join(f.__name__ for f in families)}: {message}"
            )


def _tolerance(dtype):
    return {
        np.dtype(np.float16): (2e-3, 1e-3),
        np.dtype(np.float32): (2e-6, 1e-6),
    }.get(np.dtype(dtype), (1e-12, 1e-12))


def _assert_matches(c: Call, got: np.ndarray, expected, tol_dtype):
    expected = np.asarray(expected)
    name = c.names[0]
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, NumPy gives {expected.shape} [{c.describe}]"
    assert got.dtype == expected.dtype, f"{name}: dtype {got.dtype}, NumPy gives {expected.dtype} [{c.describe}]"
    if c.exact or got.dtype.kind not in "fc":
        np.testing.assert_array_equal(got, expected, err_msg=f"{name} [{c.describe}]")
    else:
        rtol, atol = _tolerance(tol_dtype)
        np.testing.assert_allclose(got, expected, rtol, atol, equal_nan=True, err_msg=f"{name} [{c.describe}]")


def _output(out):
    """The tensor to check: the values of a (values, indices) pair."""
    if isinstance(out, tuple) and out and isinstance(out[0], Tensor):
        return out[0]
    return out


def _note(text: str) -> None:
    if currently_in_test_context():  # the regression tests below call check() outside hypothesis
        note(text)


def check(c: Call, draw) -> None:
    """Run one drawn call and hold it to the oracle of the module docstring."""
    _note(f"{c.names[0]}: {c.describe}")
    before = _snapshot(c.inputs)
    expected = numpy_exc = None
    if c.reference is not None:
        with _Quiet():
            try:
                expected = c.reference(*[data.copy() for data, *_ in before])
            except Exception as exc:  # NumPy's verdict: this call is invalid
                numpy_exc = exc
    with _Quiet() as quiet:
        try:
            out = c.fn()
        except Exception as exc:
            _assert_unchanged(c, before, "when raising")
            _assert_good_error(c, exc, numpy_exc)
            assert not c.must_succeed, f"{c.names[0]} raised {type(exc).__name__}: {exc} [{c.describe}]"
            return
    _assert_unchanged(c, before, "in the forward")
    assert not quiet.unexpected(), f"{c.names[0]} warned: {[str(w.message) for w in quiet.unexpected()]}"
    if numpy_exc is not None:
        raise AssertionError(
            f"{c.names[0]} returned where NumPy raises {type(numpy_exc).__name__}: {numpy_exc} [{c.describe}]"
        )
    result = _output(out)
    assert isinstance(result, Tensor), f"{c.names[0]} returned {type(result).__name__}, not a Tensor"
    assert isinstance(result.array, np.ndarray), f"{c.names[0]}: .array is a {type(result.array).__name__}"
    if expected is not None:  # within the rounding of the least precise float in play
        floats = [t.dtype for t in c.inputs if t.dtype.kind == "f"] + [result.dtype]
        _assert_matches(c, result.numpy(), expected, min(floats, key=lambda d: d.itemsize))
    wants = [t for t in c.inputs if t.requires_grad and t.is_leaf]
    if not (wants and result.requires_grad and result.dtype.kind == "f"):
        return
    create_graph = draw(st.booleans())
    seed = draw(st.sampled_from(["sum", "ones"]))
    for t in wants:
        t.grad = None
    with _Quiet() as quiet:
        try:
            if seed == "sum":
                result.sum().backward(create_graph=create_graph)
            else:
                result.backward(minigrad.ones_like(result), create_graph=create_graph)
        except Exception as exc:  # a forward that succeeded must have a backward that does
            raise AssertionError(
                f"{c.names[0]}: backward ({seed}, create_graph={create_graph}) raised {type(exc).__name__}: {exc} "
                f"[{c.describe}]"
            ) from exc
    assert not quiet.unexpected(), f"{c.names[0]} backward warned: {[str(w.message) for w in quiet.unexpected()]}"
    _assert_unchanged(c, before, "in the backward")
    for k, t in enumerate(wants):
        g = t.grad
        assert g is not None, f"{c.names[0]}: input {k} requires grad but got no .grad [{c.describe}]"
        assert isinstance(g, Tensor) and isinstance(g.array, np.ndarray), f"{c.names[0]}: .grad is {type(g)}"
        assert g.shape == t.shape, (
            f"{c.names[0]}: .grad of shape {g.shape} for an input of shape {t.shape} "
            f"(create_graph={create_graph}) [{c.describe}]"
        )
        assert g.dtype == t.dtype, f"{c.names[0]}: .grad of dtype {g.dtype} for an input of dtype {t.dtype}"


# --- the table: elementwise ------------------------------------------------------------------------------


def _float_dtype_of(x):
    """The float dtype NumPy gives a transcendental function of an array of x's dtype."""
    return np.exp(np.zeros((), x.dtype)).dtype


def _sigmoid_ref(x):
    if x.dtype == bool:
        raise TypeError("NumPy has no negative of booleans")
    return 1 / (1 + np.exp(-x.astype(_float_dtype_of(x))))


UNARY = {
    "exp": (minigrad.exp, np.exp, True),
    "log": (minigrad.log, np.log, True),
    "sqrt": (minigrad.sqrt, np.sqrt, True),
    "tanh": (minigrad.tanh, np.tanh, True),
    "abs": (minigrad.abs, np.abs, True),
    "neg": (minigrad.neg, np.negative, True),
    "sigmoid": (minigrad.sigmoid, _sigmoid_ref, False),
    "relu": (minigrad.relu, lambda x: np.maximum(x, np.zeros((), x.dtype)), True),
    "clone": (Tensor.clone, np.copy, True),
    "F.relu": (F.relu, lambda x: np.maximum(x, np.zeros((), x.dtype)), True),
    "F.tanh": (F.tanh, np.tanh, True),
    "F.sigmoid": (F.sigmoid, _sigmoid_ref, False),
}


def _unary(name):
    op, ref, exact = UNARY[name]

    def build(draw):
        x = tensor(draw)
        return call(lambda: op(x), [x], name.removeprefix("F."), ref, exact, f"x {x.shape} {x.dtype}")

    return build


def _leaky_relu(draw):
    x = tensor(draw)
    slope = draw(st.sampled_from([0.01, 0.0, 0.2, -1.0, 2.0]))
    fn = draw(st.sampled_from([minigrad.leaky_relu, F.leaky_relu]))
    return call(lambda: fn(x, slope), [x], "leaky_relu", lambda a: np.where(a > 0, a, a * slope), True,
                f"x {x.shape} {x.dtype}, slope {slope}")  # fmt: skip


def _clip(draw):
    x = tensor(draw)
    bound = st.one_of(st.none(), st.integers(-2, 2), st.floats(-2, 2), st.sampled_from([math.inf, -math.inf]))
    lo, hi = draw(bound), draw(bound)
    fn = draw(st.sampled_from([minigrad.clip, minigrad.clamp]))

    def ref(a):
        if lo is None and hi is None:
            raise Invalid("clip needs a bound")
        out = a if lo is None else np.maximum(a, lo)
        return out if hi is None else np.minimum(out, hi)

    return call(lambda: fn(x, lo, hi), [x], "clip", ref, True, f"x {x.shape} {x.dtype}, min {lo}, max {hi}")


def _astype(draw):
    x = tensor(draw)
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    method = draw(st.booleans())
    fn = (lambda: x.to(dtype)) if method else (lambda: minigrad.astype(x, dtype=dtype))
    return call(fn, [x], "astype", lambda a: a.astype(dtype), True, f"x {x.shape} {x.dtype} -> {dtype}")


BINARY = {
    "add": (minigrad.add, np.add),
    "sub": (minigrad.sub, np.subtract),
    "mul": (minigrad.mul, np.multiply),
    "div": (minigrad.div, np.divide),
    "pow": (minigrad.pow, operator.pow),  # not np.power: ``bool_array ** 2`` is int8 (np.square), np.power's int64
    "maximum": (minigrad.maximum, np.maximum),
    "minimum": (minigrad.minimum, np.minimum),
    "eq": (minigrad.eq, np.equal),
    "ne": (minigrad.ne, np.not_equal),
    "lt": (minigrad.lt, np.less),
    "le": (minigrad.le, np.less_equal),
    "gt": (minigrad.gt, np.greater),
    "ge": (minigrad.ge, np.greater_equal),
    "logical_and": (lambda a, b: a & b, np.bitwise_and),
    "logical_or": (lambda a, b: a | b, np.bitwise_or),
    "logical_xor": (lambda a, b: a ^ b, np.bitwise_xor),
}


def _binary(name):
    op, ref = BINARY[name]
    logical = name.startswith("logical")

    def build(draw):
        dtypes = (np.bool_, np.bool_, np.int32, np.int64, np.float32) if logical else DTYPES
        a = tensor(draw, dtypes=dtypes)
        b = tensor(draw, other_shape(draw, a.shape), dtypes) if logical else operand(draw, a.shape)
        if not logical and not isinstance(b, Tensor) and draw(st.booleans()):  # number on the left
            a, b = b, a
        arrays_of = [v for v in (a, b) if isinstance(v, Tensor)]

        def reference(*datas):
            it = iter(datas)
            return ref(*(next(it) if isinstance(v, Tensor) else v for v in (a, b)))

        def describe(v):
            return f"{v.shape} {v.dtype}" if isinstance(v, Tensor) else repr(v)

        return call(lambda: op(a, b), arrays_of, name, reference, True, f"a {describe(a)}, b {describe(b)}")

    return build


def _logical_not(draw):
    x = tensor(draw, dtypes=(np.bool_, np.bool_, np.int32, np.int64, np.float32))
    return call(lambda: ~x, [x], "logical_not", np.invert, True, f"x {x.shape} {x.dtype}")


def _where(draw):
    c = tensor(draw, dtypes=(np.bool_, np.bool_, np.int64, np.float32), grad=False)  # a condition has no gradient
    x = tensor(draw, other_shape(draw, c.shape))
    y = operand(draw, c.shape)
    inputs = [c, x, y]

    def ref(*datas):
        it = iter(datas)
        return np.where(*(next(it) if isinstance(v, Tensor) else v for v in inputs))

    def d(v):
        return f"{v.shape} {v.dtype}" if isinstance(v, Tensor) else repr(v)

    return call(lambda: minigrad.where(c, x, y), inputs, "where", ref, True, f"c {d(c)}, x {d(x)}, y {d(y)}")


def _matmul(draw):
    a = tensor(draw)
    kind = draw(st.sampled_from(["fit", "fit", "any"]))
    if kind == "fit" and a.ndim:
        k = a.shape[-1]
        lead = draw(st.lists(st.integers(0, 3), max_size=1))
        tail = draw(st.sampled_from([(k,), (k, draw(st.integers(0, 3)))]))
        b_shape = tuple(lead) + tail if len(tail) == 2 else tail
    else:
        b_shape = draw(shapes())
    b = tensor(draw, b_shape)
    fn = draw(st.sampled_from([minigrad.matmul, lambda p, q: p @ q]))
    return call(lambda: fn(a, b), [a, b], "matmul", np.matmul, True, f"a {a.shape} {a.dtype}, b {b.shape} {b.dtype}")


# --- reductions ----------------------------------------------------------------------------------------------


def _mean_ref(a, axis, keepdims):
    """NumPy's mean, except that a 0-d array takes the axes its sum takes (0 and -1), as PyTorch."""
    if a.ndim == 0 and axis is not None:
        np.sum(a, axis=axis)
        axis = None
    return np.mean(a, axis=axis, keepdims=keepdims)


def _stable_lse(a, axis, keepdims):
    x = a.astype(np.float64)
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros(())
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    out = out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))
    return out.astype(_float_dtype_of(a))


def _softmax_ref(a, axis):
    x = a.astype(np.float64)
    if x.size == 0 and -x.ndim <= axis < max(x.ndim, 1):  # an empty result, as PyTorch's (no max to take)
        return x.astype(_float_dtype_of(a))
    m = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - np.where(np.isfinite(m), m, 0))
    return (e / e.sum(axis=axis, keepdims=True)).astype(_float_dtype_of(a))


def _log_softmax_ref(a, axis):
    x = a.astype(np.float64)
    if x.size == 0 and -x.ndim <= axis < max(x.ndim, 1):
        return x.astype(_float_dtype_of(a))
    m = np.max(x, axis=axis, keepdims=True)
    shifted = x - np.where(np.isfinite(m), m, 0)
    return (shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))).astype(_float_dtype_of(a))


REDUCTIONS = {
    "sum": (minigrad.sum, lambda a, axis, k: np.sum(a, axis=axis, keepdims=k), True),
    "mean": (minigrad.mean, lambda a, axis, k: _mean_ref(a, axis, k), True),
    "amax": (minigrad.amax, lambda a, axis, k: np.max(a, axis=axis, keepdims=k), True),
    "amin": (minigrad.amin, lambda a, axis, k: np.min(a, axis=axis, keepdims=k), True),
    "max": (minigrad.max, lambda a, axis, k: np.max(a, axis=axis, keepdims=k), True),
    "min": (minigrad.min, lambda a, axis, k: np.min(a, axis=axis, keepdims=k), True),
    "logsumexp": (minigrad.logsumexp, _stable_lse, False),
}
REDUCTION_NAMES = {"amax": ("amax", "max"), "amin": ("amin", "min")}


def _reduction(name):
    op, ref, exact = REDUCTIONS[name]
    names = REDUCTION_NAMES.get(name, (name,))

    def build(draw):
        x = tensor(draw)
        axis = axis_arg(draw, x.ndim)
        keepdims = draw(st.booleans())
        style = draw(st.sampled_from(["numpy", "torch", "method"]))
        if style == "numpy" and name in ("max", "min"):  # positionally these take PyTorch's (dim, keepdim)
            fn = lambda: op(x, axis=axis, keepdims=keepdims)  # noqa: E731
        elif style == "numpy":
            fn = lambda: op(x, axis, keepdims)  # noqa: E731
        elif style == "torch" and name not in ("max", "min"):  # max(dim=...) returns (values, indices), below
            fn = lambda: op(x, dim=axis, keepdim=keepdims)  # noqa: E731
        else:
            fn = lambda: getattr(x, name)(axis=axis, keepdims=keepdims)  # noqa: E731
        return call(fn, [x], names, lambda a: ref(a, axis, keepdims), exact,
                    f"x {x.shape} {x.dtype}, axis {axis}, keepdims {keepdims}, {style}")  # fmt: skip

    return build


def _max_with_dim(draw):
    x = tensor(draw)
    dim = draw(st.integers(-x.ndim - 1, x.ndim))
    keepdim = draw(st.booleans())
    name = draw(st.sampled_from(["max", "min"]))
    op = getattr(minigrad, name)

    def fn():
        values, indices = op(x, dim=dim, keepdim=keepdim)
        arg = (np.argmax if name == "max" else np.argmin)(x.numpy(), axis=dim, keepdims=keepdim)
        np.testing.assert_array_equal(indices.numpy(), arg)
        return values

    ref = np.max if name == "max" else np.min
    return call(fn, [x], (name, f"arg{name}"), lambda a: ref(a, axis=dim, keepdims=keepdim), True,
                f"x {x.shape} {x.dtype}, dim {dim}, keepdim {keepdim}")  # fmt: skip


def _argmax(draw):
    x = tensor(draw)
    axis = axis_arg(draw, x.ndim, allow_tuple=rarely(draw))
    keepdims = draw(st.booleans())
    name = draw(st.sampled_from(["argmax", "argmin"]))
    op, ref = getattr(minigrad, name), getattr(np, name)
    return call(lambda: op(x, axis, keepdims), [x], name, lambda a: ref(a, axis=axis, keepdims=keepdims), True,
                f"x {x.shape} {x.dtype}, axis {axis}, keepdims {keepdims}")  # fmt: skip


def _softmax(name):
    op = {"softmax": minigrad.softmax, "log_softmax": minigrad.log_softmax}[name]
    fop = {"softmax": F.softmax, "log_softmax": F.log_softmax}[name]
    ref = {"softmax": _softmax_ref, "log_softmax": _log_softmax_ref}[name]

    def build(draw):
        x = tensor(draw)
        axis = draw(st.integers(-x.ndim - 1, x.ndim))
        fn = draw(st.sampled_from([lambda: op(x, axis), lambda: op(x, dim=axis), lambda: fop(x, dim=axis)]))
        return call(fn, [x], name, lambda a: ref(a, axis), False, f"x {x.shape} {x.dtype}, axis {axis}")

    return build


# --- shape ops -------------------------------------------------------------------------------------------------


def _new_shape(draw, size):
    """A target shape for reshape: often one of ``size`` elements (with a -1), sometimes any."""
    if draw(st.booleans()):
        return draw(shapes())
    factors = []
    rest = size
    for _ in range(draw(st.integers(0, 3))):
        f = draw(st.sampled_from([d for d in (1, 2, 3) if rest % d == 0] or [0]))
        factors.append(f)
        rest = rest // f if f else 0
    factors.append(rest)
    if draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return tuple(draw(st.permutations(factors)))


def _reshape(draw):
    x = tensor(draw)
    shape = _new_shape(draw, x.array.size)
    style = draw(st.sampled_from(["function", "method", "view"]))
    fn = {
        "function": lambda: minigrad.reshape(x, shape),
        "method": lambda: x.reshape(*shape) if shape else x.reshape(()),
        "view": lambda: x.view(shape),
    }[style]
    return call(fn, [x], "reshape", lambda a: np.reshape(a, shape), True, f"x {x.shape} -> {shape}")


def _transpose(draw):
    x = tensor(draw)
    if draw(st.integers(0, 3)) == 0:
        return call(lambda: minigrad.transpose(x), [x], "permute", np.transpose, True, f"x {x.shape}, reversed")
    d0, d1 = draw(st.integers(-x.ndim - 1, x.ndim)), draw(st.integers(-x.ndim - 1, x.ndim))

    def ref(a):
        if a.ndim == 0 and d0 in (-1, 0) and d1 in (-1, 0):  # PyTorch: a 0-d tensor transposes to itself
            return a
        return np.swapaxes(a, d0, d1)

    return call(lambda: minigrad.transpose(x, d0, d1), [x], ("transpose", "permute"), ref, True,
                f"x {x.shape}, dims {d0}, {d1}")  # fmt: skip


def _matrix_transpose(draw):
    x = tensor(draw)
    if draw(st.booleans()):
        return call(lambda: x.mT, [x], "mT", lambda a: np.swapaxes(a, -1, -2), True, f"x {x.shape}, .mT")
    return call(lambda: x.T, [x], "permute", lambda a: a.T, True, f"x {x.shape}, .T")


def _permute(draw):
    x = tensor(draw)
    dims = list(draw(st.permutations(range(x.ndim))))
    kind = draw(st.sampled_from(["valid", "negative", "out_of_range", "repeat", "length"]))
    if kind == "negative" and dims:
        i = draw(st.integers(0, len(dims) - 1))
        dims[i] -= x.ndim
    elif kind == "out_of_range" and dims:
        dims[draw(st.integers(0, len(dims) - 1))] += x.ndim * draw(st.sampled_from([1, -2]))
    elif kind == "repeat" and len(dims) > 1:
        dims[0] = dims[1]
    elif kind == "length":
        dims = dims + [x.ndim] if draw(st.booleans()) else dims[:-1]
    dims = tuple(dims)
    method = draw(st.booleans())
    fn = (lambda: x.permute(*dims)) if method and dims else (lambda: minigrad.permute(x, dims))
    return call(fn, [x], "permute", lambda a: np.transpose(a, dims), True, f"x {x.shape}, dims {dims}")


def _squeeze(draw):
    x = tensor(draw, draw(shapes(min_side=0, max_side=2)))
    axis = axis_arg(draw, x.ndim)

    def ref(a):  # PyTorch: only size-1 axes among those named are dropped; out-of-range axes are errors
        if axis is None:
            return np.squeeze(a)
        axes = axis if isinstance(axis, tuple) else (axis,)
        if any(not -max(a.ndim, 1) <= ax < max(a.ndim, 1) for ax in axes):
            raise Invalid(f"axis {axis} out of range")
        if a.ndim == 0:
            return a
        return np.squeeze(a, axis=tuple({ax % a.ndim for ax in axes if a.shape[ax] == 1}))

    return call(lambda: minigrad.squeeze(x, axis), [x], "squeeze", ref, True, f"x {x.shape}, axis {axis}")


def _unsqueeze(draw):
    x = tensor(draw)
    dim = draw(st.integers(-x.ndim - 3, x.ndim + 2))
    return call(lambda: minigrad.unsqueeze(x, dim), [x], "unsqueeze", lambda a: np.expand_dims(a, dim), True,
                f"x {x.shape}, dim {dim}")  # fmt: skip


def _flatten(draw):
    x = tensor(draw)
    start, end = draw(st.integers(-x.ndim - 1, x.ndim)), draw(st.integers(-x.ndim - 1, x.ndim))
    fn = draw(st.sampled_from([minigrad.flatten, F.flatten, lambda t, s, e: nn.Flatten(s, e)(t)]))

    def ref(a):  # PyTorch's flatten: dims in range, start <= end; a 0-d tensor becomes 1-D
        n = max(a.ndim, 1)
        if not (-n <= start < n and -n <= end < n):
            raise Invalid("dim out of range")
        if a.ndim == 0:
            return a.reshape(1)
        s, e = start % n, end % n
        if s > e:
            raise Invalid("start after end")
        return a.reshape(a.shape[:s] + (math.prod(a.shape[s : e + 1]),) + a.shape[e + 1 :])

    return call(lambda: fn(x, start, end), [x], ("flatten", "Flatten"), ref, True, f"x {x.shape}, {start}..{end}")


def _broadcast_target(draw, shape, minus_one=False):
    if draw(st.integers(0, 3)) == 0:
        return draw(shapes())
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    body = tuple(draw(st.integers(0, 3)) if s == 1 else s for s in shape)
    if minus_one:
        body = tuple(-1 if draw(st.integers(0, 2)) == 0 else s for s in body)
        if lead and draw(st.integers(0, 3)) == 0:
            lead = (-1,) + lead[1:]
    return lead + body


def _broadcast_to(draw):
    x = tensor(draw)
    target = _broadcast_target(draw, x.shape)
    method = draw(st.booleans())
    fn = (lambda: x.broadcast_to(target)) if method else (lambda: minigrad.broadcast_to(x, target))
    return call(fn, [x], "broadcast_to", lambda a: np.broadcast_to(a, target), True, f"x {x.shape} -> {target}")


def _expand(draw):
    x = tensor(draw)
    target = _broadcast_target(draw, x.shape, minus_one=True)

    def ref(a):  # PyTorch: -1 keeps an existing dimension; it is not allowed for a new leading one
        lead = len(target) - a.ndim
        if lead < 0 or any(s == -1 for s in target[: max(lead, 0)]):
            raise Invalid("-1 for a new dimension")
        return np.broadcast_to(a, tuple(a.shape[i - lead] if s == -1 else s for i, s in enumerate(target)))

    method = draw(st.booleans())
    fn = (lambda: x.expand(*target) if target else x.expand(())) if method else (lambda: minigrad.expand(x, target))
    return call(fn, [x], ("expand", "broadcast_to"), ref, True, f"x {x.shape} -> {target}")


def _joined(draw, name):
    first = tensor(draw, draw(shapes(0 if rarely(draw) else 1)))
    axis = draw(st.integers(-first.ndim - 2, first.ndim + 1))
    xs = [first]
    for _ in range(draw(st.integers(0, 2))):
        shape = list(first.shape)
        if draw(st.integers(0, 4)) == 0:
            shape = list(draw(shapes()))
        elif name == "concatenate" and shape and -len(shape) <= axis < len(shape):
            shape[axis] = draw(st.integers(0, 3))
        xs.append(tensor(draw, tuple(shape)))
    return xs, axis


def _concatenate(draw):
    xs, axis = _joined(draw, "concatenate")
    fn = draw(st.sampled_from([minigrad.concatenate, minigrad.cat, lambda ts, axis: minigrad.concat(ts, dim=axis)]))
    return call(lambda: fn(xs, axis=axis), xs, "concatenate", lambda *a: np.concatenate(a, axis=axis), True,
                f"{[(x.shape, str(x.dtype)) for x in xs]}, axis {axis}")  # fmt: skip


def _stack(draw):
    xs, axis = _joined(draw, "stack")
    return call(lambda: minigrad.stack(xs, axis=axis), xs, "stack", lambda *a: np.stack(a, axis=axis), True,
                f"{[(x.shape, str(x.dtype)) for x in xs]}, axis {axis}")  # fmt: skip


def _pad(draw):
    x = tensor(draw)
    width = st.integers(-1, 2)
    kind = draw(st.sampled_from(["int", "pair", "per_dim", "wrong_length"]))
    if kind == "int":
        pad_width = draw(width)
    elif kind == "pair":
        pad_width = (draw(width), draw(width))
    else:
        n = x.ndim if kind == "per_dim" else x.ndim + draw(st.sampled_from([-1, 1, 2]))
        pad_width = tuple((draw(width), draw(width)) for _ in range(max(n, 0)))
    value = draw(st.sampled_from([0, 1.5, -2, math.nan, math.inf]))

    def ref(a):
        if np.any(np.asarray(pad_width) < 0):
            raise Invalid("negative pad")
        try:  # NumPy's rule: pad_width broadcasts to one (before, after) pair per dimension
            np.broadcast_to(np.asarray(pad_width), (a.ndim, 2))
        except ValueError as exc:
            raise Invalid("pad_width does not fit") from exc
        if a.ndim == 0:
            return a.copy()
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    return call(lambda: minigrad.pad(x, pad_width, value=value), [x], "pad", ref, True,
                f"x {x.shape} {x.dtype}, pad_width {pad_width}, value {value}")  # fmt: skip


def _torch_pad(draw):
    x = tensor(draw)
    pads = tuple(draw(st.lists(st.integers(-1, 2), max_size=2 * x.ndim + 2)))
    value = draw(st.sampled_from([0.0, 1.5, math.nan]))

    def ref(a):
        if len(pads) % 2 or len(pads) // 2 > a.ndim or min(pads, default=0) < 0:
            raise Invalid("bad pads")
        widths = [(0, 0)] * a.ndim
        for k in range(len(pads) // 2):
            widths[a.ndim - 1 - k] = (pads[2 * k], pads[2 * k + 1])
        return np.pad(a, widths, constant_values=value) if a.ndim else a.copy()

    return call(lambda: F.pad(x, pads, value), [x], "pad", ref, True, f"x {x.shape} {x.dtype}, pad {pads}")


def _index(draw, shape):
    """An index for an array of ``shape``: basic, integer arrays, boolean masks, tensors, lists, or invalid."""
    kind = draw(st.sampled_from(["basic", "basic", "int", "int_array", "mask", "tensor", "list", "mixed", "float"]))
    ndim = len(shape)
    if kind == "basic":
        return draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    if kind == "int":
        return draw(st.integers(-4, 3))
    if kind in ("int_array", "tensor", "list", "mixed"):
        n = draw(st.integers(1, max(ndim, 1)))
        parts = []
        for k in range(n):
            side = shape[k] if k < ndim else 1
            parts.append(np.asarray(draw(st.lists(st.integers(-side - 1, side), max_size=3)), dtype=np.int64))
        if kind == "tensor":
            return minigrad.tensor(parts[0]) if n == 1 else tuple(minigrad.tensor(p) for p in parts)
        if kind == "list":
            return parts[0].tolist()
        if kind == "mixed":
            return (parts[0], slice(None, None, draw(st.sampled_from([1, 2, -1]))))
        return parts[0] if n == 1 else tuple(parts)
    if kind == "mask":
        mask_shape = shape[: draw(st.integers(0, ndim))] if draw(st.integers(0, 3)) else draw(shapes(max_dims=2))
        mask = draw(hnp.arrays(np.bool_, mask_shape))
        return minigrad.tensor(mask) if draw(st.booleans()) else mask
    return 1.5


def _numpy_index(index):
    if isinstance(index, Tensor):
        return index.numpy()
    if isinstance(index, tuple):
        return tuple(i.numpy() if isinstance(i, Tensor) else i for i in index)
    return index


def _getitem(draw):
    x = tensor(draw)
    index = _index(draw, x.shape)
    np_index = _numpy_index(index)
    return call(lambda: x[index], [x], "getitem", lambda a: a[np_index], True, f"x {x.shape} {x.dtype}, [{index!r}]")


# --- nn.functional -----------------------------------------------------------------------------------------------


def _linear(draw):
    x = tensor(draw)
    in_features = draw(st.integers(0, 3)) if not x.ndim or rarely(draw) else x.shape[-1]
    out_features = draw(st.integers(0, 3))
    w_shape = draw(shapes()) if rarely(draw) else (out_features, in_features)
    w = float_tensor(draw, w_shape)
    b_shape = draw(shapes(0, 2)) if rarely(draw) else (out_features,)
    b = None if draw(st.booleans()) else float_tensor(draw, b_shape)

    def ref(a, wa, ba=None):
        out = a @ wa.T
        return out if ba is None else out + ba

    return call(lambda: F.linear(x, w, b), [x, w, b], ("linear", "matmul", "add"), ref, True,
                f"x {x.shape} {x.dtype}, w {w.shape} {w.dtype}, b {None if b is None else b.shape}")  # fmt: skip


def _window_params(draw, positive=True):
    """An int or a pair, rarely invalid (0, negative, a triple, a float)."""
    if rarely(draw):
        return draw(st.sampled_from([0, -1, (1, 1, 1), 1.5]))
    good = st.integers(1, 2) if positive else st.integers(0, 2)
    return draw(st.one_of(good, good, st.tuples(good, good)))


def _nchw(draw, dtypes=DTYPES, hostile=True):
    """An (N, C, H, W) tensor with N and C in 0..3 and H, W in 1..4 (rarely zero, rarely not 4-D)."""
    if rarely(draw):
        return tensor(draw, draw(shapes(0, 5)), dtypes, hostile=hostile)
    n, c = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h, w = (draw(st.integers(0, 4)) if rarely(draw) else draw(st.integers(1, 4)) for _ in range(2))
    return tensor(draw, (n, c, h, w), dtypes, hostile=hostile)


def _conv2d(draw):
    hostile = draw(st.booleans())  # half the calls keep to small finite values, which the reference can check
    x = _nchw(draw, hostile=hostile)
    c = x.shape[1] if x.ndim > 1 else 1
    if rarely(draw):
        groups = draw(st.sampled_from([0, 2, 3]))
    else:
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if c % g == 0]))
    out = draw(st.integers(0, 3)) * max(groups, 1)
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    w_shape = draw(shapes(0, 4)) if rarely(draw) else (out, c // groups if groups else c, kh, kw)
    w = float_tensor(draw, w_shape, hostile=hostile)
    b = None if draw(st.booleans()) else float_tensor(draw, (out + 1,) if rarely(draw) else (out,), hostile=hostile)
    stride, padding, dilation = _window_params(draw), _window_params(draw, False), _window_params(draw)

    def ref(xa, wa, ba=None):
        if xa.ndim != 4 or wa.ndim != 4 or groups < 1 or xa.shape[1] != wa.shape[1] * groups or wa.shape[0] % groups:
            raise Invalid("shapes or groups do not fit")
        if ba is not None and ba.shape != wa.shape[:1]:
            raise Invalid("bias shape")
        wins = _windows(xa, wa.shape[2:], stride, padding, dilation, 0)  # (N, C, Ho, Wo, kh, kw)
        if not _tame(xa, wa, ba):
            return None
        n, c, ho, wo = wins.shape[:4]
        o, cg = wa.shape[0], wa.shape[1]
        out = np.zeros((n, o, ho, wo), np.result_type(xa, wa))
        for k in range(o):
            g = k // (o // groups)
            out[:, k] = np.einsum("nchwij,cij->nhw", wins[:, g * cg : (g + 1) * cg].astype(np.float64), wa[k])
        return out if ba is None else out + ba.reshape(-1, 1, 1)

    return call(lambda: F.conv2d(x, w, b, stride, padding, dilation, groups), [x, w, b], "conv2d", ref, False,
                f"x {x.shape} {x.dtype}, w {w.shape} {w.dtype}, b {None if b is None else b.shape}, stride {stride}, "
                f"padding {padding}, dilation {dilation}, groups {groups}")  # fmt: skip


def _pair(v):
    if isinstance(v, int):
        return (v, v)
    if not (isinstance(v, tuple) and len(v) == 2 and all(isinstance(i, int) for i in v)):
        raise Invalid(f"{v!r} is not an int or a pair of ints")
    return v


def _windows(a, kernel, stride, padding, dilation, fill):
    """The (N, C, Ho, Wo, kh, kw) windows of ``a`` padded with ``fill``, built slice by slice (the reference)."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel, stride, padding, dilation))
    if min(kh, kw, sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise Invalid("kernel, stride and dilation must be positive, padding non-negative")
    n, c, h, w = a.shape
    ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if ho < 1 or wo < 1:
        raise Invalid("the kernel does not fit")
    padded = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=a.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = a
    out = np.empty((n, c, ho, wo, kh, kw), dtype=a.dtype)
    for i in range(ho):
        for j in range(wo):
            rows = slice(i * sh, i * sh + dh * (kh - 1) + 1, dh)
            out[:, :, i, j] = padded[:, :, rows, slice(j * sw, j * sw + dw * (kw - 1) + 1, dw)]
    return out


def _tame(*arrays):
    """True when every value is finite and small: sums in any order then agree within rounding."""
    return all(a is None or a.dtype.kind == "b" or bool(np.all(np.abs(a.astype(np.float64)) <= 10)) for a in arrays)


def _pool(name):
    def build(draw):
        x = _nchw(draw, hostile=draw(st.booleans()))
        kernel = _window_params(draw)
        stride = None if draw(st.booleans()) else _window_params(draw)
        if rarely(draw):
            padding = draw(st.sampled_from([-1, 2, (0, 3)]))
        elif isinstance(kernel, tuple) and len(kernel) == 2:  # at most half the kernel
            padding = tuple(draw(st.integers(0, max(k // 2, 0))) for k in kernel)
        else:
            padding = draw(st.integers(0, max(kernel // 2, 0))) if isinstance(kernel, int) else 0
        if name == "max_pool2d":
            dilation = 0 if rarely(draw) else draw(st.sampled_from([1, 2]))
            fn = lambda: F.max_pool2d(x, kernel, stride, padding, dilation)  # noqa: E731
        else:
            dilation = 1
            fn = lambda: F.avg_pool2d(x, kernel, stride, padding)  # noqa: E731

        def ref(a):
            if a.ndim != 4:
                raise Invalid("not NCHW")
            k, p = _pair(kernel), _pair(padding)
            if 2 * p[0] > k[0] or 2 * p[1] > k[1]:
                raise Invalid("padding over half the kernel")
            if name == "avg_pool2d":  # zero padding counts in the mean, as PyTorch's count_include_pad=True
                wins = _windows(a, k, kernel if stride is None else stride, padding, dilation, 0)
                return np.mean(wins, axis=(4, 5)) if _tame(a) else None
            lowest = -np.inf if a.dtype.kind == "f" else False if a.dtype.kind == "b" else np.iinfo(a.dtype).min
            return np.max(_windows(a, k, kernel if stride is None else stride, padding, dilation, lowest), axis=(4, 5))

        describe = f"x {x.shape} {x.dtype}, kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation}"
        return call(fn, [x], name, ref, name == "max_pool2d", describe)

    return build


def _dropout(draw):
    x = tensor(draw)
    p = draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 0.0, 0.25, 0.5, 1.0, 1.5]))
    training = draw(st.booleans())
    seed = draw(st.integers(0, 3))

    def fn():
        with minigrad.fork_rng():  # the user's random stream is left as it was
            minigrad.manual_seed(seed)
            return F.dropout(x, p, training)

    def ref(a):
        return a if not training or p == 0 else None

    return call(fn, [x], "dropout", ref, True, f"x {x.shape} {x.dtype}, p {p}, training {training}")


def _batch_norm_input(draw):
    """(N, C, ...) with N in 1..3 (rarely any shape at all)."""
    if rarely(draw):
        return tensor(draw, draw(shapes(0, 4)))
    shape = (draw(st.integers(1, 3)),) + draw(shapes(1, 3, min_side=0 if rarely(draw) else 1))
    return tensor(draw, shape)


def _batch_norm(draw):
    x = _batch_norm_input(draw)
    c = x.shape[1] if x.ndim > 1 else draw(st.integers(0, 3))

    def channel_tensor(grad):
        size = c + 1 if rarely(draw) else c
        return float_tensor(draw, (size,), grad=grad, values=st.floats(0.1, 2.0))

    training = draw(st.booleans())
    stats = not rarely(draw, 4) if not training else draw(st.booleans())  # eval without statistics is an error
    running_mean = channel_tensor(False) if stats else None
    running_var = channel_tensor(False) if stats else None
    weight = channel_tensor(True) if draw(st.booleans()) else None
    bias = channel_tensor(True) if draw(st.booleans()) else None
    inputs = [x, weight, bias] + ([] if training else [running_mean, running_var])
    return call(lambda: F.batch_norm(x, running_mean, running_var, weight, bias, training), inputs, "batch_norm",
                None, True, f"x {x.shape} {x.dtype}, stats {stats}, weight {weight is not None}, "
                f"bias {bias is not None}, training {training}")  # fmt: skip


def _indices(draw, num):
    kinds = ["float", "bool"] if rarely(draw) else ["int64", "int32", "list"]
    kind = draw(st.sampled_from(kinds))
    shape = draw(shapes(0, 2))
    ints = st.integers(-1, num) if rarely(draw) else st.integers(0, max(num - 1, 0))
    if kind == "list":
        return draw(st.lists(ints, max_size=3))
    dtype = {"int64": np.int64, "int32": np.int32, "float": np.float32, "bool": np.bool_}[kind]
    values = st.booleans() if kind == "bool" else ints
    return minigrad.tensor(draw(hnp.arrays(dtype, shape, elements=values)))


def _embedding(draw):
    num, dim = draw(st.integers(0 if rarely(draw) else 1, 3)), draw(st.integers(0, 3))
    weight = float_tensor(draw, draw(shapes(0, 3)) if rarely(draw) else (num, dim))
    num = weight.shape[0] if weight.ndim else 0
    indices = _indices(draw, num)

    def ref(wa, ia=None):
        index = np.asarray(indices) if ia is None else ia
        if wa.ndim != 2 or index.dtype.kind not in "iu" or (index.size and (index.min() < 0 or index.max() >= num)):
            raise Invalid("bad indices")
        return wa[index]

    inputs = [weight, indices]
    return call(lambda: F.embedding(indices, weight), inputs, "embedding", ref, True,
                f"weight {weight.shape}, indices {getattr(indices, 'shape', indices)} "
                f"{getattr(indices, 'dtype', 'list')}")  # fmt: skip


def _class_problem(draw, logits=True):
    """Logits (or log-probabilities) of shape (C,), (N, C) or (N, C, d) and targets, sometimes mismatched."""
    layout = "bad" if rarely(draw) else draw(st.sampled_from(["1d", "2d", "2d", "3d"]))
    n, d = draw(st.integers(0, 3)), draw(st.integers(0, 2))
    classes = draw(st.integers(0, 3)) if rarely(draw) else draw(st.integers(1, 3))
    x_shape = {"1d": (classes,), "2d": (n, classes), "3d": (n, classes, d), "bad": draw(shapes())}[layout]
    x = tensor(draw, x_shape, FLOATS + INTS)
    t_shape = {"1d": (), "2d": (n,), "3d": (n, d), "bad": draw(shapes(0, 2))}[layout]
    if rarely(draw):
        t_shape = draw(shapes(0, 2))
    t_dtype = draw(st.sampled_from([np.float32, np.bool_])) if rarely(draw) else draw(st.sampled_from(INTS))
    labels = st.integers(-101, classes + 1) if rarely(draw) else st.integers(0, max(classes - 1, 0))
    if np.dtype(t_dtype).kind == "b":
        labels = st.booleans()
    t = minigrad.tensor(draw(hnp.arrays(t_dtype, t_shape, elements=labels)))
    return x, t


def _reduction_arg(draw):
    return draw(st.sampled_from(["mean", "mean", "sum", "none", "none", "avg"]))


def _cross_entropy(draw):
    x, t = _class_problem(draw)
    reduction = _reduction_arg(draw)
    smoothing = draw(st.sampled_from([0.0, 0.0, 0.1, 1.0, 0.0, 0.0, 0.1, -0.5]))
    ignore = draw(st.sampled_from([-100, 0, 1]))
    loss = lambda: F.cross_entropy(x, t, reduction=reduction, label_smoothing=smoothing, ignore_index=ignore)  # noqa: E731
    return call(loss, [x, t], "cross_entropy", None, True,
                f"x {x.shape} {x.dtype}, t {t.shape} {t.dtype} {t.numpy().tolist()}, {reduction}, "
                f"smoothing {smoothing}, ignore {ignore}")  # fmt: skip


def _nll_loss(draw):
    x, t = _class_problem(draw)
    reduction = _reduction_arg(draw)
    ignore = draw(st.sampled_from([-100, 0]))
    return call(lambda: F.nll_loss(x, t, reduction=reduction, ignore_index=ignore), [x, t], "nll_loss", None, True,
                f"x {x.shape} {x.dtype}, t {t.shape} {t.dtype}, {reduction}, ignore {ignore}")  # fmt: skip


def _mse_loss(draw):
    x = tensor(draw)
    t = tensor(draw, x.shape if draw(st.integers(0, 3)) else other_shape(draw, x.shape))
    reduction = _reduction_arg(draw)

    def ref(a, b):
        if a.shape != b.shape:
            raise Invalid("shapes differ")
        d = a - b
        sq = d * d
        return {"none": sq, "sum": sq.sum(), "mean": sq.mean()}[reduction]

    return call(lambda: F.mse_loss(x, t, reduction), [x, t], "mse_loss", ref, True,
                f"x {x.shape} {x.dtype}, t {t.shape} {t.dtype}, {reduction}")  # fmt: skip


def _bce(draw):
    x = tensor(draw, dtypes=FLOATS + INTS)
    t_dtype = draw(st.sampled_from(FLOATS + INTS))
    t_shape = x.shape if draw(st.integers(0, 3)) else other_shape(draw, x.shape)
    values = st.floats(0, 1) if np.dtype(t_dtype).kind == "f" else st.integers(0, 1)
    t = tensor(draw, t_shape, (t_dtype,), values=values)
    reduction = _reduction_arg(draw)
    return call(lambda: F.binary_cross_entropy_with_logits(x, t, reduction=reduction), [x, t],
                "binary_cross_entropy_with_logits", None, True,
                f"x {x.shape} {x.dtype}, t {t.shape} {t.dtype}, {reduction}")  # fmt: skip


# --- layers ---------------------------------------------------------------------------------------------------------


def _layer_dtype(draw):
    return draw(st.sampled_from(FLOATS))


def _construct(name, make, describe):
    """``make()``, a layer; or None when its constructor raises, an error held to the same oracle."""
    try:
        with _Quiet():
            return make()
    except Exception as exc:
        _assert_good_error(Call(lambda: None, (), (name,), describe=describe), exc, None)
        return None


def _module_call(module, x, names, describe):
    """Call ``module(x)``: its parameters are inputs too (unchanged, and each gets a grad)."""
    return call(lambda: module(x), [x, *module.parameters()], names, None, True, describe)


def _nn_linear(draw):
    x = tensor(draw)
    in_features = draw(st.integers(0, 3)) if not x.ndim or rarely(draw) else x.shape[-1]
    out_features = draw(st.integers(0, 3))
    layer = nn.Linear(in_features, out_features, bias=draw(st.booleans()), dtype=_layer_dtype(draw))
    return _module_call(layer, x, ("Linear", "linear", "matmul"), f"x {x.shape} {x.dtype}, {layer}")


def _nn_conv2d(draw):
    x = _nchw(draw)
    groups = draw(st.sampled_from([1, 1, 2]))
    in_channels = draw(st.integers(0, 3)) if x.ndim < 2 or rarely(draw) else x.shape[1]
    out_channels = draw(st.integers(0, 2)) * groups
    args = dict(
        kernel_size=_window_params(draw), stride=_window_params(draw), padding=draw(st.sampled_from([0, 1, (1, 0)])),
        dilation=draw(st.sampled_from([1, 2])), groups=groups, bias=draw(st.booleans()), dtype=_layer_dtype(draw),
    )  # fmt: skip
    describe = f"x {x.shape} {x.dtype}, Conv2d({in_channels}, {out_channels}, {args})"
    layer = _construct("Conv2d", lambda: nn.Conv2d(in_channels, out_channels, **args), describe)
    return layer and _module_call(layer, x, ("Conv2d", "conv2d"), describe)


def _nn_batch_norm(draw):
    cls = draw(st.sampled_from([nn.BatchNorm1d, nn.BatchNorm2d]))
    x = _batch_norm_input(draw)
    features = draw(st.integers(0, 3)) if x.ndim < 2 or rarely(draw) else x.shape[1]
    layer = cls(features, affine=draw(st.booleans()), track_running_stats=draw(st.booleans()),
                dtype=_layer_dtype(draw))  # fmt: skip
    if not draw(st.booleans()):
        layer.eval()
    # In training the running statistics are updated in place, as they should be; in eval they must not change.
    buffers = [] if layer.training else [b for b in layer.buffers() if b is not None]
    describe = f"x {x.shape} {x.dtype}, {layer}, training {layer.training}"
    return call(lambda: layer(x), [x, *layer.parameters(), *buffers], (cls.__name__, "batch_norm"), None, True,
                describe)  # fmt: skip


def _nn_embedding(draw):
    num = draw(st.integers(0 if rarely(draw) else 1, 3))
    layer = nn.Embedding(num, draw(st.integers(0, 3)), dtype=_layer_dtype(draw))
    indices = _indices(draw, layer.num_embeddings)
    describe = f"{layer}, indices {getattr(indices, 'shape', indices)} {getattr(indices, 'dtype', 'list')}"
    return call(lambda: layer(indices), [indices, layer.weight], ("Embedding", "embedding"), None, True, describe)


def _nn_simple(draw):
    """The parameter-free layers, each on a drawn input."""
    choice = draw(st.sampled_from([
        "Identity", "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Dropout", "Flatten",
        "MaxPool2d", "AvgPool2d",
    ]))  # fmt: skip
    x = _nchw(draw) if choice.endswith("Pool2d") else tensor(draw)
    if choice in ("Softmax", "LogSoftmax"):
        layer = getattr(nn, choice)(draw(st.integers(-x.ndim - 1, x.ndim)))
    elif choice == "Dropout":
        p = draw(st.sampled_from([0.0, 0.5, 1.0, 0.0, 0.5, 1.0, -0.5]))
        layer = _construct("Dropout", lambda: nn.Dropout(p), f"Dropout({p})")
        if layer is None:
            return None
        if draw(st.booleans()):
            layer.eval()
    elif choice == "Flatten":
        layer = nn.Flatten(draw(st.integers(-x.ndim - 1, x.ndim)), draw(st.integers(-x.ndim - 1, x.ndim)))
    elif choice.endswith("Pool2d"):
        layer = getattr(nn, choice)(_window_params(draw), draw(st.sampled_from([None, 1, 2])))
    else:
        layer = getattr(nn, choice)()
    op = {
        "ReLU": "relu", "LeakyReLU": "leaky_relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Softmax": "softmax",
        "LogSoftmax": "log_softmax", "Dropout": "dropout", "Flatten": "flatten", "MaxPool2d": "max_pool2d",
        "AvgPool2d": "avg_pool2d",
    }.get(choice, choice)  # fmt: skip
    return _module_call(layer, x, (choice, op), f"x {x.shape} {x.dtype}, {layer}")


def _nn_losses(draw):
    choice = draw(st.sampled_from(["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss"]))
    reduction = _reduction_arg(draw)
    layer = _construct(choice, lambda: getattr(nn, choice)(reduction=reduction), f"{choice}({reduction!r})")
    if layer is None:
        return None
    if choice in ("CrossEntropyLoss", "NLLLoss"):
        x, t = _class_problem(draw)
    else:
        x = tensor(draw, dtypes=FLOATS)
        t = tensor(draw, x.shape if draw(st.integers(0, 3)) else other_shape(draw, x.shape), FLOATS)
    op = {"CrossEntropyLoss": "cross_entropy", "NLLLoss": "nll_loss", "MSELoss": "mse_loss",
          "BCEWithLogitsLoss": "binary_cross_entropy_with_logits"}[choice]  # fmt: skip
    return call(lambda: layer(x, t), [x, t], (choice, op), None, True,
                f"{choice}({reduction}), x {x.shape} {x.dtype}, t {t.shape} {t.dtype}")  # fmt: skip


# --- pointwise math (minigrad.ops.pointwise): PyTorch's dtype rule, integers and bools become float32 ----------


def _torch_floats(*values):
    """``values`` with integer and bool arrays cast as PyTorch does for float-only functions: to the float
    arrays' promoted dtype, else float32. Python numbers stay numbers."""
    arrays_ = [v for v in values if isinstance(v, np.ndarray)]
    floats = [a.dtype for a in arrays_ if a.dtype.kind == "f"]
    target = np.result_type(*floats) if floats else np.dtype(np.float32)
    return [v.astype(target) if isinstance(v, np.ndarray) and v.dtype.kind in "biu" else v for v in values]


def _erf_ref(a):
    (x,) = _torch_floats(a)
    return np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64)).astype(x.dtype) if x.size else x.copy()


def _rounding_ref(fn):
    def ref(a):
        if a.dtype.kind in "biu":
            return a.copy()  # PyTorch: rounding an integer tensor returns it unchanged
        return fn(a)

    return ref


POINTWISE_UNARY = {
    **{name: (getattr(minigrad, name), numpy_fn) for name, numpy_fn in {
        "sin": np.sin, "cos": np.cos, "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
        "sinh": np.sinh, "cosh": np.cosh, "asinh": np.arcsinh, "acosh": np.arccosh, "atanh": np.arctanh,
        "log1p": np.log1p, "expm1": np.expm1, "log2": np.log2, "log10": np.log10, "exp2": np.exp2,
    }.items()},
}  # fmt: skip


def _pointwise_unary(name):
    op, numpy_fn = POINTWISE_UNARY[name]

    def build(draw):
        x = tensor(draw)
        method = draw(st.booleans())
        fn = (lambda: getattr(x, name)()) if method else (lambda: op(x))
        return call(fn, [x], name, lambda a: numpy_fn(*_torch_floats(a)), True, f"x {x.shape} {x.dtype}")

    return build


def _erf_rsqrt(draw):
    x = tensor(draw)
    name = draw(st.sampled_from(["erf", "rsqrt"]))
    if name == "erf":
        return call(lambda: minigrad.erf(x), [x], "erf", _erf_ref, False, f"x {x.shape} {x.dtype}")
    return call(lambda: x.rsqrt(), [x], "rsqrt", lambda a: 1 / np.sqrt(*_torch_floats(a)), False,
                f"x {x.shape} {x.dtype}")  # fmt: skip


def _rounding(draw):
    x = tensor(draw, dtypes=FLOATS + INTS)
    name = draw(st.sampled_from(["floor", "ceil", "trunc", "round"]))
    numpy_fn = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "round": np.rint}[name]
    return call(lambda: getattr(minigrad, name)(x), [x], name, _rounding_ref(numpy_fn), True,
                f"x {x.shape} {x.dtype}")  # fmt: skip


def _pointwise_binary(draw):
    name = draw(st.sampled_from(["atan2", "logaddexp", "hypot", "copysign"]))
    numpy_fn = {"atan2": np.arctan2, "logaddexp": np.logaddexp, "hypot": np.hypot, "copysign": np.copysign}[name]
    a = tensor(draw)
    b = operand(draw, a.shape)
    inputs = [a, b]

    def reference(*datas):
        it = iter(datas)
        return numpy_fn(*_torch_floats(*(next(it) if isinstance(v, Tensor) else v for v in inputs)))

    def d(v):
        return f"{v.shape} {v.dtype}" if isinstance(v, Tensor) else repr(v)

    return call(lambda: getattr(minigrad, name)(a, b), inputs, name, reference, False, f"a {d(a)}, b {d(b)}")


def _lerp(draw):
    start = float_tensor(draw)
    end = float_tensor(draw, other_shape(draw, start.shape))
    weight = draw(st.one_of(st.floats(-1, 2), st.just(None)))
    weight = float_tensor(draw, other_shape(draw, start.shape)) if weight is None else weight
    inputs = [start, end, weight]

    def reference(*datas):
        it = iter(datas)
        s, e, w = (next(it) if isinstance(v, Tensor) else v for v in inputs)
        # PyTorch's formula, from the nearer end: lerp(0, inf, 1) is nan there too (checked with torch 2.13).
        # Mixed float dtypes promote, as in minigrad's arithmetic (PyTorch refuses them).
        return np.where(np.abs(w) < 0.5, s + w * (e - s), e - (e - s) * (1 - w))

    describe = f"start {start.shape} {start.dtype}, end {end.shape} {end.dtype}, weight {weight!r:.40}"
    return call(lambda: minigrad.lerp(start, end, weight), inputs, "lerp", reference, False, describe)


def _predicates(draw):
    x = tensor(draw)
    name = draw(st.sampled_from(["isnan", "isinf", "isfinite"]))
    return call(lambda: getattr(x, name)(), [x], name, getattr(np, name), True, f"x {x.shape} {x.dtype}")


# --- the table ------------------------------------------------------------------------------------------------------

CASES: dict[str, Callable] = {
    **{name: _unary(name) for name in UNARY},
    "leaky_relu": _leaky_relu,
    "clip": _clip,
    "astype": _astype,
    **{name: _binary(name) for name in BINARY},
    "logical_not": _logical_not,
    "where": _where,
    "matmul": _matmul,
    **{name: _reduction(name) for name in REDUCTIONS},
    "max_min_dim": _max_with_dim,
    "argmax_argmin": _argmax,
    "softmax": _softmax("softmax"),
    "log_softmax": _softmax("log_softmax"),
    "reshape": _reshape,
    "transpose": _transpose,
    "permute": _permute,
    "T_mT": _matrix_transpose,
    "squeeze": _squeeze,
    "unsqueeze": _unsqueeze,
    "flatten": _flatten,
    "broadcast_to": _broadcast_to,
    "expand": _expand,
    "concatenate": _concatenate,
    "stack": _stack,
    "pad": _pad,
    "F.pad": _torch_pad,
    "getitem": _getitem,
    "F.linear": _linear,
    "F.conv2d": _conv2d,
    "F.max_pool2d": _pool("max_pool2d"),
    "F.avg_pool2d": _pool("avg_pool2d"),
    "F.dropout": _dropout,
    "F.batch_norm": _batch_norm,
    "F.embedding": _embedding,
    "F.cross_entropy": _cross_entropy,
    "F.nll_loss": _nll_loss,
    "F.mse_loss": _mse_loss,
    "F.binary_cross_entropy_with_logits": _bce,
    "nn.Linear": _nn_linear,
    "nn.Conv2d": _nn_conv2d,
    "nn.BatchNorm": _nn_batch_norm,
    "nn.Embedding": _nn_embedding,
    "nn.parameter_free": _nn_simple,
    "nn.losses": _nn_losses,
    **{name: _pointwise_unary(name) for name in POINTWISE_UNARY},
    "erf_rsqrt": _erf_rsqrt,
    "rounding": _rounding,
    "pointwise_binary": _pointwise_binary,
    "lerp": _lerp,
    "predicates": _predicates,
}


@pytest.mark.parametrize("name", list(CASES))
@given(data=st.data())
def test_fuzz(name, data):
    drawn = CASES[name](data.draw)
    if drawn is not None:
        check(drawn, data.draw)


# --- what the fuzzing found, pinned: each case failed the oracle before its fix -----------------------------------


def _t(values, dtype, grad=None):
    a = np.asarray(values, dtype=dtype)
    return minigrad.tensor(a, requires_grad=a.dtype.kind == "f" if grad is None else grad)


I32 = np.iinfo(np.int32)


def _invalid(*arrays):
    raise Invalid("minigrad must reject this call")


def _regression(make, fn, names, reference=_invalid, exact=True, must_succeed=None):
    """A fixed call: ``make()`` builds its tensors afresh, ``fn(*tensors)`` runs it. It must raise a good
    error when ``reference`` is :func:`_invalid` (the default), else succeed and match the reference."""

    def build():
        tensors = make()
        c = call(lambda: fn(*tensors), tensors, names, reference, exact, "regression")
        c.must_succeed = reference is not _invalid if must_succeed is None else must_succeed
        return c

    return build


def _dropout_int(x):
    with minigrad.fork_rng():
        minigrad.manual_seed(0)
        out = F.dropout(x, 0.25)
    assert out.dtype == np.float64, f"dropout of int64 gave {out.dtype}"
    assert set(out.numpy().tolist()) <= {0.0, 4 / 0.75}, f"dropout of 4s by 1 / (1 - 0.25) gave {out.numpy()}"
    return out


def _raises_with(text, fn, *args):
    """``fn(*args)``, which must raise a MinigradError whose message contains ``text`` (re-raised for the oracle)."""
    try:
        fn(*args)
    except MinigradError as exc:
        assert text in str(exc), f"the error does not say {text!r}: {exc}"
        raise
    raise AssertionError(f"no error, where one saying {text!r} was expected")


REGRESSIONS = {
    # elementwise: integer and bool inputs keep NumPy's promotion instead of being cast back
    "sigmoid of int32 is float64": _regression(lambda: [_t([I32.min, 0, 5], np.int32)], minigrad.sigmoid, "sigmoid",
                                               _sigmoid_ref, False),
    "clip of int32 at 0.5 is float64": _regression(lambda: [_t([0, 1, 2], np.int32)], lambda x: minigrad.clip(x, 0.5),
                                                   "clip", lambda a: np.maximum(a, 0.5)),
    "leaky_relu of bool is float64": _regression(lambda: [_t([True, False], bool)], minigrad.leaky_relu,
                                                 "leaky_relu", lambda a: np.where(a > 0, a, a * 0.01)),
    # shape ops: out-of-range dims are errors, 0-d tensors and -1 in expand are handled
    "transpose of a 0-d tensor": _regression(lambda: [_t(1.5, np.float32)], lambda x: minigrad.transpose(x, 0, -1),
                                             ("transpose", "permute"), lambda a: a),
    "permute with an out-of-range dim": _regression(lambda: [_t([1.0], np.float64)],
                                                    lambda x: minigrad.permute(x, (1,)), "permute"),
    "flatten with an out-of-range dim": _regression(lambda: [_t([[1.0]], np.float64)],
                                                    lambda x: minigrad.flatten(x, 0, 2), "flatten"),
    "expand of a 0-d tensor with -1": _regression(lambda: [_t(1.0, np.float32)], lambda x: minigrad.expand(x, (-1,)),
                                                  "expand"),
    "expand with -1 for a new dimension": _regression(lambda: [_t([1.0, 2.0], np.float32)],
                                                      lambda x: minigrad.expand(x, (-1, 2)), "expand"),
    "getitem with a 0-d mask, backward": _regression(lambda: [_t([1.0, 2.0], np.float64)],
                                                     lambda x: x[np.array(True)], "getitem", lambda a: a[np.True_]),
    "pad of a 0-d tensor by -1": _regression(lambda: [_t(1.0, np.float32)], lambda x: minigrad.pad(x, -1), "pad"),
    # reductions
    "mean of float16 accumulates in float32": _regression(lambda: [_t([60000, 60000], np.float16)], minigrad.mean,
                                                          "mean", np.mean),
    "mean of a 0-d tensor over axis 0": _regression(lambda: [_t(2.0, np.float16)], lambda x: minigrad.mean(x, 0),
                                                    "mean", lambda a: a.copy()),
    "logsumexp of a 0-d tensor over axis 0": _regression(lambda: [_t(2.0, np.float32)],
                                                         lambda x: minigrad.logsumexp(x, 0), "logsumexp",
                                                         lambda a: a.copy()),
    "softmax of extreme int32": _regression(lambda: [_t([1, I32.min], np.int32)], lambda x: minigrad.softmax(x, -1),
                                            "softmax", lambda a: np.array([1.0, 0.0])),
    "log_softmax of extreme int32": _regression(lambda: [_t([[I32.min, I32.max]], np.int32)],
                                                lambda x: minigrad.log_softmax(x, -1), "log_softmax",
                                                lambda a: _log_softmax_ref(a, -1), False),
    "argmax over a tuple of axes": _regression(lambda: [_t([[1, 2]], np.int64)], lambda x: minigrad.argmax(x, (0, 1)),
                                               "argmax", lambda a: np.argmax(a, axis=(0, 1)), must_succeed=False),
    # nn.functional and layers
    "batch_norm with zero channels in training": _regression(lambda: [_t(np.zeros((2, 0)), np.float16)],
                                                             lambda x: F.batch_norm(x, None, None, training=True),
                                                             "batch_norm", None),
    "batch_norm with a running mean of the wrong size changes nothing": _regression(
        lambda: [_t(np.ones((2, 3)), np.float32), _t(np.zeros(2), np.float32, False), _t([1, 1, 1], np.float32, False)],
        lambda x, m, v: F.batch_norm(x, m, v, training=True), "batch_norm"),
    "embedding with a 0-d weight": _regression(lambda: [_t(1.0, np.float32), _t([0], np.int64)],
                                               lambda w, i: F.embedding(i, w), "embedding"),
    "linear with a 1-D weight": _regression(lambda: [_t([[1.0, 2.0]], np.float32), _t([3.0, 4.0], np.float32)],
                                            F.linear, ("linear", "matmul"), lambda a, w: a @ w),
    "linear with no output features": _regression(lambda: [_t([[1.0]], np.float32), _t(np.zeros((0, 1)), np.float32),
                                                           _t(np.zeros(0), np.float32)], F.linear, "linear",
                                                  lambda a, w, b: a @ w.T + b),
    "linear with a bias that broadcasts the output": _regression(
        lambda: [_t([1.0, 2.0], np.float32), _t([[1.0, 1.0]], np.float32), _t([[1.0], [2.0]], np.float32)],
        F.linear, ("linear", "matmul", "add"), lambda a, w, b: a @ w.T + b),
    "conv2d with no output channels": _regression(lambda: [_t(np.ones((1, 1, 2, 2)), np.float32),
                                                           _t(np.ones((0, 1, 1, 1)), np.float32)],
                                                  F.conv2d, "conv2d", lambda a, w: np.zeros((1, 0, 2, 2), np.float32)),
    "conv2d with a bias of the wrong shape": _regression(
        lambda: [_t(np.ones((1, 1, 2, 2)), np.float32), _t(np.ones((2, 1, 1, 1)), np.float32), _t([1.0], np.float32)],
        F.conv2d, "conv2d"),
    "max_pool2d of int32 with padding": _regression(lambda: [_t(np.arange(4).reshape(1, 1, 2, 2), np.int32)],
                                                    lambda x: F.max_pool2d(x, 3, 1, 1), "max_pool2d",
                                                    lambda a: np.full((1, 1, 2, 2), 3, np.int32)),
    "max_pool2d of bool with padding": _regression(lambda: [_t(np.zeros((1, 1, 2, 2)), bool)],
                                                   lambda x: F.max_pool2d(x, 3, 1, 1), "max_pool2d",
                                                   lambda a: np.zeros((1, 1, 2, 2), bool)),
    "avg_pool2d with a float stride": _regression(lambda: [_t(np.ones((1, 1, 2, 2)), np.float32)],
                                                  lambda x: F.avg_pool2d(x, 2, 1.5), "avg_pool2d"),
    "nll_loss of a 0-d input": _regression(lambda: [_t(1.0, np.float32), _t(0, np.int64)],
                                           lambda x, t: _raises_with("class axis", F.nll_loss, x, t), "nll_loss"),
    "cross_entropy of extreme int32 logits": _regression(lambda: [_t([[I32.min, I32.max]], np.int32),
                                                                  _t([1], np.int64)], F.cross_entropy, "cross_entropy",
                                                         lambda a, t: np.float64(0.0)),
    "dropout of int64 scales in float": _regression(lambda: [_t([4] * 8, np.int64)], _dropout_int, "dropout", None),
    "mse_loss of two bool tensors": _regression(lambda: [_t([True], bool), _t([False], bool)], F.mse_loss, "mse_loss"),
    "nn.Linear with no input features": _regression(lambda: [_t(np.ones((2, 0)), np.float32)],
                                                    lambda x: nn.Linear(0, 3)(x), "Linear", None),
    "nn.Conv2d with a zero kernel": _regression(lambda: [_t(np.ones((1, 1, 2, 2)), np.float32)],
                                                lambda x: nn.Conv2d(1, 1, 0)(x), "Conv2d"),
}  # fmt: skip


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_regression(name, create_graph):
    choices = iter([create_graph, "ones"])
    check(REGRESSIONS[name](), lambda strategy: next(choices))


# --- overflow and bad arguments: minigrad errors that name the op ---------------------------------------------------


@pytest.mark.parametrize("op", [lambda x: x + 2**40, lambda x: minigrad.pad(x, 1, value=math.inf)], ids=["add", "pad"])
def test_overflow_is_a_dtype_error_naming_the_op(op):
    x = minigrad.tensor(np.zeros(2, dtype=np.int32))
    with pytest.raises(minigrad.DTypeError):
        op(x)


BAD_ARGUMENTS = {
    "dropout": lambda x: F.dropout(x, 1.5),
    "Dropout": lambda x: nn.Dropout(-0.5),
    "cross_entropy": lambda x: F.cross_entropy(x, minigrad.tensor([0, 1]), reduction="avg"),
    "cross_entropy label_smoothing": lambda x: F.cross_entropy(x, minigrad.tensor([0, 1]), label_smoothing=2.0),
    "nll_loss": lambda x: F.nll_loss(x, minigrad.tensor([0, 1]), reduction="avg"),
    "mse_loss": lambda x: F.mse_loss(x, x, reduction="avg"),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, x, reduction="avg"),
    "CrossEntropyLoss": lambda x: nn.CrossEntropyLoss(reduction="avg"),
}


@pytest.mark.parametrize("case", list(BAD_ARGUMENTS))
def test_bad_argument_is_a_minigrad_error_naming_the_op(case):
    x = minigrad.tensor(np.zeros((2, 3)), requires_grad=True)
    with pytest.raises(MinigradError) as info:
        BAD_ARGUMENTS[case](x)
    assert case.split()[0] in str(info.value)
    assert isinstance(info.value, ValueError)

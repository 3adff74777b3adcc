"""Fuzzing the ops and layers of the breadth issues with the oracle of :mod:`test_fuzz`.

Every entry of :data:`BREADTH` draws one call of one public op or layer (scans
and sorting, indexing and its in-place forms, sampling, reductions, linear
algebra and shape helpers, activations, losses, normalisation, convolutions,
pooling and resampling, attention, recurrent layers, embeddings) with the
hostile shapes, dtypes, values and parameters of :mod:`test_fuzz`, and holds
it to :func:`test_fuzz.check`: a good minigrad error that names the op, or a
result (checked against NumPy where a reference is cheap) whose backward gives
every input a gradient of its shape and dtype; inputs unchanged either way.

On top of that, each drawn call that can be differentiated is replayed once on
fresh float64 values (continuous random draws, so no ties and no exact kinks)
of the same shapes, integer arguments kept, and its gradient is checked
against centered differences by :func:`minigrad.gradcheck` (fast mode, one
random projection): a wrong gradient fails here rather than passing silently.

The figures: with ``FUZZ_COUNTS=path`` set, the number of drawn calls per op
(and how many succeeded, raised, and were gradient-checked) is written to
``path`` as JSON at the end of the module.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_fuzz import (
    DTYPES,
    FLOATS,
    Call,
    Invalid,
    _assert_unchanged,
    _output,
    _Quiet,
    _regression,
    _snapshot,
    _t,
    check,
    float_tensor,
    rarely,
    shapes,
    tensor,
)

import minigrad
import minigrad.nn.functional as F
from minigrad import nn  # noqa: F401  (the layers join below)
from minigrad.errors import MinigradError
from minigrad.tensor import Tensor

COUNTS: dict[str, Counter] = {}


@dataclass
class Case:
    """One drawn call ``f(*tensors)``; ``module`` (a layer, if any) is called inside ``f``.

    ``spot``: the range of the fresh float64 values of the gradient spot check (None: no spot check, for
    calls whose gradient is not defined by their float inputs, e.g. samplers)."""

    f: Callable
    tensors: list
    names: tuple
    describe: str = ""
    reference: Callable | None = None
    exact: bool = False
    spot: tuple | None = (-2.0, 2.0)
    extra_inputs: list = field(default_factory=list)  # tensors read but not passed (a layer's parameters)

    def call(self) -> Call:
        ts = list(self.tensors)
        inputs = tuple(t for t in ts + self.extra_inputs if isinstance(t, Tensor))
        return Call(lambda: self.f(*ts), inputs, self.names, self.reference, self.exact, self.describe)


def case(f, tensors, names, describe="", reference=None, exact=False, spot=(-2.0, 2.0), module=None) -> Case:
    names = (names,) if isinstance(names, str) else tuple(names)
    extra = list(module.parameters()) if module is not None else []
    return Case(f, list(tensors), names, describe, reference, exact, spot, extra)


def _count(name, key):
    COUNTS.setdefault(name, Counter())[key] += 1


def _fresh(draw, t, lo, hi):
    """A float64 copy of ``t`` with continuous random values in [lo, hi] when it requires grad; else ``t``
    itself (cast to float64 when it is floating: a target, a mask of weights)."""
    if not isinstance(t, Tensor) or t.dtype.kind != "f":
        return t
    if not t.requires_grad:
        return minigrad.tensor(t.numpy().astype(np.float64))
    seed = draw(st.integers(0, 2**32 - 1))
    values = np.random.default_rng(seed).uniform(lo, hi, t.shape)
    return minigrad.tensor(values, requires_grad=True)


def spot_check(c: Case, draw) -> None:
    """Replay ``c`` on fresh float64 values and check its gradient against centered differences."""
    if c.spot is None:
        return
    fresh = [_fresh(draw, t, *c.spot) for t in c.tensors]
    wants = [t for t in fresh if isinstance(t, Tensor) and t.requires_grad]
    if (
        not wants
        or not all(t.array.size for t in wants)
        or any(t.dtype != np.float64 for t in fresh if isinstance(t, Tensor) and t.dtype.kind == "f")
    ):
        return
    with _Quiet():
        try:
            out = _output(c.f(*fresh))
        except MinigradError:
            return  # a value-dependent refusal: the oracle checked the error on the drawn values
    if not (isinstance(out, Tensor) and out.requires_grad and out.dtype == np.float64 and out.array.size):
        return
    if not np.all(np.isfinite(out.numpy())):
        return

    def fn(*ts):
        it = iter(ts)
        args = [next(it) if isinstance(t, Tensor) and t.requires_grad else t for t in fresh]
        return _output(c.f(*args))

    with _Quiet():
        report = minigrad.gradcheck(fn, wants, fast_mode=True, raise_exception=False, seed=draw(st.integers(0, 99)))
    _count(c.names[0], "gradchecked")
    assert report.passed, f"{c.names[0]}: the gradient disagrees with centered differences [{c.describe}]\n{report}"


def run(c: Case | None, draw) -> None:
    if c is None:
        return
    _count(c.names[0], "drawn")
    called = c.call()
    forward = called.fn
    outcome = []

    def fn():
        out = forward()
        outcome.append(True)
        return out

    called.fn = fn
    before = _snapshot(called.inputs)
    check(called, draw)
    _assert_unchanged(called, before, "after the check")
    _count(c.names[0], "returned" if outcome else "raised")
    spot_check(c, draw)


def _d(v):
    return f"{tuple(v.shape)} {v.dtype}" if isinstance(v, Tensor) else repr(v)


def dim_arg(draw, ndim):
    """A dim: in range mostly, out of range rarely."""
    return draw(st.integers(-ndim - 1, ndim)) if rarely(draw, 6) else draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))


def index_tensor(draw, shape, high, low=0):
    """An int64 index of ``shape`` in [low, high) (rarely out of range, rarely int32/float/bool)."""
    if rarely(draw):
        kind = draw(st.sampled_from(["float", "bool", "int32"]))
        dtype = {"float": np.float32, "bool": np.bool_, "int32": np.int32}[kind]
    else:
        dtype = np.int64
    if np.dtype(dtype).kind == "b":
        values = st.booleans()
    elif rarely(draw):
        values = st.integers(-high - 2, high + 1)
    else:
        values = st.integers(low, max(high - 1, low))
    return minigrad.tensor(draw(hnp.arrays(dtype, tuple(shape), elements=values)))


# --- scans and sorting ------------------------------------------------------------------------------------------------


def _scan(name):
    op = getattr(minigrad, name)

    def build(draw):
        x = tensor(draw)
        dim = dim_arg(draw, x.ndim)
        ref = None
        if name in ("cumsum", "cumprod"):
            np_fn = np.cumsum if name == "cumsum" else np.cumprod

            def ref(a):
                if not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
                    raise Invalid("dim")
                b = a.reshape(1) if a.ndim == 0 else a
                out = np_fn(b.astype(np.int64) if b.dtype.kind in "bi" else b, axis=dim)
                return out.reshape(a.shape)

        return case(lambda t: op(t, dim), [x], name, f"x {_d(x)}, dim {dim}", ref, name == "cumsum")

    return build


def _sort(draw):
    x = tensor(draw)
    dim = dim_arg(draw, x.ndim)
    descending = draw(st.booleans())
    stable = draw(st.booleans())

    def ref(a):
        if not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
            raise Invalid("dim")
        if a.ndim == 0:
            return a.copy()
        s = np.sort(a, axis=dim)  # NaN last, as PyTorch
        return np.flip(s, axis=dim) if descending else s

    def f(t):
        values, indices = minigrad.sort(t, dim, descending, stable)
        if t.ndim:
            np.testing.assert_array_equal(np.take_along_axis(t.numpy(), indices.numpy(), dim), values.numpy())
        return values

    return case(f, [x], "sort", f"x {_d(x)}, dim {dim}, descending {descending}", ref, True)


def _argsort(draw):
    x = tensor(draw)
    dim = dim_arg(draw, x.ndim)
    fn = draw(st.sampled_from(["argsort", "msort"]))
    if fn == "msort":
        return case(lambda t: minigrad.msort(t), [x], ("msort", "sort"), f"x {_d(x)}",
                    lambda a: np.sort(a, axis=0) if a.ndim else a.copy(), True)  # fmt: skip

    def f(t):
        idx = minigrad.argsort(t, dim, stable=True)
        assert idx.dtype == np.int64
        return minigrad.take_along_dim(t, idx, dim) if t.ndim else t.clone()

    return case(f, [x], ("argsort", "sort"), f"x {_d(x)}, dim {dim}", None, True)


def _topk(draw):
    x = tensor(draw)
    dim = dim_arg(draw, x.ndim)
    size = x.shape[dim] if x.ndim and -x.ndim <= dim < x.ndim else 1
    k = draw(st.integers(-1, size + 1)) if rarely(draw, 6) else draw(st.integers(0, size))
    largest = draw(st.booleans())

    def f(t):
        values, indices = minigrad.topk(t, k, dim, largest)
        assert values.shape == indices.shape
        return values

    return case(f, [x], "topk", f"x {_d(x)}, k {k}, dim {dim}, largest {largest}")


def _kthvalue(draw):
    x = tensor(draw)
    dim = dim_arg(draw, x.ndim)
    size = x.shape[dim] if x.ndim and -x.ndim <= dim < x.ndim else 1
    k = draw(st.integers(0, size + 1)) if rarely(draw, 6) else draw(st.integers(1, max(size, 1)))
    keepdim = draw(st.booleans())
    return case(lambda t: minigrad.kthvalue(t, k, dim, keepdim), [x], "kthvalue",
                f"x {_d(x)}, k {k}, dim {dim}, keepdim {keepdim}")  # fmt: skip


def _median_mode(draw):
    x = tensor(draw)
    name = draw(st.sampled_from(["median", "median_dim", "mode"]))
    dim = dim_arg(draw, x.ndim)
    keepdim = draw(st.booleans())
    if name == "median":
        return case(lambda t: minigrad.median(t), [x], "median", f"x {_d(x)}")
    op = minigrad.median if name == "median_dim" else minigrad.mode
    return case(lambda t: op(t, dim, keepdim), [x], name.removesuffix("_dim"),
                f"x {_d(x)}, dim {dim}, keepdim {keepdim}")  # fmt: skip


def _unique(draw):
    x = tensor(draw)
    inverse, counts = draw(st.booleans()), draw(st.booleans())
    dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)

    def f(t):
        out = minigrad.unique(t, True, inverse, counts, dim)
        return out[0] if isinstance(out, tuple) else out

    def ref(a):
        if dim is not None and not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
            raise Invalid("dim")
        if dim is None or a.ndim == 0:
            return np.unique(a) if dim is None else a.copy()
        return np.unique(a, axis=dim)

    return case(f, [x], "unique", f"x {_d(x)}, inverse {inverse}, counts {counts}, dim {dim}", ref, True, None)


def _nonzero(draw):
    x = tensor(draw)
    name = draw(st.sampled_from(["nonzero", "argwhere", "count_nonzero"]))
    if name == "count_nonzero":
        dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)
        return case(lambda t: minigrad.count_nonzero(t, dim), [x], "count_nonzero", f"x {_d(x)}, dim {dim}",
                    lambda a: np.count_nonzero(a, axis=dim) if a.ndim or dim is None else np.count_nonzero(a),
                    True, None)  # fmt: skip
    op = getattr(minigrad, name)
    return case(lambda t: op(t), [x], name, f"x {_d(x)}", lambda a: np.argwhere(a), True, None)


# --- reductions ------------------------------------------------------------------------------------------------------


def _prod(draw):
    x = tensor(draw)
    dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)
    keepdim = draw(st.booleans())

    def ref(a):
        if dim is not None and not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
            raise Invalid("dim")
        b = a.astype(np.int64) if a.dtype.kind in "bi" else a
        if a.ndim == 0:
            return b.copy()
        return np.prod(b, axis=dim, keepdims=keepdim)  # dim None with keepdim: all dims kept, as sum

    return case(lambda t: minigrad.prod(t, dim, keepdim), [x], "prod", f"x {_d(x)}, dim {dim}, keepdim {keepdim}",
                ref, False, (0.5, 2.0))  # fmt: skip


def _var_std(draw):
    x = tensor(draw, dtypes=DTYPES if rarely(draw) else FLOATS)
    name = draw(st.sampled_from(["var", "std", "var_mean", "std_mean"]))
    dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)
    correction = draw(st.sampled_from([0, 1, 1, 2]))
    keepdim = draw(st.booleans())
    op = getattr(minigrad, name)
    if name in ("var", "std"):
        fn = lambda t: op(t, dim=dim, correction=correction, keepdim=keepdim)  # noqa: E731
    else:

        def fn(t):
            a, b = op(t, dim, keepdim=keepdim, correction=correction)
            return a + b if a.shape == b.shape else a

    return case(fn, [x], name.split("_")[0] if "_" not in name else name,
                f"x {_d(x)}, dim {dim}, correction {correction}, keepdim {keepdim}")  # fmt: skip


def _norm(draw):
    x = tensor(draw, dtypes=DTYPES if rarely(draw) else FLOATS)
    p = draw(st.sampled_from(["fro", 2, 1, math.inf, -math.inf, 0, 3.5, "nuc"]))
    dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)
    keepdim = draw(st.booleans())
    return case(lambda t: minigrad.norm(t, p, dim, keepdim), [x], "norm", f"x {_d(x)}, p {p}, dim {dim}",
                spot=(0.5, 2.0) if p in (2, "fro", 3.5) else None)  # fmt: skip


def _all_any(draw):
    x = tensor(draw)
    name = draw(st.sampled_from(["all", "any"]))
    dim = None if draw(st.booleans()) else dim_arg(draw, x.ndim)
    op, ref_fn = getattr(minigrad, name), getattr(np, name)

    def ref(a):
        if dim is not None and not -max(a.ndim, 1) <= dim < max(a.ndim, 1):
            raise Invalid("dim")
        return ref_fn(a, axis=None if a.ndim == 0 else dim)

    return case(lambda t: op(t, dim) if dim is not None else op(t), [x], name, f"x {_d(x)}, dim {dim}", ref, True,
                None)  # fmt: skip


def _max_min_overloads(draw):
    """max/min(a, b) (elementwise, as maximum/minimum) and max/min(x, dim) -> (values, indices)."""
    name = draw(st.sampled_from(["max", "min"]))
    a = tensor(draw)
    if draw(st.booleans()):
        b = tensor(draw, a.shape if draw(st.booleans()) else draw(shapes()))
        ref = np.maximum if name == "max" else np.minimum
        return case(lambda p, q: getattr(minigrad, name)(p, q), [a, b], (name, "maximum", "minimum"),
                    f"a {_d(a)}, b {_d(b)}", ref, True)  # fmt: skip
    dim = dim_arg(draw, a.ndim)
    return case(lambda t: getattr(t, name)(dim), [a], name, f"x {_d(a)}, dim {dim}")


# --- activations -----------------------------------------------------------------------------------------------------


def _param(draw, good, bad):
    return draw(st.sampled_from(bad)) if rarely(draw) else draw(st.sampled_from(good))


ACTIVATIONS = {
    "elu": lambda draw: {"alpha": _param(draw, [1.0, 0.5, 2.0], [-1.0, math.nan])},
    "celu": lambda draw: {"alpha": _param(draw, [1.0, 0.5, 2.0], [0.0, -1.0])},
    "selu": lambda draw: {},
    "silu": lambda draw: {},
    "mish": lambda draw: {},
    "softplus": lambda draw: {"beta": _param(draw, [1.0, 2.0, 0.5], [0.0, -1.0]), "threshold": 20.0},
    "hardtanh": lambda draw: dict(zip(("min_val", "max_val"), _param(draw, [(-1.0, 1.0), (0.0, 2.0)], [(1.0, -1.0)]))),
    "relu6": lambda draw: {},
    "logsigmoid": lambda draw: {},
    "hardsigmoid": lambda draw: {},
    "hardswish": lambda draw: {},
    "softsign": lambda draw: {},
    "tanhshrink": lambda draw: {},
    "softshrink": lambda draw: {"lambd": _param(draw, [0.5, 0.0, 1.0], [-0.5, math.nan])},
    "hardshrink": lambda draw: {"lambd": _param(draw, [0.5, 0.0, 1.0], [-0.5])},
    "threshold": lambda draw: {"threshold": _param(draw, [0.0, 0.5], [math.nan]),
                               "value": draw(st.sampled_from([0.0, -1.0, math.inf]))},
    "gelu": lambda draw: {"approximate": _param(draw, ["none", "tanh"], ["erf", "fast"])},
    "rrelu": lambda draw: dict(zip(("lower", "upper"),
                                   _param(draw, [(0.125, 1 / 3), (0.1, 0.1)], [(0.5, 0.1), (-1.0, 0.5)]))),
}  # fmt: skip


# The primitives a composite activation calls, whose name its errors may carry instead.
ACTIVATION_CALLS = {
    "silu": ("sigmoid",),
    "logsigmoid": ("neg", "softplus"),
    "mish": ("softplus", "tanh"),
    "tanhshrink": ("tanh",),
}


def _activation(name):
    op = getattr(F, name)

    def build(draw):
        x = tensor(draw)
        kwargs = ACTIVATIONS[name](draw)
        if name == "rrelu":
            kwargs["training"] = draw(st.booleans())
        seed = draw(st.integers(0, 3))

        def f(t):
            with minigrad.fork_rng():
                minigrad.manual_seed(seed)
                return op(t, **kwargs)

        return case(f, [x], (name, *ACTIVATION_CALLS.get(name, ())), f"x {_d(x)}, {kwargs}")

    return build


def _softmin(draw):
    x = tensor(draw)
    dim = dim_arg(draw, x.ndim)
    return case(lambda t: F.softmin(t, dim), [x], ("softmin", "softmax", "neg"), f"x {_d(x)}, dim {dim}")


def _glu(draw):
    shape = list(draw(shapes(1, 3)))
    if not rarely(draw) and shape:
        shape[-1] = 2 * draw(st.integers(0, 2))
    x = tensor(draw, tuple(shape))
    dim = dim_arg(draw, x.ndim)
    return case(lambda t: F.glu(t, dim), [x], ("glu", "sigmoid"), f"x {_d(x)}, dim {dim}")


def _prelu(draw):
    x = tensor(draw)
    c = x.shape[1] if x.ndim > 1 else 1
    w_shape = draw(shapes(0, 2)) if rarely(draw) else draw(st.sampled_from([(1,), (c,)]))
    w = float_tensor(draw, w_shape)
    fn = draw(st.sampled_from([F.prelu, minigrad.prelu]))
    return case(lambda t, v: fn(t, v), [x, w], "prelu", f"x {_d(x)}, weight {_d(w)}")


# --- the table -------------------------------------------------------------------------------------------------------

BREADTH: dict[str, Callable] = {
    **{name: _scan(name) for name in ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp")},
    "sort": _sort,
    "argsort_msort": _argsort,
    "topk": _topk,
    "kthvalue": _kthvalue,
    "median_mode": _median_mode,
    "unique": _unique,
    "nonzero_argwhere_count": _nonzero,
    "prod": _prod,
    "var_std_mean": _var_std,
    "norm": _norm,
    "all_any": _all_any,
    "max_min_overloads": _max_min_overloads,
    **{f"F.{name}": _activation(name) for name in ACTIVATIONS},
    "F.softmin": _softmin,
    "F.glu": _glu,
    "prelu": _prelu,
}


# --- what the fuzzing found, pinned: each case failed the oracle before its fix ---------------------------------------

REGRESSIONS = {
    # cumsum/cumprod of a 0-d bool or int tensor kept its dtype; the 1-D case (and PyTorch) accumulate in int64
    "cumsum of a 0-d bool is int64": _regression(lambda: [_t(True, bool)], lambda x: minigrad.cumsum(x, 0), "cumsum",
                                                 lambda a: np.int64(1)),
    "cumprod of a 0-d int32 is int64": _regression(lambda: [_t(3, np.int32)], lambda x: minigrad.cumprod(x, 0),
                                                   "cumprod", lambda a: np.int64(3)),
    # median of an empty integer tensor crashed with a ValueError (NaN cast to int32)
    "median of an empty int32 tensor": _regression(lambda: [_t(np.zeros(0), np.int32)], minigrad.median, "median"),
    # unique of a 0-d tensor with a dim crashed with numpy's AxisError
    "unique of a 0-d tensor with dim 0": _regression(lambda: [_t(1.0, np.float16)],
                                                     lambda x: minigrad.unique(x, dim=0), "unique"),
}  # fmt: skip


@pytest.mark.parametrize("create_graph", [False, True], ids=["plain", "create_graph"])
@pytest.mark.parametrize("name", list(REGRESSIONS))
def test_regression(name, create_graph):
    choices = iter([create_graph, "ones"])
    check(REGRESSIONS[name](), lambda strategy: next(choices))


@pytest.fixture(scope="module", autouse=True)
def _figures():
    yield
    path = os.environ.get("FUZZ_COUNTS")
    if path:
        with open(path, "w") as fh:
            json.dump({name: dict(c) for name, c in sorted(COUNTS.items())}, fh, indent=1)


@pytest.mark.parametrize("name", list(BREADTH))
@given(data=st.data())
def test_fuzz_breadth(name, data):
    run(BREADTH[name](data.draw), data.draw)

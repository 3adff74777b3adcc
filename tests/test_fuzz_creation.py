"""Fuzzing the creation and random functions and the in-place random fills (#19), with the oracle of test_fuzz.

Each entry draws one call with hostile arguments, as PyTorch 2.13 refuses them: sizes negative, non-int or too
many elements for an int64, dtypes a sampler cannot produce, probabilities negative or NaN, multinomial rows
summing to 0 or more samples than categories without replacement, fills with std < 0, from > to, p outside
[0, 1], on integer tensors and on leaves that require grad. :func:`test_fuzz.check` holds each to a minigrad error
that names the op (the tensor filled unchanged) or a result. The refusals found by this fuzzing (before their fix:
NumPy's ValueError / ZeroDivisionError, or a silent result PyTorch refuses) are pinned in :data:`REFUSALS`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz import FLOATS, float_tensor, rarely, tensor
from test_fuzz_breadth import _EXAMPLES, _d, case, run

import minigrad
from minigrad.errors import ArgumentError, DTypeError, GraphError, ShapeError

SIZES = st.one_of(st.integers(0, 3), st.sampled_from([-1, 2.5, True]))
DTYPES = [None, np.float32, np.float64, np.int64, np.bool_]


def _size(draw):
    if rarely(draw, 8):
        return (2**32, 2**32)  # more elements than an int64 counts (a size that merely exhausts memory: not drawn)
    return tuple(draw(st.lists(SIZES if rarely(draw) else st.integers(0, 3), max_size=3)))


def _seeded(f, seed):
    def g(*ts):
        with minigrad.fork_rng():
            minigrad.manual_seed(seed)
            return f(*ts)

    return g


def _creation(draw):
    name = draw(st.sampled_from(["zeros", "ones", "empty", "full", "arange", "linspace", "logspace", "eye",
                                 "zeros_like", "ones_like", "full_like", "empty_like"]))  # fmt: skip
    dtype = draw(st.sampled_from(DTYPES))
    size = _size(draw)
    if name in ("zeros", "ones", "empty"):
        return case(lambda: getattr(minigrad, name)(size, dtype=dtype), [], name, f"size {size}, dtype {dtype}",
                    spot=None)  # fmt: skip
    if name == "full":
        value = draw(st.sampled_from([1, 2.5, -3, True, math.nan, math.inf, 2**70]))
        return case(lambda: minigrad.full(size, value, dtype=dtype), [], name, f"{size}, {value}, {dtype}", spot=None)
    if name.endswith("_like"):
        x = tensor(draw)
        value = draw(st.sampled_from([1, 0.5, math.nan]))
        op = getattr(minigrad, name)
        f = (lambda t: op(t, value, dtype=dtype)) if name == "full_like" else (lambda t: op(t, dtype=dtype))
        return case(f, [x], (name, name.removesuffix("_like")), f"x {_d(x)}, dtype {dtype}", spot=None)
    bounds = st.sampled_from([0, 1, -2, 0.5, math.nan, math.inf])
    start, end = draw(bounds), draw(bounds)
    if name == "arange":
        step = draw(st.sampled_from([1, 2, -1, 0.5, 0, math.nan]))
        return case(lambda: minigrad.arange(start, end, step), [], name, f"{start}, {end}, {step}", spot=None)
    steps = draw(st.sampled_from([0, 1, 3, -1, 2.5]))
    if name == "eye":
        m = draw(st.sampled_from([None, 2, -1, 1.5]))
        return case(lambda: minigrad.eye(steps, m, dtype=dtype), [], name, f"n {steps}, m {m}", spot=None)
    start, end = draw(st.sampled_from([0, 1.5, -1])), draw(st.sampled_from([0, 2, 3.5]))
    op = getattr(minigrad, name)
    return case(lambda: op(start, end, steps), [], name, f"{start}, {end}, steps {steps}", spot=None)


def _random(draw):
    name = draw(st.sampled_from(["rand", "randn", "randint", "randperm", "rand_like", "randn_like", "normal",
                                 "bernoulli", "multinomial", "poisson"]))  # fmt: skip
    seed = draw(st.integers(0, 3))
    generator = minigrad.Generator().manual_seed(seed) if draw(st.booleans()) else None
    dtype = draw(st.sampled_from(DTYPES))
    size = _size(draw)
    if name in ("rand", "randn"):
        f = lambda: getattr(minigrad, name)(size, generator=generator, dtype=dtype)  # noqa: E731
        return case(_seeded(f, seed), [], name, f"size {size}, dtype {dtype}", spot=None)
    if name in ("rand_like", "randn_like"):
        x = tensor(draw)
        f = lambda t: getattr(minigrad, name)(t, generator=generator, dtype=dtype)  # noqa: E731
        return case(_seeded(f, seed), [x], (name, name.removesuffix("_like")), f"x {_d(x)}, dtype {dtype}", spot=None)
    if name == "randint":
        low, high = draw(st.sampled_from([0, 3, -2])), draw(st.sampled_from([1, 3, 0, 2**40]))
        f = lambda: minigrad.randint(low, high, size, generator=generator)  # noqa: E731
        return case(_seeded(f, seed), [], name, f"{low}, {high}, {size}", spot=None)
    if name == "randperm":
        n = draw(st.sampled_from([0, 1, 4, -1, 2.5]))
        return case(_seeded(lambda: minigrad.randperm(n, generator=generator), seed), [], name, f"n {n}", spot=None)
    if name == "normal":  # the float/float overload with a size (the tensor overloads: test_fuzz_breadth's sampling)
        mean, std = draw(st.sampled_from([0.0, 1.5, math.nan])), draw(st.sampled_from([1.0, 0.0, -1.0, math.nan]))
        f = lambda: minigrad.normal(mean, std, size, generator=generator)  # noqa: E731
        return case(_seeded(f, seed), [], name, f"mean {mean}, std {std}, size {size}", spot=None)
    if name == "bernoulli":
        p = float_tensor(draw, grad=False, values=st.one_of(st.floats(0, 1), st.sampled_from([-0.5, 1.5, math.nan])))
        scalar = draw(st.sampled_from([None, None, 0.5, -0.1, 2.0, math.nan]))
        f = lambda q: minigrad.bernoulli(q, scalar, generator=generator)  # noqa: E731
        return case(_seeded(f, seed), [p], name, f"p {_d(p)}, scalar p {scalar}", spot=None)
    if name == "multinomial":
        rows = draw(st.integers(1, 3))
        w = float_tensor(draw, (rows, draw(st.integers(1, 3))), grad=False,
                         values=st.one_of(st.floats(0, 3), st.sampled_from([0.0, -1.0, math.nan])))  # fmt: skip
        if rarely(draw):
            w = minigrad.tensor(np.zeros(tuple(w.shape), np.float32))  # every row sums to 0
        k, replacement = draw(st.integers(1, 5)), draw(st.booleans())
        f = lambda v: minigrad.multinomial(v, k, replacement, generator=generator)  # noqa: E731
        return case(_seeded(f, seed), [w], name, f"w {_d(w)}, {k}, replacement {replacement}", spot=None)
    rate = float_tensor(draw, grad=False, values=st.one_of(st.floats(0, 5), st.sampled_from([-1.0, math.nan])))
    return case(_seeded(lambda r: minigrad.poisson(r, generator=generator), seed), [rate], name, f"rate {_d(rate)}",
                spot=None)  # fmt: skip


FILLS = {  # name: (good parameters, bad ones), as PyTorch refuses them
    "normal_": ([(0.0, 1.0), (1.0, 0.0)], [(0.0, -1.0), (0.0, math.nan)]),
    "uniform_": ([(0.0, 1.0), (-1.0, -1.0)], [(2.0, 1.0)]),
    "bernoulli_": ([(0.5,), (0.0,), (1.0,)], [(-0.1,), (1.5,)]),
    "exponential_": ([(1.0,), (0.5,)], [(0.0,), (-1.0,)]),
    "random_": ([(0, 5), (3,)], [(5, 2), (0, 0)]),
    "geometric_": ([(0.5,)], [(0.0,), (1.5,)]),
    "log_normal_": ([(0.0, 1.0)], [(0.0, 0.0), (0.0, -1.0)]),
    "cauchy_": ([(0.0, 1.0)], [(0.0, 0.0), (0.0, -1.0)]),
}


def _fills(draw):
    """An in-place random fill: a refusal (bad parameters, an integer tensor where PyTorch refuses one, a leaf that
    requires grad) leaves the tensor as it was, which the oracle checks."""
    name = draw(st.sampled_from(sorted(FILLS)))
    good, bad = FILLS[name]
    params = draw(st.sampled_from(bad if rarely(draw, 3) else good))
    dtype = draw(st.sampled_from(FLOATS + (np.int64,)))
    x = tensor(draw, dtypes=(dtype,))
    seed = draw(st.integers(0, 3))
    if x.requires_grad and draw(st.booleans()):
        target = x  # a leaf that requires grad: PyTorch refuses in-place on it

        def f(t):
            return getattr(t, name)(*params)
    else:

        def f(t):
            u = t.detach().clone()  # the result, filled; t itself must stay as it was
            out = getattr(u, name)(*params)
            assert out is u
            return out + t * 0 if t.dtype.kind == "f" and t.requires_grad else out

        target = x
    return case(_seeded(f, seed), [target], name, f"x {_d(x)}, {params}", spot=None)


ENTRIES = {"creation": _creation, "random": _random, "random_fills": _fills}


@pytest.mark.parametrize("name", list(ENTRIES))
@_EXAMPLES
@given(data=st.data())
def test_fuzz_creation(name, data):
    run(ENTRIES[name](data.draw), data.draw)


# what this fuzzing found, pinned: NumPy's exceptions or a result where PyTorch refuses, before the fix
REFUSALS = {
    "zeros of 10^26 elements": (lambda: minigrad.zeros(10**13, 10**13), ShapeError, "zeros"),
    "full of NaN as int64": (lambda: minigrad.full((2,), math.nan, dtype=np.int64), ArgumentError, "full"),
    "full of 2^70 as int64": (lambda: minigrad.full((2,), 2**70, dtype=np.int64), ArgumentError, "full"),
    "arange with step 0": (lambda: minigrad.arange(0, 5, 0), ArgumentError, "step must be nonzero"),
    "arange against its step": (lambda: minigrad.arange(5, 0, 1), ArgumentError, "inconsistent with step sign"),
    "arange to NaN": (lambda: minigrad.arange(math.nan), ArgumentError, "unsupported range"),
    "linspace of -1 steps": (lambda: minigrad.linspace(0, 1, -1), ArgumentError, "linspace"),
    "linspace of 2.5 steps": (lambda: minigrad.linspace(0, 1, 2.5), DTypeError, "linspace"),
    "eye of -1": (lambda: minigrad.eye(-1), ArgumentError, "eye: n must be greater or equal to 0"),
    "eye of 2 x -1": (lambda: minigrad.eye(2, -1), ArgumentError, "eye: m"),
    "randn as int64": (lambda: minigrad.randn(2, dtype=np.int64), DTypeError, "randn"),
    "rand as bool": (lambda: minigrad.rand(2, dtype=np.bool_), DTypeError, "rand"),
    "randint from 5 to 2": (lambda: minigrad.randint(5, 2, (3,)), ArgumentError, "from=5 >= to=2"),
    "randint below 0": (lambda: minigrad.randint(0, (3,)), ArgumentError, "randint"),
    "randperm of -1": (lambda: minigrad.randperm(-1), ArgumentError, "randperm"),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_refusal(name):
    fn, kind, text = REFUSALS[name]
    with pytest.raises(kind, match=text):
        fn()


def test_fill_of_a_leaf_that_requires_grad_is_refused_and_leaves_it():
    x = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    for name, (_, _) in FILLS.items():
        with pytest.raises(GraphError, match=name):
            getattr(x, name)(*FILLS[name][0][0])
        assert x.numpy().tolist() == [1.0, 2.0] and x._version == 0

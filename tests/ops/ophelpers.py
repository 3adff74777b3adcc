"""What the op tests share: hypothesis strategies and the second-order check (the op table is optable.py).

Shapes come from :mod:`minigrad.testing`, the strategies users get, and stay
small (at most 3 dimensions of size <= 4) because the numerical side of
gradcheck moves one coordinate at a time. Values that feed a kink (relu, abs,
clip, max, maximum, ...) are kept a fixed gap away from it, so that centered
differences with h = 1e-6 never cross it.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad
from minigrad.testing import broadcastable_shapes, shapes  # noqa: F401  (the users' strategies, re-exported)

# The ``device`` fixture is function scoped but holds only a string, so it is
# safe to share between hypothesis examples.
with_device = settings(
    suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture],
)

DTYPES = [np.float32, np.float64]


def tolerance(dtype) -> dict:
    """assert_allclose tolerances for comparing a forward with NumPy in ``dtype``."""
    return {"rtol": 2e-6, "atol": 1e-6} if np.dtype(dtype) == np.float32 else {"rtol": 1e-12, "atol": 1e-12}


# --- strategies ----------------------------------------------------------------


def values(lo=-3.0, hi=3.0, avoid=(), gap=1e-3):
    """Finite floats in [lo, hi], at least ``gap`` away from every point in ``avoid`` (the kinks)."""
    s = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if avoid:
        s = s.filter(lambda v: all(abs(v - p) > gap for p in avoid))
    return s


def nonzero(lo=0.5, hi=3.0):
    """Floats with lo <= |v| <= hi (denominators)."""
    return st.one_of(st.floats(lo, hi), st.floats(-hi, -lo))


def arrays(shape, elements=None, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=values() if elements is None else elements)


@st.composite
def distinct_arrays(draw, shape, spacing=0.25):
    """An array whose elements differ pairwise by at least 0.75 * spacing (no ties for max/min)."""
    n = math.prod(shape)
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, (n,), elements=st.floats(0, spacing / 4)))
    return ((order - n / 2) * spacing + jitter).reshape(shape)


@st.composite
def separated_pair(draw, shape_a, shape_b):
    """Arrays a, b with |a - b| >= 0.05 wherever they broadcast against each other (no ties).

    a lies on 0.1 + 0.25 k and b on 0.25 k, each with jitter below 0.05.
    """

    def grid(shape, offset):
        k = draw(hnp.arrays(np.int64, shape, elements=st.integers(-8, 8)))
        u = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 0.05)))
        return 0.25 * k + offset + u

    return grid(shape_a, 0.1), grid(shape_b, 0.0)


@st.composite
def axes(draw, ndim, allow_none=True):
    """A reduction axis: None, an int (possibly negative) or a tuple of distinct axes."""
    kinds = (["none"] if allow_none or ndim == 0 else []) + (["int", "tuple"] if ndim else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


# --- second order ---------------------------------------------------------------------


def check_second_order(fn, *arrays, seed=0, eps=5e-5, rtol=1e-6, atol=1e-8):
    """Check create_graph=True on ``fn`` through the loss L = sum(w * fn(x)^2).

    1. ``minigrad.grad(L, xs, create_graph=True)`` equals a plain backward's gradient.
    2. ``minigrad.grad(sum(g * v), xs)`` (a Hessian-vector product, which runs the
       vjps of ``fn`` on tensors) equals centered differences of the plain
       gradient along v (steps up to 2 eps |v|: keep kinks farther than that).

    Squaring makes the cotangent that reaches ``fn``'s vjps depend on x, so
    even a linear op's vjp is differentiated as a function of its cotangent.
    """
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    w = rng.standard_normal(fn(*[minigrad.tensor(a, dtype=np.float64) for a in arrays]).shape)

    def loss(*ts):
        out = fn(*ts)
        return (out * out * w).sum()

    def plain_gradient(arrs):
        ts = [minigrad.tensor(a, dtype=np.float64, requires_grad=True) for a in arrs]
        loss(*ts).backward()
        return [t.grad.numpy().copy() for t in ts]

    xs = [minigrad.tensor(a, dtype=np.float64, requires_grad=True) for a in arrays]
    gs = minigrad.grad(loss(*xs), xs, create_graph=True)
    for g, want in zip(gs, plain_gradient(arrays)):
        assert g.requires_grad, "create_graph=True gave a gradient that is not part of a graph"
        assert g.dtype == np.float64
        np.testing.assert_allclose(g.numpy(), want, rtol=1e-12, atol=1e-12)

    vs = [rng.standard_normal(a.shape) for a in arrays]
    hvp = minigrad.grad(sum((g * v).sum() for g, v in zip(gs, vs)), xs, allow_unused=True)

    def along(t):  # the plain gradient at x + t v
        return plain_gradient([a + t * v for a, v in zip(arrays, vs)])

    # the five-point centered difference: error O(eps^4), so eps can stay large against roundoff
    stencil = zip(along(-2 * eps), along(-eps), along(eps), along(2 * eps))
    numerical = [(m2 - 8 * m1 + 8 * p1 - p2) / (12 * eps) for m2, m1, p1, p2 in stencil]
    for h, want, a in zip(hvp, numerical, arrays):
        got = np.zeros(a.shape) if h is None else h.numpy()
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)

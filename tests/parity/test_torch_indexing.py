"""minigrad's indexing ops (minigrad/ops/indexing.py) against PyTorch itself: values and gradients in float64.

Each case draws a shape (empty dimensions included), a dim of either sign and the indices with NumPy from a
hypothesis-drawn seed, runs the op in both libraries on the same arrays, and compares the result and the
gradient of sum(w * out) with respect to every floating input. Repeated indices are drawn where PyTorch's
result is deterministic (scatter_add, index_add, scatter_reduce, gather, take ...); scatter and index_copy
get distinct positions, since PyTorch leaves repeated writes undefined (their gradients with repeats are
compared in a test of their own). Values come from a small set in the reductions, so that amax/amin see
ties and prod sees zeros.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg

torch = pytest.importorskip("torch")


def _shape(rng, min_dims=1):
    return tuple(int(n) for n in rng.integers(0, 4, size=rng.integers(min_dims, 4)))


def _dim(rng, ndim):
    n = max(ndim, 1)
    return int(rng.integers(-n, n))


def _vector(rng, size, distinct=False, negative=False):
    if distinct:
        index = rng.permutation(size)[: rng.integers(0, size + 1)]
    else:
        index = rng.integers(0, size, size=rng.integers(0, 5)) if size else np.zeros(0, np.int64)
    if negative and index.size:
        index = np.where(rng.random(index.size) < 0.5, index - size, index)
    return index.astype(np.int64)


def _along(rng, shape, dim, distinct=False):
    """An index along dim for gather/scatter: no larger than shape apart from dim."""
    axis = dim % len(shape)
    index_shape = [int(rng.integers(0, s + 1)) for s in shape]
    size = shape[axis]
    if distinct:
        index_shape[axis] = int(rng.integers(0, size + 1))
        keys = rng.random([size if d == axis else n for d, n in enumerate(index_shape)])
        return np.argsort(keys, axis=axis)[tuple(slice(0, n) for n in index_shape)].astype(np.int64)
    index_shape[axis] = int(rng.integers(0, 5)) if size else 0
    return rng.integers(0, max(size, 1), size=index_shape).astype(np.int64)


def _values(rng, shape, discrete=False):
    if discrete:  # ties and zeros
        return rng.choice([-1.5, -0.5, 0.0, 0.5, 1.0, 2.0], size=shape).astype(np.float64)
    return rng.uniform(-2, 2, size=shape)


def _case(name, rng):
    """(floating arrays, constants, fn(lib, *floats, *constants)) for one op."""
    shape = _shape(rng)
    x = _values(rng, shape)
    dim = _dim(rng, len(shape))
    if name == "gather":
        index = _along(rng, shape, dim)
        return [x], [index], lambda lib, a, i: lib.gather(a, dim, i)
    if name in ("scatter", "scatter_value", "scatter_add"):
        index = _along(rng, shape, dim, distinct=name != "scatter_add")
        # PyTorch 2.13's backward fails for a src larger than index ("invalid gradient"): the same shape here
        src = _values(rng, tuple(index.shape))
        if name == "scatter_value":
            return [x], [index], lambda lib, a, i: a.scatter(dim, i, 1.25)
        return [x, src], [index], lambda lib, a, s, i: getattr(lib, name)(a, dim, i, s)
    if name.startswith("scatter_reduce"):
        _, reduce, include_self = name.split(":")
        x = _values(rng, shape, discrete=True)
        if include_self == "noself" and reduce in ("amax", "amin"):
            x = x + 0.25  # never equal to a src value: see test_an_excluded_self_equal_to_the_result_...
        index = _along(rng, shape, dim)
        src = _values(rng, tuple(index.shape), discrete=True)
        return (
            [x, src],
            [index],
            lambda lib, a, s, i: lib.scatter_reduce(a, dim, i, s, reduce, include_self=include_self == "self"),
        )
    size = shape[dim]
    if name in ("index_select", "index_add", "index_copy"):
        index = _vector(rng, size, distinct=name == "index_copy")
        if name == "index_select":
            return [x], [index], lambda lib, a, i: lib.index_select(a, dim, i)
        source_shape = list(shape)
        source_shape[dim] = index.size
        source = _values(rng, tuple(source_shape))
        if name == "index_add":
            return [x, source], [index], lambda lib, a, s, i: a.index_add(dim, i, s, alpha=-1.5)
        return [x, source], [index], lambda lib, a, s, i: lib.index_copy(a, dim, i, s)
    if name == "index_fill":
        index = _vector(rng, size)  # PyTorch's backward rejects negative ones
        return [x, np.array(0.75)], [index], lambda lib, a, v, i: lib.index_fill(a, dim, i, v)
    if name == "take":
        n = x.size
        index = rng.integers(-n, n, size=_shape(rng, 0)) if n else np.zeros(0, np.int64)
        return [x], [index.astype(np.int64)], lambda lib, a, i: lib.take(a, i)
    if name == "take_along_dim":
        index_shape = [int(rng.choice([1, s])) for s in shape]
        index_shape[dim] = int(rng.integers(0, 4)) if size else 0
        index = (
            rng.integers(-size, max(size, 1), size=index_shape).astype(np.int64)
            if size
            else np.zeros(index_shape, np.int64)
        )
        return [x], [index], lambda lib, a, i: lib.take_along_dim(a, i, dim)
    if name in ("masked_select", "masked_scatter"):
        mask = rng.random(shape[int(rng.integers(0, len(shape) + 1)) :]) < 0.5  # broadcasts against x
        if name == "masked_select":
            return [x], [mask], lambda lib, a, m: lib.masked_select(a, m)
        count = int(np.broadcast_to(mask, np.broadcast_shapes(shape, mask.shape)).sum())
        source = _values(rng, (count + int(rng.integers(0, 3)),))
        return [x, source], [mask], lambda lib, a, s, m: a.masked_scatter(m, s)
    if name == "repeat_interleave":
        repeats = rng.integers(0, 3, size=size).astype(np.int64)
        return [x], [repeats], lambda lib, a, r: lib.repeat_interleave(a, r, dim)
    raise KeyError(name)


NAMES = [
    "gather",
    "scatter",
    "scatter_value",
    "scatter_add",
    *[f"scatter_reduce:{r}:{s}" for r in ("sum", "prod", "mean", "amax", "amin") for s in ("self", "noself")],
    "index_select",
    "index_add",
    "index_copy",
    "index_fill",
    "take",
    "take_along_dim",
    "masked_select",
    "masked_scatter",
    "repeat_interleave",
]


def _run(lib, floats, constants, fn, w_seed):
    if lib is torch:
        xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in floats]
        cs = [torch.from_numpy(np.asarray(c)) for c in constants]
    else:
        xs = [mg.tensor(a, dtype=np.float64, requires_grad=True) for a in floats]
        cs = [mg.tensor(np.asarray(c)) for c in constants]
    out = fn(lib, *xs, *cs)
    w = np.random.default_rng(w_seed).standard_normal(tuple(out.shape))
    (out * (torch.from_numpy(w) if lib is torch else mg.tensor(w))).sum().backward()
    grads = [np.zeros(a.shape) if x.grad is None else x.grad.detach().numpy() for a, x in zip(floats, xs)]
    return out.detach().numpy(), grads


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_values_and_gradients_match_pytorch(name, seed):
    rng = np.random.default_rng(seed)
    floats, constants, fn = _case(name, rng)
    want, want_grads = _run(torch, floats, constants, fn, seed)
    got, got_grads = _run(mg, floats, constants, fn, seed)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    for g, wg in zip(got_grads, want_grads):
        np.testing.assert_allclose(g, wg, rtol=1e-12, atol=1e-12)


def test_repeated_writes_get_pytorchs_gradients():
    """scatter and index_copy with repeated positions: the gradients follow PyTorch's formulas (x: zero
    wherever written; src: grad.gather / index_select, every duplicate), whatever write wins."""
    x = np.arange(6.0).reshape(2, 3)
    src = np.arange(6.0).reshape(2, 3) + 10
    index = np.array([[1, 0, 1], [1, 1, 1]])
    w = np.arange(6.0).reshape(2, 3) - 2

    def grads(lib, wrap):
        a = wrap(x, True)
        s = wrap(src, True)
        (lib.scatter(a, 0, wrap(index), s) * wrap(w)).sum().backward()
        b = wrap(x, True)
        t = wrap(src[:, :2].T.copy(), True)
        (lib.index_copy(b, 1, wrap(np.array([0, 0])), t.T) * wrap(w)).sum().backward()
        return [v.grad.detach().numpy() for v in (a, s, b, t)]

    def mg_wrap(a, rg=False):
        return mg.tensor(a, requires_grad=rg)

    def torch_wrap(a, rg=False):
        return torch.tensor(a, requires_grad=rg)

    for got, want in zip(grads(mg, mg_wrap), grads(torch, torch_wrap)):
        np.testing.assert_array_equal(got, want)


def test_in_place_methods_match_pytorch():
    x = np.array([[0.3, -1.2, 2.0], [1.4, -0.2, 0.8]])
    o = np.array([[0.5, -0.6], [0.7, 0.1]])

    def run(lib, wrap):
        results = []
        for step in (
            lambda y, s, i: y.scatter_(1, i, s),
            lambda y, s, i: y.scatter_add_(1, i, s),
            lambda y, s, i: y.scatter_reduce_(1, i, s, "amin", include_self=False),
            lambda y, s, i: y.index_add_(1, i[0], s, alpha=2),
            lambda y, s, i: y.index_fill_(1, i[0], -3.0),
            lambda y, s, i: y.masked_fill_(y > 0.5, 0.25),
            lambda y, s, i: y.clamp_(min=s.sum() - 2, max=s.sum()),
            lambda y, s, i: y.clamp_min_(-0.5).clamp_max_(1.5),
        ):
            a, s = wrap(x, True), wrap(o, True)
            y = a * 1.0
            step(y, s, wrap(np.array([[2, 0], [1, 1]])))
            (y * y).sum().backward()
            results += [y.detach().numpy(), a.grad.detach().numpy(), s.grad.numpy() if s.grad is not None else 0]
        return results

    got = run(mg, lambda a, rg=False: mg.tensor(a, requires_grad=rg))
    want = run(torch, lambda a, rg=False: torch.tensor(a, requires_grad=rg))
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_an_excluded_self_equal_to_the_result_takes_no_share_here_unlike_pytorch():
    """A deliberate difference: with include_self=False, PyTorch 2.13 still counts input's element among
    the ties of amax/amin when it equals the result (then gives it 0), so a src element that is the only
    one taking part gets half the cotangent. Here the count has only the elements taking part, so the
    gradient is the derivative (1: out = src there), as gradcheck confirms."""
    x, src, index = np.array([1.0, 3.0]), np.array([1.0]), np.array([0])
    t_src = torch.tensor(src, requires_grad=True)
    torch.tensor(x).scatter_reduce(0, torch.tensor(index), t_src, "amax", include_self=False).sum().backward()
    assert t_src.grad.item() == 0.5  # PyTorch's
    m_src = mg.tensor(src, requires_grad=True)
    mg.scatter_reduce(mg.tensor(x), 0, mg.tensor(index), m_src, "amax", include_self=False).sum().backward()
    assert m_src.grad.item() == 1.0
    mg.gradcheck(
        lambda s: mg.scatter_reduce(mg.tensor(x), 0, mg.tensor(index), s, "amax", include_self=False),
        (mg.tensor(src, requires_grad=True),),
    )


def test_negative_indices_in_index_fill_forward_as_pytorch():
    """PyTorch's index_fill takes negative indices in its forward (its backward then fails); so does ours."""
    x = np.arange(6.0).reshape(2, 3)
    want = torch.tensor(x).index_fill(1, torch.tensor([-1, 0]), 9.0).numpy()
    np.testing.assert_array_equal(mg.tensor(x).index_fill(1, mg.tensor([-1, 0]), 9.0).numpy(), want)

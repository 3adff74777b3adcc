"""Building tensors, index tensors, index_put/put and the memory attributes (minigrad.ops.building).

Values against NumPy / itertools, gradcheck through the differentiable
composites, the in-place forms under the version counter, and errors.
"""

import itertools

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import arrays, with_device

import minigrad
from minigrad.testing import shapes


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


def _np(t):
    return t.to("cpu").numpy()


def test_logspace(device):
    np.testing.assert_allclose(_np(minigrad.logspace(0, 2, 3, device=device)), [1, 10, 100], rtol=1e-6)
    out = minigrad.logspace(-1, 3, 5, base=2, dtype=np.float64, device=device)
    np.testing.assert_allclose(_np(out), np.logspace(-1, 3, 5, base=2), rtol=1e-12)
    assert minigrad.logspace(0, 1, 4).dtype == np.float32 and minigrad.logspace(0, 1, 0).shape == (0,)
    assert minigrad.logspace(0, 1, 2, requires_grad=True).requires_grad
    with pytest.raises(minigrad.ArgumentError, match="logspace: number of steps must be non-negative"):
        minigrad.logspace(0, 1, -1)


@with_device
@given(
    x=st.integers(0, 4).flatmap(lambda n: arrays((n,))), n=st.one_of(st.none(), st.integers(0, 5)), inc=st.booleans()
)
def test_vander_matches_numpy_with_gradients(x, n, inc, device):
    got = minigrad.vander(_t(x, device), N=n, increasing=inc)
    np.testing.assert_allclose(_np(got), np.vander(x, n, increasing=inc), rtol=1e-12, atol=1e-12)
    check_gradients(lambda v: minigrad.vander(v, N=n, increasing=inc), x, device=device)
    batch = np.stack([x, x * 2])
    np.testing.assert_allclose(
        _np(minigrad.linalg.vander(_t(batch, device))),
        np.stack([np.vander(r, increasing=True) for r in batch]),
        rtol=1e-12,
    )


def test_vander_integers_and_errors():
    np.testing.assert_array_equal(minigrad.vander(_t([1, 2, 3])).numpy(), [[1, 1, 1], [4, 2, 1], [9, 3, 1]])
    with pytest.raises(minigrad.ShapeError, match="vander: x must be a one-dimensional tensor"):
        minigrad.vander(minigrad.ones(2, 2))
    with pytest.raises(minigrad.ArgumentError, match="vander: N must be non-negative"):
        minigrad.vander(minigrad.ones(2), N=-1)


@pytest.mark.parametrize("row,col,offset", [(3, 4, 1), (4, 3, -1), (3, 3, 0), (0, 3, 0), (2, 5, 7), (5, 2, -7)])
def test_triangle_indices_match_numpy(row, col, offset, device):
    got = minigrad.tril_indices(row, col, offset, device=device)
    np.testing.assert_array_equal(_np(got), np.stack(np.tril_indices(row, offset, col)))
    assert got.dtype == np.int64
    up = minigrad.triu_indices(row, col, offset, device=device)
    np.testing.assert_array_equal(_np(up), np.stack(np.triu_indices(row, offset, col)))
    assert minigrad.tril_indices(3, 3, dtype=np.int32).dtype == np.int32
    with pytest.raises(minigrad.ArgumentError, match="tril_indices: row and col must be non-negative"):
        minigrad.tril_indices(-1, 2)


@with_device
@given(sizes=st.lists(st.integers(0, 3), min_size=1, max_size=3), data=st.data())
def test_cartesian_prod_matches_itertools(sizes, data, device):
    xs = [data.draw(arrays((n,))) for n in sizes]
    got = minigrad.cartesian_prod(*[_t(x, device) for x in xs])
    want = np.array(list(itertools.product(*xs))).reshape(-1, len(xs))
    np.testing.assert_array_equal(_np(got), want if len(xs) > 1 else xs[0])
    check_gradients(lambda *a: minigrad.cartesian_prod(*a) * 2.0, *xs, device=device)


@with_device
@given(x=st.integers(0, 5).flatmap(lambda n: arrays((n,))), r=st.integers(1, 4), rep=st.booleans())
def test_combinations_match_itertools(x, r, rep, device):
    pick = itertools.combinations_with_replacement if rep else itertools.combinations
    want = np.array(list(pick(x, r))).reshape(-1, r)
    got = minigrad.combinations(_t(x, device), r, rep)
    np.testing.assert_array_equal(_np(got), want)
    check_gradients(lambda a: minigrad.combinations(a, r, with_replacement=rep), x, device=device)


def test_combinations_edge_cases_and_errors():
    assert minigrad.combinations(_t([1.0, 2.0]), 0).shape == (0,)
    with pytest.raises(minigrad.ShapeError, match="combinations: Expect a 1D vector"):
        minigrad.combinations(minigrad.ones(2, 2))
    with pytest.raises(minigrad.ArgumentError, match="combinations: Expect a non-negative number"):
        minigrad.combinations(minigrad.ones(2), -1)


@with_device
@given(
    block_shapes=st.lists(shapes(min_dims=0, max_dims=2, min_side=0, max_side=3), min_size=1, max_size=3),
    data=st.data(),
)
def test_block_diag_matches_a_loop(block_shapes, data, device):
    xs = [data.draw(arrays(s)) for s in block_shapes]
    mats = [x.reshape(1, -1) if x.ndim < 2 else x for x in xs]
    want = np.zeros((sum(m.shape[0] for m in mats), sum(m.shape[1] for m in mats)))
    r = c = 0
    for m in mats:
        want[r : r + m.shape[0], c : c + m.shape[1]] = m
        r, c = r + m.shape[0], c + m.shape[1]
    np.testing.assert_array_equal(_np(minigrad.block_diag(*[_t(x, device) for x in xs])), want)
    check_gradients(lambda *a: minigrad.block_diag(*a), *xs, device=device)


def test_block_diag_promotes_dtypes_and_errors():
    out = minigrad.block_diag(_t(1), _t([2.0, 3.0]), minigrad.ones(2, 2, dtype=np.float64))
    assert out.dtype == np.float64 and out.shape == (4, 5)
    with pytest.raises(minigrad.ShapeError, match="block_diag: Input tensors must have 2 or fewer dimensions"):
        minigrad.block_diag(minigrad.ones(1, 1, 1))


@pytest.mark.parametrize("shape,offset", [((4,), 0), ((2, 2), 1), ((3,), -2), ((0,), 1)])
def test_diagflat(shape, offset, device):
    x = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    np.testing.assert_array_equal(_np(minigrad.diagflat(_t(x, device), offset)), np.diagflat(x, offset))
    np.testing.assert_array_equal(_np(_t(x, device).diagflat(offset)), np.diagflat(x, offset))
    check_gradients(lambda a: minigrad.diagflat(a, offset), x, device=device)


# --- in place ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tril_", "triu_"])
def test_tril_triu_in_place(name):
    x = np.arange(12.0).reshape(3, 4)
    t = _t(x)
    assert getattr(t, name)(1) is t
    np.testing.assert_array_equal(t.numpy(), getattr(np, name[:-1])(x, 1))
    assert t._version == 1
    w = _t(x, requires_grad=True)
    y = w * 1.0
    getattr(y, name)(-1)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), getattr(np, name[:-1])(np.ones((3, 4)), -1))
    with pytest.raises(minigrad.GraphError):
        getattr(_t(x, requires_grad=True), name)()


@pytest.mark.parametrize(
    "shape,wrap", [((3, 3), False), ((7, 3), True), ((7, 3), False), ((3, 5), True), ((2, 2, 2), False)]
)
def test_fill_diagonal_matches_numpy(shape, wrap):
    x = np.arange(float(np.prod(shape))).reshape(shape)
    want = x.copy()
    np.fill_diagonal(want, -1.0, wrap=wrap)
    t = _t(x)
    t.fill_diagonal_(-1.0, wrap=wrap)
    np.testing.assert_array_equal(t.numpy(), want)
    w = _t(x, requires_grad=True)
    y = w * 2.0
    y.fill_diagonal_(0.0, wrap=wrap)
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.where(want == -1.0, 0.0, 2.0))


def test_fill_diagonal_errors():
    with pytest.raises(minigrad.ShapeError, match="fill_diagonal_: dimensions must larger than 1"):
        minigrad.ones(3).fill_diagonal_(0.0)
    t = minigrad.ones(2, 3, 3)
    with pytest.raises(minigrad.ShapeError, match="fill_diagonal_: all dimensions of input must be of equal length"):
        t.fill_diagonal_(0.0)
    assert t._version == 0


# --- index_put, put ------------------------------------------------------------------------------------------------


@with_device
@given(data=st.data(), accumulate=st.booleans())
def test_index_put_matches_numpy(data, accumulate, device):
    shape = data.draw(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    x = data.draw(arrays(shape))
    k = data.draw(st.integers(1, len(shape)))
    count = data.draw(st.integers(0, 5))
    idx = tuple(data.draw(arrays((count,), st.integers(-s, s - 1), dtype=np.int64)) for s in shape[:k])
    if not accumulate:  # the last write wins only where positions are distinct: PyTorch leaves repeats undefined
        flat = np.ravel_multi_index(tuple(i % s for i, s in zip(idx, shape)), shape[:k])
        if len(set(flat.tolist())) != len(flat):
            return
    values = data.draw(arrays((count,) + shape[k:]))
    want = x.copy()
    if accumulate:
        np.add.at(want, idx, values)
    else:
        want[idx] = values
    ti = tuple(_t(i, device) for i in idx)
    got = minigrad.index_put(_t(x, device), ti, _t(values, device), accumulate)
    np.testing.assert_allclose(_np(got), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(_t(x, device).index_put(ti, _t(values, device), accumulate)), want, rtol=1e-12)
    check_gradients(lambda a, v: minigrad.index_put(a, ti, v, accumulate), x, values, device=device)
    t = _t(x, device)
    assert minigrad.index_put_(t, ti, _t(values, device), accumulate) is t and t._version == 1
    np.testing.assert_allclose(_np(t), want, rtol=1e-12, atol=1e-12)


def test_put_and_put_in_place():
    x = minigrad.zeros(2, 3)
    out = x.put(_t([0, -1, 0]), _t([1.0, 2.0, 3.0]), accumulate=True)
    np.testing.assert_array_equal(out.numpy(), [[4, 0, 0], [0, 0, 2]])
    out = minigrad.put(x, _t([[4, 1]]), _t([5.0, 6.0]))
    np.testing.assert_array_equal(out.numpy(), [[0, 6, 0], [0, 5, 0]])
    assert x.put_(_t([2]), _t([9.0])) is x and x.numpy()[0, 2] == 9.0 and x._version == 1
    check_gradients(lambda a, s: minigrad.put(a, _t([1, 3]), s, accumulate=True), np.ones((2, 2)), np.ones(2))
    with pytest.raises(minigrad.ShapeError, match="put: Expected source and index to have the same number of elements"):
        x.put(_t([0]), _t([1.0, 2.0]))
    with pytest.raises(minigrad.IndexOutOfRange, match="put_: out of range: tried to access index 6 on a tensor of 6"):
        x.put_(_t([6]), _t([1.0]))
    with pytest.raises(minigrad.DTypeError, match="index_put: tensors used as indices must be long, int or bool"):
        minigrad.index_put(x, (_t([0.0]),), _t(1.0))
    assert x._version == 1


def test_sum_to_size():
    t = _t(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(t.sum_to_size(1, 3).numpy(), [[3, 5, 7]])
    np.testing.assert_array_equal(t.sum_to_size((3,)).numpy(), [3, 5, 7])
    np.testing.assert_array_equal(t.sum_to_size(2, 1).numpy(), [[3], [12]])
    assert t.sum_to_size(2, 3) is t
    check_gradients(lambda a: a.sum_to_size(1, 3), np.ones((2, 3)))
    with pytest.raises(minigrad.ShapeError, match=r"sum_to_size: size \[2\] is not expandable to size \[2, 3\]"):
        t.sum_to_size(2)


def test_memory_attributes():
    base = minigrad.arange(6.0).reshape(2, 3)
    t = base.t()
    assert t.stride() == (1, 3) and t.stride(0) == 1 and t.stride(-1) == 3
    assert t.storage_offset() == 0 and t[1:].storage_offset() == 1 and base[1, 1:].storage_offset() == 4
    assert t.element_size() == 4 and t.itemsize == 4 and t.nbytes == 24
    assert minigrad.ones(2, dtype=np.float64).element_size() == 8
    assert t.is_cpu and not t.is_cuda and t.get_device() == -1 and minigrad.get_device(t) == -1
    assert minigrad.ones(3).expand(2, 3).stride() == (0, 1)
    with pytest.raises(minigrad.IndexOutOfRange, match="stride: dim 2 is out of range"):
        t.stride(2)

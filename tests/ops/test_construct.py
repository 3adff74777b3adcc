"""Triangles, flip, roll, meshgrid, unflatten and t (minigrad.ops.construct).

tril, triu, flip and roll on hypothesis shapes are records of optable.py,
checked by the generic tests of test_optable.py; here named cases against
NumPy, the composed ops (meshgrid, unflatten, t) with their gradients, the
Tensor method spellings, and errors.
"""

import numpy as np
import pytest
from helpers import check_gradients
from ophelpers import check_second_order

import minigrad


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


# --- tril / triu ----------------------------------------------------------------------------------


@pytest.mark.parametrize("diagonal", [-2, -1, 0, 1, 3])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (2, 3, 5), (0, 2), (2, 1, 3, 2)])
def test_tril_triu_match_numpy(shape, diagonal, device):
    x = np.random.default_rng(0).standard_normal(shape)
    t = _t(x, device)
    for out, want in (
        (minigrad.tril(t, diagonal), np.tril(x, diagonal)),
        (t.tril(diagonal), np.tril(x, diagonal)),
        (minigrad.triu(t, diagonal=diagonal), np.triu(x, diagonal)),
        (t.triu(diagonal=diagonal), np.triu(x, diagonal)),
    ):
        np.testing.assert_array_equal(out.to("cpu").numpy(), want)


def test_tril_keeps_integer_and_bool_dtypes_and_makes_a_causal_mask():
    assert minigrad.tril(minigrad.ones(3, 3, dtype=np.int64)).dtype == np.int64
    assert minigrad.triu(_t(np.ones((2, 2), bool))).dtype == np.bool_
    mask = minigrad.triu(minigrad.full((3, 3), float("-inf")), diagonal=1)
    want = np.triu(np.full((3, 3), -np.inf), 1)
    np.testing.assert_array_equal(mask.numpy(), np.where(np.isnan(want), 0.0, want))


def test_tril_triu_errors():
    with pytest.raises(minigrad.ShapeError, match="tril: input tensor must have at least 2 dimensions"):
        minigrad.tril(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="triu: input tensor must have at least 2 dimensions"):
        minigrad.ones(3).triu()
    with pytest.raises(minigrad.DTypeError, match="tril: diagonal must be an int"):
        minigrad.tril(minigrad.ones(2, 2), 0.5)


# --- flip / roll ----------------------------------------------------------------------------------------


def test_flip_matches_numpy_and_copies(device):
    x = np.arange(24.0).reshape(2, 3, 4)
    t = _t(x, device)
    for dims in [(0,), (1, 2), (-1, 0), (0, 1, 2), ()]:
        np.testing.assert_array_equal(minigrad.flip(t, dims).to("cpu").numpy(), np.flip(x, dims))
    np.testing.assert_array_equal(t.flip(0, 2).to("cpu").numpy(), np.flip(x, (0, 2)))
    np.testing.assert_array_equal(t.flip((1,)).to("cpu").numpy(), np.flip(x, 1))
    np.testing.assert_array_equal(t.flip(dims=[2]).to("cpu").numpy(), np.flip(x, 2))
    np.testing.assert_array_equal(minigrad.flip(t, 1).to("cpu").numpy(), np.flip(x, 1))
    np.testing.assert_array_equal(minigrad.fliplr(t).to("cpu").numpy(), np.fliplr(x))
    np.testing.assert_array_equal(t.flipud().to("cpu").numpy(), np.flipud(x))
    out = minigrad.flip(t, (0,))
    out[0, 0, 0] = -1.0  # a copy, as PyTorch's flip: the input stays
    assert t.to("cpu").numpy()[1, 0, 0] == x[1, 0, 0]
    assert minigrad.flip(_t(3.0), [0]).item() == 3.0


@pytest.mark.parametrize(
    ("shifts", "dims"),
    [(1, None), (-7, None), (2, 0), ((1, -1), (0, 1)), ((1, 2), (1, 1)), (5, -1), ((3,), (2,)), (0, None)],
)
def test_roll_matches_numpy(shifts, dims, device):
    x = np.arange(24.0).reshape(2, 3, 4)
    t = _t(x, device)
    want = np.roll(x, shifts) if dims is None else np.roll(x, shifts, dims)
    np.testing.assert_array_equal(minigrad.roll(t, shifts, dims).to("cpu").numpy(), want)
    np.testing.assert_array_equal(t.roll(shifts, dims).to("cpu").numpy(), want)


def test_roll_of_empty_and_scalar_tensors():
    assert minigrad.roll(minigrad.ones(0, 3), 2, 0).shape == (0, 3)
    assert minigrad.roll(minigrad.ones(0, 3), 2).shape == (0, 3)
    assert minigrad.roll(_t(4.0), 3).item() == 4.0


def test_flip_roll_errors():
    x = minigrad.ones(2, 3, requires_grad=True)
    with pytest.raises(minigrad.ShapeError, match="flip: dims .* more than once"):
        minigrad.flip(x, (0, -2))
    with pytest.raises(minigrad.IndexOutOfRange, match="flip: dim 2 is out of range"):
        x.flip(2)
    with pytest.raises(minigrad.ShapeError, match="fliplr: input must have at least 2 dimensions"):
        minigrad.fliplr(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="roll: shifts and dimensions must align"):
        minigrad.roll(x, (1, 2))
    with pytest.raises(minigrad.ShapeError, match="roll: shifts and dimensions must align: 2 shifts for 1 dims"):
        minigrad.roll(x, (1, 2), 0)
    with pytest.raises(minigrad.IndexOutOfRange, match="roll: dim -3 is out of range"):
        minigrad.roll(x, 1, -3)
    with pytest.raises(minigrad.DTypeError, match="roll: shifts must be ints"):
        minigrad.roll(x, 1.5, 0)
    assert x.grad is None and x.is_leaf


# --- meshgrid -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (2, 3), (2, 3, 4), (0, 2), (1, 3)])
def test_meshgrid_matches_numpy(sizes, indexing, device):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(n) for n in sizes]
    grids = minigrad.meshgrid(*[_t(a, device) for a in arrays], indexing=indexing)
    want = np.meshgrid(*arrays, indexing=indexing)
    assert isinstance(grids, tuple) and len(grids) == len(want)
    for g, w in zip(grids, want):
        np.testing.assert_array_equal(g.to("cpu").numpy(), w)


def test_meshgrid_default_is_ij_without_a_warning_and_takes_a_list():
    import warnings

    a, b = _t([1.0, 2.0]), _t([3.0, 4.0, 5.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x, y = minigrad.meshgrid(a, b)
    assert x.shape == y.shape == (2, 3)
    np.testing.assert_array_equal(x.numpy(), np.meshgrid([1, 2], [3, 4, 5], indexing="ij")[0])
    u, v = minigrad.meshgrid([a, b], indexing="xy")
    assert u.shape == (3, 2)
    (s,) = minigrad.meshgrid(_t(7.0))  # a 0-d tensor counts as one element
    assert s.shape == (1,)


@pytest.mark.parametrize("indexing", ["ij", "xy"])
def test_meshgrid_gradients(indexing, device):
    rng = np.random.default_rng(2)
    a, b, c = rng.standard_normal(2), rng.standard_normal(3), rng.standard_normal(2)
    w = rng.standard_normal((3, 2, 2) if indexing == "xy" else (2, 3, 2))

    def fn(x, y, z):
        gx, gy, gz = minigrad.meshgrid(x, y, z, indexing=indexing)
        return gx * gy + gz * minigrad.tensor(w, device=x.device)

    check_gradients(fn, a, b, c, device=device)
    check_second_order(fn, a, b, c)


def test_meshgrid_errors():
    with pytest.raises(minigrad.ArgumentError, match="meshgrid: expects a non-empty list"):
        minigrad.meshgrid()
    with pytest.raises(minigrad.ArgumentError, match="meshgrid: indexing must be 'ij' or 'xy'"):
        minigrad.meshgrid(minigrad.ones(2), indexing="ji")
    with pytest.raises(minigrad.ShapeError, match="meshgrid: expects 0-d or 1-d tensors, got shape \\(2, 2\\)"):
        minigrad.meshgrid(minigrad.ones(2), minigrad.ones(2, 2))
    with pytest.raises(minigrad.DTypeError, match="meshgrid: expects all tensors to have the same dtype"):
        minigrad.meshgrid(minigrad.ones(2), minigrad.ones(2, dtype=np.float64))


# --- unflatten and t ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "dim", "sizes", "want"),
    [
        ((2, 12), 1, (3, 4), (2, 3, 4)),
        ((2, 12), -1, (3, -1), (2, 3, 4)),
        ((12,), 0, (-1, 2, 2), (3, 2, 2)),
        ((6, 5), 0, [6], (6, 5)),
        ((0, 4), 0, (0, 3), (0, 3, 4)),
    ],
)
def test_unflatten(shape, dim, sizes, want, device):
    x = np.random.default_rng(3).standard_normal(shape)
    t = _t(x, device)
    for out in (minigrad.unflatten(t, dim, sizes), t.unflatten(dim, sizes)):
        assert out.shape == want
        np.testing.assert_array_equal(out.to("cpu").numpy(), x.reshape(want))
    if x.size:
        check_gradients(lambda y: minigrad.unflatten(y, dim, sizes) * 2.0, x, device=device)


def test_unflatten_errors():
    x = minigrad.ones(2, 6)
    with pytest.raises(minigrad.ShapeError, match="unflatten: sizes \\(4, 2\\) multiply to 8, not to 6"):
        minigrad.unflatten(x, 1, (4, 2))
    with pytest.raises(minigrad.ShapeError, match="unflatten: sizes \\(4, -1\\) do not fit"):
        x.unflatten(1, (4, -1))
    with pytest.raises(minigrad.ArgumentError, match="only one size can be -1"):
        x.unflatten(1, (-1, -1))
    with pytest.raises(minigrad.ArgumentError, match="sizes must be non-empty"):
        x.unflatten(1, ())
    with pytest.raises(minigrad.IndexOutOfRange, match="unflatten: dim 2 is out of range"):
        x.unflatten(2, (2, 3))


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (0, 2)])
def test_t(shape, device):
    x = np.random.default_rng(4).standard_normal(shape)
    t = _t(x, device)
    for out in (minigrad.t(t), t.t()):
        np.testing.assert_array_equal(out.to("cpu").numpy(), x.T)
    if x.size:
        check_gradients(lambda y: y.t() * 3.0, x, device=device)


def test_t_of_more_than_two_dimensions_is_an_error():
    with pytest.raises(minigrad.ShapeError, match="t: expects a tensor with <= 2 dimensions, but got 3-d"):
        minigrad.ones(2, 2, 2).t()


def test_gradients_of_the_construct_primitives_on_named_cases(device):
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    for fn in (
        lambda y: minigrad.tril(y, -1),
        lambda y: minigrad.triu(y, 1),
        lambda y: y.flip(0, 2),
        lambda y: y.roll((1, -2), (1, 2)),
        lambda y: y.roll(5),
    ):
        check_gradients(fn, x, device=device)
        check_second_order(lambda y, fn=fn: fn(y) * y, x)

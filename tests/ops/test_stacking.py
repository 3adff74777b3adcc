"""Moving, picking, splitting and stacking dimensions (minigrad.ops.stacking).

Tensor.unfold is a primitive with a record in optable.py; the rest are
composed of view primitives and concatenate, so here: forwards against
NumPy on hypothesis shapes (empty dimensions included), gradcheck through
each composite, view-ness (shared memory and version counter), the in-place
view ops, the Tensor spellings, and errors that leave their inputs alone.
"""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import arrays, check_second_order, with_device

import minigrad
from minigrad.testing import shapes


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


def _np(t):
    return t.to("cpu").numpy()


def _shares(view, base) -> bool:
    """The view shares the base's memory (trivially when empty) and version counter."""
    if view.device != "cpu" or not view.numel():
        return view._vc is base._vc
    return np.shares_memory(view.array, base.array) and view._vc is base._vc


@st.composite
def _array_and_dim(draw, min_dims=1, min_side=0):
    shape = draw(shapes(min_dims=min_dims, max_dims=3, min_side=min_side))
    return draw(arrays(shape)), draw(st.integers(-len(shape), len(shape) - 1))


# --- movedim, swapaxes -------------------------------------------------------------------------------------


@with_device
@given(data=st.data())
def test_movedim_matches_numpy_is_a_view_and_has_gradients(data, device):
    shape = data.draw(shapes(min_dims=1, max_dims=4, min_side=0))
    n = len(shape)
    k = data.draw(st.integers(1, n))
    src = data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k, unique_by=lambda d: d % n))
    dst = data.draw(st.lists(st.integers(-n, n - 1), min_size=k, max_size=k, unique_by=lambda d: d % n))
    x = data.draw(arrays(shape))
    t = _t(x, device)
    for out in (minigrad.movedim(t, src, dst), minigrad.moveaxis(t, src, dst), t.movedim(src, dst)):
        np.testing.assert_array_equal(_np(out), np.moveaxis(x, src, dst))
        assert _shares(out, t) and out._vc is t._vc
    if len(src) == 1:
        np.testing.assert_array_equal(_np(t.moveaxis(src[0], dst[0])), np.moveaxis(x, src[0], dst[0]))
    check_gradients(lambda a: minigrad.movedim(a, src, dst) * 1.5, x, device=device)


def test_swapaxes_swapdims_and_movedim_errors():
    t = minigrad.ones(2, 3, 4)
    np.testing.assert_array_equal(minigrad.swapaxes(t, 0, 2).shape, (4, 3, 2))
    assert t.swapdims(-1, 1).shape == (2, 4, 3) and minigrad.swapdims(t, 0, 1).shape == (3, 2, 4)
    assert t.swapaxes(0, 1)._vc is t._vc
    with pytest.raises(minigrad.ShapeError, match="movedim: Invalid source or destination dims"):
        minigrad.movedim(t, (0, 1), (1,))
    with pytest.raises(minigrad.ShapeError, match="movedim: repeated dim in source"):
        minigrad.movedim(t, (0, 0), (1, 2))
    with pytest.raises(minigrad.IndexOutOfRange, match="movedim: dim 3 is out of range"):
        minigrad.movedim(t, 3, 0)
    with pytest.raises(minigrad.IndexOutOfRange, match="swapaxes"):
        minigrad.swapaxes(t, 0, 5)
    assert minigrad.movedim(minigrad.tensor(2.0), 0, -1).shape == ()


# --- narrow, select, unbind -------------------------------------------------------------------------------


@with_device
@given(data=st.data())
def test_narrow_matches_slicing_and_is_a_view(data, device):
    x, dim = data.draw(_array_and_dim())
    n = x.shape[dim]
    start = data.draw(st.integers(-n, n))
    begin = start % n if n and start < 0 else start
    length = data.draw(st.integers(0, n - begin))
    t = _t(x, device)
    want = np.take(x, range(begin, begin + length), axis=dim)
    for out in (minigrad.narrow(t, dim, start, length), t.narrow(dim, start, length)):
        np.testing.assert_array_equal(_np(out), want)
        assert out._vc is t._vc
    copy = minigrad.narrow_copy(t, dim, start, length)
    np.testing.assert_array_equal(_np(copy), want)
    assert copy._vc is not t._vc and not (copy.size and np.shares_memory(_np(copy), x))
    check_gradients(lambda a: minigrad.narrow(a, dim, start, length) * 2.0, x, device=device)
    check_gradients(lambda a: a.narrow_copy(dim, start, length) * 2.0, x, device=device)


def test_narrow_takes_a_0d_tensor_start_and_in_place_changes_reach_the_base():
    base = minigrad.arange(10.0)
    part = base.narrow(0, minigrad.tensor(2), 3)
    part.fill_(7.0)
    np.testing.assert_array_equal(base.numpy(), [0, 1, 7, 7, 7, 5, 6, 7, 8, 9])
    assert base._version == part._version == 1


def test_a_node_that_saved_the_base_sees_a_write_through_narrow():
    w = minigrad.randn(4, requires_grad=True)
    base = w * 1.0
    out = (base * base).sum()  # mul saves base
    with minigrad.no_grad():
        base.narrow(0, 1, 2).fill_(0.0)
    with pytest.raises(minigrad.GraphError):
        out.backward()


@with_device
@given(data=st.data())
def test_select_and_unbind_match_numpy_and_are_views(data, device):
    x, dim = data.draw(_array_and_dim(min_side=1))
    n = x.shape[dim]
    index = data.draw(st.integers(-n, n - 1))
    t = _t(x, device)
    for out in (minigrad.select(t, dim, index), t.select(dim, index)):
        np.testing.assert_array_equal(_np(out), np.take(x, index, axis=dim))
        assert out._vc is t._vc
    pieces = minigrad.unbind(t, dim)
    assert isinstance(pieces, tuple) and len(pieces) == n
    for i, p in enumerate(t.unbind(dim)):
        np.testing.assert_array_equal(_np(p), np.take(x, i, axis=dim))
        assert p._vc is t._vc
    check_gradients(lambda a: minigrad.select(a, dim, index) * 3.0, x, device=device)
    weights = [float(i + 1) for i in range(n)]
    check_gradients(
        lambda a: minigrad.stack([p * w for p, w in zip(minigrad.unbind(a, dim), weights)]), x, device=device
    )


def test_unbind_of_an_empty_dimension_is_an_empty_tuple():
    assert minigrad.unbind(minigrad.ones(0, 3)) == ()
    assert [p.shape for p in minigrad.ones(2, 0).unbind(1)] == []
    assert [p.shape for p in minigrad.ones(2, 0).unbind(0)] == [(0,), (0,)]


def test_narrow_select_unbind_errors_leave_the_input_alone():
    t = minigrad.arange(6.0).reshape(2, 3)
    before = t.numpy().copy()
    cases = [
        (
            minigrad.ShapeError,
            "narrow: start \\(2\\) \\+ length \\(2\\) exceeds dimension 1",
            lambda: t.narrow(1, 2, 2),
        ),
        (minigrad.IndexOutOfRange, "narrow: start \\(-4\\) is out of range", lambda: t.narrow(1, -4, 1)),
        (minigrad.ArgumentError, "narrow: length must be non-negative", lambda: t.narrow(1, 0, -1)),
        (
            minigrad.ShapeError,
            "narrow: cannot be applied to a 0-dim tensor",
            lambda: minigrad.tensor(1.0).narrow(0, 0, 1),
        ),
        (minigrad.IndexOutOfRange, "narrow: dim 2 is out of range", lambda: t.narrow(2, 0, 1)),
        (minigrad.DTypeError, "narrow: start must be an int", lambda: t.narrow(0, 0.5, 1)),
        (minigrad.IndexOutOfRange, "select: index 3 out of range", lambda: t.select(1, 3)),
        (minigrad.IndexOutOfRange, "select: index -3 out of range", lambda: minigrad.select(t, 0, -3)),
        (minigrad.ShapeError, "select: cannot be applied to a 0-dim tensor", lambda: minigrad.tensor(1.0).select(0, 0)),
        (minigrad.ShapeError, "unbind: dimension specified as 0", lambda: minigrad.tensor(1.0).unbind()),
        (minigrad.IndexOutOfRange, "unbind: dim -3 is out of range", lambda: t.unbind(-3)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
    np.testing.assert_array_equal(t.numpy(), before)
    assert t._version == 0


# --- splits -------------------------------------------------------------------------------------------------


@with_device
@given(data=st.data())
def test_tensor_split_matches_numpy_array_split(data, device):
    x, dim = data.draw(_array_and_dim())
    n = x.shape[dim]
    if data.draw(st.booleans()):
        how = data.draw(st.integers(1, 5))
    else:
        how = data.draw(st.lists(st.integers(-n - 2, n + 2), max_size=4))
    t = _t(x, device)
    want = np.array_split(x, how, axis=dim)
    for got in (minigrad.tensor_split(t, how, dim), t.tensor_split(how, dim)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(_np(g), w)
            assert g._vc is t._vc
    as_tensor = _t(np.asarray(how, dtype=np.int64), device)
    for g, w in zip(minigrad.tensor_split(t, as_tensor, dim), want):
        np.testing.assert_array_equal(_np(g), w)
    scales = [float(i + 1) for i in range(len(want))]
    check_gradients(
        lambda a: minigrad.cat([p * s for p, s in zip(minigrad.tensor_split(a, how, dim), scales)], dim),
        x,
        device=device,
    )


@pytest.mark.parametrize(
    "name,shape,how",
    [
        ("hsplit", (6,), 3),
        ("hsplit", (2, 6), [1, 4]),
        ("hsplit", (2, 4, 3), 2),
        ("vsplit", (4, 2), 2),
        ("vsplit", (5, 2, 3), [1, 3]),
        ("dsplit", (2, 2, 6), 3),
        ("dsplit", (2, 2, 6, 1), [2, 5]),
    ],
)
def test_hsplit_vsplit_dsplit_match_numpy(name, shape, how, device):
    x = np.random.default_rng(1).standard_normal(shape)
    t = _t(x, device)
    want = getattr(np, name)(x, how)
    for got in (getattr(minigrad, name)(t, how), getattr(t, name)(how)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(_np(g), w)
            assert g._vc is t._vc
    check_gradients(lambda a: minigrad.cat([p.sum().reshape(1) for p in getattr(minigrad, name)(a, how)]), x)


def test_split_errors_leave_the_input_alone():
    t = minigrad.ones(2, 5)
    with pytest.raises(minigrad.ShapeError, match="hsplit: the size of dimension 1 \\(5\\) must be divisible"):
        minigrad.hsplit(t, 2)
    with pytest.raises(minigrad.ShapeError, match="vsplit: requires a tensor with at least 2 dimensions"):
        minigrad.vsplit(minigrad.ones(4), 2)
    with pytest.raises(minigrad.ShapeError, match="dsplit: requires a tensor with at least 3 dimensions"):
        t.dsplit(1)
    with pytest.raises(minigrad.ShapeError, match="hsplit: requires a tensor with at least 1 dimension"):
        minigrad.hsplit(minigrad.tensor(1.0), 1)
    with pytest.raises(minigrad.ArgumentError, match="tensor_split: number of sections must be larger than 0"):
        minigrad.tensor_split(t, 0)
    with pytest.raises(minigrad.DTypeError, match="tensor_split: indices_or_sections must be an integer tensor"):
        minigrad.tensor_split(t, minigrad.tensor([1.0]))
    with pytest.raises(minigrad.ShapeError, match="tensor_split: expected at least a 1-dimensional tensor"):
        minigrad.tensor_split(minigrad.tensor(1.0), 1)
    with pytest.raises(minigrad.ShapeError, match="split: split sizes \\[1, 1\\] sum to 2, not to 5"):
        minigrad.split_with_sizes(t, [1, 1], 1)
    with pytest.raises(minigrad.DTypeError, match="split_with_sizes: split_sizes must be a list"):
        t.split_with_sizes(2)
    np.testing.assert_array_equal(t.numpy(), np.ones((2, 5)))


def test_split_with_sizes_gives_views_and_gradients(device):
    x = np.arange(10.0).reshape(2, 5)
    t = _t(x, device)
    a, b = t.split_with_sizes([2, 3], dim=1)
    np.testing.assert_array_equal(_np(a), x[:, :2])
    np.testing.assert_array_equal(_np(b), x[:, 2:])
    assert a._vc is t._vc
    check_gradients(
        lambda v: minigrad.cat([p * (i + 1.0) for i, p in enumerate(minigrad.split_with_sizes(v, [1, 0, 4], 1))], 1),
        x,
        device=device,
    )


# --- atleast, stacks ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (0,), (2, 0)])
def test_atleast_match_numpy_and_are_views(shape, device):
    x = np.random.default_rng(2).standard_normal(shape)
    t = _t(x, device)
    for n in (1, 2, 3):
        fn, ref = getattr(minigrad, f"atleast_{n}d"), getattr(np, f"atleast_{n}d")
        out = fn(t)
        np.testing.assert_array_equal(_np(out), ref(x))
        assert out._vc is t._vc
        pair = fn(t, t)
        assert isinstance(pair, tuple) and len(pair) == 2 and pair[1].shape == ref(x).shape
        listed = fn([t])
        assert isinstance(listed, tuple) and listed[0].shape == ref(x).shape
        check_gradients(lambda a, f=fn: f(a) * 2.0, x, device=device)


@pytest.mark.parametrize(
    "name,shapes_",
    [
        ("hstack", [(3,), (2,), ()]),
        ("hstack", [(2, 3), (2, 1)]),
        ("hstack", [(2, 3, 1), (2, 0, 1)]),
        ("vstack", [(3,), (2, 3), ()] if False else [(3,), (2, 3)]),
        ("vstack", [(), ()]),
        ("row_stack", [(2, 3, 2), (1, 3, 2)]),
        ("dstack", [(3,), (3,)]),
        ("dstack", [(2, 3), (2, 3, 2)]),
        ("dstack", [(), ()]),
        ("column_stack", [(3,), (3, 2), (3,)]),
        ("column_stack", [(), ()]),
        ("column_stack", [(2, 2, 1), (2, 1, 1)]),
    ],
)
def test_stacks_match_numpy(name, shapes_, device):
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal(s) for s in shapes_]
    ts = [_t(x, device) for x in xs]
    ref = np.vstack if name == "row_stack" else getattr(np, name)
    np.testing.assert_array_equal(_np(getattr(minigrad, name)(ts)), ref(xs))
    np.testing.assert_array_equal(_np(getattr(minigrad, name)(tuple(ts))), ref(xs))
    fn = getattr(minigrad, name)
    check_gradients(lambda *a: fn([v * (i + 1.0) for i, v in enumerate(a)]), *xs, device=device)


def test_stack_errors_name_the_op_and_the_shapes():
    with pytest.raises(
        minigrad.ShapeError,
        match=r"vstack: the tensors do not fit together along dimension 0 \(shapes \(1, 3\), \(1, 2\)\)",
    ):
        minigrad.vstack([minigrad.ones(3), minigrad.ones(2)])
    with pytest.raises(minigrad.ShapeError, match="hstack: expects a non-empty list"):
        minigrad.hstack([])
    with pytest.raises(minigrad.DTypeError, match="dstack: expects a list or tuple of tensors"):
        minigrad.dstack(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="column_stack"):
        minigrad.column_stack([minigrad.ones(3), minigrad.ones(2)])


# --- ravel, tile, rot90, broadcasting ----------------------------------------------------------------------------


@with_device
@given(x=shapes(min_dims=0, max_dims=3, min_side=0).flatmap(arrays))
def test_ravel_is_a_flat_view(x, device):
    t = _t(x, device)
    for out in (minigrad.ravel(t), t.ravel()):
        np.testing.assert_array_equal(_np(out), x.ravel())
        assert out._vc is t._vc
    check_gradients(lambda a: minigrad.ravel(a) * 2.0, x, device=device)


@with_device
@given(data=st.data())
def test_tile_matches_numpy_and_pads_dims(data, device):
    x = data.draw(shapes(min_dims=0, max_dims=3, min_side=0).flatmap(arrays))
    reps = tuple(data.draw(st.lists(st.integers(0, 3), min_size=0, max_size=4)))
    t = _t(x, device)
    want = np.tile(x, reps) if reps else x
    np.testing.assert_array_equal(_np(minigrad.tile(t, reps)), want)
    np.testing.assert_array_equal(_np(t.tile(reps)), want)
    if reps:
        np.testing.assert_array_equal(_np(t.tile(*reps)), want)
    check_gradients(lambda a: minigrad.tile(a, reps), x, device=device)


def test_tile_errors():
    with pytest.raises(minigrad.ArgumentError, match="tile: sizes must be non-negative"):
        minigrad.tile(minigrad.ones(2), (-1,))
    with pytest.raises(minigrad.DTypeError, match="tile: sizes must be integers"):
        minigrad.ones(2).tile(1.5)


@pytest.mark.parametrize("k", [-5, -1, 0, 1, 2, 3, 4, 6])
@pytest.mark.parametrize("shape,dims", [((3, 4), (0, 1)), ((3, 4), (1, 0)), ((2, 3, 4), (-1, 0)), ((2, 0, 3), (1, 2))])
def test_rot90_matches_numpy(k, shape, dims, device):
    x = np.random.default_rng(4).standard_normal(shape)
    t = _t(x, device)
    np.testing.assert_array_equal(_np(minigrad.rot90(t, k, dims)), np.rot90(x, k, dims))
    np.testing.assert_array_equal(_np(t.rot90(k, dims)), np.rot90(x, k, dims))
    check_gradients(lambda a: minigrad.rot90(a, k, dims) * 2.0, x, device=device)
    assert minigrad.rot90(t).shape == np.rot90(x).shape


def test_rot90_errors():
    with pytest.raises(minigrad.ShapeError, match="rot90: expected total dims >= 2"):
        minigrad.rot90(minigrad.ones(3))
    with pytest.raises(minigrad.ShapeError, match="rot90: expected rotation dims to be different"):
        minigrad.rot90(minigrad.ones(2, 2), 1, (0, -2))
    with pytest.raises(minigrad.ShapeError, match="rot90: expected total rotation dims == 2"):
        minigrad.rot90(minigrad.ones(2, 2, 2), 1, (0, 1, 2))


@with_device
@given(data=st.data())
def test_broadcast_tensors_and_shapes(data, device):
    from hypothesis.extra import numpy as hnp

    drawn = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3))
    xs = [data.draw(arrays(s)) for s in drawn.input_shapes]
    assert minigrad.broadcast_shapes(*drawn.input_shapes) == drawn.result_shape
    ts = [_t(x, device) for x in xs]
    for got, want, t in zip(minigrad.broadcast_tensors(*ts), np.broadcast_arrays(*xs), ts):
        np.testing.assert_array_equal(_np(got), want)
        assert got._vc is t._vc
    assert [o.shape for o in minigrad.broadcast_tensors(ts)] == [drawn.result_shape] * 3
    check_gradients(lambda *a: minigrad.stack(minigrad.broadcast_tensors(*a)), *xs, device=device)


def test_broadcast_errors():
    assert minigrad.broadcast_shapes(2, (3, 1)) == (3, 2)
    assert minigrad.broadcast_shapes() == ()
    with pytest.raises(minigrad.ShapeError, match=r"broadcast_shapes: shapes \(2,\), \(3,\) do not broadcast"):
        minigrad.broadcast_shapes((2,), (3,))
    with pytest.raises(minigrad.ShapeError, match=r"broadcast_tensors: shapes \(2,\), \(3,\) do not broadcast"):
        minigrad.broadcast_tensors(minigrad.ones(2), minigrad.ones(3))
    with pytest.raises(minigrad.DTypeError, match="broadcast_shapes: expected a shape"):
        minigrad.broadcast_shapes("ab")


# --- Tensor.unfold ---------------------------------------------------------------------------------------------------


def test_unfold_is_a_read_only_view_with_the_windows(device):
    x = np.arange(24.0).reshape(2, 12)
    t = _t(x, device)
    w = t.unfold(1, 4, 3)
    assert w.shape == (2, 3, 4)
    np.testing.assert_array_equal(_np(w)[1, 2], x[1, 6:10])
    assert w._vc is t._vc
    if device == "cpu":
        assert np.shares_memory(w.array, t.array) and not w.array.flags.writeable
    assert t.unfold(0, 2, 1).shape == (1, 12, 2)
    assert t.unfold(1, 0, 5).shape == (2, 3, 0)
    assert minigrad.tensor(5.0).unfold(0, 1, 3).shape == (1,) and minigrad.tensor(5.0).unfold(0, 0, 1).shape == (0,)


def test_unfold_gradient_counts_overlaps_and_second_order():
    x = np.linspace(-1.0, 1.0, 7)
    t = _t(x, requires_grad=True)
    t.unfold(0, 3, 2).sum().backward()  # windows 0-2, 2-4, 4-6: elements 2 and 4 are in two
    np.testing.assert_array_equal(t.grad.numpy(), [1, 1, 2, 1, 2, 1, 1])
    check_gradients(lambda a: a.unfold(-1, 2, 1) * a.unfold(-1, 2, 1), x.reshape(1, 7))
    check_second_order(lambda a: a.unfold(1, 3, 2), np.linspace(-1, 1, 14).reshape(2, 7))


def test_unfold_errors_leave_the_input_alone():
    t = minigrad.ones(2, 3)
    with pytest.raises(
        minigrad.ArgumentError, match="unfold: maximum size for tensor at dimension 1 is 3 but size is 4"
    ):
        t.unfold(1, 4, 1)
    with pytest.raises(minigrad.ArgumentError, match="unfold: step is 0 but must be > 0"):
        t.unfold(1, 2, 0)
    with pytest.raises(minigrad.IndexOutOfRange, match="unfold: dim 2 is out of range"):
        t.unfold(2, 1, 1)
    assert t.shape == (2, 3) and t._version == 0


# --- in-place view ops ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,args,ref",
    [
        ("transpose_", (0, 2), lambda a: np.swapaxes(a, 0, 2)),
        ("swapaxes_", (1, -1), lambda a: np.swapaxes(a, 1, -1)),
        ("swapdims_", (0, 1), lambda a: np.swapaxes(a, 0, 1)),
        ("squeeze_", (), lambda a: a.squeeze()),
        ("squeeze_", (1,), lambda a: a.squeeze(1)),
        ("unsqueeze_", (0,), lambda a: a[None]),
    ],
)
def test_in_place_view_ops_change_the_tensor_and_its_history(name, args, ref, device):
    x = np.random.default_rng(5).standard_normal((2, 1, 3))
    t = _t(x, device)
    assert getattr(t, name)(*args) is t
    np.testing.assert_array_equal(_np(t), ref(x))
    assert t._version == 1
    w = _t(x, device, requires_grad=True)
    y = w * 2.0
    getattr(y, name)(*args)
    assert y.shape == ref(x).shape
    (y * _t(np.arange(y.numel(), dtype=np.float64).reshape(y.shape), device)).sum().backward()
    want = 2.0 * np.arange(y.numel(), dtype=np.float64).reshape(ref(x).shape)
    # the gradient is the cotangent moved back through the inverse of the view
    back = {"transpose_": lambda g: np.swapaxes(g, *args), "swapaxes_": lambda g: np.swapaxes(g, *args)}
    back["swapdims_"] = back["transpose_"]
    np.testing.assert_array_equal(_np(w.grad), back.get(name, lambda g: g.reshape(x.shape))(want))


def test_t_in_place_and_leaf_errors():
    t = minigrad.arange(6.0).reshape(2, 3)
    t.t_()
    assert t.shape == (3, 2) and t[0, 1].item() == 3.0
    leaf = minigrad.ones(2, 3, requires_grad=True)
    with pytest.raises(minigrad.GraphError, match="t_: a leaf tensor that requires grad"):
        leaf.t_()
    assert leaf.shape == (2, 3)
    with minigrad.no_grad():
        leaf.t_()
    assert leaf.shape == (3, 2)
    with pytest.raises(minigrad.ShapeError, match="t: expects a tensor with <= 2 dimensions"):
        minigrad.ones(1, 2, 3).t_()


def test_a_node_that_saved_the_tensor_before_an_in_place_view_op_raises():
    w = minigrad.ones(2, 3, requires_grad=True)
    y = w * 2.0
    out = (y * y).sum()
    y.transpose_(0, 1)
    with pytest.raises(minigrad.GraphError):
        out.backward()

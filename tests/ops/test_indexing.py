"""minigrad/ops/indexing.py and selection.py beyond the op table (optable.py has the five primitives' records).

The composite ops (index_select, index_add, index_copy, index_fill, take, take_along_dim, masked_select,
masked_scatter, repeat_interleave, scatter_reduce's sum and mean, scatter's value and reduce forms)
against NumPy's formulas, gradcheck in float64 on hypothesis shapes with empty dims and negative dims,
and second order; the rules decided in the module (repeated writes, ties, zeros in prod); the in-place
methods under the version-counter rules; and the errors, which leave their inputs as they were.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given, settings
from hypothesis import strategies as st
from ophelpers import arrays, check_second_order, shapes, with_device

import minigrad as mg
from minigrad import ArgumentError, DeviceError, DTypeError, GraphError, IndexOutOfRange, ShapeError

FEW = settings(with_device, max_examples=15)  # the device fixture is shared between examples (see ophelpers)


def t64(a, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad, device=device)


def ix(a, device="cpu"):
    return mg.tensor(np.asarray(a, dtype=np.int64), device=device)


# --- strategies -------------------------------------------------------------------------------------


@st.composite
def vector_case(draw, distinct=False, negative=False, min_dims=1):
    """x (empty dims too), a dim of either sign, a 1-d index along it (repeats unless ``distinct``)."""
    shape = draw(shapes(min_dims=min_dims, min_side=0, max_side=4))
    x = draw(arrays(shape))
    n = max(len(shape), 1)  # a 0-d tensor takes dim 0 or -1
    dim = draw(st.integers(-n, n - 1))
    size = shape[dim] if shape else 1
    if distinct:
        index = draw(st.permutations(range(size)))[: draw(st.integers(0, size))]
    else:
        index = draw(st.lists(st.integers(0, size - 1), max_size=5)) if size else []
    index = np.array(index, dtype=np.int64)
    if negative and index.size:
        flip = np.array(draw(st.lists(st.booleans(), min_size=index.size, max_size=index.size)))
        index = np.where(flip, index - size, index)
    return x, dim, index


def _placed(index, dim, ndim):
    shape = [1] * ndim
    shape[dim] = index.size
    return index.reshape(shape)


# --- index_select, index_add, index_copy, index_fill ---------------------------------------------------


@FEW
@given(case=vector_case())
def test_index_select_is_numpy_take_along_dim_and_gradchecks(case, device):
    x, dim, index = case
    out = mg.index_select(t64(x, device=device), dim, ix(index, device))
    np.testing.assert_array_equal(out.to("cpu").numpy(), np.take(x, index, axis=dim))
    method = t64(x, device=device).index_select(dim, ix(index, device))
    np.testing.assert_array_equal(method.to("cpu").numpy(), np.take(x, index, axis=dim))
    check_gradients(lambda a: mg.index_select(a, dim, ix(index, device)), x, device=device)


@FEW
@given(case=vector_case(), alpha=st.sampled_from([1, -2.5]), data=st.data())
def test_index_add_is_numpy_add_at_with_repeats_accumulating(case, alpha, data, device):
    x, dim, index = case
    source_shape = list(x.shape)
    source_shape[dim] = index.size
    source = data.draw(arrays(tuple(source_shape)))
    want = x.copy()
    np.add.at(np.moveaxis(want, dim, 0), index, alpha * np.moveaxis(source, dim, 0))
    out = mg.index_add(t64(x, device=device), dim, ix(index, device), t64(source, device=device), alpha=alpha)
    np.testing.assert_allclose(out.to("cpu").numpy(), want, rtol=1e-12, atol=1e-12)
    check_gradients(lambda a, s: mg.index_add(a, dim, ix(index, device), s, alpha=alpha), x, source, device=device)


@FEW
@given(case=vector_case(distinct=True), data=st.data())
def test_index_copy_writes_the_source_slices(case, data, device):
    x, dim, index = case
    source_shape = list(x.shape)
    source_shape[dim] = index.size
    source = data.draw(arrays(tuple(source_shape)))
    want = x.copy()
    np.moveaxis(want, dim, 0)[index] = np.moveaxis(source, dim, 0)
    out = t64(x, device=device).index_copy(dim, ix(index, device), t64(source, device=device))
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(lambda a, s: mg.index_copy(a, dim, ix(index, device), s), x, source, device=device)


@FEW
@given(case=vector_case(negative=True), value=st.floats(-2, 2))
def test_index_fill_takes_negative_indices_and_a_0d_value_gets_the_filled_sum(case, value, device):
    x, dim, index = case
    want = x.copy()
    np.moveaxis(want, dim, 0)[index] = value
    out = mg.index_fill(t64(x, device=device), dim, ix(index, device), value)
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(lambda a, v: mg.index_fill(a, dim, ix(index, device), v), x, np.array(value), device=device)


def test_index_fill_value_gradient_counts_each_filled_element_once():
    # PyTorch 2.13: x (3, 2), index [0, 0, 2], value 3 -> d sum / d value = 4 (two rows of two), not 6
    v = t64(3.0, requires_grad=True)
    x = t64(np.zeros((3, 2)), requires_grad=True)
    out = x.index_fill(0, ix([0, 0, 2]), v)
    out.sum().backward()
    np.testing.assert_array_equal(out.numpy(), [[3, 3], [0, 0], [3, 3]])
    assert v.grad.item() == 4.0
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [1, 1], [0, 0]])


def test_index_select_of_a_0d_index_keeps_the_dimension_and_0d_tensors_work():
    x = t64(np.arange(6.0).reshape(2, 3))
    assert mg.index_select(x, 0, ix(1)).shape == (1, 3)  # as PyTorch: a 0-d index is a vector of one
    s = t64(5.0, requires_grad=True)
    assert mg.index_select(s, 0, ix([0])).item() == 5.0
    g = mg.gather(s, 0, ix([0, 0]))
    np.testing.assert_array_equal(g.numpy(), [5.0, 5.0])  # PyTorch: a 0-d input takes a 1-d index
    g.sum().backward()
    assert s.grad.item() == 2.0


# --- take, take_along_dim, masked_select, masked_scatter --------------------------------------------------


@FEW
@given(shape=shapes(min_side=0, max_side=4), data=st.data())
def test_take_reads_the_flattened_input_with_negative_indices(shape, data, device):
    x = data.draw(arrays(shape))
    n = x.size
    index_shape = data.draw(shapes(max_dims=2, min_side=0, max_side=3)) if n else (0,)
    index = data.draw(arrays(index_shape, st.integers(-n, n - 1), dtype=np.int64)) if n else np.zeros(0, np.int64)
    out = mg.take(t64(x, device=device), ix(index, device))
    np.testing.assert_array_equal(out.to("cpu").numpy(), np.take(x.reshape(-1), index))
    check_gradients(lambda a: a.take(ix(index, device)), x, device=device)


@FEW
@given(shape=shapes(min_dims=1, min_side=0, max_side=3), data=st.data())
def test_take_along_dim_broadcasts_as_numpy_take_along_axis(shape, data, device):
    x = data.draw(arrays(shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    index_shape = [data.draw(st.sampled_from([1, s])) for s in shape]  # broadcasting against x
    index_shape[dim] = data.draw(st.integers(0, 3)) if size else 0
    values = st.integers(-size, size - 1) if size else st.just(0)
    index = data.draw(arrays(tuple(index_shape), values, dtype=np.int64))
    want = np.take_along_axis(x, index, axis=dim)
    out = mg.take_along_dim(t64(x, device=device), ix(index, device), dim)
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(lambda a: mg.take_along_dim(a, ix(index, device), dim), x, device=device)
    if x.size:
        flat = data.draw(arrays((3,), st.integers(-x.size, x.size - 1), dtype=np.int64))
        none = t64(x, device=device).take_along_dim(ix(flat, device))
        np.testing.assert_array_equal(none.to("cpu").numpy(), np.take_along_axis(x.reshape(-1), flat, axis=0))


def test_take_along_dim_broadcasts_the_input_too():
    # PyTorch 2.13: input (2, 1, 3), indices (1, 2, 1) along dim 2 -> shape (2, 2, 1)
    x = t64(np.arange(6.0).reshape(2, 1, 3), requires_grad=True)
    index = ix([[[0], [2]]])
    out = mg.take_along_dim(x, index, 2)
    np.testing.assert_array_equal(
        out.numpy(),
        np.take_along_axis(np.broadcast_to(x.numpy(), (2, 2, 3)), np.broadcast_to(index.numpy(), (2, 2, 1)), 2),
    )
    check_gradients(lambda a: mg.take_along_dim(a, index, 2), x.numpy())


@FEW
@given(
    shapes_=st.tuples(shapes(max_dims=3, min_side=0, max_side=3), shapes(max_dims=3, min_side=0, max_side=3)),
    data=st.data(),
)
def test_masked_select_is_boolean_indexing_with_a_broadcast_mask(shapes_, data, device):
    x_shape, mask_shape = shapes_
    try:
        shape = np.broadcast_shapes(x_shape, mask_shape)
    except ValueError:
        return
    x = data.draw(arrays(x_shape))
    mask = data.draw(arrays(mask_shape, st.booleans(), dtype=np.bool_))
    want = np.broadcast_to(x, shape)[np.broadcast_to(mask, shape)]
    out = mg.masked_select(t64(x, device=device), mg.tensor(mask, device=device))
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(lambda a: a.masked_select(mg.tensor(mask, device=device)), x, device=device)


@FEW
@given(shape=shapes(max_dims=3, min_side=0, max_side=3), extra=st.integers(0, 2), data=st.data())
def test_masked_scatter_copies_the_leading_source_elements_in_order(shape, extra, data, device):
    x = data.draw(arrays(shape))
    mask = data.draw(arrays(shape, st.booleans(), dtype=np.bool_))
    source = data.draw(arrays((int(mask.sum()) + extra,)))
    want = x.copy()
    want[mask] = source[: int(mask.sum())]
    out = mg.masked_scatter(t64(x, device=device), mg.tensor(mask, device=device), t64(source, device=device))
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(lambda a, s: a.masked_scatter(mg.tensor(mask, device=device), s), x, source, device=device)


def test_masked_scatter_broadcasts_the_mask_as_pytorch():
    # PyTorch 2.13: zeros(3).masked_scatter([[True], [False]], arange(6.)) -> [[0, 1, 2], [0, 0, 0]]
    out = mg.masked_scatter(t64(np.zeros(3)), mg.tensor([[True], [False]]), t64(np.arange(6.0)))
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 2], [0, 0, 0]])


# --- repeat_interleave ------------------------------------------------------------------------------


@FEW
@given(case=vector_case(min_dims=0), data=st.data())
def test_repeat_interleave_is_numpy_repeat(case, data, device):
    x, dim, _ = case
    size = x.shape[dim] if x.ndim else 1
    kind = data.draw(st.sampled_from(["int", "tensor", "one", "flat"]))
    if kind == "int":
        repeats, np_repeats = data.draw(st.integers(0, 3)), None
    elif kind == "one":
        r = data.draw(st.integers(0, 3))
        repeats, np_repeats = ix([r], device), r
    else:
        r = np.array(data.draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)), dtype=np.int64)
        repeats, np_repeats = ix(r, device), r
    if kind == "flat":
        repeats, np_repeats = data.draw(st.integers(0, 3)), None
        want = np.repeat(x.reshape(-1), repeats)
        out = mg.repeat_interleave(t64(x, device=device), repeats)
        check = lambda a: mg.repeat_interleave(a, repeats)  # noqa: E731
    else:
        want = np.repeat(x, repeats if np_repeats is None else np_repeats, axis=dim if x.ndim else None)
        want = want if x.ndim else want.reshape(-1)
        out = t64(x, device=device).repeat_interleave(repeats, dim)
        check = lambda a: a.repeat_interleave(repeats, dim)  # noqa: E731
    np.testing.assert_array_equal(out.to("cpu").numpy(), want)
    check_gradients(check, x, device=device)


def test_repeat_interleave_counts_form_and_output_size():
    np.testing.assert_array_equal(mg.repeat_interleave(ix([2, 1])).numpy(), [0, 0, 1])
    x = t64(np.arange(6.0).reshape(2, 3))
    out = mg.repeat_interleave(x, ix([1, 2]), dim=0, output_size=3)
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 2], [3, 4, 5], [3, 4, 5]])
    with pytest.raises(ArgumentError, match="output_size 4"):
        mg.repeat_interleave(x, ix([1, 2]), dim=0, output_size=4)
    with pytest.raises(ArgumentError, match="negative"):
        mg.repeat_interleave(x, ix([1, -2]), dim=0)
    with pytest.raises(ShapeError, match="repeats"):
        mg.repeat_interleave(x, ix([1, 2, 3]), dim=0)
    with pytest.raises(DTypeError, match="repeats"):
        mg.repeat_interleave(x, t64([2.0, 1.0]), dim=0)
    with pytest.raises(DTypeError, match="repeats"):
        mg.repeat_interleave(x, 1.5)


# --- scatter's forms, scatter_reduce's sum and mean --------------------------------------------------------


@st.composite
def along_case(draw):
    """x, dim, an index along dim that may repeat positions, a src of index's shape (or one larger)."""
    shape = draw(shapes(min_dims=1, min_side=0, max_side=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    index_shape = [draw(st.integers(0, s)) for s in shape]
    index_shape[dim] = draw(st.integers(0, 4)) if size else 0
    index = draw(arrays(tuple(index_shape), st.integers(0, max(size - 1, 0)), dtype=np.int64))
    src = draw(arrays(tuple(n + draw(st.integers(0, 1)) for n in index_shape)))
    return draw(arrays(shape)), dim, index, src


def _loop(x, dim, index, src, combine, include_self):
    out = x.copy()
    count = np.ones(x.shape) if include_self else np.zeros(x.shape)
    seen = set()
    for i in np.ndindex(index.shape):
        pos = list(i)
        pos[dim] = index[i]
        pos = tuple(pos)
        out[pos] = src[i] if (not include_self and pos not in seen) else combine(out[pos], src[i])
        count[pos] += 1
        seen.add(pos)
    return out, count


@FEW
@given(case=along_case(), include_self=st.booleans())
def test_scatter_reduce_sum_and_mean_follow_the_formula(case, include_self, device):
    x, dim, index, src = case
    total, count = _loop(x, dim, index, src, np.add, include_self)
    mean = np.where(count > 0, total / np.maximum(count, 1), x)
    for reduce, want in (("sum", total), ("mean", mean)):
        out = mg.scatter_reduce(
            t64(x, device=device), dim, ix(index, device), t64(src, device=device), reduce, include_self=include_self
        )
        np.testing.assert_allclose(out.to("cpu").numpy(), want, rtol=1e-12, atol=1e-12)
        check_gradients(
            lambda a, s, reduce=reduce: a.scatter_reduce(dim, ix(index, device), s, reduce, include_self=include_self),
            x,
            src,
            device=device,
        )


def test_scatter_reduce_mean_gradient_divides_by_the_count_as_pytorch():
    # PyTorch 2.13: x [1, 2, 2], src [2, .5, 2] at [0, 1, 1], mean without self -> [2, 1.25, 2];
    # grads x [0, 0, 1], src [1, .5, .5]
    x, src = t64([1.0, 2.0, 2.0], True), t64([2.0, 0.5, 2.0], True)
    out = x.scatter_reduce(0, ix([0, 1, 1]), src, "mean", include_self=False)
    out.backward(mg.ones_like(out))
    np.testing.assert_array_equal(out.detach().numpy(), [2.0, 1.25, 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(src.grad.numpy(), [1.0, 0.5, 0.5])


def test_integer_mean_rounds_down_as_pytorch():
    # PyTorch 2.13: [-1, 2, 3] with [-2, -3, -3] all at 0 -> (-9) / 4 floors to -3
    out = mg.scatter_reduce(ix([-1, 2, 3]), 0, ix([0, 0, 0]), ix([-2, -3, -3]), "mean")
    np.testing.assert_array_equal(out.numpy(), [-3, 2, 3])
    assert out.dtype == np.int64


def test_scatter_value_and_reduce_forms():
    x = t64(np.ones(3))
    np.testing.assert_array_equal(mg.scatter(x, 0, ix([1]), value=2.0).numpy(), [1, 2, 1])
    np.testing.assert_array_equal(x.scatter(0, ix([1]), 2.0).numpy(), [1, 2, 1])  # a number is the value overload
    np.testing.assert_array_equal(x.scatter(0, ix([1, 1]), t64([2.0, 3.0]), reduce="multiply").numpy(), [1, 6, 1])
    np.testing.assert_array_equal(x.scatter(0, ix([1, 1]), 2.0, reduce="add").numpy(), [1, 5, 1])
    # the value is cast to the tensor's dtype, as PyTorch's
    np.testing.assert_array_equal(mg.scatter(ix([0, 0]), 0, ix([1]), value=1.7).numpy(), [0, 1])
    check_gradients(lambda a: a.scatter(0, ix([1, 1]), a * 2, reduce="multiply"), np.array([0.5, 1.5, 2.0]))


def test_scatter_with_a_0d_tensor_value_sums_its_gradient():
    v = t64(2.0, True)
    out = mg.scatter(t64(np.zeros((2, 3))), 1, ix([[0, 2], [1, 1]]), v)
    np.testing.assert_array_equal(out.detach().numpy(), [[2, 0, 2], [0, 2, 0]])
    out.sum().backward()
    assert v.grad.item() == 4.0  # PyTorch's formula: every write gets the cotangent of its position


# --- the rules decided here: repeated writes, ties, zeros -----------------------------------------------------


def test_repeated_scatter_positions_the_last_write_in_index_order_wins():
    x = t64(np.zeros((2, 3)), True)
    src = t64(np.arange(1.0, 7.0).reshape(2, 3), True)
    index = ix([[1, 0, 1], [1, 1, 1]])  # column 0: both rows write to row 1; column 2 too
    out = mg.scatter(x, 0, index, src)
    np.testing.assert_array_equal(out.detach().numpy(), [[0, 2, 0], [4, 5, 6]])
    g = np.arange(6.0).reshape(2, 3) + 1
    out.backward(t64(g))
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0, 3], [0, 0, 0]])  # zero wherever written
    np.testing.assert_array_equal(src.grad.numpy(), np.take_along_axis(g, index.numpy(), 0))  # gather, as PyTorch
    # the same rule for index_copy, and with the index flattened in C order along dim 1
    out = mg.index_copy(t64(np.zeros((1, 2))), 1, ix([0, 0, 1]), t64([[1.0, 2.0, 3.0]]))
    np.testing.assert_array_equal(out.numpy(), [[2, 3]])
    out = mg.scatter(t64(np.zeros((1, 2))), 1, ix([[1, 1, 0, 1]]), t64([[1.0, 2.0, 3.0, 4.0]]))
    np.testing.assert_array_equal(out.numpy(), [[3, 4]])


def test_scatter_add_and_index_add_accumulate_repeats():
    out = mg.scatter_add(t64(np.zeros(3)), 0, ix([0, 2, 0, 0]), t64([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(out.numpy(), [8, 0, 2])
    out = mg.index_add(t64(np.zeros((2, 2))), 0, ix([1, 1]), t64([[1.0, 2.0], [3.0, 4.0]]), alpha=2)
    np.testing.assert_array_equal(out.numpy(), [[0, 0], [8, 12]])


def test_amax_ties_share_the_gradient_evenly_as_pytorch():
    # PyTorch 2.13: x [1, 2, 2], src [2, .5, 2] at [0, 1, 1], amax with self -> [2, 2, 2];
    # grads x [0, .5, 1], src [1, 0, .5] (position 1: self and src[2] tie at 2)
    x, src = t64([1.0, 2.0, 2.0], True), t64([2.0, 0.5, 2.0], True)
    out = mg.scatter_reduce(x, 0, ix([0, 1, 1]), src, "amax")
    out.backward(mg.ones_like(out))
    np.testing.assert_array_equal(out.detach().numpy(), [2, 2, 2])
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0.5, 1])
    np.testing.assert_array_equal(src.grad.numpy(), [1, 0, 0.5])
    # three-way tie without self: a third each
    src = t64([4.0, 4.0, 4.0], True)
    out = mg.scatter_reduce(t64([9.0]), 0, ix([0, 0, 0]), src, "amin", include_self=False)
    out.backward(mg.ones_like(out))
    np.testing.assert_allclose(src.grad.numpy(), [1 / 3] * 3)


def test_gradcheck_reports_a_tie_as_a_kink():
    report = mg.gradcheck(
        lambda a, s: mg.scatter_reduce(a, 0, ix([0, 0]), s, "amax"),
        (t64([1.0], True), t64([1.0, 0.0], True)),
        raise_exception=False,
    )
    assert report.kinks


def test_scatter_prod_with_zeros_gives_the_product_of_the_others():
    # PyTorch 2.13: z [0, 2, 3], src [0, 5, 0] at [0, 0, 1] -> [0, 0, 3]; grads z [0, 0, 1], src [0, 0, 2]
    z, src = t64([0.0, 2.0, 3.0], True), t64([0.0, 5.0, 0.0], True)
    out = z.scatter_reduce(0, ix([0, 0, 1]), src, "prod")
    out.backward(mg.ones_like(out))
    np.testing.assert_array_equal(out.detach().numpy(), [0, 0, 3])
    np.testing.assert_array_equal(z.grad.numpy(), [0, 0, 1])
    np.testing.assert_array_equal(src.grad.numpy(), [0, 0, 2])


@pytest.mark.parametrize("include_self", [True, False])
def test_prod_second_order_is_exact_with_one_two_and_three_zeros_in_a_group(include_self):
    x = np.array([0.0, 1.5, 0.0, -0.7])
    src = np.array([0.0, 0.8, 1.2, 0.0, 0.0, -1.1])
    index = ix([0, 1, 1, 2, 2, 3])  # group 0: two zeros, 1: none, 2: three zeros, 3: one zero (with self)
    check_second_order(lambda a, s: mg.scatter_reduce(a, 0, index, s, "prod", include_self=include_self), x, src)
    check_gradients(lambda a, s: mg.scatter_reduce(a, 0, index, s, "prod", include_self=include_self), x, src)


@pytest.mark.parametrize(
    "fn",
    [
        lambda a, s: mg.index_add(a, 1, ix([2, 0, 2]), s, alpha=0.5),
        lambda a, s: mg.index_copy(a, 1, ix([2, 0, 1]), s),
        lambda a, s: mg.scatter_reduce(a, 1, ix([[0, 0, 2], [1, 1, 1]]), s, "mean", include_self=False),
        lambda a, s: mg.masked_scatter(a, mg.tensor([[True, False, True], [False, True, True]]), s.reshape(-1)),
        lambda a, s: mg.take_along_dim(a * s, ix([[2], [0]]), 1),
        lambda a, s: mg.repeat_interleave(a + s, ix([2, 0, 1]), dim=1),
        lambda a, s: mg.masked_select(a * s, mg.tensor([True, False, True])),
        lambda a, s: mg.index_fill(a * s, 1, ix([-1]), 0.5),
    ],
    ids=[
        "index_add",
        "index_copy",
        "mean",
        "masked_scatter",
        "take_along_dim",
        "repeat_interleave",
        "masked_select",
        "index_fill",
    ],
)
def test_second_order_through_the_composites(fn):
    rng = np.random.default_rng(0)
    check_second_order(fn, rng.uniform(-2, 2, (2, 3)), rng.uniform(-2, 2, (2, 3)))


# --- in place -------------------------------------------------------------------------------------------


INPLACE = {  # name: (method call on (x, other), out-of-place reference on (x, other))
    "scatter_": (
        lambda x, o: x.scatter_(1, ix([[2, 0], [1, 1]]), o),
        lambda x, o: mg.scatter(x, 1, ix([[2, 0], [1, 1]]), o),
    ),
    "scatter_add_": (
        lambda x, o: x.scatter_add_(1, ix([[2, 0], [1, 1]]), o),
        lambda x, o: mg.scatter_add(x, 1, ix([[2, 0], [1, 1]]), o),
    ),
    "scatter_reduce_": (
        lambda x, o: x.scatter_reduce_(1, ix([[2, 0], [1, 1]]), o, "amax", include_self=False),
        lambda x, o: mg.scatter_reduce(x, 1, ix([[2, 0], [1, 1]]), o, "amax", include_self=False),
    ),
    "index_add_": (
        lambda x, o: x.index_add_(1, ix([2, 2]), o, alpha=3),
        lambda x, o: mg.index_add(x, 1, ix([2, 2]), o, alpha=3),
    ),
    "index_copy_": (lambda x, o: x.index_copy_(1, ix([2, 0]), o), lambda x, o: mg.index_copy(x, 1, ix([2, 0]), o)),
    "index_fill_": (
        lambda x, o: x.index_fill_(1, ix([-1]), o.sum()),
        lambda x, o: mg.index_fill(x, 1, ix([-1]), o.sum()),
    ),
    "masked_fill_": (
        lambda x, o: x.masked_fill_(mg.tensor([True, False, True]), o.sum()),
        lambda x, o: mg.masked_fill(x, mg.tensor([True, False, True]), o.sum()),
    ),
    "masked_scatter_": (
        lambda x, o: x.masked_scatter_(mg.tensor([[True], [False]]), o),
        lambda x, o: mg.masked_scatter(x, mg.tensor([[True], [False]]), o),
    ),
    "clamp_": (lambda x, o: x.clamp_(min=o.sum() - 1, max=1.0), lambda x, o: mg.clamp(x, min=o.sum() - 1, max=1.0)),
    "clip_": (lambda x, o: x.clip_(-0.5, o.sum()), lambda x, o: mg.clamp(x, -0.5, o.sum())),
    "clamp_min_": (lambda x, o: x.clamp_min_(o.sum()), lambda x, o: mg.clamp(x, min=o.sum())),
    "clamp_max_": (lambda x, o: x.clamp_max_(o.sum()), lambda x, o: mg.clamp(x, max=o.sum())),
}

X0 = np.array([[0.3, -1.2, 2.0], [1.4, -0.2, 0.8]])
O0 = np.array([[0.5, -0.6], [0.7, 0.1]])


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_equals_out_of_place_bumps_the_version_and_records_the_gradient(name):
    method, reference = INPLACE[name]
    other = np.concatenate([O0.reshape(-1), [0.9]])[:3].reshape(1, 3) if name == "masked_scatter_" else O0
    # without grad: written into the buffer
    x = t64(X0)
    before = x._version
    assert method(x, t64(other)) is x
    np.testing.assert_allclose(x.numpy(), reference(t64(X0), t64(other)).numpy(), rtol=0, atol=0)
    assert x._version == before + 1
    # recorded: the in-place result is the out-of-place one, and so are the gradients
    a, o = t64(X0, True), t64(other, True)
    y = a * 1.0
    method(y, o)
    (y * y).sum().backward()
    a2, o2 = t64(X0, True), t64(other, True)
    want = reference(a2 * 1.0, o2)
    (want * want).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), want.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(a.grad.numpy(), a2.grad.numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(o.grad.numpy(), o2.grad.numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_in_place_refuses_a_leaf_that_requires_grad_and_leaves_it_unchanged(name):
    method, _ = INPLACE[name]
    other = np.ones((1, 3)) if name == "masked_scatter_" else O0
    leaf = t64(X0, True)
    with pytest.raises(GraphError, match=f"{name}: a leaf tensor"):
        method(leaf, t64(other))
    np.testing.assert_array_equal(leaf.numpy(), X0)
    assert leaf._version == 0
    with mg.no_grad():  # as optimizers do
        method(leaf, t64(other))
    assert leaf._version == 1


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_an_op_that_saved_the_old_value_raises_after_the_in_place_change(name):
    method, _ = INPLACE[name]
    other = np.ones((1, 3)) if name == "masked_scatter_" else O0
    a = t64(X0, True)
    y = a * 1.0
    z = y * y  # mul saves y
    method(y, t64(other))
    with pytest.raises(GraphError, match="modified in place"):
        z.sum().backward()


def test_changing_an_index_in_place_after_the_forward_raises_in_backward():
    x = t64(X0, True)
    index = ix([[2, 0], [1, 1]])
    for out in (mg.gather(x, 1, index), mg.index_select(x, 1, index[0]), mg.scatter(x, 1, index, x)):
        with mg.no_grad():
            index.copy_(ix([[0, 1], [2, 0]]))
        with pytest.raises(GraphError, match="modified in place"):
            out.sum().backward()


def test_clamp_in_place_takes_tensor_bounds_and_keeps_integer_dtypes():
    x = t64([1.0, 5.0, 9.0])
    x.clamp_(min=t64([2.0, 6.0, 0.0]), max=t64(8.0))
    np.testing.assert_array_equal(x.numpy(), [2, 6, 8])  # PyTorch 2.13
    n = ix([1, 5, 9])
    n.clamp_(2, 6)
    np.testing.assert_array_equal(n.numpy(), [2, 5, 6])
    assert n.dtype == np.int64
    with pytest.raises(DTypeError, match="clamp_"):
        n.clamp_(min=2.5)  # PyTorch: result type Float can't be cast to Long
    np.testing.assert_array_equal(n.numpy(), [2, 5, 6])
    np.testing.assert_array_equal(mg.clamp_min(t64([1.0, 5.0]), 2).numpy(), [2, 5])
    np.testing.assert_array_equal(t64([1.0, 5.0]).clamp_max(2).numpy(), [1, 2])


def test_masked_fill_in_place_needs_a_mask_that_broadcasts_to_self():
    x = t64(np.zeros(3))
    with pytest.raises(ShapeError, match="masked_fill_"):
        x.masked_fill_(mg.tensor([[True], [False]]), 1.0)
    np.testing.assert_array_equal(x.numpy(), np.zeros(3))
    assert x._version == 0


# --- errors ----------------------------------------------------------------------------------------------


def _x():
    return t64(np.arange(6.0).reshape(2, 3), True)


ERRORS = [
    ("gather", lambda x: mg.gather(x, 0, ix([[2, 0, 0]])), IndexOutOfRange, ["gather", "index 2", "dim 0", "size 2"]),
    ("gather-neg", lambda x: x.gather(1, ix([[-1], [0]])), IndexOutOfRange, ["gather", "index -1", "dim 1"]),
    ("gather-float", lambda x: mg.gather(x, 0, t64([[1.0, 0.0, 0.0]])), DTypeError, ["gather", "float64"]),
    ("gather-bool", lambda x: mg.gather(x, 0, mg.tensor([[True]])), DTypeError, ["gather", "bool"]),
    ("gather-shape", lambda x: mg.gather(x, 0, ix([[1, 0, 0, 0]])), ShapeError, ["gather", "(1, 4)", "(2, 3)"]),
    ("gather-ndim", lambda x: mg.gather(x, 0, ix([1, 0])), ShapeError, ["gather", "dimensions"]),
    ("gather-dim", lambda x: mg.gather(x, 2, ix([[0]])), IndexOutOfRange, ["gather", "dim 2"]),
    ("scatter", lambda x: mg.scatter(x, 1, ix([[3]]), x), IndexOutOfRange, ["scatter", "index 3", "dim 1", "size 3"]),
    ("scatter-src", lambda x: mg.scatter(x, 0, ix([[1, 1]]), t64([[1.0]])), ShapeError, ["scatter", "src"]),
    ("scatter-dtype", lambda x: mg.scatter(x, 0, ix([[1]]), mg.ones(1, 1)), DTypeError, ["scatter", "float32"]),
    ("scatter-both", lambda x: mg.scatter(x, 0, ix([[1]]), x, value=1.0), ArgumentError, ["scatter", "exactly one"]),
    (
        "scatter-reduce-name",
        lambda x: mg.scatter(x, 0, ix([[1]]), x, reduce="max"),
        ArgumentError,
        ["scatter", "'max'"],
    ),
    (
        "scatter_reduce",
        lambda x: mg.scatter_reduce(x, 0, ix([[1]]), x, "max"),
        ArgumentError,
        ["scatter_reduce", "amax"],
    ),
    ("scatter_add", lambda x: mg.scatter_add(x, -3, ix([[1]]), x), IndexOutOfRange, ["scatter_add", "dim -3"]),
    ("index_select", lambda x: mg.index_select(x, 0, ix([-1])), IndexOutOfRange, ["index_select", "index -1", "dim 0"]),
    ("index_select-2d", lambda x: mg.index_select(x, 0, ix([[0]])), ShapeError, ["index_select", "vector"]),
    ("index_select-float", lambda x: x.index_select(0, t64([0.0])), DTypeError, ["index_select", "float64"]),
    (
        "index_add",
        lambda x: mg.index_add(x, 0, ix([5]), t64(np.ones((1, 3)))),
        IndexOutOfRange,
        ["index_add", "index 5"],
    ),
    (
        "index_add-shape",
        lambda x: mg.index_add(x, 0, ix([1]), t64(np.ones((1, 2)))),
        ShapeError,
        ["index_add", "(1, 2)"],
    ),
    ("index_copy-dtype", lambda x: mg.index_copy(x, 0, ix([1]), mg.ones(1, 3)), DTypeError, ["index_copy", "float32"]),
    ("index_fill", lambda x: mg.index_fill(x, 1, ix([-4]), 1.0), IndexOutOfRange, ["index_fill", "index -4", "dim 1"]),
    ("take", lambda x: mg.take(x, ix([6])), IndexOutOfRange, ["take", "index 6", "6 elements"]),
    ("take-neg", lambda x: mg.take(x, ix([-7])), IndexOutOfRange, ["take", "index -7"]),
    ("take_along_dim", lambda x: mg.take_along_dim(x, ix([0]), 1), ShapeError, ["take_along_dim", "dimensions"]),
    (
        "take_along_dim-range",
        lambda x: mg.take_along_dim(x, ix([[3]]), 1),
        IndexOutOfRange,
        ["take_along_dim", "index 3"],
    ),
    ("take_along_dim-flat", lambda x: x.take_along_dim(ix([6])), IndexOutOfRange, ["take_along_dim", "6 elements"]),
    ("masked_select", lambda x: mg.masked_select(x, ix([1, 0, 1])), DTypeError, ["masked_select", "bool"]),
    (
        "masked_select-shape",
        lambda x: mg.masked_select(x, mg.tensor([True, False])),
        ShapeError,
        ["masked_select", "(2,)"],
    ),
    ("masked_scatter", lambda x: mg.masked_scatter(x, x > 1, t64([1.0])), ShapeError, ["masked_scatter", "fewer"]),
]


@pytest.mark.parametrize("name,fn,error,fragments", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_naming_the_op_and_leave_the_inputs_unchanged(name, fn, error, fragments):
    x = _x()
    with pytest.raises(error) as info:
        fn(x)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3))
    assert x._version == 0 and x.grad is None and x._node is None


def test_an_in_place_op_with_a_bad_index_changes_nothing():
    x = t64(X0)
    y = t64(X0, True) * 1.0
    for t in (x, y):
        node = t._node
        with pytest.raises(IndexOutOfRange, match="scatter_: index 3 is out of range for dim 1"):
            t.scatter_(1, ix([[3]]), t64([[1.0]]))
        with pytest.raises(IndexOutOfRange, match="index_add_"):
            t.index_add_(0, ix([2]), t64(np.ones((1, 3))))
        np.testing.assert_array_equal(t.detach().numpy(), X0)
        assert t._version == 0 and t._node is node


def test_an_index_or_mask_on_another_device_is_a_clear_error():
    if not mg.cuda_is_available():
        pytest.skip("needs a GPU")
    x = mg.ones(3, device="cuda")
    calls = [
        lambda: mg.gather(x, 0, ix([0])),
        lambda: mg.index_fill(x, 0, ix([0]), 1.0),
        lambda: mg.masked_select(x, mg.tensor([True, False, True])),
    ]
    for call in calls:
        with pytest.raises(DeviceError, match="is on cpu but the tensor on cuda"):
            call()


@FEW
@given(case=vector_case())
def test_the_whole_slice_path_equals_the_elementwise_path(case, device):
    """index_select's broadcast index takes the slice path (take, slice adds in rounds); the same index
    materialized takes the elementwise one (take_along_axis, scatter-add): equal values and gradients."""
    x, dim, index = case
    shape = list(x.shape)
    shape[dim] = index.size
    placed = np.broadcast_to(_placed(index, dim % x.ndim, x.ndim), shape)
    results = []
    for full in (placed, np.ascontiguousarray(placed)):
        a = t64(x, True, device)
        out = mg.gather(a, dim, mg.tensor(full, device=device))
        w = np.arange(out.numel(), dtype=np.float64).reshape(out.shape) % 3 - 1
        out.backward(t64(w, device=device))
        results.append((out.to("cpu").numpy(), a.grad.to("cpu").numpy()))
    for got, want in zip(results[0], results[1]):
        np.testing.assert_array_equal(got, want)

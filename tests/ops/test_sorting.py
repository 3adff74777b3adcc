"""Sorting and selection (minigrad.ops.sorting) and the reductions of issue #16 (prod, var_mean, count_nonzero).

Forward against NumPy, gradcheck, second order, kinks and float32 of the differentiable ops are the op
table's (the SORTING records in optable.py); here the semantics particular to each op -- ties, NaN,
return types, indices -- the spellings, the errors, and prod's gradient at zeros by hand.
"""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import arrays, shapes

import minigrad
from minigrad.errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError

NAN = float("nan")


# --- sort, msort, topk ----------------------------------------------------------------------------


@given(data=st.data())
def test_sort_is_a_stable_sort_with_its_indices(data):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, st.sampled_from([0.0, 1.0, -1.0, 2.5, np.nan])))  # many ties
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    t = minigrad.tensor(x)
    values, indices = minigrad.sort(t, dim)
    order = np.argsort(x, axis=dim, kind="stable")
    np.testing.assert_array_equal(indices.numpy(), order)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, order, axis=dim))
    down = t.sort(dim=dim, descending=True)
    np.testing.assert_array_equal(down.values.numpy(), np.take_along_axis(x, down.indices.numpy(), axis=dim))
    np.testing.assert_array_equal(down.indices.numpy(), minigrad.argsort(t, dim, descending=True).numpy())


def test_sort_by_hand(device):
    t = minigrad.tensor([3.0, 1.0, 3.0, NAN, 2.0, 1.0], device=device)
    out = minigrad.sort(t)
    assert type(out).__name__ == "sort" and out.values.device == device and out.indices.dtype == np.int64
    assert out.indices.tolist() == [1, 5, 4, 0, 2, 3]  # ties in index order, NaN last
    desc = t.sort(descending=True, stable=True)
    assert desc.indices.tolist() == [3, 0, 2, 4, 1, 5]  # NaN first, ties still in index order
    assert np.isnan(desc.values.numpy()[0]) and desc.values.tolist()[1:] == [3.0, 3.0, 2.0, 1.0, 1.0]
    assert minigrad.sort(minigrad.tensor(5.0)).indices.item() == 0
    np.testing.assert_array_equal(minigrad.msort(minigrad.tensor([[3.0, 1.0], [1.0, 2.0]])).numpy(), [[1, 1], [3, 2]])


def test_sort_gradient_follows_the_permutation():
    x = minigrad.tensor([[3.0, 1.0, 2.0]], dtype=minigrad.float64, requires_grad=True)
    values, _ = x.sort(descending=True)
    (values * minigrad.tensor([[100.0, 10.0, 1.0]], dtype=minigrad.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[100.0, 1.0, 10.0]])


def test_topk_values_indices_and_gradient(device):
    t = minigrad.tensor([3.0, 1.0, 3.0, NAN, 2.0, 1.0], device=device)
    top = minigrad.topk(t, 3)
    assert type(top).__name__ == "topk" and top.indices.tolist() == [3, 0, 2]  # NaN is the largest
    low = t.topk(3, largest=False)
    assert low.values.tolist() == [1.0, 1.0, 2.0] and low.indices.tolist() == [1, 5, 4]
    assert minigrad.topk(t, 0).values.shape == (0,)
    x = minigrad.tensor([[0.5, 2.0, -1.0, 4.0]], dtype=minigrad.float64, requires_grad=True)
    (x.topk(2, dim=1).values * minigrad.tensor([[10.0, 1.0]], dtype=minigrad.float64)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0, 10.0]])  # g scattered back by the indices
    assert not top.indices.requires_grad


def test_topk_errors_name_the_op():
    t = minigrad.ones(2, 3)
    with pytest.raises(ArgumentError, match="topk: k = 4 is out of range"):
        t.topk(4)
    with pytest.raises(ArgumentError, match="topk"):
        t.topk(-1)
    with pytest.raises(IndexOutOfRange, match="topk"):
        t.topk(1, dim=2)
    with pytest.raises(DTypeError, match="topk: k must be an int"):
        t.topk(1.5)
    with pytest.raises(IndexOutOfRange, match="sort"):
        t.sort(dim=-3)


def test_a_tie_is_reported_as_a_kink():
    """Two equal elements: which one is first flips between x - h and x + h, so gradcheck sees a kink."""
    report = minigrad.gradcheck(
        lambda t: minigrad.sort(t).values, minigrad.tensor([1.0, 1.0, 3.0], dtype=minigrad.float64, requires_grad=True)
    )
    assert report.inputs[0].kinks > 0
    check_gradients(lambda t: t.topk(2).values, np.array([1.0, 2.0, 5.0, -1.0]))  # no tie: compared and correct


# --- kthvalue, median, mode ---------------------------------------------------------------------


def test_kthvalue_median_mode_by_hand_as_pytorch(device):
    t = minigrad.tensor([3.0, 1.0, 3.0, 1.0, 2.0], device=device)
    kth = minigrad.kthvalue(t, 2)
    assert type(kth).__name__ == "kthvalue" and (kth.values.item(), kth.indices.item()) == (1.0, 3)
    even = minigrad.tensor([3.0, 1.0, 3.0, 1.0, 2.0, 4.0], device=device)
    med = even.median(0)
    assert (med.values.item(), med.indices.item()) == (2.0, 4)  # the lower median, not the mean of 2 and 3
    assert minigrad.median(minigrad.tensor([1.0, 2.0, 3.0, 4.0])).item() == 2.0
    with_nan = minigrad.tensor([[3.0, 1.0, 3.0, NAN, 2.0, NAN]], device=device)
    med = minigrad.median(with_nan, 1, keepdim=True)
    assert med.values.shape == (1, 1) and np.isnan(med.values.item()) and med.indices.tolist() == [[3]]
    assert np.isnan(minigrad.median(with_nan).item()) and np.isnan(minigrad.median(minigrad.zeros(0)).item())
    for values, want in [([1.0, 2, 1, 2], (1.0, 2)), ([2.0, 1, 2, 1], (1.0, 3)), ([3.0, 1, 3, 1, 1, 3], (1.0, 4))]:
        mode = minigrad.mode(minigrad.tensor(values, device=device))  # smallest mode, its last index
        assert (mode.values.item(), mode.indices.item()) == want
    assert minigrad.mode(minigrad.tensor([1.0, NAN, NAN])).values.item() == 1.0  # NaNs are never equal


@given(data=st.data())
def test_kthvalue_and_median_are_places_of_the_stable_sort(data):
    shape = data.draw(shapes(min_dims=1))
    x = data.draw(arrays(shape, st.sampled_from([0.0, 1.0, -1.0, 2.5])))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    k = data.draw(st.integers(1, n))
    order = np.argsort(x, axis=dim, kind="stable")
    kth = minigrad.kthvalue(minigrad.tensor(x), k, dim, keepdim=True)
    np.testing.assert_array_equal(kth.indices.numpy(), np.take(order, [k - 1], axis=dim))
    np.testing.assert_array_equal(kth.values.numpy(), np.take(np.sort(x, axis=dim), [k - 1], axis=dim))
    med = minigrad.tensor(x).median(dim)
    np.testing.assert_array_equal(med.indices.numpy(), np.take(order, (n - 1) // 2, axis=dim))


def test_selection_errors_name_the_op():
    t = minigrad.ones(2, 3)
    with pytest.raises(ArgumentError, match="kthvalue: k = 0"):
        t.kthvalue(0)
    with pytest.raises(ArgumentError, match="kthvalue: k = 4"):
        t.kthvalue(4, dim=1)
    with pytest.raises(IndexOutOfRange, match="median: dimension 0 .* is empty"):
        minigrad.zeros(0, 3).median(0)
    with pytest.raises(IndexOutOfRange, match="mode"):
        t.mode(dim=5)
    assert minigrad.zeros(3, 0).median(0).values.shape == (0,)


def test_median_gradient_goes_to_the_median_element():
    x = minigrad.tensor([[4.0, -1.0, 2.0, 0.5]], dtype=minigrad.float64, requires_grad=True)
    x.median(1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.0, 0.0, 1.0]])
    check_gradients(lambda t: t.median(), np.array([[4.0, -1.0], [2.0, 0.5]]))


# --- unique, nonzero, argwhere -------------------------------------------------------------------


def test_unique_as_pytorch(device):
    t = minigrad.tensor([3, 1, 2, 3, 1], device=device)
    values, inverse, counts = minigrad.unique(t, return_inverse=True, return_counts=True)
    assert values.tolist() == [1, 2, 3] and inverse.tolist() == [2, 0, 1, 2, 0] and counts.tolist() == [2, 1, 2]
    assert values.device == device and inverse.dtype == np.int64
    assert t.unique(sorted=False).tolist() == [1, 2, 3]
    grid = minigrad.tensor([[1, 2], [1, 2], [0, 5]])
    rows, inverse, counts = grid.unique(dim=0, return_inverse=True, return_counts=True)
    assert rows.tolist() == [[0, 5], [1, 2]] and inverse.tolist() == [1, 1, 0] and counts.tolist() == [1, 2]
    floats = minigrad.unique(minigrad.tensor([2.0, NAN, 1.0, NAN])).numpy()
    assert floats[:2].tolist() == [1.0, 2.0] and np.isnan(floats[2:]).all()  # every NaN is its own value
    _, inverse = minigrad.unique(minigrad.tensor([[4, 4], [1, 4]]), return_inverse=True)
    assert inverse.tolist() == [[1, 1], [0, 1]]  # the input's shape
    with pytest.raises(IndexOutOfRange, match="unique"):
        grid.unique(dim=2)


@given(data=st.data())
def test_unique_rebuilds_its_input(data):
    x = data.draw(arrays(data.draw(shapes()), st.sampled_from([0.0, 1.0, -2.0])))
    values, inverse, counts = minigrad.unique(minigrad.tensor(x), return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(values.numpy(), np.unique(x))
    np.testing.assert_array_equal(values.numpy()[inverse.numpy()], x)
    assert counts.numpy().sum() == x.size


def test_nonzero_and_argwhere(device):
    t = minigrad.tensor([[0, 1], [2, 0]], device=device)
    assert t.nonzero().tolist() == [[0, 1], [1, 0]] and minigrad.argwhere(t).tolist() == [[0, 1], [1, 0]]
    rows, cols = minigrad.nonzero(t, as_tuple=True)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0] and rows.dtype == np.int64
    assert t[t.nonzero(as_tuple=True)].tolist() == [1, 2]
    assert minigrad.nonzero(minigrad.tensor(3)).shape == (1, 0) and minigrad.nonzero(minigrad.tensor(0)).shape == (0, 0)
    assert [i.tolist() for i in minigrad.nonzero(minigrad.tensor(3), as_tuple=True)] == [[0]]
    assert minigrad.nonzero(minigrad.zeros(2, 0)).shape == (0, 2)


# --- prod, var_mean, std_mean, count_nonzero ----------------------------------------------------------


def test_prod_forward_dtypes_and_spellings(device):
    x = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 0.5]])
    t = minigrad.tensor(x, device=device)
    assert t.prod().item() == np.prod(x)
    np.testing.assert_array_equal(minigrad.prod(t, 1).numpy(), np.prod(x, 1))
    assert t.prod(dim=0, keepdim=True).shape == (1, 3) and minigrad.prod(t, axis=(0, 1)).item() == np.prod(x)
    assert minigrad.prod(minigrad.tensor([1, 2, 3], dtype=minigrad.int32)).dtype == np.int64
    assert minigrad.prod(minigrad.tensor([True, True])).dtype == np.int64
    assert minigrad.prod(minigrad.tensor([1.0, 2.0]), dtype=minigrad.float64).dtype == np.float64
    assert minigrad.prod(minigrad.zeros(0, 3), 0).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(IndexOutOfRange, match="prod"):
        t.prod(2)


@pytest.mark.parametrize(
    "values, want",
    [
        ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),  # no zero: prod / x
        ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),  # one zero: the product of the others there, 0 elsewhere
        ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),  # two zeros: all 0
        ([0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0]),
    ],
)
def test_prod_gradient_at_zeros_by_hand(values, want):
    x = minigrad.tensor(values, dtype=minigrad.float64, requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad.numpy(), want)
    check_gradients(lambda t: t.prod(), np.array(values))


@pytest.mark.parametrize(
    "values", [[2.0, 0.0, 4.0, -1.5], [0.0, 3.0, 0.0, 2.0], [0.0, 0.0, 0.0, 2.0], [1.5, 2.0, -1.0]]
)
def test_prod_second_order_at_zeros(values):
    """The Hessian of prod is d^2/dx_k dx_m = prod_{j != k, m} x_j, nonzero at a zero: differentiate it twice."""
    x = minigrad.tensor(values, dtype=minigrad.float64, requires_grad=True)
    (g,) = minigrad.grad(x.prod(), x, create_graph=True)
    n = len(values)
    hessian = np.stack([minigrad.grad(g[k], x, retain_graph=True)[0].numpy() for k in range(n)])
    want = np.array([[0.0 if k == m else np.prod(np.delete(values, [k, m])) for m in range(n)] for k in range(n)])
    np.testing.assert_allclose(hessian, want, rtol=1e-14, atol=0)
    assert minigrad.gradgradcheck(lambda t: t.prod(), x)
    rows = minigrad.tensor([values, values[::-1]], dtype=minigrad.float64, requires_grad=True)
    assert minigrad.gradgradcheck(lambda t: minigrad.prod(t, 1, keepdim=True), rows)


def test_var_mean_and_std_mean(device):
    x = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])
    t = minigrad.tensor(x, device=device)
    var, mean = minigrad.var_mean(t)
    assert isinstance(minigrad.var_mean(t), tuple)
    np.testing.assert_allclose(var.item(), np.var(x, ddof=1))
    np.testing.assert_allclose(mean.item(), x.mean())
    var, mean = minigrad.var_mean(t, 1, correction=0, keepdim=True)
    np.testing.assert_allclose(var.numpy(), np.var(x, 1, keepdims=True))
    np.testing.assert_allclose(mean.numpy(), x.mean(1, keepdims=True))
    std, mean = minigrad.std_mean(t, dim=0, unbiased=False)
    np.testing.assert_allclose(std.numpy(), np.std(x, 0))
    np.testing.assert_allclose(mean.numpy(), x.mean(0))
    std, mean = minigrad.std_mean(t, False)  # PyTorch's overload: unbiased in the dim's place
    np.testing.assert_allclose(std.item(), np.std(x))
    np.testing.assert_allclose(mean.item(), x.mean())
    check_gradients(lambda a: minigrad.std_mean(a, 1)[0] + minigrad.std_mean(a, 1)[1], x)
    check_gradients(lambda a: minigrad.var_mean(a, (0, 1), correction=0)[0], x)
    with pytest.raises(DTypeError, match="var_mean|var"):
        minigrad.var_mean(minigrad.tensor([1, 2]))


def test_count_nonzero(device):
    t = minigrad.tensor([[0, 1], [2, 3]], device=device)
    assert minigrad.count_nonzero(t).item() == 3 and t.count_nonzero().dtype == np.int64
    assert t.count_nonzero(dim=0).tolist() == [1, 2] and minigrad.count_nonzero(t, (0, 1)).item() == 3
    assert minigrad.count_nonzero(minigrad.tensor(0.0)).item() == 0
    with pytest.raises(IndexOutOfRange, match="count_nonzero"):
        t.count_nonzero(dim=2)


# --- bad dims, the median of ties, empty tensors ------------------------------------------------------

DIM_OPS = {
    "sort": lambda t, dim: minigrad.sort(t, dim),
    "argsort": lambda t, dim: minigrad.argsort(t, dim),
    "topk": lambda t, dim: minigrad.topk(t, 1, dim),
    "kthvalue": lambda t, dim: minigrad.kthvalue(t, 1, dim),
    "median": lambda t, dim: minigrad.median(t, dim),
    "mode": lambda t, dim: minigrad.mode(t, dim),
    "unique": lambda t, dim: minigrad.unique(t, dim=dim),
    "prod": lambda t, dim: minigrad.prod(t, dim),
    "var_mean": lambda t, dim: minigrad.var_mean(t, dim),
    "std_mean": lambda t, dim: minigrad.std_mean(t, dim),
    "count_nonzero": lambda t, dim: minigrad.count_nonzero(t, dim),
}


@pytest.mark.parametrize("name", list(DIM_OPS))
@pytest.mark.parametrize("dim", [2, -3])
def test_a_dim_out_of_range_names_the_op_and_changes_nothing(name, dim):
    x = minigrad.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=minigrad.float64, requires_grad=True)
    loss = (x * x).sum()
    with pytest.raises(IndexOutOfRange, match=rf"^{name}: dim {dim} is out of range for a tensor of shape \(2, 3\)$"):
        DIM_OPS[name](x, dim)
    assert x._version == 0 and x.grad is None
    loss.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * x.numpy())


@pytest.mark.parametrize("name", ["sort", "argsort", "topk", "kthvalue", "median", "mode", "unique"])
@pytest.mark.parametrize("dim", [1.0, (0,), (0, 1)])
def test_a_dim_that_is_not_one_int_is_a_dtype_error_as_pytorchs_type_error(name, dim):
    with pytest.raises(DTypeError, match=rf"^{name}: dim must be an int"):
        DIM_OPS[name](minigrad.ones(2, 3), dim)


def test_the_median_of_all_elements_shares_its_gradient_among_ties():
    """torch.median(x) (no dim) sends the gradient evenly to every element equal to the median."""
    x = minigrad.tensor([[1.0, 2.0, 1.0, 2.0, 0.0], [3.0, 3.0, 3.0, -1.0, -1.0]], dtype=minigrad.float64,
                        requires_grad=True)  # fmt: skip
    m = minigrad.median(x)  # sorted: -1 -1 0 1 1 2 2 3 3 3, place (10 - 1) // 2 = 4: the value 1
    assert m.item() == 1.0
    m.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0, 0.5, 0, 0], [0, 0, 0, 0, 0]])
    nan = minigrad.tensor([NAN, 1.0, NAN], requires_grad=True)
    nan.median().backward()  # NaN is the median; the NaNs share the gradient
    np.testing.assert_array_equal(nan.grad.numpy(), [0.5, 0.0, 0.5])
    y = minigrad.tensor([3.0, 1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    (g,) = minigrad.grad(minigrad.median(y) ** 2, y, create_graph=True)  # 2 m dm/dy
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0, 4.0])
    (h,) = minigrad.grad(g[2], y)
    np.testing.assert_array_equal(h.numpy(), [0.0, 0.0, 2.0])


def test_the_median_of_all_elements_declares_the_median_and_its_ties_as_its_signature():
    def signature(values):
        with minigrad.record_signatures() as rec:
            minigrad.median(minigrad.tensor(values, dtype=minigrad.float64))
        ((name, _, sig),) = [entry for entry in rec.log if entry[0] == "median_all"]
        return sig.tolist()

    assert signature([1.0, 2.0, 2.0, 3.0, 0.0]) == [0, 2, 1, 0, 0]  # the median (2), its tie (1)
    assert signature([1.0, 2.0 - 1e-9, 2.0, 3.0, 0.0]) == [0, 2, 0, 0, 0]  # no tie: another branch
    assert signature([[1.0, 2.0], [3.0, 4.0]]) == [[0, 2], [0, 0]]  # the input's shape


def test_median_of_an_empty_tensor_is_nan_on_the_graph():
    x = minigrad.zeros(2, 0, requires_grad=True)
    m = minigrad.median(x)
    assert np.isnan(m.item()) and m.requires_grad and m.dtype == np.float32
    m.backward()
    assert x.grad.shape == (2, 0)


def test_unique_along_a_dim_of_an_empty_tensor_as_pytorch():
    rows, inverse, counts = minigrad.unique(minigrad.zeros(0, 4), dim=0, return_inverse=True, return_counts=True)
    assert rows.shape == (0, 4) and inverse.shape == (0,) and counts.shape == (0,)
    assert minigrad.unique(minigrad.zeros(3, 0), dim=1).shape == (3, 0)
    for shape, dim in (((0, 4), 1), ((3, 0), 0)):  # slices with no elements: PyTorch refuses too
        with pytest.raises(ShapeError, match=r"unique: the tensor of shape .* has a 0-sized dimension other than dim"):
            minigrad.unique(minigrad.zeros(*shape), dim=dim)

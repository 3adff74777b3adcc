"""minigrad's scans, sorting, selection and the #16 reductions against PyTorch itself.

cumsum cumprod cummax cummin logcumsumexp sort msort argsort topk kthvalue median mode unique nonzero
argwhere prod var_mean std_mean count_nonzero: the same float64 inputs (ties, NaN, infinities, zeros,
empty dimensions, every dim with and without keepdim) through both libraries; values, indices and
dtypes must agree, and so must the gradients of a random weighting of the differentiable outputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.errors import ShapeError

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")

# inputs with the features that decide orders: ties, NaN, infinities, zeros, empty dims
INPUTS = {
    "plain": np.array([[0.3, -1.2, 2.5, 0.7], [1.1, 0.0, -0.4, 3.3], [-2.0, 0.9, 0.8, -0.1]]),
    "ties": np.array([[1.0, 2.0, 1.0, 2.0, 0.0], [3.0, 3.0, 3.0, -1.0, -1.0], [0.5, 0.5, 2.0, 0.5, 2.0]]),
    "nan": np.array([[1.0, NAN, 0.5, 2.0], [NAN, 0.0, NAN, -1.0], [3.0, 1.0, 2.0, 0.0]]),
    "inf": np.array([[1.0, INF, -INF, 2.0], [-INF, -INF, 0.0, 1.0]]),
    "zeros": np.array([[0.0, 2.0, 0.0, 3.0], [1.5, 0.0, 2.0, -1.0], [2.0, 3.0, 0.5, 0.25]]),
    "vector": np.array([2.0, -1.0, 2.0, 0.5, -1.0, 3.0, 0.0]),
    "3d": np.arange(24.0).reshape(2, 3, 4) % 5 - 2.0,
    "empty_rows": np.zeros((0, 4)),
    "empty_cols": np.zeros((3, 0)),
    "scalar": np.array(1.5),
}


def dims_of(x):
    return list(range(-x.ndim, x.ndim)) if x.ndim else [0, -1]


def flatten_outputs(out):
    """A tuple of tensors from an op's result (a tensor, a named tuple, a plain tuple)."""
    if isinstance(out, (tuple, list)):
        return tuple(out)
    return (out,)


def as_numpy(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def compare(ours, theirs, exact=False):
    ours, theirs = flatten_outputs(ours), flatten_outputs(theirs)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        a, b = as_numpy(a), as_numpy(b)
        assert a.shape == b.shape, (a.shape, b.shape)
        assert a.dtype == b.dtype, (a.dtype, b.dtype)
        if exact or a.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def run_both(fn_mg, fn_torch, x, grad=True, exact=False, seed=0):
    """The op on x in both libraries; values compared; then the gradients of sum(w * out) for the float outputs."""
    xm = mg.tensor(x, dtype=mg.float64, requires_grad=grad)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=grad)
    ours, theirs = fn_mg(xm), fn_torch(xt)
    compare(ours, theirs, exact)
    if not grad:
        return
    rng = np.random.default_rng(seed)
    loss_m, loss_t = 0, 0
    for a, b in zip(flatten_outputs(ours), flatten_outputs(theirs)):
        if b.dtype.is_floating_point and b.requires_grad:
            w = rng.standard_normal(tuple(b.shape))
            keep = np.isfinite(b.detach().numpy())  # a NaN or inf output would make every gradient NaN
            w = np.where(keep, w, 0.0)
            loss_m = loss_m + (mg.where(mg.tensor(keep), a, 0.0) * mg.tensor(w)).sum()
            loss_t = loss_t + (torch.where(torch.tensor(keep), b, 0.0) * torch.tensor(w)).sum()
    if isinstance(loss_t, int):
        return
    loss_m.backward()
    loss_t.backward()
    np.testing.assert_allclose(
        xm.grad.numpy() if xm.grad is not None else np.zeros(x.shape),
        xt.grad.numpy() if xt.grad is not None else np.zeros(x.shape),
        rtol=1e-10,
        atol=1e-12,
        equal_nan=True,
    )


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp"])
def test_cumulative_ops(op, name):
    x = INPUTS[name]
    if op != "cumsum" and name in ("nan", "inf") and op == "cumprod":
        x = np.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-3.0)  # inf * 0 gradients: NaN in both, unordered
    for dim in dims_of(x):
        run_both(lambda t, d=dim: getattr(mg, op)(t, d), lambda t, d=dim: getattr(torch, op)(t, d), x)
        run_both(lambda t, d=dim: getattr(t, op)(dim=d), lambda t, d=dim: getattr(t, op)(dim=d), x)


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("op", ["cummax", "cummin"])
def test_running_extrema_values_indices_and_gradients(op, name):
    x = INPUTS[name]
    for dim in dims_of(x):
        run_both(lambda t, d=dim: getattr(mg, op)(t, d), lambda t, d=dim: getattr(torch, op)(t, d), x, exact=True)


def test_cumulative_dtypes_as_pytorch():
    ints = [[1, 2, 3], [4, 5, 6]]
    for op in ("cumsum", "cumprod"):
        for dtype in ("int64", "int32", "bool"):
            ours = getattr(mg, op)(mg.tensor(ints, dtype=getattr(mg, dtype if dtype != "bool" else "bool_")), 1)
            theirs = getattr(torch, op)(torch.tensor(ints, dtype=getattr(torch, dtype)), 1)
            compare(ours, theirs)
        compare(
            getattr(mg, op)(mg.tensor(ints), 0, dtype=mg.float64),
            getattr(torch, op)(torch.tensor(ints), 0, dtype=torch.float64),
        )
    ours, theirs = mg.cummax(mg.tensor(ints), 1), torch.cummax(torch.tensor(ints), 1)
    compare(ours, theirs)


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("descending", [False, True])
def test_sort_and_argsort(name, descending):
    x = INPUTS[name]
    for dim in dims_of(x):
        run_both(
            lambda t, d=dim: mg.sort(t, d, descending),
            lambda t, d=dim: torch.sort(t, dim=d, descending=descending, stable=True),
            x,
            exact=True,
        )
        run_both(
            lambda t, d=dim: t.argsort(dim=d, descending=descending),
            lambda t, d=dim: t.argsort(dim=d, descending=descending, stable=True),
            x,
            grad=False,
        )
    if x.ndim:
        run_both(mg.msort, lambda t: torch.sort(t, dim=0, stable=True).values, x, exact=True)


def has_ties(x, dim):
    """Whether some slice along ``dim`` holds a repeated value (NaN counts as one value, as sorting sees it)."""
    if x.ndim == 0 or x.shape[dim] < 2:
        return False
    s = np.sort(np.nan_to_num(np.moveaxis(x, dim, -1), nan=np.inf, posinf=np.inf), axis=-1)
    return bool(np.any(s[..., 1:] == s[..., :-1]))


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("largest", [True, False])
def test_topk(name, largest):
    """Values always as PyTorch's; indices and gradients too where no slice has a tie.

    Of tied elements PyTorch's topk picks by its partial sort (``topk([3., 3., 3., -1.], 1)`` is index 1),
    an order it does not document; minigrad takes them in index order, as its stable sort. Where there
    are ties the check is that the indices are distinct and point at the values.
    """
    x = INPUTS[name]
    for dim in dims_of(x):
        size = x.shape[dim] if x.ndim else 1
        for k in sorted({0, min(1, size), size // 2, size}):
            ours = mg.topk(mg.tensor(x), k, dim, largest)
            theirs = torch.topk(torch.tensor(x), k, dim=dim, largest=largest)
            compare(ours.values, theirs.values, exact=True)
            if not has_ties(x, dim):
                run_both(
                    lambda t, d=dim, k=k: mg.topk(t, k, d, largest),
                    lambda t, d=dim, k=k: torch.topk(t, k, dim=d, largest=largest),
                    x,
                    exact=True,
                )
            elif x.ndim:
                idx = ours.indices.numpy()
                np.testing.assert_array_equal(np.take_along_axis(x, idx, axis=dim), ours.values.numpy())
                ordered = np.sort(np.moveaxis(idx, dim, -1), axis=-1)
                assert np.all(ordered[..., 1:] != ordered[..., :-1])


def check_selection(op_mg, op_torch, x, dim, keepdim):
    """kthvalue, median(dim), mode: as PyTorch's where no slice has a tie; with ties, the same values.

    Of tied elements PyTorch returns the index its selection happens to stop at (kthvalue of
    [0.5, 0.5, 2, 0.5, 2] with k = 2 is index 3, a mode of forty zeros index 19), which it does not
    document; minigrad's is the stable sort's (documented in minigrad.ops.sorting). With ties the check
    is that the values agree and the index points at an element of that value.
    """
    if not has_ties(x, dim):
        run_both(op_mg, op_torch, x, exact=True)
        return
    ours, theirs = op_mg(mg.tensor(x)), op_torch(torch.tensor(x))
    compare(ours.values, theirs.values, exact=True)
    assert tuple(ours.indices.shape) == tuple(theirs.indices.shape) and ours.indices.dtype == np.int64
    idx = ours.indices.numpy() if keepdim else np.expand_dims(ours.indices.numpy(), dim)
    at = np.take_along_axis(x, idx, axis=dim) if x.ndim else x
    vals = ours.values.numpy() if keepdim else np.expand_dims(ours.values.numpy(), dim)
    np.testing.assert_array_equal(at, vals)


@pytest.mark.parametrize("name", [n for n in INPUTS if n not in ("empty_rows", "empty_cols")])
@pytest.mark.parametrize("keepdim", [False, True])
def test_kthvalue_median_mode(name, keepdim):
    x = INPUTS[name]
    for dim in dims_of(x):
        size = x.shape[dim] if x.ndim else 1
        for k in sorted({1, (size + 1) // 2, size}):
            check_selection(
                lambda t, d=dim, k=k: mg.kthvalue(t, k, d, keepdim),
                lambda t, d=dim, k=k: torch.kthvalue(t, k, d, keepdim),
                x,
                dim,
                keepdim,
            )
        check_selection(
            lambda t, d=dim: mg.median(t, d, keepdim), lambda t, d=dim: torch.median(t, d, keepdim), x, dim, keepdim
        )
        if name != "nan":  # PyTorch's mode of a slice with NaN depends on where the NaN stands (see below)
            check_selection(
                lambda t, d=dim: mg.mode(t, d, keepdim), lambda t, d=dim: torch.mode(t, d, keepdim), x, dim, keepdim
            )
    run_both(mg.median, torch.median, x, exact=True)  # no dim: the gradient shared by ties, in both


def test_mode_with_nan_where_pytorch_is_consistent():
    """NaN counts once per occurrence (NaN != NaN): a repeated number stays the mode, as in PyTorch.

    (PyTorch's mode of [nan, 0., 1.] is nan but of [0., nan, 1.] is 0.: where every count is 1 its
    result depends on the NaN's position. minigrad's is the smallest number, 0., in both.)
    """
    for row in ([1.0, 1.0, NAN, NAN], [NAN, 2.0, 2.0, 0.5], [0.0, NAN, 1.0]):
        ours, theirs = mg.mode(mg.tensor(row), 0), torch.mode(torch.tensor(row), 0)
        compare(ours.values, theirs.values)
    assert mg.mode(mg.tensor([NAN, 0.0, 1.0]), 0).values.item() == 0.0


def test_selection_of_an_empty_dim_raises_in_both():
    for op in ("kthvalue", "median", "mode"):
        args = (1, 1) if op == "kthvalue" else (1,)
        with pytest.raises(Exception):  # noqa: B017 - both raise, PyTorch an IndexError or RuntimeError
            getattr(torch, op)(torch.zeros(3, 0), *args)
        with pytest.raises((IndexError, ValueError)):
            getattr(mg, op)(mg.zeros(3, 0), *args)
    compare(mg.median(mg.zeros(0)), torch.median(torch.zeros(0)))


@pytest.mark.parametrize("name", list(INPUTS))
def test_unique(name):
    x = INPUTS[name]
    for inverse in (False, True):
        for counts in (False, True):
            kwargs = {"return_inverse": inverse, "return_counts": counts}
            run_both(lambda t, k=kwargs: mg.unique(t, **k), lambda t, k=kwargs: torch.unique(t, **k), x, grad=False)
            if x.ndim and "nan" != name:  # torch.unique(dim=) with NaN rows: an order of its own
                for dim in dims_of(x):
                    if any(size == 0 for d, size in enumerate(x.shape) if d != dim % x.ndim):
                        with pytest.raises(RuntimeError, match="0 sized dimensions"):
                            torch.unique(torch.tensor(x), dim=dim)
                        with pytest.raises(ShapeError, match="unique: the tensor of shape"):
                            mg.unique(mg.tensor(x), dim=dim)
                        continue
                    run_both(
                        lambda t, d=dim, k=kwargs: mg.unique(t, dim=d, **k),
                        lambda t, d=dim, k=kwargs: torch.unique(t, dim=d, **k),
                        x,
                        grad=False,
                    )


@pytest.mark.parametrize("name", list(INPUTS))
def test_nonzero_argwhere_count_nonzero(name):
    x = INPUTS[name]
    run_both(mg.nonzero, torch.nonzero, x, grad=False)
    run_both(lambda t: mg.nonzero(t, as_tuple=True), lambda t: torch.nonzero(t, as_tuple=True), x, grad=False)
    run_both(mg.argwhere, torch.argwhere, x, grad=False)
    run_both(mg.count_nonzero, torch.count_nonzero, x, grad=False)
    for dim in dims_of(x) if x.ndim else []:
        run_both(lambda t, d=dim: mg.count_nonzero(t, d), lambda t, d=dim: torch.count_nonzero(t, d), x, grad=False)
    if x.ndim >= 2:
        run_both(lambda t: mg.count_nonzero(t, (0, 1)), lambda t: torch.count_nonzero(t, (0, 1)), x, grad=False)


@pytest.mark.parametrize("name", list(INPUTS))
@pytest.mark.parametrize("keepdim", [False, True])
def test_prod(name, keepdim):
    x = INPUTS[name]
    if name in ("nan", "inf"):
        x = np.nan_to_num(x, nan=0.5, posinf=3.0, neginf=-3.0)
    run_both(mg.prod, torch.prod, x)
    for dim in dims_of(x):
        run_both(lambda t, d=dim: mg.prod(t, d, keepdim), lambda t, d=dim: torch.prod(t, d, keepdim), x)


def test_prod_dtypes_as_pytorch():
    for dtype in ("int64", "int32", "bool"):
        ours = mg.tensor([[1, 2], [3, 0]], dtype=getattr(mg, dtype if dtype != "bool" else "bool_"))
        theirs = torch.tensor([[1, 2], [3, 0]], dtype=getattr(torch, dtype))
        compare(mg.prod(ours), torch.prod(theirs))
        compare(mg.prod(ours, 1), torch.prod(theirs, 1))
    compare(mg.prod(mg.tensor([1, 2]), dtype=mg.float64), torch.prod(torch.tensor([1, 2]), dtype=torch.float64))


@pytest.mark.parametrize("name", [n for n in INPUTS if n not in ("nan", "inf")])
@pytest.mark.parametrize("op", ["var_mean", "std_mean"])
def test_var_mean_std_mean(op, name):
    x = INPUTS[name]
    run_both(getattr(mg, op), getattr(torch, op), x)
    for dim in dims_of(x) if x.ndim else []:
        for keepdim in (False, True):
            for kwargs in ({}, {"correction": 0}, {"correction": 2}, {"unbiased": False}):
                run_both(
                    lambda t, d=dim, kd=keepdim, k=kwargs: getattr(mg, op)(t, d, keepdim=kd, **k),
                    lambda t, d=dim, kd=keepdim, k=kwargs: getattr(torch, op)(t, d, keepdim=kd, **k),
                    x,
                )
    if x.ndim >= 2:
        run_both(lambda t: getattr(mg, op)(t, (0, 1)), lambda t: getattr(torch, op)(t, (0, 1)), x)
    run_both(lambda t: getattr(mg, op)(t, False), lambda t: getattr(torch, op)(t, False), x)  # the unbiased overload


@given(
    x=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
        elements=st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0]),
    ),  # fmt: skip
    data=st.data(),
)
def test_drawn_inputs_with_many_ties(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    run_both(
        lambda t: mg.sort(t, dim, True), lambda t: torch.sort(t, dim=dim, descending=True, stable=True), x, exact=True
    )
    run_both(lambda t: mg.cummax(t, dim), lambda t: torch.cummax(t, dim), x, exact=True)
    run_both(lambda t: mg.cumprod(t, dim), lambda t: torch.cumprod(t, dim), x)
    run_both(lambda t: mg.logcumsumexp(t, dim), lambda t: torch.logcumsumexp(t, dim), x)
    k = data.draw(st.integers(0, x.shape[dim]))
    compare(mg.topk(mg.tensor(x), k, dim).values, torch.topk(torch.tensor(x), k, dim).values, exact=True)
    if x.shape[dim]:
        check_selection(lambda t: mg.median(t, dim), lambda t: torch.median(t, dim), x, dim, False)
        check_selection(lambda t: mg.mode(t, dim), lambda t: torch.mode(t, dim), x, dim, False)
        run_both(mg.median, torch.median, x, exact=True)

"""Reductions (minigrad.ops.reduction): sum, mean, max/min, logsumexp, softmax, log_softmax.

Forward against NumPy, gradcheck, second order, float32 gradients, kink
signatures and saves are the generic tests of test_optable.py over each op's
record in optable.py; what is particular to reductions stays here. Every
reduction is called four ways -- the function, the method with NumPy's
``axis``/``keepdims``, the method with PyTorch's ``dim``/``keepdim``, and
positionally -- over axis None, ints (negative too) and tuples, with and
without kept dimensions.
"""

import warnings

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import assume, given
from hypothesis import strategies as st
from ophelpers import (
    DTYPES,
    arrays,
    check_second_order,
    distinct_arrays,
    shapes,
    values,
    with_device,
)
from optable import log_softmax_ref as _log_softmax_ref
from optable import logsumexp_ref as _logsumexp_ref
from optable import reduction_case
from optable import softmax_ref as _softmax_ref

import minigrad
from minigrad.ops import reduction


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_softmax_sums_to_one(dtype, data):
    """Against NumPy in every spelling is the op table's (test_optable.py); here what a softmax must be."""
    shape = data.draw(shapes(min_dims=1))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    out = minigrad.softmax(minigrad.tensor(data.draw(arrays(shape, values(-5, 5), dtype=dtype))), dim=axis)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy().sum(axis=axis), 1.0, rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_reductions_on_the_device(dtype, device):
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(dtype)
    t = minigrad.tensor(x, device=device)
    for out, want in (
        (t.sum(axis=(0, 2)), x.sum(axis=(0, 2))),
        (t.mean(dim=1, keepdim=True), x.mean(axis=1, keepdims=True)),
        (t.amax(-1), x.max(axis=-1)),
        (t.logsumexp(1), _logsumexp_ref(x, 1)),
        (t.softmax(dim=0), _softmax_ref(x, 0)),
    ):
        assert out.device == device and out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_max_with_dim_returns_values_and_indices(name, keepdim, data):
    shape = data.draw(shapes(min_dims=1))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(distinct_arrays(shape))
    t = minigrad.tensor(x, requires_grad=True)
    result = getattr(t, name)(dim=dim, keepdim=keepdim)
    values, indices = result  # a named tuple, as torch.return_types.max
    assert result.values is values and result.indices is indices
    np.testing.assert_array_equal(values.numpy(), getattr(np, name)(x, axis=dim, keepdims=keepdim))
    arg = getattr(np, "arg" + name)(x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(indices.numpy(), arg)
    assert indices.dtype == np.int64 and not indices.requires_grad
    assert values.requires_grad
    # the function spelling and the positional (PyTorch) spelling are the same named tuple
    np.testing.assert_array_equal(getattr(minigrad, name)(t, dim=dim, keepdim=keepdim).values.numpy(), values.numpy())
    for positional in (getattr(t, name)(dim, keepdim), getattr(minigrad, name)(t, dim, keepdim)):
        assert isinstance(positional, reduction.ValuesIndices)
        np.testing.assert_array_equal(positional[0].numpy(), values.numpy())
        np.testing.assert_array_equal(positional[1].numpy(), arg)
    # NumPy's spelling axis= returns the values only
    by_axis = getattr(t, name)(axis=dim, keepdims=keepdim)
    assert isinstance(by_axis, minigrad.Tensor)
    np.testing.assert_array_equal(by_axis.numpy(), values.numpy())
    # the gradient of the values is one-hot at the indices
    values.sum().backward()
    want = np.zeros(x.shape)
    np.put_along_axis(want, arg if keepdim else np.expand_dims(arg, dim), 1.0, axis=dim)
    np.testing.assert_array_equal(t.grad.numpy(), want)


def test_max_min_overloads_as_pytorch():
    """x.max() is the max; x.max(1)[1] the argmax (ported classifiers); x.max(other) the elementwise maximum."""
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    t = minigrad.tensor(x)
    assert t.max().item() == 7.0 and minigrad.min(t).item() == 0.0
    assert t.max(1)[1].tolist() == [1, 0] and t.min(0).indices.tolist() == [0, 1, 0]
    assert minigrad.max(t, -1, True).values.shape == (2, 1)
    other = minigrad.tensor([[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]])
    np.testing.assert_array_equal(t.max(other).numpy(), np.maximum(x, 3.0))
    np.testing.assert_array_equal(minigrad.min(t, other).numpy(), np.minimum(x, 3.0))
    with pytest.raises(TypeError, match="max: dim must be an int"):
        t.max((0, 1))
    with pytest.raises(TypeError, match="min: give axis or dim"):
        t.min(0, axis=1)
    with pytest.raises(TypeError, match="max: with a tensor"):
        t.max(other, keepdim=True)
    np.testing.assert_array_equal(t.max(axis=(0, 1)).numpy(), 7.0)  # NumPy's tuple axis: values


def test_argmax_argmin():
    x = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]])
    t = minigrad.tensor(x)
    assert t.argmax().item() == 3 and t.argmin().item() == 4
    np.testing.assert_array_equal(t.argmax(dim=1).numpy(), [1, 0])
    np.testing.assert_array_equal(minigrad.argmin(t, axis=0, keepdims=True).numpy(), [[0, 1, 0]])


def test_axis_and_dim_together_is_an_error():
    with pytest.raises(TypeError, match="axis or dim"):
        minigrad.sum(minigrad.ones(2, 2), axis=0, dim=1)


# --- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["max", "min"])
def test_tied_extrema_share_the_gradient(name):
    x = minigrad.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]) * (1 if name == "max" else -1), requires_grad=True)
    getattr(x, name)(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x.grad = None
    getattr(x, name)().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


# --- var and std (composed of mean, sub, mul, sum, div and sqrt: no primitive of their own) -------


def _reduced_count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    return int(np.prod([shape[a] for a in (axis if isinstance(axis, tuple) else (axis,))]))


MOMENTS = {"var": np.var, "std": np.std}
MOMENT_STYLES = ["function", "method", "torch", "positional", "unbiased"]


def moment(x, name, style, axis, keepdims, correction):
    """Call var or std in one of its spellings; ``correction`` None means the default (1)."""
    kwargs = {} if correction is None else {"correction": correction}
    if style == "function":
        return getattr(minigrad, name)(x, axis=axis, keepdims=keepdims, **kwargs)
    if style == "method":
        return getattr(x, name)(axis=axis, keepdims=keepdims, **kwargs)
    if style == "torch":
        return getattr(x, name)(dim=axis, keepdim=keepdims, **kwargs)
    if style == "positional" and correction in (None, 0, 1):  # PyTorch's var(dim, unbiased, keepdim)
        return getattr(x, name)(axis, correction != 0, keepdims)
    if style == "unbiased" and correction in (None, 0, 1):
        return getattr(minigrad, name)(x, dim=axis, keepdim=keepdims, unbiased=correction != 0)
    return getattr(x, name)(dim=axis, keepdim=keepdims, **kwargs)


@st.composite
def moment_case(draw, min_dims=0):
    shape, axis, keepdims, _ = draw(reduction_case(min_dims))
    correction = draw(st.sampled_from([None, 0, 1, 2, 0.5]))
    return shape, axis, keepdims, correction, draw(st.sampled_from(MOMENT_STYLES))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MOMENTS))
@given(case=moment_case(), data=st.data())
def test_var_std_forward_matches_numpy_and_pytorch(name, dtype, case, data):
    shape, axis, keepdims, correction, style = case
    x = data.draw(arrays(shape, dtype=dtype))
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # N <= correction: nan or inf, as NumPy and PyTorch
        warnings.simplefilter("ignore")
        out = moment(minigrad.tensor(x), name, style, axis, keepdims, correction)
        ddof = 1 if correction is None else correction
        want = MOMENTS[name](x, axis=axis, keepdims=keepdims, ddof=ddof)
        assert out.shape == np.shape(want) and out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)
        torch = pytest.importorskip("torch")
        t = torch.from_numpy(x)
        dim = None if axis is None or not shape else axis  # PyTorch's dim takes a tuple or an int
        theirs = getattr(torch, name)(t, dim=dim, keepdim=keepdims, correction=ddof)
        np.testing.assert_allclose(out.numpy(), theirs.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-6)


def test_var_std_legacy_pytorch_spellings():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    t, tt = minigrad.tensor(x), torch.from_numpy(x)
    for name in ("var", "std"):
        for ours, theirs in (
            (getattr(t, name)(False), getattr(tt, name)(False)),  # var(unbiased)
            (getattr(t, name)(1, False), getattr(tt, name)(1, False)),  # var(dim, unbiased)
            (getattr(minigrad, name)(t, 0, True, True), getattr(torch, name)(tt, 0, True, True)),  # ..., keepdim
            (getattr(t, name)(), getattr(tt, name)()),
        ):
            assert ours.shape == tuple(theirs.shape)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(MOMENTS))
@with_device
@given(case=moment_case(), data=st.data())
def test_var_std_gradient(name, case, data, device):
    shape, axis, keepdims, correction, style = case
    n = _reduced_count(shape, axis)
    assume(n > (1 if correction is None else correction))  # else nan or inf: nothing to differentiate
    x = data.draw(distinct_arrays(shape) if name == "std" else arrays(shape))  # std: no 0 (where sqrt has a kink)
    check_gradients(lambda t: moment(t, name, style, axis, keepdims, correction), x, device=device)


@pytest.mark.parametrize("name", sorted(MOMENTS))
@given(case=moment_case(), data=st.data())
def test_second_order_var_std(name, case, data):
    shape, axis, keepdims, correction, style = case
    assume(_reduced_count(shape, axis) > (1 if correction is None else correction))
    x = data.draw(distinct_arrays(shape) if name == "std" else arrays(shape))
    check_second_order(lambda t: moment(t, name, style, axis, keepdims, correction), x)


def test_std_of_equal_elements_has_gradient_zero_as_pytorch():
    x = minigrad.tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], dtype=minigrad.float64, requires_grad=True)
    x.std(dim=1).sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_array_equal(x.grad.numpy()[0], 0.0)
    torch = pytest.importorskip("torch")
    tx = torch.tensor(x.numpy(), requires_grad=True)
    tx.std(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(MOMENTS))
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda f, t: f(t, dim=3), minigrad.IndexOutOfRange, r"dim 3 is out of range .*\(2, 3, 4\)"),
        (lambda f, t: f(t, axis=(0, -4)), minigrad.IndexOutOfRange, "dim -4 is out of range"),
        (lambda f, t: f(t, dim=(1, -2)), minigrad.ShapeError, "more than once"),
        (lambda f, t: f(t.long()), minigrad.DTypeError, "floating-point.*int64"),
        (lambda f, t: f(t, unbiased=False, correction=0), TypeError, "correction or unbiased"),
        (lambda f, t: f(t, 0, dim=1), TypeError, "axis or dim"),
    ],
)
def test_var_std_bad_arguments_name_the_op(name, call, error, message):
    with pytest.raises(error, match=f"^{name}: .*{message}"):
        call(getattr(minigrad, name), minigrad.ones(2, 3, 4))


# --- stability --------------------------------------------------------------------------------------


def _no_float_warnings():
    class Guard:
        def __enter__(self):
            self._w = warnings.catch_warnings()
            self._w.__enter__()
            warnings.simplefilter("error")
            self._e = np.errstate(over="raise", invalid="raise", divide="raise")
            self._e.__enter__()

        def __exit__(self, *exc):
            self._e.__exit__(*exc)
            return self._w.__exit__(*exc)

    return Guard()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale", [1e4, -1e4])
def test_large_logits_are_finite_and_exact(dtype, scale):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((3, 5)) * scale).astype(dtype)
    x[0, :2] = x[0, 0]  # a tie at the top
    x[1] = scale + np.arange(5, dtype=dtype) * dtype(0.5)  # close logits far from 0: exp(x) alone would overflow
    t = minigrad.tensor(x, requires_grad=True)
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-13, "atol": 1e-13}
    with _no_float_warnings():
        lse = t.logsumexp(dim=1)
        sm = t.softmax(dim=1)
        lsm = t.log_softmax(dim=1)
        (lse.sum() + (sm * sm).sum() + lsm[:, 0].sum()).backward()
    x64 = x.astype(np.float64)
    for out, want in ((lse, _logsumexp_ref(x64, 1)), (sm, _softmax_ref(x64, 1)), (lsm, _log_softmax_ref(x64, 1))):
        assert out.dtype == dtype
        assert np.all(np.isfinite(out.numpy()))
        np.testing.assert_allclose(out.numpy(), want, **tol)
    assert np.all(np.isfinite(t.grad.numpy()))


def test_logsumexp_of_minus_infinity():
    """A row of -inf has logsumexp -inf (log 0, as PyTorch), not nan; -inf entries get probability 0."""
    x = minigrad.tensor(np.array([[-np.inf, -np.inf], [-np.inf, 0.0]]))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x.logsumexp(axis=1)
        sm = x.softmax(dim=1)
    np.testing.assert_array_equal(out.numpy(), [-np.inf, 0.0])
    np.testing.assert_array_equal(sm.numpy()[1], [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_gradient_is_softmax_for_large_logits(dtype):
    x = (np.random.default_rng(1).standard_normal((2, 4)) * 1e4).astype(dtype)
    t = minigrad.tensor(x, requires_grad=True)
    t.logsumexp(dim=-1).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), _softmax_ref(x, -1), rtol=1e-5, atol=1e-7)


# --- kink signatures ---------------------------------------------------------------------------------


def _signatures(fn, x):
    with minigrad.record_signatures() as rec:
        fn(minigrad.tensor(x))
    return rec.log


@pytest.mark.parametrize(("name", "sign"), [("max", 1.0), ("min", -1.0)])
def test_max_signature_changes_exactly_at_a_tie(name, sign):
    x = sign * np.array([[2.0, 2.0, 0.0], [3.0, 1.0, 1.0]])  # row 0: a tie for the extremum; row 1: a tie below it

    def fn(t):
        return getattr(t, name)(axis=1)

    def crosses(i, j, h=1e-6):
        lo, hi = x.copy(), x.copy()
        lo[i, j] -= h
        hi[i, j] += h
        (_, _, a), (_, _, b) = _signatures(fn, lo)[0], _signatures(fn, hi)[0]
        return not np.array_equal(a, b)

    assert [[crosses(i, j) for j in range(3)] for i in range(2)] == [[True, True, False], [False, False, False]]


def test_smooth_reductions_record_no_signature():
    x = np.array([[1.0, 1.0], [0.0, 2.0]])
    for fn in (minigrad.sum, minigrad.mean, minigrad.logsumexp, minigrad.softmax, minigrad.log_softmax):
        assert _signatures(fn, x) == []


@pytest.mark.parametrize("name", ["any", "all"])
@given(data=st.data())
def test_any_all_match_numpy_in_every_spelling(name, data):
    shape = data.draw(shapes())
    x = data.draw(arrays(shape, st.sampled_from([0.0, 1.0, -2.0])))
    axis = data.draw(st.none() | st.integers(-max(len(shape), 1), max(len(shape), 1) - 1)) if shape else None
    keep = data.draw(st.booleans())
    t = minigrad.tensor(x, requires_grad=True)
    want = getattr(np, name)(x, axis=axis, keepdims=keep)
    for out in (
        getattr(minigrad, name)(t, axis, keep),
        getattr(t, name)(dim=axis, keepdim=keep),
        getattr(t, name)(axis=axis, keepdims=keep),
    ):
        assert out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), want)


def test_any_all_tuple_dims_empty_and_errors(device):
    t = minigrad.tensor([[0, 2], [0, 0]], device=device)
    assert t.any().item() and not t.all().item()
    assert t.any(dim=(0, 1)).item() and t.any(1).tolist() == [True, False]
    assert minigrad.all(minigrad.zeros(0)).item() and not minigrad.any(minigrad.zeros(0)).item()
    with pytest.raises(TypeError, match="any: give axis or dim"):
        t.any(0, axis=1)
    with pytest.raises(minigrad.IndexOutOfRange, match="all: axis 2 is out of bounds"):
        t.all(2)

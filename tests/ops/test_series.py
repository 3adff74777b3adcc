"""diff, trapezoid, trapz, cumulative_trapezoid, cov and corrcoef (minigrad.ops.series).

Composites of slices, sums, cumsum and matmul: forwards against NumPy (and
SciPy's formula for the cumulative rule, written out), gradcheck in float64
on hypothesis shapes with empty dimensions, and errors.
"""

import warnings

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


@st.composite
def _array_and_dim(draw, min_side=0):
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=min_side))
    return draw(arrays(shape)), draw(st.integers(-len(shape), len(shape) - 1))


# --- diff ------------------------------------------------------------------------------------------------------


@with_device
@given(xd=_array_and_dim(), n=st.integers(0, 4), data=st.data())
def test_diff_matches_numpy(xd, n, data, device):
    x, dim = xd
    d = dim % x.ndim
    extra = {}
    for name in ("prepend", "append"):
        if data.draw(st.booleans()):
            shape = list(x.shape)
            shape[d] = data.draw(st.integers(0, 2))
            extra[name] = data.draw(arrays(tuple(shape)))
    want = np.diff(x, n, axis=dim, **extra)
    t = _t(x, device)
    targs = {k: _t(v, device) for k, v in extra.items()}
    np.testing.assert_allclose(_np(minigrad.diff(t, n, dim, **targs)), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_np(t.diff(n=n, dim=dim, **targs)), want, rtol=1e-12, atol=1e-12)
    names = list(extra)
    check_gradients(
        lambda a, *rest: minigrad.diff(a, n, dim, **dict(zip(names, rest))), x, *extra.values(), device=device
    )


def test_diff_of_booleans_scalars_and_errors():
    b = _t([True, False, False, True])
    np.testing.assert_array_equal(minigrad.diff(b).numpy(), np.diff(b.numpy()))
    assert minigrad.diff(b).dtype == np.bool_
    x = minigrad.arange(5.0)
    np.testing.assert_array_equal(
        minigrad.diff(x, prepend=minigrad.tensor(10.0)).numpy(), np.diff(np.arange(5.0), prepend=10)
    )
    assert minigrad.diff(x, n=7).shape == (0,)
    with pytest.raises(minigrad.ShapeError, match="diff: diff expects input to be at least one-dimensional"):
        minigrad.diff(minigrad.tensor(1.0))
    with pytest.raises(minigrad.ArgumentError, match="diff: order must be non-negative but got -1"):
        minigrad.diff(x, n=-1)
    with pytest.raises(minigrad.ShapeError, match=r"diff: append of shape \(2, 1\) does not fit input of shape \(5,\)"):
        minigrad.diff(x, append=minigrad.ones(2, 1))
    with pytest.raises(minigrad.IndexOutOfRange, match="diff: dim 1 is out of range"):
        minigrad.diff(x, dim=1)


# --- trapezoid rules -------------------------------------------------------------------------------------------------


def _cumulative_ref(y, x, dx, axis):
    yy = np.moveaxis(y, axis, -1)
    if x is None:
        steps = np.full(max(yy.shape[-1] - 1, 0), dx)
    else:
        xx = x if x.ndim == 1 else np.moveaxis(x, axis, -1)
        steps = np.diff(xx, axis=-1)
    areas = steps * (yy[..., 1:] + yy[..., :-1]) / 2
    return np.moveaxis(np.cumsum(areas, axis=-1), -1, axis)


@with_device
@given(yd=_array_and_dim(), data=st.data())
def test_trapezoid_family_matches_numpy(yd, data, device):
    y, dim = yd
    how = data.draw(st.sampled_from(["none", "dx", "x1", "xfull"]))
    n = y.shape[dim]
    x, dx = None, None
    if how == "dx":
        dx = data.draw(st.floats(0.1, 2.0))
    elif how == "x1":
        x = np.sort(data.draw(arrays((n,))))
    elif how == "xfull":
        x = data.draw(arrays(y.shape))
    ty = _t(y, device)
    kwargs = {"dim": dim} if dx is None else {"dim": dim, "dx": dx}
    targ = () if x is None else (_t(x, device),)
    if x is None:
        want = np.trapezoid(y, dx=1.0 if dx is None else dx, axis=dim)
    else:
        want = np.trapezoid(y, x, axis=dim)
    for fn in (minigrad.trapezoid, minigrad.trapz):
        np.testing.assert_allclose(_np(fn(ty, *targ, **kwargs)), want, rtol=1e-10, atol=1e-12)
    cumulative = minigrad.cumulative_trapezoid(ty, *targ, **kwargs)
    ref = _cumulative_ref(y, x, 1.0 if dx is None else dx, dim % y.ndim)
    np.testing.assert_allclose(_np(cumulative), ref, rtol=1e-10, atol=1e-12)
    inputs = (y,) if x is None else (y, x)
    check_gradients(lambda *a: minigrad.trapezoid(*a, **kwargs), *inputs, device=device)
    check_gradients(lambda *a: minigrad.cumulative_trapezoid(*a, **kwargs), *inputs, device=device)


def test_trapezoid_takes_a_number_as_x_and_errors():
    y = minigrad.arange(10.0).reshape(2, 5)
    np.testing.assert_allclose(minigrad.trapezoid(y, 0.5).numpy(), [4.0, 14.0])
    np.testing.assert_allclose(minigrad.trapz(y, dx=2).numpy(), [16.0, 56.0])
    assert minigrad.cumulative_trapezoid(minigrad.zeros(2, 1)).shape == (2, 0)
    np.testing.assert_array_equal(minigrad.trapezoid(minigrad.zeros(2, 0)).numpy(), [0.0, 0.0])
    with pytest.raises(minigrad.ShapeError, match="trapezoid: there must be one `x` value for each sample point"):
        minigrad.trapezoid(y, minigrad.arange(4.0))
    with pytest.raises(minigrad.ArgumentError, match="trapz: give x or dx, not both"):
        minigrad.trapz(y, minigrad.arange(5.0), dx=1.0)
    with pytest.raises(minigrad.ShapeError, match="cumulative_trapezoid: y must have at least one dimension"):
        minigrad.cumulative_trapezoid(minigrad.tensor(1.0))


# --- cov, corrcoef ---------------------------------------------------------------------------------------------


@with_device
@given(
    shape=st.one_of(shapes(min_dims=2, max_dims=2, min_side=1), shapes(min_dims=1, max_dims=1, min_side=1)),
    correction=st.sampled_from([0, 1, 2]),
    weighted=st.sampled_from(["none", "f", "a", "fa"]),
    data=st.data(),
)
def test_cov_matches_numpy(shape, correction, weighted, data, device):
    x = data.draw(arrays(shape))
    observations = shape[-1]
    fw = data.draw(arrays((observations,), st.integers(1, 3), dtype=np.int64)) if "f" in weighted else None
    aw = data.draw(arrays((observations,), st.floats(0.5, 2.0))) if "a" in weighted else None
    kwargs = {"correction": correction}
    if fw is not None:
        kwargs["fweights"] = _t(fw, device)
    if aw is not None:
        kwargs["aweights"] = _t(aw, device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.cov(x, ddof=correction, fweights=fw, aweights=aw)
        got = minigrad.cov(_t(x, device), **kwargs)
        if fw is None and aw is None:
            np.testing.assert_allclose(_np(_t(x, device).cov(correction=correction)), want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_np(got), want, rtol=1e-10, atol=1e-12)
    assert got.shape == want.shape
    total = observations if fw is None else fw.sum()
    if total - correction > 0 and aw is None:
        fn_kwargs = {k: v for k, v in kwargs.items()}
        check_gradients(lambda a: minigrad.cov(a, **fn_kwargs), x, device=device)


def test_cov_weights_second_order_and_warning():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5))
    aw = _t(rng.uniform(0.5, 2.0, 5))
    check_gradients(lambda a: minigrad.cov(a, aweights=aw), x)
    check_second_order(lambda a: minigrad.cov(a), x)
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        out = minigrad.cov(minigrad.ones(2, 1))
    assert np.isnan(out.numpy()).all()
    ints = minigrad.cov(_t([[1, 2, 4], [0, 1, 1]]))
    np.testing.assert_allclose(ints.numpy(), np.cov([[1, 2, 4], [0, 1, 1]]), rtol=1e-6)


def test_cov_errors_leave_the_input_alone():
    x = minigrad.ones(2, 3)
    with pytest.raises(minigrad.ShapeError, match="cov: expected input to have two or fewer dimensions"):
        minigrad.cov(minigrad.ones(1, 2, 3))
    with pytest.raises(minigrad.ShapeError, match="cov: expected fweights to have the same numel as there are"):
        minigrad.cov(x, fweights=_t([1, 2]))
    with pytest.raises(minigrad.DTypeError, match="cov: expected fweights to have an integral dtype"):
        minigrad.cov(x, fweights=_t([1.0, 2.0, 3.0]))
    with pytest.raises(minigrad.DTypeError, match="cov: expected aweights to have a floating point dtype"):
        minigrad.cov(x, aweights=_t([1, 2, 3]))
    with pytest.raises(minigrad.ArgumentError, match="cov: aweights cannot be negative"):
        minigrad.cov(x, aweights=_t([1.0, -2.0, 3.0]))
    np.testing.assert_array_equal(x.numpy(), 1.0)


@with_device
@given(
    shape=st.one_of(shapes(min_dims=2, max_dims=2, min_side=2), shapes(min_dims=1, max_dims=1, min_side=2)),
    data=st.data(),
)
def test_corrcoef_matches_numpy(shape, data, device):
    x = data.draw(arrays(shape, st.floats(-3, 3)))
    centred = x - x.mean(-1, keepdims=True)
    if (np.abs(centred).max(-1) < 1e-2).any():  # a constant row has no correlation (0 / 0)
        return
    want = np.corrcoef(x)
    got = minigrad.corrcoef(_t(x, device))
    np.testing.assert_allclose(_np(got), want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(_np(_t(x, device).corrcoef()), want, rtol=1e-9, atol=1e-12)
    if x.ndim == 2 and shape[0] > 1:
        off = ~np.eye(shape[0], dtype=bool)
        if (np.abs(np.abs(want[off]) - 1) > 1e-3).all():  # away from the clip at +-1
            check_gradients(lambda a: minigrad.corrcoef(a), x, device=device)

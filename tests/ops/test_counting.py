"""bincount, histc, histogram, bucketize, searchsorted and unique_consecutive (minigrad.ops.counting).

Counts and positions have no gradient; here their values against NumPy on
hypothesis inputs (empty ones included), dtypes, the results' place outside
the graph, and errors that leave the inputs as they were.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import with_device

import minigrad
from minigrad.testing import shapes


def _t(a, device="cpu", **kw):
    return minigrad.tensor(a, device=device, **kw)


def _np(t):
    return t.to("cpu").numpy()


ints = hnp.arrays(np.int64, st.integers(0, 12), elements=st.integers(0, 9))


# --- bincount -------------------------------------------------------------------------------------------------


@with_device
@given(x=ints, minlength=st.integers(0, 12), weighted=st.sampled_from([None, np.float32, np.float64, np.int64]))
def test_bincount_matches_numpy(x, minlength, weighted, device):
    if weighted is None:
        got = minigrad.bincount(_t(x, device), minlength=minlength)
        want = np.bincount(x, minlength=minlength)
        assert got.dtype == np.int64
    else:
        w = np.arange(1, x.size + 1).astype(weighted) * (0.5 if weighted != np.int64 else 1)
        got = _t(x, device).bincount(_t(w.astype(weighted), device), minlength)
        want = np.bincount(x, weights=w, minlength=minlength)
        assert got.dtype == (np.float64 if weighted == np.int64 else weighted)  # PyTorch: integer weights -> float64
    np.testing.assert_allclose(_np(got), want, rtol=1e-6)
    assert not got.requires_grad


def test_bincount_has_no_gradient_and_errors():
    w = minigrad.ones(3, requires_grad=True)
    assert not minigrad.bincount(_t([0, 1, 1]), w).requires_grad
    x = _t([1, 2])
    cases = [
        (
            minigrad.ArgumentError,
            "bincount: only supports 1-d non-negative integral inputs, got the value -1",
            _t([-1, 2]),
        ),
        (minigrad.DTypeError, "bincount: only supports 1-d non-negative integral inputs, got dtype float32", _t([1.0])),
        (minigrad.ShapeError, r"bincount: only supports 1-d .* shape \(1, 2\)", _t([[1, 2]])),
        (minigrad.DTypeError, "bincount: only supports 1-d non-negative integral inputs, got dtype bool", _t([True])),
    ]
    for error, message, bad in cases:
        with pytest.raises(error, match=message):
            minigrad.bincount(bad)
    with pytest.raises(minigrad.ArgumentError, match="bincount: minlength should be >= 0"):
        minigrad.bincount(x, minlength=-1)
    with pytest.raises(minigrad.ShapeError, match="bincount: weights should be 1-d and have the same length as input"):
        minigrad.bincount(x, weights=minigrad.ones(3))
    np.testing.assert_array_equal(x.numpy(), [1, 2])


# --- histc, histogram -------------------------------------------------------------------------------------------


floats = hnp.arrays(np.float64, shapes(min_dims=1, max_dims=2, min_side=0, max_side=6), elements=st.floats(-4, 4))


def _histc_ref(x, bins, low, high):
    if low == high and x.size:
        low, high = x.min(), x.max()
    if low == high:
        low, high = low - 1, high + 1
    v = x.ravel()
    v = v[(v >= low) & (v <= high)]
    pos = np.clip(((v - low) * bins / (high - low)).astype(np.int64), 0, bins - 1)
    return np.bincount(pos, minlength=bins)


@with_device
@given(x=floats, bins=st.integers(1, 7), bounds=st.sampled_from([(0, 0), (-1.0, 2.0), (1.0, 1.0), (-3.5, 0.25)]))
def test_histc_counts_elements_in_equal_bins(x, bins, bounds, device):
    got = minigrad.histc(_t(x, device), bins=bins, min=bounds[0], max=bounds[1])
    np.testing.assert_array_equal(_np(got), _histc_ref(x, bins, *bounds))
    assert got.dtype == np.float64 and got.shape == (bins,)
    if bounds != (0, 0) and bounds[0] != bounds[1] and x.size:
        # away from bin edges the linear rule is NumPy's histogram
        edges = np.linspace(bounds[0], bounds[1], bins + 1)
        if np.abs(x.ravel()[:, None] - edges[None, :]).min() > 1e-9:
            np.testing.assert_array_equal(_np(got), np.histogram(x, bins, range=bounds)[0])


def test_histc_cases_and_errors():
    np.testing.assert_array_equal(minigrad.histc(_t([1.0, 2, 1, 4, 7]), bins=4, min=0, max=3).numpy(), [0, 2, 1, 0])
    np.testing.assert_array_equal(minigrad.histc(_t([2.0, 2.0]), bins=4).numpy(), [0, 0, 2, 0])
    np.testing.assert_array_equal(_t([1.0, 2, 1]).histc(4).numpy(), [2, 0, 0, 1])
    np.testing.assert_array_equal(minigrad.histc(minigrad.zeros(0), bins=3).numpy(), [0, 0, 0])
    with pytest.raises(minigrad.DTypeError, match="histc: expects a floating-point tensor, got dtype int64"):
        minigrad.histc(_t([1, 2]))
    with pytest.raises(minigrad.ArgumentError, match="histc: max must be larger than min"):
        minigrad.histc(_t([1.0]), bins=2, min=3, max=1)
    with pytest.raises(minigrad.ArgumentError, match="histc: bins must be > 0"):
        minigrad.histc(_t([1.0]), bins=0)


@with_device
@given(x=floats, bins=st.integers(1, 6), ranged=st.booleans(), weighted=st.booleans(), density=st.booleans())
def test_histogram_matches_numpy(x, bins, ranged, weighted, density, device):
    rng = (-2.0, 3.0) if ranged else None
    w = np.linspace(0.5, 2.0, x.size).reshape(x.shape) if weighted else None
    kwargs = {"range": rng, "density": density}
    if weighted:
        kwargs["weight"] = _t(w, device)
    hist, edges = minigrad.histogram(_t(x, device), bins, **kwargs)
    if not x.size and rng is None:
        want_edges = np.linspace(0, 1, bins + 1)
    else:
        want_edges = np.histogram_bin_edges(x, bins, range=rng)
    np.testing.assert_allclose(_np(edges), want_edges, rtol=1e-12)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.histogram(x, want_edges, weights=w, density=density)[0]
    np.testing.assert_allclose(_np(hist), want, rtol=1e-12, atol=1e-12)
    # given edges: the same counts
    hist2, edges2 = _t(x, device).histogram(_t(want_edges, device), weight=kwargs.get("weight"), density=density)
    np.testing.assert_allclose(_np(hist2), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(_np(edges2), want_edges)


def test_histogram_cases_and_errors():
    out = minigrad.histogram(_t([1.0, 2, 1]), bins=4, range=(0.0, 3.0), weight=_t([1.0, 2, 4]))
    np.testing.assert_array_equal(out.hist.numpy(), [0, 5, 2, 0])
    np.testing.assert_allclose(out.bin_edges.numpy(), [0, 0.75, 1.5, 2.25, 3])
    np.testing.assert_allclose(minigrad.histogram(_t([2.0, 2.0]), bins=4).bin_edges.numpy(), [1.5, 1.75, 2, 2.25, 2.5])
    with pytest.raises(minigrad.ArgumentError, match="histogram: bin edges must be increasing"):
        minigrad.histogram(_t([1.0]), _t([0.0, 2.0, 1.0]))
    with pytest.raises(minigrad.ShapeError, match="histogram: weight should have the same shape as input"):
        minigrad.histogram(_t([1.0, 2.0]), 3, weight=_t([1.0]))
    with pytest.raises(minigrad.ArgumentError, match="histogram: min should not exceed max"):
        minigrad.histogram(_t([1.0, 2.0]), 3, range=(2.0, 1.0))
    with pytest.raises(minigrad.DTypeError, match="histogram: expects a floating-point tensor"):
        minigrad.histogram(_t([1, 2]))


# --- bucketize, searchsorted ---------------------------------------------------------------------------------------


sorted_seq = hnp.arrays(np.float64, st.integers(0, 6), elements=st.integers(-5, 5).map(float)).map(np.sort)


@with_device
@given(boundaries=sorted_seq, x=hnp.arrays(np.float64, shapes(0, 2, 0), elements=st.integers(-6, 6).map(float)))
def test_bucketize_and_searchsorted_on_a_1d_sequence(boundaries, x, device):
    b, v = _t(boundaries, device), _t(x, device)
    for right, side in ((False, "left"), (True, "right")):
        want = np.searchsorted(boundaries, x, side=side)
        got = minigrad.bucketize(v, b, right=right)
        np.testing.assert_array_equal(_np(got), want)
        assert got.dtype == np.int64 and got.shape == x.shape
        np.testing.assert_array_equal(_np(minigrad.searchsorted(b, v, right=right)), want)
        np.testing.assert_array_equal(_np(minigrad.searchsorted(b, v, side=side)), want)
        assert minigrad.searchsorted(b, v, side=side, out_int32=True).dtype == np.int32
        assert minigrad.bucketize(v, b, out_int32=True).dtype == np.int32


@with_device
@given(data=st.data())
def test_searchsorted_row_by_row_and_with_a_sorter(data, device):
    lead = data.draw(shapes(min_dims=1, max_dims=2, min_side=0, max_side=3))
    n, m = data.draw(st.integers(0, 5)), data.draw(st.integers(0, 4))
    seq = np.sort(data.draw(hnp.arrays(np.float64, lead + (n,), elements=st.integers(-4, 4).map(float))), axis=-1)
    vals = data.draw(hnp.arrays(np.float64, lead + (m,), elements=st.integers(-5, 5).map(float)))
    for side in ("left", "right"):
        want = np.zeros(vals.shape, dtype=np.int64)
        for idx in itertools.product(*(range(s) for s in lead)):
            want[idx] = np.searchsorted(seq[idx], vals[idx], side=side)
        np.testing.assert_array_equal(_np(minigrad.searchsorted(_t(seq, device), _t(vals, device), side=side)), want)
        # the same sequence shuffled, with the sorter that sorts it
        perm = np.argsort(data.draw(hnp.arrays(np.float64, lead + (n,), elements=st.floats(0, 1))), axis=-1)
        shuffled = np.take_along_axis(seq, perm, axis=-1)
        sorter = np.argsort(perm, axis=-1)  # shuffled[sorter] = seq
        got = minigrad.searchsorted(_t(shuffled, device), _t(vals, device), side=side, sorter=_t(sorter, device))
        np.testing.assert_array_equal(_np(got), want)


def test_search_scalars_and_errors_leave_inputs_alone():
    b = _t([1, 3, 5])
    assert minigrad.bucketize(3, b).item() == 1 and minigrad.searchsorted(b, 3, right=True).item() == 2
    with pytest.raises(minigrad.ArgumentError, match="searchsorted: side and right can't be set to opposites"):
        minigrad.searchsorted(b, _t([3]), right=True, side="left")
    with pytest.raises(
        minigrad.ShapeError, match=r"searchsorted: boundaries tensor should be 1 dimension or .* \[1, 3\]"
    ):
        minigrad.searchsorted(_t([[1, 3, 5]]), _t([3, 4]))
    with pytest.raises(
        minigrad.ShapeError, match=r"bucketize: boundaries tensor must be 1 dimension, but got dim\(2\)"
    ):
        minigrad.bucketize(_t([3]), _t([[1, 3]]))
    with pytest.raises(minigrad.ArgumentError, match="bucketize: boundaries must be sorted"):
        minigrad.bucketize(_t([3]), _t([3, 1]))
    with pytest.raises(minigrad.ArgumentError, match="searchsorted: sorted_sequence must be sorted"):
        minigrad.searchsorted(_t([3, 1]), _t([3]))
    with pytest.raises(minigrad.ArgumentError, match="searchsorted: side can only be 'left' or 'right'"):
        minigrad.searchsorted(b, _t([3]), side="middle")
    with pytest.raises(minigrad.IndexOutOfRange, match="searchsorted: sorter index out of range"):
        minigrad.searchsorted(b, _t([3]), sorter=_t([0, 1, 3]))
    np.testing.assert_array_equal(b.numpy(), [1, 3, 5])


# --- unique_consecutive -------------------------------------------------------------------------------------------


def _runs_ref(rows):
    """Run starts of consecutive equal rows, by a loop."""
    starts = [i for i in range(len(rows)) if i == 0 or not np.array_equal(rows[i], rows[i - 1])]
    inverse, k = [], -1
    for i in range(len(rows)):
        k += i in starts
        inverse.append(k)
    counts = np.diff(starts + [len(rows)])
    return starts, np.array(inverse, dtype=np.int64), counts


@with_device
@given(x=hnp.arrays(np.int64, shapes(0, 3, 0, 4), elements=st.integers(0, 2)), data=st.data())
def test_unique_consecutive_matches_a_loop(x, data, device):
    t = _t(x, device)
    flat = x.reshape(-1)
    starts, inverse, counts = _runs_ref(list(flat))
    values, inv, cnt = minigrad.unique_consecutive(t, return_inverse=True, return_counts=True)
    np.testing.assert_array_equal(_np(values), flat[starts])
    np.testing.assert_array_equal(_np(inv), inverse.reshape(x.shape))
    np.testing.assert_array_equal(_np(cnt), counts)
    np.testing.assert_array_equal(_np(t.unique_consecutive()), flat[starts])
    if x.ndim:
        dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
        moved = np.moveaxis(x, dim, 0)
        starts, inverse, counts = _runs_ref(list(moved))
        values, inv, cnt = minigrad.unique_consecutive(t, True, True, dim=dim)
        np.testing.assert_array_equal(_np(values), np.moveaxis(moved[starts], 0, dim))
        np.testing.assert_array_equal(_np(inv), inverse)
        np.testing.assert_array_equal(_np(cnt), counts)
        one, inv_only = t.unique_consecutive(return_inverse=True, dim=dim)
        np.testing.assert_array_equal(_np(inv_only), inverse)


def test_unique_consecutive_has_no_gradient_and_errors():
    x = _t([1.0, 1.0, 2.0], requires_grad=True)
    assert not minigrad.unique_consecutive(x).requires_grad
    with pytest.raises(minigrad.IndexOutOfRange, match="unique_consecutive: dim 1 is out of range"):
        minigrad.unique_consecutive(x, dim=1)

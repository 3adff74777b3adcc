"""F.conv3d and F.conv_transpose3d: the forward against a direct NumPy sum over kernel offsets, gradcheck in
float64 on hypothesis-drawn geometries (stride, padding, dilation, groups, output_padding), second order, the
two are each other's adjoints, unbatched inputs, and errors naming the op."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.errors import ArgumentError, ShapeError


def conv3d_reference(x, w, b, stride, padding, dilation, groups):
    """out[n, o, t, i, j] = b[o] + sum over the group's channels and the kernel of x_pad * w, term by term."""
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    xp = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding])
    sizes = [(s + 2 * p - d * (k - 1) - 1) // st + 1
             for s, k, st, p, d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation)]  # fmt: skip
    out = np.zeros((n, o, *sizes)) + (0 if b is None else b[None, :, None, None, None])
    og = o // groups
    for a in range(w.shape[2]):
        for bb in range(w.shape[3]):
            for e in range(w.shape[4]):
                starts = [k * d for k, d in zip((a, bb, e), dilation)]
                win = xp[:, :, starts[0] :: stride[0], starts[1] :: stride[1], starts[2] :: stride[2]]
                win = win[:, :, : sizes[0], : sizes[1], : sizes[2]]
                for g in range(groups):
                    out[:, g * og : (g + 1) * og] += np.einsum(
                        "nctij,oc->notij", win[:, g * cg : (g + 1) * cg], w[g * og : (g + 1) * og, :, a, bb, e]
                    )
    return out


GEOMETRY = st.fixed_dictionaries({
    "stride": st.tuples(*[st.integers(1, 2)] * 3),
    "padding": st.tuples(*[st.integers(0, 1)] * 3),
    "dilation": st.tuples(*[st.integers(1, 2)] * 3),
    "groups": st.sampled_from([1, 2]),
    "kernel": st.tuples(st.integers(1, 2), st.integers(1, 2), st.integers(1, 3)),
})  # fmt: skip


def _case(geometry, seed, transposed=False):
    rng = np.random.default_rng(seed)
    k, g = geometry["kernel"], geometry["groups"]
    span = [d * (kk - 1) + 1 for kk, d in zip(k, geometry["dilation"])]
    x = rng.standard_normal((1, 2, *[s + 1 for s in span]) if not transposed else (1, 2, 2, 2, 3))
    w = rng.standard_normal((2, 2 // g, *k))
    return x, w, rng.standard_normal(2)


@given(GEOMETRY, st.integers(0, 10**6))
def test_conv3d_forward_is_the_direct_sum(geometry, seed):
    x, w, b = _case(geometry, seed)
    p = {key: geometry[key] for key in ("stride", "padding", "dilation", "groups")}
    out = F.conv3d(mg.tensor(x), mg.tensor(w), mg.tensor(b), **p)
    np.testing.assert_allclose(out.numpy(), conv3d_reference(x, w, b, **p), rtol=1e-12, atol=1e-12)


@given(GEOMETRY, st.integers(0, 10**6))
def test_conv3d_gradcheck(geometry, seed):
    x, w, b = _case(geometry, seed)
    p = {key: geometry[key] for key in ("stride", "padding", "dilation", "groups")}
    check_gradients(lambda x, w, b: F.conv3d(x, w, b, **p), x, w, b)


@given(GEOMETRY, st.integers(0, 10**6))
def test_conv_transpose3d_gradcheck(geometry, seed):
    x, w, b = _case(geometry, seed, transposed=True)
    p = {key: geometry[key] for key in ("stride", "padding", "dilation", "groups")}
    p["padding"] = tuple(min(pp, d * (k - 1)) for pp, d, k in zip(p["padding"], p["dilation"], geometry["kernel"]))
    p["output_padding"] = tuple(s - 1 for s in p["stride"])
    check_gradients(lambda x, w, b: F.conv_transpose3d(x, w, b, **p), x, w, b)


def test_second_order():
    rng = np.random.default_rng(0)
    x, w = (mg.tensor(rng.standard_normal(s), requires_grad=True) for s in ((1, 2, 3, 3, 3), (2, 2, 2, 1, 2)))
    assert mg.gradgradcheck(lambda x, w: F.conv3d(x, w, stride=(2, 1, 1), padding=1), [x, w])
    y = mg.tensor(rng.standard_normal((1, 2, 2, 2, 2)), requires_grad=True)
    assert mg.gradgradcheck(lambda y, w: F.conv_transpose3d(y, w, stride=2, output_padding=1), [y, w])


@pytest.mark.parametrize("stride, padding, dilation, groups", [(1, 0, 1, 1), (2, 1, 1, 2), ((1, 2, 1), (1, 0, 1),
                                                                                           (2, 1, 1), 1)])  # fmt: skip
def test_conv_transpose3d_is_the_adjoint_of_conv3d(stride, padding, dilation, groups):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 4, 6, 5, 7)), rng.standard_normal((6, 4 // groups, 3, 2, 3))
    y = F.conv3d(mg.tensor(x), mg.tensor(w), None, stride, padding, dilation, groups)
    g = rng.standard_normal(y.shape)
    in_sizes = x.shape[2:]
    triple = lambda v: (v,) * 3 if isinstance(v, int) else v  # noqa: E731
    s, p, d = triple(stride), triple(padding), triple(dilation)
    low = [(h - 1) * st + dd * (k - 1) + 1 - 2 * pp for h, k, st, pp, dd in zip(y.shape[2:], w.shape[2:], s, p, d)]
    output_padding = tuple(i - lo for i, lo in zip(in_sizes, low))
    back = F.conv_transpose3d(mg.tensor(g), mg.tensor(w), None, stride, padding, output_padding, groups, dilation)
    assert back.shape == x.shape
    np.testing.assert_allclose(np.vdot(y.numpy(), g), np.vdot(x, back.numpy()), rtol=1e-12)


def test_a_delta_kernel_shifts_and_unbatched_inputs_work():
    x = np.random.default_rng(2).standard_normal((3, 4, 5, 6))  # unbatched (C, D, H, W)
    w = np.zeros((3, 3, 3, 3, 3))
    for c in range(3):
        w[c, c, 2, 1, 0] = 1.0  # picks x[c, t + 2, i + 1, j]
    out = F.conv3d(mg.tensor(x), mg.tensor(w))
    np.testing.assert_array_equal(out.numpy(), x[:, 2:, 1:4, 0:4])
    same = F.conv3d(mg.tensor(x), mg.tensor(w), padding="same")
    assert same.shape == x.shape
    assert F.conv_transpose3d(mg.tensor(x), mg.tensor(w)).shape == (3, 6, 7, 8)


def test_errors_name_the_op():
    x, w = mg.zeros(1, 4, 3, 3, 3), mg.zeros(2, 4, 2, 2, 2)
    with pytest.raises(ShapeError, match=r"conv3d: expected an \(N, C, D, H, W\) input"):
        F.conv3d(mg.zeros(4, 3, 3), w)
    with pytest.raises(ShapeError, match=r"conv3d: weight must have shape \(out, in/groups, kd, kh, kw\)"):
        F.conv3d(x, mg.zeros(2, 4, 2, 2))
    with pytest.raises(ShapeError, match="conv3d: input of shape .* do not match groups=1"):
        F.conv3d(x, mg.zeros(2, 3, 2, 2, 2))
    with pytest.raises(ShapeError, match="conv3d: .* does not fit the input"):
        F.conv3d(x, mg.zeros(2, 4, 4, 2, 2))
    with pytest.raises(ShapeError, match=r"conv3d: bias must have shape \(2,\)"):
        F.conv3d(x, w, mg.zeros(3))
    with pytest.raises(ShapeError, match="conv3d: stride must be an int or a triple of ints"):
        F.conv3d(x, w, stride=(1, 2))
    with pytest.raises(ArgumentError, match="conv3d: padding='same' is not supported for strided convolutions"):
        F.conv3d(x, w, stride=2, padding="same")
    with pytest.raises(ShapeError, match="conv_transpose3d: output padding must be smaller than either stride"):
        F.conv_transpose3d(x, mg.zeros(4, 2, 2, 2, 2), output_padding=1)
    with pytest.raises(ShapeError, match="conv_transpose3d: input of shape .* do not match groups=1"):
        F.conv_transpose3d(x, mg.zeros(3, 2, 2, 2, 2))

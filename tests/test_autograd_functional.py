"""minigrad.autograd.functional: vjp, jvp (double vjp), jacobian, hessian, hvp, vhp, with PyTorch's conventions.

- <v, J u> = <J^T v, u> for jvp against vjp on every primitive of the op table, on its own cases;
- jacobian against a central-difference Jacobian (both strategies), hessian against central differences
  of the gradient, and symmetric;
- the return conventions (tuples follow tuple inputs / outputs), create_graph, strict and the errors.
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "ops"))
from ophelpers import arrays, values  # noqa: E402
from optable import BY_NAME  # noqa: E402

import minigrad as mg  # noqa: E402
from minigrad.autograd.functional import hessian, hvp, jacobian, jvp, vhp, vjp  # noqa: E402
from minigrad.errors import ArgumentError, DTypeError, GraphError, ShapeError  # noqa: E402

NAMES = sorted(BY_NAME)
EXAMPLES = 6  # per op: the identity is exact up to rounding, so a few cases each over 80 ops suffice


def _t(a, device="cpu", requires_grad=False):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad, device=device)


def _host(t):
    return t.to("cpu").numpy()


def _numerical_jacobian(f, xs, eps=1e-6):
    """Central differences of f (arrays -> array) at the arrays xs: one (out.size, x.size) matrix per input."""
    xs = [np.array(x, dtype=np.float64) for x in xs]
    out = np.asarray(f(*xs))
    blocks = []
    for x in xs:
        block = np.zeros((out.size, x.size))
        flat = x.reshape(-1)
        for i in range(x.size):
            old = flat[i]
            flat[i] = old + eps
            plus = np.asarray(f(*xs)).ravel()
            flat[i] = old - eps
            minus = np.asarray(f(*xs)).ravel()
            flat[i] = old
            block[:, i] = (plus - minus) / (2 * eps)
        blocks.append(block)
    return blocks


# --- <v, J u> = <J^T v, u> on every primitive -----------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_jvp_and_vjp_are_adjoint_on_every_primitive(name):
    record = BY_NAME[name]

    @settings(max_examples=min(EXAMPLES, settings().max_examples))
    @given(case=record.case, seed=st.integers(0, 2**31))
    def check(case, seed):
        tensors = [
            mg.tensor(a) if i in case.constant else _t(a) for i, a in enumerate(case.arrays)
        ]  # constants keep their dtype
        slots = case.differentiable

        def fn(*xs):
            args = list(tensors)
            for i, x in zip(slots, xs):
                args[i] = x
            return record.call(*args, **case.params)

        xs = tuple(tensors[i] for i in slots)
        rng = np.random.default_rng(seed)
        us = tuple(_t(rng.standard_normal(x.shape)) for x in xs)
        out = fn(*xs)
        v = _t(rng.standard_normal(out.shape))
        out_j, ju = jvp(fn, xs, us)
        out_v, jtv = vjp(fn, xs, v)
        assert isinstance(jtv, tuple) and len(jtv) == len(xs) and not isinstance(ju, tuple)
        assert ju.shape == out.shape and all(g.shape == x.shape for g, x in zip(jtv, xs))
        np.testing.assert_allclose(_host(out_j), _host(out), rtol=1e-12)
        left = float((_host(v) * _host(ju)).sum())
        right = sum(float((_host(g) * _host(u)).sum()) for g, u in zip(jtv, us))
        scale = float(np.abs(_host(v)).sum() * np.abs(_host(ju)).max(initial=0.0)) + sum(
            float(np.abs(_host(g) * _host(u)).sum()) for g, u in zip(jtv, us)
        )
        assert abs(left - right) <= 1e-10 * scale + 1e-12, (left, right)

    check()


# --- jacobian against central differences ---------------------------------------------------------------


_W = np.random.default_rng(1).standard_normal((3, 4))


def _mg_two_in_two_out(a, b):
    w = _t(_W, a.device)
    return (a @ w).tanh() * b, (a * a).sum(axis=1)


def _np_two_in_two_out(a, b):
    return np.tanh(a @ _W) * b, (a * a).sum(axis=1)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
@settings(max_examples=8)
@given(a=arrays((2, 3), values(-2, 2)), b=arrays((2, 4), values(-2, 2)))
def test_jacobian_matches_central_differences(strategy, a, b):
    J = jacobian(_mg_two_in_two_out, (_t(a), _t(b)), strategy=strategy)
    assert isinstance(J, tuple) and len(J) == 2 and all(isinstance(row, tuple) and len(row) == 2 for row in J)
    for i in range(2):
        numeric = _numerical_jacobian(lambda a, b, i=i: _np_two_in_two_out(a, b)[i], [a, b])
        out_shape = _np_two_in_two_out(a, b)[i].shape
        for j, x in enumerate((a, b)):
            assert J[i][j].shape == out_shape + x.shape
            assert not J[i][j].requires_grad
            np.testing.assert_allclose(
                _host(J[i][j]).reshape(numeric[j].shape), numeric[j], rtol=1e-6, atol=1e-8, err_msg=f"J[{i}][{j}]"
            )


def test_jacobian_return_conventions_follow_tuple_inputs_and_outputs(device):
    x = _t([1.0, 2.0, 3.0], device)
    y = _t([0.5, -1.0], device)
    J = jacobian(lambda x: x**2, x)
    assert isinstance(J, mg.Tensor) and J.shape == (3, 3)
    np.testing.assert_allclose(_host(J), np.diag([2.0, 4.0, 6.0]))
    J = jacobian(lambda x: x**2, (x,))
    assert isinstance(J, tuple) and len(J) == 1 and J[0].shape == (3, 3)
    J = jacobian(lambda x, y: x.sum() * y, (x, y))  # one output, two inputs: a tuple over the inputs
    assert isinstance(J, tuple) and [j.shape for j in J] == [(2, 3), (2, 2)]
    J = jacobian(lambda x: (x.sum(), x * 2), x)  # two outputs, one input: a tuple over the outputs
    assert isinstance(J, tuple) and [j.shape for j in J] == [(3,), (3, 3)]
    J = jacobian(lambda x: x.sum(), x)  # a scalar output: the gradient's shape
    assert J.shape == (3,) and J.device == device
    np.testing.assert_allclose(_host(J), [1.0, 1.0, 1.0])


def test_jacobian_of_a_function_ignoring_an_input_is_zero_unless_strict():
    x, y = _t([1.0, 2.0]), _t([3.0])
    J = jacobian(lambda x, y: x * 2, (x, y))
    np.testing.assert_array_equal(_host(J[1]), np.zeros((2, 1)))
    J = jacobian(lambda x, y: x * 2, (x, _t([np.inf])))  # zeros, not inf * 0
    np.testing.assert_array_equal(_host(J[1]), np.zeros((2, 1)))
    with pytest.raises(GraphError, match="does not depend on input 1"):
        jacobian(lambda x, y: x * 2, (x, y), strict=True)
    with pytest.raises(ArgumentError, match="strategy"):
        jacobian(lambda x: x, x, strategy="sideways")


def test_jacobian_with_create_graph_is_differentiable():
    xv = np.array([0.3, -0.8, 1.1])
    x = _t(xv, requires_grad=True)
    J = jacobian(lambda x: x.exp() * x, x, create_graph=True)
    assert J.requires_grad
    (g,) = mg.grad(J.sum(), x)  # d/dx_i of (e^x_i (1 + x_i)) = e^x_i (2 + x_i)
    np.testing.assert_allclose(_host(g), np.exp(xv) * (2 + xv), rtol=1e-12)


# --- hessian ---------------------------------------------------------------------------------------------


def _f_mg(x, y):
    return (x.tanh() * y.sum() + (x * x * x).exp().sin()).sum() + (y * y).logsumexp(axis=0)


def _grad_np(x, y):
    x, y = _t(x, requires_grad=True), _t(y, requires_grad=True)
    return [_host(g) for g in mg.grad(_f_mg(x, y), (x, y))]


@settings(max_examples=10)
@given(x=arrays((3,), values(-1, 1)), y=arrays((2,), values(-1.5, 1.5)))
def test_hessian_agrees_with_central_differences_of_grad_and_is_symmetric(x, y):
    H = hessian(_f_mg, (_t(x), _t(y)))
    sizes = [3, 2]
    full = np.block([[_host(H[i][j]).reshape(sizes[i], sizes[j]) for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(full, full.T, rtol=1e-10, atol=1e-12)
    for i in range(2):
        numeric = _numerical_jacobian(lambda x, y, i=i: _grad_np(x, y)[i], [x, y], eps=1e-5)
        for j in range(2):
            assert H[i][j].shape == (sizes[i], sizes[j])
            np.testing.assert_allclose(_host(H[i][j]), numeric[j], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_hessian_of_a_quadratic_is_its_matrix(strategy, device):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    m = _t(a + a.T, device)

    def f(x):
        return (x * (m @ x)).sum() / 2

    H = hessian(f, _t(rng.standard_normal(4), device), outer_jacobian_strategy=strategy)
    assert isinstance(H, mg.Tensor) and H.shape == (4, 4) and H.device == device
    np.testing.assert_allclose(_host(H), a + a.T, rtol=1e-12, atol=1e-12)


def test_hessian_of_a_matrix_input_has_doubled_shape():
    x = _t(np.arange(6.0).reshape(2, 3) / 6)
    H = hessian(lambda x: (x**3).sum(), x)
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(_host(H).reshape(6, 6), np.diag(6 * _host(x).ravel()), atol=1e-12)


def test_hessian_needs_a_scalar_function_and_strict_catches_a_linear_input():
    x = _t([1.0, 2.0])
    with pytest.raises(ShapeError, match="one element, got shape \\(2,\\)"):
        hessian(lambda x: x * 2, x)
    with pytest.raises(ShapeError, match="a tuple"):
        hessian(lambda x: (x.sum(),), x)
    H = hessian(lambda x, y: (x * x).sum() + y.sum(), (x, _t([1.0])))
    np.testing.assert_array_equal(_host(H[1][1]), [[0.0]])
    with pytest.raises(GraphError, match="does not depend"):
        hessian(lambda x, y: (x * x).sum() + y.sum(), (x, _t([1.0])), strict=True)


# --- hvp and vhp ----------------------------------------------------------------------------------------------


@settings(max_examples=10)
@given(x=arrays((3,), values(-1, 1)), y=arrays((2,), values(-1.5, 1.5)), seed=st.integers(0, 2**31))
def test_hvp_and_vhp_equal_the_hessian_times_v(x, y, seed):
    rng = np.random.default_rng(seed)
    vs = (_t(rng.standard_normal(3)), _t(rng.standard_normal(2)))
    H = hessian(_f_mg, (_t(x), _t(y)))
    want = [sum(_host(H[i][j]) @ _host(vs[j]) for j in range(2)) for i in range(2)]
    out_h, hv = hvp(_f_mg, (_t(x), _t(y)), vs)
    out_v, vh = vhp(_f_mg, (_t(x), _t(y)), vs)
    np.testing.assert_allclose(_host(out_h), _host(_f_mg(_t(x), _t(y))), rtol=1e-12)
    assert isinstance(hv, tuple) and isinstance(vh, tuple)
    for i in range(2):
        np.testing.assert_allclose(_host(hv[i]), want[i], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(_host(vh[i]), want[i], rtol=1e-9, atol=1e-12)


def test_hvp_single_input_and_create_graph():
    xv = np.array([0.5, -1.0])
    x = _t(xv, requires_grad=True)
    v = _t([1.0, 2.0])
    out, hv = hvp(lambda x: (x**4).sum(), x, v, create_graph=True)
    np.testing.assert_allclose(_host(hv), 12 * xv**2 * [1.0, 2.0])
    assert hv.requires_grad and out.requires_grad
    (g,) = mg.grad(hv.sum(), x)
    np.testing.assert_allclose(_host(g), 24 * xv * [1.0, 2.0])
    out, vh = vhp(lambda x: (x**4).sum(), x, v)
    assert not vh.requires_grad and not out.requires_grad
    with pytest.raises(ShapeError, match="v can be left out only"):
        hvp(lambda x: (x**4).sum(), x)


# --- vjp and jvp conventions ---------------------------------------------------------------------------------


def test_vjp_and_jvp_return_outputs_and_products_in_the_inputs_shape_conventions(device):
    x = _t([1.0, 2.0], device)
    out, g = vjp(lambda x: (x**2).sum(), x)  # a scalar output: v may be left out
    assert isinstance(out, mg.Tensor) and isinstance(g, mg.Tensor) and not g.requires_grad
    np.testing.assert_allclose(_host(g), [2.0, 4.0])
    out, g = vjp(lambda x: x * 3, (x,), _t([1.0, -1.0], device))
    assert isinstance(g, tuple) and len(g) == 1
    np.testing.assert_allclose(_host(g[0]), [3.0, -3.0])
    outs, g = vjp(lambda x: (x * 3, x.sum()), x, (_t([1.0, 1.0], device), _t(2.0, device)))
    assert isinstance(outs, tuple) and len(outs) == 2
    np.testing.assert_allclose(_host(g), [5.0, 5.0])
    s = _t(1.5, device)
    out, ju = jvp(lambda s: s * x, s)  # a one-element input: v may be left out
    np.testing.assert_allclose(_host(ju), [1.0, 2.0])
    outs, ju = jvp(lambda x: (x * 3, x.sum()), x, _t([1.0, 2.0], device))
    assert isinstance(ju, tuple) and len(ju) == 2
    np.testing.assert_allclose(_host(ju[0]), [3.0, 6.0])
    np.testing.assert_allclose(_host(ju[1]), 3.0)


def test_vjp_and_jvp_leave_the_inputs_graph_alone_unless_create_graph():
    x = _t([1.0, 2.0], requires_grad=True)
    out, g = vjp(lambda x: (x**3).sum(), x)
    assert not out.requires_grad and not g.requires_grad and x.grad is None
    out, g = vjp(lambda x: (x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    (h,) = mg.grad(g.sum(), x)
    np.testing.assert_allclose(_host(h), [6.0, 12.0])
    out, ju = jvp(lambda x: x**3, x, _t([1.0, 1.0]), create_graph=True)
    (h,) = mg.grad(ju.sum(), x)
    np.testing.assert_allclose(_host(h), [6.0, 12.0])
    assert x.grad is None


def test_vjp_and_jvp_errors_name_the_function():
    x = _t([1.0, 2.0])
    with pytest.raises(ShapeError, match="vjp: v can be left out only"):
        vjp(lambda x: x * 2, x)
    with pytest.raises(ShapeError, match=r"vjp: v\[0\] has shape \(3,\)"):
        vjp(lambda x: x * 2, x, _t([1.0, 2.0, 3.0]))
    with pytest.raises(ArgumentError, match="jvp: v has 2 tensors"):
        jvp(lambda x: x * 2, x, (x, x))
    with pytest.raises(TypeError, match=r"vjp: inputs\[0\] must be a Tensor, got float"):
        vjp(lambda x: x, [1.0, 2.0])
    with pytest.raises(TypeError, match="the output of func must be a Tensor"):
        vjp(lambda x: 3.0, x)
    with pytest.raises(DTypeError, match="floating point"):
        jacobian(lambda x: x, mg.tensor([1, 2]))
    with pytest.raises(GraphError, match="jvp: output 0 of func"):
        jvp(lambda x: _t([1.0]), x, x, strict=True)
    with pytest.raises(GraphError, match="vjp: the output of func does not depend on input 0"):
        vjp(lambda x: _t(1.0), x, strict=True)
    out, g = vjp(lambda x: _t(1.0), x)
    np.testing.assert_array_equal(_host(g), [0.0, 0.0])


def test_names_are_reachable_as_pytorch_spells_them():
    import minigrad as torch
    import minigrad.autograd.functional as AF

    assert torch.autograd.functional is AF
    assert torch.autograd.Function is mg.Function
    assert torch.autograd.gradcheck is mg.gradcheck and torch.autograd.gradgradcheck is mg.gradgradcheck

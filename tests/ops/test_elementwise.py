"""Elementwise primitives (minigrad.ops.elementwise): what is particular to them.

Each op's forward against NumPy, gradcheck on hypothesis shapes with
broadcasting, second order, float32 gradients, kink signatures and saves are
the generic tests of test_optable.py, over the op's record in optable.py.
Here: constants as operands (Python numbers, NumPy arrays, either side),
pow's special points, ties, masked_fill, casts, sigmoid's stability, how
signatures change across kinks, and errors.
"""

import operator
import warnings

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import (
    DTYPES,
    arrays,
    check_second_order,
    separated_pair,
    shapes,
    tolerance,
    values,
    with_device,
)
from optable import BY_NAME

import minigrad
from minigrad.ops import elementwise
from minigrad.primitive import primitive


def _data(shape, dtype, lo=-3.0, hi=3.0, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(dtype)


# --- forward: what the op table's generic tests do not cover ------------------------------------


BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]  # records of optable.py


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scalar", [2, 2.5])
@pytest.mark.parametrize("name", BINARY)
def test_python_scalar_keeps_tensor_dtype(name, scalar, dtype, device):
    """float32 tensor * 2.0 stays float32, on either side of the operator."""
    record = BY_NAME[name]
    function, ref = record.call, record.reference
    a = _data((2, 3), dtype, 0.5, 2.0)
    t = minigrad.tensor(a, device=device)
    for out, want in ((function(t, scalar), ref(a, scalar)), (function(scalar, t), ref(scalar, a))):
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want, **tolerance(dtype))
    if "operator" in record.spellings:
        operator_form = record.spellings["operator"]
        assert operator_form(t, scalar).dtype == dtype
        assert operator_form(scalar, t).dtype == dtype


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_array_operand_follows_numpy_promotion(dtype):
    a = _data((2, 3), dtype)
    c = _data((3,), np.float64, seed=1)
    t = minigrad.tensor(a)
    for out, want in ((t * c, a * c), (c * t, c * a), (c - t, c - a), (t / (c + 4), a / (c + 4))):
        assert out.dtype == want.dtype
        np.testing.assert_allclose(out.numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_forward(dtype, device):
    a, b = _data((2, 3), dtype), _data((3,), dtype, seed=1)
    cond = a > 0
    ta, tb = minigrad.tensor(a, device=device), minigrad.tensor(b, device=device)
    cases = [
        (minigrad.where(minigrad.tensor(cond, device=device), ta, tb), np.where(cond, a, b)),
        (minigrad.where(ta > 0, ta, 0.0), np.where(cond, a, 0.0)),
        (minigrad.where(ta > 0, 1.0, tb), np.where(cond, 1.0, b)),
    ]
    for out, want in cases:
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), want.astype(dtype), **tolerance(dtype))


def test_comparisons_are_boolean_and_not_recorded():
    x = minigrad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    for out, want in ((x > 2, [False, False, True]), (x <= 2, [True, True, False]), (x == 2, [False, True, False])):
        assert out.dtype == np.bool_
        assert not out.requires_grad
        assert out.tolist() == want


# --- gradients with constant operands ------------------------------------------------------------


# Each arithmetic op in its operator spelling, and three in their function spelling too.
WITH_CONSTANTS = [(n, "operator") for n in ("add", "sub", "mul", "div", "pow")] + [
    (n, "call") for n in ("add", "div", "pow")
]


@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("kind", ["python", "numpy"])
@pytest.mark.parametrize(("name", "spelling"), WITH_CONSTANTS)
@given(data=st.data())
def test_binary_gradient_with_constant(name, spelling, kind, side, data):
    """One operand is a constant: a Python number or a NumPy array that may broadcast either way."""
    record = BY_NAME[name]
    op = record.calls()[spelling]
    left, right = record.elements
    x_shape = data.draw(shapes(), label="x shape")
    const_elements, x_elements = (left, right) if side == "left" else (right, left)
    if kind == "python":
        const = data.draw(const_elements, label="constant")
    else:
        c_shape = data.draw(hnp.broadcastable_shapes(x_shape, max_dims=3, max_side=4), label="constant shape")
        const = data.draw(arrays(c_shape, const_elements), label="constant")
    x = data.draw(arrays(x_shape, x_elements), label="x")
    if side == "left":
        check_gradients(lambda t: op(const, t), x)
    else:
        check_gradients(lambda t: op(t, const), x)


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5, 2.0])
@given(data=st.data())
def test_pow_with_python_exponent(exponent, data):
    if float(exponent).is_integer():
        x = data.draw(arrays(shapes(), values(-2.0, 2.0)))
    else:
        x = data.draw(arrays(shapes(), values(0.3, 2.0)))
    check_gradients(lambda t: t**exponent, x)
    check_gradients(lambda t: t.pow(exponent), x)


@pytest.mark.parametrize("base", [2, 2.0, 0.5, np.float64(3.0), np.float32(3.0)])
@given(data=st.data())
def test_pow_with_constant_base(base, data):
    """2 ** x: only the exponent is a tensor; d/dx = 2^x log 2."""
    x = data.draw(arrays(shapes(), values(-2.0, 2.0)))
    check_gradients(lambda t: base**t, x)
    y = minigrad.tensor(x, requires_grad=True)
    (base**y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), np.power(float(base), x) * np.log(float(base)), rtol=1e-6)


def test_pow_exponent_gradient_where_base_is_zero():
    """d(a^b)/db = a^b log a -> 0 at a = 0 (where a^b = 0 for b > 0), not nan."""
    a = minigrad.tensor(np.array([0.0, 2.0]))
    b = minigrad.tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 8 * np.log(2.0)])


@pytest.mark.parametrize("exponent", ["int", "float", "tensor", "numpy"])
def test_pow_with_zero_exponent_has_zero_base_gradient_at_zero(exponent):
    """d(x^0)/dx = 0 everywhere, also at x = 0 where b x^(b-1) would be 0 * inf (PyTorch gives 0 too)."""
    b = {"int": 0, "float": 0.0, "tensor": minigrad.tensor(np.zeros(3)), "numpy": np.zeros(3)}[exponent]
    x = minigrad.tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (x**b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("kind", ["python", "numpy"])
@pytest.mark.parametrize("op", [minigrad.maximum, minigrad.minimum], ids=["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum_gradient_with_constant(op, kind, data):
    x_shape = data.draw(shapes())
    if kind == "python":
        x, const = data.draw(arrays(x_shape, values(avoid=(0.3,)))), 0.3
    else:
        c_shape = data.draw(hnp.broadcastable_shapes(x_shape, max_dims=3, max_side=4))
        x, const = data.draw(separated_pair(x_shape, c_shape))
    check_gradients(lambda t: op(t, const), x)
    check_gradients(lambda t: op(const, t), x)


def test_maximum_tie_splits_the_gradient():
    a = minigrad.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = minigrad.tensor(np.array([1.0, 3.0, 2.0]), requires_grad=True)
    minigrad.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1.0, 0.0])


def test_nonsmooth_gradients_at_the_kink_follow_pytorch():
    x = minigrad.tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    minigrad.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0])
    x.grad = None
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 0.0, 1.0])
    x.grad = None
    minigrad.clip(x, -1.0, 1.0).sum().backward()  # the bounds themselves pass the gradient
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("constant", ["python", "numpy"])
@given(data=st.data())
def test_where_gradient_with_constant_branch(constant, data):
    x = data.draw(arrays(shapes(), values(avoid=(0.0, 0.5))), label="x")  # the conditions switch at 0 and 0.5
    other = (
        1.5
        if constant == "python"
        else data.draw(arrays(data.draw(hnp.broadcastable_shapes(x.shape, max_dims=3, max_side=4))))
    )
    cond = x > 0  # a NumPy condition
    check_gradients(lambda t: minigrad.where(cond, t, other), x)
    check_gradients(lambda t: minigrad.where(t > 0.5, other, t * t), x)  # a tensor condition


# --- masked_fill (composed of where: no primitive of its own) ------------------------------------


@pytest.mark.parametrize("dtype", [*DTYPES, np.int64])
@pytest.mark.parametrize("spelling", ["function", "method"])
@given(data=st.data())
def test_masked_fill_forward_matches_numpy_and_pytorch(dtype, spelling, data):
    shape_x, shape_m = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    x = data.draw(arrays(shape_x, dtype=np.float64)).astype(dtype)
    mask = data.draw(hnp.arrays(np.bool_, shape_m))
    value = data.draw(st.floats(-5, 5))
    t, m = minigrad.tensor(x), minigrad.tensor(mask)
    out = minigrad.masked_fill(t, m, value) if spelling == "function" else t.masked_fill(m, value)
    want = np.where(mask, np.asarray(value).astype(dtype), x)  # the value is cast to x's dtype first, as PyTorch
    assert out.dtype == dtype and out.shape == want.shape
    np.testing.assert_array_equal(out.numpy(), want)
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(x).masked_fill(torch.from_numpy(mask), value)
    np.testing.assert_array_equal(out.numpy(), theirs.numpy())


@with_device
@given(data=st.data())
def test_masked_fill_gradient(data, device):
    shape_x, shape_m = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4)).input_shapes
    x = data.draw(arrays(shape_x))
    mask = minigrad.tensor(data.draw(hnp.arrays(np.bool_, shape_m)), device=device)
    check_gradients(lambda t: t.masked_fill(mask, 0.5), x, device=device)
    check_gradients(lambda t: minigrad.masked_fill(t * t, mask, -1.0), x, device=device)
    # a 0-d tensor value is differentiable too: it gets the cotangent summed over the masked elements
    v = data.draw(arrays(()))
    check_gradients(lambda t, val: minigrad.masked_fill(t, mask, val), x, v, device=device)


def test_masked_fill_gradient_is_zero_where_masked():
    x = minigrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    mask = minigrad.tensor([True, False, True])
    (x.masked_fill(mask, float("-inf")).softmax(dim=1) * minigrad.tensor([[1.0], [2.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, [0, 2]], 0.0)
    y = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (y.masked_fill(y > 1.5, 0.0) * 3).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [3.0, 0.0, 0.0])


@given(data=st.data())
def test_second_order_masked_fill(data):
    shape_x, shape_m = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    mask = minigrad.tensor(data.draw(hnp.arrays(np.bool_, shape_m)))
    check_second_order(lambda t: (t * t).masked_fill(mask, 2.0).exp(), data.draw(arrays(shape_x)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: t.masked_fill(t > 0, 1.0), None, None),  # fine: a comparison is a bool mask
        (lambda t: t.masked_fill(minigrad.ones(2, 3), 0.0), minigrad.DTypeError, "mask must be a bool.*float32"),
        (lambda t: t.masked_fill(minigrad.ones(4, dtype=minigrad.bool_), 0.0), minigrad.ShapeError, r"\(4,\)"),
        (lambda t: t.masked_fill(t > 0, minigrad.ones(3)), minigrad.ShapeError, "0-d tensor"),
        (lambda t: t.long().masked_fill(t > 0, float("nan")), minigrad.DTypeError, "nan .*int64"),
        (lambda t: t.masked_fill(t > 0, "a"), minigrad.DTypeError, "'a'"),
    ],
)
def test_masked_fill_bad_arguments_name_the_op(call, error, message):
    t = minigrad.ones(2, 3)
    if error is None:
        call(t)
        return
    with pytest.raises(error, match=f"^masked_fill: .*{message}"):
        call(t)


# --- dtype casts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "dst", "cast"),
    [
        (np.float32, np.float64, lambda t: t.to(minigrad.float64)),
        (np.float64, np.float32, lambda t: t.to(dtype=minigrad.float32)),
        (np.float32, np.float64, lambda t: t.double()),
        (np.float64, np.float32, lambda t: t.float()),
        (np.float32, np.float64, lambda t: t.astype(np.float64)),
        (np.float64, np.float16, lambda t: t.type(minigrad.float16)),
    ],
)
def test_cast_gradient_comes_back_in_the_input_dtype(src, dst, cast, device):
    x = minigrad.tensor(_data((2, 3), src), requires_grad=True, device=device)
    y = cast(x)
    assert y.dtype == dst
    np.testing.assert_array_equal(y.numpy(), x.numpy().astype(dst))
    cotangent = _data((2, 3), dst, seed=3)
    y.backward(minigrad.tensor(cotangent, device=device))
    assert x.grad.dtype == src
    np.testing.assert_array_equal(x.grad.numpy(), cotangent.astype(src))


def test_to_same_dtype_is_the_identity():
    x = minigrad.tensor(np.ones(3, np.float32), requires_grad=True)
    assert x.to(minigrad.float32) is x


def test_clone_owns_its_buffer_and_passes_the_gradient():
    x = minigrad.tensor(np.arange(3.0), requires_grad=True)
    y = x.clone()
    assert y.array is not x.array and not np.shares_memory(y.array, x.array)
    y.backward(minigrad.tensor(np.array([1.0, 2.0, 3.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0])


# --- second order ------------------------------------------------------------------------------


@given(data=st.data())
def test_second_order_pow_with_constant_base_and_exponent(data):
    x = data.draw(arrays(shapes(), values(0.5, 2.0)))
    check_second_order(lambda t: 2.0**t, x)
    check_second_order(lambda t: t**3, x)
    check_second_order(lambda t: t**-0.5, x)


def test_second_derivative_of_tanh_is_exact():
    """d^2 tanh / dx^2 = -2 tanh (1 - tanh^2), through grad of grad."""
    x = minigrad.tensor(np.linspace(-2, 2, 7), requires_grad=True)
    (g,) = minigrad.grad(minigrad.tanh(x).sum(), x, create_graph=True)
    (h,) = minigrad.grad(g.sum(), x)
    t = np.tanh(np.linspace(-2, 2, 7))
    np.testing.assert_allclose(g.numpy(), 1 - t**2, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)


# --- stability -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_does_not_overflow(dtype):
    x = minigrad.tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = minigrad.sigmoid(x)
        y.sum().backward()
    assert y.dtype == dtype
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))
    np.testing.assert_array_equal(y.numpy()[[0, 2, 4]], [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(x.grad.numpy()[[0, 4]], [0.0, 0.0])
    np.testing.assert_allclose(y.numpy()[1], np.exp(-50.0), rtol=1e-6)


# --- kink signatures ----------------------------------------------------------------------------------

KINKED_AT_ZERO = {"abs": lambda x: abs(x), "relu": minigrad.relu, "leaky_relu": minigrad.leaky_relu}


def _signatures(fn, x):
    with minigrad.record_signatures() as rec:
        fn(minigrad.tensor(x))
    return rec.log


def test_smooth_ops_record_no_signature():
    x = minigrad.tensor(np.array([0.5, 1.0]))
    with minigrad.record_signatures() as rec:
        minigrad.tanh(minigrad.exp(x) * 2 + x)
    assert rec.log == []


def test_position_is_the_index_among_all_ops_in_the_block():
    x = minigrad.tensor(np.array([-1.0, 2.0]))
    with minigrad.record_signatures() as rec:
        minigrad.relu(abs(x) - 1.5)  # ops: abs (0), sub (1), relu (2)
    assert [(name, position) for name, position, _ in rec.log] == [("abs", 0), ("relu", 2)]


def _crosses(fn, x, i, h=1e-6):
    """Whether the signatures seen at x - h e_i and x + h e_i differ."""
    lo, hi = x.copy(), x.copy()
    lo[i] -= h
    hi[i] += h
    a, b = _signatures(fn, lo), _signatures(fn, hi)
    assert [(n, p) for n, p, _ in a] == [(n, p) for n, p, _ in b]
    return any(not np.array_equal(sa, sb) for (_, _, sa), (_, _, sb) in zip(a, b))


@pytest.mark.parametrize("name", ["relu", "abs", "leaky_relu"])
def test_signature_changes_exactly_across_the_kink_at_zero(name):
    fn = KINKED_AT_ZERO[name]
    x = np.array([0.0, 1e-9, -1e-9, 0.5, -0.5, 1e-3])
    assert [_crosses(fn, x, i) for i in range(x.size)] == [True, True, True, False, False, False]


def test_clip_signature_changes_at_both_bounds():
    def fn(x):
        return minigrad.clip(x, -1.0, 1.0)

    x = np.array([-1.0, 1.0, 1.0 + 1e-9, 0.0, -1.5, 1.5])
    assert [_crosses(fn, x, i) for i in range(x.size)] == [True, True, True, False, False, False]


@pytest.mark.parametrize("op", [minigrad.maximum, minigrad.minimum], ids=["maximum", "minimum"])
def test_maximum_signature_changes_at_a_tie(op):
    b = minigrad.tensor(np.array([0.0, 1.0, 2.0]))

    def fn(t):
        return op(t, b)

    x = np.array([0.0, 2.0, 2.0 + 1e-9])
    assert [_crosses(fn, x, i) for i in range(3)] == [True, False, True]


def test_nothing_is_recorded_or_computed_outside_the_context(monkeypatch):
    calls = []
    for op in (elementwise.relu, elementwise.abs, elementwise.maximum):
        original = op.signature

        def counting(*args, _original=original, **kwargs):
            calls.append(1)
            return _original(*args, **kwargs)

        monkeypatch.setattr(op, "signature", counting)
    x = minigrad.tensor(np.array([-1.0, 1.0]), requires_grad=True)
    with minigrad.record_signatures() as rec:
        minigrad.relu(x)
    assert len(rec.log) == 1 and len(calls) == 1
    y = minigrad.maximum(abs(minigrad.relu(x)), 0.0)
    y.sum().backward()
    assert len(rec.log) == 1, "an op outside the block was added to its log"
    assert len(calls) == 1, "a signature was computed outside any record_signatures block"


@primitive(saves=(0,))
def _square_through_relu(x):
    """x^2, whose vjp 2 relu(x) + 2 min(x, 0) = 2x runs a kinked op: a recorded backward would log it."""
    return x * x


_square_through_relu.defvjp(lambda g, ans, x: g * (minigrad.relu(x) * 2 + minigrad.minimum(x, 0) * 2))


def test_a_plain_backward_inside_the_context_records_nothing_more():
    """Signatures describe forwards: the vjps of a plain backward run on arrays, so inside the block they
    add no signature, count as no op, and build no node -- even a vjp made of kinked ops."""
    x = minigrad.tensor(np.array([-1.0, 1.0]), requires_grad=True)
    with minigrad.record_signatures() as rec:
        y = minigrad.relu(_square_through_relu(x)).sum()
        ops = rec.ops
        y.backward(retain_graph=True)
        assert [name for name, _, _ in rec.log] == ["relu"]
        assert rec.ops == ops, "a plain backward ran its vjps as recorded ops"
        assert not x.grad.requires_grad, "a plain backward built nodes"
        np.testing.assert_array_equal(x.grad.numpy(), [-2.0, 2.0])
        # the contrast, so that the assertions above can fail: a recorded backward runs the same vjps as ops
        (g,) = minigrad.grad(y, x, create_graph=True)
        assert rec.ops > ops and g.requires_grad
        assert [name for name, _, _ in rec.log] == ["relu", "relu", "minimum"]


# --- errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op", [minigrad.add, minigrad.mul, minigrad.maximum, operator.sub], ids=["add", "mul", "maximum", "sub"]
)
def test_broadcast_mismatch_is_a_shape_error(op):
    with pytest.raises(minigrad.ShapeError) as info:
        op(minigrad.ones(2, 3), minigrad.ones(4))
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert "(2, 3)" in message and "(4,)" in message


def test_broadcast_mismatch_error_names_the_op_and_shapes():
    """What holds whatever the class turns out to be (see the xfail above)."""
    with pytest.raises(minigrad.MinigradError) as info:
        minigrad.ones(2, 3) + minigrad.ones(4)
    message = str(info.value)
    assert message.startswith("add:")
    assert "(2, 3)" in message and "(4,)" in message


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_, np.uint8])
def test_integer_tensor_cannot_require_grad(dtype):
    with pytest.raises(minigrad.DTypeError) as info:
        minigrad.tensor(np.zeros(3, dtype=dtype), requires_grad=True)
    assert isinstance(info.value, TypeError)
    assert str(np.dtype(dtype)) in str(info.value)
    with pytest.raises(minigrad.DTypeError):
        minigrad.tensor([1, 2, 3]).requires_grad_()


def test_a_large_relu_takes_the_pooled_vjp_and_it_checks_to_second_order():
    from minigrad import backend

    n = backend.POOL_MIN_BYTES // 8 + 16  # float64 elements: the cotangent is large enough for relu_grad
    rng = np.random.default_rng(0)
    data = rng.uniform(0.1, 1.0, n) * rng.choice([-1.0, 1.0], n)  # away from the kink
    x = minigrad.tensor(data, requires_grad=True)
    (g,) = minigrad.grad(minigrad.relu(x).sum(), x, create_graph=True)
    assert g._node.op.name == "relu_grad"
    np.testing.assert_array_equal(g.numpy(), data > 0)
    minigrad.gradcheck(lambda t: minigrad.relu(t) ** 2, [x], fast_mode=True)
    minigrad.gradgradcheck(lambda t: minigrad.relu(t) ** 2, [x], fast_mode=True)

"""minigrad.ops.arith: add/sub with alpha, rsub, positive, square, reciprocal, float_power, addcmul/addcdiv
and the in-place pointwise forms (x.exp_(), x.pow_(2), torch.sigmoid_(x), ...).

reciprocal is a primitive: its forward, gradcheck, second order and float32 are the op table's
(tests/ops/optable.py). The composites are gradchecked here on hypothesis shapes that broadcast (empty
dims included); the in-place forms are held to the recorded path's rules: the value and the gradient of the
out-of-place op, the version counter, the refused leaf, dtype errors that leave the tensor as it was.
"""

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import arrays, check_second_order, nonzero, values, with_device

import minigrad as mg
from minigrad.errors import DTypeError, GraphError, ShapeError


def _t(values_, dtype=np.float64, requires_grad=False, device="cpu"):
    return mg.tensor(np.asarray(values_, dtype=dtype), requires_grad=requires_grad, device=device)


def _shapes(n):
    return hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=4, min_side=0)


# --- add / sub / rsub with alpha ------------------------------------------------------------------------


@with_device
@given(shapes=_shapes(2), data=st.data(), alpha=st.sampled_from([1, 2, -0.5, 3.0]))
def test_add_sub_rsub_with_alpha_match_the_formula_and_gradcheck(device, shapes, data, alpha):
    a, b = (data.draw(arrays(s)) for s in shapes.input_shapes)
    ta, tb = _t(a, device=device), _t(b, device=device)
    np.testing.assert_allclose(mg.add(ta, tb, alpha=alpha).numpy(), a + alpha * b, rtol=1e-12)
    np.testing.assert_allclose(ta.add(tb, alpha=alpha).numpy(), a + alpha * b, rtol=1e-12)
    np.testing.assert_allclose(ta.sub(tb, alpha=alpha).numpy(), a - alpha * b, rtol=1e-12)
    np.testing.assert_allclose(ta.subtract(tb, alpha=alpha).numpy(), a - alpha * b, rtol=1e-12)
    np.testing.assert_allclose(mg.rsub(ta, tb, alpha=alpha).numpy(), b - alpha * a, rtol=1e-12)
    check_gradients(lambda x, y: mg.add(x, y, alpha=alpha), a, b, device=device)
    check_gradients(lambda x, y: x.sub(y, alpha=alpha), a, b, device=device)
    check_gradients(lambda x, y: mg.rsub(x, y, alpha=alpha), a, b, device=device)


def test_add_with_alpha_second_order_and_a_number_keeps_the_dtype():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    check_second_order(lambda x, y: mg.add(x * x, y * y, alpha=-2.0), a, b)
    x = _t([1.0, 2.0], dtype=np.float32)
    assert mg.add(x, 1, alpha=3).dtype == np.float32 and mg.add(x, 1, alpha=3).tolist() == [4.0, 5.0]
    assert x.mul(2.5).dtype == np.float32 and x.multiply(x).tolist() == [1.0, 4.0]
    assert x.true_divide(2).tolist() == [0.5, 1.0]


def test_alpha_errors_and_bool_subtraction_as_pytorch():
    i = mg.tensor([1, 2])
    with pytest.raises(DTypeError, match="add: .*alpha must not be a floating point"):
        i.add(i, alpha=0.5)
    assert i.add(i, alpha=2).tolist() == [3, 6]
    b = mg.tensor([True, False])
    with pytest.raises(DTypeError, match="sub: .*bool.*logical_xor"):
        b.sub(b)
    with pytest.raises(DTypeError, match="neg: .*bool.*logical_not"):
        b.neg()
    with pytest.raises(DTypeError, match="positive: .*bool"):
        mg.positive(b)


def test_neg_negative_positive():
    x = _t([1.0, -2.0], requires_grad=True)
    assert mg.positive(x) is x and x.positive() is x
    assert x.neg().tolist() == [-1.0, 2.0] and x.negative().tolist() == [-1.0, 2.0]
    assert mg.negative(mg.tensor([3])).tolist() == [-3]
    check_gradients(lambda t: t.neg(), np.array([1.0, -2.0]))


# --- square, reciprocal, float_power, addcmul, addcdiv ---------------------------------------------------


def test_square_and_reciprocal_dtypes_as_pytorch():
    assert mg.square(mg.tensor([2, 3])).tolist() == [4, 9] and mg.square(mg.tensor([2])).dtype == np.int64
    assert mg.square(mg.tensor([True, False])).dtype == np.int64
    r = mg.reciprocal(mg.tensor([2, 4]))
    assert r.dtype == np.float32 and r.tolist() == [0.5, 0.25]
    assert mg.tensor([2.0], dtype=np.float64).reciprocal().dtype == np.float64


@with_device
@given(shape=st.sampled_from([(3,), (2, 0), (2, 3)]), data=st.data())
def test_square_gradcheck_and_second_order(device, shape, data):
    a = data.draw(arrays(shape))
    np.testing.assert_allclose(mg.square(_t(a, device=device)).numpy(), a * a)
    check_gradients(mg.square, a, device=device)
    if a.size:
        check_second_order(lambda t: t.square(), a)


def test_float_power_is_double_and_gradchecks():
    x = mg.tensor([1.0, 2.0, 3.0])
    out = mg.float_power(x, 2)
    assert out.dtype == np.float64 and out.tolist() == [1.0, 4.0, 9.0]
    assert mg.float_power(mg.tensor([2]), mg.tensor([3])).tolist() == [8.0]
    assert x.float_power(0.5).dtype == np.float64
    check_gradients(lambda a, b: mg.float_power(a, b), np.array([0.5, 1.5, 2.0]), np.array([[1.5], [-0.5]]))
    g = mg.tensor([1.0, 2.0], requires_grad=True)
    mg.float_power(g, 3).sum().backward()
    assert g.grad.dtype == np.float32 and g.grad.tolist() == [3.0, 12.0]


@given(shapes=_shapes(3), data=st.data(), value=st.sampled_from([1, 0.5, -2.0]))
def test_addcmul_addcdiv_match_the_formula_and_gradcheck(shapes, data, value):
    s0, s1, s2 = shapes.input_shapes
    a, b, c = data.draw(arrays(s0)), data.draw(arrays(s1)), data.draw(arrays(s2, nonzero()))
    ta, tb, tc = _t(a), _t(b), _t(c)
    np.testing.assert_allclose(mg.addcmul(ta, tb, tc, value=value).numpy(), a + value * b * c, rtol=1e-12)
    np.testing.assert_allclose(ta.addcdiv(tb, tc, value=value).numpy(), a + value * b / c, rtol=1e-12)
    check_gradients(lambda x, y, z: mg.addcmul(x, y, z, value=value), a, b, c)
    check_gradients(lambda x, y, z: mg.addcdiv(x, y, z, value=value), a, b, c)


def test_addcdiv_of_integers_raises_and_addcmul_second_order():
    i = mg.tensor([1, 2])
    with pytest.raises(DTypeError, match="addcdiv: integer division"):
        mg.addcdiv(mg.tensor([1.0, 1.0]), i, i)
    rng = np.random.default_rng(1)
    check_second_order(lambda x, y, z: mg.addcmul(x, y, z * z, value=0.5), *rng.standard_normal((3, 2, 2)))


# --- in place -------------------------------------------------------------------------------------------

# name of the in-place method -> (the out-of-place function, the domain of the values)
UNARY = {
    "abs_": (mg.abs, values(avoid=(0.0,))),
    "neg_": (mg.neg, values()),
    "negative_": (mg.neg, values()),
    "exp_": (mg.exp, values()),
    "log_": (mg.log, values(0.1, 3.0)),
    "sqrt_": (mg.sqrt, values(0.1, 3.0)),
    "tanh_": (mg.tanh, values()),
    "sigmoid_": (mg.sigmoid, values()),
    "sign_": (mg.sign, values(avoid=(0.0,))),
    "exp2_": (mg.exp2, values()),
    "expm1_": (mg.expm1, values()),
    "log2_": (mg.log2, values(0.1, 3.0)),
    "log10_": (mg.log10, values(0.1, 3.0)),
    "log1p_": (mg.log1p, values(-0.9, 3.0)),
    "rsqrt_": (mg.rsqrt, values(0.1, 3.0)),
    "sin_": (mg.sin, values()),
    "cos_": (mg.cos, values()),
    "tan_": (mg.tan, values(-1.2, 1.2)),
    "asin_": (mg.asin, values(-0.9, 0.9)),
    "acos_": (mg.acos, values(-0.9, 0.9)),
    "atan_": (mg.atan, values()),
    "sinh_": (mg.sinh, values()),
    "cosh_": (mg.cosh, values()),
    "asinh_": (mg.asinh, values()),
    "acosh_": (mg.acosh, values(1.1, 3.0)),
    "atanh_": (mg.atanh, values(-0.9, 0.9)),
    "arcsin_": (mg.asin, values(-0.9, 0.9)),
    "arccos_": (mg.acos, values(-0.9, 0.9)),
    "arctan_": (mg.atan, values()),
    "arcsinh_": (mg.asinh, values()),
    "arccosh_": (mg.acosh, values(1.1, 3.0)),
    "arctanh_": (mg.atanh, values(-0.9, 0.9)),
    "erf_": (mg.erf, values()),
    "floor_": (mg.floor, values(avoid=(-2.0, -1.0, 0.0, 1.0, 2.0))),
    "ceil_": (mg.ceil, values(avoid=(-2.0, -1.0, 0.0, 1.0, 2.0))),
    "trunc_": (mg.trunc, values(avoid=(-2.0, -1.0, 1.0, 2.0))),
    "fix_": (mg.trunc, values(avoid=(-2.0, -1.0, 1.0, 2.0))),
    "reciprocal_": (mg.reciprocal, nonzero()),
    "square_": (mg.square, values()),
    "relu_": (mg.relu, values(avoid=(0.0,))),
}

# torch's top-level in-place functions (torch.exp_(x)): the same as the methods
TOP_LEVEL = sorted(n for n in UNARY if n not in ("sign_", "relu_"))


@pytest.mark.parametrize("name", sorted(UNARY))
@with_device
@given(data=st.data())
def test_unary_inplace_is_the_out_of_place_op_recorded_as_the_history(device, name, data):
    op, elements = UNARY[name]
    a = data.draw(arrays(data.draw(st.sampled_from([(3,), (2, 3), (0, 2)])), elements))
    # outside recording: the same buffer, the op's values, the version up by one
    t = _t(a, device=device)
    buffer, version = t.array, t._version
    assert getattr(t, name)() is t
    assert t.array is buffer and t._version == version + 1
    np.testing.assert_allclose(t.numpy(), op(_t(a, device=device)).numpy(), rtol=1e-12, atol=1e-12)
    # while recording: a non-leaf takes the op's node; gradient as the out-of-place op's
    x = _t(a, requires_grad=True, device=device)
    y = x * 1
    getattr(y, name)()
    (y * y).sum().backward()
    x2 = _t(a, requires_grad=True, device=device)
    (op(x2 * 1) ** 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_inplace_functions_are_the_methods(name):
    a = np.array([1.3, 1.6]) if "cosh" in name else np.array([0.3, 0.6])
    t = _t(a)
    assert getattr(mg, name)(t) is t
    np.testing.assert_allclose(t.numpy(), getattr(_t(a), name)().numpy())


def test_inplace_refuses_a_leaf_and_a_dtype_that_does_not_fit_leaving_the_tensor_intact():
    w = _t([1.0, 2.0], requires_grad=True)
    with pytest.raises(GraphError, match="exp_: a leaf tensor that requires grad"):
        w.exp_()
    with pytest.raises(GraphError, match="pow_: a leaf"):
        w.pow_(2)
    assert w.tolist() == [1.0, 2.0] and w._version == 0
    i = mg.tensor([1, 2])
    for update in (i.exp_, i.sqrt_, lambda: i.pow_(0.5), lambda: i.true_divide_(2), i.sigmoid_):
        with pytest.raises(DTypeError, match="cannot be stored in a tensor of dtype int64"):
            update()
    assert i.tolist() == [1, 2] and i._version == 0
    assert i.abs_().tolist() == [1, 2] and mg.tensor([1, -2]).neg_().tolist() == [-1, 2]
    with pytest.raises(ShapeError, match="pow_: the result has shape"):
        _t([1.0, 2.0]).pow_(_t([[1.0], [2.0]]))
    with pytest.raises(DTypeError, match="float_power_: the base has dtype float32"):
        mg.tensor([1.0]).float_power_(2)


def test_a_node_that_saved_the_old_value_raises_after_an_inplace_change():
    x = _t([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * y  # saves y
    y.exp_()
    with pytest.raises(GraphError):
        z.sum().backward()


# name -> (the out-of-place function of (self, other), the domain of self, of other)
BINARY = {
    "pow_": (mg.pow, values(0.5, 2.0), values(-2.0, 2.0)),
    "float_power_": (mg.float_power, values(0.5, 2.0), values(-2.0, 2.0)),
    "true_divide_": (mg.true_divide, values(), nonzero()),
    "divide_": (mg.div, values(), nonzero()),
    "multiply_": (mg.mul, values(), values()),
    "subtract_": (mg.sub, values(), values()),
    "fmod_": (mg.fmod, values(), nonzero(1.5, 3.0)),
    "remainder_": (mg.remainder, values(), nonzero(1.5, 3.0)),
    "atan2_": (mg.atan2, values(), nonzero()),
    "arctan2_": (mg.atan2, values(), nonzero()),
    "copysign_": (mg.copysign, nonzero(), nonzero()),
    "hypot_": (mg.hypot, nonzero(), values()),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_inplace_takes_a_broadcast_operand_and_its_gradient(name, data):
    op, left, right = BINARY[name]
    shapes = data.draw(_shapes(2))
    full = np.broadcast_shapes(*shapes.input_shapes)
    a, b = data.draw(arrays(full, left)), data.draw(arrays(shapes.input_shapes[1], right))
    if name in ("fmod_", "remainder_"):  # keep a / b off the jumps (integers)
        q = a / b
        a = np.where(np.abs(q - np.round(q)) < 0.05, a + 0.1 * b, a)
    t = _t(a)
    getattr(t, name)(_t(b))
    np.testing.assert_allclose(t.numpy(), op(_t(a), _t(b)).numpy(), rtol=1e-12, atol=1e-12)
    x, w = _t(a, requires_grad=True), _t(b, requires_grad=True)
    y = x * 1
    getattr(y, name)(w)
    y.sum().backward()
    x2, w2 = _t(a, requires_grad=True), _t(b, requires_grad=True)
    op(x2 * 1, w2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), w2.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_other_inplace_forms():
    t = _t([1.0, 2.0, 3.5])
    assert t.floor_divide_(2).tolist() == [0.0, 1.0, 1.0]
    t = _t([-1.5, 2.5])
    assert t.divide_(2, rounding_mode="trunc").tolist() == [-0.0, 1.0]
    assert _t([1.26, 2.5]).round_(decimals=1).tolist() == [1.3, 2.5]
    assert mg.round_(_t([2.5, 3.5])).tolist() == [2.0, 4.0]
    assert _t([0.0, 1.0]).lerp_(_t([2.0, 3.0]), 0.5).tolist() == [1.0, 2.0]
    t = _t([1.0, 1.0])
    assert t.addcmul_(_t([2.0, 3.0]), _t([4.0, 5.0]), value=0.5).tolist() == [5.0, 8.5]
    assert t.addcdiv_(_t([2.0, 3.0]), _t([4.0, 6.0]), value=2).tolist() == [6.0, 9.5]
    # a recorded addcmul_ gives each operand its gradient
    x, a, b = _t([1.0, 2.0], requires_grad=True), _t([3.0, 4.0], requires_grad=True), _t([5.0, 6.0], requires_grad=True)
    y = x * 1
    y.addcmul_(a, b, value=2)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and a.grad.tolist() == [10.0, 12.0] and b.grad.tolist() == [6.0, 8.0]

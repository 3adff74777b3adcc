"""minigrad.ops.logical: logical and bitwise ops, comparison aliases, predicates and their in-place forms.

None is differentiable, so there are no op-table records: the values are checked against NumPy on
hypothesis arrays of several dtypes that broadcast, and the rules PyTorch has (nonzero is True for
logical_*, integers only for bitwise_*, in-place results in the tensor's own dtype) are pinned down.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from ophelpers import with_device

import minigrad as mg
from minigrad.errors import DTypeError, GraphError, ShapeError


@with_device
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3, min_side=0), data=st.data())
@pytest.mark.parametrize("dtype", [np.int64, np.float32, np.bool_])
def test_logical_ops_take_nonzero_as_true_and_give_bool(device, dtype, shapes, data):
    s1, s2 = shapes.input_shapes
    a = data.draw(hnp.arrays(dtype, s1, elements=st.integers(-2, 2) if dtype != np.bool_ else None))
    b = data.draw(hnp.arrays(np.int64, s2, elements=st.integers(-2, 2)))
    ta, tb = mg.tensor(a, device=device), mg.tensor(b, device=device)
    for name in ("logical_and", "logical_or", "logical_xor"):
        got = getattr(mg, name)(ta, tb)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.numpy(), getattr(np, name)(a, b))
        np.testing.assert_array_equal(getattr(ta, name)(tb).numpy(), getattr(np, name)(a, b))
    np.testing.assert_array_equal(mg.logical_not(ta).numpy(), np.logical_not(a))
    np.testing.assert_array_equal(ta.logical_not().numpy(), np.logical_not(a))


@with_device
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3, min_side=0), data=st.data())
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_bitwise_ops_and_operators_match_numpy(device, dtype, shapes, data):
    s1, s2 = shapes.input_shapes
    el = None if dtype == np.bool_ else st.integers(0, 100)
    a, b = data.draw(hnp.arrays(dtype, s1, elements=el)), data.draw(hnp.arrays(dtype, s2, elements=el))
    ta, tb = mg.tensor(a, device=device), mg.tensor(b, device=device)
    for name, ref, operator in (
        ("bitwise_and", np.bitwise_and, lambda x, y: x & y),
        ("bitwise_or", np.bitwise_or, lambda x, y: x | y),
        ("bitwise_xor", np.bitwise_xor, lambda x, y: x ^ y),
    ):
        np.testing.assert_array_equal(getattr(mg, name)(ta, tb).numpy(), ref(a, b))
        np.testing.assert_array_equal(getattr(ta, name)(tb).numpy(), ref(a, b))
        np.testing.assert_array_equal(operator(ta, tb).numpy(), ref(a, b))
    np.testing.assert_array_equal(mg.bitwise_not(ta).numpy(), np.invert(a))
    np.testing.assert_array_equal((~ta).numpy(), np.invert(a))
    if dtype != np.bool_:
        shift = mg.tensor(np.asarray(b % 5, dtype=dtype), device=device)
        np.testing.assert_array_equal((ta << shift).numpy(), np.left_shift(a, b % 5))
        np.testing.assert_array_equal(ta.bitwise_right_shift(shift).numpy(), np.right_shift(a, b % 5))


def test_shifts_operators_reflected_and_in_place():
    t = mg.tensor([3, 5, -8])
    assert (t << 1).tolist() == [6, 10, -16] and (t >> 1).tolist() == [1, 2, -4]
    assert (1 << mg.tensor([1, 2])).tolist() == [2, 4] and (16 >> mg.tensor([1, 2])).tolist() == [8, 4]
    assert (6 & mg.tensor([3, 4])).tolist() == [2, 4] and (1 | mg.tensor([2])).tolist() == [3]
    assert (1 ^ mg.tensor([3])).tolist() == [2]
    u = mg.tensor([3, 5])
    buffer = u.array
    u &= 1
    u |= 2
    u ^= 1
    u <<= 2
    u >>= 1
    assert u.array is buffer and u.tolist() == [4, 4] and u._version == 5
    assert mg.tensor([12]).bitwise_and_(mg.tensor([10])).tolist() == [8]
    assert mg.tensor([0, 1]).bitwise_not_().tolist() == [-1, -2]


def test_bitwise_refuses_floats():
    with pytest.raises(DTypeError, match="bitwise_and: takes integer and bool tensors only, got float32"):
        mg.bitwise_and(mg.tensor([1.0]), mg.tensor([1.0]))
    with pytest.raises(DTypeError, match="bitwise_or: .*float"):
        mg.tensor([1, 2]).bitwise_or(1.5)
    with pytest.raises(DTypeError, match="bitwise_not"):
        mg.bitwise_not(mg.tensor([1.0]))
    with pytest.raises(DTypeError, match="bitwise_left_shift"):
        mg.tensor([1.0]) << 1


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3, min_side=0), data=st.data())
def test_comparison_aliases_are_the_comparisons(shapes, data):
    s1, s2 = shapes.input_shapes
    a = data.draw(hnp.arrays(np.float64, s1, elements=st.integers(-2, 2).map(float)))
    b = data.draw(hnp.arrays(np.float64, s2, elements=st.integers(-2, 2).map(float)))
    ta, tb = mg.tensor(a), mg.tensor(b)
    for name, ref in (
        ("greater", np.greater),
        ("greater_equal", np.greater_equal),
        ("less", np.less),
        ("less_equal", np.less_equal),
        ("not_equal", np.not_equal),
    ):
        np.testing.assert_array_equal(getattr(mg, name)(ta, tb).numpy(), ref(a, b))
        np.testing.assert_array_equal(getattr(ta, name)(tb).numpy(), ref(a, b))


@pytest.mark.parametrize(
    "name,ref",
    [
        ("eq_", np.equal),
        ("ne_", np.not_equal),
        ("lt_", np.less),
        ("le_", np.less_equal),
        ("gt_", np.greater),
        ("ge_", np.greater_equal),
        ("greater_", np.greater),
        ("greater_equal_", np.greater_equal),
        ("less_", np.less),
        ("less_equal_", np.less_equal),
        ("not_equal_", np.not_equal),
        ("logical_and_", np.logical_and),
        ("logical_or_", np.logical_or),
        ("logical_xor_", np.logical_xor),
    ],
)
def test_in_place_comparisons_write_one_and_zero_in_the_tensors_dtype(name, ref):
    a = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5]], dtype=np.float32)
    b = np.array([1.0, 1.0, 0.0], dtype=np.float32)
    t = mg.tensor(a)
    buffer = t.array
    assert getattr(t, name)(mg.tensor(b)) is t
    assert t.dtype == np.float32 and t.array is buffer and t._version == 1
    np.testing.assert_array_equal(t.numpy(), ref(a, b).astype(np.float32))
    i = mg.tensor([1, 2, 3])
    getattr(i, name)(2)
    assert i.dtype == np.int64 and i.tolist() == ref(np.array([1, 2, 3]), 2).astype(int).tolist()
    # while recording: a non-leaf becomes a constant and leaves the graph; a leaf is refused
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    getattr(y, name)(4.0)
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(GraphError, match=f"{name}: a leaf tensor that requires grad"):
        getattr(x, name)(1.0)
    assert x.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ShapeError, match=f"{name}: the result has shape"):
        getattr(mg.tensor([1.0, 2.0]), name)(mg.tensor([[1.0], [2.0]]))


def test_logical_not_in_place_and_bool_tensors():
    t = mg.tensor([0.0, 2.0])
    assert t.logical_not_().tolist() == [1.0, 0.0]
    m = mg.tensor([True, False])
    m.logical_and_(mg.tensor([True, True]))
    assert m.tolist() == [True, False] and m.dtype == np.bool_


def test_equal_isin_and_the_infinity_predicates():
    assert mg.equal(mg.tensor([1.0, 2.0]), mg.tensor([1, 2])) is True
    assert mg.equal(mg.tensor([1.0, 2.0]), mg.tensor([1.0])) is False
    assert mg.tensor([1.0, float("nan")]).equal(mg.tensor([1.0, float("nan")])) is False
    assert mg.equal(mg.tensor([[1, 2]]), mg.tensor([1, 2])) is False
    el = mg.tensor([[1, 2], [3, 4]])
    np.testing.assert_array_equal(mg.isin(el, mg.tensor([2, 5, 4])).numpy(), [[False, True], [False, True]])
    np.testing.assert_array_equal(mg.isin(el, 3).numpy(), [[False, False], [True, False]])
    np.testing.assert_array_equal(mg.isin(el, mg.tensor([2]), invert=True).numpy(), [[True, False], [True, True]])
    x = mg.tensor([float("inf"), -float("inf"), 1.0, float("nan"), -0.0])
    np.testing.assert_array_equal(mg.isposinf(x).numpy(), [True, False, False, False, False])
    np.testing.assert_array_equal(x.isneginf().numpy(), [False, True, False, False, False])
    np.testing.assert_array_equal(mg.signbit(x).numpy(), [False, True, False, False, True])
    np.testing.assert_array_equal(mg.isreal(x).numpy(), [True] * 5)
    assert mg.isposinf(mg.tensor([1, 2])).tolist() == [False, False]


def test_python_valued_predicates():
    assert mg.tensor([1.5]).is_nonzero() is True and mg.is_nonzero(mg.tensor([[0]])) is False
    with pytest.raises(ShapeError, match="is_nonzero: .*more than one value"):
        mg.tensor([1.0, 2.0]).is_nonzero()
    with pytest.raises(ShapeError, match="is_nonzero: .*no values"):
        mg.is_nonzero(mg.tensor([]))
    assert mg.is_same_size(mg.tensor([1, 2]), mg.tensor([3.0, 4.0])) and not mg.tensor([1]).is_same_size(
        mg.tensor([1, 2])
    )
    f, i, u, b = mg.tensor([1.0]), mg.tensor([1]), mg.tensor(np.array([1], dtype=np.uint8)), mg.tensor([True])
    assert [mg.is_floating_point(t) for t in (f, i, u, b)] == [True, False, False, False]
    assert [t.is_signed() for t in (f, i, u, b)] == [True, True, False, False]
    assert not f.is_complex() and not mg.is_complex(i)
    assert mg.tensor([1.0], dtype=np.float16).is_floating_point()

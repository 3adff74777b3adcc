"""Shape primitives (minigrad.ops.shape): reshape and its spellings, permutations,
broadcasting, concatenate/stack, pad, indexing and device copies.

These ops move elements without changing them, so the forward must equal
NumPy's bit for bit and keep the dtype, and the gradient must move the
cotangent back (repeated integer indices accumulate). Each primitive's record
in optable.py puts it through the generic tests of test_optable.py (forward
in every spelling, gradcheck on hypothesis shapes and indices, second order,
float32 gradients, saves); the spellings, index cases and errors are here.
"""

import re

import numpy as np
import pytest
from helpers import check_gradients
from hypothesis import given
from hypothesis import strategies as st
from ophelpers import (
    DTYPES,
    arrays,
    check_second_order,
    shapes,
    with_device,
)
from optable import concat_case

import minigrad
from minigrad.ops import shape as shape_ops


def _data(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _same(out, want, dtype=None):
    """Bit-for-bit equality with NumPy's result, shape and dtype."""
    want = np.asarray(want)
    assert out.shape == want.shape
    assert out.dtype == (want.dtype if dtype is None else dtype)
    np.testing.assert_array_equal(out.numpy(), want)


# --- reshape, view, flatten, squeeze, unsqueeze ---------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_reshape_family_forward(dtype, device):
    a = _data((2, 1, 3, 1), dtype)
    t = minigrad.tensor(a, device=device)
    _same(t.reshape(3, 2), a.reshape(3, 2))
    _same(t.reshape((-1,)), a.reshape(-1))
    _same(minigrad.reshape(t, (2, -1)), a.reshape(2, -1))
    _same(t.view(6, 1), a.reshape(6, 1))
    _same(t.view_as(minigrad.zeros(3, 2)), a.reshape(3, 2))
    _same(t.flatten(), a.reshape(-1))
    _same(t.flatten(1), a.reshape(2, -1))
    _same(minigrad.flatten(t, 1, 2), a.reshape(2, 3, 1))
    _same(t.squeeze(), a.squeeze())
    _same(t.squeeze(1), a.squeeze(1))
    _same(t.squeeze(dim=-1), a.squeeze(-1))
    _same(t.squeeze(0), a)  # a dimension that is not 1 stays (PyTorch)
    _same(t.squeeze((1, 3)), a.squeeze((1, 3)))
    _same(t.unsqueeze(0), a[None])
    _same(t.unsqueeze(-1), a[..., None])
    _same(minigrad.unsqueeze(t, 2), np.expand_dims(a, 2))
    scalar = minigrad.tensor(np.array(3.0, dtype), device=device)
    _same(scalar.flatten(), np.array([3.0], dtype))
    _same(scalar.squeeze(0), np.array(3.0, dtype))  # PyTorch accepts dim 0 and -1 for a 0-d tensor
    _same(scalar.squeeze(-1), np.array(3.0, dtype))
    _same(scalar.unsqueeze(-1), np.array([3.0], dtype))


@given(data=st.data())
def test_flatten_squeeze_unsqueeze_gradient(data):
    shape = data.draw(shapes(max_side=3).map(lambda s: s + (1,) if len(s) < 3 else s))
    x = data.draw(arrays(shape))
    ndim = len(shape)
    start = data.draw(st.integers(-ndim, ndim - 1))
    end = data.draw(st.integers(start % ndim, ndim - 1))
    dim = data.draw(st.integers(-ndim - 1, ndim))
    ones = [i for i, s in enumerate(shape) if s == 1]
    axis = data.draw(st.sampled_from([None, *ones, tuple(ones)]))
    np.testing.assert_array_equal(minigrad.tensor(x).flatten(start, end).numpy().ravel(), x.ravel())
    check_gradients(lambda t: t.flatten(start, end), x)
    check_gradients(lambda t: t.squeeze(axis), x)
    check_gradients(lambda t: t.squeeze(dim=axis), x)
    check_gradients(lambda t: t.unsqueeze(dim), x)
    assert minigrad.tensor(x).unsqueeze(dim).shape == np.expand_dims(x, dim).shape


# --- permutations -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_permutation_forward(dtype, device):
    a = _data((2, 3, 4), dtype)
    t = minigrad.tensor(a, device=device)
    _same(t.transpose(0, 2), a.swapaxes(0, 2))
    _same(minigrad.transpose(t, -1, 1), a.swapaxes(-1, 1))
    _same(t.transpose(), a.T)
    _same(t.permute(2, 0, 1), a.transpose(2, 0, 1))
    _same(minigrad.permute(t, (1, -1, 0)), a.transpose(1, 2, 0))
    _same(t.T, a.T)
    _same(t.mT, a.swapaxes(-1, -2))
    m = minigrad.tensor(a[0], device=device)
    _same(m.T, a[0].T)
    _same(m.mT, a[0].T)


# --- broadcasting ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_broadcast_forward(dtype, device):
    a = _data((3, 1), dtype)
    t = minigrad.tensor(a, device=device)
    _same(t.broadcast_to((2, 3, 4)), np.broadcast_to(a, (2, 3, 4)))
    _same(minigrad.broadcast_to(t, (3, 5)), np.broadcast_to(a, (3, 5)))
    _same(t.expand(2, -1, 4), np.broadcast_to(a, (2, 3, 4)))
    _same(minigrad.expand(t, (3, 2)), np.broadcast_to(a, (3, 2)))
    _same(t.expand_as(minigrad.zeros(2, 3, 2)), np.broadcast_to(a, (2, 3, 2)))


# --- joining ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_join_forward(dtype, device):
    a, b, c = _data((2, 3), dtype, 0), _data((2, 1), dtype, 1), _data((2, 3), dtype, 2)
    ta, tb, tc = (minigrad.tensor(v, device=device) for v in (a, b, c))
    _same(minigrad.concatenate([ta, tb, tc], axis=1), np.concatenate([a, b, c], axis=1))
    _same(minigrad.cat((ta, tc), dim=0), np.concatenate([a, c], axis=0))
    _same(minigrad.concat([ta, tb], -1), np.concatenate([a, b], axis=-1))
    _same(minigrad.stack([ta, tc]), np.stack([a, c]))
    _same(minigrad.stack([ta, tc], dim=-1), np.stack([a, c], axis=-1))
    _same(minigrad.stack((ta, tc), axis=1), np.stack([a, c], axis=1))


@given(case=concat_case(count=2), data=st.data())
def test_concatenate_gradient_with_a_constant_part(case, data):
    (shape_a, shape_b), axis = case
    x, const = data.draw(arrays(shape_a)), minigrad.tensor(data.draw(arrays(shape_b)))
    check_gradients(lambda t: minigrad.concatenate([const, t, const], axis=axis), x)


def test_the_same_tensor_twice_in_a_join_gets_both_parts():
    x = minigrad.tensor(np.array([1.0, 2.0]), requires_grad=True)
    (minigrad.cat([x, x]) * minigrad.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4.0, 6.0])


# --- pad ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_pad_forward(dtype, device):
    scalar = _data((), dtype)
    _same(minigrad.pad(minigrad.tensor(scalar, device=device), 2), np.pad(scalar, 2))  # nothing to pad, as NumPy
    a = _data((2, 3), dtype)
    t = minigrad.tensor(a, device=device)
    _same(minigrad.pad(t, 1), np.pad(a, 1))
    _same(minigrad.pad(t, (1, 2)), np.pad(a, (1, 2)))
    _same(minigrad.pad(t, ((0, 1), (2, 0)), value=-1.5), np.pad(a, ((0, 1), (2, 0)), constant_values=-1.5))


def test_bad_pad_width_is_a_shape_error():
    with pytest.raises(minigrad.ShapeError, match="pad"):
        minigrad.pad(minigrad.ones(2, 3), ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(minigrad.ShapeError, match="non-negative"):
        minigrad.pad(minigrad.ones(2, 3), -1)


# --- indexing -------------------------------------------------------------------------------------------------

INDEX_CASES = {
    "int": 1,
    "negative int": -1,
    "slice": slice(1, None),
    "stepped slice": (slice(None, None, 2), slice(None, None, -1)),
    "ints": (1, 2),
    "None": (None, 0),
    "Ellipsis": (Ellipsis, 1),
    "Ellipsis and None": (0, Ellipsis, None),
    "repeated int array": np.array([0, 0, 2, 0]),
    "repeated list": [1, 1, 0],
    "int array pair": (np.array([0, 2, 2]), np.array([1, 1, 1])),
    "int array 2-D": np.array([[0, 1], [1, 1]]),
    "int array after slice": (slice(None), np.array([3, 3, 0])),
    "int and int array": (2, [0, 0, 3]),
    "int tensor": "tensor",
    "boolean mask": "mask",
    "boolean row mask": "row mask",
    "boolean mask tensor": "mask tensor",
    "mask after Ellipsis": "ellipsis mask",
}


def _index(name, x):
    index = INDEX_CASES[name]
    if not isinstance(index, str):
        return index
    if index == "tensor":
        return minigrad.tensor(np.array([2, 0, 2]))
    if index == "mask":
        return x > 0
    if index == "row mask":
        return np.array([True, False, True])
    if index == "mask tensor":
        return minigrad.tensor(x > 0)
    assert index == "ellipsis mask"
    return (Ellipsis, np.array([True, False, False, True]))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_getitem_forward(name, dtype, device):
    a = _data((3, 4), dtype)
    index = _index(name, a)
    np_index = index.numpy() if isinstance(index, minigrad.Tensor) else index
    _same(minigrad.tensor(a, device=device)[index], a[np_index])


@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_getitem_gradient(name, device):
    x = _data((3, 4))
    check_gradients(lambda t: t[_index(name, x)], x, device=device)


def test_repeated_indices_accumulate():
    x = minigrad.tensor(np.zeros(4), requires_grad=True)
    x[np.array([1, 1, 3, 1])].backward(minigrad.tensor(np.array([1.0, 2.0, 3.0, 4.0])))
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 7.0, 0.0, 3.0])
    m = minigrad.tensor(np.zeros((2, 2)), requires_grad=True)
    m[[0, 0, 1], [1, 1, 0]].sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0.0, 2.0], [1.0, 0.0]])


# --- index assignment: x[index] = value ---------------------------------------------------------

# Index cases without a repeated position: with a repeat the last write wins, so value's numerical
# gradient counts only one of the repeats (PyTorch leaves that case undefined).
UNREPEATED = sorted(
    name for name, index in INDEX_CASES.items() if not name.startswith("repeated") and "int array" not in name
) + ["int tensor"]


def _unrepeated(name, x):
    return np.array([2, 0]) if name == "int tensor" else _index(name, x)


def _assigned(index):
    """x[index] = value, as a user writes it on a tensor that is not a leaf."""

    def assign(x, value):
        y = x * 1
        y[index] = value
        return y

    return assign


@pytest.mark.parametrize("name", sorted(INDEX_CASES))
def test_setitem_forward(name, device):
    a = _data((3, 4))
    index = _index(name, a)
    np_index = index.numpy() if isinstance(index, minigrad.Tensor) else index
    value = np.arange(a[np_index].size, dtype=a.dtype).reshape(a[np_index].shape) + 100
    expected = a.copy()
    expected[np_index] = value
    t = minigrad.tensor(a, device=device)
    t[index] = minigrad.tensor(value, device=device)
    _same(t, expected)
    _same(shape_ops._setitem(minigrad.tensor(a, device=device), value, index=shape_ops._index_data(index)), expected)


@pytest.mark.parametrize("name", UNREPEATED)
def test_setitem_gradient(name, device):
    x = _data((3, 4))
    index = _unrepeated(name, x)
    value = _data(x[index.numpy() if isinstance(index, minigrad.Tensor) else index].shape) + 1
    check_gradients(_assigned(index), x, value, device=device)
    check_gradients(lambda x, v: shape_ops._setitem(x, v, index=shape_ops._index_data(index)), x, value)


def test_setitem_second_order():
    x, value = _data((3, 4)), _data((3,)) + 1
    check_second_order(_assigned((slice(None), 1)), x, value)


@pytest.mark.parametrize("name", ["slice", "repeated int array", "boolean row mask", "int and int array"])
def test_index_scatter_gradient(name):
    """The vjp of getitem is itself a primitive; its own vjp is getitem."""
    index = _index(name, _data((3, 4)))
    g = _data(np.zeros((3, 4))[index].shape, seed=1)
    check_gradients(lambda t: shape_ops._index_scatter(t, index=index, shape=(3, 4)), g)


# --- device copies -----------------------------------------------------------------------------------------------


def test_to_device_gradient(device):
    x = _data((2, 3))
    check_gradients(lambda t: shape_ops.to_device(t, device), x)
    check_gradients(lambda t: t.to(device) * 2.0, x)
    if device != "cpu":
        y = minigrad.tensor(x, requires_grad=True)
        z = y.to(device)
        assert z.device == device
        z.sum().backward()
        assert y.grad.device == "cpu"


def test_to_the_same_device_is_the_identity():
    x = minigrad.tensor(np.ones(3), requires_grad=True)
    assert x.to("cpu") is x


# --- second order -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["repeated int array", "slice", "boolean mask", "Ellipsis and None", "int array pair"])
def test_second_order_getitem(name):
    x = _data((3, 4))
    check_second_order(lambda t: t[_index(name, x)] * t[_index(name, x)].exp(), x)


def test_second_order_shape_ops():
    x, y = _data((2, 3)), _data((2, 3), seed=1)
    check_second_order(lambda t: t.reshape(3, 2).T.exp(), x)
    check_second_order(lambda a, b: minigrad.cat([a, b * a], dim=1), x, y)
    check_second_order(lambda a, b: minigrad.stack([a, b.tanh()], dim=-1), x, y)
    check_second_order(lambda t: minigrad.pad(t.sigmoid(), 1), x)
    check_second_order(lambda t: minigrad.broadcast_to(t[:1], (4, 2, 3)) * t, x)


# --- split, chunk and repeat (slices, reshapes and broadcasts: no primitive of their own) --------------------------


def _split_reference(x, sizes, dim):
    """NumPy's pieces of the given sizes along ``dim``."""
    return np.split(x, np.cumsum(sizes)[:-1].tolist(), axis=dim)


@st.composite
def split_case(draw):
    shape = draw(shapes(min_dims=1))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[dim]
    kind = draw(st.sampled_from(["chunk", "split-int", "split-list"]))
    if kind == "chunk":
        arg = draw(st.integers(1, 5))
        step = -(-n // arg)
        sizes = [min(step, n - i) for i in range(0, n, step)]
    elif kind == "split-int":
        arg = draw(st.integers(1, 5))
        sizes = [min(arg, n - i) for i in range(0, n, arg)]
    else:  # a random composition of n, zeros allowed
        cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
        arg = sizes = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
    return shape, dim, kind, arg, sizes


def _split(t, kind, arg, dim, spelling):
    if kind == "chunk":
        return minigrad.chunk(t, arg, dim=dim) if spelling == "function" else t.chunk(arg, dim)
    return minigrad.split(t, arg, dim=dim) if spelling == "function" else t.split(arg, dim)


@pytest.mark.parametrize("spelling", ["function", "method"])
@given(case=split_case(), data=st.data())
def test_split_chunk_forward_matches_numpy_and_pytorch(spelling, case, data):
    shape, dim, kind, arg, sizes = case
    x = data.draw(arrays(shape))
    pieces = _split(minigrad.tensor(x), kind, arg, dim, spelling)
    assert isinstance(pieces, tuple) and len(pieces) == len(sizes)
    for piece, want in zip(pieces, _split_reference(x, sizes, dim)):
        _same(piece, want)
    torch = pytest.importorskip("torch")
    theirs = getattr(torch, "chunk" if kind == "chunk" else "split")(torch.from_numpy(x), arg, dim)
    assert [tuple(p.shape) for p in pieces] == [tuple(p.shape) for p in theirs]


def test_split_chunk_of_an_empty_dimension_as_pytorch():
    x = minigrad.zeros(0, 3)
    assert [p.shape for p in x.chunk(3)] == [(0, 3)] * 3
    assert [p.shape for p in x.split(2)] == [(0, 3)] and [p.shape for p in x.split(0)] == [(0, 3)]
    assert [p.shape for p in minigrad.split(x, [0, 0])] == [(0, 3), (0, 3)]


@with_device
@given(case=split_case(), data=st.data())
def test_split_chunk_gradient(case, data, device):
    shape, dim, kind, arg, sizes = case
    x = data.draw(arrays(shape))

    def fn(t):  # each piece scaled differently, so a piece's gradient landing in the wrong place shows
        return minigrad.cat([p * (i + 1) for i, p in enumerate(_split(t, kind, arg, dim, "method"))], dim=dim)

    check_gradients(fn, x, device=device)


def test_split_pieces_are_views_that_stay_in_the_graph():
    x = minigrad.tensor(_data((4, 3)), requires_grad=True)
    a, b = x.split([1, 3])
    assert a.requires_grad and a._vc is x._vc  # a slice: an in-place change to x is seen through it
    (a.sum() * 2 + b.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0] * 3, [1.0] * 3, [1.0] * 3, [1.0] * 3])


@st.composite
def repeat_case(draw):
    shape = draw(shapes(max_side=3))
    sizes = tuple(draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2)))
    return shape, sizes


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("spelling", ["varargs", "tuple"])
@given(case=repeat_case(), data=st.data())
def test_repeat_forward_matches_numpy_tile_and_pytorch(dtype, spelling, case, data):
    shape, sizes = case
    x = data.draw(arrays(shape, dtype=dtype))
    t = minigrad.tensor(x)
    out = t.repeat(*sizes) if spelling == "varargs" else t.repeat(sizes)
    _same(out, np.tile(x, sizes))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(out.numpy(), torch.from_numpy(x).repeat(sizes).numpy())  # a tuple: () is allowed


@with_device
@given(case=repeat_case(), data=st.data())
def test_repeat_gradient(case, data, device):
    shape, sizes = case
    check_gradients(lambda t: t.repeat(*sizes), data.draw(arrays(shape)), device=device)


def test_repeat_gradient_sums_the_copies():
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    (x.repeat(3, 2) * minigrad.arange(12.0).reshape(3, 4)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0 + 2 + 4 + 6 + 8 + 10, 1 + 3 + 5 + 7 + 9 + 11])


def test_second_order_split_chunk_repeat():
    x = _data((4, 3))
    check_second_order(lambda t: minigrad.cat([p.exp() * p for p in t.chunk(3)], dim=0), x)
    check_second_order(lambda t: minigrad.cat([p.tanh() * p for p in t.split([1, 0, 2], 1)], dim=1), x)
    check_second_order(lambda t: t.repeat(2, 1, 2).sigmoid() * t.repeat(2, 1, 2), x)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: t.chunk(0), minigrad.ArgumentError, "chunk: chunks must be greater than 0"),
        (lambda t: t.chunk(2.0), minigrad.DTypeError, "chunk: chunks must be an int"),
        (lambda t: t.chunk(2, dim=3), minigrad.IndexOutOfRange, r"chunk: dim 3 is out of range .*\(2, 3, 4\)"),
        (lambda t: minigrad.tensor(1.0).chunk(1), minigrad.ShapeError, "chunk: .*0-d"),
        (lambda t: t.split(2, dim=-4), minigrad.IndexOutOfRange, "split: dim -4 is out of range"),
        (lambda t: t.split([1, 1], dim=2), minigrad.ShapeError, r"split: split sizes \[1, 1\] sum to 2, not to 4"),
        (lambda t: t.split([3, -1]), minigrad.ArgumentError, "split: split sizes must be non-negative"),
        (lambda t: t.split(0), minigrad.ArgumentError, "split: split_size must be positive"),
        (lambda t: t.split(1.5), minigrad.DTypeError, "split: split_size_or_sections must be an int"),
        (lambda t: t.repeat(2, 2), minigrad.ShapeError, r"repeat: 2 sizes .* 3 dimensions"),
        (lambda t: t.repeat(1, -1, 1), minigrad.ArgumentError, "repeat: sizes must be non-negative"),
        (lambda t: t.repeat(1, 2.0, 1), minigrad.DTypeError, "repeat: sizes must be integers"),
    ],
)
def test_split_chunk_repeat_bad_arguments_name_the_op(call, error, message):
    with pytest.raises(error, match=f"^{message}"):
        call(minigrad.ones(2, 3, 4))


# --- errors ----------------------------------------------------------------------------------------------------------


def test_bad_reshape_is_a_shape_error_naming_the_op_and_shapes():
    with pytest.raises(minigrad.ShapeError) as info:
        minigrad.ones(2, 3).reshape(4, 2)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert message.startswith("reshape")
    assert "(2, 3)" in message and re.search(r"\(4, ?2\)", message)


@pytest.mark.parametrize(
    "bad",
    [
        lambda t: t.permute(0, 0, 1),
        lambda t: t.transpose(0, 5),
        lambda t: t.unsqueeze(5),
        lambda t: t.squeeze(7),
        lambda t: t.flatten(2, 0),
        lambda t: minigrad.concatenate([]),
        lambda t: minigrad.stack([]),
        lambda t: minigrad.cat([t, minigrad.ones(2, 2)], dim=0),
        lambda t: minigrad.stack([t, t[:1]]),
        lambda t: t.broadcast_to((4, 3)),
    ],
)
def test_shape_errors(bad):
    with pytest.raises(minigrad.ShapeError):
        bad(minigrad.ones(2, 3, 4))


def test_broadcast_to_a_mismatched_shape_is_a_shape_error():
    with pytest.raises(minigrad.ShapeError, match="broadcast_to"):
        minigrad.ones(2, 3, 4).broadcast_to((2, 5, 4))


def test_index_out_of_range():
    with pytest.raises(IndexError):
        minigrad.ones(2, 3)[2]


@pytest.mark.parametrize("shape", [(2, 3), (0, 3)])  # an empty array too, where NumPy < 2.3 only warns
@pytest.mark.parametrize("as_list", [False, True])
def test_an_integer_array_or_list_index_out_of_range_raises_on_every_device(device, shape, as_list):
    x = minigrad.ones(*shape, device=device, requires_grad=True)
    index = [0, 5] if as_list else minigrad.tensor(np.array([0, 5]), device=device)  # CuPy would wrap 5 around
    first_bad = 5 if shape[0] else 0
    with pytest.raises(minigrad.IndexOutOfRange, match=f"getitem: index {first_bad} is out of bounds for axis 0"):
        x[index]

"""Tensor construction, dtype rules, attributes and conversions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from minigrad.errors import DTypeError, GraphError, ShapeError


def test_python_data_follows_pytorch_dtype_rules():
    assert mg.tensor(1.5).dtype == np.float32
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor([1, 2.5]).dtype == np.float32
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor(True).dtype == np.bool_


def test_arrays_keep_their_dtype_and_are_copied():
    a = np.array([1.0, 2.0])
    t = mg.tensor(a)
    assert t.dtype == np.float64
    a[0] = 9
    assert t.numpy()[0] == 1.0
    assert mg.tensor(np.array([1, 2], dtype=np.int32)).dtype == np.int32


def test_from_numpy_shares_memory():
    a = np.array([1.0, 2.0])
    t = mg.from_numpy(a)
    a[0] = 9
    assert t.numpy()[0] == 9


def test_set_default_dtype():
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor(1.5).dtype == np.float64
        assert mg.zeros(2).dtype == np.float64
        assert mg.get_default_dtype() == np.float64
    finally:
        mg.set_default_dtype(mg.float32)
    with pytest.raises(DTypeError, match="floating point"):
        mg.set_default_dtype(mg.int64)


def test_explicit_dtype():
    assert mg.tensor([1, 2], dtype=mg.float64).dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(DTypeError, match="floating-point.*int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError):
        mg.tensor([1, 2]).requires_grad_()


def test_attributes():
    t = mg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.dim() == 2
    assert t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6 and len(t) == 2
    assert t.device == "cpu" and t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    assert isinstance(t.array, np.ndarray)


def test_item_and_conversions():
    assert mg.tensor([2.5]).item() == 2.5
    assert isinstance(mg.tensor(3).item(), int)
    assert float(mg.tensor(1.5)) == 1.5 and int(mg.tensor(3)) == 3
    assert mg.tensor([[1, 2]]).tolist() == [[1, 2]]
    with pytest.raises(ShapeError, match=r"item.*\(2,\)"):
        mg.tensor([1.0, 2.0]).item()
    with pytest.raises(ShapeError, match="ambiguous"):
        bool(mg.tensor([1.0, 2.0]))


def test_detach_shares_data_and_leaves_the_graph():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    d = x.detach()
    assert d.array is x.array


def test_data_is_a_detached_unrecorded_tensor_sharing_memory_as_in_pytorch():
    p = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (p * p).sum()  # saves p
    d = p.data
    assert isinstance(d, mg.Tensor) and not d.requires_grad and d.is_leaf and d.grad_fn is None
    assert np.shares_memory(d.array, p.array)
    p.data.add_(1.0)  # ported code changes a leaf that requires grad, unseen by the tape and its version counter
    assert p._version == 0 and p.requires_grad and p.is_leaf
    np.testing.assert_array_equal(p.numpy(), [2.0, 3.0, 4.0])
    loss.backward()  # PyTorch's .data semantics: no error, the saved p is the changed one
    np.testing.assert_array_equal(p.grad.numpy(), [4.0, 6.0, 8.0])


def test_data_of_a_non_leaf_has_no_history_and_sgd_written_with_data_trains():
    w = mg.tensor([4.0], requires_grad=True)
    y = w * 2
    assert y.data.grad_fn is None and not y.data.requires_grad
    for _ in range(50):
        loss = ((w - 1.0) ** 2).sum()
        w.grad = None
        loss.backward()
        w.data.add_(-0.1 * w.grad)  # pytorch/examples' hand-written SGD
    np.testing.assert_allclose(w.numpy(), [1.0], atol=1e-4)


def test_assigning_data_replaces_the_array_and_keeps_the_tensor():
    p = mg.tensor([1.0, 2.0], requires_grad=True)
    other = mg.zeros(3, 2, dtype=mg.float64)
    p.data = other  # any shape, as PyTorch
    assert p.shape == (3, 2) and p.array is other.array and p.requires_grad
    with pytest.raises(TypeError, match=r"Tensor.data.*must be a Tensor.*\.array"):
        p.data = np.ones(2)
    assert p.shape == (3, 2)


def test_requires_grad_on_non_leaf_cannot_be_turned_off():
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(GraphError):
        (x * 2).requires_grad_(False)


def test_to_dtype_is_differentiable():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.to(mg.float64)
    assert y.dtype == np.float64
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    assert x.to("cpu") is x and x.double().dtype == np.float64 and x.float() is x


def test_repr_is_readable():
    assert repr(mg.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(mg.tensor([1.0], requires_grad=True))
    assert "grad_fn=<MulBackward0>" in repr(mg.tensor([1.0], requires_grad=True) * 2)
    assert "dtype=float64" in repr(mg.tensor(np.array([1.0])))


def test_tensor_from_a_list_of_tensors_is_a_clear_error():
    with pytest.raises(TypeError, match="stack"):
        mg.tensor([mg.tensor(1.0), mg.tensor(2.0)])


def test_numpy_array_on_the_left_defers_to_the_tensor():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0], dtype=np.float32) * x
    assert isinstance(y, mg.Tensor) and y.requires_grad
    z = np.float32(2.0) + x
    assert isinstance(z, mg.Tensor)


def test_comparisons_are_elementwise_and_not_differentiable():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad
    assert (x == 2.0).tolist() == [False, True, False]
    assert x.eq(mg.tensor([1.0, 0.0, 3.0])).tolist() == [True, False, True]
    assert (~m).tolist() == [True, False, False] and (m & (x < 2.5)).tolist() == [False, True, False]
    assert len({x, x * 1}) == 2  # tensors stay hashable by identity


def test_pytorch_style_methods():
    x = mg.arange(6, dtype=mg.float32).reshape(2, 3)
    assert x.view(3, 2).shape == (3, 2) and x.view(-1).shape == (6,)
    assert x.view_as(mg.zeros(3, 2)).shape == (3, 2)
    assert x.flatten().shape == (6,) and x.unsqueeze(0).shape == (1, 2, 3)
    assert x.argmax().item() == 5 and x.argmax(dim=1).tolist() == [2, 2]
    assert x.transpose(0, 1).shape == (3, 2) and x.permute(1, 0).shape == (3, 2) and x.T.shape == (3, 2)
    values, indices = x.max(dim=1)
    assert values.tolist() == [2.0, 5.0] and indices.tolist() == [2, 2]
    assert x.max(1).values.tolist() == [2.0, 5.0] and x.max(1)[1].tolist() == [2, 2]  # positional dim: PyTorch's
    assert x.max(axis=1).tolist() == [2.0, 5.0]  # NumPy's spelling: values only
    assert x.sum(dim=0, keepdim=True).shape == (1, 3)
    assert x.mean(axis=(0, 1)).item() == 2.5


def test_iteration_goes_over_the_first_dimension_and_refuses_a_0d_tensor():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0]] and rows[0].requires_grad
    assert list(mg.zeros(0, 3)) == []
    with pytest.raises(TypeError, match="0-d"):
        iter(mg.tensor(1.0))  # as PyTorch; not silently empty


def test_size_of_a_dimension_out_of_range_names_the_op():
    t = mg.zeros(2, 3)
    assert t.size(-1) == 3
    with pytest.raises(IndexError, match=r"size: dim 2 .*\(2, 3\)"):
        t.size(2)
    with pytest.raises(IndexError, match=r"size: dim -3"):
        t.size(-3)


def test_equality_with_none_is_false_and_other_bad_operands_name_the_op():
    x = mg.tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711  (what PyTorch gives)
    assert x not in [None, "a"]
    with pytest.raises(DTypeError, match=r"add: .*NoneType.*tensor \(2,\) float32"):
        x + None
    with pytest.raises(DTypeError, match=r"where: .*str"):
        mg.where(x > 1, x, "a")


def test_a_ragged_list_is_a_shape_error():
    with pytest.raises(ShapeError, match="tensor: .*inhomogeneous"):
        mg.tensor([[1.0], [1.0, 2.0]])


# --- casts: long(), int(), half(), bool() ---------------------------------------------------------

CASTS = {
    "long": np.int64,
    "int": np.int32,
    "half": np.float16,
    "bool": np.bool_,
    "float": np.float32,
    "double": np.float64,
}


@pytest.mark.parametrize("name", sorted(CASTS))
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=st.floats(-100, 100)))
def test_casts_match_numpy_and_pytorch(name, x):
    out = getattr(mg.tensor(x), name)()
    assert out.dtype == CASTS[name] and out.shape == x.shape
    np.testing.assert_array_equal(out.numpy(), x.astype(CASTS[name]))  # integers round toward zero, as C and PyTorch
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(out.numpy(), getattr(torch.from_numpy(x), name)().numpy())


@pytest.mark.parametrize("name", ["long", "int", "bool"])
def test_integer_and_bool_casts_end_the_graph(name):
    x = mg.tensor([-1.7, 0.0, 2.9], dtype=mg.float64, requires_grad=True)
    y = getattr(x, name)()
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(DTypeError, match="requires_grad.*floating-point"):
        y.requires_grad_()
    # used again as a float, the cast is a constant: d/dx sum(x * cast(x)) = cast(x), not cast(x) + x
    (x * y.double()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), x.numpy().astype(CASTS[name]).astype(np.float64))


@given(
    x=hnp.arrays(
        np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), elements=st.floats(-100, 100, width=32)
    )
)
def test_half_is_differentiable_and_the_gradient_comes_back_as_float32(x):
    t = mg.tensor(x, requires_grad=True)
    w = np.linspace(-2, 2, x.size).reshape(x.shape).astype(np.float16)  # exact in float16 and float32
    y = t.half()
    assert y.dtype == np.float16 and y.requires_grad
    (y * mg.tensor(w)).sum().backward()
    assert t.grad.dtype == np.float32
    np.testing.assert_array_equal(t.grad.numpy(), w.astype(np.float32))
    assert t.double().half().float().requires_grad  # a chain of float casts stays in the graph


def test_pytorch_dtype_aliases_name_numpy_dtypes():
    aliases = {"long": np.int64, "int": np.int32, "short": np.int16, "float": np.float32, "double": np.float64,
               "half": np.float16, "bool": np.bool_}  # fmt: skip
    for name, dtype in aliases.items():
        assert getattr(mg, name) is dtype
        assert mg.zeros(2, dtype=getattr(mg, name)).dtype == dtype
    assert mg.tensor([1.5]).to(mg.double).dtype == np.float64
    assert mg.finfo(mg.float).eps == np.finfo(np.float32).eps and mg.iinfo(mg.long).max == 2**63 - 1

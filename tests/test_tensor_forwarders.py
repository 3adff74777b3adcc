"""The Tensor methods bound from the forwarder tables in minigrad/tensor.py."""

import importlib
import inspect

import numpy as np
import pytest

import minigrad as mg
from minigrad.tensor import Tensor

tensor_module = importlib.import_module("minigrad.tensor")  # the module: ``minigrad.tensor`` is the function

FORWARDERS = tensor_module._forwarders()


def test_the_tables_are_not_empty_and_name_each_method_once():
    names = [name for _, name, _ in FORWARDERS]
    assert len(names) > 50
    assert len(names) == len(set(names))
    assert {"__mul__", "__rmul__", "exp", "sum", "flatten", "add_", "__iadd__", "__getitem__"} <= set(names)


@pytest.mark.parametrize("kind,name,path", FORWARDERS, ids=[name for _, name, _ in FORWARDERS])
def test_every_entry_is_a_method_of_tensor_wrapping_the_op_it_names(kind, name, path):
    op = tensor_module._op(path)
    method = Tensor.__dict__[name]  # set on the class itself, not inherited
    assert method.__wrapped__ is op
    assert method.__name__ == name and method.__qualname__ == f"Tensor.{name}"
    assert method.__module__ == "minigrad.tensor"
    # the op's docs, led by its name
    assert method.__doc__.startswith(("Method form of ", "Reflected form of "))
    assert f"``minigrad.ops.{path}``" in method.__doc__
    assert inspect.getdoc(op).split("\n")[0] in method.__doc__
    params = list(inspect.signature(method).parameters)
    assert params[0] == "self"
    if kind == "same_args":  # the op's own function, no call in between
        assert method.__code__ is op.__code__
        assert params[1:] == list(inspect.signature(op).parameters)[1:]
    else:  # a closure over the op itself
        assert [cell.cell_contents for cell in method.__closure__] == [op]
        assert params == (["self"] if kind == "unary" else ["self", "other"])


def test_each_kind_of_method_calls_its_op_with_the_arguments_in_order():
    calls = []

    def spy_for(path):
        def spy(x, *args, **kwargs):
            calls.append((path, (x, *args), kwargs))
            return path

        return spy

    class Probe(Tensor):
        __slots__ = ()

    tensor_module._bind_forwarders(Probe, spy_for)
    p, other = Probe._wrap(np.ones(3)), object()
    for kind, name, path in FORWARDERS:
        calls.clear()
        method = getattr(p, name)
        if kind == "unary":
            result, expected = method(), (path, (p,), {})
        elif kind == "binary":
            result, expected = method(other), (path, (p, other), {})
        elif kind == "reflected":
            result, expected = method(other), (path, (other, p), {})
        else:
            result, expected = method(1, key=2), (path, (p, 1), {"key": 2})
        assert result == path and calls == [expected], name


def test_operators_dispatch_to_the_bound_methods():
    t = mg.tensor([1.0, 2.0, 4.0])
    np.testing.assert_array_equal((t * 2).numpy(), [2, 4, 8])
    np.testing.assert_array_equal((2 - t).numpy(), [1, 0, -2])
    np.testing.assert_array_equal((np.float32(8) / t).numpy(), [8, 4, 2])
    np.testing.assert_array_equal((t < 2).numpy(), [True, False, False])
    np.testing.assert_array_equal((~(t < 2)).numpy(), [False, True, True])
    np.testing.assert_array_equal(t[1:].numpy(), [2, 4])
    u = t.clone()
    u += 1
    u *= 2
    np.testing.assert_array_equal(u.numpy(), [4, 6, 10])
    assert t.sum(dim=0, keepdim=True).shape == (1,)


def test_help_shows_the_ops_docs_and_the_methods_signature():
    assert str(inspect.signature(Tensor.sum)) == "(self, axis=None, keepdims=False, *, dim=None, keepdim=None)"
    assert str(inspect.signature(mg.tensor([1.0]).sum)) == "(axis=None, keepdims=False, *, dim=None, keepdim=None)"
    assert str(inspect.signature(Tensor.__radd__)) == "(self, other)"
    assert inspect.getdoc(mg.sum) in Tensor.sum.__doc__


def test_same_args_takes_only_plain_functions():
    with pytest.raises(TypeError, match="plain functions"):
        tensor_module._same_args(mg.exp)  # a primitive

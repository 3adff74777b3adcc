"""Module, Parameter, Sequential and ModuleList (minigrad.nn.module).

Registration by attribute, traversal (dotted names, shared parameters and
modules once), modes, zero_grad, state_dict / load_state_dict (all-or-nothing
validation), repr, and the containers.
"""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(np.ones(2, dtype=np.float32))
        self.hidden = 4  # a plain attribute
        self.offset = mg.zeros(2)  # a plain tensor: neither a parameter nor a buffer

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale + self.offset


class Net(nn.Module):
    """A nested model: a module holding a Sequential holding modules."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5))
        self.head = MLP()

    def forward(self, x):
        return self.head(self.body(x)[:, :3])


def _x(n=5, features=3, seed=0):
    return mg.tensor(np.random.default_rng(seed).standard_normal((n, features)).astype(np.float32))


def _arrays(state):
    return {k: v.numpy().copy() for k, v in state.items()}


# --- registration and traversal -------------------------------------------------------------


def test_attributes_register_parameters_and_modules():
    m = MLP()
    assert list(m._parameters) == ["scale"]
    assert list(m._modules) == ["fc1", "act", "fc2"]
    assert m.hidden == 4 and "hidden" not in m._parameters
    assert isinstance(m.offset, mg.Tensor) and "offset" not in m._buffers
    assert isinstance(m.fc1.weight, nn.Parameter) and m.fc1.weight.requires_grad
    # Reassigning a name moves it between registries.
    m.fc1 = nn.Identity()
    assert isinstance(m.fc1, nn.Identity)
    m.act = 3
    assert "act" not in m._modules and m.act == 3
    del m.fc2
    assert "fc2" not in m._modules
    with pytest.raises(AttributeError, match="fc2"):
        m.fc2  # noqa: B018


def test_registering_a_name_that_holds_a_plain_attribute_replaces_it():
    # A plain attribute lives in the instance __dict__, which Python reads before __getattr__ looks in
    # the registries: registering the name must remove it there, or the old value shadows the new one.
    m = MLP()
    m.act = 3
    m.act = nn.Tanh()
    assert isinstance(m.act, nn.Tanh) and "act" in m._modules
    m.hidden = None
    m.hidden = nn.Linear(2, 2)
    assert isinstance(m.hidden, nn.Linear) and "hidden.weight" in dict(m.named_parameters())
    m.scale = 2.0
    p = nn.Parameter(np.zeros(2, dtype=np.float32))
    m.scale = p
    assert m.scale is p and m._parameters["scale"] is p
    m.extra = 1
    m.add_module("extra", nn.ReLU())
    assert isinstance(m.extra, nn.ReLU)


def test_named_parameters_have_dotted_names_in_order():
    names = [name for name, _ in Net().named_parameters()]
    assert names == [
        "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias",
        "head.scale", "head.fc1.weight", "head.fc1.bias", "head.fc2.weight", "head.fc2.bias",
    ]  # fmt: skip
    net = Net()
    pairs = list(zip((p for _, p in net.named_parameters()), net.parameters(), strict=True))
    assert all(a is b for a, b in pairs)
    assert [name for name, _ in net.head.named_parameters(recurse=False)] == ["scale"]
    assert [name for name, _ in net.named_parameters(prefix="model")][0] == "model.body.0.weight"


def test_buffers_are_state_but_not_parameters():
    net = Net()
    assert [name for name, _ in net.named_buffers()] == [
        "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked"
    ]  # fmt: skip
    assert all(not isinstance(b, nn.Parameter) for b in net.buffers())
    assert "body.1.running_mean" not in dict(net.named_parameters())
    assert "body.1.running_mean" in net.state_dict()


def test_assigning_a_tensor_to_a_buffer_keeps_it_a_buffer():
    bn = nn.BatchNorm1d(3)
    bn.running_mean = mg.ones(3)
    assert "running_mean" in bn._buffers and "running_mean" in bn.state_dict()
    np.testing.assert_array_equal(bn.state_dict()["running_mean"].numpy(), np.ones(3))
    bn.running_mean = None
    assert "running_mean" not in bn.state_dict()


def test_shared_parameters_and_modules_are_listed_once():
    shared = nn.Linear(3, 3)
    seq = nn.Sequential(shared, nn.ReLU(), shared)
    assert [name for name, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(seq.parameters())) == 2
    assert [name for name, _ in seq.named_modules()] == ["", "0", "1"]
    assert sum(m is shared for m in seq.modules()) == 1

    # A tied weight: one Parameter assigned to two layers.
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    b.weight = a.weight
    tied = nn.Sequential(a, b)
    assert [name for name, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    out = tied(_x(features=4)).sum()
    out.backward()
    assert a.weight.grad is not None and a.weight.grad is b.weight.grad


def test_children_and_modules():
    net = Net()
    assert [type(c).__name__ for c in net.children()] == ["Sequential", "MLP"]
    assert [name for name, _ in net.named_children()] == ["body", "head"]
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "body", "body.0", "body.1", "body.2", "head", "head.fc1", "head.act", "head.fc2"]
    modules = list(net.modules())
    assert modules[0] is net and len(modules) == len(names)


def test_train_and_eval_propagate_to_every_descendant():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net
    assert all(m.training for m in net.modules())
    net.train(False)
    assert not any(m.training for m in net.modules())
    # In eval mode dropout is the identity and batch norm uses running statistics: repeatable outputs.
    x = _x(8)
    np.testing.assert_array_equal(net(x).numpy(), net(x).numpy())


def test_zero_grad_to_none_and_to_zeros():
    m = MLP()
    m(_x()).sum().backward()
    params = list(m.parameters())
    assert all(p.grad is not None for p in params)
    grads = [p.grad for p in params]
    m.zero_grad(set_to_none=False)
    for p, g in zip(params, grads):
        assert p.grad is g  # zeroed in place
        np.testing.assert_array_equal(p.grad.numpy(), np.zeros(p.shape))
    m(_x()).sum().backward()  # accumulates into the zeros
    assert np.abs(m.fc2.bias.grad.numpy()).sum() > 0
    m.zero_grad()
    assert all(p.grad is None for p in params)
    m.zero_grad(set_to_none=False)  # no gradients at all: nothing to do
    assert all(p.grad is None for p in params)


def test_requires_grad_and_apply():
    m = MLP()
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())
    m.requires_grad_()
    assert all(p.requires_grad for p in m.parameters())
    visited = []
    m.apply(lambda module: visited.append(type(module).__name__))
    assert visited == ["Linear", "ReLU", "Linear", "MLP"]


def test_parameter_shares_a_tensor_and_copies_arrays():
    t = mg.ones(3)
    p = nn.Parameter(t)
    assert p.requires_grad and p.array is t.array
    a = np.ones(3, dtype=np.float32)
    q = nn.Parameter(a)
    a[0] = 5
    assert q.numpy()[0] == 1
    assert not nn.Parameter(a, requires_grad=False).requires_grad
    assert repr(q).startswith("Parameter containing:\n")


def test_forgetting_super_init_is_a_clear_attribute_error():
    class Assigns(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        Assigns()

    class Silent(nn.Module):
        def __init__(self):
            pass

    m = Silent()
    with pytest.raises(AttributeError, match=r"super\(\)\.__init__\(\)"):
        list(m.parameters())


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="'MLP' object has no attribute 'nope'"):
        MLP().nope  # noqa: B018


# --- state_dict / load_state_dict -----------------------------------------------------------


def test_state_dict_round_trip():
    mg.manual_seed(0)
    source = Net()
    source(_x(8))  # training step: moves the running statistics
    mg.manual_seed(1)
    target = Net()
    state = source.state_dict()
    assert isinstance(state, OrderedDict)
    assert set(state) == {name for name, _ in source.named_parameters()} | {n for n, _ in source.named_buffers()}
    assert not any(v.requires_grad for v in state.values())
    assert target.load_state_dict(state) == ([], [])
    for (name, a), b in zip(_arrays(source.state_dict()).items(), _arrays(target.state_dict()).values()):
        np.testing.assert_array_equal(a, b, err_msg=name)
    source.eval(), target.eval()
    np.testing.assert_array_equal(source(_x(4, seed=3)).numpy(), target(_x(4, seed=3)).numpy())


def test_state_dict_lists_each_module_s_parameters_then_its_buffers_in_module_order():
    # PyTorch's order: each module's own parameters and buffers, then its children's; not every
    # parameter of the model before every buffer (code that pairs two state dicts by position relies on it).
    seq = nn.Sequential(nn.BatchNorm1d(2), nn.Linear(2, 2))
    assert list(seq.state_dict()) == [
        "0.weight", "0.bias", "0.running_mean", "0.running_var", "0.num_batches_tracked", "1.weight", "1.bias"
    ]  # fmt: skip
    assert list(Net().state_dict())[:7] == [
        "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "body.1.running_mean", "body.1.running_var",
        "body.1.num_batches_tracked",
    ]  # fmt: skip


def test_load_state_dict_copies_values_and_accepts_arrays():
    m = nn.Linear(2, 3)
    values = {"weight": np.arange(6.0).reshape(3, 2), "bias": mg.tensor([1.0, 2.0, 3.0])}
    version = m.weight._version
    m.load_state_dict(values)
    assert m.weight.dtype == np.float32  # cast to the parameter's dtype
    np.testing.assert_array_equal(m.weight.numpy(), np.arange(6.0).reshape(3, 2))
    assert m.weight._version > version
    values["weight"][...] = -1  # the model holds a copy
    values["bias"].array[...] = -1
    np.testing.assert_array_equal(m.bias.numpy(), [1, 2, 3])


def test_load_state_dict_invalidates_graphs_that_saved_the_old_weights():
    m = nn.Conv2d(1, 1, 2)
    x = mg.tensor(np.ones((1, 1, 3, 3), dtype=np.float32), requires_grad=True)
    out = m(x).sum()
    m.load_state_dict({"weight": np.zeros((1, 1, 2, 2)), "bias": np.zeros(1)})
    with pytest.raises(mg.GraphError, match="in place"):
        out.backward()


def test_load_state_dict_invalidates_graphs_that_saved_a_view_of_the_old_weights():
    m = nn.Linear(2, 2)
    x = mg.tensor(np.ones((1, 2), dtype=np.float32), requires_grad=True)
    out = m(x).sum()
    m.load_state_dict({"weight": np.zeros((2, 2)), "bias": np.zeros(2)})
    with pytest.raises(mg.GraphError, match="in place"):
        out.backward()


def test_load_state_dict_reports_every_problem_at_once_and_assigns_nothing():
    m = Net()
    before = _arrays(m.state_dict())
    state = {k: mg.tensor(np.full(v.shape, 7.0, dtype=np.float32)) for k, v in m.state_dict().items()}
    state["head.fc1.weight"] = mg.zeros(5, 5)  # wrong shape
    del state["head.fc2.bias"]  # missing
    del state["body.1.running_var"]  # missing buffer
    state["head.fc3.weight"] = mg.zeros(2)  # unexpected
    with pytest.raises(nn.StateDictError) as info:
        m.load_state_dict(state)
    assert isinstance(info.value, ValueError) and isinstance(info.value, mg.MinigradError)
    message = str(info.value)
    for needle in ("head.fc1.weight", "(5, 5)", "(4, 3)", "head.fc2.bias", "body.1.running_var", "head.fc3.weight"):
        assert needle in message
    assert "4 problem(s)" in message and "nothing was loaded" in message
    after = _arrays(m.state_dict())
    for name in before:  # not even the valid entries were assigned
        np.testing.assert_array_equal(before[name], after[name], err_msg=name)


def test_load_state_dict_non_strict_allows_missing_and_unexpected_but_not_wrong_shapes():
    m = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    state = {"0.weight": np.ones((3, 2)), "1.bias": np.full(1, 5.0), "extra": np.zeros(2)}
    missing, unexpected = m.load_state_dict(state, strict=False)
    assert missing == ["0.bias", "1.weight"] and unexpected == ["extra"]
    np.testing.assert_array_equal(m[0].weight.numpy(), np.ones((3, 2)))
    np.testing.assert_array_equal(m[1].bias.numpy(), [5.0])

    before = _arrays(m.state_dict())
    bad = {"0.weight": np.full((3, 2), 9.0), "1.weight": np.zeros((3, 1))}  # a good entry and a transposed one
    with pytest.raises(nn.StateDictError, match=r"1\.weight: shape \(3, 1\)"):
        m.load_state_dict(bad, strict=False)
    for name, value in _arrays(m.state_dict()).items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_rejects_values_that_are_not_arrays():
    m = nn.Linear(2, 1)
    with pytest.raises(nn.StateDictError, match="weight: expected a tensor or array, got list"):
        m.load_state_dict({"weight": [[1.0, 2.0]], "bias": np.zeros(1)})


# --- repr -----------------------------------------------------------------------------------


def test_repr_of_a_small_sequential():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2, bias=False))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Linear(in_features=8, out_features=2, bias=False)\n"
        ")"
    )


def test_repr_nests_with_indentation():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.MaxPool2d(2))
            self.classifier = nn.Linear(16, 10)

    assert repr(Model()) == (
        "Model(\n"
        "  (features): Sequential(\n"
        "    (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "    (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n"
        "  )\n"
        "  (classifier): Linear(in_features=16, out_features=10, bias=True)\n"
        ")"
    )


# --- containers -----------------------------------------------------------------------------


def test_sequential_indexing_len_iteration_and_forward():
    layers = [nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    assert all(a is b for a, b in zip(seq, layers, strict=True))
    head = seq[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[1] is layers[1]
    with pytest.raises(IndexError):
        seq[3]
    x = _x()
    np.testing.assert_array_equal(seq(x).numpy(), layers[2](layers[1](layers[0](x))).numpy())
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and [name for name, _ in seq.named_children()][-1] == "3"
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)


def test_sequential_slice_keeps_the_names_of_its_modules():
    # As PyTorch: seq[1:] holds modules "1" and "2", so its state_dict keys match the full model's.
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    tail = seq[1:]
    assert [name for name, _ in tail.named_children()] == ["1", "2"]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"]
    named = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert named[-1:].act is named.act
    blocks = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    assert [name for name, _ in blocks[1:].named_children()] == ["0", "1"]  # ModuleList renumbers, as PyTorch


def test_sequential_from_ordered_dict_uses_its_names():
    seq = nn.Sequential(OrderedDict([("encoder", nn.Linear(2, 3)), ("act", nn.ReLU())]))
    assert [name for name, _ in seq.named_parameters()] == ["encoder.weight", "encoder.bias"]
    assert seq.encoder is seq[0]


def test_module_list_registers_and_indexes():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(blocks) == 3
    assert len(list(blocks.parameters())) == 6
    assert [name for name, _ in blocks.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert blocks[-1] is list(blocks)[2]
    part = blocks[1:]
    assert isinstance(part, nn.ModuleList) and len(part) == 2 and part[0] is blocks[1]
    blocks.append(nn.ReLU()).extend([nn.Tanh(), nn.Sigmoid()])
    assert len(blocks) == 6
    with pytest.raises(TypeError, match="expected a Module"):
        blocks.append("relu")

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    stack = Stack()
    assert [name for name, _ in stack.named_parameters()][-1] == "layers.1.bias"
    assert stack(_x(features=2)).shape == (5, 2)


# --- ModuleDict, ParameterList, ParameterDict ------------------------------------------------------------------------


def test_module_dict_registers_under_its_keys():
    heads = nn.ModuleDict({"cls": nn.Linear(2, 3), "reg": nn.Linear(2, 1)})
    assert list(heads) == ["cls", "reg"] and len(heads) == 2 and "cls" in heads and "x" not in heads
    assert list(heads.state_dict()) == ["cls.weight", "cls.bias", "reg.weight", "reg.bias"]
    heads["aux"] = nn.Linear(2, 2)
    heads.update([("reg", nn.Linear(2, 5))])  # replaces in place, keeps the order
    assert list(heads.keys()) == ["cls", "reg", "aux"] and heads["reg"].out_features == 5
    popped = heads.pop("cls")
    assert isinstance(popped, nn.Linear) and list(heads) == ["reg", "aux"]
    assert [type(m) for m in heads.values()] == [nn.Linear, nn.Linear]
    assert [k for k, _ in heads.items()] == ["reg", "aux"]
    del heads["aux"]
    assert len(list(heads.parameters())) == 2
    with pytest.raises(TypeError, match="expected a Module"):
        heads["bad"] = mg.zeros(2)
    with pytest.raises(TypeError, match="pairs"):
        heads.update([nn.ReLU()])
    heads.clear()
    assert len(heads) == 0 and list(heads.parameters()) == []


def test_parameter_list_registers_indexes_and_loads():
    params = nn.ParameterList([nn.Parameter(mg.zeros(2, 2)), mg.ones(3)])  # a plain tensor is wrapped
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    params.append(nn.Parameter(mg.zeros(4))).extend([nn.Parameter(mg.zeros(1))])
    assert len(params) == 4 and params[-1].shape == (1,) and params[1].shape == (3,)
    assert list(params.state_dict()) == ["0", "1", "2", "3"]
    part = params[1:3]
    assert isinstance(part, nn.ParameterList) and part[0] is params[1] and list(part.state_dict()) == ["0", "1"]
    params[0] = nn.Parameter(mg.ones(2, 2))
    assert params[0].numpy().sum() == 4
    with pytest.raises(IndexError, match="out of range for 4"):
        params[4]
    with pytest.raises(TypeError, match="expected a Parameter or a Tensor"):
        params.append(np.zeros(2))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(mg.zeros(2)) for _ in range(2)])

    m = Model()
    assert list(m.state_dict()) == ["ws.0", "ws.1"]
    m.load_state_dict({"ws.0": np.array([1.0, 2.0]), "ws.1": np.array([3.0, 4.0])})
    np.testing.assert_array_equal(m.ws[1].numpy(), [3.0, 4.0])
    (m.ws[0] * m.ws[1]).sum().backward()
    np.testing.assert_array_equal(m.ws[0].grad.numpy(), [3.0, 4.0])


def test_parameter_dict_registers_under_its_keys():
    pd = nn.ParameterDict({"scale": nn.Parameter(mg.ones(3)), "shift": mg.zeros(3)})
    assert list(pd) == ["scale", "shift"] and isinstance(pd["shift"], nn.Parameter)
    assert list(pd.state_dict()) == ["scale", "shift"] and "scale" in pd
    pd.update({"extra": nn.Parameter(mg.zeros(1))})
    assert list(pd.keys()) == ["scale", "shift", "extra"] and len(pd) == 3
    assert pd.get("missing") is None and pd.get("extra") is pd["extra"]
    assert pd.pop("extra").shape == (1,) and len(list(pd.values())) == 2
    assert [k for k, _ in pd.items()] == ["scale", "shift"]
    del pd["shift"]
    assert list(pd.state_dict()) == ["scale"]
    with pytest.raises(TypeError, match="keys must be strings"):
        pd[0] = mg.zeros(1)
    with pytest.raises(nn.StateDictError, match="missing key: scale"):
        pd.load_state_dict({})
    pd.clear()
    assert len(pd) == 0

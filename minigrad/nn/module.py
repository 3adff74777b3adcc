"""Module and Parameter: how layers hold their weights, as in PyTorch.

Assigning a :class:`Parameter` or a :class:`Module` to an attribute of a
module registers it; ``parameters()``, ``state_dict()``, ``train()`` and
friends then walk the tree of registered children.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .. import backend
from ..autograd import no_grad
from ..errors import MinigradError, ShapeError
from ..interpreter import host_call
from ..tensor import Tensor, _as_array


class Parameter(Tensor):
    """A tensor that is a module's weight: it requires grad and modules register it.

    ``Parameter(tensor)`` shares the tensor's data; arrays and Python data are copied.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        self.array = data.array if isinstance(data, Tensor) else _as_array(data, None, None, copy=True)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._vc = data._vc if isinstance(data, Tensor) else [0]
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that is a module's state but not a weight, PyTorch's ``nn.Buffer(data=None, *, persistent=True)``.

    Assigning one to a module attribute registers it as a buffer (``module.register_buffer(name, value,
    persistent)``): it appears in ``buffers()``, moves with ``to()``, and is saved in ``state_dict``
    unless ``persistent=False``. It shares ``data``'s memory (detached) and keeps its requires_grad.
    A plain Tensor assigned to an attribute stays a plain attribute, as in PyTorch.
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent: bool = True):
        if data is None:
            data = np.zeros(0, dtype=np.float32)
        self.array = data.array if isinstance(data, Tensor) else _as_array(data, None, None, copy=True)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._vc = data._vc if isinstance(data, Tensor) else [0]
        self.persistent = bool(persistent)
        if isinstance(data, Tensor) and data.requires_grad:
            self.requires_grad_(True)


class RemovableHandle:
    """What ``register_forward_pre_hook`` / ``register_forward_hook`` return: ``remove()`` unregisters the hook
    (also as a context manager, on exit), as PyTorch's ``torch.utils.hooks.RemovableHandle``."""

    _next_id = 0

    def __init__(self, hooks: OrderedDict, hook, prepend: bool = False):
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        self._hooks = hooks
        hooks[self.id] = hook
        if prepend:
            hooks.move_to_end(self.id, last=False)

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class StateDictError(MinigradError, ValueError):
    """``load_state_dict`` found missing, unexpected or mis-shaped entries; nothing was assigned."""


class Module:
    """Base class of every layer and model: subclass it, assign layers and Parameters in
    ``__init__`` (after ``super().__init__()``), and compute the output in ``forward``."""

    training: bool

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    # --- registration ----------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__(): call super().__init__() first in "
                f"{type(self).__name__}.__init__"
            )
        if isinstance(value, Buffer):  # nn.Buffer: assigning one registers it, with its persistence
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if name in self._buffers and (value is None or isinstance(value, Tensor)) and not isinstance(value, Parameter):
            self._buffers[name] = value  # a new value for a buffer stays a buffer (saved in state_dict), as PyTorch
            return
        target = None  # the registry the value goes into: a new Parameter for a parameter keeps its place
        if isinstance(value, (Parameter, Module)):
            target = self._parameters if isinstance(value, Parameter) else self._modules
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not target:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        if target is not None:
            self.__dict__.pop(name, None)  # a plain attribute of that name would shadow the registered value
            target[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(registry)
            if entries is not None and name in entries:
                return entries[name]
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}: Module.__init__() was never called; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None, for an absent optional weight such as a bias)."""
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register state that is not trained (running statistics): saved in ``state_dict`` unless
        ``persistent=False``, moved by ``to()`` either way, as PyTorch's."""
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"register_buffer: a buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__!r} object to buffer {name!r} (Tensor or None required)"
            )
        for registry in (self._parameters, self._modules):
            registry.pop(name, None)
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self.__dict__.pop(name, None)  # as in __setattr__: a plain attribute would shadow the module
        self._modules[name] = module

    # --- forward ----------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks:
            for hook in list(self._forward_pre_hooks.values()):
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                result = hook(self, args, out)
                if result is not None:
                    out = result
        return out

    def register_forward_pre_hook(self, hook, *, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before every ``forward``; a non-None result replaces the positional
        arguments (a single value is wrapped in a tuple). Returns a handle whose ``remove()`` unregisters it."""
        return RemovableHandle(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook, *, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after every ``forward``; a non-None result replaces the output."""
        return RemovableHandle(self._forward_hooks, hook, prepend)

    # --- traversal ----------------------------------------------------------------------
    def named_modules(self, prefix: str = "", _seen: set | None = None):
        """Yield (name, module) for this module and every descendant, depth first; a module
        registered in several places (shared) is yielded once, under its first name, as PyTorch."""
        seen = set() if _seen is None else _seen
        if id(self) in seen:
            return
        seen.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, seen)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """Yield (dotted name, Parameter), each parameter once even if shared."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                yield (f"{module_prefix}.{name}" if module_prefix else name), param

    def parameters(self, recurse: bool = True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True):
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, buf in module._buffers.items():
                if buf is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), buf

    def buffers(self, recurse: bool = True):
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    # --- modes and gradients -----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch norm uses batch statistics) for this module and its children."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode: ``train(False)``."""
        return self.train(False)

    @host_call  # minigrad.compile replays the call itself
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient (to None, or to zeros in place)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.array[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> Module:
        """Call ``fn`` on every descendant and then on this module (as PyTorch, e.g. for initialization)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, device=None, dtype=None) -> Module:
        """Move every parameter and buffer to a device and/or cast floating-point ones to a dtype, in place."""
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        target = None if device is None else backend.normalize_device(device)
        for tensor in [*self.parameters(), *self.buffers()]:
            data = tensor.array
            if target is not None:
                data = backend.to_device(data, target)
            if dtype is not None and data.dtype.kind == "f":
                data = data.astype(dtype)
            if data is not tensor.array:
                tensor.array = data
                tensor.grad = None
        return self

    def double(self) -> Module:
        """Cast every floating-point parameter and buffer to float64, in place (``to(torch.float64)``)."""
        return self.to(dtype=np.float64)

    def float(self) -> Module:
        """Cast every floating-point parameter and buffer to float32, in place (``to(torch.float32)``)."""
        return self.to(dtype=np.float32)

    def half(self) -> Module:
        """Cast every floating-point parameter and buffer to float16, in place (``to(torch.float16)``)."""
        return self.to(dtype=np.float16)

    # --- state ----------------------------------------------------------------------------------
    def _named_state(self) -> list:
        """(dotted name, tensor) of every parameter and persistent buffer, with PyTorch's keys and order: a
        module's own parameters, then its own buffers, then each child's entries in turn. As PyTorch, a
        parameter or module reachable under two names (a tied weight, a layer used twice) is listed under
        each, so a weight-tied model's state dict has both keys and loads strictly into PyTorch's."""
        entries = []
        todo = [("", self)]
        while todo:  # depth first, children in registration order
            prefix, module = todo.pop()
            entries += [(prefix + n, p) for n, p in module._parameters.items() if p is not None]
            skip = module.__dict__.get("_non_persistent_buffers_set", ())  # register_buffer(persistent=False)
            entries += [(prefix + n, b) for n, b in module._buffers.items() if b is not None and n not in skip]
            children = [(f"{prefix}{n}.", m) for n, m in module._modules.items() if m is not None]
            todo += reversed(children)
        return entries

    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer by dotted name, as tensors detached from the graph."""
        return OrderedDict((name, tensor.detach()) for name, tensor in self._named_state())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy values from ``state_dict`` into the parameters and buffers, validating everything first.

        Raises StateDictError listing every missing key, unexpected key and
        shape mismatch (with ``strict=False``, missing and unexpected keys are
        allowed, shape mismatches never are). Nothing is assigned unless every
        check passes. Returns (missing_keys, unexpected_keys).
        """
        own = OrderedDict(self._named_state())
        defaults = {}
        for prefix, module in self.named_modules():
            defaults.update(module._state_defaults(state_dict, f"{prefix}." if prefix else ""))
        if defaults:  # entries an older state dict lacks, supplied by their modules (as PyTorch's versioned loading)
            state_dict = {**state_dict, **defaults}
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        values = {}
        for name, target in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.array if isinstance(value, Tensor) else value
            if not backend.is_array(array):
                problems.append(f"{name}: expected a tensor or array, got {type(value).__name__}")
                continue
            if tuple(array.shape) != tuple(target.shape):
                problems.append(
                    f"{name}: shape {tuple(array.shape)} in the state dict, {tuple(target.shape)} in the model"
                )
                continue
            if array.dtype.kind not in "biuf":
                problems.append(f"{name}: dtype {array.dtype} cannot be loaded")
                continue
            values[name] = array
        if strict:
            problems += [f"missing key: {k}" for k in missing] + [f"unexpected key: {k}" for k in unexpected]
        if problems:
            raise StateDictError(
                f"load_state_dict into {type(self).__name__}: {len(problems)} problem(s), nothing was loaded:\n  "
                + "\n  ".join(problems)
            )
        with no_grad():
            for name, array in values.items():
                target = own[name]
                target.array[...] = backend.to_device(array, target.device).astype(target.dtype, copy=False)
                target._vc[0] += 1
        return missing, unexpected

    def _state_defaults(self, state_dict, prefix: str) -> dict:
        """Entries (full key -> tensor) that this module supplies when ``state_dict`` lacks them, so that a
        state dict saved before a buffer existed still loads strictly; PyTorch's version check in
        ``_load_from_state_dict``. ``prefix`` is this module's key prefix ("" or "name."). None by default."""
        return {}

    # --- printing ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The settings shown between the parentheses of this module's repr."""
        return ""

    def __repr__(self) -> str:
        children = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        extra = self.extra_repr()
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class _Container(Module):
    """What Sequential and ModuleList share: ``len``, iteration, and indexing by int or slice."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._sliced(list(self._modules.items())[index])
        return list(self._modules.values())[index]

    def _sliced(self, items):
        """A container of the same kind holding ``items``, a list of (name, module)."""
        raise NotImplementedError


class Sequential(_Container):
    """Modules applied one after another: ``Sequential(Linear(4, 8), ReLU(), Linear(8, 2))``.

    Also accepts an ``OrderedDict`` of named modules. Supports ``len``,
    indexing (an int or a slice) and iteration.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                if not isinstance(module, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a Module")
                self.add_module(str(i), module)

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def _sliced(self, items) -> Sequential:
        return Sequential(OrderedDict(items))  # keeps the names, as PyTorch: seq[1:] holds "1", "2", ...

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(_Container):
    """A list of modules whose parameters are registered: ``ModuleList([Linear(4, 4) for _ in range(3)])``."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a Module, got {type(module).__name__}")
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def _sliced(self, items) -> ModuleList:
        return ModuleList(module for _, module in items)  # renumbered from 0, as PyTorch


def _check_shape(op: str, x, ndims, what: str):
    if x.ndim not in ndims:
        raise ShapeError(f"{op}: expected {what}, got shape {tuple(x.shape)}")


class ModuleDict(Module):
    """Modules held by string key, registered under those keys (``state_dict`` keys ``"<key>.weight"``...).

    As PyTorch's: indexing, ``in``, ``len``, iteration over the keys (in insertion order), ``keys()``,
    ``items()``, ``values()``, ``update()``, ``pop()``, ``clear()``; ``ModuleDict({"a": Linear(2, 2)})``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}]: expected a Module, got {type(module).__name__}")
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key: str) -> Module:
        module = self._modules[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules) -> None:
        """Add (or replace) entries from a mapping or an iterable of (key, module) pairs."""
        items = modules.items() if hasattr(modules, "items") else modules
        for entry in items:
            if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                raise TypeError(f"ModuleDict.update: expected (key, module) pairs, got {entry!r}")
            self[entry[0]] = entry[1]


def _as_parameter(value, where: str) -> Parameter:
    """A Parameter as is; another Tensor becomes a Parameter sharing its data, as PyTorch's containers do."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{where}: expected a Parameter or a Tensor, got {type(value).__name__}")


class ParameterList(Module):
    """A list of Parameters registered under ``"0"``, ``"1"``, ... (their ``state_dict`` keys).

    As PyTorch's: ``append``, ``extend``, indexing by int (negative too) or slice (a new
    ParameterList), assignment by index, ``len`` and iteration. Plain tensors are wrapped as Parameters.
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> int:
        n = len(self._parameters)
        if not isinstance(idx, int) or not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx!r} is out of range for {n} parameters")
        return idx % n

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self._parameters.values())[idx])
        return self._parameters[str(self._index(idx))]

    def __setitem__(self, idx: int, value) -> None:
        self.register_parameter(str(self._index(idx)), _as_parameter(value, "ParameterList"))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList.append"))
        return self

    def extend(self, values) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: {tuple(p.shape)}" for k, p in self._parameters.items())


class ParameterDict(Module):
    """Parameters held by string key, registered under those keys (their ``state_dict`` keys).

    As PyTorch's: indexing, ``in``, ``len``, iteration over the keys, ``keys()``, ``items()``,
    ``values()``, ``get()``, ``update()``, ``pop()``, ``clear()``. Plain tensors are wrapped as Parameters.
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Parameter:
        return self._parameters[key]

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter(value, f"ParameterDict[{key!r}]"))

    def __delitem__(self, key: str) -> None:
        del self._parameters[key]

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key) -> bool:
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key: str, default=None):
        return self._parameters.get(key, default)

    def pop(self, key: str) -> Parameter:
        value = self._parameters[key]
        del self._parameters[key]
        return value

    def clear(self) -> None:
        self._parameters.clear()

    def update(self, parameters) -> None:
        """Add (or replace) entries from a mapping or an iterable of (key, parameter) pairs."""
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for entry in items:
            if not isinstance(entry, (tuple, list)) or len(entry) != 2:
                raise TypeError(f"ParameterDict.update: expected (key, parameter) pairs, got {entry!r}")
            self[entry[0]] = entry[1]

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: {tuple(p.shape)}" for k, p in self._parameters.items())

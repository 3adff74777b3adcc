"""``torch.nn.utils.parametrize``: a tensor of a module computed from other tensors on every access.

``register_parametrization(module, "weight", p)`` moves the parameter into
``module.parametrizations.weight.original`` (or ``original0``, ``original1``, ... when ``p.right_inverse``
returns several tensors) and makes ``module.weight`` a property that returns ``p(original)``
(``p(*originals)``), chained through every parametrization registered on that name. The module's class
becomes a subclass named ``Parametrized<Class>``, as PyTorch's; ``remove_parametrizations`` undoes it.
State-dict keys are PyTorch's (``parametrizations.weight.original``, ``parametrizations.weight.0._u``, ...).
"""

from __future__ import annotations

from ...autograd import no_grad
from ...tensor import Tensor
from ..module import Module, ModuleDict, ModuleList, Parameter


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, and the original tensor(s) they are computed from."""

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    new = module.right_inverse(new)
        requires_grad = original.requires_grad
        if isinstance(new, Tensor):
            self.is_tensor, self.ntensors = True, 1
            if new is not original:
                original.array[...] = new.array
                original._vc[0] += 1
            self._keep("original", original)
        else:
            self.is_tensor, self.ntensors = False, len(new)
            for k, tensor in enumerate(new):
                value = Parameter(tensor.detach(), requires_grad) if isinstance(original, Parameter) else tensor
                self._keep(f"original{k}", value)

    def _keep(self, name: str, value: Tensor) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(name, value)
        else:
            self.register_buffer(name, value)

    def forward(self) -> Tensor:
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*(getattr(self, f"original{k}") for k in range(self.ntensors)))
        for module in modules[1:]:
            x = module(x)
        return x

    def right_inverse(self, value: Tensor) -> None:
        """Set the original(s) so that the parametrized tensor becomes ``value``."""
        with no_grad():
            for module in reversed(list(self)):
                if hasattr(module, "right_inverse"):
                    value = module.right_inverse(value)
            targets = (
                [self.original] if self.is_tensor else [getattr(self, f"original{k}") for k in range(self.ntensors)]
            )
            values = [value] if self.is_tensor else list(value)
            for target, new in zip(targets, values):
                target.array[...] = new.array
                target._vc[0] += 1


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module`` has a parametrization (on ``tensor_name``, when given)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def _inject_new_class(module: Module) -> None:
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"_parametrize_base": cls})


def _inject_property(module: Module, tensor_name: str) -> None:
    def get_parametrized(self):
        return self.parametrizations[tensor_name]()

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:  # fmt: skip
    """Make ``module.<tensor_name>`` = ``parametrization(original)``, computed on every access (see the module
    docstring). A second registration on the same name chains after the first. Returns the module.
    Raises ValueError when the module has no parameter or buffer of that name."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    original = module._parameters.get(tensor_name)
    if original is None:
        original = module._buffers.get(tensor_name)
    if original is None:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with name "
                         f"'{tensor_name}'")  # fmt: skip
    parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        _inject_new_class(module)
        module.parametrizations = ModuleDict()
    _inject_property(module, tensor_name)
    module.parametrizations[tensor_name] = parametrizations
    return module


def remove_parametrizations(module: Module, tensor_name: str, leave_parametrized: bool = True) -> Module:
    """Undo :func:`register_parametrization` on ``tensor_name``: it becomes a Parameter again, holding the
    parametrized value (``leave_parametrized``) or the original. Raises ValueError when it is not parametrized,
    or when ``leave_parametrized=False`` for a tensor parametrized by several originals."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            original.array[...] = value.array
            original._vc[0] += 1
    else:
        if not leave_parametrized:
            raise ValueError(
                "Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized in terms of "
                "a sequence of tensors."
            )
        with no_grad():
            value = getattr(module, tensor_name)
        original = Parameter(value.detach(), True)
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__._parametrize_base
    return module


__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "ParametrizationList"]

"""``torch.nn.utils.weight_norm`` / ``remove_weight_norm``: the classic, hook-based weight normalization
(Salimans & Kingma, 2016), with PyTorch's parameter names and shapes.

w = g * v / ||v||, the norm taken over every dimension but ``dim`` (over all of v when ``dim`` is None).
The module's ``weight`` parameter is replaced by ``weight_g`` (the norms: v's shape with every
dimension but ``dim`` made 1; 0-d for ``dim=None``) and ``weight_v`` (the direction, initialised to
the weight), appended after the other parameters; ``weight`` becomes a plain tensor, recomputed from
them by a forward pre-hook before every forward, so gradients reach g and v through it.
"""

from __future__ import annotations

import warnings

from ...ops.elementwise import sqrt
from ...ops.reduction import sum as _sum
from ...tensor import Tensor
from ..module import Module, Parameter


def _norm_except_dim(v: Tensor, dim: int) -> Tensor:
    """||v||_2 over every dimension but ``dim`` (kept as size 1); over all of v (0-d) when dim == -1."""
    if dim == -1:
        return sqrt(_sum(v * v))
    dim = dim % v.ndim
    return sqrt(_sum(v * v, axis=tuple(k for k in range(v.ndim) if k != dim), keepdims=True))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` = g * v / ||v|| (see :func:`weight_norm`)."""

    def __init__(self, name: str, dim: int | None) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            raise ValueError(f"weight_norm: {type(module).__name__} has no parameter {name!r}")
        fn = WeightNorm(name, dim)
        if fn.dim != -1 and not -weight.ndim <= fn.dim < weight.ndim:
            raise ValueError(f"weight_norm: dim={dim} is out of range for {name} of shape {tuple(weight.shape)}")
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight.detach(), fn.dim)))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparameterise ``module.<name>`` as g * v / ||v|| (norm over every dimension but ``dim``; all when None).

    As PyTorch's (deprecated there in favour of ``parametrizations.weight_norm``, with the same
    FutureWarning): parameters ``<name>_g`` and ``<name>_v`` replace ``<name>``, which a forward
    pre-hook recomputes before each call. Returns the module. Raises RuntimeError when the
    parameter already has weight norm, ValueError when it does not exist.
    """
    warnings.warn(
        "`torch.nn.utils.weight_norm` is deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`.",
        FutureWarning,
        stacklevel=2,
    )
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`weight_norm`: ``<name>`` becomes a Parameter again holding g * v / ||v||. Returns the module.

    Raises ValueError when ``<name>`` has no weight norm.
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


__all__ = ["weight_norm", "remove_weight_norm", "WeightNorm"]

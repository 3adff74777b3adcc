"""``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``: the classic, hook-based spectral normalization
(Miyato et al., 2018) of GAN discriminators, with PyTorch's names, buffers and power-iteration rule.

w = W / sigma(W), sigma the largest singular value of W reshaped to a matrix (dim ``dim`` first:
(W.shape[dim], -1)), estimated by power iteration. The module's ``weight`` parameter becomes
``weight_orig``; buffers ``weight_u`` (h,) and ``weight_v`` (w,) hold the singular-vector estimates,
initialised to normalized standard-normal draws. Before every forward a pre-hook sets the plain
tensor ``weight``: in training mode it first runs ``n_power_iterations`` steps, in place on the
buffers and without gradient,

    v <- normalize(W^T u),   u <- normalize(W v),      normalize(x) = x / max(||x||, eps),

then sigma = u . (W v) with u, v held constant, so the gradient of W / sigma reaches W through both
W and sigma; in eval mode it uses the stored u and v as they are.
"""

from __future__ import annotations

from ... import backend, creation
from ...grad_mode import no_grad
from ...ops.linalg import matmul
from ...ops.reduction import sum as _sum
from ...tensor import Tensor
from ..module import Module, Parameter


def _normalize(x: Tensor, eps: float) -> Tensor:
    """x / max(||x||, eps), on the arrays (no gradient; nothing read back to the host)."""
    xp, a = backend.xp_of(x.array), x.array
    return Tensor(a / xp.maximum(xp.sqrt((a * a).sum()), eps))


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` = W / sigma(W) (see :func:`spectral_norm`)."""

    def __init__(self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.name, self.dim, self.n_power_iterations, self.eps = name, dim, n_power_iterations, eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        """W as a matrix (W.shape[dim], -1), dimension ``dim`` moved to the front first."""
        if self.dim != 0:
            order = [self.dim % weight.ndim] + [k for k in range(weight.ndim) if k != self.dim % weight.ndim]
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                w = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    v.array[...] = _normalize(matmul(w.transpose(0, 1), u), self.eps).array
                    v._vc[0] += 1
                    u.array[...] = _normalize(matmul(w, v), self.eps).array
                    u._vc[0] += 1
            u, v = u.clone(), v.clone()  # later in-place updates must not touch what sigma saved
        sigma = _sum(u * matmul(weight_mat, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs) -> None:
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module: Module, name: str, n_power_iterations: int, dim: int, eps: float) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters.get(name)
        if not isinstance(weight, Parameter):
            raise ValueError(f"spectral_norm: {type(module).__name__} has no parameter {name!r}")
        with no_grad():
            h, w = fn.reshape_weight_to_matrix(weight).shape
            u = _normalize(creation.randn(h, dtype=weight.dtype, device=weight.device), fn.eps)
            v = _normalize(creation.randn(w, dtype=weight.dtype, device=weight.device), fn.eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:  # fmt: skip
    """Divide ``module.<name>`` by its spectral norm, estimated by power iteration before each forward.

    As PyTorch's: ``dim`` defaults to 0, or 1 for ConvTranspose layers (their output channels);
    parameter ``<name>_orig``, buffers ``<name>_u`` and ``<name>_v``; the power iteration runs
    in training mode only. Returns the module. Raises ValueError for ``n_power_iterations`` <= 0
    or a missing parameter, RuntimeError when the parameter already has spectral norm.
    """
    if dim is None:
        from ..conv import ConvTranspose1d, ConvTranspose2d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo :func:`spectral_norm`: ``<name>`` becomes a Parameter holding W / sigma with the stored u, v.

    Raises ValueError when ``<name>`` has no spectral norm.
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")


__all__ = ["spectral_norm", "remove_spectral_norm", "SpectralNorm"]

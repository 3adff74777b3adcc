"""``torch.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm`` as parametrizations (the
current PyTorch forms; the classic hook-based ones are ``minigrad.nn.utils.weight_norm`` / ``spectral_norm``).

- ``weight_norm``: ``parametrizations.weight.original0`` is g (v's norm over every dim but ``dim``),
  ``original1`` is v; weight = g * v / ||v||.
- ``spectral_norm``: ``parametrizations.weight.original`` is W, buffers ``parametrizations.weight.0._u`` and
  ``._v`` the singular-vector estimates (15 power-iteration steps at registration, then
  ``n_power_iterations`` per access in training mode: u <- normalize(W v), v <- normalize(W^T u));
  weight = W / (u . W v), u and v constant. A 1-d weight is just normalized.
"""

from __future__ import annotations

from ... import backend, creation
from ...autograd import no_grad
from ...ops.linalg import matmul
from ...ops.reduction import sum as _sum
from ...tensor import Tensor
from ..module import Module
from .parametrize import register_parametrization
from .weight_norm import _norm_except_dim


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight: Tensor):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparameterise ``module.<name>`` as g * v / ||v|| with PyTorch's parametrization keys
    (``parametrizations.<name>.original0`` = g, ``original1`` = v). Returns the module."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


def _normalize(array, eps: float, xp):
    return array / xp.maximum(xp.sqrt((array * array).sum()), eps)


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(
                f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = self._reshape_weight_to_matrix(weight.detach())
            h, w = mat.shape
            xp = backend.xp_of(mat.array)
            u = creation.randn(h, dtype=weight.dtype, device=weight.device)
            v = creation.randn(w, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", Tensor(_normalize(u.array, eps, xp)))
            self.register_buffer("_v", Tensor(_normalize(v.array, eps, xp)))
            self._power_method(mat, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.reshape(weight.shape[0], -1)

    def _power_method(self, weight_mat: Tensor, n_power_iterations: int) -> None:
        with no_grad():
            mat = weight_mat.detach().array
            xp = backend.xp_of(mat)
            for _ in range(n_power_iterations):
                self._u.array[...] = _normalize(mat @ self._v.array, self.eps, xp)
                self._v.array[...] = _normalize(mat.T @ self._u.array, self.eps, xp)
            self._u._vc[0] += 1
            self._v._vc[0] += 1

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return weight / _sum(weight * weight).sqrt().clamp_min(self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = _sum(u * matmul(weight_mat, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:  # fmt: skip
    """Divide ``module.<name>`` by its spectral norm with PyTorch's parametrization keys
    (``parametrizations.<name>.original``, ``parametrizations.<name>.0._u`` / ``._v``). ``dim`` defaults to
    0, or 1 for ConvTranspose layers. Returns the module."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from ..conv import ConvTranspose1d, ConvTranspose2d

        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


__all__ = ["weight_norm", "spectral_norm"]

"""``torch.nn.utils``: gradient clipping, and parameters as one flat vector.

``clip_grad_norm_`` and ``clip_grad_value_`` work on the gradients' own
arrays, in place, and read nothing back to the host, so on a GPU they add no
synchronisation to a training step. ``parameters_to_vector`` and
``vector_to_parameters`` convert between a list of parameters and one 1-D
tensor, as PyTorch's do.
"""

from __future__ import annotations

import math

from ... import backend
from ...errors import ArgumentError, DeviceError, ShapeError
from ...interpreter import host_call
from ...ops.shape import concatenate, reshape
from ...tensor import Tensor


def _grads(parameters) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad.array for p in parameters if p.grad is not None]


@host_call  # minigrad.compile replays the call itself
def clip_grad_norm_(
    parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None
) -> Tensor:
    """Scale all gradients together so that their joint norm is at most ``max_norm``.

    total = (sum_i ||g_i||_p^p)^(1/p) over every gradient (p = inf: the largest
    |g|); each g is multiplied by min(1, max_norm / (total + 1e-6)). Returns the
    total norm before clipping, as a 0-d tensor on the gradients' device.
    ``error_if_nonfinite`` raises when the norm is NaN or Inf (which reads it
    back to the host). ``foreach`` is accepted for PyTorch's signature (the
    gradients are always handled one array at a time).
    """
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ArgumentError(f"clip_grad_norm_: norm_type must be positive, got {norm_type}")
    grads = _grads(parameters)
    if not grads:
        return Tensor._wrap(backend.xp_for("cpu").zeros(()))
    xp = backend.xp_of(grads[0])
    if math.isinf(norm_type):
        total = xp.stack([xp.abs(g).max() for g in grads]).max()
    else:
        total = xp.stack([(xp.abs(g) ** norm_type).sum() for g in grads]).sum() ** (1.0 / norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise ArgumentError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total)}")
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale.astype(g.dtype)
    return Tensor._wrap(xp.asarray(total))


@host_call  # minigrad.compile replays the call itself
def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clip every gradient element into [-clip_value, clip_value], in place (``foreach``: as in clip_grad_norm_)."""
    if clip_value < 0:
        raise ArgumentError(f"clip_grad_value_: clip_value must be non-negative, got {clip_value}")
    for g in _grads(parameters):
        backend.xp_of(g).clip(g, -clip_value, clip_value, out=g)


def _one_device(op: str, params: list) -> str | None:
    devices = sorted({p.device for p in params})
    if len(devices) > 1:
        raise DeviceError(f"{op}: the parameters are on several devices ({', '.join(devices)}); put them on one")
    return devices[0] if devices else None


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one 1-D tensor, in order (PyTorch's ``parameters_to_vector``).

    Differentiable: it is ``cat([p.view(-1) for p in parameters])``, so a
    loss of the vector sends gradients back into each parameter. Raises
    DeviceError when the parameters are on different devices.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    _one_device("parameters_to_vector", params)
    if not params:
        raise ArgumentError("parameters_to_vector: got no parameters")
    return concatenate([reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Set each parameter's data from consecutive pieces of the 1-D ``vec`` (PyTorch's ``vector_to_parameters``).

    As in PyTorch, each parameter's ``.array`` becomes a view of its piece of
    ``vec`` (they share memory afterwards), in the parameter's dtype, and the
    assignment is not recorded: no gradient flows into ``vec``. Each
    parameter's version counter is bumped, so a graph that saved its old
    value raises instead of giving a stale gradient. Elements of ``vec``
    past the parameters' total are ignored, as PyTorch does.

    Raises TypeError when ``vec`` is not a tensor, ShapeError when it is not
    1-D or is shorter than the parameters' total size, DeviceError when it
    is on another device than the parameters.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = list(parameters)
    device = _one_device("vector_to_parameters", params)
    if vec.ndim != 1:
        raise ShapeError(f"vector_to_parameters: vec must be 1-D, got shape {tuple(vec.shape)}")
    total = sum(p.numel() for p in params)
    if vec.numel() < total:
        raise ShapeError(
            f"vector_to_parameters: vec has {vec.numel()} elements but the parameters need {total} "
            f"(shapes {[tuple(p.shape) for p in params]})"
        )
    if device is not None and vec.device != device:
        raise DeviceError(f"vector_to_parameters: vec is on {vec.device} but the parameters are on {device}")
    offset = 0
    for p in params:
        n = p.numel()
        p.array = vec.array[offset : offset + n].reshape(p.shape).astype(p.dtype, copy=False)
        p._vc[0] += 1
        offset += n


# isort: split
# variable-length sequences (#17): torch.nn.utils.rnn
# weight/spectral normalization (#17): the classic hook-based forms and the parametrizations
from . import parametrizations, parametrize, rnn  # noqa: E402, F401  (torch.nn.utils.rnn, ...)
from .spectral_norm import remove_spectral_norm, spectral_norm  # noqa: E402, F401
from .weight_norm import remove_weight_norm, weight_norm  # noqa: E402, F401

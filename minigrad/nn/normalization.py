"""Normalization layers and functions, with PyTorch's names, arguments, parameters and initialisation.

All are compositions of minigrad primitives (means, products, rsqrt, norms),
so their gradients, second order included, come from the tape. The
functional forms are re-exported by :mod:`minigrad.nn.functional`.
BatchNorm lives in :mod:`minigrad.nn.layers`; its parameters, running
statistics and ``num_batches_tracked`` come from :class:`_NormBase` here,
which InstanceNorm shares, as PyTorch's ``_NormBase``.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from .. import creation
from ..autograd import no_grad
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError, public_op
from ..ops.elementwise import clip, where
from ..ops.linalg import vector_norm
from ..ops.normalize import layer_norm_affine
from ..ops.pointwise import rsqrt
from ..ops.reduction import mean
from ..ops.reduction import sum as _sum
from ..ops.shape import broadcast_to, getitem
from ..ops.shape import pad as _pad
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def _shape_tuple(op: str, normalized_shape) -> tuple:
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    try:
        shape = tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise ShapeError(
            f"{op}: normalized_shape must be an int or a sequence of ints, got {normalized_shape!r}"
        ) from None
    return shape


def _register_affine(module: Module, shape: tuple, affine: bool, bias: bool, device, dtype) -> None:
    """A normalisation layer's ``weight`` and ``bias`` of ``shape`` (uninitialised; see :func:`_reset_affine`),
    ``bias`` only with ``bias``; both None without ``affine``, as PyTorch registers them."""
    weight = Parameter(creation.empty_tensor(shape, dtype, device)) if affine else None
    module.register_parameter("weight", weight)
    module.register_parameter(
        "bias", Parameter(creation.empty_tensor(shape, dtype, device)) if affine and bias else None
    )


def _reset_affine(module: Module) -> None:
    """PyTorch's initial affine transform of a normalisation layer: weight 1, bias 0."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalize over the trailing ``normalized_shape`` dimensions, then scale and shift elementwise.

    y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias, with the mean and the
    biased variance taken over the last ``len(normalized_shape)`` dimensions
    of each sample, as PyTorch's ``F.layer_norm``. ``weight`` and ``bias`` (if
    given) have the shape ``normalized_shape``.

    Raises ShapeError when the input's trailing dimensions are not
    ``normalized_shape`` (or it is empty), or weight/bias have another shape.
    """
    shape = _shape_tuple("layer_norm", normalized_shape)
    k = len(shape)
    if k == 0:
        raise ShapeError("layer_norm: normalized_shape must have at least one dimension, got ()")
    if input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"layer_norm: given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of shape {tuple(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} has shape {tuple(t.shape)}, expected normalized_shape {shape}")
    fused = input.dtype in (np.float32, np.float64) and weight is not None and bias is not None
    if fused and weight.dtype == bias.dtype == input.dtype:
        return layer_norm_affine(input, weight, bias, k, eps)  # one node, the same numbers as below
    axes = tuple(range(input.ndim - k, input.ndim))
    centered = input - mean(input, axis=axes, keepdims=True)
    var = mean(centered * centered, axis=axes, keepdims=True)
    out = centered * rsqrt(var + eps)
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dimensions (see :func:`layer_norm`).

    As PyTorch's: with ``elementwise_affine`` a ``weight`` of ones and (with
    ``bias``) a ``bias`` of zeros, each of shape ``normalized_shape``;
    otherwise both are None. state_dict keys: ``weight``, ``bias``.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 device=None, dtype=None) -> None:  # fmt: skip
        super().__init__()
        self.normalized_shape = _shape_tuple("LayerNorm", normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")  # fmt: skip


# --- shared pieces ------------------------------------------------------------------------------------------


def _standardize(x: Tensor, axes: tuple, eps: float):
    """(x - mean) / sqrt(biased var + eps) over ``axes``; also returns the mean and the biased variance."""
    mu = mean(x, axis=axes, keepdims=True)
    centered = x - mu
    var = mean(centered * centered, axis=axes, keepdims=True)
    return centered * rsqrt(var + eps), mu, var


def _check_per_channel(op: str, input: Tensor, channels: int, **tensors) -> None:
    """Each given tensor must hold one value per channel (PyTorch accepts any shape with C elements)."""
    for name, t in tensors.items():
        if t is not None and t.numel() != channels:
            raise ShapeError(
                f"{op}: expected {name} to be a vector of size equal to the number of channels ({channels}) of the "
                f"input of shape {tuple(input.shape)}, but got {name} of shape {tuple(t.shape)}"
            )


def _channel_affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    shape = (1, out.shape[1]) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# --- group_norm ---------------------------------------------------------------------------------------------


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalize each of ``num_groups`` groups of channels of each sample, then scale and shift per channel.

    For input (N, C, *) the C channels split into ``num_groups`` consecutive
    groups of C / G; each (sample, group) block of (C / G) * prod(*) values
    gets y = (x - E[x]) / sqrt(Var[x] + eps) (biased variance), then
    y * weight[c] + bias[c], as PyTorch's ``F.group_norm``. Independent of the
    batch: the same in training and evaluation. G = 1 is layer norm over
    (C, *); G = C is instance norm.

    Raises ShapeError for input with fewer than 2 dimensions, C not divisible
    by ``num_groups``, or weight/bias without C values; ArgumentError for a
    ``num_groups`` that is not a positive integer.
    """
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups <= 0:
        raise ArgumentError(f"group_norm: num_groups must be a positive integer, got {num_groups!r}")
    if input.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *), got shape {tuple(input.shape)}")
    n, c = input.shape[0], input.shape[1]
    if c % num_groups:
        raise ShapeError(
            f"group_norm: expected the number of channels of the input to be divisible by num_groups, but got input "
            f"of shape {tuple(input.shape)} and num_groups={num_groups}"
        )
    _check_per_channel("group_norm", input, c, weight=weight, bias=bias)
    size = (c // num_groups) * math.prod(input.shape[2:])
    grouped = input.reshape((n, int(num_groups), size))
    out = grouped if size == 0 else _standardize(grouped, (2,), eps)[0]  # an empty group: nothing to normalize
    return _channel_affine(out.reshape(tuple(input.shape)), weight, bias)


class GroupNorm(Module):
    """Group normalization (see :func:`group_norm`) with a per-channel ``weight`` (ones) and ``bias`` (zeros).

    As PyTorch's ``nn.GroupNorm(num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *,
    bias=True)``: without ``affine`` neither parameter exists; ``bias=False`` drops the bias alone.
    state_dict keys: ``weight``, ``bias``. Raises ArgumentError when ``num_channels`` is not divisible by
    ``num_groups``, and ShapeError (naming the layer) for an input that is not (N, num_channels, *).
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True, device=None,
                 dtype=None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups <= 0:
            raise ArgumentError(f"GroupNorm: num_groups must be a positive integer, got {num_groups!r}")
        if num_channels % num_groups:
            raise ArgumentError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps, self.affine = int(num_groups), int(num_channels), eps, affine
        _register_affine(self, (num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_affine(self)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(
                f"GroupNorm({self.num_groups}, {self.num_channels}): expected input of shape (N, {self.num_channels}, "
                f"*), got shape {tuple(input.shape)}"
            )
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")  # fmt: skip


# --- running statistics: what BatchNorm and InstanceNorm share --------------------------------------------------


class _NormBase(Module):
    """Parameters and running statistics of BatchNorm and InstanceNorm, as PyTorch's ``_NormBase``.

    With ``affine``, ``weight`` (ones) and, unless ``bias=False``, ``bias`` (zeros), one per feature. With
    ``track_running_stats``, the buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` (an int64 scalar, 0), in PyTorch's state-dict order.

    A state dict without ``num_batches_tracked`` (minigrad checkpoints from before it existed) still loads
    strictly, keeping the module's own count, as PyTorch does for state dicts older than its version 2 of
    BatchNorm: the key is excused unless the state dict's ``_metadata`` (which PyTorch's ``state_dict()``
    attaches and a plain dict lacks) says the module's version is 2 or later.
    """

    _version = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(creation.empty_tensor((num_features,), dtype, device))
            self.register_parameter(
                "bias", Parameter(creation.empty_tensor((num_features,), dtype, device)) if bias else None
            )
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", creation.zeros((), dtype=np.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean to 0, running_var to 1, num_batches_tracked to 0 (when tracked)."""
        if self.track_running_stats:
            with no_grad():
                for buffer, value in ((self.running_mean, 0), (self.running_var, 1), (self.num_batches_tracked, 0)):
                    if buffer is not None:
                        buffer.fill_(value)

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _state_defaults(self, state_dict, prefix: str) -> dict:
        key = prefix + "num_batches_tracked"
        if not self.track_running_stats or self.num_batches_tracked is None or key in state_dict:
            return {}
        metadata = getattr(state_dict, "_metadata", None) or {}
        version = (metadata.get(prefix[:-1], None) or {}).get("version", None)
        if version is not None and version >= 2:
            return {}  # a state dict that should have had the count: strict loading reports it missing
        return {key: self.num_batches_tracked.detach()}

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


# --- instance_norm ------------------------------------------------------------------------------------------


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:  # fmt: skip
    """Normalize each channel of each sample over its spatial dimensions, then scale and shift per channel.

    For input (N, C, *), with ``use_input_stats`` each (n, c) slice gets
    y = (x - E[x]) / sqrt(Var[x] + eps) over *, biased variance, as PyTorch's
    ``F.instance_norm``; the running statistics, when given, are updated in
    place with the batch average of the per-instance statistics:
    running_mean = (1 - momentum) running_mean + momentum mean_n(E[x]) and
    running_var likewise with the unbiased per-instance variance. Without
    ``use_input_stats`` the running statistics normalize instead:
    (x - running_mean[c]) / sqrt(running_var[c] + eps). Then y * weight[c] +
    bias[c].

    Raises ShapeError for input with fewer than 2 dimensions, a tensor that does
    not hold one value per channel, a single spatial element with
    ``use_input_stats`` (its variance is 0: PyTorch's rule), or
    ``use_input_stats=False`` without running statistics. Nothing is updated
    when it raises.
    """
    if input.ndim < 2:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *), got shape {tuple(input.shape)}")
    channels = input.shape[1]
    _check_per_channel("instance_norm", input, channels, running_mean=running_mean, running_var=running_var,
                       weight=weight, bias=bias)  # fmt: skip
    axes = tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if use_input_stats:
        spatial = math.prod(input.shape[2:])
        if spatial == 1:
            raise ShapeError(
                f"instance_norm: expected more than 1 spatial element when training, got input of shape "
                f"{tuple(input.shape)}"
            )
        if spatial == 0:  # nothing to normalize (and no statistics to average)
            return _channel_affine(input, weight, bias)
        out, mu, var = _standardize(input, axes, eps)
        if input.shape[0] and (running_mean is not None or running_var is not None):
            with no_grad():
                if running_mean is not None:
                    batch_mean = mean(mu.detach(), axis=0).reshape(-1)
                    running_mean.mul_(1 - momentum).add_(batch_mean, alpha=momentum)
                if running_var is not None:
                    batch_var = mean(var.detach(), axis=0).reshape(-1)
                    running_var.mul_(1 - momentum).add_(batch_var, alpha=momentum * spatial / (spatial - 1))
    else:
        if running_mean is None or running_var is None:
            raise ShapeError("instance_norm: use_input_stats=False needs running_mean and running_var")
        out = (input - running_mean.reshape(shape)) * rsqrt(running_var.reshape(shape) + eps)
    return _channel_affine(out, weight, bias)


class _InstanceNorm(_NormBase):
    """Instance normalization (see :func:`instance_norm`), PyTorch's defaults: ``affine=False``,
    ``track_running_stats=False``.

    With ``track_running_stats``, training updates the running statistics and evaluation normalizes
    with them; otherwise the input's own statistics are used in both modes. As PyTorch, ``momentum=None``
    means 0 here (the running statistics stay put) and ``num_batches_tracked`` is kept but never counts.
    An input without the batch dimension is treated as a batch of one. An input whose channel count is
    not ``num_features`` raises ShapeError when the layer needs it (affine or tracking), and otherwise
    warns, as PyTorch does, since ``num_features`` is then unused.
    """

    _no_batch_dim: int = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, device=None, dtype=None, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        name, nb = type(self).__name__, self._no_batch_dim
        if input.ndim not in (nb, nb + 1):
            raise ShapeError(f"{name}: expected {nb}D or {nb + 1}D input, got {input.ndim}D input of shape "
                             f"{tuple(input.shape)}")  # fmt: skip
        feature_dim = input.ndim - nb
        if input.shape[feature_dim] != self.num_features:
            if self.affine or self.track_running_stats:
                raise ShapeError(
                    f"{name}: expected input's size at dim={feature_dim} to match num_features ({self.num_features}),"
                    f" but got input of shape {tuple(input.shape)}"
                )
            warnings.warn(
                f"{name}: input's size at dim={feature_dim} does not match num_features ({self.num_features}); "
                "num_features is not used because affine=False",
                UserWarning,
                stacklevel=2,
            )
        batched = input if input.ndim == nb + 1 else input.reshape((1,) + tuple(input.shape))
        out = instance_norm(batched, self.running_mean, self.running_var, self.weight, self.bias,
                            self.training or not self.track_running_stats,
                            self.momentum if self.momentum is not None else 0.0, self.eps)  # fmt: skip
        return out if input.ndim == nb + 1 else out.reshape(tuple(input.shape))


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) input; see :class:`_InstanceNorm`."""

    _no_batch_dim = 2


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) input; see :class:`_InstanceNorm`."""

    _no_batch_dim = 3


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) input; see :class:`_InstanceNorm`."""

    _no_batch_dim = 4


# --- normalize, cosine_similarity, pairwise_distance ------------------------------------------------------------


def _dim(op: str, dim, ndim: int) -> int:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
        raise ArgumentError(f"{op}: dim must be an int, got {dim!r}")
    low = -max(ndim, 1)
    if not low <= dim < max(ndim, 1):
        raise IndexOutOfRange(f"{op}: dim {dim} is out of range for a {ndim}-D input (expected [{low}, {-low - 1}])")
    return int(dim) % max(ndim, 1)


@public_op("normalize")
def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out=None) -> Tensor:
    """Divide by the ``p``-norm along ``dim``, kept away from 0: x / max(||x||_p, eps), PyTorch's ``F.normalize``.

    The norm is minigrad's :func:`vector_norm` (any real p, inf); the max is a
    clamp, so where ||x||_p < eps the result is x / eps and the norm gets no
    gradient (at ||x|| = 0 the gradient is 1 / eps, as PyTorch). A 0-d input
    is a vector of one element (dim 0 or -1).

    Raises IndexOutOfRange for ``dim`` outside the input's dimensions,
    DTypeError for a non-floating input, ArgumentError for ``out`` (minigrad
    has no out= arguments).
    """
    if out is not None:
        raise ArgumentError("normalize: out= is not supported; use the returned tensor")
    axis = _dim("normalize", dim, input.ndim)
    x = input if input.ndim else input.reshape((1,))
    result = x / clip(vector_norm(x, p, axis, keepdim=True), min=eps)
    return result if input.ndim else result.reshape(())


def _float_pair(op: str, x1: Tensor, x2: Tensor):
    """Cast an integer (or bool) operand to the other's floating dtype, as PyTorch's common dtype; both integer
    is a DTypeError."""
    f1, f2 = x1.dtype.kind == "f", x2.dtype.kind == "f"
    if not (f1 or f2):
        raise DTypeError(f"{op}: expected a floating-point input, got dtypes {x1.dtype} and {x2.dtype}")
    if not f1:
        x1 = x1.astype(x2.dtype)
    if not f2:
        x2 = x2.astype(x1.dtype)
    return x1, x2


def _broadcast_pair(op: str, x1: Tensor, x2: Tensor) -> tuple:
    try:
        return tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    except ValueError:
        raise ShapeError(
            f"{op}: x1 of shape {tuple(x1.shape)} and x2 of shape {tuple(x2.shape)} do not broadcast"
        ) from None


def _at_least(n: Tensor, eps: float) -> Tensor:
    """max(n, eps) in value, with the gradient of n everywhere (PyTorch clamps the norms under no_grad)."""
    frozen = n.detach()
    return where(frozen < eps, (n - frozen) + eps, n)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along ``dim``: sum((x1 / n1) (x2 / n2)), PyTorch 2's rule.

    x1 and x2 broadcast first; n_i = max(||x_i||_2, eps), each norm clamped
    on its own (not their product, as PyTorch before 1.12), and dividing
    before the sum keeps the result in [-1, 1]. As PyTorch, the clamp happens
    outside autograd: the gradient is that of sum(x1 x2) / (n1 n2) with n_i
    the plain norms wherever they exceed eps, and with the clamped value but
    the norm's own derivative below it (so a zero x1 gets x2 / (n2 eps)). The
    result has the broadcast shape without ``dim``.

    Raises ShapeError when the shapes do not broadcast, IndexOutOfRange for a
    ``dim`` outside them, DTypeError when neither input is floating (an integer
    one is cast to the other's dtype).
    """
    x1, x2 = _float_pair("cosine_similarity", x1, x2)
    shape = _broadcast_pair("cosine_similarity", x1, x2)
    axis = _dim("cosine_similarity", dim, len(shape))
    if not shape:  # two scalars: vectors of one element
        return cosine_similarity(x1.reshape((1,)), x2.reshape((1,)), 0, eps)
    if tuple(x1.shape) != shape:
        x1 = broadcast_to(x1, shape)
    if tuple(x2.shape) != shape:
        x2 = broadcast_to(x2, shape)
    n1 = _at_least(vector_norm(x1, 2, axis, keepdim=True), eps)
    n2 = _at_least(vector_norm(x2, 2, axis, keepdim=True), eps)
    return _sum((x1 / n1) * (x2 / n2), axis=axis)


@public_op("pairwise_distance")
def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dimension of their broadcast shape, PyTorch's ``F.pairwise_distance``.

    ``eps`` is added to every difference (so equal inputs are eps * D^(1/p)
    apart and the gradient at 0 is defined), the norm is :func:`vector_norm`'s
    (any real p, inf, 0). ``keepdim`` keeps the reduced dimension. Two 1-D
    inputs give a 0-d distance, and so do two 0-d ones (|x1 - x2 + eps|).

    Raises ShapeError when the shapes do not broadcast, and the errors of
    :func:`vector_norm`.
    """
    shape = _broadcast_pair("pairwise_distance", x1, x2)
    diff = x1 - x2 + eps
    if not shape:  # two scalars: |x1 - x2 + eps|, 0-d with or without keepdim, as PyTorch
        return vector_norm(diff.reshape((1,)), p, 0, keepdim=False)
    return vector_norm(diff, p, len(shape) - 1, keepdim=keepdim)


class CosineSimilarity(Module):
    """:func:`cosine_similarity` along ``dim`` (default 1), as PyTorch's ``nn.CosineSimilarity(dim=1, eps=1e-8)``."""

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """:func:`pairwise_distance`, as PyTorch's ``nn.PairwiseDistance(p=2.0, eps=1e-6, keepdim=False)`` (the order
    is stored as ``norm``, PyTorch's attribute name)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


# --- local_response_norm ------------------------------------------------------------------------------------


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> Tensor:
    """Divide each value by a power of the mean square of its neighbours across channels, PyTorch's form.

    b_c = a_c / (k + alpha / size * sum_{c'} a_{c'}^2) ** beta, the sum over
    the ``size`` channels c - size // 2 ... c + (size - 1) // 2 (zeros beyond
    the edges, which still count in the division by ``size``: PyTorch pads and
    average-pools). Input (N, C, *) with at least 3 dimensions.

    Raises ShapeError for fewer than 3 dimensions, ArgumentError for a ``size``
    that is not a positive integer.
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
        raise ArgumentError(f"local_response_norm: size must be a positive integer, got {size!r}")
    if input.ndim < 3:
        raise ShapeError(
            f"local_response_norm: expected 3D or higher dimensionality input, got shape {tuple(input.shape)}"
        )
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    widths = [(0, 0)] * input.ndim
    widths[1] = (size // 2, (size - 1) // 2)
    padded = _pad(input * input, widths)
    window = None
    for shift in range(size):
        part = getitem(padded, (slice(None), slice(shift, shift + channels)))
        window = part if window is None else window + part
    return input / ((window * (alpha / size) + k) ** beta)


class LocalResponseNorm(Module):
    """:func:`local_response_norm` over ``size`` neighbouring channels, as PyTorch's
    ``nn.LocalResponseNorm(size, alpha=1e-4, beta=0.75, k=1.0)``."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

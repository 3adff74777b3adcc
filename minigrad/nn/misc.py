"""Small layers and functions of the #17 sweep, with PyTorch's names, arguments and behaviour:
``F.gumbel_softmax`` (discrete latents of small VAEs and GANs), ``F.channel_shuffle`` / ``nn.ChannelShuffle``
(ShuffleNet blocks), ``F.feature_alpha_dropout`` / ``nn.FeatureAlphaDropout`` (SELU networks),
``F.triplet_margin_with_distance_loss`` / ``nn.TripletMarginWithDistanceLoss`` (metric learning) and
``F.max_unpool1d`` / ``nn.MaxUnpool1d``.

All are compositions of existing primitives (softmax, reshape, transpose, products, relu, indexing),
so their gradients, second order included, come from the tape.
"""

from __future__ import annotations

import math
import numbers
import warnings

from .. import backend, creation
from ..errors import ArgumentError, ShapeError
from ..ops import pooling as _pooling
from ..ops.elementwise import minimum, relu
from ..ops.loss import _check_reduction
from ..ops.reduction import softmax
from ..tensor import Tensor
from .activation import _apply
from .losses_functional import _pairwise_distance, _reduce
from .module import Module


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of the Gumbel-softmax (Concrete) distribution over ``dim``, optionally made one-hot.

    y = softmax((logits + g) / tau) along ``dim``, with g = -log(E), E ~ Exp(1) i.i.d. (Gumbel(0, 1)
    noise, drawn from minigrad's generator). With ``hard=True`` the result is the one-hot vector of
    y's largest entry (the first one on ties), but its gradient is y's: y_hard - detach(y) + y, the
    straight-through estimator, as PyTorch. ``eps`` is deprecated and unused, as in PyTorch (a value
    other than 1e-10 warns). ``logits`` need not be normalized. Raises ArgumentError for tau <= 0
    or non-floating logits.
    """
    if not isinstance(logits, Tensor):
        raise ArgumentError(f"gumbel_softmax: logits must be a Tensor, got {type(logits).__name__}")
    if logits.dtype.kind != "f":
        raise ArgumentError(f"gumbel_softmax: logits must be floating point, got dtype {logits.dtype}")
    if isinstance(tau, bool) or not isinstance(tau, numbers.Real) or not tau > 0:
        raise ArgumentError(f"gumbel_softmax: tau must be a positive number, got {tau!r}")
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    noise = creation.empty(logits.shape, dtype=logits.dtype, device=logits.device).exponential_()
    y_soft = softmax((logits - noise.log()) / tau, dim=dim)
    if not hard:
        return y_soft
    xp, soft = backend.xp_of(y_soft.array), y_soft.array
    if soft.ndim == 0:
        hard_array = xp.ones_like(soft)
    else:
        axis = dim % soft.ndim
        positions = xp.arange(soft.shape[axis]).reshape((-1,) + (1,) * (soft.ndim - axis - 1))
        hard_array = (positions == xp.expand_dims(soft.argmax(axis=axis), axis)).astype(soft.dtype)
    return Tensor(hard_array) - y_soft.detach() + y_soft


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels (dim 1) of ``groups`` groups: (N, g*k, *) -> view (N, g, k, *), swap g and k, flatten.

    Output channel c*g + j is input channel j*k + c, PyTorch's ``F.channel_shuffle``. Raises ShapeError for
    an input of fewer than 3 dimensions or channels not divisible by ``groups``, ArgumentError for
    ``groups`` <= 0.
    """
    if not isinstance(input, Tensor):
        raise ArgumentError(f"channel_shuffle: input must be a Tensor, got {type(input).__name__}")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
        raise ArgumentError(f"channel_shuffle: Number of groups to divide channels in must be positive, got {groups!r}")
    if input.ndim <= 2:
        raise ShapeError(f"channel_shuffle: expects input with > 2 dims, but got input of shape {tuple(input.shape)}")
    channels = input.shape[1]
    if channels % groups:
        raise ShapeError(
            f"channel_shuffle: Number of channels must be divisible by groups. Got {channels} channels and "
            f"{groups} groups (input shape {tuple(input.shape)})"
        )
    n, rest = input.shape[0], tuple(input.shape[2:])
    grouped = input.reshape((n, int(groups), channels // int(groups)) + rest)
    return grouped.transpose(1, 2).reshape((n, channels) + rest)


class ChannelShuffle(Module):
    """Shuffle the channels of ``groups`` groups (see :func:`channel_shuffle`), as PyTorch's ``nn.ChannelShuffle``."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


# --- feature alpha dropout ----------------------------------------------------------------------------------

_SELU_ALPHA_SCALE = 1.7580993408473766  # SELU's scale * alpha: -that is the value SELU saturates at


def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels, as PyTorch's ``F.feature_alpha_dropout``.

    One keep/drop draw per (sample, channel), shape (N, C, 1, ..., 1), shared by the channel's
    elements; kept: a x + a alpha' p, dropped: a alpha' (p - 1), with alpha' = 1.7581 and
    a = ((1 - p)(1 + p alpha'^2))^(-1/2), which keeps SELU's zero mean and unit variance. The
    identity when not training or p = 0; zeros for p = 1. Raises ArgumentError for p outside
    [0, 1], ShapeError for an input of fewer than 2 dimensions.
    """
    op = "feature_alpha_dropout"
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ArgumentError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"{op}: Feature dropout requires at least 2 dimensions in the input, got {tuple(input.shape)}")
    if not training or p == 0 or input.numel() == 0:
        return input

    def drop(x):
        if p == 1:
            return x * 0
        a = 1.0 / math.sqrt((_SELU_ALPHA_SCALE**2 * p + 1) * (1 - p))
        shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
        draw = "float64" if x.dtype == "float64" else "float32"
        keep = (backend.generator(x.device).random(shape, dtype=draw) >= p).astype(x.dtype)
        return x * (keep * a) + ((keep - 1) * (_SELU_ALPHA_SCALE * a) + _SELU_ALPHA_SCALE * a * p)

    return _apply(op, input, drop, inplace)


class FeatureAlphaDropout(Module):
    """:func:`feature_alpha_dropout` in training mode, the identity in eval mode (``nn.FeatureAlphaDropout``)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
            raise ArgumentError(f"FeatureAlphaDropout: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return feature_alpha_dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


# --- triplet margin loss with a distance function --------------------------------------------------------------


def _default_distance(x1: Tensor, x2: Tensor) -> Tensor:
    """PyTorch's default: ``pairwise_distance(x1, x2)``, ||x1 - x2 + 1e-6||_2 over the last dimension."""
    return _pairwise_distance(x1, x2, 2.0, 1e-6)


def triplet_margin_with_distance_loss(
    anchor: Tensor, positive: Tensor, negative: Tensor, *, distance_function=None, margin: float = 1.0,
    swap: bool = False, reduction: str = "mean"
) -> Tensor:  # fmt: skip
    """max(0, margin + d(a, p) - d(a, n)) for any distance d, PyTorch's ``F.triplet_margin_with_distance_loss``.

    ``distance_function(x1, x2)`` returns one distance per triplet (default: ``pairwise_distance``, the
    2-norm of x1 - x2 + 1e-6 over the last dimension); with ``swap`` d(a, n) is min(d(a, n), d(p, n)).
    Raises ShapeError when the three inputs differ in ndim, ArgumentError for margin <= 0 or an unknown
    ``reduction``.
    """
    op = "triplet_margin_with_distance_loss"
    _check_reduction(op, reduction)
    if not margin > 0:
        raise ArgumentError(f"{op}: margin must be greater than 0, got {margin}")
    dims = [t.ndim for t in (anchor, positive, negative)]
    if len(set(dims)) != 1:
        raise ShapeError(
            f"{op}: The anchor, positive, and negative tensors are expected to have the same number of dimensions, "
            f"but got: anchor {dims[0]}D, positive {dims[1]}D, and negative {dims[2]}D inputs"
        )
    distance = _default_distance if distance_function is None else distance_function
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, distance(positive, negative))
    return _reduce(relu(margin + d_pos - d_neg), reduction)


class TripletMarginWithDistanceLoss(Module):
    """:func:`triplet_margin_with_distance_loss` as a loss module, keyword-only arguments as PyTorch's.

    ``distance_function`` None means the pairwise 2-norm distance (PyTorch stores an
    ``nn.PairwiseDistance()`` child there; minigrad keeps None and uses the same function).
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean") -> None:  # fmt: skip
        super().__init__()
        if not margin > 0:
            raise ArgumentError(f"TripletMarginWithDistanceLoss: margin must be greater than 0, got {margin}")
        _check_reduction("TripletMarginWithDistanceLoss", reduction)
        self.distance_function, self.margin, self.swap, self.reduction = distance_function, margin, swap, reduction

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function, margin=self.margin, swap=self.swap,
            reduction=self.reduction,
        )  # fmt: skip


# --- max_unpool1d ---------------------------------------------------------------------------------------------------


def _single(value, name: str) -> int:
    if isinstance(value, (tuple, list)):
        if len(value) != 1:
            raise ArgumentError(f"max_unpool1d: {name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return int(value)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None) -> Tensor:
    """The partial inverse of ``max_pool1d``, as PyTorch's ``F.max_unpool1d``.

    Each value of ``input`` (N, C, L) or (C, L) goes to its index (from ``max_pool1d(...,
    return_indices=True)``) in a zero row of length L_out = (L - 1) stride - 2 padding + kernel_size,
    or ``output_size`` (its last element) within one stride of that. Linear in ``input``; its
    gradient gathers the cotangent at the indices. Raises ShapeError as ``max_unpool2d``.
    """
    kernel = _single(kernel_size, "kernel_size")
    step = kernel if stride is None else _single(stride, "stride")
    pad = _single(padding, "padding")
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
        raise ShapeError(f"max_unpool1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got {shape}")
    size = None
    if output_size is not None:
        size = (1, int(list(output_size)[-1]))
    idx = indices.unsqueeze(-2) if isinstance(indices, Tensor) else indices
    out = _pooling.max_unpool2d(input.unsqueeze(-2), idx, (1, kernel), (1, step), (0, pad), size)
    return out.squeeze(-2)


class MaxUnpool1d(Module):
    """:func:`max_unpool1d` as a layer; ``forward(input, indices, output_size=None)`` (``nn.MaxUnpool1d``)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = (_single(kernel_size, "kernel_size"),)  # PyTorch keeps 1-tuples (its repr shows them)
        self.stride = (_single(kernel_size if stride is None else stride, "stride"),)
        self.padding = (_single(padding, "padding"),)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        return max_unpool1d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


__all__ = [
    "gumbel_softmax", "channel_shuffle", "ChannelShuffle", "feature_alpha_dropout", "FeatureAlphaDropout",
    "triplet_margin_with_distance_loss", "TripletMarginWithDistanceLoss", "max_unpool1d", "MaxUnpool1d",
]  # fmt: skip

"""Functional forms of the layers and losses, PyTorch's names and argument orders
(``import minigrad.nn.functional as F``)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import is_anomaly_enabled, no_grad
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..ops.contraction import einsum
from ..ops.conv import avg_pool2d, conv2d, max_pool2d
from ..ops.elementwise import leaky_relu, relu, sigmoid, tanh, where
from ..ops.linalg import linear
from ..ops.loss import binary_cross_entropy_with_logits, cross_entropy, nll_loss
from ..ops.reduction import log_softmax, mean, softmax
from ..ops.shape import getitem, stack
from ..primitive import primitive
from ..tensor import Tensor
from .losses_functional import (
    binary_cross_entropy,
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    margin_ranking_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
)  # fmt: skip

# isort: split
# convolution breadth (#17)
from ..ops.conv import conv1d
from ..ops.conv_transpose import conv_transpose1d, conv_transpose2d, fold, unfold

# activations and normalization (issue #17)
from .activation import gelu

# isort: split
# the other activations (#17)
from .activation import (  # noqa: F811  (relu and leaky_relu with PyTorch's inplace=, #17)
    celu,
    celu_,
    elu,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu,
    leaky_relu_,
    logsigmoid,
    mish,
    prelu,
    relu,
    relu6,
    relu_,
    rrelu,
    rrelu_,
    selu,
    selu_,
    silu,
    softmin,
    softplus,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)

# isort: split
from .normalization import layer_norm

# isort: split
# pooling, resampling, padding, channel dropout (#17)
from ..ops.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_unpool2d,
)
from ..ops.resample import (
    interpolate,
    pad,
    pixel_shuffle,
    pixel_unshuffle,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from .pooling import alpha_dropout, dropout1d, dropout2d


def dropout(input, p: float = 0.5, training: bool = True):
    """Inverted dropout: zero each element with probability p and scale the rest by 1 / (1 - p).

    The identity when not training. The mask comes from minigrad's seeded
    generator, so ``manual_seed`` (and gradcheck's re-seeding) repeat it.
    """
    if not 0.0 <= p <= 1.0:
        raise ArgumentError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0
    return input * _dropout_scale(input, p)


@primitive(differentiable=False)
def _dropout_scale(x, p):
    """Dropout's factors: 1 / (1 - p) where an element is kept (probability 1 - p), else 0.

    A primitive, so the draw happens inside an op: ``minigrad.compile``'s
    replay draws fresh numbers from the generator each step, as eager does.
    """
    draw_dtype = "float64" if x.dtype == "float64" else "float32"
    keep = backend.generator(backend.device_of(x)).random(x.shape, dtype=draw_dtype) >= p
    scale = keep * (1 / (1 - p))  # an integer or bool input gets a float result, as NumPy's x * 1.25
    return scale.astype(x.dtype) if x.dtype.kind == "f" else scale


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalize each channel (axis 1) to zero mean and unit variance, then scale and shift.

    Training uses the batch statistics (biased variance for normalizing) and
    updates the running statistics in place: running = (1 - momentum) *
    running + momentum * batch, with the unbiased variance, as PyTorch.
    Evaluation uses the running statistics.
    """
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected (N, C, ...) input, got shape {tuple(input.shape)}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:  # checked first: nothing is updated when the call fails
            raise ShapeError(
                f"batch_norm: {name} of shape {tuple(t.shape)} does not hold one value for each of the {channels} "
                f"channels of the input of shape {tuple(input.shape)}"
            )
    axes = (0,) + tuple(range(2, input.ndim))
    shape = (1, channels) + (1,) * (input.ndim - 2)
    if training:
        n = int(np.prod([input.shape[a] for a in axes]))  # values per channel (not numel // C: C may be 0)
        if n < 2:
            raise ShapeError(
                f"batch_norm: need more than one value per channel in training, got input shape {tuple(input.shape)}"
            )
        mu = mean(input, axis=axes, keepdims=True)
        centered = input - mu
        var = mean(centered * centered, axis=axes, keepdims=True)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mu.detach().reshape(-1), alpha=momentum)
                running_var.mul_(1 - momentum).add_(var.detach().reshape(-1), alpha=momentum * n / (n - 1))
    else:
        if running_mean is None:
            raise ShapeError("batch_norm: evaluation needs running statistics (or pass training=True)")
        centered = input - running_mean.reshape(shape)
        var = running_var.reshape(shape)
    out = centered / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def embedding(input, weight, padding_idx: int | None = None, max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False):  # fmt: skip
    """Rows of ``weight`` at the integer indices ``input``; repeated indices accumulate their gradients.

    As PyTorch's ``F.embedding``: ``padding_idx`` rows are looked up but get no gradient;
    ``max_norm`` first renormalizes, in place, each looked-up row whose ``norm_type``-norm exceeds it
    (row *= max_norm / (norm + 1e-7)); ``scale_grad_by_freq`` divides each row's gradient by how
    often its index occurs in ``input``. ``sparse=True`` (sparse gradients) is not supported.

    Raises DTypeError for non-integer indices and IndexOutOfRange for an index
    outside [0, num_embeddings) (a negative index would otherwise wrap around).
    On CUDA the range check would copy from the device and stall it in every
    step, so there it runs only in ``minigrad.detect_anomaly()``; otherwise an
    out-of-range index gives a row of NaN (and no gradient), never another row.
    """
    if sparse:
        raise ArgumentError("embedding: sparse=True (sparse gradients) is not supported by minigrad; use sparse=False")
    rows = _embedding_rows(input, weight, padding_idx, max_norm, norm_type)
    if padding_idx is not None and padding_idx < 0:
        padding_idx += weight.shape[0]
    indices = input.array if isinstance(input, Tensor) else input if backend.is_array(input) else np.asarray(input)
    if padding_idx is not None:
        rows = where((indices == padding_idx)[..., None], rows.detach(), rows)
    if scale_grad_by_freq and indices.size:
        xp = backend.xp_of(indices)
        _, inverse, counts = xp.unique(indices.ravel(), return_inverse=True, return_counts=True)
        scale = (1.0 / counts[inverse.ravel()]).reshape(indices.shape + (1,)).astype(rows.dtype)
        frozen = rows.detach()
        rows = frozen + (rows - frozen) * scale  # the same values; the gradient divided by the count
    return rows


def _embedding_rows(input, weight, padding_idx, max_norm, norm_type):
    indices = input.array if isinstance(input, Tensor) else input if backend.is_array(input) else np.asarray(input)
    if indices.dtype.kind not in "iu":
        raise DTypeError(f"embedding: indices must be integers, got dtype {indices.dtype}")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {tuple(weight.shape)}")
    count = weight.shape[0]
    if padding_idx is not None and not -count <= padding_idx < count:
        raise IndexOutOfRange(f"embedding: padding_idx {padding_idx} is out of range for {count} embeddings")
    if isinstance(indices, np.ndarray) or is_anomaly_enabled():
        if indices.size:
            low, high = int(indices.min()), int(indices.max())
            if low < 0 or high >= count:
                bad = low if low < 0 else high
                raise IndexOutOfRange(f"embedding: index {bad} is out of range for {count} embeddings")
        _renorm(weight, indices, max_norm, norm_type)
        return weight[input]
    xp = backend.xp_of(indices)
    _renorm(weight, xp.where((indices < 0) | (indices >= count), 0, indices), max_norm, norm_type)
    outside = (indices < 0) | (indices >= count)
    rows = getitem(weight, xp.where(outside, 0, indices), in_bounds=True)  # no bounds check: no copy to the host
    return where(outside[..., None], float("nan"), rows)


def _renorm(weight, indices, max_norm, norm_type) -> None:
    """PyTorch's embedding_renorm_: rows at ``indices`` with norm > max_norm scaled in place to max_norm."""
    if max_norm is None or not indices.size:
        return
    xp = backend.xp_of(weight.array)
    rows = xp.unique(indices.ravel())
    norms = xp.linalg.norm(weight.array[rows].astype(xp.float64), ord=norm_type, axis=-1)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    with no_grad():
        weight.array[rows] *= scale[:, None].astype(weight.dtype)
        weight._vc[0] += 1


def embedding_bag(input, weight, offsets=None, max_norm: float | None = None, norm_type: float = 2,
                  scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, per_sample_weights=None,
                  include_last_offset: bool = False, padding_idx: int | None = None):  # fmt: skip
    """Sum, mean or max of the embedding rows of each bag, PyTorch's ``F.embedding_bag``.

    ``input`` is 2-D (B, L): each row a bag; or 1-D with ``offsets`` (the start of each bag; with
    ``include_last_offset`` the last offset ends the last bag). ``per_sample_weights`` (``input``'s
    shape, ``mode='sum'`` only) scales each row before summing. Rows at ``padding_idx`` are left
    out of their bag (and of the mean's count); an empty bag gives zeros. Returns (B, embedding_dim).
    """
    if mode not in ("sum", "mean", "max"):
        raise ArgumentError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise ArgumentError(f"embedding_bag: per_sample_weights is only supported for mode='sum', got mode={mode!r}")
    data = input.array if isinstance(input, Tensor) else input if backend.is_array(input) else np.asarray(input)
    if data.ndim == 2:
        if offsets is not None:
            raise ArgumentError("embedding_bag: offsets must be None when input is 2-D (each row is a bag)")
        length = data.shape[1]
        starts = list(range(0, data.size, length)) if length else [0] * data.shape[0]
        ends = [b + length for b in starts]
        flat = data.reshape(-1)
    elif data.ndim == 1:
        if offsets is None:
            raise ArgumentError("embedding_bag: offsets are required when input is 1-D")
        off = backend.to_device(offsets.array if isinstance(offsets, Tensor) else np.asarray(offsets), "cpu")
        off = [int(v) for v in np.asarray(off).reshape(-1)]
        if not off or off[0] != 0 or any(b < a for a, b in zip(off, off[1:])) or off[-1] > data.shape[0]:
            raise ArgumentError(
                f"embedding_bag: offsets must start at 0, not decrease and stay within the input of length "
                f"{data.shape[0]}, got {off}"
            )
        bounds = off if include_last_offset else off + [data.shape[0]]
        starts, ends, flat = bounds[:-1], bounds[1:], data
    else:
        raise ShapeError(f"embedding_bag: input must be 1-D (with offsets) or 2-D, got shape {tuple(data.shape)}")
    rows = embedding(flat, weight, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse)
    if per_sample_weights is not None:
        if tuple(per_sample_weights.shape) != tuple(data.shape):
            raise ShapeError(
                f"embedding_bag: per_sample_weights has shape {tuple(per_sample_weights.shape)}, expected the "
                f"input's {tuple(data.shape)}"
            )
        rows = rows * per_sample_weights.reshape(-1, 1)
    keep = np.ones(len(flat), dtype=bool)
    if padding_idx is not None:
        keep = np.asarray(backend.to_device(flat, "cpu")) != padding_idx % weight.shape[0]
    bags = []
    for a, b in zip(starts, ends):
        members = [k for k in range(a, b) if keep[k]]
        if not members:
            bags.append(rows[0:0].sum(axis=0))  # an empty bag gives zeros, as PyTorch (also for max)
            continue
        part = rows[np.asarray(members)]
        if mode == "sum":
            bags.append(part.sum(axis=0))
        elif mode == "mean":
            bags.append(part.sum(axis=0) / len(members))
        else:
            bags.append(part.amax(0))
    if not bags:
        return rows[0:0]
    return stack(bags, axis=0)


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o], PyTorch's ``F.bilinear``.

    ``weight`` is (out_features, in1_features, in2_features); the inputs share their leading dimensions.
    """
    if weight.ndim != 3:
        raise ShapeError(
            f"bilinear: weight must be (out_features, in1_features, in2_features), got {tuple(weight.shape)}"
        )
    if input1.shape[:-1] != input2.shape[:-1] or input1.ndim == 0:
        raise ShapeError(
            f"bilinear: input1 {tuple(input1.shape)} and input2 {tuple(input2.shape)} must share their leading "
            "dimensions"
        )
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise ShapeError(
            f"bilinear: inputs with {input1.shape[-1]} and {input2.shape[-1]} features do not match weight "
            f"{tuple(weight.shape)}"
        )
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


def one_hot(tensor, num_classes: int = -1):
    """int64 tensor with one more dimension of size ``num_classes`` (max + 1 when -1), 1 at each index.

    Raises DTypeError for non-integer input and IndexOutOfRange for a negative index or one
    >= ``num_classes``, as PyTorch's ``F.one_hot``. Not differentiable (an integer result).
    """
    data = tensor.array if isinstance(tensor, Tensor) else tensor
    if not backend.is_array(data) or data.dtype.kind not in "iu":
        raise DTypeError(f"one_hot: input must be an integer tensor, got {getattr(data, 'dtype', type(data).__name__)}")
    xp = backend.xp_of(data)
    low = int(data.min()) if data.size else 0
    high = int(data.max()) if data.size else -1
    if low < 0:
        raise IndexOutOfRange(f"one_hot: class values must be non-negative, got {low}")
    if num_classes == -1:
        if not data.size:
            raise ArgumentError("one_hot: cannot infer num_classes from an empty tensor; pass num_classes")
        num_classes = high + 1
    elif num_classes < 1 and not (num_classes == 0 and not data.size):
        raise ArgumentError(f"one_hot: num_classes must be positive or -1, got {num_classes}")
    if high >= num_classes:
        raise IndexOutOfRange(f"one_hot: class value {high} is out of range for num_classes={num_classes}")
    out = (data[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return Tensor._wrap(out)


def mse_loss(input, target, reduction: str = "mean"):
    """Mean (or sum, or elementwise) squared error."""
    target_shape = tuple(getattr(target, "shape", ()))
    if tuple(input.shape) != target_shape:
        raise ShapeError(f"mse_loss: input shape {tuple(input.shape)} and target shape {target_shape} differ")
    if input.dtype == np.bool_ and getattr(target, "dtype", None) == np.bool_:
        raise DTypeError("mse_loss: input and target are both bool, which have no difference; cast one to a float")
    diff = input - target
    squared = diff * diff
    if reduction == "none":
        return squared
    if reduction == "sum":
        return squared.sum()
    if reduction == "mean":
        return squared.mean()
    raise ArgumentError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


__all__ = [
    "Tensor", "linear", "conv2d", "max_pool2d", "avg_pool2d", "relu", "leaky_relu", "tanh", "sigmoid",
    "softmax", "log_softmax", "dropout", "batch_norm", "embedding", "cross_entropy", "nll_loss", "mse_loss",
    "binary_cross_entropy_with_logits", "pad", "flatten",
    "bilinear", "one_hot", "embedding_bag",
    "max_pool1d", "avg_pool1d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
    "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d", "max_unpool2d", "interpolate", "upsample", "upsample_nearest",
    "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle", "dropout1d", "dropout2d", "alpha_dropout",
]  # fmt: skip
__all__ += ["conv1d", "conv_transpose1d", "conv_transpose2d", "fold", "unfold"]
__all__ += [
    "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "kl_div", "poisson_nll_loss",
    "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss", "triplet_margin_loss",
]  # fmt: skip
__all__ += ["gelu", "layer_norm"]
__all__ += [
    "relu_", "leaky_relu_", "elu", "elu_", "celu", "celu_", "selu", "selu_", "silu", "mish", "softplus", "hardtanh",
    "hardtanh_", "relu6", "prelu", "logsigmoid", "hardsigmoid", "hardswish", "softsign", "softmin", "tanhshrink",
    "softshrink", "hardshrink", "threshold", "threshold_", "glu", "rrelu", "rrelu_",
]  # fmt: skip

from .attention import scaled_dot_product_attention  # noqa: E402

__all__ += ["scaled_dot_product_attention"]

# normalization breadth (issue #17)
from .normalization import (  # noqa: E402
    cosine_similarity,
    group_norm,
    instance_norm,
    local_response_norm,
    normalize,
    pairwise_distance,
)

__all__ += ["group_norm", "instance_norm", "normalize", "cosine_similarity", "pairwise_distance", "local_response_norm"]
# isort: split
# the #17 sweep: RMSNorm, gumbel_softmax, channel_shuffle
from .misc import (  # noqa: E402
    channel_shuffle,
    feature_alpha_dropout,
    gumbel_softmax,
    max_unpool1d,
    triplet_margin_with_distance_loss,
)
from .rmsnorm import rms_norm  # noqa: E402

__all__ += ["rms_norm", "gumbel_softmax", "channel_shuffle", "feature_alpha_dropout",
            "triplet_margin_with_distance_loss", "max_unpool1d"]  # fmt: skip
from .vision import affine_grid, grid_sample  # noqa: E402

__all__ += ["affine_grid", "grid_sample"]
from .ctc import ctc_loss  # noqa: E402

__all__ += ["ctc_loss"]
from ..ops.conv3d import conv3d, conv_transpose3d  # noqa: E402
from .pooling import dropout3d  # noqa: E402

__all__ += ["conv3d", "conv_transpose3d", "dropout3d"]

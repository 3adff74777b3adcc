"""Layers, with PyTorch's names, arguments and default initialization."""

from __future__ import annotations

import math

from .. import creation
from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError
from . import functional as F
from . import init
from .module import Module, Parameter, _check_shape
from .normalization import _NormBase

# isort: split
from .activation import LeakyReLU, LogSoftmax, ReLU, Softmax  # noqa: F401  (moved to nn/activation.py, #17)
from .conv import Conv2d  # noqa: F401  (moved to nn/conv.py with the other convolutions, #17)


class Identity(Module):
    """Returns its input; takes and ignores any arguments, as PyTorch's (to stand in for a layer being removed)."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Linear(Module):
    """y = x W^T + b with W of shape (out_features, in_features).

    Initialized as PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform
    with a = sqrt(5)), and b likewise.

    W has PyTorch's shape but is stored column-major: its memory is the
    row-major (in, out) matrix that x W^T multiplies by, so the forward GEMM
    and the weight-gradient GEMM read and write contiguous rows (faster on
    the first layer of an MLP; see benchmarks/README.md). Shapes, state dicts
    and values are unaffected.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype=None, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty_tensor((in_features, out_features), dtype, device).T)
        self.register_parameter(
            "bias", Parameter(creation.empty_tensor((out_features,), dtype, device)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x):
        if x.shape[-1:] != (self.in_features,):
            from ..errors import ShapeError

            raise ShapeError(
                f"Linear: expected inputs with {self.in_features} features in the last dimension, "
                f"got shape {tuple(x.shape)}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = (
            kernel_size,
            kernel_size if stride is None else stride,
            padding,
            dilation,
        )
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                 divisor_override=None):  # fmt: skip
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, kernel_size if stride is None else stride, padding
        self.ceil_mode, self.count_include_pad, self.divisor_override = ceil_mode, count_include_pad, divisor_override

    def forward(self, x):
        return F.avg_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
            self.divisor_override,
        )  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Dropout(Module):
    """Inverted dropout with probability p in training; the identity in eval mode."""

    def __init__(self, p: float = 0.5):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ArgumentError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class _BatchNorm(_NormBase):
    """Batch normalization over axis 1 with learnable scale and shift and running statistics.

    As PyTorch's: training normalizes with the batch statistics and, when
    ``track_running_stats``, updates the running ones and counts the batch in
    ``num_batches_tracked`` (int64); ``momentum=None`` makes the running
    statistics a cumulative average, momentum 1 / num_batches_tracked.
    Evaluation normalizes with the running statistics (the batch's when none
    are tracked). Parameters, buffers and state-dict keys (``weight``,
    ``bias``, ``running_mean``, ``running_var``, ``num_batches_tracked``) come
    from :class:`minigrad.nn.normalization._NormBase`, which also lets a state
    dict without ``num_batches_tracked`` (older minigrad checkpoints) load.
    """

    expected_dims: tuple = ()
    expected: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None, *, bias: bool = True):  # fmt: skip
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, x):
        _check_shape(type(self).__name__, x, self.expected_dims, self.expected)
        if x.shape[1] != self.num_features:
            raise ShapeError(
                f"{type(self).__name__}: expected {self.num_features} channels on axis 1, got shape {tuple(x.shape)}"
            )
        counting = self.training and self.track_running_stats and self.num_batches_tracked is not None
        factor = 0.0 if self.momentum is None else self.momentum
        if counting and self.momentum is None:
            factor = 1.0 / (int(self.num_batches_tracked.item()) + 1)  # the average over this and the earlier batches
        use_batch = self.training or self.running_mean is None
        out = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_batch, factor,
                           self.eps)  # fmt: skip
        if counting:  # after the call, so that a call that raises leaves the count alone
            with no_grad():
                self.num_batches_tracked.add_(1)
        return out


class BatchNorm1d(_BatchNorm):
    expected_dims, expected = (2, 3), "(N, C) or (N, C, L) input"


class BatchNorm2d(_BatchNorm):
    expected_dims, expected = (4,), "(N, C, H, W) input"


class BatchNorm3d(_BatchNorm):
    """Batch normalization over (N, C, D, H, W) volumes: statistics per channel over N, D, H and W."""

    expected_dims, expected = (5,), "(N, C, D, H, W) input"


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, initialized N(0, 1).

    As PyTorch's: the ``padding_idx`` row (negative counts from the end) starts at zero and gets no
    gradient; ``max_norm`` renormalizes looked-up rows in place (see :func:`functional.embedding`);
    ``scale_grad_by_freq`` divides gradients by index frequency; ``sparse=True`` is not supported.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight=None, _freeze: bool = False, dtype=None, device=None):  # fmt: skip
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(
                    f"Embedding: padding_idx {padding_idx} must be within [-{num_embeddings}, {num_embeddings})"
                )
            padding_idx %= num_embeddings
        if sparse:
            raise ArgumentError("Embedding: sparse=True (sparse gradients) is not supported by minigrad")
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = (
            max_norm,
            norm_type,
            scale_grad_by_freq,
            sparse,
        )
        if _weight is None:
            self.weight = Parameter(creation.empty_tensor((num_embeddings, embedding_dim), dtype, device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(
                    f"Embedding: _weight has shape {tuple(_weight.shape)}, expected ({num_embeddings}, {embedding_dim})"
                )
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:  # fmt: skip
        """An Embedding holding ``embeddings`` (2-D, copied to a Parameter sharing its data), frozen by default."""
        if embeddings.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape {tuple(embeddings.shape)}")
        rows, dim = embeddings.shape
        return cls(rows, dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)  # fmt: skip

    def forward(self, indices):
        return F.embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)  # fmt: skip

    def extra_repr(self) -> str:
        extra = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            extra += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            extra += f", max_norm={self.max_norm}"
        return extra


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings without materializing each row, as PyTorch's.

    ``forward(input, offsets=None, per_sample_weights=None)``: see :func:`functional.embedding_bag`.
    ``weight`` (num_embeddings, embedding_dim) ~ N(0, 1), the ``padding_idx`` row zero.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight=None, include_last_offset: bool = False, padding_idx: int | None = None, dtype=None,
                 device=None):  # fmt: skip
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ArgumentError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if sparse:
            raise ArgumentError("EmbeddingBag: sparse=True (sparse gradients) is not supported by minigrad")
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(
                    f"EmbeddingBag: padding_idx {padding_idx} must be within [-{num_embeddings}, {num_embeddings})"
                )
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.mode, self.padding_idx = (
            num_embeddings, embedding_dim, mode, padding_idx
        )  # fmt: skip
        self.max_norm, self.norm_type, self.scale_grad_by_freq, self.sparse = (
            max_norm, norm_type, scale_grad_by_freq, sparse
        )  # fmt: skip
        self.include_last_offset = include_last_offset
        if _weight is None:
            self.weight = Parameter(creation.empty_tensor((num_embeddings, embedding_dim), dtype, device))
            init.normal_(self.weight)
            if padding_idx is not None:
                self.weight.array[padding_idx] = 0
        else:
            self.weight = Parameter(_weight)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)  # fmt: skip

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"


class Bilinear(Module):
    """y = x1^T A x2 + b for each output feature: weight A (out_features, in1_features, in2_features).

    Initialized as PyTorch: weight and bias ~ U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, dtype=None,
                 device=None):  # fmt: skip
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(creation.empty_tensor((out_features, in1_features, in2_features), dtype, device))
        self.register_parameter(
            "bias", Parameter(creation.empty_tensor((out_features,), dtype, device)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.in1_features) if self.in1_features else 0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")  # fmt: skip

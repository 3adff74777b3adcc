"""Convolution layers with PyTorch's names, arguments, parameter shapes, initialization and state-dict keys:
``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``, ``ConvTranspose2d``, ``ConvTranspose3d``, ``Unfold``
and ``Fold``.

Every convolution holds ``weight`` of shape (out, in/groups, *kernel), or (in, out/groups, *kernel) when
transposed, and ``bias`` (out,) unless ``bias=False``. Both are drawn as PyTorch does:
``kaiming_uniform_(weight, a=sqrt(5))``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
fan_in = weight.shape[1] * prod(kernel) (for a transposed convolution that is out/groups * prod(kernel),
as in PyTorch), and the bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

``padding_mode`` other than ``'zeros'`` ('reflect', 'replicate', 'circular') pads the input first, by
gathering the reflected, clamped or wrapped indices along each spatial dimension (a differentiable
index, whose vjp adds the gradient back to the elements it copied), and then convolves without padding,
as PyTorch's ``F.pad(input, _reversed_padding_repeated_twice, mode)`` before the convolution.
"""

from __future__ import annotations

import math

from .. import backend, creation
from ..errors import ArgumentError, ShapeError
from ..ops.conv import padding_string, pair, single
from ..ops.conv3d import triple
from ..ops.conv_transpose import _transpose_sizes, output_padding_for
from ..ops.shape import getitem
from . import functional as F
from . import init
from .module import Module, Parameter

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(value, dims, name, op):
    """``value`` as a ``dims``-tuple of ints (PyTorch's _single / _pair / _triple)."""
    if dims == 1:
        return (single(value, name, op),)
    return pair(value, name, op) if dims == 2 else triple(value, name, op)


def _mode_index(xp, length, lo, hi, mode):
    """Indices into a dimension of ``length`` that pad it by lo before and hi after in ``mode``."""
    idx = xp.arange(-lo, length + hi)
    if mode == "replicate":
        return xp.clip(idx, 0, length - 1)
    if mode == "circular":
        return idx % length
    idx = xp.abs(idx)  # reflect: mirrored about the first and the last element, which are not repeated
    return xp.where(idx > length - 1, 2 * (length - 1) - idx, idx)


def pad_by_mode(x, pads, mode: str, op: str):
    """x padded in ``mode`` by ``pads`` = (last dim before, after, the one before it before, after, ...),
    PyTorch's ``F.pad(x, pads, mode)`` for the modes a convolution's ``padding_mode`` takes. Raises
    ShapeError when a reflection reaches past the other end (pad >= size) or a wrap past it (pad > size)."""
    xp = backend.xp_of(x.array if hasattr(x, "array") else x)
    for k in range(len(pads) // 2):
        axis = x.ndim - 1 - k
        lo, hi, length = pads[2 * k], pads[2 * k + 1], x.shape[axis]
        if not lo and not hi:
            continue
        limit = length - 1 if mode == "reflect" else length
        if max(lo, hi) > limit or (mode == "replicate" and length == 0):
            raise ShapeError(
                f"{op}: padding ({lo}, {hi}) in mode {mode!r} must be at most {limit} for dimension {axis} of the "
                f"input of shape {tuple(x.shape)}"
            )
        x = getitem(x, (slice(None),) * axis + (_mode_index(xp, length, lo, hi, mode),))
    return x


class _ConvNd(Module):
    """What the convolutions share: argument checks, parameters, initialization and repr (PyTorch's _ConvNd)."""

    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, device, dtype):  # fmt: skip
        super().__init__()
        name, dims = type(self).__name__, self._dims
        if not isinstance(groups, int) or groups < 1:
            raise ShapeError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ShapeError(
                f"{name}: in_channels {in_channels} and out_channels {out_channels} must be divisible by groups "
                f"{groups}"
            )
        if padding_mode not in PADDING_MODES:
            raise ArgumentError(f"{name}: padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
        if self._transposed and padding_mode != "zeros":
            raise ArgumentError(f"{name}: only 'zeros' padding mode is supported, got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, dims, "kernel_size", name)
        self.stride = _tuple(stride, dims, "stride", name)
        self.dilation = _tuple(dilation, dims, "dilation", name)
        self.output_padding = _tuple(output_padding, dims, "output_padding", name)
        self.groups, self.padding_mode, self.transposed = groups, padding_mode, self._transposed
        if isinstance(padding, str):
            if self._transposed:
                raise ArgumentError(f"{name}: padding must be an int or a tuple of ints, got {padding!r}")
            left, extra = padding_string(name, padding, self.kernel_size, self.stride, self.dilation)
            self.padding = padding
            sides = [(lo, lo + e) for lo, e in zip(left, extra)]
        else:
            self.padding = _tuple(padding, dims, "padding", name)
            sides = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [v for side in reversed(sides) for v in side]
        numbers = self.kernel_size + self.stride + self.dilation
        if min(numbers) < 1 or min(self.output_padding + (in_channels, out_channels) + tuple(min(sides))) < 0:
            raise ShapeError(
                f"{name}: channels, padding and output_padding must be non-negative and kernel_size, stride and "
                f"dilation positive, got {in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}, "
                f"padding={padding}, dilation={dilation}, output_padding={output_padding}"
            )
        if self._transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty_tensor(shape, dtype, device))
        self.register_parameter(
            "bias", Parameter(creation.empty_tensor((out_channels,), dtype, device)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init.fans(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in else 0
            init.uniform_(self.bias, -bound, bound)

    def _check_input(self, x, batched_only: bool = False):
        """The layer's own error for an input of the wrong number of dimensions or channels."""
        name, dims, shape = type(self).__name__, self._dims, tuple(x.shape)
        allowed = (dims + 2,) if batched_only else (dims + 1, dims + 2)
        if len(shape) not in allowed:
            layout = {1: "N, C, L", 2: "N, C, H, W", 3: "N, C, D, H, W"}[dims]
            what = f"an ({layout}) input or an unbatched one without N"
            label = "an NCHW input of 4 dimensions" if batched_only else what
            raise ShapeError(f"{name}: expected {label}, got shape {shape}")
        channels = shape[-dims - 1]
        if channels != self.in_channels:
            raise ShapeError(f"{name}: expected an input with {self.in_channels} channels, got shape {shape}")

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def _padded_input(self, x):
        """x and the padding to convolve it with: x itself for 'zeros', else x padded in padding_mode and 0."""
        if self.padding_mode == "zeros":
            return x, self.padding
        pads = self._reversed_padding_repeated_twice
        return pad_by_mode(x, pads, self.padding_mode, type(self).__name__), (0,) * self._dims


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or unbatched (C_in, L) inputs, as PyTorch's ``nn.Conv1d``:
    ``F.conv1d`` with weight (out_channels, in_channels/groups, kernel_size) and bias (out_channels,).
    ``padding`` is an int, a 1-tuple, ``'valid'`` or ``'same'`` (stride 1)."""

    _dims = 1

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        self._check_input(input)
        x, padding = self._padded_input(input)
        padding = padding if isinstance(padding, str) else padding[0]
        return F.conv1d(x, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) inputs, as PyTorch's ``nn.Conv2d``: ``F.conv2d`` with weight
    (out_channels, in_channels/groups, kh, kw) and bias (out_channels,). ``padding`` is an int, a pair,
    ``'valid'`` or ``'same'`` (stride 1)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        self._check_input(input, batched_only=True)
        x, padding = self._padded_input(input)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class Conv3d(_ConvNd):
    """3-D convolution over (N, C_in, D, H, W) or unbatched (C_in, D, H, W) inputs, as PyTorch's
    ``nn.Conv3d``: ``F.conv3d`` with weight (out_channels, in_channels/groups, kd, kh, kw) and bias
    (out_channels,). ``padding`` is an int, a triple, ``'valid'`` or ``'same'`` (stride 1)."""

    _dims = 3

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", device=None, dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)  # fmt: skip

    def forward(self, input):
        self._check_input(input)
        x, padding = self._padded_input(input)
        return F.conv3d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """What ConvTranspose1d/2d share: PyTorch's constructor order (output_padding and groups before bias,
    dilation after it) and the output_padding that reaches a requested output size."""

    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, output_padding=0,
                 groups: int = 1, bias: bool = True, dilation=1, padding_mode: str = "zeros", device=None,
                 dtype=None):  # fmt: skip
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, device, dtype)  # fmt: skip

    def _output_padding(self, input, output_size):
        """The constructor's output_padding (checked here, so that its error names the layer), or the one that
        gives ``output_size`` (PyTorch's rule)."""
        in_sizes = tuple(input.shape[-self._dims :])
        if output_size is None:
            _transpose_sizes(type(self).__name__, in_sizes, self.kernel_size, self.stride, self.padding,
                             self.output_padding, self.dilation)  # fmt: skip
            return self.output_padding
        return output_padding_for(type(self).__name__, in_sizes, output_size, self.kernel_size, self.stride,
                                  self.padding, self.dilation)  # fmt: skip


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C_in, L) or unbatched (C_in, L) inputs, as PyTorch's
    ``nn.ConvTranspose1d``: ``F.conv_transpose1d`` with weight (in_channels, out_channels/groups, k).
    ``forward(input, output_size=None)``: a given output_size (L_out, or (N, C, L_out)) picks the
    output_padding that reaches it."""

    _dims = 1

    def forward(self, input, output_size=None):
        self._check_input(input)
        (o,) = self._output_padding(input, output_size)
        return F.conv_transpose1d(input, self.weight, self.bias, self.stride[0], self.padding[0], o, self.groups,
                                  self.dilation[0])  # fmt: skip


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C_in, H, W) or unbatched (C_in, H, W) inputs, as PyTorch's
    ``nn.ConvTranspose2d``: ``F.conv_transpose2d`` with weight (in_channels, out_channels/groups, kh, kw).
    ``forward(input, output_size=None)``: a given output_size ((H, W), or with N and C) picks the
    output_padding that reaches it; it must lie within stride - 1 of the size without output padding."""

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)  # fmt: skip


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C_in, D, H, W) or unbatched (C_in, D, H, W) inputs, as PyTorch's
    ``nn.ConvTranspose3d``: ``F.conv_transpose3d`` with weight (in_channels, out_channels/groups, kd, kh, kw).
    ``forward(input, output_size=None)``: a given output_size ((D, H, W), or with N and C) picks the
    output_padding that reaches it."""

    _dims = 3

    def forward(self, input, output_size=None):
        self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return F.conv_transpose3d(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                  self.groups, self.dilation)  # fmt: skip


class Unfold(Module):
    """``F.unfold`` as a layer: the sliding blocks of (N, C, H, W) as (N, C*kh*kw, L) columns."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, stride={self.stride}"


class Fold(Module):
    """``F.fold`` as a layer: (N, C*kh*kw, L) columns summed back into (N, C, *output_size)."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
            f"padding={self.padding}, stride={self.stride}"
        )


__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "Fold", "Unfold",
           "pad_by_mode"]  # fmt: skip

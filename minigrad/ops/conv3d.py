"""3-D convolutions, composed from the 2-D ones: ``conv3d`` and ``conv_transpose3d`` (no new primitive).

A 3-D kernel of depth kd is kd 2-D kernels, one per depth offset a. With the
input padded in depth and its depth windows gathered (one ``index_select``
of the kd * Do slices x[:, :, t*s + a*d], t < Do), each output depth t is a
2-D convolution over (H, W) of a kd * C-channel image, the kd slices of its
window side by side:

    conv3d(x, w)[n, o, t] = conv2d(stack_a x_pad[n, :, t*s_d + a*d_d], w[o] as (kd * C/g, kh, kw))

so the whole layer is ONE conv2d (one GEMM over K = kd * kh * kw * C/g) on a
batch of N * Do images, with the weight's (C/g, kd) axes swapped to match.
With groups the stacked channels are laid out group by group, each group's
kd slices together, so conv2d's groups see their own channels.

The transposed convolution is that map's adjoint, built the same way: one
conv_transpose2d of the N * Di depth slices to kd * C_out channels (each
depth offset's share), then ``index_add`` puts offset a of input slice t at
output depth t*s_d + a*d_d (the adjoint of the gather), and the depth
padding is cropped. Each piece (gather, pad, permute, conv2d and its
transpose, index_add) has its gradients and second derivatives, so these
do too, and the two are each other's adjoints exactly.

Memory: the gathered depth windows hold kd copies of the input, as a
vol2col would, and conv2d then makes its own im2col of them.
"""

from __future__ import annotations

import numpy as np

from .. import creation
from ..errors import ShapeError
from ..tensor import tensor
from .conv import _INTS, conv2d, out_size, padding_string
from .conv_transpose import _transpose_sizes, conv_transpose2d
from .selection import index_add, index_select
from .shape import getitem, pad, permute, reshape


def triple(value, name: str = "argument", op: str = "") -> tuple:
    """An int or a triple of ints, as a triple (PyTorch's ``_triple``); ``op`` names the caller in errors."""
    if isinstance(value, _INTS):
        return (int(value),) * 3
    if not (isinstance(value, (tuple, list)) and len(value) == 3 and all(isinstance(v, _INTS) for v in value)):
        raise ShapeError(f"{op + ': ' if op else ''}{name} must be an int or a triple of ints, got {value!r}")
    return tuple(int(v) for v in value)


def _batched(op: str, input, layout: str):
    shape = tuple(input.shape)
    if len(shape) not in (4, 5):
        raise ShapeError(f"{op}: expected an ({layout}) input or an unbatched one without N, got shape {shape}")
    return (input, True) if len(shape) == 5 else (reshape(input, (1, *shape)), False)


def _depth_index(count: int, kernel: int, stride: int, dilation: int, device):
    """[t*stride + a*dilation for a < kernel for t < count]: where each depth offset's slices sit."""
    idx = (np.arange(kernel)[:, None] * dilation + np.arange(count)[None, :] * stride).reshape(-1)
    return tensor(idx.astype(np.int64), device=device)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation of an (N, C, D, H, W) or unbatched (C, D, H, W) input with an
    (O, C/groups, kd, kh, kw) weight, as PyTorch's ``F.conv3d``.

    out[n, o, t, i, j] = bias[o] + sum_{c, a, b, e} x_pad[n, c, t*s + a*d, i*s + b*d, j*s + e*d] w[o, c, a, b, e]
    (within each group; s, p, d per dimension), with D_out = floor((D + 2p - d (k - 1) - 1) / s) + 1 and
    likewise H_out, W_out. ``stride``, ``padding`` and ``dilation`` are ints or triples; ``padding`` may
    also be ``'valid'`` or ``'same'`` (stride 1; an even kernel with odd dilation gets its extra element
    at the end, as PyTorch). Computed as one :func:`conv2d` (see the module docstring). Raises ShapeError
    when the shapes, groups or geometry do not fit, ArgumentError for a bad padding string.
    """
    op = "conv3d"
    w_shape = tuple(weight.shape)
    if len(w_shape) != 5:
        raise ShapeError(f"{op}: weight must have shape (out, in/groups, kd, kh, kw), got {w_shape}")
    x, batched = _batched(op, input, "N, C, D, H, W")
    x_shape = tuple(x.shape)
    stride, dilation = triple(stride, "stride", op), triple(dilation, "dilation", op)
    groups = int(groups)
    if groups < 1:
        raise ShapeError(f"{op}: groups must be positive, got {groups}")
    n, c = x_shape[:2]
    o, cg, kd, kh, kw = w_shape
    if c != cg * groups or o % groups or (groups > 1 and o < groups):
        raise ShapeError(
            f"{op}: input of shape {tuple(input.shape)} ({c} channels) and weight of shape {w_shape} do not match "
            f"groups={groups} (need in_channels = weight.shape[1] * groups and out_channels divisible by groups, "
            "at least groups)"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise ShapeError(f"{op}: bias must have shape {(o,)} (one per out channel), got {tuple(bias.shape)}")
    if isinstance(padding, str):
        padding, extra = padding_string(op, padding, w_shape[2:], stride, dilation)
    else:
        padding, extra = triple(padding, "padding", op), (0, 0, 0)
    if min(stride + dilation + w_shape[2:]) < 1 or min(padding) < 0:
        raise ShapeError(
            f"{op}: kernel, stride and dilation must be positive and padding non-negative, got kernel "
            f"{w_shape[2:]}, stride {stride}, padding {padding}, dilation {dilation}"
        )
    sizes = tuple(s + e for s, e in zip(x_shape[2:], extra))
    out = tuple(out_size(s, k, st, p, d) for s, k, st, p, d in zip(sizes, w_shape[2:], stride, padding, dilation))
    if min(out) < 1:
        raise ShapeError(
            f"{op}: a {w_shape[2:]} kernel (dilation {dilation}) does not fit the input of shape "
            f"{tuple(input.shape)} padded by {padding}"
        )
    (pd, ph, pw), (ed, eh, ew) = padding, extra
    if pd or any(extra):
        x = pad(x, ((0, 0), (0, 0), (pd, pd + ed), (0, eh), (0, ew)))
    do = out[0]
    windows = index_select(x, 2, _depth_index(do, kd, stride[0], dilation[0], x.device))  # (N, C, kd*Do, H, W)
    h, w = x.shape[3:]
    windows = reshape(windows, (n, groups, cg, kd, do, h, w))
    images = reshape(permute(windows, (0, 4, 1, 3, 2, 5, 6)), (n * do, groups * kd * cg, h, w))
    w2 = reshape(permute(weight, (0, 2, 1, 3, 4)), (o, kd * cg, kh, kw))
    y = conv2d(images, w2, bias, stride[1:], (ph, pw), dilation[1:], groups)  # (N*Do, O, Ho, Wo)
    y = permute(reshape(y, (n, do, o, *y.shape[2:])), (0, 2, 1, 3, 4))
    return y if batched else reshape(y, y.shape[1:])


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-D transposed convolution of an (N, C_in, D, H, W) or unbatched (C_in, D, H, W) input with a
    (C_in, C_out/groups, kd, kh, kw) weight, as PyTorch's ``F.conv_transpose3d``: the gradient of
    :func:`conv3d` with respect to its input. Each input element spreads a kernel-sized block over the
    output, of D_out = (D - 1) s - 2 p + d (k - 1) + output_padding + 1 (likewise H_out, W_out).

    ``stride``, ``padding``, ``output_padding`` and ``dilation`` are ints or triples; each output_padding
    must be below its stride or its dilation. Raises ShapeError when the shapes, groups or geometry do not
    fit.
    """
    op = "conv_transpose3d"
    w_shape = tuple(weight.shape)
    if len(w_shape) != 5:
        raise ShapeError(f"{op}: weight must have shape (in, out/groups, kd, kh, kw), got {w_shape}")
    x, batched = _batched(op, input, "N, C_in, D, H, W")
    n, c, di, hi, wi = x.shape
    groups = int(groups)
    if groups < 1:
        raise ShapeError(f"{op}: groups must be positive, got {groups}")
    if c != w_shape[0] or c % groups or (groups > 1 and c < groups):
        raise ShapeError(
            f"{op}: input of shape {tuple(input.shape)} ({c} channels) and weight of shape {w_shape} do not match "
            f"groups={groups} (need in_channels = weight.shape[0], divisible by groups and at least groups)"
        )
    cin, og, kd, kh, kw = w_shape
    out_channels = og * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape {(out_channels,)} (one per out channel), got {tuple(bias.shape)}")
    stride, padding = triple(stride, "stride", op), triple(padding, "padding", op)
    output_padding, dilation = triple(output_padding, "output_padding", op), triple(dilation, "dilation", op)
    sizes = _transpose_sizes(op, (di, hi, wi), w_shape[2:], stride, padding, output_padding, dilation)
    # every depth slice through the 2-D transposed convolution, to kd * C_out/g channels per group (offset a's share)
    w2 = reshape(permute(weight, (0, 2, 1, 3, 4)), (cin, kd * og, kh, kw))
    slices = reshape(permute(x, (0, 2, 1, 3, 4)), (n * di, c, hi, wi))
    y = conv_transpose2d(slices, w2, None, stride[1:], padding[1:], output_padding[1:], groups, dilation[1:])
    ho, wo = y.shape[2:]
    y = reshape(y, (n, di, groups, kd, og, ho, wo))
    y = reshape(permute(y, (0, 2, 4, 3, 1, 5, 6)), (n, out_channels, kd * di, ho, wo))
    # offset a of input slice t lands at depth t*s + a*d of the uncropped output, then the padding is cropped
    full = (di - 1) * stride[0] + dilation[0] * (kd - 1) + 1 + output_padding[0]
    zeros = creation.zeros(n, out_channels, full, ho, wo, dtype=y.dtype, device=y.device)
    out = index_add(zeros, 2, _depth_index(di, kd, stride[0], dilation[0], y.device), y)
    out = getitem(out, (slice(None), slice(None), slice(padding[0], padding[0] + sizes[0])))
    if bias is not None:
        out = out + reshape(bias, (1, out_channels, 1, 1, 1))
    return out if batched else reshape(out, out.shape[1:])

"""Transposed convolutions and PyTorch's fold / unfold, composed from conv.py's primitives (no second convolution).

A transposed convolution is the adjoint of a convolution: with the same
weight w (C_in, C_out/groups, kh, kw), seen as the weight of a conv2d from
C_out to C_in channels,

    conv_transpose2d(x, w) = d conv2d(y, w) / d y  applied to x,

so its forward is conv2d's input gradient: one batched GEMM ``x_mat @ w_mat``
(:func:`~minigrad.ops.conv._conv_cols_input_grad`) then col2im
(:func:`~minigrad.ops.conv._fold_cols`), into an output of
(H - 1) s - 2 p + d (k - 1) + output_padding + 1 rows (and columns). Those two
primitives already have each other's adjoints as vjps (im2col, conv2d's
forward GEMM and its weight-gradient GEMM), so the gradients, and second
derivatives, come with them.

``output_padding`` < stride lengthens the output by rows that col2im reaches
from the padding (the geometry of conv2d maps the longer output back to the
same H). An ``output_padding`` >= stride (allowed when it is below the
dilation) adds rows no window of x covers: x is first extended by
output_padding // stride rows of zeros, which fills them with zeros as
PyTorch does.

``unfold`` / ``fold`` are PyTorch's (N, C*kh*kw, L) views of the window
primitives ``unfold`` / ``fold`` of conv.py (each the other's vjp): the
windows (N, C, Ho, Wo, kh, kw) permuted to (N, C, kh, kw, Ho, Wo) and
reshaped, or the reverse.
"""

from __future__ import annotations

from ..errors import ArgumentError, ShapeError
from .conv import _conv_cols_input_grad, _fold, _fold_cols, _unfold, out_size, pair, single
from .shape import pad, permute, reshape


def _transpose_sizes(op, in_sizes, kernel, stride, padding, output_padding, dilation):
    """Output sizes (H - 1) s - 2 p + d (k - 1) + output_padding + 1, after the checks PyTorch makes."""
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(output_padding) < 0:
        raise ShapeError(
            f"{op}: kernel, stride and dilation must be positive, padding and output_padding non-negative, got "
            f"kernel {kernel}, stride {stride}, padding {padding}, output_padding {output_padding}, "
            f"dilation {dilation}"
        )
    if any(op_ >= s and op_ >= d for op_, s, d in zip(output_padding, stride, dilation)):
        raise ShapeError(
            f"{op}: output padding must be smaller than either stride or dilation, got output_padding "
            f"{output_padding}, stride {stride}, dilation {dilation}"
        )
    sizes = tuple(
        (h - 1) * s - 2 * p + d * (k - 1) + o + 1
        for h, k, s, p, o, d in zip(in_sizes, kernel, stride, padding, output_padding, dilation)
    )
    if min(sizes) < 1:
        raise ShapeError(
            f"{op}: the output of an input of spatial size {tuple(in_sizes)} would have size {sizes}: too much "
            f"padding {padding} for kernel {kernel}, stride {stride}, dilation {dilation}"
        )
    return sizes


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-D transposed convolution ("deconvolution") of an (N, C_in, H, W) or unbatched (C_in, H, W) input
    with a (C_in, C_out/groups, kh, kw) weight, as PyTorch's ``F.conv_transpose2d``.

    out[n, o, i*s + a*d - p, j*s + b*d - p] += x[n, c, i, j] * w[c, o, a, b] (within each group; plus
    bias[o]): each input element spreads a kernel-sized patch over the output, which has
    H_out = (H - 1) s - 2 p + d (k - 1) + output_padding + 1 rows, and as many columns by the same rule.
    It is the gradient of ``conv2d(y, weight, stride=stride, padding=padding, dilation=dilation,
    groups=groups)`` with respect to y, and is computed as that (see the module docstring).

    ``stride``, ``padding``, ``output_padding`` and ``dilation`` are ints or pairs; each output_padding
    must be below its stride or its dilation. Raises ShapeError when the shapes, groups or geometry do not
    fit.
    """
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    op = "conv_transpose2d"
    if len(x_shape) not in (3, 4):
        raise ShapeError(f"{op}: expected an (N, C_in, H, W) or unbatched (C_in, H, W) input, got shape {x_shape}")
    if len(w_shape) != 4:
        raise ShapeError(f"{op}: weight must have shape (in, out/groups, kh, kw), got {w_shape}")
    groups = int(groups)
    if groups < 1:
        raise ShapeError(f"{op}: groups must be positive, got {groups}")
    batched = len(x_shape) == 4
    if not batched:
        input = reshape(input, (1, *x_shape))
    n, c, h, w = input.shape
    if c != w_shape[0] or c % groups or (groups > 1 and c < groups):
        raise ShapeError(
            f"{op}: input of shape {x_shape} ({c} channels) and weight of shape {w_shape} do not match "
            f"groups={groups} (need in_channels = weight.shape[0], divisible by groups and at least groups)"
        )
    out_channels = w_shape[1] * groups
    if bias is not None and tuple(bias.shape) != (out_channels,):
        raise ShapeError(f"{op}: bias must have shape {(out_channels,)} (one per out channel), got {tuple(bias.shape)}")
    kernel = w_shape[2:]
    stride, padding = pair(stride, "stride", op), pair(padding, "padding", op)
    output_padding, dilation = pair(output_padding, "output_padding", op), pair(dilation, "dilation", op)
    sizes = _transpose_sizes(op, (h, w), kernel, stride, padding, output_padding, dilation)
    extra = tuple(o // s for o, s in zip(output_padding, stride))  # rows no window reaches: zeros
    if any(extra):
        input = pad(input, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    dcols = _conv_cols_input_grad(input, weight, groups=groups)
    params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = _fold_cols(dcols, x_shape=(n, out_channels, *sizes), **params)
    if bias is not None:
        out = out + reshape(bias, (1, out_channels, 1, 1))
    return out if batched else reshape(out, out.shape[1:])


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-D transposed convolution of an (N, C_in, L) or unbatched (C_in, L) input with a
    (C_in, C_out/groups, k) weight, as PyTorch's ``F.conv_transpose1d``: L_out = (L - 1) s - 2 p + d (k - 1)
    + output_padding + 1. :func:`conv_transpose2d` on the input seen as (N, C_in, 1, L) (a view)."""
    op = "conv_transpose1d"
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if len(x_shape) not in (2, 3):
        raise ShapeError(f"{op}: expected an (N, C_in, L) or unbatched (C_in, L) input, got shape {x_shape}")
    if len(w_shape) != 3:
        raise ShapeError(f"{op}: weight must have shape (in, out/groups, k), got {w_shape}")
    batched = len(x_shape) == 3
    n, c, length = x_shape if batched else (1, *x_shape)
    names = {"stride": stride, "padding": padding, "output_padding": output_padding, "dilation": dilation}
    s, p, o, d = (single(v, name, op) for name, v in names.items())
    if int(groups) < 1:
        raise ShapeError(f"{op}: groups must be positive, got {groups}")
    if c != w_shape[0] or c % int(groups) or (int(groups) > 1 and c < int(groups)):
        raise ShapeError(
            f"{op}: input of shape {x_shape} ({c} channels) and weight of shape {w_shape} do not match "
            f"groups={groups} (need in_channels = weight.shape[0], divisible by groups and at least groups)"
        )
    _transpose_sizes(op, (length,), (w_shape[2],), (s,), (p,), (o,), (d,))
    w4 = reshape(weight, (w_shape[0], w_shape[1], 1, w_shape[2]))
    out = conv_transpose2d(reshape(input, (n, c, 1, length)), w4, bias, (1, s), (0, p), (0, o), groups, (1, d))
    return reshape(out, (n, out.shape[1], out.shape[3]) if batched else (out.shape[1], out.shape[3]))


def output_padding_for(op, in_sizes, output_size, kernel, stride, padding, dilation) -> tuple:
    """The output_padding that makes a transposed convolution's output ``output_size``, as PyTorch's
    ``_ConvTransposeNd._output_padding``: ``output_size`` lists the spatial sizes (or also N and C, which
    are dropped); each must lie in [min, min + stride - 1], min being the size with no output padding.
    Raises ArgumentError otherwise."""
    dims = len(kernel)
    output_size = tuple(int(v) for v in output_size)
    if len(output_size) in (dims + 1, dims + 2):
        output_size = output_size[-dims:]
    if len(output_size) != dims:
        raise ArgumentError(f"{op}: output_size must have {dims} (or {dims + 2}) elements, got {output_size}")
    low = tuple((h - 1) * s - 2 * p + d * (k - 1) + 1 for h, k, s, p, d in zip(in_sizes, kernel, stride, padding,
                                                                                dilation))  # fmt: skip
    high = tuple(lo + s - 1 for lo, s in zip(low, stride))
    if any(not lo <= v <= hi for v, lo, hi in zip(output_size, low, high)):
        raise ArgumentError(
            f"{op}: requested an output size of {output_size}, but valid sizes range from {low} to {high} "
            f"(for an input of spatial size {tuple(in_sizes)})"
        )
    return tuple(v - lo for v, lo in zip(output_size, low))


# --- PyTorch's fold / unfold: (N, C*kh*kw, L) ---------------------------------------------------------------


def _window_args(op, kernel_size, dilation, padding, stride):
    kernel, dilation = pair(kernel_size, "kernel_size", op), pair(dilation, "dilation", op)
    padding, stride = pair(padding, "padding", op), pair(stride, "stride", op)
    if min(kernel) < 1 or min(dilation) < 1 or min(stride) < 1 or min(padding) < 0:
        raise ShapeError(
            f"{op}: kernel_size, dilation and stride must be positive and padding non-negative, got kernel_size "
            f"{kernel}, dilation {dilation}, padding {padding}, stride {stride}"
        )
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of an (N, C, H, W) or unbatched (C, H, W) input as columns, PyTorch's ``F.unfold``
    (im2col): out[n, c*kh*kw + a*kw + b, i*Wo + j] = x_pad[n, c, i*s + a*d, j*s + b*d], of shape
    (N, C*kh*kw, L) with L = Ho * Wo blocks. Linear; its adjoint, and vjp, is :func:`fold`.
    Raises ShapeError for another number of dimensions or a kernel that does not fit."""
    op = "unfold"
    x_shape = tuple(input.shape)
    if len(x_shape) not in (3, 4):
        raise ShapeError(f"{op}: expected an (N, C, H, W) or unbatched (C, H, W) input, got shape {x_shape}")
    p = _window_args(op, kernel_size, dilation, padding, stride)
    x = input if len(x_shape) == 4 else reshape(input, (1, *x_shape))
    win = _unfold(x, **p)  # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo, kh, kw = win.shape
    out = reshape(permute(win, (0, 1, 4, 5, 2, 3)), (n, c * kh * kw, ho * wo))
    return out if len(x_shape) == 4 else reshape(out, out.shape[1:])


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding blocks back into an image, PyTorch's ``F.fold`` (col2im): the adjoint of :func:`unfold`.

    ``input`` is (N, C*kh*kw, L) or unbatched (C*kh*kw, L), L the number of blocks that fit
    ``output_size`` (H, W); out[n, c, i*s + a*d - p, j*s + b*d - p] += input[n, c*kh*kw + a*kw + b, i*Wo + j],
    of shape (N, C, H, W). Overlapping blocks add up, so fold(unfold(x)) is x times the number of blocks
    covering each element. Raises ShapeError when dimension 1 is not a multiple of kh*kw or L does not
    match the number of blocks.
    """
    op = "fold"
    x_shape = tuple(input.shape)
    if len(x_shape) not in (2, 3):
        raise ShapeError(f"{op}: expected an (N, C*kh*kw, L) or unbatched (C*kh*kw, L) input, got shape {x_shape}")
    p = _window_args(op, kernel_size, dilation, padding, stride)
    size = pair(output_size, "output_size", op)
    n, ck, length = x_shape if len(x_shape) == 3 else (1, *x_shape)
    kh, kw = p["kernel"]
    if ck % (kh * kw):
        raise ShapeError(
            f"{op}: dimension 1 of the input of shape {x_shape} must be divisible by the product of kernel_size "
            f"{p['kernel']}, got {ck}"
        )
    blocks = [out_size(s, k, st, pd, d) for s, k, st, pd, d in zip(size, p["kernel"], p["stride"], p["padding"],
                                                                    p["dilation"])]  # fmt: skip
    if min(blocks) < 1 or blocks[0] * blocks[1] != length:
        raise ShapeError(
            f"{op}: output_size {size} with kernel_size {p['kernel']}, dilation {p['dilation']}, padding "
            f"{p['padding']} and stride {p['stride']} gives {blocks[0]} x {blocks[1]} blocks, but the input of shape "
            f"{x_shape} has {length}"
        )
    c = ck // (kh * kw)
    win = permute(reshape(input, (n, c, kh, kw, blocks[0], blocks[1])), (0, 1, 4, 5, 2, 3))
    out = _fold(win, x_shape=(n, c, *size), **p)
    return out if len(x_shape) == 3 else reshape(out, out.shape[1:])


__all__ = ["conv_transpose1d", "conv_transpose2d", "fold", "unfold", "output_padding_for"]

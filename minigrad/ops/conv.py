"""Convolution and pooling on NCHW tensors, as primitives with their own vjps.

conv2d is im2col plus one matrix product: the kernel windows of the padded
input, a strided view (:func:`minigrad.backend.windows`), are copied once into
a matrix ``cols`` of shape (N*Ho*Wo, C*kh*kw) and multiplied by the weight
reshaped to (O, C*kh*kw). With groups the product is batched over groups.

Its vjps are two more primitives, each a single product too:

* ``conv2d_input_grad(g, w)`` = dx: ``dcols = g_mat @ w_mat``, then col2im,
  which adds each kernel offset's slice of ``dcols`` into a padded buffer
  (kh * kw shifted slice-adds; no ``np.add.at``) and crops the padding;
* ``conv2d_weight_grad(x, g)`` = dw: ``g_mat^T @ cols``.

The three are linear in each argument and their vjps are each other, so
second derivatives through convolutions come for free.

Pooling: ``max_pool2d`` and ``avg_pool2d`` reduce each window; when windows
tile the input (stride = kernel, no padding) this is a reshape and a reduction,
and the backward a broadcast multiply. Otherwise the vjp spreads the
cotangent over the windows and folds it back (``fold``/``unfold``, adjoint
primitives). Max-pool declares which element won each window as its branch
signature: a tie is a kink.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ShapeError
from ..primitive import primitive
from ..tensor import Tensor
from .shape import broadcast_to, pad, reshape

_INTS = (int, np.integer)


def pair(value, name: str = "argument", op: str = "") -> tuple:
    """An int or a pair of ints, as a pair (PyTorch's ``_pair``); ``op`` names the caller in errors."""
    if isinstance(value, _INTS):
        return (int(value), int(value))
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, _INTS) for v in value)):
        raise ShapeError(f"{op + ': ' if op else ''}{name} must be an int or a pair of ints, got {value!r}")
    return (int(value[0]), int(value[1]))


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """Output length of a sliding window: floor((size + 2p - d(k - 1) - 1) / s) + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _geometry(op, x_shape, kernel, stride, padding, dilation):
    """Check a window geometry against an NCHW shape; return the output (Ho, Wo)."""
    if len(x_shape) != 4:
        raise ShapeError(f"{op}: expected an NCHW input of 4 dimensions, got shape {tuple(x_shape)}")
    if min(stride) < 1 or min(dilation) < 1 or min(padding) < 0 or min(kernel) < 1:
        raise ShapeError(
            f"{op}: kernel, stride and dilation must be positive and padding non-negative, got kernel {kernel}, "
            f"stride {stride}, padding {padding}, dilation {dilation}"
        )
    ho, wo = (out_size(s, k, st, p, d) for s, k, st, p, d in zip(x_shape[2:], kernel, stride, padding, dilation))
    if ho < 1 or wo < 1:
        raise ShapeError(
            f"{op}: a {kernel} kernel (dilation {dilation}) does not fit the input of shape {tuple(x_shape)} "
            f"padded by {padding}"
        )
    return ho, wo


def _padded(x, padding, value=0):
    if padding == (0, 0):
        return x
    xp = backend.xp_of(x)
    (ph, pw) = padding
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), mode="constant", constant_values=value)


def _im2col(x, kernel, stride, padding, dilation, groups):
    """cols of shape (N*Ho*Wo, groups, C/groups*kh*kw): the only copy the forward makes."""
    ho, wo = _geometry("conv2d", x.shape, kernel, stride, padding, dilation)
    win = backend.windows(_padded(x, padding), kernel, stride, dilation, (ho, wo))  # (N, C, Ho, Wo, kh, kw)
    n, c = x.shape[:2]
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, groups, (c // groups) * kernel[0] * kernel[1])


def _col2im(dwin, x_shape, kernel, stride, padding, dilation):
    """The adjoint of taking windows: add each window element back where it came from.

    ``dwin`` has shape (N, C, Ho, Wo, kh, kw); the result (N, C, H, W). One
    strided slice-add per kernel offset into a padded buffer, then a crop.
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = dwin.shape[2:4]
    xp = backend.xp_of(dwin)
    out = xp.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            out[:, :, rows, cols] += dwin[:, :, :, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


def _weight_matrix(w, groups):
    o = w.shape[0]
    return w.reshape(groups, o // groups, math.prod(w.shape[1:]))  # (g, O/g, C/g*kh*kw); not -1: O may be 0


def _grad_matrix(g, groups):
    """The output cotangent (N, O, Ho, Wo) as (N*Ho*Wo, groups, O/groups)."""
    n, o, ho, wo = g.shape
    return g.transpose(0, 2, 3, 1).reshape(n * ho * wo, groups, o // groups)


def _check_conv(x_shape, w_shape, groups):
    if len(x_shape) != 4:
        raise ShapeError(f"conv2d: expected an NCHW input of 4 dimensions, got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ShapeError(f"conv2d: weight must have shape (out, in/groups, kh, kw), got {tuple(w_shape)}")
    c, o = x_shape[1], w_shape[0]
    if c % groups or o % groups or w_shape[1] * groups != c:
        raise ShapeError(
            f"conv2d: input with {c} channels and weight of shape {tuple(w_shape)} do not match groups={groups} "
            f"(need in_channels = weight.shape[1] * groups and out_channels divisible by groups)"
        )


@primitive(nin=2, saves=(0, 1))
def _conv2d(x, w, *, stride, padding, dilation, groups):
    kernel = w.shape[2:]
    n = x.shape[0]
    ho, wo = _geometry("conv2d", x.shape, kernel, stride, padding, dilation)
    cols = _im2col(x, kernel, stride, padding, dilation, groups)
    wmat = _weight_matrix(w, groups)
    if groups == 1:
        out = cols[:, 0, :] @ wmat[0].T  # (N*Ho*Wo, O): one GEMM
    else:
        out = (cols.transpose(1, 0, 2) @ wmat.transpose(0, 2, 1)).transpose(1, 0, 2)
    return out.reshape(n, ho, wo, w.shape[0]).transpose(0, 3, 1, 2)


@primitive(nin=2, saves=(1,))
def _conv2d_input_grad(g, w, *, x_shape, stride, padding, dilation, groups):
    n, c = x_shape[:2]
    kernel = w.shape[2:]
    ho, wo = g.shape[2:]
    gmat = _grad_matrix(g, groups)
    wmat = _weight_matrix(w, groups)
    if groups == 1:
        dcols = gmat[:, 0, :] @ wmat[0]  # (N*Ho*Wo, C*kh*kw)
    else:
        dcols = (gmat.transpose(1, 0, 2) @ wmat).transpose(1, 0, 2)
    dwin = dcols.reshape(n, ho, wo, c, kernel[0], kernel[1]).transpose(0, 3, 1, 2, 4, 5)
    return _col2im(dwin, x_shape, kernel, stride, padding, dilation)


@primitive(nin=2, saves=(0, 1))
def _conv2d_weight_grad(x, g, *, w_shape, stride, padding, dilation, groups):
    cols = _im2col(x, w_shape[2:], stride, padding, dilation, groups)
    gmat = _grad_matrix(g, groups)
    if groups == 1:
        dw = gmat[:, 0, :].T @ cols[:, 0, :]
    else:
        dw = gmat.transpose(1, 2, 0) @ cols.transpose(1, 0, 2)
    return dw.reshape(w_shape)


_conv2d.name, _conv2d_input_grad.name, _conv2d_weight_grad.name = "conv2d", "conv2d_input_grad", "conv2d_weight_grad"


_conv2d.defvjp(
    lambda g, ans, x, w, **p: _conv2d_input_grad(g, w, x_shape=x.shape, **p),
    lambda g, ans, x, w, **p: _conv2d_weight_grad(x, g, w_shape=w.shape, **p),
)
_conv2d_input_grad.defvjp(
    lambda gg, ans, g, w, x_shape, **p: _conv2d(gg, w, **p),
    lambda gg, ans, g, w, x_shape, **p: _conv2d_weight_grad(gg, g, w_shape=w.shape, **p),
)
_conv2d_weight_grad.defvjp(
    lambda gg, ans, x, g, w_shape, **p: _conv2d_input_grad(g, gg, x_shape=x.shape, **p),
    lambda gg, ans, x, g, w_shape, **p: _conv2d(x, gg, **p),
)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of an (N, C, H, W) input with an (O, C/groups, kh, kw) weight, as PyTorch.

    out[n, o, i, j] = bias[o] + sum_{c, a, b} x_pad[n, c, i*s + a*d, j*s + b*d] * w[o, c, a, b]
    (within each group). ``stride``, ``padding`` and ``dilation`` are ints or
    pairs. Raises ShapeError when the shapes, groups or geometry do not fit.
    """
    params = {
        "stride": pair(stride, "stride", "conv2d"),
        "padding": pair(padding, "padding", "conv2d"),
        "dilation": pair(dilation, "dilation", "conv2d"),
        "groups": int(groups),
    }
    if params["groups"] < 1:
        raise ShapeError(f"conv2d: groups must be positive, got {groups}")
    # Checked here rather than in the primitive's forward, which would prefix the op's name a second time.
    x_shape, w_shape = tuple(x.shape), tuple(weight.shape)
    _check_conv(x_shape, w_shape, params["groups"])
    _geometry("conv2d", x_shape, w_shape[2:], params["stride"], params["padding"], params["dilation"])
    if bias is not None and tuple(bias.shape) != w_shape[:1]:
        raise ShapeError(f"conv2d: bias must have shape {w_shape[:1]} (one per out channel), got {tuple(bias.shape)}")
    out = _conv2d(x, weight, **params)
    if bias is not None:
        out = out + reshape(bias, (-1, 1, 1))
    return out


# --- fold and unfold: the window view and its adjoint --------------------------------


@primitive
def _unfold(x, *, kernel, stride, padding, dilation):
    ho, wo = _geometry("unfold", x.shape, kernel, stride, padding, dilation)
    return backend.windows(_padded(x, padding), kernel, stride, dilation, (ho, wo))


@primitive
def _fold(dwin, *, x_shape, kernel, stride, padding, dilation):
    return _col2im(dwin, x_shape, kernel, stride, padding, dilation)


_unfold.name, _fold.name = "unfold", "fold"
_unfold.defvjp(lambda g, ans, x, **p: _fold(g, x_shape=x.shape, **p))
_fold.defvjp(lambda g, ans, dwin, x_shape, **p: _unfold(g, **p))


def _array(value):
    return value.data if isinstance(value, Tensor) else value


def _tiles(x_shape, kernel, stride, padding, dilation) -> bool:
    """True when the windows tile the input without overlap or padding (the fast path)."""
    return kernel == stride and padding == (0, 0) and dilation == (1, 1)


def _tiled(x, kernel, ho, wo):
    """(N, C, Ho, kh, Wo, kw) view of the part of x that the tiling windows cover."""
    n, c = x.shape[:2]
    return x[:, :, : ho * kernel[0], : wo * kernel[1]].reshape(n, c, ho, kernel[0], wo, kernel[1])


def _pool_args(op, x, kernel_size, stride, padding, dilation=1):
    kernel = pair(kernel_size, "kernel_size", op)
    stride = kernel if stride is None else pair(stride, "stride", op)
    padding, dilation = pair(padding, "padding", op), pair(dilation, "dilation", op)
    if padding[0] * 2 > kernel[0] or padding[1] * 2 > kernel[1]:
        raise ShapeError(f"{op}: padding {padding} should be at most half of the kernel size {kernel}")
    _geometry(op, x.shape, kernel, stride, padding, dilation)
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}


# --- max pooling --------------------------------------------------------------------------


def _pool_windows(x, kernel, stride, padding, dilation, fill):
    ho, wo = _geometry("pool", x.shape, kernel, stride, padding, dilation)
    if _tiles(x.shape, kernel, stride, padding, dilation):
        return _tiled(x, kernel, ho, wo), (3, 5)
    return backend.windows(_padded(x, padding, fill), kernel, stride, dilation, (ho, wo)), (4, 5)


def _lowest(dtype):
    """The padding of a max-pool: a value no element is below (-inf; the minimum of an integer dtype; False)."""
    if dtype.kind == "f":
        return -np.inf
    return False if dtype.kind == "b" else np.iinfo(dtype).min


def _max_pool_winners(x, *, kernel, stride, padding, dilation):
    """Which element of each window holds its max: the branch signature (a tie is a kink)."""
    win, axes = _pool_windows(x, kernel, stride, padding, dilation, _lowest(x.dtype))
    return win == win.max(axis=axes, keepdims=True)


@primitive(saves=(0,), saves_output=True, signature=_max_pool_winners)
def _max_pool2d(x, *, kernel, stride, padding, dilation):
    win, axes = _pool_windows(x, kernel, stride, padding, dilation, _lowest(x.dtype))
    return win.max(axis=axes)


def _max_pool_vjp(g, ans, x, *, kernel, stride, padding, dilation):
    """The cotangent goes to each window's max; tied maxima share it evenly."""
    n, c, ho, wo = g.shape
    x_data, out_data = _array(x), _array(ans)  # the winners are constants, in either backward mode
    if _tiles(x.shape, kernel, stride, padding, dilation):
        win = _tiled(x_data, kernel, ho, wo)
        won = win == out_data.reshape(n, c, ho, 1, wo, 1)
        share = won / won.sum(axis=(3, 5), keepdims=True)
        spread = reshape(g, (n, c, ho, 1, wo, 1)) * share.astype(g.dtype, copy=False)
        dx = reshape(spread, (n, c, ho * kernel[0], wo * kernel[1]))
        extra = (x.shape[2] - ho * kernel[0], x.shape[3] - wo * kernel[1])
        return pad(dx, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))) if any(extra) else dx
    win = backend.windows(_padded(x_data, padding, _lowest(x_data.dtype)), kernel, stride, dilation, (ho, wo))
    won = win == out_data.reshape(n, c, ho, wo, 1, 1)
    share = won / won.sum(axis=(4, 5), keepdims=True)
    spread = reshape(g, (n, c, ho, wo, 1, 1)) * share.astype(g.dtype, copy=False)
    return _fold(spread, x_shape=x.shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


_max_pool2d.name = "max_pool2d"
_max_pool2d.defvjp(_max_pool_vjp)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1):
    """Max over each kh x kw window (stride defaults to the kernel; padding counts as -inf), as PyTorch.

    The gradient goes to the element that won each window (split evenly
    among ties, which gradcheck reports as kinks).
    """
    return _max_pool2d(x, **_pool_args("max_pool2d", x, kernel_size, stride, padding, dilation))


# --- average pooling -----------------------------------------------------------------------


@primitive
def _avg_pool2d(x, *, kernel, stride, padding, dilation):
    win, axes = _pool_windows(x, kernel, stride, padding, dilation, 0)
    return win.mean(axis=axes)


def _avg_pool_vjp(g, ans, x, *, kernel, stride, padding, dilation):
    n, c, ho, wo = g.shape
    area = kernel[0] * kernel[1]
    if _tiles(x.shape, kernel, stride, padding, dilation):
        spread = broadcast_to(reshape(g / area, (n, c, ho, 1, wo, 1)), (n, c, ho, kernel[0], wo, kernel[1]))
        dx = reshape(spread, (n, c, ho * kernel[0], wo * kernel[1]))
        extra = (x.shape[2] - ho * kernel[0], x.shape[3] - wo * kernel[1])
        return pad(dx, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1]))) if any(extra) else dx
    spread = broadcast_to(reshape(g / area, (n, c, ho, wo, 1, 1)), (n, c, ho, wo, kernel[0], kernel[1]))
    return _fold(spread, x_shape=x.shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


_avg_pool2d.name = "avg_pool2d"
_avg_pool2d.defvjp(_avg_pool_vjp)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Mean over each kh x kw window (stride defaults to the kernel; zero padding counted in the mean, as
    PyTorch's default ``count_include_pad=True``). vjp: g / (kh kw) spread over each window."""
    return _avg_pool2d(x, **_pool_args("avg_pool2d", x, kernel_size, stride, padding))

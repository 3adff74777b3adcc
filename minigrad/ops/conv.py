"""Convolution and pooling on NCHW tensors, as primitives with their own vjps.

conv2d is im2col plus one matrix product, channels-last inside: the input is
copied once into a padded NHWC buffer (the NCHW -> NHWC transpose fused into
that copy; a conv's output is already NHWC in memory, so then it is a plain
copy), its kernel windows are copied once into a matrix ``cols`` of shape
(N*Ho*Wo, kh*kw*C) whose columns run (kh, kw, C) so that the copy moves
contiguous runs of C, and one GEMM with the weight as an (O, kh*kw*C) matrix
gives the output as an (N*Ho*Wo, O) matrix: NHWC memory, returned as an NCHW
view (no copy). With groups the product is batched over groups.

conv2d = ``_conv_cols(_unfold_cols(x), w)``, two primitives, so that the
backward reuses the forward's ``cols`` instead of building it again:

* ``_unfold_cols(x)`` (im2col) is linear; its vjp ``_fold_cols(dcols)`` is
  col2im: kh * kw shifted slice-adds of ``dcols`` into a padded NHWC buffer
  (no ``np.add.at``), whose interior, an NCHW view, is dx;
* ``_conv_cols(cols, w)`` is bilinear, with two more primitives as its vjps,
  each a single product: ``dcols = g_mat @ w_mat`` and ``dw = g_mat^T @ cols``.

The fold/unfold pair and the three products are each other's vjps, so second
derivatives through convolutions come for free. The cotangent of a conv's
output arrives NHWC in memory when the ops after it keep that layout
(elementwise ops and pooling do), and is then a matrix without a copy.

Pooling: ``max_pool2d`` and ``avg_pool2d`` reduce each window; when windows
tile the input (stride = kernel, no padding) this is a reshape and a reduction,
and the backward a broadcast multiply. Otherwise the vjp spreads the
cotangent over the windows and folds it back (``fold``/``unfold``, adjoint
primitives). Max-pool's vjp is a primitive too, ``max_pool2d_grad`` (the
cotangent sent to each window's winners), whose own vjp is its adjoint
``max_pool2d_gather``; both read the winners from x and the pooled output as
constants. Max-pool declares which element won each window as its branch
signature: a tie is a kink.

The large arrays made every step (the padded input, ``cols``, the products,
col2im's buffer, the pooling's masks and gradients) come from
:func:`minigrad.backend.empty`, which on the CPU reuses blocks that no array
references any more instead of getting fresh pages from malloc each step.
"""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..errors import ArgumentError, ShapeError
from ..primitive import primitive
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


def _channels_last_padded(x, padding):
    """x (N, C, H, W), any memory order, as an NHWC array padded with zeros: one copy, or none without padding.

    A conv's output is NHWC in memory (an NCHW view), so for it the copy reads
    contiguously; a C-contiguous NCHW input is transposed by the same copy.
    """
    if padding == (0, 0):
        return x.transpose(0, 2, 3, 1)
    n, c, h, w = x.shape
    (ph, pw) = padding
    xp = backend.xp_of(x)
    if not backend.is_host_array(x):  # on a GPU each fill is a kernel launch, which costs more than zeroing it all
        buf = xp.zeros((n, h + 2 * ph, w + 2 * pw, c), dtype=x.dtype)
    else:  # on the CPU only the border is zeroed: the interior is written once below
        buf = backend.empty(xp, (n, h + 2 * ph, w + 2 * pw, c), x.dtype)
        buf[:, :ph] = 0
        buf[:, ph + h :] = 0
        buf[:, ph : ph + h, :pw] = 0
        buf[:, ph : ph + h, pw + w :] = 0
    buf[:, ph : ph + h, pw : pw + w] = x.transpose(0, 2, 3, 1)
    return buf


def _im2col(x, kernel, stride, padding, dilation, groups):
    """cols of shape (N*Ho*Wo, groups, kh*kw, C/groups): each row one window, in (kh, kw, c) order.

    The padding copy and the window copy are the only copies the forward makes.
    """
    ho, wo = _geometry("conv2d", x.shape, kernel, stride, padding, dilation)
    n, c = x.shape[:2]
    (kh, kw), cg = kernel, c // groups
    padded = _channels_last_padded(x, padding)  # (N, Hp, Wp, C)
    # With one channel, K-major columns take one contiguous slab copy per kernel offset: on the CPU much
    # faster than copying runs of one value. On a GPU those kh*kw copies are as many kernel launches, so
    # there the single window copy below does it.
    xp = backend.xp_of(x)
    if c == 1 and backend.is_host_array(x):
        (sh, sw), (dh, dw) = stride, dilation
        plane = padded[..., 0]
        cols = backend.empty(xp, (kh * kw, n, ho, wo), x.dtype)
        for i in range(kh):
            for j in range(kw):
                cols[i * kw + j] = plane[
                    :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw
                ]
        return cols.reshape(kh * kw, n * ho * wo).T.reshape(n * ho * wo, 1, kh * kw, 1)  # a view
    win = backend.windows(padded.transpose(0, 3, 1, 2), kernel, stride, dilation, (ho, wo))  # (N, C, Ho, Wo, kh, kw)
    win = win.reshape(n, groups, cg, ho, wo, kh, kw).transpose(0, 3, 4, 1, 5, 6, 2)  # (N, Ho, Wo, g, kh, kw, C/g)
    cols = backend.empty(xp, win.shape, x.dtype)
    cols[...] = win
    return cols.reshape(n * ho * wo, groups, kh * kw, cg)


def _col2im(dcols, x_shape, kernel, stride, padding, dilation, groups):
    """The adjoint of :func:`_im2col`: add each column of ``dcols`` back where it was copied from.

    One strided slice-add per kernel offset into a zeroed, padded NHWC buffer;
    the result is its interior as an NCHW view (NHWC memory, no copy). The
    adds are fast when each offset's block ``dcols[:, :, k, :]`` is contiguous,
    as :func:`_conv_cols_input_grad` lays it out; from the row-major layout of
    ``cols`` each add reads runs of only C/groups values, several times slower.
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = _geometry("conv2d", x_shape, kernel, stride, padding, dilation)
    cg = c // groups
    out = backend.zeros(backend.xp_of(dcols), (n, h + 2 * ph, w + 2 * pw, groups, cg), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            out[:, rows, cols] += dcols[:, :, i * kw + j, :].reshape(n, ho, wo, groups, cg)
    return out[:, ph : ph + h, pw : pw + w].reshape(n, h, w, c).transpose(0, 3, 1, 2)


def _window_col2im(dwin, x_shape, kernel, stride, padding, dilation):
    """The adjoint of taking windows (for fold/unfold and pooling): add each window element back.

    ``dwin`` has shape (N, C, Ho, Wo, kh, kw); the result (N, C, H, W). One
    strided slice-add per kernel offset into a padded buffer, then a crop.
    """
    n, c, h, w = x_shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    ho, wo = dwin.shape[2:4]
    out = backend.zeros(backend.xp_of(dwin), (n, c, h + 2 * ph, w + 2 * pw), dwin.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
            out[:, :, rows, cols] += dwin[:, :, :, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


def _weight_matrix(w, groups):
    """(O, C/g, kh, kw) as (g, O/g, kh*kw*C/g), columns in the (kh, kw, c) order of ``cols`` (a small copy)."""
    o, cg, kh, kw = w.shape
    k = kh * kw * cg  # not -1: O may be 0
    return w.reshape(groups, o // groups, cg, kh, kw).transpose(0, 1, 3, 4, 2).reshape(groups, o // groups, k)


def _grad_matrix(g, groups):
    """The output cotangent (N, O, Ho, Wo) as (N*Ho*Wo, groups, O/groups): a view when g is NHWC in memory."""
    n, o, ho, wo = g.shape
    return g.transpose(0, 2, 3, 1).reshape(n * ho * wo, groups, o // groups)


def _check_conv(x_shape, w_shape, groups):
    if len(x_shape) != 4:
        raise ShapeError(f"conv2d: expected an NCHW input of 4 dimensions, got shape {tuple(x_shape)}")
    if len(w_shape) != 4:
        raise ShapeError(f"conv2d: weight must have shape (out, in/groups, kh, kw), got {tuple(w_shape)}")
    c, o = x_shape[1], w_shape[0]
    if c % groups or o % groups or w_shape[1] * groups != c or (groups > 1 and o < groups):
        raise ShapeError(
            f"conv2d: input with {c} channels and weight of shape {tuple(w_shape)} do not match groups={groups} "
            f"(need in_channels = weight.shape[1] * groups and out_channels divisible by groups, at least groups)"
        )


@primitive(name="conv2d_unfold", view=lambda params: params["padding"] == (0, 0))  # cols may be a view of x
def _unfold_cols(x, *, kernel, stride, padding, dilation, groups):
    return _im2col(x, kernel, stride, padding, dilation, groups)


@primitive(name="conv2d_fold")
def _fold_cols(dcols, *, x_shape, kernel, stride, padding, dilation, groups):
    return _col2im(dcols, x_shape, kernel, stride, padding, dilation, groups)


def _cols_matrix(cols):
    """cols (N*Ho*Wo, g, kh*kw, C/g) as (N*Ho*Wo, g, kh*kw*C/g): a view for im2col's output."""
    rows, groups, kk, cg = cols.shape
    return cols.reshape(rows, groups, kk * cg)


def _add_bias(out, b):
    """out += b, in place, for a C-contiguous (R, O) matrix and an (O,) bias.

    A broadcast add over rows of only O values runs one short inner loop per
    row, slow for a small O; k rows taken as one row of k*O values, against b
    tiled k times, give long ones. k is the largest power of two that divides R,
    up to 4096 / O.
    """
    rows, o = out.shape
    k = math.gcd(rows, max(1, 4096 // max(o, 1)))
    wide = out.reshape(rows // k, k * o)
    wide += backend.xp_of(b).tile(b, k)


@primitive(name="conv2d", saves=(0, 1))
def _conv_cols(cols, w, b, *, out_shape, groups):
    """cols times the weight, plus the bias b (an (O,) array, or the number 0 for none): the output
    (N, O, Ho, Wo), an NCHW view of NHWC memory. The bias is added in place into the GEMM's fresh output."""
    cols = _cols_matrix(cols)
    wmat = _weight_matrix(w, groups)
    o = w.shape[0]
    if groups == 1:  # (N*Ho*Wo, O): one GEMM
        xp = backend.xp_of(cols)
        out = xp.matmul(cols[:, 0, :], wmat[0].T, out=backend.empty(xp, (len(cols), o), xp.result_type(cols, w)))
    else:
        out = (cols.transpose(1, 0, 2) @ wmat.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(-1, o)
    if getattr(b, "ndim", 0):
        if b.dtype == out.dtype and out.flags.c_contiguous:
            _add_bias(out, b)
        else:
            out = out + b  # the promoted dtype, as a separate add would give
    return out.reshape(*out_shape, o).transpose(0, 3, 1, 2)  # out_shape = (N, Ho, Wo); not -1: sizes may be 0


@primitive(name="conv2d_input_grad", saves=(0, 1))  # g too: conv_transpose2d's input
def _conv_cols_input_grad(g, w, *, groups):
    """dcols = g_mat @ w_mat, of the shape of cols, computed as one batched GEMM over the kernel offsets,
    g_mat @ w[:, :, i, j], into a (groups, kh*kw, N*Ho*Wo, C/g) buffer: each offset's block is then
    contiguous for col2im's slice-adds (the GEMM costs a little more than a single one; col2im several times
    less)."""
    o, cg, kh, kw = w.shape
    xp = backend.xp_of(w)
    gmat = _grad_matrix(g, groups).transpose(1, 0, 2)[:, None]  # (g, 1, N*Ho*Wo, O/g)
    w_offsets = xp.ascontiguousarray(w.reshape(groups, o // groups, cg, kh * kw).transpose(0, 3, 1, 2))
    out = backend.empty(xp, (groups, kh * kw, gmat.shape[2], cg), xp.result_type(g, w))
    return xp.matmul(gmat, w_offsets, out=out).transpose(2, 0, 1, 3)  # (N*Ho*Wo, g, kh*kw, C/g), a view


@primitive(name="conv2d_weight_grad", saves=(0, 1))
def _conv_cols_weight_grad(cols, g, *, w_shape, groups):
    """dw = g_mat^T @ cols, in the weight's (O, C/g, kh, kw) layout."""
    cols = _cols_matrix(cols)
    gmat = _grad_matrix(g, groups)
    if groups == 1:
        dw = (cols[:, 0, :].T @ gmat[:, 0, :]).T[None]  # (K, O) then its transpose: the order is faster for BLAS
    else:
        dw = gmat.transpose(1, 2, 0) @ cols.transpose(1, 0, 2)  # (g, O/g, K/g)
    o, cg, kh, kw = w_shape
    return dw.reshape(groups, o // groups, kh, kw, cg).transpose(0, 1, 4, 2, 3).reshape(w_shape)


def _nhw(g):
    n, _, ho, wo = g.shape
    return (n, ho, wo)


_unfold_cols.defvjp(lambda g, ans, x, **p: _fold_cols(g, x_shape=x.shape, **p))
_fold_cols.defvjp(lambda g, ans, dcols, x_shape, **p: _unfold_cols(g, **p))


@primitive(name="conv2d_bias_grad")
def _conv_bias_grad(g):
    """db = the output cotangent (N, O, Ho, Wo) summed over N, Ho and Wo, as ones @ its (N*Ho*Wo, O) matrix
    (a view when g is NHWC in memory): a GEMV, where NumPy's reduction over those axes, or over axis 0 of
    that tall, narrow matrix, runs short inner loops and is many times slower."""
    n, o, ho, wo = g.shape
    ones = backend.empty(backend.xp_of(g), (n * ho * wo,), g.dtype)
    ones.fill(1)
    return ones @ g.transpose(0, 2, 3, 1).reshape(n * ho * wo, o)


_conv_bias_grad.defvjp(lambda gg, ans, g: broadcast_to(reshape(gg, (1, g.shape[1], 1, 1)), g.shape))
_conv_cols.defvjp(
    lambda g, ans, cols, w, b, out_shape, groups: _conv_cols_input_grad(g, w, groups=groups),
    lambda g, ans, cols, w, b, out_shape, groups: _conv_cols_weight_grad(cols, g, w_shape=w.shape, groups=groups),
    lambda g, ans, cols, w, b, out_shape, groups: _conv_bias_grad(g),
)
_conv_cols_input_grad.defvjp(
    lambda gg, ans, g, w, groups: _conv_cols(gg, w, 0, out_shape=_nhw(g), groups=groups),
    lambda gg, ans, g, w, groups: _conv_cols_weight_grad(gg, g, w_shape=w.shape, groups=groups),
)
_conv_cols_weight_grad.defvjp(
    lambda gg, ans, cols, g, w_shape, groups: _conv_cols_input_grad(g, gg, groups=groups),
    lambda gg, ans, cols, g, w_shape, groups: _conv_cols(cols, gg, 0, out_shape=_nhw(g), groups=groups),
)


def same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """PyTorch's ``padding='same'`` for each spatial dimension: ((left, ...), (extra right, ...)).

    A kernel spans d (k - 1) + 1 elements, so the input needs d (k - 1) more in
    all: left = d (k - 1) // 2 on both sides, and the odd one left over (an
    even kernel with an odd dilation) on the right, as PyTorch pads it.
    """
    total = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    left = tuple(t // 2 for t in total)
    return left, tuple(t - lo - lo for t, lo in zip(total, left))


def padding_string(op: str, padding: str, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """``padding='valid'`` (none) or ``'same'`` (stride 1 only) as ((symmetric padding), (extra right padding))."""
    if padding == "valid":
        return (0,) * len(kernel), (0,) * len(kernel)
    if padding != "same":
        raise ArgumentError(f"{op}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
    if any(s != 1 for s in stride):
        raise ArgumentError(f"{op}: padding='same' is not supported for strided convolutions, got stride {stride}")
    return same_padding(kernel, dilation)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation of an (N, C, H, W) input with an (O, C/groups, kh, kw) weight, as PyTorch.

    out[n, o, i, j] = bias[o] + sum_{c, a, b} x_pad[n, c, i*s + a*d, j*s + b*d] * w[o, c, a, b]
    (within each group). ``stride``, ``padding`` and ``dilation`` are ints or
    pairs; ``padding`` may also be ``'valid'`` (no padding) or ``'same'``
    (stride 1 only: the output has the input's size; the input is padded by
    d (k - 1) // 2 on each side and, for an even kernel with odd dilation, by
    one more on the right and bottom, as PyTorch). Raises ShapeError when the
    shapes, groups or geometry do not fit, ArgumentError for a bad padding string.
    """
    stride, dilation = pair(stride, "stride", "conv2d"), pair(dilation, "dilation", "conv2d")
    if isinstance(padding, str):
        if len(tuple(weight.shape)) != 4:
            raise ShapeError(f"conv2d: weight must have shape (out, in/groups, kh, kw), got {tuple(weight.shape)}")
        padding, extra = padding_string("conv2d", padding, tuple(weight.shape[2:]), stride, dilation)
        if any(extra):
            if len(tuple(x.shape)) != 4:
                raise ShapeError(f"conv2d: expected an NCHW input of 4 dimensions, got shape {tuple(x.shape)}")
            x = pad(x, ((0, 0), (0, 0), (0, extra[0]), (0, extra[1])))
    params = {
        "stride": stride,
        "padding": pair(padding, "padding", "conv2d"),
        "dilation": dilation,
        "groups": int(groups),
    }
    if params["groups"] < 1:
        raise ShapeError(f"conv2d: groups must be positive, got {groups}")
    # Checked here rather than in the primitive's forward, which would prefix the op's name a second time.
    x_shape, w_shape = tuple(x.shape), tuple(weight.shape)
    _check_conv(x_shape, w_shape, params["groups"])
    if bias is not None and tuple(bias.shape) != w_shape[:1]:
        raise ShapeError(f"conv2d: bias must have shape {w_shape[:1]} (one per out channel), got {tuple(bias.shape)}")
    ho, wo = _geometry("conv2d", x_shape, w_shape[2:], params["stride"], params["padding"], params["dilation"])
    cols = _unfold_cols(x, kernel=w_shape[2:], **params)
    b = 0 if bias is None else bias  # added inside the product's primitive, in place
    return _conv_cols(cols, weight, b, out_shape=(x_shape[0], ho, wo), groups=params["groups"])


def single(value, name: str = "argument", op: str = "") -> int:
    """An int or a 1-tuple of an int, as an int (PyTorch's ``_single``); ``op`` names the caller in errors."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, _INTS):
        raise ShapeError(f"{op + ': ' if op else ''}{name} must be an int or a 1-tuple of an int, got {value!r}")
    return int(value)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation of an (N, C, L) or unbatched (C, L) input with an (O, C/groups, k) weight, as PyTorch.

    out[n, o, i] = bias[o] + sum_{c, a} x_pad[n, c, i*s + a*d] * w[o, c, a] (within each group), of length
    floor((L + 2p - d (k - 1) - 1) / s) + 1. ``padding`` is an int or ``'valid'`` / ``'same'`` (stride 1;
    an even kernel with odd dilation gets its extra element on the right, as PyTorch). Computed as
    :func:`conv2d` on the input seen as (N, C, 1, L) and the weight as (O, C/g, 1, k) (views, no copy):
    the same single GEMM, and its gradients. Raises ShapeError when the shapes, groups or geometry do not
    fit, ArgumentError for a bad padding string.
    """
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if len(x_shape) not in (2, 3):
        raise ShapeError(f"conv1d: expected an (N, C, L) or unbatched (C, L) input, got shape {x_shape}")
    if len(w_shape) != 3:
        raise ShapeError(f"conv1d: weight must have shape (out, in/groups, k), got {w_shape}")
    stride, dilation = single(stride, "stride", "conv1d"), single(dilation, "dilation", "conv1d")
    groups = int(groups)
    if groups < 1:
        raise ShapeError(f"conv1d: groups must be positive, got {groups}")
    batched = len(x_shape) == 3
    n, c, length = x_shape if batched else (1, *x_shape)
    if c != w_shape[1] * groups or w_shape[0] % groups or (groups > 1 and w_shape[0] < groups):
        raise ShapeError(
            f"conv1d: input of shape {x_shape} ({c} channels) and weight of shape {w_shape} do not match "
            f"groups={groups} (need in_channels = weight.shape[1] * groups and out_channels divisible by groups, "
            "at least groups)"
        )
    if isinstance(padding, str):
        padding_string("conv1d", padding, (w_shape[2],), (stride,), (dilation,))  # checks it before conv2d does
        padding2 = padding
    else:
        padding2 = (0, single(padding, "padding", "conv1d"))
        if min(stride, dilation, w_shape[2]) < 1 or padding2[1] < 0:
            raise ShapeError(
                f"conv1d: kernel, stride and dilation must be positive and padding non-negative, got kernel "
                f"{w_shape[2]}, stride {stride}, padding {padding2[1]}, dilation {dilation}"
            )
        if out_size(length, w_shape[2], stride, padding2[1], dilation) < 1:
            raise ShapeError(
                f"conv1d: a kernel of {w_shape[2]} (dilation {dilation}) does not fit the input of shape {x_shape} "
                f"padded by {padding2[1]}"
            )
    if bias is not None and tuple(bias.shape) != w_shape[:1]:
        raise ShapeError(f"conv1d: bias must have shape {w_shape[:1]} (one per out channel), got {tuple(bias.shape)}")
    x4 = reshape(input, (n, c, 1, length))
    w4 = reshape(weight, (w_shape[0], w_shape[1], 1, w_shape[2]))
    out = conv2d(x4, w4, bias, (1, stride), padding2, (1, dilation), groups)
    o, lo = out.shape[1], out.shape[3]
    return reshape(out, (n, o, lo) if batched else (o, lo))


# --- fold and unfold: the window view and its adjoint --------------------------------


@primitive(name="unfold")
def _unfold(x, *, kernel, stride, padding, dilation):
    ho, wo = _geometry("unfold", x.shape, kernel, stride, padding, dilation)
    return backend.windows(_padded(x, padding), kernel, stride, dilation, (ho, wo))


@primitive(name="fold")
def _fold(dwin, *, x_shape, kernel, stride, padding, dilation):
    return _window_col2im(dwin, x_shape, kernel, stride, padding, dilation)


_unfold.defvjp(lambda g, ans, x, **p: _fold(g, x_shape=x.shape, **p))
_fold.defvjp(lambda g, ans, dwin, x_shape, **p: _unfold(g, **p))


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


def _reduce_offsets(a, axis, ufunc):
    """``ufunc.reduce`` of ``a`` over one kernel axis, as one binary ``ufunc`` call per offset on its slices.

    Several times faster than NumPy's reduction over a strided axis. Reducing
    the kernel-row axis first is fastest: in NHWC memory its slices are runs of
    whole image rows, and the kernel-column axis is then left on an array of
    1/kh the size. The result keeps a's memory order. A view of ``a`` when the
    axis has length 1: read it only.
    """
    parts = [a[(slice(None),) * axis + (i,)] for i in range(a.shape[axis])]
    if len(parts) == 1:
        return parts[0]
    total = ufunc(parts[0], parts[1], out=backend.empty_like(parts[0]))
    for part in parts[2:]:
        ufunc(total, part, out=total)
    return total


@primitive(name="max_pool2d", saves=(0,), saves_output=True, signature=_max_pool_winners)
def _max_pool2d(x, *, kernel, stride, padding, dilation):
    win, (a, b) = _pool_windows(x, kernel, stride, padding, dilation, _lowest(x.dtype))
    maximum = backend.xp_of(x).maximum
    out = _reduce_offsets(_reduce_offsets(win, a, maximum), b - 1, maximum)  # kernel rows, then columns
    return out.copy() if kernel == (1, 1) else out  # a 1x1 kernel leaves a view of x


def _channels_last(a) -> bool:
    """True when an (N, C, H, W) array is NHWC in memory (a conv's output, and what follows it)."""
    return a.ndim == 4 and a.strides[1] < a.strides[3] and a.shape[1] > 1


def _as_channels_last(g):
    """g (N, C, H, W) as an NCHW view of NHWC memory: g itself when it is one, else one copy."""
    nhwc = g.transpose(0, 2, 3, 1)
    if nhwc.flags.c_contiguous:
        return g
    out = backend.empty(backend.xp_of(g), nhwc.shape, g.dtype)
    out[...] = nhwc
    return out.transpose(0, 3, 1, 2)


def _may_have_ties(won, windows: int) -> bool:
    """False when each window has exactly one winner, so the cotangent needs no sharing.

    Counting the winners reads a number back from the array's device: on
    NumPy that is free and saves the division; on a GPU it would stall the
    device in every backward, so there the sharing is always computed.
    """
    if not backend.is_host_array(won):
        return True
    return int(np.count_nonzero(won)) != windows


def _winners_per_window(won, dtype):
    """The number of elements that tie for each window's max: ``won`` (N, C, Ho, kh, Wo, kw), bool, summed
    over kh and kw, as (N, C, Ho, Wo) numbers that divide a ``dtype`` array without promoting it.

    The bools are added as bytes (their uint8 view, no copy) when a count fits
    in one: a quarter of the memory traffic of float counts;
    uint8 promotes no float dtype. Larger kernels count in ``dtype`` itself.
    """
    counts = won.view("uint8") if won.shape[3] * won.shape[5] < 256 else won.astype(dtype)
    add = backend.xp_of(won).add
    return _reduce_offsets(_reduce_offsets(counts, 3, add), 4, add)


def _winner_mask(win, out):
    """``win == out`` over each window of a tiling (N, C, Ho, kh, Wo, kw) view: bool, in win's memory order.

    out is first spread over the kernel columns, into an (N, C, Ho, Wo, kw)
    array in win's memory order (1/kh of the mask's size), so that the
    comparison runs over whole image rows of NHWC memory, faster than
    broadcasting out over both kernel axes, whose inner loops are C long.
    """
    n, c, ho, kh, wo, kw = win.shape
    row = backend.empty_like(win[:, :, :, 0])
    row[...] = out.reshape(n, c, ho, wo, 1)
    return backend.xp_of(win).equal(win, row.reshape(n, c, ho, 1, wo, kw), out=backend.empty_like(win, bool))


def _tiled_winners(x, out, kernel):
    """For windows that tile x: the winners' mask (N, C, Ho, kh, Wo, kw) in x's memory order, and the number
    of winners of each window shaped to broadcast against it, or None when no window has a tie."""
    n, c, ho, wo = out.shape
    won = _winner_mask(_tiled(x, kernel, ho, wo), out)
    if not _may_have_ties(won, out.size):
        return won, None
    return won, _winners_per_window(won, out.dtype).reshape(n, c, ho, 1, wo, 1)


def _window_shares(x, out, dtype, kernel, stride, padding, dilation):
    """For overlapping or padded windows: each element's share of its window's cotangent (N, C, Ho, Wo, kh, kw),
    1/k for each of a window's k winners, 0 elsewhere, in ``dtype``."""
    n, c, ho, wo = out.shape
    win = backend.windows(_padded(x, padding, _lowest(x.dtype)), kernel, stride, dilation, (ho, wo))
    won = win == out.reshape(n, c, ho, wo, 1, 1)
    return (won / won.sum(axis=(4, 5), keepdims=True)).astype(dtype, copy=False)


def _max_pool_signature(g, x, out, **p):
    return _max_pool_winners(x, **p)


@primitive(name="max_pool2d_grad", saves=(1, 2), signature=_max_pool_signature)
def _max_pool_grad(g, x, out, *, kernel, stride, padding, dilation):
    """dx of max-pool: the cotangent g (N, C, Ho, Wo) of the pooled ``out`` sent to the winners of each window
    of x, tied winners sharing it evenly. Linear in g; x and out only say where the winners are (constants:
    they change only across a kink), so their vjps are None.

    For tiling windows: one multiply of g by the winners' mask into dx, in x's
    memory order (g is first put in that order too, or the multiply runs over
    short strided loops and is several times slower); the mask's bools need no
    cast. Ties, when there are any, divide g, a quarter of dx's size.
    """
    n, c, ho, wo = g.shape
    xp = backend.xp_of(g)
    if not _tiles(x.shape, kernel, stride, padding, dilation):
        shares = _window_shares(x, out, g.dtype, kernel, stride, padding, dilation)
        return _window_col2im(g.reshape(n, c, ho, wo, 1, 1) * shares, x.shape, kernel, stride, padding, dilation)
    won, counts = _tiled_winners(x, out, kernel)
    if _channels_last(x):
        g = _as_channels_last(g)
    g6 = g.reshape(n, c, ho, 1, wo, 1)
    if counts is not None:
        g6 = xp.divide(g6, counts, out=backend.empty_like(g6))
    covered = (ho * kernel[0], wo * kernel[1])
    dx = xp.multiply(g6, won, out=backend.empty_like(won, g.dtype)).reshape(n, c, *covered)
    if covered == tuple(x.shape[2:]):
        return dx
    full = backend.zeros(xp, x.shape, g.dtype)  # the rows and columns no window reaches get no gradient
    full[:, :, : covered[0], : covered[1]] = dx
    return full


@primitive(name="max_pool2d_gather", saves=(1, 2), signature=_max_pool_signature)
def _max_pool_gather(d, x, out, *, kernel, stride, padding, dilation):
    """The adjoint of :func:`_max_pool_grad` (its vjp, so second derivatives pass through max-pool): for each
    window of x, the mean of d (x's shape) over the window's winners, of out's shape (N, C, Ho, Wo)."""
    n, c, ho, wo = out.shape
    if not _tiles(x.shape, kernel, stride, padding, dilation):
        shares = _window_shares(x, out, d.dtype, kernel, stride, padding, dilation)
        return (backend.windows(_padded(d, padding), kernel, stride, dilation, (ho, wo)) * shares).sum(axis=(4, 5))
    won, counts = _tiled_winners(x, out, kernel)
    total = (_tiled(d, kernel, ho, wo) * won).sum(axis=(3, 5))
    return total if counts is None else total / counts.reshape(n, c, ho, wo)


_max_pool2d.defvjp(lambda g, ans, x, **p: _max_pool_grad(g, x, ans, **p))
_max_pool_grad.defvjp(lambda gg, ans, g, x, out, **p: _max_pool_gather(gg, x, out, **p), None, None)
_max_pool_gather.defvjp(lambda gg, ans, d, x, out, **p: _max_pool_grad(gg, x, out, **p), None, None)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kh x kw window (stride defaults to the kernel; padding counts as -inf), as PyTorch.

    The gradient goes to the element that won each window (split evenly
    among ties, which gradcheck reports as kinks). ``ceil_mode``,
    ``return_indices`` and (C, H, W) inputs: :func:`minigrad.ops.pooling.max_pool2d`.
    """
    if ceil_mode or return_indices or getattr(x, "ndim", 4) != 4:
        from .pooling import max_pool2d as full  # ops/pooling.py builds on this module

        return full(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    return _max_pool2d(x, **_pool_args("max_pool2d", x, kernel_size, stride, padding, dilation))


# --- average pooling -----------------------------------------------------------------------


@primitive(name="avg_pool2d")
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


_avg_pool2d.defvjp(_avg_pool_vjp)


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over each kh x kw window (stride defaults to the kernel; zero padding counted in the mean, as
    PyTorch's default ``count_include_pad=True``). vjp: g / (kh kw) spread over each window. The other
    options and (C, H, W) inputs: :func:`minigrad.ops.pooling.avg_pool2d`."""
    if ceil_mode or not count_include_pad or divisor_override is not None or getattr(x, "ndim", 4) != 4:
        from .pooling import avg_pool2d as full  # ops/pooling.py builds on this module

        return full(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return _avg_pool2d(x, **_pool_args("avg_pool2d", x, kernel_size, stride, padding))

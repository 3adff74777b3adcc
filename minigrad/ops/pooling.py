"""Pooling with PyTorch's full set of options: ceil_mode, return_indices, count_include_pad,
divisor_override, 1-D pools and adaptive pools.

Everything here is built from primitives that already carry their vjps, so
gradients, second order and kinks come with them:

* max pools run :mod:`minigrad.ops.conv`'s ``max_pool2d`` primitive (which
  declares each window's winner as its branch signature). ``ceil_mode`` adds
  windows that run past the padded input; the input is first padded on the
  right with the dtype's lowest value (-inf) so that those windows fit, which
  is what PyTorch's kernels do implicitly: an element outside the input never
  wins. 1-D pools are 2-D pools over an (N, C, 1, L) view.
* average pools with the default options run conv's ``avg_pool2d``
  primitive. The other options (``ceil_mode``, ``count_include_pad=False``,
  ``divisor_override``) change each window's divisor; PyTorch's divisor is a
  product of a row and a column factor, so the pool is separable and linear:
  ``out = A_h @ x @ A_w^T`` with one (Ho, H) and one (Wo, W) matrix whose row
  i holds ``1 / divisor_i`` on the input elements of window i. Each matrix is
  applied as a gather of the window's elements and a weighted sum
  (:func:`apply_taps`), not a dense product, so an inf or nan reaches only
  the windows that hold it, as in PyTorch.
* adaptive average pools are the same product, with PyTorch's bins: output
  i of an axis of length L pooled to n averages the elements
  ``floor(i L / n) <= j < ceil((i + 1) L / n)``.
* adaptive max pools gather each bin's elements (bins shorter than the
  longest repeat their last element, which changes no max) and take ``amax``
  over them: the reduction's branch signature declares the ties. The
  repeated element's shares of the cotangent add back up to the whole of it.

``return_indices`` gives, as PyTorch, the flat index ``row * W + col`` of each
window's max in its input plane (the first one in row-major order where
several tie; not differentiable, int64).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..tensor import Tensor
from . import conv
from .reduction import amax
from .shape import getitem, pad, reshape

_INTS = (int, np.integer)


def _tuple(value, n: int, name: str, op: str, allow_none: bool = False) -> tuple:
    """An int (or None where allowed) or a sequence of n of them, as an n-tuple; ShapeError otherwise."""

    def ok(v) -> bool:
        return isinstance(v, _INTS) or (allow_none and v is None)

    if ok(value):
        return (value,) * n
    if isinstance(value, (tuple, list)) and len(value) == n and all(ok(v) for v in value):
        return tuple(v if v is None else int(v) for v in value)
    if isinstance(value, (tuple, list)) and len(value) == 1 and n == 1 and ok(value[0]):
        return (value[0],)
    what = "an int" + (" or None" if allow_none else "")
    raise ShapeError(f"{op}: {name} must be {what} or a sequence of {n} of them, got {value!r}")


def _data(x):
    return x.array if isinstance(x, Tensor) else x


def _as_batched(op: str, x, spatial: int):
    """x with a batch dimension: (N, C, *S) as it is, (C, *S) as (1, C, *S); and whether one was added."""
    if x.ndim == spatial + 2:
        return x, False
    if x.ndim == spatial + 1:
        return reshape(x, (1,) + tuple(x.shape)), True
    names = ("L",) if spatial == 1 else ("H", "W")
    raise ShapeError(
        f"{op}: expected a {spatial + 1}-D (C, {', '.join(names)}) or {spatial + 2}-D (N, C, {', '.join(names)}) "
        f"input, got shape {tuple(x.shape)}"
    )


def _unbatch(y, added: bool):
    return reshape(y, tuple(y.shape[1:])) if added else y


def _check_float(op: str, x) -> None:
    if x.dtype.kind != "f":
        raise DTypeError(f"{op}: expected a floating-point input, got dtype {x.dtype} (shape {tuple(x.shape)})")


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output length.

    floor((size + 2p - d(k - 1) - 1) / s) + 1, or with ``ceil_mode`` the
    ceiling; a last window that would start in the right padding is dropped
    (``(out - 1) s >= size + p``), so every window starts inside the input or
    its left padding.
    """
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _geometry(op, shape, kernel, stride, padding, dilation, ceil_mode):
    """Checked window geometry on the last two axes of an NCHW shape; the output (Ho, Wo)."""
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1 or min(padding) < 0:
        raise ShapeError(
            f"{op}: kernel_size, stride and dilation must be positive and padding non-negative, got kernel_size "
            f"{kernel}, stride {stride}, padding {padding}, dilation {dilation}"
        )
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: padding {padding} should be at most half of the kernel size {kernel}")
    if 0 in shape[1:]:
        raise ShapeError(f"{op}: expected non-empty channel and spatial dimensions, got input shape {tuple(shape)}")
    out = tuple(
        pool_output_size(s, k, st, p, d, ceil_mode)
        for s, k, st, p, d in zip(shape[2:], kernel, stride, padding, dilation)
    )
    if min(out) < 1:
        raise ShapeError(
            f"{op}: a {kernel} kernel (dilation {dilation}, padding {padding}) does not fit the input of shape "
            f"{tuple(shape)}: the output would be {out}"
        )
    return out


def _window_args(op, n, kernel_size, stride, padding, dilation=1):
    kernel = _tuple(kernel_size, n, "kernel_size", op)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
    return (
        kernel,
        _tuple(stride, n, "stride", op),
        _tuple(padding, n, "padding", op),
        _tuple(dilation, n, "dilation", op),
    )


# --- max pooling ------------------------------------------------------------------------------


def _max_indices(data, out_hw, kernel, stride, padding, dilation):
    """Flat index (row * W + col) into each input plane of every window's first max; int64 (N, C, Ho, Wo)."""
    xp = backend.xp_of(data)
    n, c, h, w = data.shape
    (ho, wo), (kh, kw) = out_hw, kernel
    right = [
        max(0, (o - 1) * s + d * (k - 1) + 1 - size - p) for o, s, d, k, size, p in
        zip(out_hw, stride, dilation, kernel, (h, w), padding)
    ]  # fmt: skip
    widths = ((0, 0), (0, 0), (padding[0], padding[0] + right[0]), (padding[1], padding[1] + right[1]))
    padded = xp.pad(data, widths, mode="constant", constant_values=conv._lowest(data.dtype))
    win = backend.windows(padded, kernel, stride, dilation, (ho, wo)).reshape(n, c, ho, wo, kh * kw)
    arg = win.argmax(axis=-1)
    a, b = arg // kw, arg % kw
    rows = xp.arange(ho).reshape(ho, 1) * stride[0] - padding[0] + a * dilation[0]
    cols = xp.arange(wo) * stride[1] - padding[1] + b * dilation[1]
    found = (rows * w + cols).astype(xp.int64)
    # A window with no element above the padding value keeps PyTorch's initial index: its first row and
    # column that lie inside the input (start, moved on by the dilation while it is in the padding).
    starts = [xp.arange(o) * st - p for o, st, p in zip(out_hw, stride, padding)]
    first = [xp.where(a < 0, a + (-(a // d)) * d, a) for a, d in zip(starts, dilation)]
    initial = first[0].reshape(ho, 1) * w + first[1]
    return xp.where(win.max(axis=-1) == conv._lowest(data.dtype), initial, found).astype(xp.int64)


def _max_pool(op, x, kernel, stride, padding, dilation, ceil_mode, return_indices):
    """Max pool of a batched (N, C, H, W) x."""
    ho, wo = _geometry(op, tuple(x.shape), kernel, stride, padding, dilation, ceil_mode)
    h, w = x.shape[2:]
    right = [
        max(0, (o - 1) * s + d * (k - 1) + 1 - size - 2 * p) for o, s, d, k, size, p in
        zip((ho, wo), stride, dilation, kernel, (h, w), padding)
    ]  # fmt: skip
    if any(right):  # ceil_mode windows that run past the padding: pad to fit them with values that never win
        widths = ((0, 0), (0, 0), (padding[0], padding[0] + right[0]), (padding[1], padding[1] + right[1]))
        lowest = conv._lowest(x.dtype)
        out = conv._max_pool2d(
            pad(x, widths, value=lowest), kernel=kernel, stride=stride, padding=(0, 0), dilation=dilation
        )
    else:
        out = conv._max_pool2d(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    if not return_indices:
        return out
    indices = _max_indices(_data(x), (ho, wo), kernel, stride, padding, dilation)
    return out, Tensor._wrap(indices)


def max_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over each kh x kw window of an (N, C, H, W) or (C, H, W) input, as PyTorch's ``F.max_pool2d``.

    out[n, c, i, j] = max_{a, b} x_pad[n, c, i*s_h + a*d_h, j*s_w + b*d_w], the padding being -inf.
    ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel. The output size is
    floor((H + 2p - d(k - 1) - 1) / s) + 1, or the ceiling with ``ceil_mode`` (dropping a last window
    that would start in the right padding). With ``return_indices`` also returns, as int64, the flat
    index h * W + w of each window's max in its input plane (the first in row-major order among ties),
    as :func:`max_unpool2d` takes it. The gradient goes to each window's winner (ties share it and are
    declared kinks). Raises ShapeError for a wrong ndim or a kernel that does not fit the padded input.
    """
    x, added = _as_batched("max_pool2d", input, 2)
    kernel, stride, padding, dilation = _window_args("max_pool2d", 2, kernel_size, stride, padding, dilation)
    out = _max_pool("max_pool2d", x, kernel, stride, padding, dilation, bool(ceil_mode), bool(return_indices))
    if return_indices:
        return _unbatch(out[0], added), _unbatch(out[1], added)
    return _unbatch(out, added)


def _as_planes(x):
    """(N, C, L) as (N, C, 1, L)."""
    return reshape(x, tuple(x.shape[:2]) + (1, x.shape[2]))


def _from_planes(y):
    return reshape(y, tuple(y.shape[:2]) + (y.shape[3],))


def max_pool1d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """Max over each window of length k of an (N, C, L) or (C, L) input, as PyTorch's ``F.max_pool1d``.

    out[n, c, i] = max_a x_pad[n, c, i*s + a*d]; sizes, ``ceil_mode`` and ``return_indices`` (an index
    into L) as :func:`max_pool2d`, of which it is the (1, k) case.
    """
    x, added = _as_batched("max_pool1d", input, 1)
    kernel, stride, padding, dilation = _window_args("max_pool1d", 1, kernel_size, stride, padding, dilation)
    out = _max_pool(
        "max_pool1d", _as_planes(x), (1,) + kernel, (1,) + stride, (0,) + padding, (1,) + dilation,
        bool(ceil_mode), bool(return_indices),
    )  # fmt: skip
    if return_indices:
        return _unbatch(_from_planes(out[0]), added), _unbatch(_from_planes(out[1]), added)
    return _unbatch(_from_planes(out), added)


# --- average pooling ----------------------------------------------------------------------------


def _to_device_like(matrix: np.ndarray, x):
    """A host matrix as a constant array of x's dtype on x's device."""
    return backend.to_device(matrix.astype(x.dtype), backend.device_of(_data(x)))


def _avg_matrix(size, out, kernel, stride, padding, ceil_mode, count_include_pad, divisor):
    """(out, size) matrix of one axis of an average pool: row i holds 1 / divisor_i on window i's elements.

    PyTorch's window i covers [i s - p, min(i s - p + k, size + p)); its divisor is that length
    (``count_include_pad``) or the length of its part inside the input, or ``divisor`` on one axis
    (``divisor_override``, with 1 on the other).
    """
    matrix = np.zeros((out, size))
    for i in range(out):
        start = i * stride - padding
        end = min(start + kernel, size + padding)
        inside = (max(start, 0), min(end, size))
        share = divisor if divisor is not None else (end - start if count_include_pad else inside[1] - inside[0])
        matrix[i, inside[0] : inside[1]] = 1.0 / share
    return matrix


def taps_of(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero entries of each row of an (out, size) matrix as (out, K) source indices and weights;
    rows with fewer than K entries point their unused taps at index ``size`` (weight 0)."""
    out, size = matrix.shape
    counts = (matrix != 0).sum(axis=1)
    k = max(int(counts.max()) if out else 0, 1)
    index, weight = np.full((out, k), size, dtype=np.int64), np.zeros((out, k))
    for i in range(out):
        (cols,) = np.nonzero(matrix[i])
        index[i, : len(cols)], weight[i, : len(cols)] = cols, matrix[i, cols]
    return index, weight


def apply_taps(x, index: np.ndarray, weight: np.ndarray, axis: int):
    """out[..., i, ...] = sum_k weight[i, k] x[..., index[i, k], ...] along ``axis`` (negative) of x.

    A gather, a product and a sum over the K taps of each output, so an inf or nan reaches only the
    outputs whose taps read it, as in PyTorch's kernels (a dense matrix product would spread it to a
    whole row as inf * 0 = nan). Index ``x.shape[axis]`` reads an appended zero (unused taps). Built
    of primitives (constant pad, getitem, mul, sum), so gradients of every order follow; the vjp
    scatter-adds the weighted cotangent onto the taps.
    """
    size, (n_out, k) = x.shape[axis], index.shape
    if (index == size).any():
        widths = [(0, 0)] * x.ndim
        widths[axis] = (0, 1)
        x = pad(x, widths)
    device = backend.device_of(_data(x))
    key = (Ellipsis, backend.to_device(index.reshape(-1), device)) + (slice(None),) * (-axis - 1)
    taps = getitem(x, key, in_bounds=True)
    at = taps.ndim + axis
    taps = reshape(taps, tuple(taps.shape[:at]) + (n_out, k) + tuple(taps.shape[at + 1 :]))
    w = backend.to_device(weight.reshape((n_out, k) + (1,) * (-axis - 1)).astype(x.dtype), device)
    weighted = taps * w
    return weighted.sum(axis=at + 1) if k > 1 else reshape(weighted, tuple(weighted.shape[: at + 1]) + tuple(
        weighted.shape[at + 2 :]))  # fmt: skip


def _separable(x, rows, cols):
    """rows @ x @ cols^T over the last two axes of x (either (out, in) matrix may be None: that axis is kept),
    each as :func:`apply_taps` on the matrix's nonzero entries."""
    out = x if rows is None else apply_taps(x, *taps_of(rows), -2)
    return out if cols is None else apply_taps(out, *taps_of(cols), -1)


def _avg_pool(op, x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Average pool of a batched (N, C, H, W) x."""
    _check_float(op, x)
    if divisor_override is not None and (not isinstance(divisor_override, _INTS) or divisor_override == 0):
        raise ArgumentError(f"{op}: divisor_override must be a non-zero int, got {divisor_override!r}")
    ho, wo = _geometry(op, tuple(x.shape), kernel, stride, padding, (1, 1), ceil_mode)
    h, w = x.shape[2:]
    floor_hw = tuple(pool_output_size(s, k, st, p, 1, False) for s, k, st, p in zip((h, w), kernel, stride, padding))
    if (ho, wo) == floor_hw and divisor_override is None and (count_include_pad or padding == (0, 0)):
        return conv._avg_pool2d(x, kernel=kernel, stride=stride, padding=padding, dilation=(1, 1))
    rows = _avg_matrix(h, ho, kernel[0], stride[0], padding[0], ceil_mode, count_include_pad, divisor_override)
    cols = _avg_matrix(w, wo, kernel[1], stride[1], padding[1], ceil_mode, count_include_pad, None)
    if divisor_override is not None:
        cols = (cols > 0).astype(np.float64)
    return _separable(x, rows, cols)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
):
    """Mean over each kh x kw window of an (N, C, H, W) or (C, H, W) input, as PyTorch's ``F.avg_pool2d``.

    out[n, c, i, j] = sum over window (i, j) of x / divisor. The window starts at (i s_h - p_h, j s_w - p_w)
    and ends at min(start + k, size + p) on each axis; the divisor is that area with ``count_include_pad``
    (zero padding counted, the default), else the area of its part inside the input, or
    ``divisor_override`` when given. Sizes and ``ceil_mode`` as :func:`max_pool2d`. Linear, its vjp the
    transpose. Raises ShapeError for a wrong ndim or a kernel that does not fit, DTypeError for an integer
    input, ArgumentError for a zero ``divisor_override``.
    """
    x, added = _as_batched("avg_pool2d", input, 2)
    kernel, stride, padding, _ = _window_args("avg_pool2d", 2, kernel_size, stride, padding)
    out = _avg_pool(
        "avg_pool2d", x, kernel, stride, padding, bool(ceil_mode), bool(count_include_pad), divisor_override
    )
    return _unbatch(out, added)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
    """Mean over each window of length k of an (N, C, L) or (C, L) input, as PyTorch's ``F.avg_pool1d``
    (the (1, k) case of :func:`avg_pool2d`; divisors, ``ceil_mode`` and ``count_include_pad`` as there)."""
    x, added = _as_batched("avg_pool1d", input, 1)
    kernel, stride, padding, _ = _window_args("avg_pool1d", 1, kernel_size, stride, padding)
    out = _avg_pool(
        "avg_pool1d", _as_planes(x), (1,) + kernel, (1,) + stride, (0,) + padding, bool(ceil_mode),
        bool(count_include_pad), None,
    )  # fmt: skip
    return _unbatch(_from_planes(out), added)


def lp_pool2d(input, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
    """Power-average pool, as PyTorch's ``F.lp_pool2d``: (sum over each window of x^p)^(1/p).

    Computed as PyTorch does, (sign(s) relu(|s|) kh kw)^(1/p) with s = avg_pool2d(x^p) (no padding),
    so a window whose sum is 0 has an infinite gradient for p > 1, as there.
    """
    kernel = _tuple(kernel_size, 2, "kernel_size", "lp_pool2d")
    s = avg_pool2d(input**norm_type, kernel, stride, 0, ceil_mode)
    return ((s.sign() * s.abs().relu()) * (kernel[0] * kernel[1])) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type: float, kernel_size: int, stride=None, ceil_mode: bool = False):
    """Power-average pool over windows of length k, as PyTorch's ``F.lp_pool1d`` (see :func:`lp_pool2d`)."""
    (k,) = _tuple(kernel_size, 1, "kernel_size", "lp_pool1d")
    s = avg_pool1d(input**norm_type, k, stride, 0, ceil_mode)
    return ((s.sign() * s.abs().relu()) * k) ** (1.0 / norm_type)


# --- adaptive pooling ------------------------------------------------------------------------------


def adaptive_bins(size: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive bins: output i of ``out`` pools [floor(i size / out), ceil((i + 1) size / out))."""
    return [((i * size) // out, -(-((i + 1) * size) // out)) for i in range(out)]


def _adaptive_sizes(op, x, output_size, spatial):
    sizes = _tuple(output_size, spatial, "output_size", op, allow_none=True)
    sizes = tuple(s if o is None else o for s, o in zip(x.shape[-spatial:], sizes))
    if min(sizes) < 0:
        raise ShapeError(f"{op}: output_size must be non-negative, got {output_size!r}")
    if 0 in x.shape[-spatial:] or (x.ndim == spatial + 2 and x.shape[1] == 0):
        raise ShapeError(f"{op}: expected non-empty channel and spatial dimensions, got input shape {tuple(x.shape)}")
    return sizes


def _adaptive_avg(op, input, output_size, spatial):
    x, added = _as_batched(op, input, spatial)
    _check_float(op, x)
    sizes = _adaptive_sizes(op, x, output_size, spatial)
    mats = []
    for size, out in zip(x.shape[2:], sizes):
        m = np.zeros((out, size))
        for i, (a, b) in enumerate(adaptive_bins(size, out)):
            m[i, a:b] = 1.0 / (b - a)
        mats.append(m)
    y = _separable(x, *mats) if spatial == 2 else _separable(x, None, mats[0])
    return _unbatch(y, added)


def adaptive_avg_pool2d(input, output_size):
    """Mean over PyTorch's adaptive bins, to an (N, C, *output_size) result, as ``F.adaptive_avg_pool2d``.

    ``output_size`` is an int or a pair; None in it keeps that input size. Bin i of an axis of length L
    pooled to n covers floor(i L / n) <= j < ceil((i + 1) L / n) (bins overlap when n does not divide L).
    Linear and separable: two matrix products, whose vjps are their transposes.
    """
    return _adaptive_avg("adaptive_avg_pool2d", input, output_size, 2)


def adaptive_avg_pool1d(input, output_size):
    """Mean over PyTorch's adaptive bins of an (N, C, L) or (C, L) input (see :func:`adaptive_avg_pool2d`)."""
    return _adaptive_avg("adaptive_avg_pool1d", input, output_size, 1)


def _bin_index(size, out):
    """(out, longest bin) indices of each bin's elements, shorter bins repeating their last one."""
    bins = adaptive_bins(size, out)
    longest = max((b - a for a, b in bins), default=1)
    return np.array([[min(a + t, b - 1) for t in range(longest)] for a, b in bins], dtype=np.int64).reshape(
        out, longest
    )


def _adaptive_max(op, input, output_size, spatial, return_indices):
    x, added = _as_batched(op, input, spatial)
    sizes = _adaptive_sizes(op, x, output_size, spatial)
    h, w = (1, x.shape[2]) if spatial == 1 else x.shape[2:]
    (oh, ow) = (1, sizes[0]) if spatial == 1 else sizes
    xp, device = backend.xp_of(_data(x)), backend.device_of(_data(x))
    rows, cols = _bin_index(h, oh), _bin_index(w, ow)
    ih = backend.to_device(rows.reshape(oh, rows.shape[1], 1, 1), device)
    iw = backend.to_device(cols.reshape(1, 1, ow, cols.shape[1]), device)
    planes = _as_planes(x) if spatial == 1 else x
    gathered = getitem(planes, (Ellipsis, ih, iw))  # (N, C, Oh, kh, Ow, kw)
    out = amax(gathered, axis=(3, 5))
    if spatial == 1:
        out = _from_planes(out)
    if not return_indices:
        return _unbatch(out, added)
    n, c = x.shape[:2]
    kh, kw = rows.shape[1], cols.shape[1]
    win = _data(gathered).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, oh, ow, kh * kw)
    arg = win.argmax(axis=-1)
    a, b = arg // kw, arg % kw
    r = backend.to_device(rows, device)[xp.arange(oh).reshape(oh, 1), a]
    q = backend.to_device(cols, device)[xp.arange(ow), b]
    indices = (r * w + q).astype(xp.int64)
    if spatial == 1:
        indices = indices.reshape(n, c, ow)
    indices = Tensor._wrap(indices[0] if added else indices)
    return _unbatch(out, added), indices


def adaptive_max_pool2d(input, output_size, return_indices: bool = False):
    """Max over PyTorch's adaptive bins (see :func:`adaptive_avg_pool2d`), as ``F.adaptive_max_pool2d``.

    With ``return_indices`` also the flat index h * W + w of each bin's max in its input plane (int64).
    The gradient goes to each bin's max; ties are declared kinks (the ``max`` reduction's signature).
    """
    return _adaptive_max("adaptive_max_pool2d", input, output_size, 2, bool(return_indices))


def adaptive_max_pool1d(input, output_size, return_indices: bool = False):
    """Max over PyTorch's adaptive bins of an (N, C, L) or (C, L) input, as ``F.adaptive_max_pool1d``."""
    return _adaptive_max("adaptive_max_pool1d", input, output_size, 1, bool(return_indices))


# --- max unpooling ------------------------------------------------------------------------------------


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool2d`, as PyTorch's ``F.max_unpool2d``.

    Each value of ``input`` (N, C, H, W) or (C, H, W) is put at its flat index (from ``return_indices``)
    in a zero (H_out, W_out) plane, H_out = (H - 1) s - 2p + k unless ``output_size`` (the last two, or
    all, dimensions) gives it, which PyTorch allows strictly within one stride of that size. Linear in
    ``input``: its gradient gathers the cotangent at the indices. Raises ShapeError when indices and
    input differ in shape, an index is outside the output plane or output_size is out of that range.
    """
    op = "max_unpool2d"
    x, added = _as_batched(op, input, 2)
    kernel, stride, padding, _ = _window_args(op, 2, kernel_size, stride, padding)
    idx = _data(indices)
    if tuple(idx.shape) != tuple(input.shape):
        raise ShapeError(f"{op}: indices of shape {tuple(idx.shape)} must have the input's shape {tuple(input.shape)}")
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: indices must be integers, got dtype {idx.dtype}")
    n, c, h, w = x.shape
    if output_size is None:
        out_hw = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip((h, w), stride, padding, kernel))
    else:
        given = tuple(int(v) for v in output_size)
        if len(given) not in (2, x.ndim, input.ndim):
            raise ShapeError(f"{op}: output_size must have 2 elements (or the input's ndim), got {output_size!r}")
        out_hw = given[-2:]
        default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip((h, w), stride, padding, kernel))
        if not all(d - st < v < d + st for v, d, st in zip(out_hw, default, stride)):
            raise ShapeError(
                f"{op}: output_size {output_size!r} is not possible for an input of shape {tuple(input.shape)}: each "
                f"of the last two sizes must be within the stride {stride} of {default} (exclusive)"
            )
    plane = out_hw[0] * out_hw[1]
    flat_idx = idx.reshape(n * c, h * w)
    if flat_idx.size and backend.is_host_array(flat_idx) and (flat_idx.min() < 0 or flat_idx.max() >= plane):
        raise ShapeError(f"{op}: found an index outside the output plane {out_hw} (indices in [0, {plane}))")
    xp = backend.xp_of(flat_idx)
    # The output as a gather from [values, 0]: each output position reads its value, or the appended zero.
    source = xp.full((n * c, plane), h * w, dtype=xp.int64)
    rows = xp.arange(n * c).reshape(n * c, 1)
    source[rows, flat_idx] = xp.arange(h * w)
    values = reshape(x, (n * c, h * w))
    extended = pad(values, ((0, 0), (0, 1)))  # a constant zero (values[:, :1] * 0 would be nan for an inf)
    out = reshape(getitem(extended, (rows, source)), (n, c) + out_hw)
    return _unbatch(out, added)

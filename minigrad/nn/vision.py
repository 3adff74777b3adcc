"""Spatial transformers: ``F.affine_grid`` and ``F.grid_sample``, PyTorch's names, arguments and numbers.

``affine_grid(theta, size)`` maps the output's normalized pixel coordinates (x, y) in [-1, 1] (x along
the width, y along the height; pixel centres at (2i + 1)/W - 1 unless ``align_corners``, where they are
linspace(-1, 1, W)) through each batch element's affine matrix theta (N, 2, 3): grid = [x, y, 1] theta^T.
``grid_sample(input, grid)`` reads ``input`` (N, C, H, W) at those points: a point g in [-1, 1] is the
pixel coordinate ((g + 1) W - 1) / 2 (``align_corners=False``) or (g + 1) (W - 1) / 2 (``True``);
``padding_mode`` decides what lies outside ('zeros': nothing, 'border': the edge pixel, the coordinate
clipped; 'reflection': the coordinate reflected at the border), and ``mode`` how to read between
pixels ('bilinear': the four neighbours weighted by (1 - |dx|)(1 - |dy|); 'nearest': the nearest
pixel, halves to even; 'bicubic': sixteen neighbours with the cubic convolution kernel, A = -0.75).

Both are compositions of primitives (matmul, indexing, products, clip, abs, where): the gradient with
respect to ``input`` scatters back to the pixels read, the one with respect to ``grid`` (and through it
``theta``) is that of the interpolation weights, as PyTorch's; higher orders come from the tape. The
sample positions (the floor of the coordinates) carry no gradient, so bilinear sampling has kinks at
integer pixel coordinates, and 'nearest' gives ``grid`` no gradient at all (PyTorch's is zeros).
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import clip, where
from ..ops.linalg import matmul
from ..ops.shape import getitem
from ..tensor import Tensor

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please specify "
    "align_corners=True if the old behavior is desired. See the documentation of grid_sample for details."
)


def _linspace_from_neg_one(steps: int, align_corners: bool, dtype) -> np.ndarray:
    if steps == 1:
        return np.zeros(1, dtype=dtype)
    line = np.linspace(-1.0, 1.0, steps, dtype=np.float64)
    if not align_corners:
        line = line * (steps - 1) / steps
    return line.astype(dtype)


def affine_grid(theta: Tensor, size, align_corners: bool | None = None) -> Tensor:
    """The sampling grid (N, H, W, 2) of the affine maps theta (N, 2, 3) for an output of ``size`` (N, C, H, W).

    grid[n, i, j] = theta[n] @ (x_j, y_i, 1), x_j, y_i the normalized centres of output column j and
    row i (see the module docstring); 5-d sizes (N, C, D, H, W) take theta (N, 3, 4) and give
    (N, D, H, W, 3). ``align_corners=None`` warns and means False, as PyTorch. Differentiable in theta.
    Raises DTypeError for a non-floating theta, ShapeError for a theta that does not fit the size, and
    ArgumentError for a size that is not 4-d or 5-d or has a zero.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not isinstance(theta, Tensor):
        raise ArgumentError(f"affine_grid: theta must be a Tensor, got {type(theta).__name__}")
    if theta.dtype.kind != "f":
        raise DTypeError(f"affine_grid: Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) not in (4, 5):
        raise ArgumentError(
            "affine_grid: only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. "
            f"Got size {size}."
        )
    k = len(size) - 2
    if theta.ndim != 3 or tuple(theta.shape[1:]) != (k, k + 1):
        raise ShapeError(
            f"affine_grid: Expected a batch of {k}D affine matrices of shape Nx{k}x{k + 1} for size {size}. "
            f"Got {tuple(theta.shape)}."
        )
    if align_corners and min(size[2:]) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when align_corners=True. "
            "This is not an intended use case of affine_grid. See the documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ArgumentError(f"affine_grid: Expected non-zero, positive output size. Got {size}")
    if theta.shape[0] != size[0]:
        raise ShapeError(f"affine_grid: theta holds {theta.shape[0]} matrices for a batch of size[0]={size[0]}")
    spatial = size[2:]  # (H, W) or (D, H, W); coordinates are ordered (x, y[, z]): the last dim first
    lines = [_linspace_from_neg_one(s, align_corners, theta.dtype) for s in spatial]
    mesh = np.meshgrid(*lines, indexing="ij")
    base = np.stack([*reversed(mesh), np.ones(tuple(spatial), dtype=theta.dtype)], axis=-1).reshape(1, -1, k + 1)
    base = Tensor(backend.to_device(base, theta.device))
    grid = matmul(base, theta.transpose(1, 2))  # (N, prod(spatial), k)
    return grid.reshape((size[0], *spatial, k))


# --- grid_sample ----------------------------------------------------------------------------------------------


def _unnormalize(g: Tensor, size: int, align_corners: bool) -> Tensor:
    return (g + 1) / 2 * (size - 1) if align_corners else ((g + 1) * size - 1) / 2


def _reflect(coord: Tensor, twice_low: int, twice_high: int) -> Tensor:
    """coord reflected into [twice_low / 2, twice_high / 2] (as many times as it takes)."""
    if twice_low == twice_high:
        return coord * 0
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    dist = _abs(coord - low)
    xp = backend.xp_of(dist.array)
    flips = xp.floor(dist.array / span)
    extra = dist - flips * span
    return where(flips % 2 == 0, extra + low, span - extra + low)


def _source_coordinate(g: Tensor, size: int, padding_mode: str, align_corners: bool) -> Tensor:
    coord = _unnormalize(g, size, align_corners)
    if padding_mode == "border":
        coord = clip(coord, 0, size - 1)
    elif padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
        coord = clip(coord, 0, size - 1)
    return coord


def _read(input: Tensor, batch, ys, xs):
    """input[n, :, y, x] at integer arrays (N, Ho, Wo), zero where (y, x) lies outside: (N, Ho, Wo, C) and the mask."""
    xp = backend.xp_of(ys)
    height, width = input.shape[2], input.shape[3]
    inside = (ys >= 0) & (ys < height) & (xs >= 0) & (xs < width)
    yc, xc = xp.clip(ys, 0, height - 1).astype(xp.int64), xp.clip(xs, 0, width - 1).astype(xp.int64)
    return getitem(input, (batch, slice(None), yc, xc), in_bounds=True), inside


def _cubic_weights(t: Tensor) -> list:
    """The cubic convolution weights (A = -0.75) of the taps at -1, 0, 1, 2 for a fraction t in [0, 1)."""
    a = -0.75

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _pad_index(coord: np.ndarray, size: int, padding_mode: str, align_corners: bool, xp):
    """An integer tap coordinate under the padding mode (bicubic applies it tap by tap, as PyTorch)."""
    if padding_mode == "border":
        return xp.clip(coord, 0, size - 1)
    if padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:
            return xp.zeros_like(coord)
        lo, span = low / 2, (high - low) / 2
        dist = xp.abs(coord - lo)
        flips = xp.floor(dist / span)
        extra = dist - flips * span
        return xp.clip(xp.where(flips % 2 == 0, extra + lo, span - extra + lo), 0, size - 1)
    return coord


def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:  # fmt: skip
    """Sample ``input`` (N, C, H, W) at the normalized points ``grid`` (N, Ho, Wo, 2): the result is (N, C, Ho, Wo).

    grid[n, i, j] = (x, y) in [-1, 1] (x along the width); see the module docstring for the
    coordinate map, ``mode`` ('bilinear', 'nearest', 'bicubic') and ``padding_mode`` ('zeros',
    'border', 'reflection'). ``align_corners=None`` warns and means False, as PyTorch. Differentiable
    in ``input`` and (except 'nearest') ``grid``. 4-d inputs only. Raises ArgumentError for an unknown
    mode or padding mode, ShapeError for shapes that do not fit, DTypeError for mixed dtypes.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ArgumentError(
            f"grid_sample: expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: {mode!r}"
        )  # fmt: skip
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ArgumentError(
            f"grid_sample: expected padding_mode to be 'zeros', 'border', or 'reflection', but got: {padding_mode!r}"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    for name, t in (("input", input), ("grid", grid)):
        if not isinstance(t, Tensor):
            raise ArgumentError(f"grid_sample: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim != 4:
        raise ShapeError(f"grid_sample: expected a 4-d input (N, C, H, W), got shape {tuple(input.shape)}")
    if grid.ndim != 4 or grid.shape[-1] != 2 or grid.shape[0] != input.shape[0]:
        raise ShapeError(
            f"grid_sample: expected grid of shape ({input.shape[0]}, H_out, W_out, 2) for input of shape "
            f"{tuple(input.shape)}, got {tuple(grid.shape)}"
        )
    if input.shape[2] == 0 or input.shape[3] == 0:
        raise ShapeError(f"grid_sample: expected input to have non-empty spatial dimensions, got {tuple(input.shape)}")
    if input.dtype != grid.dtype or input.dtype.kind != "f":
        raise DTypeError(
            f"grid_sample: expected input and grid of the same floating dtype, got {input.dtype} and {grid.dtype}"
        )
    height, width = input.shape[2], input.shape[3]
    xp = backend.xp_of(input.array)
    batch = xp.arange(input.shape[0]).reshape(-1, 1, 1)
    gx, gy = grid[..., 0], grid[..., 1]
    if mode == "bicubic":
        x, y = _unnormalize(gx, width, align_corners), _unnormalize(gy, height, align_corners)
        x0, y0 = xp.floor(x.array), xp.floor(y.array)
        wx, wy = _cubic_weights(x - x0), _cubic_weights(y - y0)
        out = None
        for i in range(4):
            yi = _pad_index(y0 - 1 + i, height, padding_mode, align_corners, xp)
            for j in range(4):
                xj = _pad_index(x0 - 1 + j, width, padding_mode, align_corners, xp)
                value, inside = _read(input, batch, yi, xj)
                term = value * (wy[i] * wx[j] * inside.astype(input.dtype)).unsqueeze(-1)
                out = term if out is None else out + term
        return out.permute(0, 3, 1, 2)
    x = _source_coordinate(gx, width, padding_mode, align_corners)
    y = _source_coordinate(gy, height, padding_mode, align_corners)
    if mode == "nearest":
        value, inside = _read(input, batch, xp.rint(y.array), xp.rint(x.array))
        return (value * xp.expand_dims(inside.astype(input.dtype), -1)).permute(0, 3, 1, 2)
    x0, y0 = xp.floor(x.array), xp.floor(y.array)
    tx, ty = x - x0, y - y0
    out = None
    for dy, wy in ((0, 1 - ty), (1, ty)):
        for dx, wx in ((0, 1 - tx), (1, tx)):
            value, inside = _read(input, batch, y0 + dy, x0 + dx)
            term = value * (wy * wx * inside.astype(input.dtype)).unsqueeze(-1)
            out = term if out is None else out + term
    return out.permute(0, 3, 1, 2)


__all__ = ["affine_grid", "grid_sample"]

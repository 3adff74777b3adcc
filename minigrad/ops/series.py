"""Differences, integrals and covariances of sampled data: diff, trapezoid, cumulative_trapezoid, cov, corrcoef.

Composed of slices (views), sums, ``cumsum`` and matrix products, so the
gradients come from those primitives: ``diff``'s is the cotangent's negative
difference, ``trapezoid``'s the trapezoid weights (dx/2 at the ends, the
mean of the two neighbouring steps inside), ``cov``'s the centred data.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..errors import ArgumentError, DTypeError, IndexOutOfRange, ShapeError
from ..tensor import Tensor
from . import elementwise, linalg, reduction, scan
from . import shape as _shape

__all__ = ["diff", "trapezoid", "trapz", "cumulative_trapezoid", "cov", "corrcoef"]


def _tensor(op: str, name: str, x) -> Tensor:
    if not isinstance(x, Tensor):
        raise DTypeError(f"{op}: {name} must be a tensor, got {type(x).__name__}")
    return x


def _axis(op: str, x, dim) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise DTypeError(f"{op}: dim must be an int, got {dim!r}")
    n = max(x.ndim, 1)
    if not -n <= dim < n:
        raise IndexOutOfRange(f"{op}: dim {dim} is out of range for a tensor of shape {tuple(x.shape)}")
    return int(dim) % n


def _slice(x, d: int, start, stop):
    return _shape.getitem(x, (slice(None),) * d + (slice(start, stop),))


# --- diff --------------------------------------------------------------------------------------------------------


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None, append: Tensor | None = None):
    """The n-th forward difference along ``dim``, ``torch.diff``: out[i] = input[i + 1] - input[i], n times.

    ``prepend`` and ``append`` are concatenated to ``input`` along ``dim``
    first (they match it in the other dimensions). Each difference shortens
    the dimension by one (to 0 at most); n = 0 gives a copy of ``input``. Boolean
    tensors take ``!=`` (xor), as PyTorch. Raises ShapeError for a 0-d
    input, ArgumentError for a negative n, IndexOutOfRange for a bad dim.
    """
    _tensor("diff", "input", input)
    if input.ndim == 0:
        raise ShapeError("diff: diff expects input to be at least one-dimensional")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise DTypeError(f"diff: n must be an int, got {n!r}")
    if n < 0:
        raise ArgumentError(f"diff: order must be non-negative but got {n}")
    d = _axis("diff", input, dim)
    if n == 0:  # as PyTorch (and NumPy): a copy of input, prepend and append unused
        return elementwise.clone(input)
    parts = []
    for name, extra in (("prepend", prepend), ("input", input), ("append", append)):
        if extra is None:
            continue
        if name != "input":
            _tensor("diff", name, extra)
            if extra.ndim == 0:  # PyTorch broadcasts a scalar prepend/append to one slice
                extra = _shape.broadcast_to(
                    _shape.reshape(extra, (1,) * input.ndim),
                    tuple(1 if k == d else s for k, s in enumerate(input.shape)),
                )
            if extra.ndim != input.ndim or any(
                a != b for k, (a, b) in enumerate(zip(extra.shape, input.shape)) if k != d
            ):
                raise ShapeError(
                    f"diff: {name} of shape {tuple(extra.shape)} does not fit input of shape {tuple(input.shape)} "
                    f"outside dim {d}"
                )
            if extra.dtype != input.dtype:
                raise DTypeError(f"diff: {name} must have input's dtype {input.dtype}, got {extra.dtype}")
        parts.append(extra)
    x = _shape.concatenate(parts, d) if len(parts) > 1 else input
    for _ in range(int(n)):
        size = x.shape[d]
        if size == 0:
            break
        later, earlier = _slice(x, d, 1, None), _slice(x, d, 0, size - 1)
        x = elementwise.ne(later, earlier) if x.dtype == np.bool_ else elementwise.sub(later, earlier)
    return x


# --- trapezoid rules -----------------------------------------------------------------------------------------------


def _spacing(op: str, y, x, dx, d):
    """The step between samples along axis ``d``: a number, or a tensor that broadcasts against y's steps."""
    if x is not None and dx is not None:
        raise ArgumentError(f"{op}: give x or dx, not both")
    if x is None:
        return 1.0 if dx is None else dx
    if not isinstance(x, Tensor):  # a number is the constant spacing, as PyTorch's trapezoid(y, 0.5)
        if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
            return x
        raise DTypeError(f"{op}: x must be a tensor or a number, got {type(x).__name__}")
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise ShapeError(
                f"{op}: there must be one `x` value for each sample point, got {x.shape[0]} for dimension {d} of "
                f"size {y.shape[d]}"
            )
        steps = diff(x)
        return _shape.reshape(steps, (steps.shape[0],) + (1,) * (y.ndim - 1 - d))
    if x.ndim != y.ndim:
        raise ShapeError(f"{op}: x of shape {tuple(x.shape)} must be 1-D or have y's {y.ndim} dimensions")
    return diff(x, dim=d)


def trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The trapezoid rule along ``dim``, ``torch.trapezoid``: sum_i (x[i+1] - x[i]) (y[i+1] + y[i]) / 2.

    The sample points are ``x`` (1-D of the dimension's length, or of y's
    dimensions, broadcast), or spaced ``dx`` apart (default 1); ``x`` may
    also be a number, the spacing. Fewer than 2 samples integrate to 0.
    Gradients: for y the trapezoid weights, for x the y-sums of the steps.
    Raises ShapeError for an ``x`` that does not fit, ArgumentError for both
    ``x`` and ``dx``.
    """
    return _trapezoid("trapezoid", y, x, dx, dim, cumulative=False)


def trapz(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """``torch.trapz``, the older name of :func:`trapezoid`."""
    return _trapezoid("trapz", y, x, dx, dim, cumulative=False)


def cumulative_trapezoid(y: Tensor, x=None, *, dx=None, dim: int = -1) -> Tensor:
    """The running trapezoid rule along ``dim``, ``torch.cumulative_trapezoid``: n - 1 partial integrals.

    out[k] = sum_{i <= k} (x[i+1] - x[i]) (y[i+1] + y[i]) / 2, with x and dx
    as :func:`trapezoid`. The dimension shrinks by one (an empty one stays
    empty).
    """
    return _trapezoid("cumulative_trapezoid", y, x, dx, dim, cumulative=True)


def _trapezoid(op, y, x, dx, dim, cumulative):
    _tensor(op, "y", y)
    if y.ndim == 0:
        raise ShapeError(f"{op}: y must have at least one dimension, got a 0-d tensor")
    d = _axis(op, y, dim)
    step = _spacing(op, y, x, dx, d)
    n = y.shape[d]
    if n == 0 and not cumulative:
        return reduction.sum(y, dim=d)
    pairs = elementwise.add(_slice(y, d, 1, None), _slice(y, d, 0, max(n - 1, 0)))
    areas = elementwise.mul(pairs, step) * 0.5 if isinstance(step, Tensor) else pairs * (0.5 * float(step))
    if cumulative:
        return areas if areas.shape[d] == 0 else scan.cumsum(areas, dim=d)
    return reduction.sum(areas, dim=d)


# --- covariance and correlation ------------------------------------------------------------------------------------


def _weights(name: str, w, observations: int, integer: bool) -> Tensor:
    _tensor("cov", name, w)
    if w.ndim > 1:
        raise ShapeError(f"cov: expected {name} to have one or fewer dimensions but got {w.ndim} dimensions")
    if w.numel() != observations:
        raise ShapeError(
            f"cov: expected {name} to have the same numel as there are observations in the input but got "
            f"{w.numel()} != {observations}"
        )
    if integer and w.dtype.kind not in "iu":
        raise DTypeError(f"cov: expected fweights to have an integral dtype but got {w.dtype}")
    if not integer and w.dtype.kind != "f":
        raise DTypeError(f"cov: expected aweights to have a floating point dtype but got {w.dtype}")
    if bool((w.array < 0).any()):
        raise ArgumentError(f"cov: {name} cannot be negative")
    return w


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None, aweights: Tensor | None = None):
    """The covariance matrix of the variables in the rows of ``input``, ``torch.cov`` (NumPy's ``cov``).

    ``input`` is (variables, observations), or 1-D for one variable (a 0-d
    result). With weights w = fweights * aweights (integer frequency and
    float importance weights, per observation): mean m = sum(w x) / sum(w),
    C = (x - m) diag(w) (x - m)^T / (sum(w) - correction * sum(w aweights) / sum(w))
    (without aweights the denominator is sum(w) - correction). A
    non-positive denominator warns and divides by 0, as PyTorch. Gradients
    come from the matrix product. Raises ShapeError for more than 2
    dimensions or weights that do not fit, ArgumentError for negative weights.
    """
    _tensor("cov", "input", input)
    if input.ndim > 2:
        raise ShapeError(f"cov: expected input to have two or fewer dimensions but got an input with {input.ndim}")
    x = _shape.reshape(input, (1, -1) if input.numel() else (1, 0)) if input.ndim < 2 else input
    if x.dtype.kind != "f":
        x = elementwise.astype(x, dtype=np.float32)  # PyTorch computes the covariance of integers in floats
    observations = x.shape[1]
    w = None
    if fweights is not None:
        w = _weights("fweights", fweights, observations, integer=True)
    if aweights is not None:
        aw = _weights("aweights", aweights, observations, integer=False)
        w = aw if w is None else elementwise.mul(w, aw)
    if w is not None and w.dtype != x.dtype:
        w = elementwise.astype(w, dtype=x.dtype)
    if w is None:
        total = observations
        mean = reduction.mean(x, dim=1, keepdim=True) if observations else reduction.sum(x, dim=1, keepdim=True)
        factor = observations - correction
    else:
        total = reduction.sum(w)
        mean = reduction.sum(x * w, dim=1, keepdim=True) / total
        if correction == 0:
            factor = total
        elif aweights is None:
            factor = total - correction
        else:
            aw = elementwise.astype(aweights, dtype=x.dtype) if aweights.dtype != x.dtype else aweights
            factor = total - correction * reduction.sum(w * aw) / total
    if (float(factor.item()) if isinstance(factor, Tensor) else factor) <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of observations.",
            UserWarning,
            stacklevel=2,
        )
        factor = factor - factor if isinstance(factor, Tensor) else 0.0  # +0, as clamp_min(0) in PyTorch
    centred = x - mean
    weighted = centred if w is None else centred * w
    product = linalg.matmul(centred, linalg._mT(weighted))
    with np.errstate(divide="ignore", invalid="ignore"):  # PyTorch's inf and NaN for no degrees of freedom
        c = product / (factor if isinstance(factor, Tensor) else float(factor))
    return _shape.squeeze(c)


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of ``input``, ``torch.corrcoef`` (NumPy's ``corrcoef``).

    R[i, j] = C[i, j] / sqrt(C[i, i] C[j, j]) with C = cov(input), clipped
    to [-1, 1] as PyTorch does; 1-D input gives a 0-d result (C / C).
    """
    c = cov(_tensor("corrcoef", "input", input))
    if c.ndim == 0:
        return c / c
    std = elementwise.sqrt(linalg.diagonal(c))
    c = c / _shape.unsqueeze(std, 1)
    c = c / _shape.unsqueeze(std, 0)
    return elementwise.clamp(c, -1, 1)

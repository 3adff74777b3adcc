"""The functional forms of torch.nn's losses beyond cross-entropy, nll, BCE-with-logits and MSE.

Each follows PyTorch's ``torch.nn.functional`` signature (including the deprecated
``size_average`` / ``reduce``, mapped to ``reduction`` with PyTorch's warning), defaults and
numbers. All but :func:`binary_cross_entropy` are compositions of minigrad primitives, so their
gradients, second order (``create_graph=True``) and kinks come from those primitives: ``abs``
(l1 at 0), ``relu`` and ``maximum`` / ``minimum`` (the margins), ``where`` (the branches of
smooth-l1 and huber, whose first derivative is continuous at the switch). softplus, where a loss
needs it, is the fused BCE-with-logits primitive at target 0, smooth and stable for any input.

``reduction`` is "mean", "sum" or "none" everywhere (and "batchmean" for :func:`kl_div`);
bad shapes raise ShapeError, bad values ArgumentError, each naming the loss and the shapes,
before anything is computed.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError, public_op
from ..ops.elementwise import abs, exp, log, minimum, relu, sqrt, where
from ..ops.loss import _bce_with_logits, _check_reduction, _data, _legacy_reduction
from ..ops.loss_breadth import _binary_cross_entropy
from ..ops.reduction import mean, sum


def _shape(a) -> tuple:
    return tuple(np.shape(_data(a)))


def _reduce(loss, reduction: str):
    if reduction == "none":
        return loss
    return sum(loss) if reduction == "sum" else mean(loss)


def _broadcast(op: str, *named) -> tuple:
    """The broadcast shape of the named arguments, or a ShapeError naming the loss and every shape."""
    try:
        return np.broadcast_shapes(*(_shape(a) for _, a in named))
    except ValueError:
        listed = ", ".join(f"{name} {_shape(a)}" for name, a in named)
        raise ShapeError(f"{op}: the shapes do not broadcast together: {listed}") from None


def _size_warning(op: str, input, target) -> None:
    """PyTorch's warning for a regression target whose shape differs from the input's (it then broadcasts)."""
    _broadcast(op, ("input", input), ("target", target))
    if _shape(input) != _shape(target):
        warnings.warn(
            f"{op}: using a target size ({_shape(target)}) that is different to the input size ({_shape(input)}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )


def _same_shape(op: str, input, target) -> None:
    if _shape(input) != _shape(target):
        raise ShapeError(f"{op}: target of shape {_shape(target)} must have the input's shape {_shape(input)}")


def _weight_like_input(op: str, input, weight) -> None:
    if weight is not None and _shape(weight) != _shape(input):
        raise ShapeError(f"{op}: weight of shape {_shape(weight)} must have the input's shape {_shape(input)}")


def _softplus(x):
    """log(1 + e^x), stable and smooth for any x: the fused BCE-with-logits primitive at target 0."""
    data = _data(x)
    zeros = backend.xp_of(data).zeros(data.shape, data.dtype if data.dtype.kind == "f" else np.float32)
    return _bce_with_logits(x, zeros, reduction="none")


# --- regression ------------------------------------------------------------------------------------


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """|input - target|, reduced; PyTorch's ``F.l1_loss``.

    Shapes that differ broadcast, with PyTorch's warning. With ``weight`` (the input's shape) each
    error is multiplied by it and "mean" divides by sum(weight). Kink at input = target (abs).
    """
    reduction = _legacy_reduction("l1_loss", size_average, reduce, reduction)
    _size_warning("l1_loss", input, target)
    _weight_like_input("l1_loss", input, weight)
    loss = abs(input - target)
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return sum(loss) / sum(weight)
    return _reduce(loss, reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); PyTorch's ``F.smooth_l1_loss``.

    ``beta`` = 0 is the l1 loss. The first derivative (d / beta, clipped to [-1, 1]) is continuous at
    |d| = beta; only the second jumps there. Shapes that differ broadcast, with PyTorch's warning.
    """
    reduction = _legacy_reduction("smooth_l1_loss", size_average, reduce, reduction)
    if beta < 0:
        raise ArgumentError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    _size_warning("smooth_l1_loss", input, target)
    diff = input - target
    distance = abs(diff)
    if beta == 0:
        return _reduce(distance, reduction)
    inside = _data(distance) < beta
    return _reduce(where(inside, diff * diff * (0.5 / beta), distance - 0.5 * beta), reduction)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); PyTorch's ``F.huber_loss``.

    Equals delta * smooth_l1_loss(beta=delta). ``weight`` (the input's shape) multiplies each
    element; "mean" is then the plain mean of the weighted losses (PyTorch's rule for huber).
    """
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ArgumentError(f"huber_loss: delta must be positive, got {delta}")
    _size_warning("huber_loss", input, target)
    _weight_like_input("huber_loss", input, weight)
    diff = input - target
    distance = abs(diff)
    inside = _data(distance) < delta
    loss = where(inside, diff * diff * 0.5, (distance - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """-w (t log x + (1 - t) log(1 - x)) of probabilities x in [0, 1], each log clamped at -100.

    PyTorch's ``F.binary_cross_entropy``: target must have the input's shape; ``weight`` broadcasts to
    it. Gradients as PyTorch's: (x - t) / max(x (1 - x), 1e-12) for the input, -logit(x) for the
    target (see :mod:`minigrad.ops.loss_breadth`). Raises ArgumentError for inputs outside [0, 1]
    (on CUDA only in anomaly mode), ShapeError for mismatched shapes.
    """
    op = "binary_cross_entropy"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    if _shape(input) != _shape(target):
        raise ShapeError(
            f"{op}: using a target size ({_shape(target)}) that is different to the input size ({_shape(input)}) "
            "is not supported; make them the same"
        )
    if weight is not None:
        full = _broadcast(op, ("target", target), ("weight", weight))
        if full != _shape(target):
            raise ShapeError(
                f"{op}: weight of shape {_shape(weight)} does not broadcast to the target {_shape(target)}"
            )
    loss = _binary_cross_entropy(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --- distributions --------------------------------------------------------------------------------


def kl_div(input, target, size_average=None, reduce=None, reduction: str = "mean", log_target: bool = False):
    """Pointwise KL divergence target (log target - input) with log-probabilities ``input``; PyTorch's ``F.kl_div``.

    With ``log_target`` the target is given as log-probabilities: exp(t) (t - input). Otherwise
    t log t - t input, with 0 log 0 = 0 (the log of a zero target is never taken, so its gradient is
    -input there). ``reduction``: "batchmean" divides the sum by input.size(0) (the KL divergence
    of each sample, averaged); "mean" divides by the number of elements and warns, as PyTorch, that
    this is not the KL divergence; "sum", "none". Input and target broadcast.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction("kl_div", size_average, reduce, reduction)
    elif reduction != "batchmean":
        _check_reduction("kl_div", reduction)
    if reduction == "mean":
        warnings.warn(
            "kl_div: reduction: 'mean' divides the total loss by both the batch size and the support size. "
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition. "
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            UserWarning,
            stacklevel=2,
        )
    _broadcast("kl_div", ("input", input), ("target", target))
    if log_target:
        loss = exp(target) * (target - input)
    else:
        t = _data(target)
        positive = t > 0
        safe = where(positive, target, 1.0)  # log is taken of positive targets only: 0 log 0 = 0
        loss = target * log(safe) - target * input
    if reduction == "batchmean":
        total = sum(loss)
        return total / _shape(input)[0] if len(_shape(input)) else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input: bool = True, full: bool = False, size_average=None,
                     eps: float = 1e-8, reduce=None, reduction: str = "mean"):  # fmt: skip
    """Negative log-likelihood of a Poisson target with rate exp(input) (``log_input``) or input.

    exp(input) - target input, or input - target log(input + eps); with ``full`` the Stirling term
    t log t - t + 0.5 log(2 pi t) is added where t > 1. PyTorch's ``F.poisson_nll_loss``.
    """
    reduction = _legacy_reduction("poisson_nll_loss", size_average, reduce, reduction)
    _broadcast("poisson_nll_loss", ("input", input), ("target", target))
    loss = exp(input) - target * input if log_input else input - target * log(input + eps)
    if full:
        above = _data(target) > 1
        safe = where(above, target, 2.0)  # the Stirling term only where target > 1, so log never sees 0
        stirling = safe * log(safe) - safe + log(safe * (2 * math.pi)) * 0.5
        loss = loss + where(above, stirling, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
    """0.5 (log var + (input - target)^2 / var) (+ 0.5 log 2 pi with ``full``); PyTorch's ``F.gaussian_nll_loss``.

    ``var`` is a number, the input's shape, the input's shape less its last dimension, or broadcastable
    to it with exactly one dimension of size 1 (homoscedastic). Its value is clamped at ``eps`` with
    the gradient passed straight through, as PyTorch's no-grad clamp. Raises ArgumentError for a
    negative variance, ShapeError for a variance of the wrong size.
    """
    op = "gaussian_nll_loss"
    _check_reduction(op, reduction)
    in_shape = _shape(input)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ArgumentError(f"{op}: var has negative entry/entries, got {var}")
        data = _data(input)
        var = backend.xp_of(data).full(data.shape, var, data.dtype)
    else:
        v = _data(var)
        if bool((v < 0).any()):
            raise ArgumentError(f"{op}: var has negative entry/entries")
        v_shape = _shape(var)
        if v_shape != in_shape:
            if in_shape[:-1] == v_shape:
                var = var.reshape(v_shape + (1,))
            elif not (len(in_shape) == len(v_shape) and np.sum([b for a, b in zip(in_shape, v_shape) if a != b]) == 1):
                raise ShapeError(f"{op}: var of shape {v_shape} is of incorrect size for the input of shape {in_shape}")
    _broadcast(op, ("input", input), ("target", target), ("var", var))
    v = _data(var)
    clamped = backend.xp_of(v).maximum(v, eps).astype(v.dtype)
    var = var + (clamped - v) if hasattr(var, "requires_grad") else clamped  # the value clamped, the gradient 1
    diff = input - target
    loss = (log(var) + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# --- margins and embeddings -----------------------------------------------------------------------


def _cosine(x1, x2):
    """PyTorch's cosine inside cosine_embedding_loss: sum(x1 x2) / sqrt((|x1|^2 + 1e-12) (|x2|^2 + 1e-12)).

    Along the last dimension of 1-D or 2-D inputs. A private helper: F.cosine_similarity clamps its
    norms differently, and this loss's numbers are PyTorch's own formula.
    """
    axis = x1.ndim - 1 if hasattr(x1, "ndim") else 0
    product = sum(x1 * x2, axis=axis)
    square1 = sum(x1 * x1, axis=axis) + 1e-12
    square2 = sum(x2 * x2, axis=axis) + 1e-12
    return product / sqrt(square1 * square2)


def cosine_embedding_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                          reduction: str = "mean"):  # fmt: skip
    """1 - cos(x1, x2) where target is 1, max(0, cos(x1, x2) - margin) where it is -1, 0 elsewhere.

    PyTorch's ``F.cosine_embedding_loss``: inputs (N, D) with target (N,), or (D,) with a 0-d target;
    the cosine along D with PyTorch's 1e-12 added to each squared norm.
    """
    op = "cosine_embedding_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    s1, s2, st = _shape(input1), _shape(input2), _shape(target)
    if s1 != s2 or len(s1) not in (1, 2) or st != s1[:-1]:
        raise ShapeError(
            f"{op}: expected inputs of one shape (N, D) or (D,) and a target (N,) or (), got input1 {s1}, "
            f"input2 {s2}, target {st}"
        )
    cos = _cosine(input1, input2)
    t = _data(target)
    loss = where(t == 1, 1 - cos, 0.0) + where(t == -1, relu(cos - margin), 0.0)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin: float = 0, size_average=None, reduce=None,
                        reduction: str = "mean"):  # fmt: skip
    """max(0, -target (input1 - input2) + margin); PyTorch's ``F.margin_ranking_loss``.

    The three must have the same number of dimensions (their sizes broadcast).
    """
    op = "margin_ranking_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    shapes = _shape(input1), _shape(input2), _shape(target)
    if len({len(s) for s in shapes}) != 1:
        raise ShapeError(
            f"{op}: all inputs should have the same number of dimensions, got input1 {shapes[0]}, "
            f"input2 {shapes[1]}, target {shapes[2]}"
        )
    _broadcast(op, ("input1", input1), ("input2", input2), ("target", target))
    return _reduce(relu(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input, target, margin: float = 1.0, size_average=None, reduce=None,
                         reduction: str = "mean"):  # fmt: skip
    """input where target is 1, max(0, margin - input) where it is -1 (PyTorch: the sum of both masks'
    terms, so a target that is neither 1 nor -1 gets input + max(0, margin - input)). Input and target broadcast."""
    op = "hinge_embedding_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    _broadcast(op, ("input", input), ("target", target))
    t = _data(target)
    loss = where(t != 1, relu(margin - input), 0.0) + where(t != -1, input, 0.0)
    return _reduce(loss, reduction)


@public_op("soft_margin_loss")
def soft_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """log(1 + exp(-target input)), stable for any product; PyTorch's ``F.soft_margin_loss``."""
    reduction = _legacy_reduction("soft_margin_loss", size_average, reduce, reduction)
    _broadcast("soft_margin_loss", ("input", input), ("target", target))
    return _reduce(_softplus(-target * input), reduction)


@public_op("multilabel_soft_margin_loss")
def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction: str = "mean"):  # fmt: skip
    """Per sample, the mean over classes of -(t log sigmoid(x) + (1 - t) log sigmoid(-x)), times ``weight``.

    PyTorch's ``F.multilabel_soft_margin_loss`` for input and target of shape (N, C) (or (C,));
    ``weight`` broadcasts along the classes.
    """
    op = "multilabel_soft_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    _same_shape(op, input, target)
    if len(_shape(input)) == 0:
        raise ShapeError(f"{op}: input must be (N, C) or (C,), got a 0-d tensor")
    loss = _bce_with_logits(input, target, reduction="none")
    if weight is not None:
        _broadcast(op, ("input", input), ("weight", weight))
        loss = loss * weight
    return _reduce(mean(loss, axis=-1), reduction)


def _class_indices(op: str, input, target, shape: tuple):
    t = _data(target)
    if not backend.is_array(t):
        t = np.asarray(t)
    if t.dtype.kind not in "iu":
        raise DTypeError(f"{op}: target must hold integer class indices, got dtype {t.dtype}")
    if tuple(t.shape) != shape:
        raise ShapeError(f"{op}: input of shape {_shape(input)} needs a target of shape {shape}, got {tuple(t.shape)}")
    return t


def multi_margin_loss(input, target, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                      reduce=None, reduction: str = "mean"):  # fmt: skip
    """Multi-class hinge, sum_{i != y} w_y max(0, margin - x_y + x_i)^p / C per sample: ``F.multi_margin_loss``.

    input (N, C) or (C,), integer target (N,) or (); ``p`` is 1 or 2; ``weight`` one value per class.
    "mean" averages over the samples.
    """
    op = "multi_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    if p not in (1, 2):
        raise ArgumentError(f"{op}: only p == 1 and p == 2 supported, got p={p}")
    shape = _shape(input)
    if len(shape) not in (1, 2):
        raise ShapeError(f"{op}: input must be (N, C) or (C,), got {shape}")
    t = _class_indices(op, input, target, shape[:-1])
    classes = shape[-1]
    if backend.is_host_array(t) and t.size and (t.min() < 0 or t.max() >= classes):
        raise ArgumentError(f"{op}: target values must be in [0, {classes}), got {t.min()}..{t.max()}")
    x = _data(input)
    xp = backend.xp_of(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    onehot = (t[..., None] == xp.arange(classes)).astype(dtype)
    picked = sum(input * onehot, axis=-1, keepdims=True)
    z = relu(margin - picked + input)
    if p == 2:
        z = z * z
    if weight is not None:
        w = _data(weight)
        if tuple(w.shape) != (classes,):
            raise ShapeError(
                f"{op}: weight must hold one value for each of the {classes} classes, got {tuple(w.shape)}"
            )
        z = z * w.astype(dtype)[t][..., None]
    loss = sum(z * (1 - onehot), axis=-1) / classes
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction: str = "mean"):
    """sum_j sum_{i not a target} max(0, 1 - (x[y_j] - x[i])) / C per sample; PyTorch's ``F.multilabel_margin_loss``.

    ``target`` (the input's shape, integers) lists each sample's classes y_j, ended by the first -1.
    """
    op = "multilabel_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    shape = _shape(input)
    if len(shape) not in (1, 2):
        raise ShapeError(f"{op}: input must be (N, C) or (C,), got {shape}")
    if shape[-1] == 0:  # no class to rank (a reshape to (-1, 0) failed); PyTorch refuses it too
        raise ShapeError(f"{op}: input must have at least one class, got shape {shape}")
    t = _class_indices(op, input, target, shape)
    classes = shape[-1]
    x = _data(input)
    dtype = x.dtype if x.dtype.kind == "f" else np.float32
    rows = t.reshape(-1, classes)
    counts = np.zeros(rows.shape, np.float64)  # how often each class is listed before the first -1
    for n, row in enumerate(np.asarray(backend.to_device(rows, "cpu"))):
        for y in row:
            if y < 0:
                break
            if y >= classes:
                raise ArgumentError(f"{op}: target value {y} is out of range for {classes} classes")
            counts[n, y] += 1
    counts = counts.reshape(t.shape)
    is_target = counts > 0
    pair_weight = counts[..., :, None] * (~is_target)[..., None, :]  # [.., j, i]: target j against non-target i
    pair_weight = backend.to_device(pair_weight.astype(dtype), backend.device_of(x))
    pairs = relu(1 - input.reshape(shape + (1,)) + input.reshape(shape[:-1] + (1, classes)))
    loss = sum(pairs * pair_weight, axis=(-2, -1)) / classes
    return _reduce(loss, reduction)


def _pairwise_distance(x1, x2, p: float, eps: float):
    """||x1 - x2 + eps||_p along the last dimension, as PyTorch's ``pairwise_distance``."""
    diff = x1 - x2 + eps
    axis = -1
    if p == 2:
        return sqrt(sum(diff * diff, axis=axis))
    if p == 1:
        return sum(abs(diff), axis=axis)
    return sum(abs(diff) ** p, axis=axis) ** (1.0 / p)


def triplet_margin_loss(anchor, positive, negative, margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):  # fmt: skip
    """max(0, margin + d(a, p) - d(a, n)) with d the ``p``-norm distance of pairwise_distance (eps added to
    the difference); with ``swap`` d(a, n) is replaced by min(d(a, n), d(p, n)). PyTorch's ``F.triplet_margin_loss``."""
    op = "triplet_margin_loss"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    shapes = _shape(anchor), _shape(positive), _shape(negative)
    if len({len(s) for s in shapes}) != 1 or len(shapes[0]) not in (1, 2):
        raise ShapeError(
            f"{op}: anchor, positive and negative must all be 1-D or all 2-D, got {shapes[0]}, {shapes[1]}, {shapes[2]}"
        )
    _broadcast(op, ("anchor", anchor), ("positive", positive), ("negative", negative))
    if p <= 0:
        raise ArgumentError(f"{op}: p must be positive, got {p}")
    d_pos = _pairwise_distance(anchor, positive, p, eps)
    d_neg = _pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, _pairwise_distance(positive, negative, p, eps))
    return _reduce(relu(margin + d_pos - d_neg), reduction)


__all__ = [
    "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy", "kl_div", "poisson_nll_loss",
    "gaussian_nll_loss", "cosine_embedding_loss", "margin_ranking_loss", "hinge_embedding_loss",
    "soft_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "triplet_margin_loss",
]  # fmt: skip

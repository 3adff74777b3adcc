"""Fused losses: cross-entropy, negative log-likelihood, binary cross-entropy with logits.

Each is one primitive with a closed-form vjp instead of a chain of small ops:

* cross-entropy of logits x (classes on axis 1) and integer targets t, with
  label smoothing e: loss = -sum_c q_c log softmax(x)_c, where
  q = (1 - e) onehot(t) + e / C. Computed from x - logsumexp(x), so it is
  finite and exact for logits of any magnitude. d loss / dx = softmax(x) - q.
* nll of log-probabilities: loss = -x_t; d / dx = -onehot(t).
* binary cross-entropy with logits: loss = max(x, 0) - x t + log(1 + e^-|x|),
  stable for any x; d / dx = sigmoid(x) - t, d / dt = -x. (Written as a
  composition, relu and abs would put kinks at 0 that the smooth function does
  not have.)

``reduction`` is "mean" (over the samples whose target is not
``ignore_index``), "sum" or "none", as PyTorch.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, IndexOutOfRange, MinigradError, ShapeError
from ..monitor import is_anomaly_enabled
from ..primitive import primitive
from .elementwise import sigmoid
from .reduction import _as_float, _softmax, log_softmax
from .shape import reshape

REDUCTIONS = ("mean", "sum", "none")


def _check_targets(x, t, ignore_index) -> bool:
    """Validate integer class targets against logits whose classes are on axis 1 (or axis 0 when 1-D).

    Returns whether the targets are known to be plain: every one a class
    index, none ignored. That is the common case, which the CPU checks with
    one comparison; on CUDA it is not checked, and this returns False.
    Raised inside a forward, so the primitive adds the op's name and the input shapes.
    The range check reads the targets' values, which on CUDA would copy a flag
    to the host and stall the device in every training step. There it runs only
    in anomaly mode (``minigrad.detect_anomaly()``); otherwise an out-of-range
    target gets a NaN loss and NaN gradients (see :func:`_onehot`), never a
    silently wrong number, as PyTorch's device-side assert never is.
    """
    if t.dtype.kind not in "iu":
        raise DTypeError(f"target must hold integer class indices, got dtype {t.dtype}")
    if x.ndim == 0:
        raise ShapeError("input must have a class axis: shape (C,), (N, C) or (N, C, d...), got a 0-d tensor")
    expected = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    if tuple(t.shape) != expected:
        raise ShapeError(f"input of shape {tuple(x.shape)} needs a target of shape {expected}, got {tuple(t.shape)}")
    if not (backend.is_host_array(t) or is_anomaly_enabled()):
        return False
    classes = x.shape[_class_axis(x)]
    # As unsigned numbers negative targets are huge, so one comparison finds every target in [0, C).
    if (t.astype(np.uint64) < classes).all():
        return not 0 <= ignore_index < classes and backend.is_host_array(t)
    bad = ((t < 0) | (t >= classes)) & (t != ignore_index)
    if bad.any():
        value = int(t[bad].ravel()[0]) if t.ndim else int(t)
        raise IndexError(f"target {value} is out of range for {classes} classes")
    return False


def _class_axis(x) -> int:
    return 0 if x.ndim == 1 else 1


def _onehot(x, t, ignore_index):
    """onehot(t) along the class axis, zero for ignored targets; and the mask of valid targets.

    A target out of range, which gets here only on CUDA outside anomaly mode
    (:func:`_check_targets`), gets a row of NaN, so that its loss and gradient
    are NaN. See :func:`minigrad.backend.onehot`.
    """
    axis = _class_axis(x)
    onehot = backend.onehot(t, x.shape, axis, x.dtype, ignore_index)
    return onehot, t != ignore_index


def _expand(a, axis):
    """``a`` with a length-1 axis inserted at ``axis`` (expand_dims, without its Python-level overhead)."""
    return a.reshape(a.shape[:axis] + (1,) + a.shape[axis:])


def _count(valid, dtype):
    """max(number of valid targets, 1) as a 0-d array of ``dtype``: the divisor of a mean.

    On CUDA it stays on the device: reading it as a Python int would copy it
    to the host and stall the device in every training step.
    """
    if backend.is_host_array(valid):  # a NumPy scalar too: the np.bool_ of a 0-d target (1-D logits)
        return np.asarray(max(np.count_nonzero(valid), 1), dtype)
    return backend.xp_of(valid).maximum(valid.sum(dtype=dtype), 1)


def _samples(t, dtype):
    """max(number of targets, 1) as a 0-d array of ``dtype``: the divisor of a mean when no target is ignored."""
    return np.asarray(max(t.size, 1), dtype)


def _reduce(loss, valid, reduction):
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / _count(valid, total.dtype)


def _sample_weights(g, valid, reduction, dtype, axis):
    """The cotangent of each sample's loss, shaped to broadcast along the class axis.

    For a mean or a sum on the CPU with no ignored target, one number for all
    samples (g / N or g), which spares building and multiplying a weight per sample.
    """
    if reduction != "none" and backend.is_host_array(valid) and valid.all():
        return g / _count(valid, dtype) if reduction == "mean" else g
    weights = valid.astype(dtype)
    if reduction == "mean":
        weights /= _count(valid, dtype)
    weights = _expand(weights, axis)
    if reduction == "none":
        return _expand(g, axis) * weights
    return g * weights


def _as_target(target):
    """A target given as a Python or NumPy number, as a 0-d array (the losses compare and index with it)."""
    return np.asarray(target) if isinstance(target, (int, float, np.generic)) else target


def _check_reduction(op, reduction):
    if reduction not in REDUCTIONS:
        raise ArgumentError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")


# --- cross-entropy ------------------------------------------------------------------------


def _target_distribution(x, t, ignore_index, label_smoothing):
    """q, the class distribution cross-entropy compares softmax(x) with, and the mask of valid targets.

    q = (1 - e) onehot(t) + e / C with label smoothing e; all zero for an ignored target.
    """
    onehot, valid = _onehot(x, t, ignore_index)
    if not label_smoothing:
        return onehot, valid
    axis = _class_axis(x)
    q = (1 - label_smoothing) * onehot + label_smoothing / x.shape[axis]
    q *= _expand(valid, axis)
    return q, valid


@primitive(name="cross_entropy", saves=(0, 1), residual=True)
def _cross_entropy(x, t, *, reduction, label_smoothing, ignore_index):
    """The loss, and what its vjp reuses (see :class:`~minigrad.primitive.Primitive`).

    That is log softmax(x) and the targets, either as q and the mask of valid
    targets, or, for plain targets of 2-D logits without smoothing (the usual
    classifier), as the positions (sample, class) of the targets: gathering
    log-probabilities there is cheaper than multiplying by a one-hot q.
    """
    plain = _check_targets(x, t, ignore_index)
    xp = backend.xp_of(x)
    x = _as_float(x)  # integer logits: x - max(x) must not wrap around
    axis = _class_axis(x)
    shifted = x - x.max(axis=axis, keepdims=True)
    logp = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
    if plain and x.ndim == 2 and not label_smoothing:
        hits = np.arange(len(t)), t.copy()  # a copy: the caller may reuse its target array before backward
        losses = -logp[hits]
        if reduction == "none":
            return losses, (logp, hits, None)
        total = losses.sum()
        return (total if reduction == "sum" else total / _samples(t, total.dtype)), (logp, hits, None)
    q, valid = _target_distribution(x, t, ignore_index, label_smoothing)
    q_logp = q * logp  # minus each sample's loss, spread over its classes
    if reduction == "none":
        return -q_logp.sum(axis=axis), (logp, q, valid)
    total = -q_logp.sum()  # one reduction over everything, not one per sample and another over samples
    return (total if reduction == "sum" else total / _count(valid, total.dtype)), (logp, q, valid)


def _cross_entropy_vjp(g, kept, x, t, *, reduction, label_smoothing, ignore_index):
    """(softmax(x) - q) times each sample's weight.

    ``kept`` is what the forward kept, in a plain backward: (log softmax(x),
    q, valid targets), or (log softmax(x), target positions, None) for plain
    targets. In a recorded backward it is None, and softmax is recomputed from
    the tensor x, so that it is differentiated too.
    """
    if kept is None:
        axis = _class_axis(x)
        q = _target_q(x, t, ignore_index=ignore_index, label_smoothing=label_smoothing)
        weights = _target_weights(x, t, reduction=reduction, ignore_index=ignore_index)
        if reduction == "none":
            g = reshape(g, g.shape[:axis] + (1,) + g.shape[axis:])
        return (_softmax(x, axis=axis) - q) * (g * weights)
    logp, q, valid = kept
    p = backend.xp_of(logp).exp(logp)
    if valid is None:  # plain targets: q is their positions
        p[q] -= 1
        if reduction == "none":
            p *= _expand(g, 1)
        else:  # every sample weighs the same
            p *= g / _samples(q[1], p.dtype) if reduction == "mean" else g
        return p
    return (p - q) * _sample_weights(g, valid, reduction, q.dtype, _class_axis(q))


_cross_entropy.defvjp(_cross_entropy_vjp, None)


# The constants of the losses' vjps, which depend on the targets alone: primitives without a gradient, so that
# a vjp gets them as arrays in a plain backward and as constant tensors in a recorded one, as every op's result.


@primitive(name="cross_entropy_target", differentiable=False)
def _target_q(x, t, *, ignore_index, label_smoothing):
    """q, the class distribution that cross-entropy compares softmax(x) with (x gives the shape and dtype)."""
    return _target_distribution(x, t, ignore_index, label_smoothing)[0]


@primitive(name="loss_sample_weights", differentiable=False)
def _target_weights(x, t, *, reduction, ignore_index):
    """Each sample's weight in the reduction (0 for an ignored target, else 1, or 1 / the number of valid
    targets for a mean) in x's dtype, shaped to broadcast along the class axis of x."""
    valid = t != ignore_index
    weights = valid.astype(x.dtype)
    if reduction == "mean":
        weights /= _count(valid, x.dtype)
    return _expand(weights, _class_axis(x))


@primitive(name="nll_loss_target", differentiable=False)
def _negative_onehot(x, t, *, ignore_index):
    """-onehot(t) along the class axis of x, rows of zeros for ignored targets: d (-x_t) / dx."""
    return -_onehot(x, t, ignore_index)[0]


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """Cross-entropy between logits ``input`` (C,), (N, C) or (N, C, d...) and ``target``, PyTorch's arguments.

    ``target`` holds either integer class indices ((), (N,) or (N, d...)) or class probabilities (a float
    tensor of the input's shape). With class indices t and per-class ``weight`` w (default all 1), each
    sample's loss is

        l_n = -(1 - e) w[t_n] log p[n, t_n] - (e / C) sum_c w_c log p[n, c],   p = softmax(input) on axis 1,

    and 0 for a target equal to ``ignore_index``; ``reduction="mean"`` divides the sum by sum_n w[t_n] over
    the samples not ignored (so NaN when every target is ignored, as PyTorch), "sum" sums, "none" keeps
    l_n. With probabilities q (smoothed to (1 - e) q + e / C), l_n = -sum_c w_c q[n, c] log p[n, c] and
    "mean" divides by the number of samples N * d..., not by the weights (PyTorch's rule);
    ``ignore_index`` is not allowed there. ``label_smoothing`` e is in [0, 1].

    The plain case (class indices, no weight) is one fused primitive with a stable log-softmax, finite
    and exact for logits of magnitude 1e4; weights and probabilities compose log_softmax with constant
    coefficients, so the gradients (also of probability targets) and second order come from those ops.
    ``size_average`` and ``reduce`` are PyTorch's deprecated spellings of ``reduction`` (with its warning).

    Raises ArgumentError for an unknown reduction or smoothing outside [0, 1], DTypeError for targets
    that are neither integers nor floats, ShapeError for mismatched shapes or a weight that is not one
    value per class, IndexOutOfRange for a class index out of range (on CUDA only in
    ``minigrad.detect_anomaly()``: elsewhere such a sample's loss is NaN, because checking would copy
    from the device and stall it in every step).
    """
    reduction = _legacy_reduction("cross_entropy", size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ArgumentError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    target = _as_target(target)
    weight_data = _class_weight("cross_entropy", input, weight)
    if _data(target).dtype.kind == "f":
        if tuple(target.shape) != tuple(input.shape):
            raise DTypeError(
                f"cross_entropy: target must hold integer class indices, got dtype {_data(target).dtype} with shape "
                f"{tuple(target.shape)} (class probabilities need the input's shape {tuple(input.shape)})"
            )
        if ignore_index != -100:
            raise ArgumentError(
                f"cross_entropy: ignore_index is not supported for class-probability targets, got {ignore_index}"
            )
        return _cross_entropy_probabilities(input, target, weight_data, reduction, float(label_smoothing))
    if weight is None:
        return _cross_entropy(
            input, target, reduction=reduction, label_smoothing=float(label_smoothing), ignore_index=int(ignore_index)
        )
    return _weighted_class_loss(
        "cross_entropy", log_softmax, input, target, weight_data, reduction, float(label_smoothing), int(ignore_index)
    )


# --- weights, class probabilities, legacy reductions ---------------------------------------------


def _data(a):
    """The array behind a tensor (the array itself otherwise)."""
    return a.array if hasattr(a, "array") and hasattr(a, "requires_grad") else a


def _legacy_reduction(op, size_average, reduce, reduction) -> str:
    """``reduction``, or PyTorch's mapping of its deprecated ``size_average`` / ``reduce`` flags, checked."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "none" if not reduce else "mean" if size_average else "sum"
        warnings.warn(
            f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
            UserWarning,
            stacklevel=3,
        )
    _check_reduction(op, reduction)
    return reduction


def _class_weight(op, input, weight):
    """``weight`` as an array of the logits' float dtype, checked to hold one value per class (None stays None)."""
    if weight is None:
        return None
    w = _data(weight)
    if not backend.is_array(w):
        w = np.asarray(w)
    shape = tuple(input.shape)
    classes = shape[_class_axis(input)] if len(shape) else None
    if w.ndim != 1 or classes is None or w.shape[0] != classes:
        raise ShapeError(
            f"{op}: weight must hold one value for each of the {classes} classes of the input of shape {shape}, "
            f"got a weight of shape {tuple(w.shape)}"
        )
    dtype = input.dtype if input.dtype.kind == "f" else np.dtype("float32")
    return w.astype(dtype, copy=False)


def _class_targets(op, x, t, ignore_index):
    """Check integer class targets (as the fused primitives do), raising errors that name ``op`` and the shapes."""
    try:
        _check_targets(x, t, ignore_index)
    except IndexError as exc:
        raise IndexOutOfRange(f"{op}: {exc} (input {tuple(x.shape)}, target {tuple(t.shape)})") from None
    except MinigradError as exc:
        raise type(exc)(f"{op}: {exc}") from None


def _weighted_class_loss(op, transform, input, target, w, reduction, label_smoothing, ignore_index):
    """Weighted (and smoothed) nll of ``transform(input)`` at class indices, as constants times one sum.

    Each sample's loss is sum_c k[n, c] y[n, c] with y = transform(input) along the class axis and the
    constant k = -((1 - e) w[t_n] onehot(t_n) + e w / C) (zero for ignored targets). A mean divides by
    sum_n w[t_n] over the valid targets.
    """
    x, t = _data(input), _data(target)
    _class_targets(op, x, t, ignore_index)
    xp = backend.xp_of(x)
    axis = _class_axis(x)
    classes = x.shape[axis]
    valid = t != ignore_index
    safe = xp.where(valid & (t >= 0) & (t < classes), t, 0)
    sample_w = w[safe] * valid  # w[t_n], 0 where ignored
    onehot = backend.onehot(t, x.shape, axis, w.dtype, ignore_index)
    coef = (1 - label_smoothing) * onehot * _expand(sample_w, axis)
    if label_smoothing:
        spread = w.reshape((classes,) + (1,) * (x.ndim - axis - 1)) * (label_smoothing / classes)
        coef = coef + spread * _expand(valid, axis)
    y = input if transform is None else transform(input, axis=axis)
    per_sample = (y * (-coef)).sum(axis=axis)
    if reduction == "none":
        return per_sample
    total = per_sample.sum()
    return total if reduction == "sum" else total / sample_w.sum()


def _cross_entropy_probabilities(input, target, w, reduction, label_smoothing):
    """-sum_c w_c q_c log softmax(input)_c with q = (1 - e) target + e / C; a mean over the samples."""
    if input.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class axis: shape (C,), (N, C) or (N, C, d...)")
    axis = _class_axis(input)
    classes = input.shape[axis]
    q = target
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / classes
    product = log_softmax(input, axis=axis) * q
    if w is not None:
        product = product * w.reshape((classes,) + (1,) * (input.ndim - axis - 1))
    per_sample = -product.sum(axis=axis)
    if reduction == "none":
        return per_sample
    return per_sample.sum() if reduction == "sum" else per_sample.mean()


# --- negative log-likelihood ----------------------------------------------------------------


@primitive(name="nll_loss", saves=(1,))
def _nll_loss(x, t, *, reduction, ignore_index):
    _check_targets(x, t, ignore_index)
    onehot, valid = _onehot(x, t, ignore_index)
    return _reduce(-(onehot * x).sum(axis=_class_axis(x)), valid, reduction)


def _nll_vjp(g, ans, x, t, *, reduction, ignore_index):
    """-onehot(t) times each sample's cotangent: g, g / (the number of valid targets) for a mean, or per sample."""
    d_loss = _negative_onehot(x, t, ignore_index=ignore_index)
    if reduction == "none":
        axis = _class_axis(x)
        return reshape(g, g.shape[:axis] + (1,) + g.shape[axis:]) * d_loss
    if reduction == "mean":
        g = g / _count_valid(t, dtype=x.dtype, ignore_index=ignore_index)
    return g * d_loss


@primitive(name="nll_loss_count", differentiable=False)
def _count_valid(t, *, dtype, ignore_index):
    """max(number of targets other than ``ignore_index``, 1) as a 0-d array of ``dtype``: a mean's divisor."""
    return _count(t != ignore_index, dtype)


_nll_loss.defvjp(_nll_vjp, None)


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    """Negative log-likelihood of log-probabilities ``input`` (C,), (N, C) or (N, C, d...) at integer ``target``.

    l_n = -w[t_n] input[n, t_n] (0 where t_n is ``ignore_index``), ``weight`` w one value per class
    (default 1); "mean" divides the sum by sum_n w[t_n] over the valid targets, as PyTorch. Raises as
    :func:`cross_entropy` does for class indices.
    """
    reduction = _legacy_reduction("nll_loss", size_average, reduce, reduction)
    target = _as_target(target)
    if weight is None:
        return _nll_loss(input, target, reduction=reduction, ignore_index=int(ignore_index))
    w = _class_weight("nll_loss", input, weight)
    return _weighted_class_loss("nll_loss", None, input, target, w, reduction, 0.0, int(ignore_index))


# --- binary cross-entropy with logits ------------------------------------------------------------


@primitive(name="binary_cross_entropy_with_logits", saves=(0, 1))
def _bce_with_logits(x, t, *, reduction):
    xp = backend.xp_of(x)
    loss = xp.maximum(x, 0) - x * t + xp.log1p(xp.exp(-xp.abs(x)))
    n = loss.size
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / max(n, 1)


def _bce_weight(g, x, reduction):
    if reduction == "mean":
        return g / max(int(np.prod(x.shape)), 1)
    return g


_bce_with_logits.defvjp(
    lambda g, ans, x, t, reduction: (sigmoid(x) - t) * _bce_weight(g, x, reduction),
    lambda g, ans, x, t, reduction: -x * _bce_weight(g, x, reduction),
)


def binary_cross_entropy_with_logits(
    input,
    target,
    weight=None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight=None,
):
    """Binary cross-entropy of logits and targets in [0, 1], without overflow for any logit.

    l = w [p t softplus(-x) + (1 - t) softplus(x)] with ``weight`` w (broadcast with the input) and
    ``pos_weight`` p (broadcast along the last, class dimension; default 1). Without p this is
    max(x, 0) - x t + log(1 + exp(-|x|)), d/dx = sigmoid(x) - t, d/dt = -x: one fused primitive. With p
    it is that plus (p - 1) t softplus(-x), the same primitive at target 1 (smooth, stable). "mean"
    averages over the elements of the (broadcast) loss. Raises ShapeError when target's shape is not
    the input's or a weight does not broadcast, ArgumentError for an unknown reduction.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(op, size_average, reduce, reduction)
    if tuple(input.shape) != tuple(getattr(target, "shape", ())):
        raise ShapeError(
            f"{op}: input shape {tuple(input.shape)} and target shape {tuple(getattr(target, 'shape', ()))} differ"
        )
    if weight is None and pos_weight is None:
        return _bce_with_logits(input, target, reduction=reduction)
    shapes = [tuple(input.shape)] + [tuple(np.shape(_data(w))) for w in (weight, pos_weight) if w is not None]
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(
            f"{op}: weight {tuple(np.shape(_data(weight))) if weight is not None else None} and pos_weight "
            f"{tuple(np.shape(_data(pos_weight))) if pos_weight is not None else None} must broadcast with the "
            f"input of shape {tuple(input.shape)}"
        ) from None
    loss = _bce_with_logits(input, target, reduction="none")
    if pos_weight is not None:
        x = _data(input)
        ones = backend.xp_of(x).ones(x.shape, x.dtype if x.dtype.kind == "f" else np.float32)
        loss = loss + (pos_weight - 1) * target * _bce_with_logits(input, ones, reduction="none")
    if weight is not None:
        loss = loss * weight
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()

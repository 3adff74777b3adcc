"""Connectionist temporal classification (Graves et al., 2006): ``F.ctc_loss`` and ``nn.CTCLoss``.

For one sequence, with per-step log-probabilities lp[t, c] (T steps, C classes incl. the blank) and a
target l of length S, the extended target l' = (blank, l_1, blank, l_2, ..., l_S, blank) has 2S + 1
states. The forward variables, in log space,

    alpha_0(0) = lp[0, blank],  alpha_0(1) = lp[0, l_1],  alpha_0(s) = -inf otherwise,
    alpha_t(s) = lp[t, l'_s] + logsumexp(alpha_(t-1)(s), alpha_(t-1)(s-1), alpha_(t-1)(s-2)),

the last term only where l'_s is not blank and l'_s != l'_(s-2) (a repeated label needs a blank between),
give -log p(l | x) = -logsumexp(alpha_(T-1)(2S), alpha_(T-1)(2S - 1)). The recursion runs for the whole
batch at once, one step per time step, each sequence frozen past its own input length; it is written
with logsumexp, indexing and where, so the gradient (and its derivative) comes from the tape. States
that no alignment reaches hold a large negative number instead of -inf, so their (zero) gradients
stay finite; a target that no alignment of the input can produce has loss +inf (0, with zero gradient,
under ``zero_infinity``), as PyTorch.

The gradient is the exact derivative with respect to ``log_probs``. PyTorch's native kernel returns that
plus exp(log_probs) at each step before the input length; the two agree once chained through the
``log_softmax`` that produces log_probs (the extra term's log_softmax backward is zero).
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import ArgumentError, DTypeError, ShapeError
from ..ops.elementwise import where
from ..ops.loss import _check_reduction
from ..ops.reduction import logsumexp
from ..ops.shape import concatenate, getitem, stack
from ..tensor import Tensor
from .module import Module

_UNREACHED = -1e30  # log-probability of a state no alignment reaches (finite, so gradients stay finite)


def _host_lengths(op: str, name: str, value, batch: int) -> np.ndarray:
    if isinstance(value, Tensor):
        array = backend.to_device(value.array, "cpu")
    else:
        array = np.asarray(value)
    if array.size and array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: {name} must hold integers, got dtype {array.dtype}")
    array = array.astype(np.int64).reshape(-1)
    if array.shape != (batch,):
        raise ShapeError(f"{op}: {name} must have one entry per sequence ({batch}), got {array.shape[0]}")
    if (array < 0).any():
        raise ArgumentError(f"{op}: {name} must be non-negative, got {array.tolist()}")
    return array


def ctc_loss(log_probs: Tensor, targets, input_lengths, target_lengths, blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:  # fmt: skip
    """The CTC loss -log p(target | log_probs), summed over all alignments, PyTorch's ``F.ctc_loss``.

    ``log_probs`` (T, N, C) (or unbatched (T, C)) are log-probabilities, usually ``log_softmax`` over C;
    ``targets`` is (N, S) padded or 1-D, the N targets concatenated; ``input_lengths`` and
    ``target_lengths`` (N,) give each sequence's T_n <= T and S_n (tensors, lists or tuples).
    ``reduction``: 'none' (N,), 'sum', or 'mean' (each loss divided by its target length, at least 1,
    then the batch mean). ``zero_infinity`` replaces infinite losses (impossible targets) by 0 and
    their gradients by zeros. See the module docstring for the recursion and for the gradient.
    Raises ShapeError for inconsistent shapes or lengths, ArgumentError for a blank outside [0, C),
    an unknown reduction or a negative length, DTypeError for non-integer targets or lengths.
    """
    op = "ctc_loss"
    _check_reduction(op, reduction)
    if not isinstance(log_probs, Tensor):
        raise ArgumentError(f"{op}: log_probs must be a Tensor, got {type(log_probs).__name__}")
    if log_probs.dtype.kind != "f":
        raise DTypeError(f"{op}: log_probs must be floating point, got dtype {log_probs.dtype}")
    unbatched = log_probs.ndim == 2
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{op}: log_probs must be (T, N, C) or (T, C), got shape {tuple(log_probs.shape)}")
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
    steps, batch, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise ArgumentError(f"{op}: blank must be in label range [0, {classes}), got {blank}")
    target_array = backend.to_device(targets.array, "cpu") if isinstance(targets, Tensor) else np.asarray(targets)
    if target_array.size and target_array.dtype.kind not in "iu":
        raise DTypeError(f"{op}: targets must hold integers, got dtype {target_array.dtype}")
    target_array = target_array.astype(np.int64)
    if unbatched:
        target_array = target_array.reshape(1, -1)
    in_len = _host_lengths(op, "input_lengths", input_lengths, batch)
    tg_len = _host_lengths(op, "target_lengths", target_lengths, batch)
    if (in_len > steps).any():
        raise ShapeError(f"{op}: Expected input_lengths to have value at most {steps}, but got {in_len.tolist()}")
    longest = int(tg_len.max()) if batch else 0
    labels = np.full((batch, longest), blank, dtype=np.int64)
    if target_array.ndim == 2:
        if target_array.shape[0] != batch or target_array.shape[1] < longest:
            raise ShapeError(
                f"{op}: targets of shape {target_array.shape} do not hold {batch} targets of lengths {tg_len.tolist()}"
            )
        for n, length in enumerate(tg_len):
            labels[n, :length] = target_array[n, :length]
    elif target_array.ndim == 1:
        if target_array.shape[0] != tg_len.sum():
            raise ShapeError(
                f"{op}: 1-D targets must hold sum(target_lengths) = {int(tg_len.sum())} labels, "
                f"got {target_array.shape[0]}"
            )
        offsets = np.concatenate([[0], np.cumsum(tg_len)])
        for n in range(batch):
            labels[n, : tg_len[n]] = target_array[offsets[n] : offsets[n + 1]]
    else:
        raise ShapeError(f"{op}: targets must be 1-D or 2-D, got shape {target_array.shape}")
    if labels.size and ((labels < 0) | (labels >= classes)).any():
        raise ArgumentError(f"{op}: target labels must be in [0, {classes}), got {labels.tolist()}")

    states = 2 * longest + 1
    extended = np.full((batch, states), blank, dtype=np.int64)
    extended[:, 1::2] = labels
    position = np.arange(states)
    skip = np.zeros((batch, states), dtype=bool)  # alpha(s - 2) may feed alpha(s)
    skip[:, 2:] = (extended[:, 2:] != blank) & (extended[:, 2:] != extended[:, :-2])
    start = (position[None, :] == 0) | ((position[None, :] == 1) & (tg_len[:, None] > 0))

    xp = backend.xp_of(log_probs.array)
    dev = log_probs.device

    def on_device(array):
        return backend.to_device(np.ascontiguousarray(array), dev)

    dtype = log_probs.dtype
    unreached = Tensor(xp.full((batch, states), _UNREACHED, dtype=dtype))
    rows = on_device(np.arange(batch).reshape(batch, 1))
    emit = getitem(log_probs, (slice(None), rows, on_device(extended)), in_bounds=True)  # (T, N, states)
    alpha = where(on_device(start & (in_len[:, None] > 0)), emit[0], unreached) if steps else unreached
    # a sequence of input length 0 starts (and ends) in state 0 with log-probability 0
    empty_input = on_device((in_len[:, None] == 0) & (position[None, :] == 0))
    alpha = where(empty_input, Tensor(xp.zeros((batch, states), dtype=dtype)), alpha)
    skip_mask, fill1 = on_device(skip), Tensor(xp.full((batch, 1), _UNREACHED, dtype=dtype))
    fill2 = Tensor(xp.full((batch, min(2, states)), _UNREACHED, dtype=dtype))
    for t in range(1, steps):
        from_prev = concatenate([fill1, alpha[:, : states - 1]], axis=1)
        from_skip = where(skip_mask, concatenate([fill2, alpha[:, : max(states - 2, 0)]], axis=1), unreached)
        new = logsumexp(stack([alpha, from_prev, from_skip], axis=0), axis=0) + emit[t]
        alpha = where(on_device((t < in_len)[:, None]), new, alpha)
    last = on_device(2 * tg_len)
    before = on_device(np.maximum(2 * tg_len - 1, 0))
    flat_rows = on_device(np.arange(batch))
    end_blank = getitem(alpha, (flat_rows, last), in_bounds=True)
    end_label = where(on_device(tg_len > 0), getitem(alpha, (flat_rows, before), in_bounds=True),
                             Tensor(xp.full((batch,), _UNREACHED, dtype=dtype)))  # fmt: skip
    loglik = logsumexp(stack([end_blank, end_label], axis=0), axis=0)
    loss = -loglik
    impossible = loglik.array < _UNREACHED / 2
    if bool(impossible.any()):
        replacement = 0.0 if zero_infinity else float("inf")
        loss = where(impossible, Tensor(xp.full((batch,), replacement, dtype=dtype)), loss)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    divisor = Tensor(on_device(np.maximum(tg_len, 1).astype(dtype)))
    return (loss / divisor).mean()


class CTCLoss(Module):
    """:func:`ctc_loss` as a loss module, PyTorch's ``nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False)``;
    ``forward(log_probs, targets, input_lengths, target_lengths)``."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__()
        _check_reduction("CTCLoss", reduction)
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs: Tensor, targets, input_lengths, target_lengths) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)  # fmt: skip


__all__ = ["ctc_loss", "CTCLoss"]

"""``torch.nn.utils.rnn``: batches of variable-length sequences, padded or packed.

A batch of B sequences of lengths l_0 >= l_1 >= ... (sorted, longest first) is *packed* by laying
out its time steps one after another, each time step holding only the sequences still running:

    data        = [x_0[0], x_1[0], ..., x_0[1], x_1[1], ..., x_0[T-1], ...]     (sum(l_i), *)
    batch_sizes = [b_0, b_1, ..., b_(T-1)],   b_t = #{i : l_i > t}               (int64, on the CPU)

so step t is ``data[o_t : o_t + b_t]`` with o_t = b_0 + ... + b_(t-1), and the active sequences
of a step are always a prefix of the batch. A batch in any other order is sorted first:
``sorted_indices`` is the permutation applied (sorted[j] = original[sorted_indices[j]]) and
``unsorted_indices`` its inverse, both None when the batch came sorted. The recurrent layers
(:class:`~minigrad.nn.RNN`, ``LSTM``, ``GRU``) take a :class:`PackedSequence` and run each step
on its b_t rows only, so padding never enters a state and h_n holds each sequence's state at
its own last step.

Everything is composed of slicing, concatenation, stacking and integer indexing, so the
gradient with respect to the data (and through the recurrent layers) comes from those
primitives; lengths and indices carry none.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from ... import backend
from ...errors import ArgumentError, ShapeError
from ...ops.shape import concatenate, getitem, stack
from ...tensor import Tensor, tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


def _host_ints(op: str, name: str, value) -> list:
    """A 1-d list of Python ints from a list, tuple, array or integer tensor."""
    if isinstance(value, Tensor):
        array = value.array
        if array.dtype.kind not in "iu":
            raise ArgumentError(f"{op}: {name} must hold integers, got dtype {array.dtype}")
        array = backend.to_device(array, "cpu")
    else:
        array = np.asarray(value)
        if array.size and array.dtype.kind not in "iu":
            raise ArgumentError(f"{op}: {name} must hold integers, got {value!r}")
    if array.ndim != 1:
        raise ShapeError(f"{op}: {name} must be 1-dimensional, got shape {tuple(array.shape)}")
    return [int(v) for v in array.tolist()]


def _index_tensor(values, device: str) -> Tensor:
    return Tensor(backend.to_device(np.asarray(values, dtype=np.int64), device))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation of 0..n-1 (None stays None): out[permutation[i]] = i."""
    if permutation is None:
        return None
    order = _host_ints("invert_permutation", "permutation", permutation)
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[np.asarray(order, dtype=np.int64)] = np.arange(len(order), dtype=np.int64)
    return _index_tensor(inverse, permutation.device if isinstance(permutation, Tensor) else "cpu")


def _select(x: Tensor, axis: int, indices: Tensor | None) -> Tensor:
    """x with its ``axis`` reordered by ``indices`` (differentiable; None: x itself)."""
    if indices is None:
        return x
    xp = backend.xp_of(x.array)
    index = xp.asarray(backend.to_device(indices.array, x.device))
    return getitem(x, (slice(None),) * axis + (index,), in_bounds=True)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences: ``(data, batch_sizes, sorted_indices, unsorted_indices)``.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand (as in PyTorch).
    ``data`` (sum of lengths, *) holds the time steps one after another, ``batch_sizes`` (int64,
    CPU) how many sequences each step holds, ``sorted_indices`` the order the batch was sorted
    into (None when it came sorted) and ``unsorted_indices`` its inverse (computed from
    ``sorted_indices`` when omitted).
    """

    __slots__ = ()

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None):  # fmt: skip
        if not isinstance(data, Tensor):
            raise ArgumentError(f"PackedSequence: data must be a Tensor, got {type(data).__name__}")
        if batch_sizes is None:
            raise ArgumentError("PackedSequence: batch_sizes is required (build one with pack_padded_sequence)")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = _index_tensor(_host_ints("PackedSequence", "batch_sizes", batch_sizes), "cpu")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    # --- moving and casting, as PyTorch's: the data moves/casts, the indices follow the device ---
    def to(self, *args, **kwargs) -> PackedSequence:
        """A PackedSequence whose data is ``data.to(*args, **kwargs)``; the indices move with it
        (``batch_sizes`` stays on the CPU). Returns ``self`` when nothing changes."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device)) if data.device != self.data.device else None
        if move is None:
            return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def cuda(self, device=None) -> PackedSequence:
        return self.to("cuda")

    def double(self) -> PackedSequence:
        return self.to(np.float64)

    def float(self) -> PackedSequence:
        return self.to(np.float32)

    def half(self) -> PackedSequence:
        return self.to(np.float16)

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on a CUDA device."""
        return self.data.device.startswith("cuda")


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:  # fmt: skip
    """Stack sequences of shapes (L_i, *) into one padded tensor (T, B, *) (or (B, T, *) with ``batch_first``).

    T = max L_i; the missing steps are ``padding_value``, after each sequence (``padding_side='right'``)
    or before it (``'left'``). Differentiable in the sequences. Raises ShapeError when the trailing
    dimensions differ, ArgumentError for an unknown ``padding_side`` or an empty list.
    """
    if padding_side not in ("left", "right"):
        raise ArgumentError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    if isinstance(sequences, Tensor):
        sequences = [sequences[k] for k in range(sequences.shape[0])] if sequences.ndim else [sequences]
    sequences = list(sequences)
    if not sequences:
        raise ArgumentError("pad_sequence: received an empty list of sequences")
    for k, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise ArgumentError(f"pad_sequence: sequence {k} must be a Tensor, got {type(s).__name__}")
        if s.ndim == 0:
            raise ShapeError(f"pad_sequence: sequence {k} is 0-dimensional; each needs a length dimension")
        if tuple(s.shape[1:]) != tuple(sequences[0].shape[1:]):
            raise ShapeError(
                f"pad_sequence: sequence {k} has trailing shape {tuple(s.shape[1:])}, sequence 0 has "
                f"{tuple(sequences[0].shape[1:])}; all must match"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = Tensor(backend.xp_of(s.array).full((missing, *s.shape[1:]), padding_value, dtype=s.dtype))
            s = concatenate([s, fill] if padding_side == "right" else [fill, s], axis=0)
        padded.append(s)
    return stack(padded, axis=0 if batch_first else 1)


def _check_lengths(op: str, lengths: list, batch: int, steps: int) -> None:
    if len(lengths) != batch:
        raise ShapeError(f"{op}: got {len(lengths)} lengths for a batch of {batch} sequences")
    if any(n <= 0 for n in lengths):
        raise ArgumentError(
            f"{op}: Length of all samples has to be greater than 0, but found an element in 'lengths' "
            f"that is <= 0 (lengths {lengths})"
        )
    if any(n > steps for n in lengths):
        raise ShapeError(f"{op}: a length in {lengths} exceeds the {steps} time steps of the input")


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
                         ) -> PackedSequence:  # fmt: skip
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) whose sequence b has ``lengths[b]`` steps.

    With ``enforce_sorted`` (default) the lengths must already be in decreasing order; otherwise the
    batch is sorted by decreasing length (stably) and the permutation kept in ``sorted_indices``.
    ``lengths`` is a list or a 1-d integer tensor. Differentiable in ``input``; the padding gets zero
    gradient. Raises ArgumentError for unsorted lengths with ``enforce_sorted`` or a length <= 0,
    ShapeError for a length beyond T or a count that is not B.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise ArgumentError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ShapeError(f"{op}: input must have a time and a batch dimension, got shape {tuple(input.shape)}")
    lengths = _host_ints(op, "lengths", lengths)
    if batch_first:
        input = input.transpose(0, 1)
    _check_lengths(op, lengths, input.shape[1], input.shape[0])
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise ArgumentError(
                f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is True "
                f"(got {lengths}). You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability."
            )
        sorted_indices = None
    else:
        order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
        sorted_indices = _index_tensor(order, input.device)
        lengths = [lengths[k] for k in order]
        input = _select(input, 1, sorted_indices)
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    data = concatenate([input[t, :b] for t, b in enumerate(batch_sizes)], axis=0)
    return PackedSequence(data, _index_tensor(batch_sizes, "cpu"), sorted_indices, None)


def _lengths_of(batch_sizes: list) -> list:
    """Each (sorted) sequence's length from the batch sizes: l_i = #{t : b_t > i}."""
    return [sum(1 for b in batch_sizes if b > i) for i in range(batch_sizes[0] if batch_sizes else 0)]


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:  # fmt: skip
    """Undo :func:`pack_padded_sequence`: returns ``(padded, lengths)``.

    ``padded`` is (T, B, *) (or (B, T, *) with ``batch_first``) in the batch's original order, the
    steps past each sequence's end filled with ``padding_value``; T is the longest length, or
    ``total_length`` when given (to pad to a fixed length, e.g. under DataParallel). ``lengths`` is an
    int64 CPU tensor in the original order. Differentiable in ``sequence.data``. Raises ArgumentError
    when ``total_length`` is shorter than the longest sequence.
    """
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise ArgumentError(f"{op}: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _host_ints(op, "batch_sizes", sequence.batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ArgumentError(
                f"{op}: Expected total_length to be at least the length of the longest sequence in input, "
                f"but got total_length={total_length} and max sequence length being {steps}"
            )
    batch = batch_sizes[0] if batch_sizes else 0
    xp = backend.xp_of(data.array)

    def fill(rows):
        return Tensor(xp.full((rows, *data.shape[1:]), padding_value, dtype=data.dtype))

    rows, offset = [], 0
    for b in batch_sizes:
        step = data[offset : offset + b]
        offset += b
        rows.append(concatenate([step, fill(batch - b)], axis=0) if b < batch else step)
    for _ in range(steps, steps if total_length is None else total_length):
        rows.append(fill(batch))
    padded = stack(rows, axis=0)
    lengths = _lengths_of(batch_sizes)
    if sequence.unsorted_indices is not None:
        padded = _select(padded, 1, sequence.unsorted_indices)
        lengths = [lengths[k] for k in _host_ints(op, "unsorted_indices", sequence.unsorted_indices)]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(np.asarray(lengths, dtype=np.int64))


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """Split a padded batch (T, B, *) (or (B, T, *)) into its B sequences, sequence b cut to ``lengths[b]`` steps."""
    op = "unpad_sequence"
    lengths = _host_ints(op, "lengths", lengths)
    if not isinstance(padded_sequences, Tensor) or padded_sequences.ndim < 2:
        raise ShapeError(f"{op}: padded_sequences must be a Tensor with a time and a batch dimension")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    if len(lengths) != padded_sequences.shape[0]:
        raise ShapeError(f"{op}: got {len(lengths)} lengths for a batch of {padded_sequences.shape[0]} sequences")
    if any(n < 0 or n > padded_sequences.shape[1] for n in lengths):
        raise ShapeError(f"{op}: lengths {lengths} must lie in [0, {padded_sequences.shape[1]}]")
    return [padded_sequences[b, :n] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) directly: ``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    sequences = list(sequences)
    if not sequences:
        raise ArgumentError("pack_sequence: received an empty list of sequences")
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """Undo :func:`pack_sequence`: the list of sequences, in the original order, each at its own length."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

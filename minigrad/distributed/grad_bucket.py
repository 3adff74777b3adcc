"""``GradBucket``: what a DistributedDataParallel communication hook is given, as ``torch.distributed.GradBucket``."""

from __future__ import annotations

from ..tensor import Tensor


class GradBucket:
    """One bucket of gradients that DistributedDataParallel is about to average, handed to a communication hook.

    ``buffer()`` is the bucket's flat 1-D tensor: the gradients of
    ``parameters()``, packed in that order (sharing memory with the bucket,
    so an in-place change, e.g. ``div_``, is what gets communicated);
    ``gradients()`` the same gradients as views of the buffer, each of its
    parameter's shape; ``index()`` the bucket's position (buckets are
    launched in index order on every rank) and ``is_last()`` whether it is
    the last (highest index) bucket, launched when the backward is almost
    done. ``set_buffer(tensor)`` writes ``tensor`` (same number of elements)
    into the buffer.

    The hook returns a :class:`minigrad.futures.Future` whose value is a
    tensor of the buffer's size: the averaged gradients, which DDP then
    copies back into the parameters' ``.grad``.
    """

    __slots__ = ("_index", "_buffer", "_params", "_offsets", "_is_last")

    def __init__(self, index: int, buffer: Tensor, params: list, offsets: list, is_last: bool):
        self._index, self._buffer, self._params, self._offsets, self._is_last = index, buffer, params, offsets, is_last

    def index(self) -> int:
        return self._index

    def buffer(self) -> Tensor:
        return self._buffer

    def gradients(self) -> list:
        flat = self._buffer.array
        return [
            Tensor._wrap(flat[o : o + p.numel()].reshape(tuple(p.shape)), vc=self._buffer._vc)
            for p, o in zip(self._params, self._offsets)
        ]

    def parameters(self) -> list:
        return list(self._params)

    def is_last(self) -> bool:
        return self._is_last

    def set_buffer(self, tensor: Tensor) -> None:
        from ..errors import ShapeError

        if tensor.numel() != self._buffer.numel():
            raise ShapeError(
                f"GradBucket.set_buffer: the tensor has {tensor.numel()} elements, the bucket {self._buffer.numel()}"
            )
        self._buffer.array[...] = tensor.array.reshape(-1)
        self._buffer._vc[0] += 1

    def __repr__(self) -> str:
        return f"<GradBucket {self._index} of {len(self._params)} parameters, {self._buffer.numel()} elements>"

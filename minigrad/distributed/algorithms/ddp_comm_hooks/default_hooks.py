"""The default DDP communication hooks, as ``torch.distributed.algorithms.ddp_comm_hooks.default_hooks``.

A hook is ``hook(state, bucket) -> Future``: ``state`` is what was given to
``register_comm_hook`` (here: the process group, or None for the default
one), ``bucket`` a :class:`minigrad.distributed.GradBucket`. The Future's
value is the bucket's averaged gradients. ``bf16_compress_hook`` is left
out: minigrad has no bfloat16 dtype.
"""

from __future__ import annotations

from ....tensor import float16
from ... import collectives
from ...grad_bucket import GradBucket

__all__ = ["allreduce_hook", "fp16_compress_hook", "fp16_compress_wrapper"]


def _world_size(process_group) -> int:
    from ...process_group import get_world_size

    return get_world_size(process_group)


def _allreduce_fut(process_group, tensor):
    """Divide ``tensor`` by the group size (first: keeps float16 from overflowing), start its allreduce: a Future."""
    tensor.div_(_world_size(process_group))
    work = collectives.all_reduce(tensor, group=process_group, async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0])


def allreduce_hook(process_group, bucket: GradBucket):
    """Average the bucket by one allreduce: DDP's own behaviour, as a hook (the same numbers as no hook).

    ``bucket.buffer() / world_size`` summed over the ranks, in place in the
    buffer; the Future's value is the buffer. ``process_group`` None means
    the default group.
    """
    return _allreduce_fut(process_group, bucket.buffer())


def fp16_compress_hook(process_group, bucket: GradBucket):
    """Halve the bytes on the wire: allreduce the bucket cast to float16 and divided by the group size.

    ``buffer.to(float16) / world_size`` is summed over the ranks, then
    copied back (cast to the buffer's dtype) into the buffer, which is the
    Future's value. The average carries float16's rounding (a relative
    error of about 2**-11 per value, more for values near float16's range
    limits: |g| / world_size must stay below 65504).
    """
    buffer = bucket.buffer()
    compressed = buffer.to(float16).div_(_world_size(process_group))

    def decompress(fut):
        buffer.copy_(fut.value()[0])  # in place, into the bucket's own memory
        return buffer

    return collectives.all_reduce(compressed, group=process_group, async_op=True).get_future().then(decompress)


def fp16_compress_wrapper(hook):
    """Wrap ``hook`` so that it runs on the bucket cast to float16, and its result is cast back (in place).

    ``fp16_compress_wrapper(allreduce_hook)`` behaves as ``fp16_compress_hook``.
    """

    def fp16_compress_wrapper_hook(state, bucket: GradBucket):
        buffer = bucket.buffer()
        half = buffer.to(float16)
        inner = GradBucket(bucket.index(), half, bucket._params, bucket._offsets, bucket.is_last())

        def decompress(fut):
            buffer.copy_(fut.value())
            return buffer

        return hook(state, inner).then(decompress)

    return fp16_compress_wrapper_hook

"""Collectives on tensors, as ``torch.distributed``'s: all_reduce, broadcast, all_gather, reduce_scatter.

Each works in place on the tensors it is given, outside autograd (as
PyTorch's do), and bumps the version counter of every tensor it writes, so a
node that saved one notices. NumPy arrays go to MPI through the buffer
protocol with mpi4py's upper-case methods: no copy when the array is
C-contiguous (a non-contiguous one goes through a contiguous copy). CuPy
arrays go through a host copy, unless the environment says the MPI library
is CUDA-aware (``MINIGRAD_MPI_CUDA_AWARE=1``: mpi4py then hands MPI the
device pointer through ``__cuda_array_interface__``); MPI offers no portable
way to ask.

Every rank must call the same collectives in the same order with tensors of
the same shape and dtype; MPI cannot always detect a mismatch (it may hang
or truncate). Setting ``MINIGRAD_DISTRIBUTED_DEBUG=DETAIL`` (PyTorch has
``TORCH_DISTRIBUTED_DEBUG``) makes every collective first compare the
ranks' shapes and dtypes, at the cost of one extra small allgather, and
raise a DistributedError naming the collective and the first rank that
differs.

``async_op=True`` starts the non-blocking MPI operation and returns a
:class:`Work`; the tensors hold the result once ``wait()`` returns.
"""

from __future__ import annotations

import os

from .. import backend
from ..errors import ArgumentError, DistributedError, DTypeError, ShapeError
from ..tensor import Tensor
from .process_group import ReduceOp, _group


class Work:
    """A started non-blocking collective: ``wait()`` blocks until it is done, ``is_completed()`` asks.

    ``wait()`` returns True, as PyTorch's does; anything left to do after
    MPI is finished (AVG's division, copying a host buffer back to the GPU
    or into a list of tensors) happens in it.
    """

    __slots__ = ("_request", "_finish", "_done", "op")

    def __init__(self, request, op: str, finish=None):
        self._request, self._finish, self._done, self.op = request, finish, False, op

    def wait(self, timeout=None) -> bool:
        if not self._done:
            self._request.Wait()
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        if self._done:
            return True
        if self._request.Test():
            self.wait()
        return self._done

    def __repr__(self) -> str:
        return f"<Work {self.op} {'done' if self._done else 'pending'}>"


def _debug() -> bool:
    return os.environ.get("MINIGRAD_DISTRIBUTED_DEBUG", "").upper() == "DETAIL"


def _cuda_aware() -> bool:
    return os.environ.get("MINIGRAD_MPI_CUDA_AWARE", "") == "1"


def _check_tensor(op: str, tensor, what: str = "tensor") -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: {what} must be a minigrad Tensor, got {type(tensor).__name__}")
    return tensor


class _Buffer:
    """The memory MPI reads and writes for one tensor, and how to put the result back.

    ``buf`` is the tensor's own array when MPI can use it directly (host and
    C-contiguous, or CUDA-aware MPI); otherwise a contiguous (host) copy that
    ``commit`` writes back. ``commit`` also bumps the version counter.
    """

    __slots__ = ("tensor", "buf", "copied")

    def __init__(self, tensor: Tensor, contents: bool = True):
        self.tensor = tensor
        array = tensor.array
        host = backend.is_host_array(array)
        if (host or _cuda_aware()) and array.flags.c_contiguous:
            self.buf, self.copied = array, False
        else:
            import numpy as np

            if contents:
                self.buf = np.ascontiguousarray(backend.to_device(array, "cpu"))
            else:
                self.buf = np.empty(array.shape, dtype=array.dtype)
            self.copied = True

    def commit(self) -> None:
        if self.copied:
            array = self.tensor.array
            array[...] = backend.to_device(self.buf, backend.device_of(array))
        self.tensor._vc[0] += 1


def _is_host(array) -> bool:
    return backend.is_host_array(array)


def _mpi_op(op: str, g, reduce_op, dtype):
    if not isinstance(reduce_op, ReduceOp):
        raise ArgumentError(
            f"{op}: op must be a ReduceOp (SUM, AVG, PRODUCT, MIN, MAX, BAND, BOR, BXOR), got {reduce_op!r}"
        )
    MPI = g.MPI
    kind = dtype.kind
    if reduce_op is ReduceOp.AVG and kind not in "fc":
        raise DTypeError(f"{op}: ReduceOp.AVG needs a floating dtype, got {dtype}; use SUM and divide")
    if reduce_op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind not in "iub":
        raise DTypeError(f"{op}: ReduceOp.{reduce_op.name} needs an integer or bool dtype, got {dtype}")
    if reduce_op in (ReduceOp.MIN, ReduceOp.MAX) and kind == "c":
        raise DTypeError(f"{op}: ReduceOp.{reduce_op.name} is not defined for the complex dtype {dtype}")
    return {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
        ReduceOp.BAND: MPI.BAND,
        ReduceOp.BOR: MPI.BOR,
        ReduceOp.BXOR: MPI.BXOR,
    }[reduce_op]


def _check_same(op: str, g, signature) -> None:
    """Under MINIGRAD_DISTRIBUTED_DEBUG=DETAIL: raise on every rank if the ranks' signatures differ."""
    if not _debug() or g.size == 1:
        return
    signatures = g.comm.allgather(signature)
    for r, s in enumerate(signatures):
        if s != signatures[0]:
            raise DistributedError(
                f"{op}: rank {r} called it with {s} but rank 0 with {signatures[0]}; every rank must pass "
                "tensors of the same shape and dtype"
            )


def _signature(*tensors) -> list:
    return [(tuple(t.shape), str(t.dtype)) for t in tensors]


def _sync_device(array) -> None:
    """Before MPI reads a CuPy array's memory directly, let the GPU finish writing it."""
    if not _is_host(array):
        backend.xp_of(array).cuda.get_current_stream().synchronize()


def _run(op: str, async_op: bool, start, blocking, finish):
    """Run a collective: ``start()`` returns an MPI request (async), ``blocking()`` does it at once."""
    if async_op:
        return Work(start(), op, finish)
    blocking()
    finish()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` across all ranks, in place: afterwards every rank holds the same result.

    ``op=ReduceOp.SUM`` gives ``sum_r tensor_r`` everywhere; ``AVG`` that
    divided by the world size; ``PRODUCT``, ``MIN``, ``MAX`` and the bitwise
    ops likewise elementwise. Returns None, or a :class:`Work` with
    ``async_op=True``. Raises DistributedError before init_process_group,
    DTypeError for an op the dtype has no meaning for.
    """
    g = _group("all_reduce", group)
    _check_tensor("all_reduce", tensor)
    mpi_op = _mpi_op("all_reduce", g, op, tensor.dtype)
    _check_same("all_reduce", g, _signature(tensor))
    b = _Buffer(tensor)
    _sync_device(b.buf)
    MPI = g.MPI

    def finish():
        if op is ReduceOp.AVG:
            b.buf /= g.size
        b.commit()

    return _run(
        "all_reduce",
        async_op,
        lambda: g.comm.Iallreduce(MPI.IN_PLACE, b.buf, mpi_op),
        lambda: g.comm.Allreduce(MPI.IN_PLACE, b.buf, mpi_op),
        finish,
    )


def broadcast(tensor: Tensor, src: int, group=None, async_op: bool = False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (in place).

    Raises ArgumentError when ``src`` is no rank, DistributedError before init.
    """
    g = _group("broadcast", group)
    _check_tensor("broadcast", tensor)
    if group_src is not None:
        src = group_src
    if not isinstance(src, int) or not 0 <= src < g.size:
        raise ArgumentError(f"broadcast: src={src!r} is not a rank of a world of size {g.size}")
    _check_same("broadcast", g, _signature(tensor))
    b = _Buffer(tensor, contents=g.rank == src)
    _sync_device(b.buf)
    return _run(
        "broadcast",
        async_op,
        lambda: g.comm.Ibcast(b.buf, root=src),
        lambda: g.comm.Bcast(b.buf, root=src),
        b.commit,
    )


def _gather_shapes(op: str, g, outputs, tensor, name: str) -> None:
    if len(outputs) != g.size:
        raise ArgumentError(f"{op}: {name} has {len(outputs)} tensors for a world of size {g.size}")
    for i, t in enumerate(outputs):
        _check_tensor(op, t, f"{name}[{i}]")
        if tuple(t.shape) != tuple(tensor.shape) or t.dtype != tensor.dtype:
            raise ShapeError(
                f"{op}: {name}[{i}] has shape {tuple(t.shape)} and dtype {t.dtype}, but the tensor has shape "
                f"{tuple(tensor.shape)} and dtype {tensor.dtype}; they must agree"
            )


def all_gather(tensor_list: list, tensor: Tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank.

    ``tensor_list`` holds world-size tensors of ``tensor``'s shape and dtype
    (ShapeError / ArgumentError otherwise). The ranks' tensors are gathered
    into one contiguous block, then copied into the list's tensors.
    """
    import numpy as np

    g = _group("all_gather", group)
    _check_tensor("all_gather", tensor)
    _gather_shapes("all_gather", g, tensor_list, tensor, "tensor_list")
    _check_same("all_gather", g, _signature(tensor))
    send = _Buffer(tensor)
    _sync_device(send.buf)
    if _is_host(send.buf):
        recv = np.empty((g.size, *tensor.shape), dtype=send.buf.dtype)
    else:
        recv = backend.xp_of(send.buf).empty((g.size, *tensor.shape), dtype=send.buf.dtype)

    def finish():
        for r, t in enumerate(tensor_list):
            array = t.array
            array[...] = recv[r] if _is_host(array) == _is_host(recv) else backend.to_device(recv[r], t.device)
            t._vc[0] += 1

    return _run(
        "all_gather",
        async_op,
        lambda: g.comm.Iallgather(send.buf, recv),
        lambda: g.comm.Allgather(send.buf, recv),
        finish,
    )


def _stacked_or_concatenated(op: str, g, big, small, big_name: str, small_name: str) -> None:
    """``big`` must be world-size copies of ``small``'s shape, stacked (size, *s) or concatenated (size*s0, ...)."""
    s, b = tuple(small.shape), tuple(big.shape)
    stacked = (g.size, *s)
    concatenated = (g.size * s[0], *s[1:]) if s else None
    if b not in (stacked, concatenated) or big.dtype != small.dtype:
        raise ShapeError(
            f"{op}: {big_name} has shape {b} and dtype {big.dtype}; with {small_name} of shape {s} and dtype "
            f"{small.dtype} and a world of size {g.size} it must have shape {stacked}"
            + (f" or {concatenated}" if concatenated else "")
            + f" and dtype {small.dtype}"
        )


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group=None, async_op: bool = False):
    """Gather every rank's ``input_tensor`` into ``output_tensor``: stacked (world, *shape) or concatenated along dim 0.

    Both layouts are the same bytes, so MPI writes straight into the output
    (no copy when it is a contiguous host array).
    """
    g = _group("all_gather_into_tensor", group)
    _check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    _check_tensor("all_gather_into_tensor", input_tensor, "input_tensor")
    _stacked_or_concatenated("all_gather_into_tensor", g, output_tensor, input_tensor, "output_tensor", "input_tensor")
    _check_same("all_gather_into_tensor", g, _signature(input_tensor))
    send, recv = _Buffer(input_tensor), _Buffer(output_tensor, contents=False)
    _sync_device(send.buf)
    return _run(
        "all_gather_into_tensor",
        async_op,
        lambda: g.comm.Iallgather(send.buf, recv.buf),
        lambda: g.comm.Allgather(send.buf, recv.buf),
        recv.commit,
    )


def reduce_scatter(output: Tensor, input_list: list, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Rank r's ``output`` becomes the reduction over all ranks of their ``input_list[r]``.

    ``input_list`` holds world-size tensors of ``output``'s shape and dtype;
    they are packed into one contiguous block for MPI's Reduce_scatter_block.
    """
    import numpy as np

    g = _group("reduce_scatter", group)
    _check_tensor("reduce_scatter", output, "output")
    _gather_shapes("reduce_scatter", g, input_list, output, "input_list")
    mpi_op = _mpi_op("reduce_scatter", g, op, output.dtype)
    _check_same("reduce_scatter", g, _signature(output))
    out = _Buffer(output, contents=False)
    if _is_host(out.buf):
        send = np.stack([backend.to_device(t.array, "cpu") for t in input_list])
    else:
        send = backend.xp_of(out.buf).stack([t.array for t in input_list])
        _sync_device(send)

    def finish():
        if op is ReduceOp.AVG:
            out.buf /= g.size
        out.commit()

    return _run(
        "reduce_scatter",
        async_op,
        lambda: g.comm.Ireduce_scatter_block(send, out.buf, mpi_op),
        lambda: g.comm.Reduce_scatter_block(send, out.buf, mpi_op),
        finish,
    )


def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False
):
    """Rank r's ``output`` becomes the reduction over ranks of the r-th block of ``input``.

    ``input`` is world-size blocks of ``output``'s shape, stacked (world,
    *shape) or concatenated along dim 0; MPI reads it directly.
    """
    g = _group("reduce_scatter_tensor", group)
    _check_tensor("reduce_scatter_tensor", output, "output")
    _check_tensor("reduce_scatter_tensor", input, "input")
    _stacked_or_concatenated("reduce_scatter_tensor", g, input, output, "input", "output")
    mpi_op = _mpi_op("reduce_scatter_tensor", g, op, output.dtype)
    _check_same("reduce_scatter_tensor", g, _signature(output))
    send, out = _Buffer(input), _Buffer(output, contents=False)
    _sync_device(send.buf)

    def finish():
        if op is ReduceOp.AVG:
            out.buf /= g.size
        out.commit()

    return _run(
        "reduce_scatter_tensor",
        async_op,
        lambda: g.comm.Ireduce_scatter_block(send.buf, out.buf, mpi_op),
        lambda: g.comm.Reduce_scatter_block(send.buf, out.buf, mpi_op),
        finish,
    )

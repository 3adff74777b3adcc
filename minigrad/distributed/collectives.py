"""Collectives on tensors, as ``torch.distributed``'s: all_reduce, reduce, broadcast, all_gather, gather, scatter,
reduce_scatter, all_to_all, point-to-point send/recv, and the object collectives.

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

Every collective takes ``group=`` (None: the default group; or a group from
:func:`new_group`); on a rank outside the group it warns and does nothing,
as PyTorch's. ``src``/``dst`` are global ranks, ``group_src``/``group_dst``
ranks within the group. When the group has a timeout (see
:func:`init_process_group`), every wait polls MPI and raises
DistributedError when it runs out.

The object collectives (``all_gather_object``, ``broadcast_object_list``,
``gather_object``, ``scatter_object_list``) send pickles, as PyTorch's: they
unpickle what the other ranks send, so use them only among trusted processes.
"""

from __future__ import annotations

import os
import pickle

from .. import backend
from ..errors import ArgumentError, DistributedError, DTypeError, ShapeError
from ..tensor import Tensor
from .process_group import ReduceOp, _Group, _member, _peer


class Work:
    """A started non-blocking collective: ``wait()`` blocks until it is done, ``is_completed()`` asks.

    ``wait()`` returns True, as PyTorch's does; anything left to do after
    MPI is finished (AVG's division, copying a host buffer back to the GPU
    or into a list of tensors) happens in it. ``wait(timeout)`` (a
    ``datetime.timedelta``) raises DistributedError when the operation has
    not finished in time (default: the group's timeout, if it has one).
    ``get_future()`` is a :class:`minigrad.futures.Future` whose value is
    the list of the output tensors, as PyTorch's.
    """

    __slots__ = ("_request", "_finish", "_done", "op", "_group", "_result", "_status")

    def __init__(self, request, op: str, finish=None, group: _Group | None = None, result=None, status=None):
        self._request, self._finish, self._done, self.op = request, finish, False, op
        self._group, self._result, self._status = group, [] if result is None else result, status

    def wait(self, timeout=None) -> bool:
        if not self._done:
            if self._group is None:
                self._request.Wait(self._status)
            else:
                self._group.wait(self._request, self.op, timeout, self._status)
            self._done = True
            if self._finish is not None:
                self._finish()
        return True

    def is_completed(self) -> bool:
        if self._done:
            return True
        if self._request.Test(self._status):
            self._done = True
            if self._finish is not None:
                self._finish()
        return self._done

    def result(self) -> list:
        """The output tensors (after ``wait()``)."""
        return self._result

    def get_future(self):
        """A Future that completes, with the list of output tensors, when this operation does."""
        from ..futures import Future

        future = Future()

        def drive():
            self.wait()
            future.set_result(self._result)

        def poll():
            if self.is_completed() and not future._done:
                future.set_result(self._result)

        if self._done:
            future.set_result(self._result)
        else:
            future._driver, future._poll = drive, poll
        return future

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


def _run(op: str, g: _Group, async_op: bool, start, blocking, finish, result=None):
    """Run a collective: ``start()`` returns an MPI request (async), ``blocking()`` does it at once.

    With a group timeout the blocking form is the started one, waited for with the deadline.
    """
    if async_op:
        return Work(start(), op, finish, g, result)
    if g.timeout is None:
        blocking()
    else:
        g.wait(start(), op)
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
    g = _member("all_reduce", group)
    if g is None:
        return None
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
        g,
        async_op,
        lambda: g.comm.Iallreduce(MPI.IN_PLACE, b.buf, mpi_op),
        lambda: g.comm.Allreduce(MPI.IN_PLACE, b.buf, mpi_op),
        finish,
        [tensor],
    )


def broadcast(tensor: Tensor, src: int | None = None, group=None, async_op: bool = False, group_src=None):
    """Copy rank ``src``'s ``tensor`` into every other rank's ``tensor`` (in place).

    ``src`` is a global rank (``group_src`` the rank within ``group``).
    Raises ArgumentError when ``src`` is no rank of the group, DistributedError before init.
    """
    g = _member("broadcast", group)
    if g is None:
        return None
    _check_tensor("broadcast", tensor)
    src = _peer("broadcast", g, src, group_src, "src")
    _check_same("broadcast", g, _signature(tensor))
    b = _Buffer(tensor, contents=g.rank == src)
    _sync_device(b.buf)
    return _run(
        "broadcast",
        g,
        async_op,
        lambda: g.comm.Ibcast(b.buf, root=src),
        lambda: g.comm.Bcast(b.buf, root=src),
        b.commit,
        [tensor],
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

    g = _member("all_gather", group)
    if g is None:
        return None
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
        g,
        async_op,
        lambda: g.comm.Iallgather(send.buf, recv),
        lambda: g.comm.Allgather(send.buf, recv),
        finish,
        tensor_list,
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
    g = _member("all_gather_into_tensor", group)
    if g is None:
        return None
    _check_tensor("all_gather_into_tensor", output_tensor, "output_tensor")
    _check_tensor("all_gather_into_tensor", input_tensor, "input_tensor")
    _stacked_or_concatenated("all_gather_into_tensor", g, output_tensor, input_tensor, "output_tensor", "input_tensor")
    _check_same("all_gather_into_tensor", g, _signature(input_tensor))
    send, recv = _Buffer(input_tensor), _Buffer(output_tensor, contents=False)
    _sync_device(send.buf)
    return _run(
        "all_gather_into_tensor",
        g,
        async_op,
        lambda: g.comm.Iallgather(send.buf, recv.buf),
        lambda: g.comm.Allgather(send.buf, recv.buf),
        recv.commit,
        [output_tensor],
    )


def reduce_scatter(output: Tensor, input_list: list, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False):
    """Rank r's ``output`` becomes the reduction over all ranks of their ``input_list[r]``.

    ``input_list`` holds world-size tensors of ``output``'s shape and dtype;
    they are packed into one contiguous block for MPI's Reduce_scatter_block.
    """
    import numpy as np

    g = _member("reduce_scatter", group)
    if g is None:
        return None
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
        g,
        async_op,
        lambda: g.comm.Ireduce_scatter_block(send, out.buf, mpi_op),
        lambda: g.comm.Reduce_scatter_block(send, out.buf, mpi_op),
        finish,
        [output],
    )


def reduce_scatter_tensor(
    output: Tensor, input: Tensor, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False
):
    """Rank r's ``output`` becomes the reduction over ranks of the r-th block of ``input``.

    ``input`` is world-size blocks of ``output``'s shape, stacked (world,
    *shape) or concatenated along dim 0; MPI reads it directly.
    """
    g = _member("reduce_scatter_tensor", group)
    if g is None:
        return None
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
        g,
        async_op,
        lambda: g.comm.Ireduce_scatter_block(send.buf, out.buf, mpi_op),
        lambda: g.comm.Reduce_scatter_block(send.buf, out.buf, mpi_op),
        finish,
        [output],
    )


# --- rooted collectives: reduce, gather, scatter ---------------------------------------------------


def _host_like(buf, shape, dtype):
    """An empty array beside ``buf`` (host, or the device of a CUDA-aware buffer)."""
    import numpy as np

    return np.empty(shape, dtype=dtype) if _is_host(buf) else backend.xp_of(buf).empty(shape, dtype=dtype)


def _write(t: Tensor, array) -> None:
    """Copy ``array`` into ``t`` (across devices if need be) and bump its version."""
    own = t.array
    own[...] = array if _is_host(own) == _is_host(array) else backend.to_device(array, backend.device_of(own))
    t._vc[0] += 1


def reduce(tensor: Tensor, dst: int | None = None, op: ReduceOp = ReduceOp.SUM, group=None, async_op: bool = False,
           group_dst: int | None = None):  # fmt: skip
    """Reduce ``tensor`` over the ranks into rank ``dst``'s ``tensor`` (in place); the others' stay as they were.

    ``op`` as :func:`all_reduce`'s (``AVG`` divides by the group size on
    ``dst``). ``dst`` is a global rank, 0 when both it and ``group_dst`` are
    None. PyTorch leaves the other ranks' tensors unspecified; MPI's
    ``MPI_Reduce`` does not touch them.
    """
    g = _member("reduce", group)
    if g is None:
        return None
    _check_tensor("reduce", tensor)
    root = _peer("reduce", g, dst, group_dst, "dst")
    mpi_op = _mpi_op("reduce", g, op, tensor.dtype)
    _check_same("reduce", g, _signature(tensor))
    mine = g.rank == root
    b = _Buffer(tensor)
    _sync_device(b.buf)
    send, recv = (g.MPI.IN_PLACE, b.buf) if mine else (b.buf, None)

    def finish():
        if mine:
            if op is ReduceOp.AVG:
                b.buf /= g.size
            b.commit()

    return _run(
        "reduce",
        g,
        async_op,
        lambda: g.comm.Ireduce(send, recv, mpi_op, root=root),
        lambda: g.comm.Reduce(send, recv, mpi_op, root=root),
        finish,
        [tensor],
    )


def _rooted_list(op: str, g: _Group, mine: bool, tensors, name: str, where: str) -> None:
    """PyTorch's rule: the list is given on the root rank and only there."""
    if mine and not tensors:
        raise ArgumentError(f"{op}: Argument ``{name}`` must be specified on {where} rank.")
    if not mine and tensors:
        raise ArgumentError(f"{op}: Argument ``{name}`` must NOT be specified on non-{where} ranks.")


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None, group=None,
           async_op: bool = False, group_dst: int | None = None):  # fmt: skip
    """Rank ``dst`` receives every rank's ``tensor``: ``gather_list[r]`` = group rank r's ``tensor``.

    ``gather_list`` (group-size tensors of ``tensor``'s shape and dtype) must
    be given on ``dst`` and only there (ArgumentError otherwise, PyTorch's
    rule); ``dst`` is a global rank, 0 by default.
    """
    g = _member("gather", group)
    if g is None:
        return None
    _check_tensor("gather", tensor)
    root = _peer("gather", g, dst, group_dst, "dst")
    mine = g.rank == root
    _rooted_list("gather", g, mine, gather_list, "gather_list", "destination")
    if mine:
        _gather_shapes("gather", g, gather_list, tensor, "gather_list")
    _check_same("gather", g, _signature(tensor))
    send = _Buffer(tensor)
    _sync_device(send.buf)
    recv = _host_like(send.buf, (g.size, *tensor.shape), send.buf.dtype) if mine else None

    def finish():
        if mine:
            for r, t in enumerate(gather_list):
                _write(t, recv[r])

    return _run(
        "gather",
        g,
        async_op,
        lambda: g.comm.Igather(send.buf, recv, root=root),
        lambda: g.comm.Gather(send.buf, recv, root=root),
        finish,
        list(gather_list or []),
    )


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None, group=None,
            async_op: bool = False, group_src: int | None = None):  # fmt: skip
    """Group rank r's ``tensor`` becomes rank ``src``'s ``scatter_list[r]`` (in place).

    ``scatter_list`` (group-size tensors of ``tensor``'s shape and dtype)
    must be given on ``src`` and only there (ArgumentError otherwise, as
    PyTorch); ``src`` is a global rank, 0 by default.
    """
    g = _member("scatter", group)
    if g is None:
        return None
    _check_tensor("scatter", tensor)
    root = _peer("scatter", g, src, group_src, "src")
    mine = g.rank == root
    _rooted_list("scatter", g, mine, scatter_list, "scatter_list", "source")
    if mine:
        _gather_shapes("scatter", g, scatter_list, tensor, "scatter_list")
    _check_same("scatter", g, _signature(tensor))
    out = _Buffer(tensor, contents=False)
    send = None
    if mine:
        import numpy as np

        if _is_host(out.buf):
            send = np.stack([backend.to_device(t.array, "cpu") for t in scatter_list])
        else:
            send = backend.xp_of(out.buf).stack([t.array for t in scatter_list])
            _sync_device(send)

    return _run(
        "scatter",
        g,
        async_op,
        lambda: g.comm.Iscatter(send, out.buf, root=root),
        lambda: g.comm.Scatter(send, out.buf, root=root),
        out.commit,
        [tensor],
    )


# --- all to all ----------------------------------------------------------------------------------


def _displacements(counts: list) -> list:
    out, total = [], 0
    for c in counts:
        out.append(total)
        total += c
    return out


def all_to_all(output_tensor_list: list, input_tensor_list: list, group=None, async_op: bool = False):
    """Every rank sends ``input_tensor_list[j]`` to group rank j, which receives it as ``output_tensor_list[i]``.

    Both lists hold group-size tensors of one dtype; the tensors may differ
    in size (``output_tensor_list[i]`` must have as many elements as rank i
    sends this rank, which MPI cannot check for you: a shortfall is MPI's
    truncation error). One ``MPI_Alltoallv`` of the packed tensors.
    """
    import numpy as np

    g = _member("all_to_all", group)
    if g is None:
        return None
    for name, tensors in (("output_tensor_list", output_tensor_list), ("input_tensor_list", input_tensor_list)):
        if len(tensors) != g.size:
            raise ArgumentError(f"all_to_all: {name} has {len(tensors)} tensors for a group of size {g.size}")
        for i, t in enumerate(tensors):
            _check_tensor("all_to_all", t, f"{name}[{i}]")
    dtype = input_tensor_list[0].dtype
    for name, tensors in (("output_tensor_list", output_tensor_list), ("input_tensor_list", input_tensor_list)):
        for i, t in enumerate(tensors):
            if t.dtype != dtype:
                raise DTypeError(
                    f"all_to_all: {name}[{i}] has dtype {t.dtype} but input_tensor_list[0] has {dtype}; "
                    "every tensor must have the same dtype"
                )
    _check_same("all_to_all", g, [str(dtype)])
    np_dtype = input_tensor_list[0].array.dtype  # a NumPy dtype for CuPy arrays too
    send_counts = [t.numel() for t in input_tensor_list]
    recv_counts = [t.numel() for t in output_tensor_list]
    send = np.empty(sum(send_counts), dtype=np_dtype)
    for t, offset, n in zip(input_tensor_list, _displacements(send_counts), send_counts):
        send[offset : offset + n] = backend.to_device(t.array, "cpu").reshape(-1)
    recv = np.empty(sum(recv_counts), dtype=np_dtype)
    s = [send, (send_counts, _displacements(send_counts))]
    r = [recv, (recv_counts, _displacements(recv_counts))]

    def finish():
        for t, offset, n in zip(output_tensor_list, _displacements(recv_counts), recv_counts):
            _write(t, recv[offset : offset + n].reshape(tuple(t.shape)))

    return _run(
        "all_to_all",
        g,
        async_op,
        lambda: g.comm.Ialltoallv(s, r),
        lambda: g.comm.Alltoallv(s, r),
        finish,
        list(output_tensor_list),
    )


def _splits(op: str, g: _Group, t: Tensor, sizes, name: str, what: str) -> list:
    """The dim-0 split sizes of ``t`` over the group: given (one per rank, summing to dim 0) or equal."""
    if t.ndim == 0:
        raise ShapeError(f"{op}: {what} must have at least one dimension, got a 0-d tensor")
    rows = t.shape[0]
    if sizes is None or len(sizes) == 0:
        if rows % g.size:
            raise ShapeError(
                f"{op}: {what} has {rows} rows along dim 0, which do not split evenly over a group of size {g.size}; "
                f"pass {name}"
            )
        return [rows // g.size] * g.size
    sizes = [int(x) for x in sizes]
    if len(sizes) != g.size or sum(sizes) != rows or min(sizes) < 0:
        raise ShapeError(
            f"{op}: {name}={sizes} must be {g.size} non-negative sizes summing to {what}'s dim 0 size {rows}"
        )
    return sizes


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: list | None = None,
                      input_split_sizes: list | None = None, group=None, async_op: bool = False):  # fmt: skip
    """``input`` cut along dim 0 (``input_split_sizes``, or evenly) goes block j to group rank j; ``output`` gets them.

    ``output``'s dim-0 blocks (``output_split_sizes``, or even) are what
    ranks 0, 1, ... sent this rank, in rank order. The other dims must agree.
    """
    g = _member("all_to_all_single", group)
    if g is None:
        return None
    _check_tensor("all_to_all_single", output, "output")
    _check_tensor("all_to_all_single", input, "input")
    if output.dtype != input.dtype or tuple(output.shape[1:]) != tuple(input.shape[1:]):
        raise ShapeError(
            f"all_to_all_single: output has shape {tuple(output.shape)} and dtype {output.dtype}, input "
            f"{tuple(input.shape)} and {input.dtype}; the dtypes and the dims after the first must agree"
        )
    ins = _splits("all_to_all_single", g, input, input_split_sizes, "input_split_sizes", "input")
    outs = _splits("all_to_all_single", g, output, output_split_sizes, "output_split_sizes", "output")
    _check_same("all_to_all_single", g, [(tuple(input.shape[1:]), str(input.dtype))])
    row = 1
    for d in input.shape[1:]:
        row *= d
    send, out = _Buffer(input), _Buffer(output, contents=False)
    _sync_device(send.buf)
    sc, rc = [n * row for n in ins], [n * row for n in outs]
    s = [send.buf, (sc, _displacements(sc))]
    r = [out.buf, (rc, _displacements(rc))]
    return _run(
        "all_to_all_single",
        g,
        async_op,
        lambda: g.comm.Ialltoallv(s, r),
        lambda: g.comm.Alltoallv(s, r),
        out.commit,
        [output],
    )


# --- point to point --------------------------------------------------------------------------------


def _tag(op: str, g: _Group, tag) -> int:
    if isinstance(tag, bool) or not isinstance(tag, int) or tag < 0:
        raise ArgumentError(f"{op}: tag must be a non-negative int, got {tag!r}")
    upper = g.comm.Get_attr(g.MPI.TAG_UB)
    if upper is not None and tag > upper:
        raise ArgumentError(f"{op}: tag={tag} exceeds this MPI library's largest tag {upper}")
    return tag


def _send(op: str, tensor, dst, group, tag, group_dst):
    g = _member(op, group)
    if g is None:
        return None, None
    _check_tensor(op, tensor)
    peer = _peer(op, g, dst, group_dst, "dst")
    if peer == g.rank:
        raise ArgumentError(
            f"{op}: Invalid destination rank: destination rank should not be the same as the rank of the current "
            "process."
        )
    b = _Buffer(tensor)
    _sync_device(b.buf)
    return g, Work(g.comm.Isend(b.buf, dest=peer, tag=_tag(op, g, tag)), op, lambda: b.tensor, g, [tensor])


def send(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` (global; ``group_dst`` within ``group``), matched by a ``recv`` with ``tag``.

    Returns once the data has left (MPI may keep small messages buffered);
    sending to oneself is an ArgumentError, as PyTorch's.
    """
    g, work = _send("send", tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def isend(tensor: Tensor, dst: int | None = None, group=None, tag: int = 0, group_dst: int | None = None):
    """As :func:`send`, without waiting: returns a :class:`Work`. Do not modify ``tensor`` before ``wait()``."""
    return _send("isend", tensor, dst, group, tag, group_dst)[1]


def _recv(op: str, tensor, src, group, tag, group_src):
    g = _member(op, group)
    if g is None:
        return None, None
    _check_tensor(op, tensor)
    MPI = g.MPI
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _peer(op, g, src, group_src, "src")
        if peer == g.rank:
            raise ArgumentError(
                f"{op}: Invalid source rank: source rank should not be the same as the rank of the current process."
            )
    b = _Buffer(tensor, contents=False)
    status = MPI.Status()
    work = Work(g.comm.Irecv(b.buf, source=peer, tag=_tag(op, g, tag)), op, b.commit, g, [tensor], status)
    return g, work


def recv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive into ``tensor`` (in place) what rank ``src`` sent with ``tag``; from any rank when ``src`` is None.

    Returns the sender's global rank (-1 on a rank outside ``group``), as PyTorch's.
    """
    g, work = _recv("recv", tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    return g.ranks[work._status.Get_source()]


def irecv(tensor: Tensor, src: int | None = None, group=None, tag: int = 0, group_src: int | None = None):
    """As :func:`recv`, without waiting: returns a :class:`Work`; ``tensor`` holds the message after ``wait()``."""
    return _recv("irecv", tensor, src, group, tag, group_src)[1]


# --- objects ---------------------------------------------------------------------------------------


def _pickled(obj):
    import numpy as np

    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)


def _blocking(g: _Group, op: str, start, blocking) -> None:
    if g.timeout is None:
        blocking()
    else:
        g.wait(start(), op)


def _allgather_bytes(op: str, g: _Group, data) -> list:
    """Every rank's byte array, on every rank: their lengths by Allgather, then the bytes by Allgatherv."""
    import numpy as np

    mine = np.array([data.size], dtype=np.int64)
    sizes = np.empty(g.size, dtype=np.int64)
    _blocking(g, op, lambda: g.comm.Iallgather(mine, sizes), lambda: g.comm.Allgather(mine, sizes))
    counts = sizes.tolist()
    recv = np.empty(sum(counts), dtype=np.uint8)
    r = [recv, (counts, _displacements(counts))]
    _blocking(g, op, lambda: g.comm.Iallgatherv(data, r), lambda: g.comm.Allgatherv(data, r))
    return [recv[o : o + n] for o, n in zip(_displacements(counts), counts)]


def all_gather_object(object_list: list, obj, group=None) -> None:
    """Fill ``object_list[r]`` with group rank r's ``obj`` (any picklable object), on every rank."""
    g = _member("all_gather_object", group)
    if g is None:
        return
    if len(object_list) != g.size:
        raise ArgumentError(
            f"all_gather_object: object_list has {len(object_list)} entries for a group of size {g.size}"
        )
    for r, data in enumerate(_allgather_bytes("all_gather_object", g, _pickled(obj))):
        object_list[r] = pickle.loads(data.tobytes())


def broadcast_object_list(object_list: list, src: int | None = None, group=None, device=None,
                          group_src: int | None = None) -> None:  # fmt: skip
    """Replace the entries of every rank's ``object_list`` by rank ``src``'s (picklable) objects, in place.

    Every rank passes a list of the same length (ArgumentError otherwise,
    raised on the rank whose list differs); ``device`` is accepted and unused.
    """
    import numpy as np

    g = _member("broadcast_object_list", group)
    if g is None:
        return
    root = _peer("broadcast_object_list", g, src, group_src, "src")
    mine = g.rank == root
    data = _pickled(list(object_list)) if mine else None
    size = np.array([0 if data is None else data.size], dtype=np.int64)
    op = "broadcast_object_list"
    _blocking(g, op, lambda: g.comm.Ibcast(size, root=root), lambda: g.comm.Bcast(size, root=root))
    if not mine:
        data = np.empty(int(size[0]), dtype=np.uint8)
    _blocking(g, op, lambda: g.comm.Ibcast(data, root=root), lambda: g.comm.Bcast(data, root=root))
    if mine:
        return
    objects = pickle.loads(data.tobytes())
    if len(objects) != len(object_list):
        raise ArgumentError(
            f"broadcast_object_list: rank {src if src is not None else root} sent {len(objects)} objects but this "
            f"rank's object_list has {len(object_list)} entries; every rank must pass a list of the same length"
        )
    object_list[:] = objects


def gather_object(obj, object_gather_list: list | None = None, dst: int | None = None, group=None,
                  group_dst: int | None = None) -> None:  # fmt: skip
    """Rank ``dst`` receives every rank's ``obj``: ``object_gather_list[r]`` = group rank r's (given on dst only)."""
    g = _member("gather_object", group)
    if g is None:
        return
    root = _peer("gather_object", g, dst, group_dst, "dst")
    mine = g.rank == root
    _rooted_list("gather_object", g, mine, object_gather_list, "object_gather_list", "destination")
    if mine and len(object_gather_list) != g.size:
        raise ArgumentError(
            f"gather_object: object_gather_list has {len(object_gather_list)} entries for a group of size {g.size}"
        )
    # an allgather of the bytes: simpler than a Gatherv after a gather of sizes, and as cheap for small objects
    every = _allgather_bytes("gather_object", g, _pickled(obj))
    if mine:
        for r, data in enumerate(every):
            object_gather_list[r] = pickle.loads(data.tobytes())


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group=None, group_src: int | None = None) -> None:  # fmt: skip
    """Group rank r's ``scatter_object_output_list[0]`` becomes rank ``src``'s ``scatter_object_input_list[r]``.

    The source's whole list is broadcast (simple, and cheap for the small objects this is meant for).
    """
    g = _member("scatter_object_list", group)
    if g is None:
        return
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ArgumentError(
            "scatter_object_list: Expected argument scatter_object_output_list to be a list of size at least 1."
        )
    root = _peer("scatter_object_list", g, src, group_src, "src")
    mine = g.rank == root
    if mine and (scatter_object_input_list is None or len(scatter_object_input_list) != g.size):
        raise ArgumentError(
            f"scatter_object_list: scatter_object_input_list must hold {g.size} objects on the source rank"
        )
    holder = [list(scatter_object_input_list) if mine else None]
    broadcast_object_list(holder, src=None, group=group, group_src=root)
    scatter_object_output_list[0] = holder[0][g.rank]

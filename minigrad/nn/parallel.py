"""Data-parallel training over MPI: :class:`DistributedDataParallel`, as ``torch.nn.parallel``'s.

Every rank holds a full copy of the model and runs forward and backward on
its own part of the batch; DistributedDataParallel makes the copies start
equal (rank 0's parameters and buffers are broadcast at wrap time) and stay
equal (after each backward every parameter's ``.grad`` is the mean over the
ranks of the ranks' gradients, so identical optimizer steps follow). With a
loss that is a mean over the local batch b, the averaged gradient is the
gradient of the mean over all N*b samples: N ranks with batch b train as one
process with batch N*b (up to rounding), unless the model computes
statistics over the batch (BatchNorm's are per rank, as in PyTorch).

How the averaging overlaps the backward. The parameters, in reverse order
of ``module.parameters()`` (roughly the order backward produces their
gradients), are cut into buckets of about ``bucket_cap_mb`` MiB (with the
default 25, the first bucket is 1 MiB, so communication starts early, as
PyTorch 2.13's), one dtype per bucket; PyTorch also rebuilds its buckets
after the first iteration in the order gradients arrived, which minigrad
does not. Each parameter has a post-accumulate-grad hook
(:meth:`minigrad.Tensor.register_post_accumulate_grad_hook`), which the
engine runs as soon as that parameter's ``.grad`` is complete; when all of
a bucket's gradients are in, they are copied into the bucket's flat buffer
and a non-blocking ``MPI_Iallreduce`` starts on it, while the backward goes
on with the earlier layers. Buckets are started in bucket order on every
rank (MPI requires the same order everywhere), and the hook that completes
the last bucket waits for all of them, divides by the world size and copies
the means back into the ``.grad`` arrays: when ``backward()`` returns, the
gradients are averaged. MPI libraries without a progress thread advance a
started allreduce inside MPI calls; each hook therefore also tests the
allreduces in flight.
"""

from __future__ import annotations

import contextlib

import numpy as np

from .. import backend
from ..distributed.collectives import _cuda_aware
from ..distributed.process_group import _group
from ..errors import ArgumentError, DistributedError
from ..grad_mode import is_grad_enabled
from .module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES


class _Bucket:
    """Parameters whose gradients are averaged by one allreduce of one flat buffer."""

    __slots__ = ("index", "params", "offsets", "flat", "ready", "request")

    def __init__(self, index: int, params: list, cuda_aware: bool):
        self.index, self.params = index, params
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        array = params[0].array
        on_host = backend.is_host_array(array) or not cuda_aware
        xp = np if on_host else backend.xp_of(array)
        self.flat = xp.empty(total, dtype=array.dtype)
        self.ready: set = set()
        self.request = None

    def pack(self) -> None:
        for p, offset in zip(self.params, self.offsets):
            g = p.grad.array.reshape(-1)
            self.flat[offset : offset + g.size] = backend.to_device(g, backend.device_of(self.flat))

    def unpack(self, world_size: int) -> None:
        self.flat /= world_size
        for p, offset in zip(self.params, self.offsets):
            g = p.grad.array
            g[...] = backend.to_device(self.flat[offset : offset + g.size], backend.device_of(g)).reshape(g.shape)
            p.grad._vc[0] += 1


class DistributedDataParallel(Module):
    """Wrap ``module`` so that the ranks of the default process group train it as one, averaging gradients.

    Arguments as PyTorch's: ``device_ids`` and ``output_device`` must stay
    None and ``dim`` 0 (one device per process, the batch split by the data
    loader); ``broadcast_buffers`` copies rank 0's buffers to every rank
    before each forward that follows a training forward (as PyTorch's);
    ``init_sync`` broadcasts rank 0's parameters and buffers now;
    ``bucket_cap_mb`` (default 25) sizes the buckets;
    ``find_unused_parameters=True`` is not supported yet (every parameter
    that requires grad must receive a gradient in every synchronized
    backward). ``process_group`` must be None (the default group).

    At wrap time every rank checks, with one allgather, that all ranks have
    the same parameter names, shapes and dtypes, and raises DistributedError
    naming the first mismatch and the rank. The wrapped module is
    ``self.module``, so ``state_dict`` keys carry the ``module.`` prefix, as
    PyTorch's. Inside :meth:`no_sync` the forward and backward accumulate
    gradients locally; the first synchronized backward after it averages
    the accumulated ``.grad``.

    Raises DistributedError before ``init_process_group``, and at the next
    forward when the previous synchronized backward gave some parameters a
    gradient and others none (naming those), as PyTorch's "Expected to have
    finished reduction in the prior iteration".
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        init_sync: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
    ):
        super().__init__()
        name = "DistributedDataParallel"
        if not isinstance(module, Module):
            raise TypeError(f"{name}: module must be a minigrad.nn.Module, got {type(module).__name__}")
        for arg, value, default in (("device_ids", device_ids, None), ("output_device", output_device, None)):
            if value is not default:
                raise ArgumentError(f"{name}: {arg} must be None (one device per process), got {value!r}")
        if dim != 0:
            raise ArgumentError(f"{name}: dim must be 0, got {dim!r}")
        if find_unused_parameters:
            raise ArgumentError(
                f"{name}: find_unused_parameters=True is not supported yet; every parameter that requires "
                "grad must get a gradient in each synchronized backward"
            )
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else bucket_cap_mb * 1024 * 1024
        bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not bucket_cap_mb > 0:
            raise ArgumentError(f"{name}: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        g = _group(name, process_group)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._g = g
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(named)
        if init_sync and g.size > 1:
            for t in [p for _, p in module.named_parameters()] + [b for _, b in module.named_buffers()]:
                self._broadcast(t)
        self._names = {id(p): n for n, p in named}
        self._buckets = self._make_buckets([p for _, p in named], first_cap, bucket_cap_mb * 1024 * 1024, _cuda_aware())
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._armed = False  # a synchronized forward ran: its backward averages the gradients
        self._next = 0  # the next bucket to start
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready) for _, p in named]

    # --- wrap time --------------------------------------------------------------------------------
    def _check_same_parameters(self, named) -> None:
        g = self._g
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        if g.size == 1:
            return
        every = g.comm.allgather(mine)
        reference = every[0]
        for rank, theirs in enumerate(every[1:], start=1):
            for i in range(max(len(reference), len(theirs))):
                a = reference[i] if i < len(reference) else None
                b = theirs[i] if i < len(theirs) else None
                if a != b:
                    raise DistributedError(
                        f"DistributedDataParallel: the ranks' models differ: parameter {i} is "
                        f"{_describe(b)} on rank {rank} but {_describe(a)} on rank 0; every rank must wrap "
                        "the same model"
                    )

    def _broadcast(self, tensor) -> None:
        array = tensor.array
        if backend.is_host_array(array) and array.flags.c_contiguous:
            self._g.comm.Bcast(array, root=0)
        else:
            host = np.ascontiguousarray(backend.to_device(array, "cpu"))
            self._g.comm.Bcast(host, root=0)
            array[...] = backend.to_device(host, backend.device_of(array))
        tensor._vc[0] += 1

    @staticmethod
    def _make_buckets(params, first_cap: float, cap_bytes: float, cuda_aware: bool) -> list:
        """Reverse parameter order, one dtype and device per bucket; a bucket closes once it holds >= its cap."""
        buckets, open_ = [], {}  # (dtype, device) -> [params, bytes]
        for p in reversed(params):
            key = (str(p.dtype), p.device)
            entry = open_.setdefault(key, [[], 0])
            entry[0].append(p)
            entry[1] += p.numel() * p.array.itemsize
            if entry[1] >= (first_cap if not buckets else cap_bytes):
                buckets.append(entry[0])
                del open_[key]
        buckets += [entry[0] for entry in open_.values()]
        return [_Bucket(i, ps, cuda_aware) for i, ps in enumerate(buckets)]

    # --- forward ----------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._armed and any(b.ready for b in self._buckets):  # a backward began reducing and did not finish
            missing = [name for i, name in self._names.items() if i not in self._bucket_of[i].ready]
            self._armed = False
            raise DistributedError(
                "DistributedDataParallel: the previous synchronized backward did not produce gradients for "
                f"the parameters {missing}, so their averaging never finished; every parameter that requires "
                "grad must take part in the loss of each synchronized backward"
            )
        if self.require_forward_param_sync and self.broadcast_buffers and self._g.size > 1:
            for b in self.module.buffers():
                self._broadcast(b)
        out = self.module(*inputs, **kwargs)
        synced = is_grad_enabled() and self.require_backward_grad_sync
        if synced and self._buckets:
            for b in self._buckets:
                b.ready.clear()
                b.request = None
            self._next = 0
            self._armed = True
        self.require_forward_param_sync = synced
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Forwards inside this block (and their backwards) accumulate ``.grad`` locally, without communication.

        The first forward-backward after the block averages the gradients
        accumulated in and after it, as PyTorch's ``no_sync``.
        """
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # --- backward ---------------------------------------------------------------------------------
    def _on_grad_ready(self, param) -> None:
        if not self._armed:
            return
        bucket = self._bucket_of[id(param)]
        if id(param) in bucket.ready:
            raise DistributedError(
                f"DistributedDataParallel: the parameter {self._names[id(param)]!r} received a gradient twice "
                "in one synchronized backward (a second backward through the same forward, or a parameter used "
                "in two graphs); run one backward per forward, or use no_sync()"
            )
        bucket.ready.add(id(param))
        for b in self._buckets[: self._next]:  # let MPI advance the allreduces in flight
            if b.request is not None:
                b.request.Test()
        comm, MPI = self._g.comm, self._g.MPI
        while self._next < len(self._buckets):
            b = self._buckets[self._next]
            if len(b.ready) < len(b.params):
                return
            b.pack()
            if not backend.is_host_array(b.flat):
                backend.xp_of(b.flat).cuda.get_current_stream().synchronize()
            b.request = comm.Iallreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
            self._next += 1
        for b in self._buckets:  # every bucket started: the backward's last gradient is in
            b.request.Wait()
            b.unpack(self._g.size)
        self._armed = False


def _describe(entry) -> str:
    if entry is None:
        return "missing"
    name, shape, dtype = entry
    return f"{name!r} of shape {shape} and dtype {dtype}"

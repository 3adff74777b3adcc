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
PyTorch 2.13's), one dtype per bucket. Each parameter has a
post-accumulate-grad hook
(:meth:`minigrad.Tensor.register_post_accumulate_grad_hook`), which the
engine runs as soon as that parameter's ``.grad`` is complete; when all of
a bucket's gradients are in, they are copied into the bucket's flat buffer,
divided by the world size, and a non-blocking ``MPI_Iallreduce`` (or the
registered communication hook) starts on it, while the backward goes on
with the earlier layers. Buckets are started in bucket order on every rank
(MPI requires the same order everywhere), and the hook that completes the
last bucket waits for all of them and copies the means back into the
``.grad`` arrays: when ``backward()`` returns, the gradients are averaged.
MPI libraries without a progress thread advance a started allreduce inside
MPI calls; each hook therefore also tests the allreduces in flight.

After the first synchronized backward the buckets are rebuilt in the order
the gradients actually became ready (rank 0's order, broadcast), as
PyTorch does, so that the first bucket to fill is the first one launched;
not with ``find_unused_parameters=True`` (unless ``static_graph``), as in
PyTorch, where that order may change from one iteration to the next.

Unused parameters. A parameter that gets no gradient in a synchronized
backward leaves its bucket incomplete: without ``find_unused_parameters``
the next forward raises PyTorch's "Expected to have finished reduction in
the prior iteration" error, with the indices and names of the parameters.
With ``find_unused_parameters=True`` each synchronized forward walks the
autograd graph back from the outputs; the parameters it does not reach are
marked ready (contributing zeros, or what ``.grad`` already holds from
``no_sync`` micro-batches) at the backward's first gradient. One small
allreduce of a used-map then tells which parameters no rank used: those
keep their ``.grad`` untouched (None stays None); the others get the mean,
as in PyTorch. ``static_graph=True`` does the walk in the first iteration
only and reuses its set of unused parameters after that (the graph must
not change: a parameter that then gets a gradient raises PyTorch's "Your
training graph has changed" error).

Uneven inputs. Inside ``with model.join():`` (a
:class:`minigrad.distributed.algorithms.Join`) a rank that runs out of
batches before the others shadows their iterations: each of its rounds
answers the collectives an active rank's forward and backward make (an
allreduce of 1 per forward, of which the joined ranks' 0 tell how many
are still active; a flag saying whether this iteration synchronizes; the
bucket rebuild and buffer broadcast when due; one allreduce of zeros per
bucket, or the communication hook on a zero bucket; the used-map). The
gradients are divided by the initial world size (PyTorch's default), or
with ``divide_by_initial_world_size=False`` by the number of ranks still
active, so the mean is over the samples actually seen. With join, buffers
are broadcast from the highest-ranked active rank (a joined rank's are
stale); once all have joined, the highest-ranked of the last joiners sends
its parameters and buffers to every rank, so all end with the same model.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np

from .. import backend
from ..distributed.algorithms.join import Join, Joinable, JoinHook, _JoinConfig, _sum_over_ranks
from ..distributed.collectives import _cuda_aware, all_gather_object
from ..distributed.grad_bucket import GradBucket
from ..distributed.process_group import ProcessGroup, _group, _non_member
from ..errors import ArgumentError, DistributedError, ShapeError
from ..grad_mode import is_grad_enabled
from ..tape import collect
from ..tensor import Tensor, tensor
from .module import Module

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_NAME = "DistributedDataParallel"


class _Bucket:
    """Parameters whose gradients are averaged by one allreduce of one flat buffer."""

    __slots__ = ("index", "members", "params", "offsets", "flat", "ready", "request", "future")

    def __init__(self, index: int, members: list, params: list, cuda_aware: bool):
        self.index, self.members, self.params = index, members, params  # members: parameter indices
        self.offsets, total = [], 0
        for p in params:
            self.offsets.append(total)
            total += p.numel()
        array = params[0].array
        on_host = backend.is_host_array(array) or not cuda_aware
        xp = np if on_host else backend.xp_of(array)
        self.flat = xp.empty(total, dtype=array.dtype)
        self.ready: set = set()
        self.request = self.future = None

    def view(self, k: int):
        p = self.params[k]
        return self.flat[self.offsets[k] : self.offsets[k] + p.numel()].reshape(tuple(p.shape))

    def views_grads(self) -> bool:
        """Whether the buffer lives where the gradients do (so ``.grad`` can be a view of it)."""
        return backend.device_of(self.flat) == backend.device_of(self.params[0].array)

    def pack(self, as_view: bool) -> None:
        """Copy the gradients into the buffer (zeros for a parameter without one); with ``as_view`` make them views."""
        as_view = as_view and self.views_grads()
        for k, p in enumerate(self.params):
            view = self.view(k)
            if p.grad is None:
                view[...] = 0
            elif p.grad.array is not view:
                view[...] = backend.to_device(p.grad.array, backend.device_of(view))
                if as_view:
                    p.grad = Tensor._wrap(view)


class DistributedDataParallel(Module, Joinable):
    """Wrap ``module`` so that the ranks of a process group train it as one, averaging gradients.

    Arguments as PyTorch 2.13's: ``device_ids`` and ``output_device`` must stay
    None and ``dim`` 0 (one device per process, the batch split by the data
    loader). ``forward_sync_buffers`` (default True) copies rank 0's buffers to
    every rank before each forward that follows a training forward;
    ``broadcast_buffers`` is its deprecated spelling (a FutureWarning, as
    PyTorch's; ``broadcast_buffers=False`` also leaves the buffers out of the
    wrap-time broadcast). ``init_sync`` broadcasts rank 0's parameters (and
    buffers) now. ``process_group``: the group to average over (None: the
    default group; a group from ``minigrad.distributed.new_group``).
    ``bucket_cap_mb`` (default 25) sizes the buckets; ``bucket_cap_mb_list``
    gives each bucket its own cap (MiB). ``find_unused_parameters`` and
    ``static_graph``: see the module docstring (with both, ``static_graph``
    decides, with PyTorch's warning). ``gradient_as_bucket_view=True`` makes
    each ``.grad`` a view into its bucket's buffer after the first synchronized
    backward, saving the copy back and the memory of a second gradient copy
    (not when the buffer is on the host and the gradients on a GPU).
    ``check_reduction`` (deprecated in PyTorch, ignored there) and
    ``batched_grad_copy`` (a copying strategy) are accepted; the other
    arguments of PyTorch's signature must keep their defaults.

    At wrap time every rank checks, with one allgather, that all ranks have
    the same parameter names, shapes and dtypes, and raises DistributedError
    naming the first mismatch and the rank. The wrapped module is
    ``self.module``, so ``state_dict`` keys carry the ``module.`` prefix, as
    PyTorch's. Inside :meth:`no_sync` the forward and backward accumulate
    gradients locally; the first synchronized backward after it averages
    the accumulated ``.grad``. :meth:`register_comm_hook` replaces the
    allreduce of each bucket by a hook of one's own.

    Raises DistributedError before ``init_process_group``, at the next
    forward when the previous synchronized backward left some parameters
    without a gradient (PyTorch's message, with their indices and names),
    and during a backward in which a parameter's gradient arrives twice.
    For uneven inputs across the ranks, see :meth:`join`.
    """

    def __init__(
        self,
        module: Module,
        device_ids=None,
        output_device=None,
        dim: int = 0,
        broadcast_buffers: bool | None = None,
        init_sync: bool = True,
        process_group=None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        delay_all_reduce_named_params=None,
        param_to_hook_all_reduce=None,
        mixed_precision=None,
        device_mesh=None,
        skip_all_reduce_unused_params: bool = False,
        bucket_cap_mb_list=None,
        batched_grad_copy: bool = False,
        forward_sync_buffers: bool | None = None,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"{_NAME}: module must be a minigrad.nn.Module, got {type(module).__name__}")
        for arg, value in (("device_ids", device_ids), ("output_device", output_device)):
            if value is not None:
                raise ArgumentError(f"{_NAME}: {arg} must be None (one device per process), got {value!r}")
        if dim != 0:
            raise ArgumentError(f"{_NAME}: dim must be 0, got {dim!r}")
        for arg, value in (
            ("delay_all_reduce_named_params", delay_all_reduce_named_params),
            ("param_to_hook_all_reduce", param_to_hook_all_reduce),
            ("mixed_precision", mixed_precision),
            ("device_mesh", device_mesh),
        ):
            if value is not None:
                raise ArgumentError(f"{_NAME}: {arg} is not supported; leave it at None, got {value!r}")
        if skip_all_reduce_unused_params:
            raise ArgumentError(f"{_NAME}: skip_all_reduce_unused_params=True is not supported")
        if _non_member(process_group):
            raise ArgumentError(f"{_NAME}: this rank is not a member of process_group (new_group gave it no group)")
        if broadcast_buffers is not None:
            if forward_sync_buffers is not None:
                warnings.warn(
                    "Both `broadcast_buffers` and `forward_sync_buffers` were specified. `broadcast_buffers` is "
                    "deprecated and its value is ignored when `forward_sync_buffers` is provided.",
                    FutureWarning,
                    stacklevel=2,
                )
            else:
                warnings.warn(
                    "`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: unlike "
                    "`broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at init.",
                    FutureWarning,
                    stacklevel=2,
                )
        if forward_sync_buffers is not None:
            self.forward_sync_buffers, init_sync_buffers = bool(forward_sync_buffers), True
        else:
            init_sync_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
            self.forward_sync_buffers = init_sync_buffers
        if bucket_cap_mb_list:  # bucket k closes at entry k (the last repeats); bucket_cap_mb is ignored, as PyTorch
            caps_mb = list(bucket_cap_mb_list)
            if not all(isinstance(c, (int, float)) and c > 0 for c in caps_mb):
                raise ArgumentError(f"{_NAME}: bucket_cap_mb_list must hold positive numbers, got {caps_mb!r}")
            bucket_cap_mb = max(caps_mb)
            caps = [c * 1024 * 1024 for c in caps_mb]
        else:
            default = bucket_cap_mb is None
            bucket_cap_mb = 25 if default else bucket_cap_mb
            if not bucket_cap_mb > 0:
                raise ArgumentError(f"{_NAME}: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
            caps = [_FIRST_BUCKET_BYTES if default else bucket_cap_mb * 1024 * 1024, bucket_cap_mb * 1024 * 1024]
        if static_graph and find_unused_parameters:
            warnings.warn(
                "You passed find_unused_parameters=true to DistributedDataParallel, `_set_static_graph` will detect "
                "unused parameters automatically, so you do not need to set find_unused_parameters=true, just be sure "
                "these unused parameters will not change during training loop while calling `_set_static_graph`.",
                stacklevel=2,
            )
        g = _group(_NAME, process_group)
        self.module = module
        self.process_group = process_group
        self.broadcast_buffers = self.forward_sync_buffers
        self.bucket_cap_mb = bucket_cap_mb
        self.find_unused_parameters = bool(find_unused_parameters)
        self.static_graph = bool(static_graph)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._g = g
        self._join_config = _JoinConfig.construct_disabled_join_config()
        self._divide_by_initial_world_size = True
        self._divisor = g.size  # what each bucket is divided by before the sum
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(named)
        if init_sync and g.size > 1:
            for _, p in module.named_parameters():
                self._broadcast(p)
            if init_sync_buffers:
                for _, b in module.named_buffers():
                    self._broadcast(b)
        self._params = [p for _, p in named]
        self._param_names = [n for n, _ in named]
        self._index = {id(p): i for i, p in enumerate(self._params)}
        self._caps = caps  # bytes: bucket k closes at caps[min(k, len(caps) - 1)]
        self._cuda_aware = _cuda_aware()
        self._set_buckets(list(range(len(self._params)))[::-1])
        self._comm_hook = self._comm_state = None
        self._armed = False  # a synchronized forward ran: its backward averages the gradients
        self._next = 0  # the next bucket to start
        self._first_grad = False  # the backward's first gradient came in (unused parameters are marked then)
        self._unused: list = []  # parameter indices the forward's graph walk did not reach
        self._static_unused: list | None = None  # static_graph: the first iteration's unused parameters
        self._static_used = None  # static_graph: the first iteration's global used-map
        self._used = np.zeros(len(self._params), dtype=np.int32)  # the local used-map since the last sync
        self._order: list = []  # the order the gradients became ready in, in the first synchronized backward
        self._rebuilt = False
        self._iterations = 0  # synchronized backwards finished
        self._warned_none_unused = False
        self._handles = [p.register_post_accumulate_grad_hook(self._on_grad_ready) for p in self._params]

    # --- wrap time --------------------------------------------------------------------------------
    def _check_same_parameters(self, named) -> None:
        g = self._g
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        if g.size == 1:
            return
        every = [None] * g.size
        all_gather_object(every, mine, group=self._public_group())  # under the group's timeout, if it has one
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

    def _broadcast(self, tensor, root: int = 0) -> None:
        """Overwrite ``tensor`` with group rank ``root``'s."""
        array = tensor.array
        g = self._g
        if backend.is_host_array(array) and array.flags.c_contiguous:
            _blocking(g, lambda: g.comm.Ibcast(array, root=root), lambda: g.comm.Bcast(array, root=root))
        else:
            host = np.ascontiguousarray(backend.to_device(array, "cpu"))
            _blocking(g, lambda: g.comm.Ibcast(host, root=root), lambda: g.comm.Bcast(host, root=root))
            array[...] = backend.to_device(host, backend.device_of(array))
        tensor._vc[0] += 1

    def _set_buckets(self, order: list) -> None:
        """Cut the parameters, taken in ``order`` (indices), into buckets: one dtype and device each, closed at the cap.

        The first bucket closes at the first cap (1 MiB by default), the
        others at ``bucket_cap_mb`` (with ``bucket_cap_mb_list``, bucket k at
        its k-th entry, the last entry for the rest); leftovers of each dtype
        form the last buckets.
        """
        buckets, open_ = [], {}  # (dtype, device) -> [indices, bytes]
        for i in order:
            p = self._params[i]
            key = (str(p.dtype), p.device)
            entry = open_.setdefault(key, [[], 0])
            entry[0].append(i)
            entry[1] += p.numel() * p.array.itemsize
            if entry[1] >= self._caps[min(len(buckets), len(self._caps) - 1)]:
                buckets.append(entry[0])
                del open_[key]
        buckets += [entry[0] for entry in open_.values()]
        self._buckets = [
            _Bucket(k, members, [self._params[i] for i in members], self._cuda_aware)
            for k, members in enumerate(buckets)
        ]
        self._bucket_of = {i: b for b in self._buckets for i in b.members}

    # --- communication hooks ------------------------------------------------------------------------
    def register_comm_hook(self, state: object, hook) -> None:
        """Average each bucket with ``hook(state, bucket)`` instead of DDP's allreduce, as PyTorch's.

        ``bucket`` is a :class:`minigrad.distributed.GradBucket` (its
        ``buffer()`` holds the bucket's summed-in local gradients, not yet
        divided by the world size); the hook returns a
        :class:`minigrad.futures.Future` whose value is a tensor of the
        buffer's size (or a one-tensor list, as a collective's
        ``get_future()`` holds), the averaged gradients, which DDP copies into
        ``.grad``. Hooks are called in bucket order on every rank. The
        defaults are in ``minigrad.distributed.algorithms.ddp_comm_hooks.default_hooks``
        (``allreduce_hook``, ``fp16_compress_hook``); ``state`` is passed
        through (those take the process group, or None).

        Can be called once, before the first forward; raises DistributedError
        on a second call, TypeError for a hook that is not callable.
        """
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        if self._comm_hook is not None:
            raise DistributedError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        self._comm_hook, self._comm_state = hook, state

    # --- forward ----------------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._armed and any(b.ready for b in self._buckets):  # a backward began reducing and did not finish
            self._armed = False
            raise DistributedError(self._unfinished_message())
        synced = is_grad_enabled() and self.require_backward_grad_sync
        joining = self._join_config.enable
        self._divisor = self._g.size
        if joining:
            work = Join.notify_join_context(self)
            if work is not None and not self._divide_by_initial_world_size:
                self._divisor = int(work.result()[0].item())  # the ranks still active
            # tells the joined ranks whether this iteration has a synchronized backward to shadow
            _sum_over_ranks(float(synced), self._public_group(), self.join_device)
        if synced and self._rebuild_due():
            self._rebuild()
        if self._syncs_buffers():
            root = self._common_rank(True) if joining else 0
            for b in self.module.buffers():
                self._broadcast(b, root)
        out = self.module(*inputs, **kwargs)
        if synced and self._buckets:
            for b in self._buckets:
                b.ready.clear()
                b.request = b.future = None
            self._next = 0
            self._armed = True
            self._first_grad = False
            self._unused = self._find_unused(out)
        self.require_forward_param_sync = synced
        return out

    def _tracks_usage(self) -> bool:
        """Whether the used-map is kept: find_unused_parameters (dynamic), or the first iteration of a static graph."""
        if self.static_graph:
            return self._static_unused is None
        return self.find_unused_parameters

    def _find_unused(self, out) -> list:
        if self.static_graph and self._static_unused is not None:
            return self._static_unused
        if not self._tracks_usage():
            return []
        reached = set()
        roots = _tensors_in(out)
        for t in roots:
            if t._node is None:
                reached.add(id(t))
        for node in collect(roots, check=False):
            inputs, parents = node.inputs, node.parents
            if inputs is None:
                continue
            for k, i in enumerate(node.needs):
                if parents[k] is None:
                    reached.add(id(inputs[i]))
        unused = [i for i, p in enumerate(self._params) if id(p) not in reached]
        if not unused and self.find_unused_parameters and not self.static_graph and not self._warned_none_unused:
            self._warned_none_unused = True
            warnings.warn(
                "find_unused_parameters=True was specified in DDP constructor, but did not find any unused parameters "
                "in the forward pass. This flag results in an extra traversal of the autograd graph every iteration, "
                " which can adversely affect performance. If your model indeed never has any unused parameters in the "
                "forward pass, consider turning this flag off. Note that this warning may be a false positive if your "
                "model has flow control causing later iterations to have unused parameters.",
                stacklevel=3,
            )
        return unused

    def _unfinished_message(self) -> str:
        missing = [i for i in range(len(self._params)) if i not in self._bucket_of[i].ready]
        head = "Expected to have finished reduction in the prior iteration before starting a new one. "
        if self.static_graph:
            text = head + (
                "This error indicates that your training graph has changed in this iteration, e.g., one parameter is "
                "used in first iteration, but then got unused in the second iteration. this is not compatible with "
                "static_graph set to True."
            )
        else:
            text = head + "This error indicates that your module has parameters that were not used in producing loss. "
            if self.find_unused_parameters:
                text += (
                    "Since `find_unused_parameters=True` is enabled, this likely  means that not all `forward` outputs "
                    "participate in computing loss. You can fix this by \n"
                )
            else:
                text += (
                    "You can enable unused parameter detection by passing the keyword argument "
                    "`find_unused_parameters=True` to `minigrad.nn.parallel.DistributedDataParallel`, and by \n"
                )
            text += (
                "making sure all `forward` function outputs participate in calculating loss. \n"
                "If you already have done the above, then the distributed data parallel module wasn't able to locate "
                "the output tensors in the return value of your module's `forward` function."
            )
        rank = self._g.ranks[self._g.rank]
        return (
            f"{text}\nParameter indices which did not receive grad for rank {rank}: {' '.join(map(str, missing))}"
            f"\nParameters which did not receive grad for rank {rank}: "
            + ", ".join(self._param_names[i] for i in missing)
        )

    def _syncs_buffers(self) -> bool:
        """Whether this forward broadcasts the buffers (after a training forward, with forward_sync_buffers)."""
        return (
            self.require_forward_param_sync
            and self.forward_sync_buffers
            and self._g.size > 1
            and any(True for _ in self.module.buffers())
        )

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

    # --- uneven inputs: join ------------------------------------------------------------------------
    def join(self, divide_by_initial_world_size: bool = True, enable: bool = True,
             throw_on_early_termination: bool = False) -> Join:  # fmt: skip
        """A :class:`minigrad.distributed.algorithms.Join` for this model alone: ``with model.join(): <loop>``.

        Ranks may then have different numbers of batches: one that finishes
        early shadows the others' collectives until all have finished (see
        the module docstring). ``divide_by_initial_world_size=False``
        averages over the ranks still active instead of all of them;
        ``throw_on_early_termination=True`` makes every rank raise as soon as
        one finishes. Each rank's iterations must be forward then backward
        (an evaluation forward under ``no_grad`` is fine; it is not shadowed
        as a backward).
        """
        return Join([self], enable, throw_on_early_termination,
                    divide_by_initial_world_size=divide_by_initial_world_size)  # fmt: skip

    def join_hook(self, **kwargs) -> JoinHook:
        """The hook :class:`Join` runs on a joined rank; takes ``divide_by_initial_world_size`` (default True)."""
        unknown = set(kwargs) - {"divide_by_initial_world_size"}
        if unknown:
            raise ArgumentError(f"{_NAME}.join_hook: unexpected keyword arguments {sorted(unknown)}")
        return _DDPJoinHook(self, kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return self._params[0].device if self._params else "cpu"

    @property
    def join_process_group(self):
        return self._public_group()

    def _common_rank(self, candidate: bool) -> int:
        """The highest group rank among those where ``candidate`` holds (on every rank; one allreduce)."""
        from ..distributed import ReduceOp, all_reduce

        t = tensor([self._g.rank if candidate else -1], dtype=np.int64)
        all_reduce(t, op=ReduceOp.MAX, group=self._public_group())
        if t.item() < 0:
            raise DistributedError(f"{_NAME}: join found no rank to take the model from (no rank was a candidate)")
        return int(t.item())

    def _shadow_iteration(self) -> None:
        """A joined rank's round: the collectives of an active rank's forward and backward, with zeros."""
        g = self._g
        synced = _sum_over_ranks(0.0, self._public_group(), self.join_device) > 0
        if synced and self._rebuild_due():
            self._rebuild()
        if self._syncs_buffers():
            root = self._common_rank(False)
            for b in self.module.buffers():
                self._broadcast(b, root)
        self.require_forward_param_sync = synced
        if not synced:
            return
        pending = []
        for b in self._buckets:
            zeros = backend.xp_of(b.flat).zeros_like(b.flat)
            if self._comm_hook is not None:
                last = b.index == len(self._buckets) - 1
                pending.append(self._comm_hook(self._comm_state, GradBucket(b.index, Tensor._wrap(zeros), b.params,
                                                                            b.offsets, last)))  # fmt: skip
            else:
                pending.append(g.comm.Iallreduce(g.MPI.IN_PLACE, zeros, g.MPI.SUM))
        if self._tracks_usage():
            used = np.zeros(len(self._params), dtype=np.int32)
            g.wait(g.comm.Iallreduce(g.MPI.IN_PLACE, used, g.MPI.MAX), _NAME)
            if self.static_graph and self._static_unused is None:
                self._static_unused = [i for i in range(len(self._params)) if used[i] == 0]
                self._static_used = used
        for work in pending:
            if self._comm_hook is not None:
                work.wait()
            else:
                g.wait(work, _NAME)
        self._iterations += 1

    def _sync_final_model(self, is_last_joiner: bool) -> None:
        """Every rank takes the parameters and buffers of the highest-ranked last joiner."""
        if self._g.size == 1:
            return
        root = self._common_rank(is_last_joiner)
        for p in self.module.parameters():
            self._broadcast(p, root)
        for b in self.module.buffers():
            self._broadcast(b, root)

    # --- bucket rebuild -----------------------------------------------------------------------------
    def _should_rebuild(self) -> bool:
        return (self.static_graph or not self.find_unused_parameters) and not self._rebuilt

    def _rebuild_due(self) -> bool:
        """Rebuild at the first synchronized forward after a synchronized backward (joined ranks count shadowed)."""
        return self._iterations > 0 and self._should_rebuild() and len(self._buckets) > 0

    def _rebuild(self) -> None:
        """Re-cut the buckets in the order rank 0's gradients became ready in the first iteration, as PyTorch."""
        from ..distributed.collectives import broadcast_object_list

        order = list(self._order)
        seen = set(order)
        order += [i for i in range(len(self._params))[::-1] if i not in seen]  # (none, unless a hook never ran)
        if self._g.size > 1:
            holder = [order]
            broadcast_object_list(holder, group_src=0, group=self._public_group())
            order = holder[0]
        self._set_buckets(order)
        self._rebuilt = True
        self._order = []

    def _public_group(self):
        return self.process_group if isinstance(self.process_group, ProcessGroup) else None

    # --- backward ---------------------------------------------------------------------------------
    def _on_grad_ready(self, param) -> None:
        i = self._index[id(param)]
        if self._tracks_usage():
            self._used[i] = 1  # in no_sync backwards too: a parameter used in any micro-batch is used
        if not self._armed:
            return
        if not self._first_grad:
            self._first_grad = True
            for j in self._unused:
                self._mark_ready(j)
        self._mark_ready(i)
        self._progress()

    def _mark_ready(self, i: int) -> None:
        bucket = self._bucket_of[i]
        if i in bucket.ready:
            self._armed = False
            if self.static_graph and self._static_unused is not None and i in self._static_unused:
                raise DistributedError(
                    "Your training graph has changed in this iteration, e.g., one parameter is unused in first "
                    "iteration, but then got used in the second iteration. this is not compatible with static_graph "
                    f"set to True. Parameter {self._param_names[i]!r} (index {i}) got a gradient."
                )
            raise DistributedError(
                f"Expected to mark a variable ready only once. Parameter {self._param_names[i]!r} (index {i}) has "
                "been marked as ready twice: it received a gradient twice in one synchronized backward (a second "
                "backward through the same forward, a parameter used outside the `forward` function, or one that "
                "find_unused_parameters found unused but that got a gradient after all); run one backward per "
                "forward, or use no_sync()"
            )
        bucket.ready.add(i)
        if self._should_rebuild() and self._iterations == 0:
            self._order.append(i)

    def _progress(self) -> None:
        for b in self._buckets[: self._next]:  # let MPI advance the allreduces in flight
            if b.request is not None:
                b.request.Test()
        while self._next < len(self._buckets):
            b = self._buckets[self._next]
            if len(b.ready) < len(b.params):
                return
            self._launch(b)
            self._next += 1
        self._finalize()

    def _launch(self, b: _Bucket) -> None:
        g = self._g
        b.pack(self.gradient_as_bucket_view)
        if self._comm_hook is not None:
            buffer = Tensor._wrap(b.flat)
            bucket = GradBucket(b.index, buffer, b.params, b.offsets, b.index == len(self._buckets) - 1)
            b.future = self._comm_hook(self._comm_state, bucket)
            return
        b.flat /= self._divisor  # before the sum, as PyTorch (and allreduce_hook): no overflow in low precision
        if not backend.is_host_array(b.flat):
            backend.xp_of(b.flat).cuda.get_current_stream().synchronize()
        b.request = g.comm.Iallreduce(g.MPI.IN_PLACE, b.flat, g.MPI.SUM)

    def _finalize(self) -> None:
        """Every bucket started (the backward's last gradient is in): wait, and write the means into ``.grad``."""
        g = self._g
        used = self._static_used  # static_graph after its first iteration: the first iteration's global used-map
        if self._tracks_usage():
            used = self._used.copy()
            if g.size > 1:
                g.wait(g.comm.Iallreduce(g.MPI.IN_PLACE, used, g.MPI.MAX), _NAME)
        for b in self._buckets:
            if b.future is not None:
                result = b.future.wait()
                if isinstance(result, (list, tuple)) and len(result) == 1:  # a collective's own future: [tensor]
                    result = result[0]
                if not isinstance(result, Tensor) or result.numel() != b.flat.size:
                    self._armed = False
                    raise ShapeError(
                        f"{_NAME}: the communication hook's Future for bucket {b.index} must hold a tensor of "
                        f"{b.flat.size} elements (the bucket's buffer), got "
                        + (f"{result.numel()} elements" if isinstance(result, Tensor) else type(result).__name__)
                    )
                if result.array is not b.flat:  # the hook's own tensor (allreduce_hook's is the buffer itself)
                    b.flat[...] = backend.to_device(result.array.reshape(-1), backend.device_of(b.flat))
            else:
                g.wait(b.request, _NAME)
            self._unpack(b, used)
        if self.static_graph and self._static_unused is None:
            self._static_unused = [i for i in range(len(self._params)) if self._used[i] == 0]
            self._static_used = used
        self._used[...] = 0
        self._armed = False
        self._iterations += 1

    def _unpack(self, b: _Bucket, used) -> None:
        as_view = self.gradient_as_bucket_view and b.views_grads()
        for k, (i, p) in enumerate(zip(b.members, b.params)):
            if used is not None and used[i] == 0:  # no rank used it: .grad stays as it was, as PyTorch
                continue
            view = b.view(k)
            if p.grad is None:
                p.grad = Tensor._wrap(view if as_view else backend.to_device(view, p.device).copy())
            elif p.grad.array is view:
                p.grad._vc[0] += 1
            else:
                p.grad.array[...] = backend.to_device(view, backend.device_of(p.grad.array))
                p.grad._vc[0] += 1


def _blocking(g, start, blocking) -> None:
    if g.timeout is None:
        blocking()
    else:
        g.wait(start(), _NAME)


def _tensors_in(out) -> list:
    """The tensors in a forward's output: a tensor, or nested lists, tuples and dicts of them."""
    found, stack = [], [out]
    while stack:
        x = stack.pop()
        if isinstance(x, Tensor):
            found.append(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return found


def _describe(entry) -> str:
    if entry is None:
        return "missing"
    name, shape, dtype = entry
    return f"{name!r} of shape {shape} and dtype {dtype}"


class _DDPJoinHook(JoinHook):
    """What a joined rank's DistributedDataParallel does: shadow the active ranks' iterations, then sync the model."""

    def __init__(self, ddp: DistributedDataParallel, divide_by_initial_world_size: bool):
        self.ddp = ddp
        ddp._divide_by_initial_world_size = bool(divide_by_initial_world_size)

    def main_hook(self) -> None:
        self.ddp._shadow_iteration()

    def post_hook(self, is_last_joiner: bool) -> None:
        self.ddp._sync_final_model(is_last_joiner)

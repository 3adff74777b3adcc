"""Processes that train together over MPI, in ``torch.distributed``'s spelling: ``import minigrad.distributed as dist``.

``init_process_group()`` under ``mpiexec -n N`` joins the N processes;
``get_rank``/``get_world_size`` say who is who; the collectives
(``all_reduce``, ``reduce``, ``broadcast``, ``all_gather``, ``gather``,
``scatter``, ``reduce_scatter``, ``all_to_all``, ``send``/``recv``, the
object collectives) combine tensors across them, in place, on the default
group or on one made by ``new_group``. :class:`minigrad.nn.parallel.DistributedDataParallel`
and :class:`minigrad.utils.data.DistributedSampler` build data-parallel
training on them. mpi4py is imported only when MPI is first needed; without
it, those calls raise MissingDependency saying ``pip install "minigrad[distributed]"``.
See docs/distributed.md.
"""

from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    all_to_all,
    all_to_all_single,
    broadcast,
    broadcast_object_list,
    gather,
    gather_object,
    irecv,
    isend,
    recv,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    scatter_object_list,
    send,
)
from .grad_bucket import GradBucket
from .process_group import (
    GroupMember,
    ProcessGroup,
    ReduceOp,
    barrier,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    new_group,
)

__all__ = [
    "ReduceOp", "Work", "init_process_group", "destroy_process_group", "is_available", "is_initialized",
    "get_rank", "get_world_size", "get_backend", "barrier",
    "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor",
    "ProcessGroup", "GroupMember", "group", "new_group", "get_group_rank", "get_global_rank", "get_process_group_ranks",
    "reduce", "gather", "scatter", "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv",
    "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list", "GradBucket",
]  # fmt: skip

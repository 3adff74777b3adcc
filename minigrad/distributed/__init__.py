"""Processes that train together over MPI, in ``torch.distributed``'s spelling: ``import minigrad.distributed as dist``.

``init_process_group()`` under ``mpiexec -n N`` joins the N processes;
``get_rank``/``get_world_size`` say who is who; the collectives
(``all_reduce``, ``broadcast``, ``all_gather``, ``reduce_scatter``, ...)
combine tensors across them, in place. :class:`minigrad.nn.parallel.DistributedDataParallel`
and :class:`minigrad.utils.data.DistributedSampler` build data-parallel
training on them. mpi4py is imported only when MPI is first needed; without
it, those calls raise MissingDependency saying ``pip install "minigrad[distributed]"``.
See docs/distributed.md.
"""

from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    broadcast,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .process_group import (
    ReduceOp,
    barrier,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
)

__all__ = [
    "ReduceOp", "Work", "init_process_group", "destroy_process_group", "is_available", "is_initialized",
    "get_rank", "get_world_size", "get_backend", "barrier",
    "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor", "reduce_scatter", "reduce_scatter_tensor",
]  # fmt: skip

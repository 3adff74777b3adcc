"""The process group: one MPI communicator (``MPI.COMM_WORLD``) and what PyTorch asks of it.

mpi4py is imported here, and only when :func:`init_process_group` (or
another function that needs MPI) runs: ``import minigrad`` and
``import minigrad.distributed`` never import it, so minigrad works where no
MPI is installed, and :func:`is_available` says whether it could.

Failure handling. An MPI job whose rank dies in an unhandled exception
would leave the other ranks waiting in their next collective forever.
:func:`init_process_group` therefore installs a ``sys.excepthook`` that
prints the traceback, as Python does, and then calls ``MPI.COMM_WORLD.Abort(1)``:
the MPI launcher (mpiexec, srun) then kills every rank, which exit non-zero
(mpiexec's own status is the failed rank's). This is what ``python -m mpi4py
script.py`` does too. :func:`destroy_process_group` puts the previous hook back.
A rank killed by a signal is noticed by the launcher itself, which ends the job.
"""

from __future__ import annotations

import enum
import importlib.util
import sys
import traceback

from ..errors import ArgumentError, DistributedError, MissingDependency

_INSTALL = 'pip install "minigrad[distributed]" (mpi4py and the mpich MPI library), then run under mpiexec -n N'


class ReduceOp(enum.Enum):
    """How a reducing collective combines the ranks' values, as ``torch.distributed.ReduceOp``.

    ``SUM`` and ``PRODUCT`` combine elementwise; ``AVG`` is the sum divided by
    the world size (floating dtypes only); ``MIN``/``MAX`` the elementwise
    extremes; ``BAND``/``BOR``/``BXOR`` bitwise, on integer and bool dtypes.
    """

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


class _Group:
    """The default (and only) group: the world communicator, its rank and size."""

    def __init__(self, comm, mpi, previous_hook):
        self.comm = comm
        self.MPI = mpi
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.previous_hook = previous_hook


_GROUP: _Group | None = None


def is_available() -> bool:
    """True when mpi4py can be imported, so :func:`init_process_group` can work (MPI is not started)."""
    return importlib.util.find_spec("mpi4py") is not None


def _mpi():
    """The ``mpi4py.MPI`` module, or a MissingDependency saying what to install."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise MissingDependency(f"minigrad.distributed needs mpi4py and an MPI library: {_INSTALL}") from exc
    return MPI


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout=None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    """Join the default process group: every process started by ``mpiexec -n N`` (rank 0 .. N-1).

    Only the ``"mpi"`` backend exists (``None`` means it): rank and world
    size come from MPI, so ``world_size`` and ``rank`` may be left at -1 or
    must agree with MPI's; ``init_method``, ``store`` and ``pg_options`` are
    for PyTorch's rendezvous and must stay None (MPI's launcher does the
    rendezvous). ``timeout`` and ``device_id`` are accepted and unused.
    Run without mpiexec, the process is a world of one.

    Also installs a ``sys.excepthook`` that aborts the whole MPI job when
    this rank dies of an unhandled exception (see the module docstring),
    so the other ranks stop instead of hanging.

    Raises MissingDependency without mpi4py, ArgumentError for another
    backend or a rank/world size that MPI contradicts, DistributedError
    when the group is already initialized.
    """
    global _GROUP
    if backend is not None and str(backend).lower() != "mpi":
        raise ArgumentError(f"init_process_group: backend {backend!r} is not available; minigrad has only 'mpi'")
    for name, value in (("init_method", init_method), ("store", store), ("pg_options", pg_options)):
        if value is not None:
            raise ArgumentError(
                f"init_process_group: {name} must be None with the MPI backend (mpiexec does the rendezvous), "
                f"got {value!r}"
            )
    if _GROUP is not None:
        raise DistributedError("init_process_group: trying to initialize the default process group twice")
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    for name, given, actual in (("world_size", world_size, comm.Get_size()), ("rank", rank, comm.Get_rank())):
        if given not in (-1, None) and given != actual:
            raise ArgumentError(
                f"init_process_group: {name}={given} but MPI says {actual}; leave it at -1 (MPI decides)"
            )
    previous = sys.excepthook
    _GROUP = _Group(comm, MPI, previous)

    def abort_on_exception(kind, value, tb, comm=comm, previous=previous):
        try:
            traceback.print_exception(kind, value, tb)
            sys.stderr.write(
                f"minigrad.distributed: rank {comm.Get_rank()} raised {kind.__name__}; aborting the MPI job\n"
            )
            sys.stderr.flush()
        finally:
            comm.Abort(1)

    sys.excepthook = abort_on_exception


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _GROUP is not None


def _group(op: str, group=None) -> _Group:
    """The default group, or a DistributedError naming ``op`` when there is none."""
    if group is not None and group is not _GROUP:
        raise ArgumentError(f"{op}: only the default group (group=None) is supported")
    if _GROUP is None:
        raise DistributedError(
            f"{op}: the default process group has not been initialized; call "
            "minigrad.distributed.init_process_group() first (under mpiexec -n N)"
        )
    return _GROUP


def get_rank(group=None) -> int:
    """This process's rank in the group, 0 .. world_size - 1. Raises DistributedError before init."""
    return _group("get_rank", group).rank


def get_world_size(group=None) -> int:
    """How many processes the group has. Raises DistributedError before init."""
    return _group("get_world_size", group).size


def get_backend(group=None) -> str:
    """The group's backend: always ``"mpi"``."""
    _group("get_backend", group)
    return "mpi"


def barrier(group=None, async_op: bool = False, device_ids=None):
    """Wait until every rank has called ``barrier``; with ``async_op`` return a Work to ``wait()`` on instead."""
    g = _group("barrier", group)
    if async_op:
        from .collectives import Work

        return Work(g.comm.Ibarrier(), "barrier")
    g.comm.Barrier()
    return None


def destroy_process_group(group=None) -> None:
    """Leave the default group (MPI itself stays up until the process exits, as mpi4py finalizes it then).

    Restores the ``sys.excepthook`` that :func:`init_process_group` replaced.
    Raises DistributedError when no group was initialized.
    """
    global _GROUP
    g = _group("destroy_process_group", group)
    g.comm.Barrier()
    if sys.excepthook is not g.previous_hook:
        sys.excepthook = g.previous_hook
    _GROUP = None

"""Process groups over MPI communicators: the default group (``MPI.COMM_WORLD``), ``new_group`` sub-groups.

mpi4py is imported here, and only when :func:`init_process_group` (or
another function that needs MPI) runs: ``import minigrad`` and
``import minigrad.distributed`` never import it, so minigrad works where no
MPI is installed, and :func:`is_available` says whether it could.

Groups. :func:`new_group` makes a :class:`ProcessGroup` of some ranks, an
MPI sub-communicator (``MPI_Comm_split``) whose ranks are the members in
increasing global rank, as PyTorch's. Every collective takes ``group=``;
``src``/``dst`` are global ranks, ``group_src``/``group_dst`` ranks within
the group. On a rank outside the group, ``new_group`` returns
``GroupMember.NON_GROUP_MEMBER``; ``get_rank``/``get_world_size`` of it are
-1 and a collective on it does nothing (a warning, and None), as PyTorch's.

Failure handling. An MPI job whose rank dies in an unhandled exception
would leave the other ranks waiting in their next collective forever.
:func:`init_process_group` therefore installs a ``sys.excepthook`` that
prints the traceback, as Python does, and then calls ``MPI.COMM_WORLD.Abort(1)``:
the MPI launcher (mpiexec, srun) then kills every rank, which exit non-zero
(mpiexec's own status is the failed rank's). This is what ``python -m mpi4py
script.py`` does too. :func:`destroy_process_group` puts the previous hook back.
A rank killed by a signal (SIGKILL, the out-of-memory killer) runs no code at
all: the launcher notices the dead process and kills the others (MPICH's
Hydra and Open MPI's mpiexec do; Hydra not under ``-disable-auto-cleanup``).
Where the launcher does not, a ``timeout`` (a ``datetime.timedelta``) given to
:func:`init_process_group` or :func:`new_group` is the watchdog: every wait
for a collective of that group then polls MPI and raises DistributedError
once the timeout has passed, which (unhandled) aborts the job in turn.
Without a timeout a wait is MPI's own ``MPI_Wait``, which never gives up.
"""

from __future__ import annotations

import datetime
import enum
import importlib.util
import sys
import time
import traceback
import warnings

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
    """A communicator and what the collectives need of it: this rank's place in it, its members, its timeout.

    ``rank`` and ``size`` are within the group; ``ranks`` lists the members'
    global ranks in group-rank order.
    """

    def __init__(self, comm, mpi, ranks: list, timeout=None, previous_hook=None):
        self.comm = comm
        self.MPI = mpi
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.ranks = list(ranks)
        self.timeout = timeout
        self.previous_hook = previous_hook

    def wait(self, request, op: str, timeout=None, status=None) -> None:
        """Wait for ``request`` to finish: ``MPI_Wait``, or with a timeout (this group's or the given one), polling.

        Raises DistributedError naming ``op`` once the timeout has passed
        (a rank died, or stopped calling the same collectives).
        """
        timeout = self.timeout if timeout is None else timeout
        if timeout is None:
            request.Wait(status)
            return
        seconds = _seconds("wait", timeout)
        deadline = time.monotonic() + seconds
        polls = 0
        while not request.Test(status):
            polls += 1
            if polls > 200:  # after a short spin, sleep between polls (up to 1 ms) so that waiting costs no core
                if time.monotonic() > deadline:
                    raise DistributedError(
                        f"{op}: timed out after {seconds:g} s (the process group's timeout) waiting for the other "
                        f"ranks (this is global rank {self.ranks[self.rank]}); a rank has died or is not calling the "
                        "same collectives in the same order"
                    )
                time.sleep(min(1e-3, 1e-5 * (polls - 200)))

    def global_rank(self, group_rank: int) -> int:
        return self.ranks[group_rank]


class ProcessGroup:
    """A group of ranks that collectives run on: ``dist.group.WORLD``, or one made by :func:`new_group`.

    ``rank()`` is this process's rank within the group and ``size()`` the
    number of members, as PyTorch's ``ProcessGroup`` methods.
    """

    def __init__(self, impl: _Group):
        self._impl = impl

    def rank(self) -> int:
        return self._impl.rank

    def size(self) -> int:
        return self._impl.size

    def name(self) -> str:
        return "mpi"

    def __repr__(self) -> str:
        return f"<ProcessGroup mpi ranks={self._impl.ranks} rank={self._impl.rank}>"


class _WorldProperty(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802 (PyTorch's name)
        """The default group, or None before :func:`init_process_group`."""
        return None if _GROUP is None else _WORLD[0]


class group(metaclass=_WorldProperty):  # noqa: N801 (PyTorch's name: dist.group.WORLD)
    """``group.WORLD`` is the default process group (None before init), as ``torch.distributed.group.WORLD``."""


class GroupMember(metaclass=_WorldProperty):
    """``GroupMember.WORLD`` is the default group; ``NON_GROUP_MEMBER`` what :func:`new_group` gives non-members."""

    NON_GROUP_MEMBER = -100  # PyTorch's value


_GROUP: _Group | None = None
_WORLD: list = [None]  # the ProcessGroup that wraps _GROUP


def _seconds(op: str, timeout) -> float:
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{op}: timeout must be a datetime.timedelta, got {type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ArgumentError(f"{op}: timeout must be positive, got {timeout}")
    return timeout.total_seconds()


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
    timeout: datetime.timedelta | None = None,
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
    rendezvous). ``device_id`` is accepted and unused.
    Run without mpiexec, the process is a world of one.

    ``timeout`` (a ``datetime.timedelta``): how long any wait for a
    collective of the default group may take before it raises
    DistributedError (see the module docstring: the watchdog for launchers
    that do not end a job whose rank died). None, the default, waits as
    long as MPI does: PyTorch's MPI backend ignores the timeout too, and a
    launcher that kills the job on a dead rank needs none.

    Also installs a ``sys.excepthook`` that aborts the whole MPI job when
    this rank dies of an unhandled exception (see the module docstring),
    so the other ranks stop instead of hanging.

    Raises MissingDependency without mpi4py, ArgumentError for another
    backend or a rank/world size that MPI contradicts, DistributedError
    when the group is already initialized, TypeError for a timeout that is
    no timedelta.
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
    if timeout is not None:
        _seconds("init_process_group", timeout)
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
    _GROUP = _Group(comm, MPI, list(range(comm.Get_size())), timeout, previous)
    _WORLD[0] = ProcessGroup(_GROUP)

    def abort_on_exception(kind, value, tb, comm=comm, previous=previous):
        try:
            traceback.print_exception(kind, value, tb)
            sys.stderr.write(
                f"minigrad.distributed: rank {comm.Get_rank()} raised {kind.__name__}; aborting the MPI job\n"
            )
            sys.stderr.flush()
            time.sleep(0.2)  # let the launcher forward the traceback: the abort tears down its output pipes
        finally:
            comm.Abort(1)

    sys.excepthook = abort_on_exception


def is_initialized() -> bool:
    """True between :func:`init_process_group` and :func:`destroy_process_group`."""
    return _GROUP is not None


def _world(op: str) -> _Group:
    if _GROUP is None:
        raise DistributedError(
            f"{op}: the default process group has not been initialized; call "
            "minigrad.distributed.init_process_group() first (under mpiexec -n N)"
        )
    return _GROUP


def _group(op: str, group=None) -> _Group:
    """The group's communicator (the default group for None), or a DistributedError naming ``op`` before init.

    Raises ArgumentError for what is no group; a group made by
    :func:`new_group` on a rank outside it has no communicator here: see :func:`_member`.
    """
    world = _world(op)
    if group is None:
        return world
    if isinstance(group, ProcessGroup):
        return group._impl
    raise ArgumentError(f"{op}: group must be None or a ProcessGroup from new_group(), got {group!r}")


def _non_member(group) -> bool:
    return isinstance(group, int) and not isinstance(group, bool) and group == GroupMember.NON_GROUP_MEMBER


def _member(op: str, group) -> _Group | None:
    """As :func:`_group`, but None (with PyTorch's warning) on a rank that is not in ``group``."""
    if _non_member(group):
        _world(op)
        warnings.warn(
            f"Running {op} on global rank {_GROUP.rank} which does not belong to the given group.", stacklevel=3
        )
        return None
    return _group(op, group)


def _peer(op: str, g: _Group, rank, group_rank, what: str) -> int:
    """The group rank of the peer a collective names: ``group_<what>`` (a group rank) or ``<what>`` (global)."""
    if rank is not None and group_rank is not None:
        raise ArgumentError(f"{op}: give {what} or group_{what}, not both")
    if group_rank is not None:
        if isinstance(group_rank, bool) or not isinstance(group_rank, int) or not 0 <= group_rank < g.size:
            raise ArgumentError(f"{op}: group_{what}={group_rank!r} is not a rank of a group of size {g.size}")
        return group_rank
    rank = 0 if rank is None else rank
    if isinstance(rank, bool) or not isinstance(rank, int) or rank not in g.ranks:
        if g.ranks == list(range(g.size)):
            raise ArgumentError(f"{op}: {what}={rank!r} is not a rank of a world of size {g.size}")
        raise ArgumentError(f"{op}: global rank {what}={rank!r} is not part of the group of ranks {g.ranks}")
    return g.ranks.index(rank)


def new_group(
    ranks=None,
    timeout: datetime.timedelta | None = None,
    backend: str | None = None,
    pg_options=None,
    use_local_synchronization: bool = False,
    group_desc: str | None = None,
    device_id=None,
):
    """A new process group of the global ``ranks`` (all ranks when None), as ``torch.distributed.new_group``.

    Every rank of the default group must call it, in the same order, with
    the same ``ranks`` (it splits MPI's world communicator, a collective);
    with ``use_local_synchronization=True`` only the members must
    (``MPI_Comm_create_group``, collective over the members alone; a
    non-member that calls it gets ``NON_GROUP_MEMBER`` at once). A
    member's rank in the group is its position among the sorted ``ranks``.
    Returns a :class:`ProcessGroup` on the members and
    ``GroupMember.NON_GROUP_MEMBER`` elsewhere. ``timeout`` is the
    group's watchdog (default: the default group's). ``backend`` must be
    None or ``"mpi"``.

    Raises ArgumentError for a rank outside the world or repeated, or an
    unavailable backend; DistributedError before init.
    """
    world = _world("new_group")
    if backend is not None and str(backend).lower() != "mpi":
        raise ArgumentError(f"new_group: backend {backend!r} is not available; minigrad has only 'mpi'")
    if pg_options is not None:
        raise ArgumentError(f"new_group: pg_options must be None with the MPI backend, got {pg_options!r}")
    if timeout is not None:
        _seconds("new_group", timeout)
    members = list(range(world.size)) if ranks is None else [int(r) for r in ranks]
    bad = [r for r in members if not 0 <= r < world.size]
    if bad:
        raise ArgumentError(f"new_group: ranks {bad} are not ranks of a world of size {world.size}")
    if len(set(members)) != len(members):
        raise ArgumentError(f"new_group: ranks {members} repeat a rank")
    members = sorted(members)
    MPI = world.MPI
    inside = world.rank in members
    if use_local_synchronization:
        if not inside:
            return GroupMember.NON_GROUP_MEMBER
        comm = world.comm.Create_group(world.comm.Get_group().Incl(members))
    else:
        comm = world.comm.Split(0 if inside else MPI.UNDEFINED, world.rank)
    if not inside:
        return GroupMember.NON_GROUP_MEMBER
    return ProcessGroup(_Group(comm, MPI, members, world.timeout if timeout is None else timeout))


def get_rank(group=None) -> int:
    """This process's rank in the group, 0 .. size - 1 (-1 where it is not a member). DistributedError before init."""
    if _non_member(group):
        _world("get_rank")
        return -1
    return _group("get_rank", group).rank


def get_world_size(group=None) -> int:
    """How many processes the group has (-1 where this rank is not a member). DistributedError before init."""
    if _non_member(group):
        _world("get_world_size")
        return -1
    return _group("get_world_size", group).size


def get_group_rank(group, global_rank: int) -> int:
    """The rank within ``group`` of the global rank ``global_rank``; ArgumentError if it is not a member."""
    g = _group("get_group_rank", group)
    if global_rank not in g.ranks:
        raise ArgumentError(f"get_group_rank: global rank {global_rank} is not part of the group of ranks {g.ranks}")
    return g.ranks.index(global_rank)


def get_global_rank(group, group_rank: int) -> int:
    """The global rank of ``group``'s rank ``group_rank``; ArgumentError if the group has no such rank."""
    g = _group("get_global_rank", group)
    if not 0 <= group_rank < g.size:
        raise ArgumentError(f"get_global_rank: group rank {group_rank} is not a rank of a group of size {g.size}")
    return g.ranks[group_rank]


def get_process_group_ranks(group) -> list:
    """The global ranks of ``group``'s members, in group-rank order."""
    return list(_group("get_process_group_ranks", group).ranks)


def get_backend(group=None) -> str:
    """The group's backend: always ``"mpi"``."""
    _group("get_backend", group)
    return "mpi"


def barrier(group=None, async_op: bool = False, device_ids=None, timeout: datetime.timedelta | None = None):
    """Wait until every rank of the group has called ``barrier``; with ``async_op`` return a Work to ``wait()`` on.

    ``timeout`` bounds this wait (default: the group's timeout), raising DistributedError when it passes.
    """
    from .collectives import Work

    g = _member("barrier", group)
    if g is None:
        return None
    if timeout is not None:
        _seconds("barrier", timeout)
    work = Work(g.comm.Ibarrier(), "barrier", group=g)
    if async_op:
        return work
    work.wait(timeout)
    return None


def destroy_process_group(group=None) -> None:
    """Leave the default group (MPI itself stays up until the process exits, as mpi4py finalizes it then).

    With the default group, restores the ``sys.excepthook`` that
    :func:`init_process_group` replaced. With a group from
    :func:`new_group`, frees its communicator (a collective of its members).
    Raises DistributedError when no group was initialized.
    """
    global _GROUP
    g = _member("destroy_process_group", group)
    if g is None:
        return
    if g is not _GROUP:
        g.comm.Free()
        return
    g.wait(g.comm.Ibarrier(), "destroy_process_group")
    if sys.excepthook is not g.previous_hook:
        sys.excepthook = g.previous_hook
    _GROUP = None
    _WORLD[0] = None

"""minigrad.distributed: the process group and the collectives.

- importing minigrad (and minigrad.distributed) never imports mpi4py; without it, init_process_group raises
  MissingDependency saying what to install; before init, every call names itself in a DistributedError;
- under ``mpiexec -n 2`` and ``-n 3`` (workers/collectives.py): every collective and ReduceOp against its closed
  form, blocking and async, in place (same array, version bumped), non-contiguous tensors, and the errors;
- under ``mpiexec -n 3`` (workers/collectives_more.py): reduce, gather, scatter, all_to_all(_single), send/recv
  with tags and from any source, the object collectives, new_group groups (group ranks, global src/dst,
  non-members), futures of async collectives, and the timeout watchdog.
"""

import subprocess
import sys

import pytest
from mpi_launch import check, requires_mpi, run_workers

import minigrad as mg
import minigrad.distributed as dist
from minigrad.errors import ArgumentError, DistributedError, MissingDependency


def test_import_does_not_import_mpi4py():
    code = "import sys, minigrad, minigrad.distributed, minigrad.nn; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_missing_mpi4py_says_what_to_install():
    code = (
        "import sys; sys.modules['mpi4py'] = None\n"
        "import minigrad.distributed as dist\n"
        "try:\n    dist.init_process_group()\nexcept ImportError as e:\n    print(type(e).__name__, e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("MissingDependency")
    assert 'pip install "minigrad[distributed]"' in out
    assert issubclass(MissingDependency, ImportError)


@pytest.mark.parametrize(
    "call",
    [
        lambda: dist.get_rank(),
        lambda: dist.get_world_size(),
        lambda: dist.barrier(),
        lambda: dist.all_reduce(mg.zeros(2)),
        lambda: dist.broadcast(mg.zeros(2), 0),
        lambda: dist.all_gather([mg.zeros(2)], mg.zeros(2)),
        lambda: dist.reduce_scatter(mg.zeros(2), [mg.zeros(2)]),
        lambda: dist.destroy_process_group(),
        lambda: dist.new_group([0]),
        lambda: dist.reduce(mg.zeros(2)),
        lambda: dist.gather(mg.zeros(2)),
        lambda: dist.scatter(mg.zeros(2)),
        lambda: dist.all_to_all([mg.zeros(2)], [mg.zeros(2)]),
        lambda: dist.all_to_all_single(mg.zeros(2), mg.zeros(2)),
        lambda: dist.send(mg.zeros(2), 1),
        lambda: dist.recv(mg.zeros(2)),
        lambda: dist.all_gather_object([None], 1),
        lambda: dist.broadcast_object_list([1]),
        lambda: dist.get_rank(dist.GroupMember.NON_GROUP_MEMBER),
    ],
)
def test_not_initialized_names_the_call(call):
    assert not dist.is_initialized()
    with pytest.raises(
        DistributedError, match="has not been initialized; call minigrad.distributed.init_process_group"
    ):
        call()


def test_backend_and_rendezvous_arguments():
    with pytest.raises(ArgumentError, match="backend 'nccl' is not available"):
        dist.init_process_group("nccl")
    with pytest.raises(ArgumentError, match="init_method must be None"):
        dist.init_process_group("mpi", init_method="tcp://localhost:1234")
    assert not dist.is_initialized()


def test_timeout_must_be_a_timedelta():
    with pytest.raises(TypeError, match="init_process_group: timeout must be a datetime.timedelta, got int"):
        dist.init_process_group(timeout=30)
    assert not dist.is_initialized()


def test_world_is_none_before_init():
    assert dist.group.WORLD is None and dist.GroupMember.WORLD is None
    assert dist.GroupMember.NON_GROUP_MEMBER == -100


def test_reduce_op_names():
    assert [op.name for op in dist.ReduceOp] == ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]


@requires_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_collectives_under_mpiexec(n):
    out = check(run_workers("collectives.py", n=n, timeout=120))
    for r in range(n):  # the ranks' lines may come in any order
        assert f"rank {r} of {n}: collectives ok" in out


@requires_mpi
def test_more_collectives_groups_and_timeout_under_mpiexec():
    out = check(run_workers("collectives_more.py", n=3, timeout=120))
    for part in (
        "reduce",
        "gather",
        "scatter",
        "all_to_all",
        "send and recv",
        "objects",
        "groups",
        "futures",
        "timeout",
    ):
        for r in range(3):
            assert f"rank {r} of 3: {part} ok" in out, (part, out)

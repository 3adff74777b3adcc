"""minigrad.distributed against torch.distributed: the same parameter names and defaults for every collective,
group function, DistributedDataParallel and its hooks; GradBucket's and Future's methods; Future's chaining."""

import inspect

import pytest

torch = pytest.importorskip("torch")

import torch.distributed as tdist  # noqa: E402
from torch.distributed.algorithms.ddp_comm_hooks import default_hooks as torch_hooks  # noqa: E402

import minigrad.distributed as dist  # noqa: E402
from minigrad.distributed.algorithms.ddp_comm_hooks import default_hooks  # noqa: E402
from minigrad.futures import Future  # noqa: E402
from minigrad.nn.parallel import DistributedDataParallel  # noqa: E402

FUNCTIONS = [
    "init_process_group", "destroy_process_group", "get_rank", "get_world_size", "barrier", "new_group",
    "get_group_rank", "get_global_rank", "get_process_group_ranks",
    "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor", "gather", "scatter",
    "reduce_scatter", "reduce_scatter_tensor", "all_to_all", "all_to_all_single", "send", "recv", "isend", "irecv",
    "all_gather_object", "broadcast_object_list", "gather_object", "scatter_object_list",
]  # fmt: skip


def _params(fn) -> list:
    out = []
    for p in inspect.signature(fn).parameters.values():
        if p.name.startswith("_"):  # private (torch's init_process_group has _ranks)
            continue
        default = p.default
        if default is inspect.Parameter.empty:
            default = "<required>"
        elif hasattr(default, "name") and "ReduceOp" in type(default).__name__ + type(default).__qualname__:
            default = f"ReduceOp.{default.name}"
        elif type(default).__name__ in ("RedOpType",):
            default = f"ReduceOp.{default.name}"
        elif hasattr(default, "total_seconds"):
            default = "timedelta"
        out.append((p.name, default))
    return out


@pytest.mark.parametrize("name", FUNCTIONS)
def test_signature_as_torch(name):
    ours, theirs = _params(getattr(dist, name)), _params(getattr(tdist, name))
    if name == "new_group":
        theirs = [p for p in theirs if p[0] != "sort_ranks"]  # a later addition: ranks are always sorted here
    assert ours == theirs


def test_ddp_signature_as_torch():
    ours = _params(DistributedDataParallel.__init__)
    theirs = _params(torch.nn.parallel.DistributedDataParallel.__init__)
    assert ours == theirs
    assert _params(DistributedDataParallel.register_comm_hook) == _params(
        torch.nn.parallel.DistributedDataParallel.register_comm_hook
    )


def test_default_hooks_as_torch_without_bfloat16():
    assert sorted(default_hooks.__all__) == sorted(n for n in torch_hooks.__all__ if not n.startswith("bf16"))
    for name in default_hooks.__all__:
        assert [p[0] for p in _params(getattr(default_hooks, name))] == [
            p[0] for p in _params(getattr(torch_hooks, name))
        ]


def test_grad_bucket_and_future_methods():
    theirs = {m for m in dir(tdist.GradBucket) if not m.startswith("_")}
    assert theirs <= {m for m in dir(dist.GradBucket) if not m.startswith("_")}
    for method in ("wait", "value", "then", "done", "set_result", "set_exception", "add_done_callback"):
        assert hasattr(torch.futures.Future, method) and hasattr(Future, method)
    assert dist.GroupMember.NON_GROUP_MEMBER == tdist.GroupMember.NON_GROUP_MEMBER


def test_future_chaining_as_torch():
    for cls in (torch.futures.Future, Future):
        order = []
        f = cls()
        g = f.then(lambda fut: fut.value() + 1)
        f.add_done_callback(order.append)
        f.set_result(1)
        assert g.wait() == 2 and order == [f] and f.done()
        e = cls()
        chained = e.then(lambda fut: fut.value())
        e.set_exception(ValueError("bad"))
        with pytest.raises(ValueError, match="bad"):
            e.wait()
        with pytest.raises(RuntimeError, match="Got the following error when running the callback: ValueError: bad"):
            chained.wait()


def test_join_api_as_torch():
    from torch.distributed.algorithms import Join as TorchJoin
    from torch.distributed.algorithms import Joinable as TorchJoinable

    from minigrad.distributed.algorithms import Join, Joinable

    ddp, tddp = DistributedDataParallel, torch.nn.parallel.DistributedDataParallel
    for name in ("join", "join_hook"):
        assert _params(getattr(ddp, name)) == _params(getattr(tddp, name))
    assert _params(Join.__init__) == _params(TorchJoin.__init__)
    assert _params(Join.notify_join_context) == _params(TorchJoin.notify_join_context)
    assert sorted(Joinable.__abstractmethods__) == sorted(TorchJoinable.__abstractmethods__)


def test_powersgd_api_as_torch():
    from torch.distributed.algorithms.ddp_comm_hooks import powerSGD_hook as torch_powersgd

    from minigrad.distributed.algorithms.ddp_comm_hooks import powerSGD_hook as powersgd

    assert _params(powersgd.PowerSGDState.__init__) == _params(torch_powersgd.PowerSGDState.__init__)
    for name in ("powerSGD_hook", "batched_powerSGD_hook"):
        assert _params(getattr(powersgd, name)) == _params(getattr(torch_powersgd, name))
    assert _params(powersgd._should_compress) == _params(torch_powersgd._should_compress)
    for args in ((6, 3, 1, 2), (6, 6, 3, 1), (2, 1, 1, 1), (100, 100, 4, 2)):
        assert powersgd._should_compress(*args) == torch_powersgd._should_compress(*args)

"""Worker (run by mpiexec from test_collectives.py): every collective against its closed form, on each rank.

Rank r contributes values that depend on r, so the expected result is
known on every rank without communication. Exits non-zero on any mismatch.
"""

import os

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.errors import ArgumentError, DistributedError, DTypeError, ShapeError

dist.init_process_group(backend="mpi")
r, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"


def base(rank, dtype="float64"):
    return (np.arange(6, dtype=dtype).reshape(2, 3) + 1) * (rank + 1)


every = [base(k) for k in range(n)]
for op, expect in [
    (dist.ReduceOp.SUM, sum(every)),
    (dist.ReduceOp.AVG, sum(every) / n),
    (dist.ReduceOp.PRODUCT, np.prod(every, axis=0)),
    (dist.ReduceOp.MIN, np.min(every, axis=0)),
    (dist.ReduceOp.MAX, np.max(every, axis=0)),
]:
    for dtype in ("float64", "float32"):
        t = mg.tensor(base(r, dtype))
        array, version = t.array, t._version
        dist.all_reduce(t, op=op)
        assert t.array is array, "all_reduce must work in place on the tensor's own array"
        assert t._version == version + 1, "all_reduce must bump the version counter"
        np.testing.assert_allclose(t.numpy(), expect.astype(dtype), rtol=1e-6, err_msg=f"all_reduce {op} {dtype}")
        t = mg.tensor(base(r, dtype))
        work = dist.all_reduce(t, op=op, async_op=True)
        assert work.wait() is True and work.is_completed()
        np.testing.assert_allclose(t.numpy(), expect.astype(dtype), rtol=1e-6, err_msg=f"async all_reduce {op}")

ints = mg.tensor(np.array([1 << r, 3], dtype=np.int64))
dist.all_reduce(ints, op=dist.ReduceOp.BOR)
assert ints.numpy().tolist() == [sum(1 << k for k in range(n)), 3]

# a non-contiguous tensor goes through a contiguous copy, and the result lands in the view
full = mg.tensor(np.stack([base(r), -np.ones((2, 3))], axis=-1))
view = full[..., 0]
assert not view.array.flags.c_contiguous
dist.all_reduce(view)
np.testing.assert_allclose(full.numpy()[..., 0], sum(every))
np.testing.assert_allclose(full.numpy()[..., 1], -1.0)

# broadcast from every source, blocking and not
for src in range(n):
    t = mg.tensor(base(r))
    dist.broadcast(t, src=src)
    np.testing.assert_array_equal(t.numpy(), base(src))
    t = mg.tensor(base(r))
    dist.broadcast(t, src, async_op=True).wait()
    np.testing.assert_array_equal(t.numpy(), base(src))

# all_gather into a list, and into one tensor (stacked and concatenated)
out = [mg.zeros(2, 3, dtype=mg.float64) for _ in range(n)]
dist.all_gather(out, mg.tensor(base(r)))
for k in range(n):
    np.testing.assert_array_equal(out[k].numpy(), base(k))
stacked = mg.zeros(n, 2, 3, dtype=mg.float64)
dist.all_gather_into_tensor(stacked, mg.tensor(base(r)))
np.testing.assert_array_equal(stacked.numpy(), np.stack(every))
concatenated = mg.zeros(2 * n, 3, dtype=mg.float64)
dist.all_gather_into_tensor(concatenated, mg.tensor(base(r)), async_op=True).wait()
np.testing.assert_array_equal(concatenated.numpy(), np.concatenate(every))

# reduce_scatter: rank k gets the sum over ranks of their k-th input
inputs = [mg.tensor(base(r) + 10 * k) for k in range(n)]
out = mg.zeros(2, 3, dtype=mg.float64)
dist.reduce_scatter(out, inputs)
np.testing.assert_allclose(out.numpy(), sum(base(q) + 10 * r for q in range(n)))
out = mg.zeros(2, 3, dtype=mg.float64)
dist.reduce_scatter_tensor(out, mg.tensor(np.concatenate([base(r) + 10 * k for k in range(n)])), op=dist.ReduceOp.AVG)
np.testing.assert_allclose(out.numpy(), sum(base(q) + 10 * r for q in range(n)) / n)

dist.barrier()
dist.barrier(async_op=True).wait()


def raises(kind, text, fn):
    try:
        fn()
    except kind as exc:
        assert text in str(exc), f"{text!r} not in {exc}"
    else:
        raise AssertionError(f"expected {kind.__name__}")


# errors that every rank detects alike, before any communication
raises(DTypeError, "all_reduce: ReduceOp.AVG needs a floating dtype", lambda: dist.all_reduce(ints, dist.ReduceOp.AVG))
raises(ArgumentError, "broadcast: src=5", lambda: dist.broadcast(mg.zeros(2), src=5))
raises(
    ArgumentError,
    f"all_gather: tensor_list has 1 tensors for a world of size {n}",
    lambda: dist.all_gather([mg.zeros(2)], mg.zeros(2)),
)
raises(
    ShapeError,
    "all_gather: tensor_list[1] has shape (3,)",
    lambda: dist.all_gather([mg.zeros(2), mg.zeros(3)] + [mg.zeros(2)] * (n - 2), mg.zeros(2)),
)
raises(
    ShapeError,
    "all_gather_into_tensor: output_tensor has shape (5, 2)",
    lambda: dist.all_gather_into_tensor(mg.zeros(5, 2), mg.zeros(2)),
)
raises(TypeError, "all_reduce: tensor must be a minigrad Tensor", lambda: dist.all_reduce(np.zeros(2)))
raises(ArgumentError, "all_reduce: op must be a ReduceOp", lambda: dist.all_reduce(mg.zeros(2), op="sum"))
raises(DistributedError, "initialize the default process group twice", dist.init_process_group)

# ranks that disagree: detected under MINIGRAD_DISTRIBUTED_DEBUG=DETAIL, with the rank named, on every rank
os.environ["MINIGRAD_DISTRIBUTED_DEBUG"] = "DETAIL"
raises(
    DistributedError,
    "all_reduce: rank 1 called it with [((3,), 'float32')]",
    lambda: dist.all_reduce(mg.zeros(2 + min(r, 1))),
)
del os.environ["MINIGRAD_DISTRIBUTED_DEBUG"]

dist.destroy_process_group()
assert not dist.is_initialized()
raises(DistributedError, "get_rank: the default process group has not been initialized", dist.get_rank)
print(f"rank {r} of {n}: collectives ok", flush=True)

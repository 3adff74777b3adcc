"""Worker (run by mpiexec from test_collectives.py): reduce, gather, scatter, all_to_all(_single), send/recv,
the object collectives, new_group sub-groups and the collective timeout, each against its closed form.

Rank r contributes values that depend on r, so every rank knows the expected result without communication.
Exits non-zero on any mismatch; prints ``rank R of N: <part> ok`` per part.
"""

import datetime
import warnings

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.errors import ArgumentError, DistributedError, ShapeError

dist.init_process_group()
r, n = dist.get_rank(), dist.get_world_size()
assert n >= 3, "this worker needs at least 3 ranks (a group of two and a rank outside it)"


def ok(what):
    print(f"rank {r} of {n}: {what} ok", flush=True)


def raises(kind, text, fn):
    try:
        fn()
    except kind as exc:
        assert text in str(exc), f"{text!r} not in {exc}"
    else:
        raise AssertionError(f"expected {kind.__name__} containing {text!r}")


def base(rank):
    return (np.arange(6, dtype=np.float64).reshape(2, 3) + 1) * (rank + 1)


every = [base(k) for k in range(n)]

# reduce: only dst's tensor changes; blocking and async, SUM and AVG, group_dst
for dst in range(n):
    t = mg.tensor(base(r))
    version = t._version
    dist.reduce(t, dst=dst)
    np.testing.assert_allclose(t.numpy(), sum(every) if r == dst else base(r))
    assert t._version == version + (r == dst)
t = mg.tensor(base(r))
dist.reduce(t, group_dst=1, op=dist.ReduceOp.AVG, async_op=True).wait()
np.testing.assert_allclose(t.numpy(), sum(every) / n if r == 1 else base(r))
t = mg.tensor(base(r))
dist.reduce(t, op=dist.ReduceOp.MAX)  # dst defaults to 0
np.testing.assert_allclose(t.numpy(), np.max(every, axis=0) if r == 0 else base(r))
ok("reduce")

# gather: the list on dst only (PyTorch's rule, both ways)
for dst in (0, n - 1):
    out = [mg.zeros(2, 3, dtype=mg.float64) for _ in range(n)] if r == dst else None
    dist.gather(mg.tensor(base(r)), out, dst=dst)
    if r == dst:
        for k in range(n):
            np.testing.assert_array_equal(out[k].numpy(), base(k))
out = [mg.zeros(2, 3, dtype=mg.float64) for _ in range(n)] if r == 0 else None
dist.gather(mg.tensor(base(r)), gather_list=out, async_op=True).wait()
if r == 0:
    np.testing.assert_array_equal(np.stack([o.numpy() for o in out]), np.stack(every))
if r == 0:
    raises(
        ArgumentError,
        "Argument ``gather_list`` must be specified on destination rank",
        lambda: dist.gather(mg.zeros(1)),
    )
else:
    raises(
        ArgumentError,
        "Argument ``gather_list`` must NOT be specified on non-destination ranks",
        lambda: dist.gather(mg.zeros(1), [mg.zeros(1)] * n, dst=0),
    )
ok("gather")

# scatter: rank k gets src's k-th tensor
for src in (0, n - 1):
    t = mg.zeros(2, 3, dtype=mg.float64)
    dist.scatter(t, [mg.tensor(base(k) + 100 * src) for k in range(n)] if r == src else None, src=src)
    np.testing.assert_array_equal(t.numpy(), base(r) + 100 * src)
t = mg.zeros(2, 3, dtype=mg.float64)
dist.scatter(t, [mg.tensor(base(k)) for k in range(n)] if r == 1 else None, group_src=1, async_op=True).wait()
np.testing.assert_array_equal(t.numpy(), base(r))
if r != 0:
    raises(
        ArgumentError,
        "Argument ``scatter_list`` must NOT be specified on non-source ranks",
        lambda: dist.scatter(mg.zeros(1), [mg.zeros(1)] * n),
    )
else:
    raises(
        ArgumentError, "Argument ``scatter_list`` must be specified on source rank", lambda: dist.scatter(mg.zeros(1))
    )
ok("scatter")

# all_to_all with tensors of different sizes: rank i sends i + j + 1 values (all 100 i + j) to rank j
inputs = [mg.full((r + j + 1,), 100.0 * r + j, dtype=mg.float64) for j in range(n)]
outputs = [mg.zeros(i + r + 1, dtype=mg.float64) for i in range(n)]
dist.all_to_all(outputs, inputs)
for i in range(n):
    np.testing.assert_array_equal(outputs[i].numpy(), np.full(i + r + 1, 100.0 * i + r))
outputs = [mg.zeros(i + r + 1, dtype=mg.float64) for i in range(n)]
work = dist.all_to_all(outputs, inputs, async_op=True)
assert work.get_future().wait() == outputs
np.testing.assert_array_equal(outputs[n - 1].numpy(), np.full(n + r, 100.0 * (n - 1) + r))

# all_to_all_single, even and uneven splits along dim 0 (rows of width 2)
x = mg.tensor(np.arange(2 * n * 2, dtype=np.float64).reshape(2 * n, 2) + 1000 * r)
y = mg.zeros(2 * n, 2, dtype=mg.float64)
dist.all_to_all_single(y, x)
expect = np.concatenate([(np.arange(2 * n * 2).reshape(2 * n, 2) + 1000 * i)[2 * r : 2 * r + 2] for i in range(n)])
np.testing.assert_array_equal(y.numpy(), expect)
# rank i sends j + 1 rows to rank j: so rank r receives r + 1 rows from everyone
ins = [j + 1 for j in range(n)]
x = mg.tensor(np.repeat(np.arange(n, dtype=np.float64), ins)[:, None] * np.ones(2) + 1000 * r)
y = mg.zeros(n * (r + 1), 2, dtype=mg.float64)
dist.all_to_all_single(y, x, output_split_sizes=[r + 1] * n, input_split_sizes=ins, async_op=True).wait()
np.testing.assert_array_equal(y.numpy()[:, 0], np.repeat([1000.0 * i + r for i in range(n)], r + 1))
raises(
    ShapeError,
    f"input_split_sizes={[1] * n} must be {n} non-negative sizes summing to input's dim 0 size 2",
    lambda: dist.all_to_all_single(mg.zeros(2, 1), mg.zeros(2, 1), input_split_sizes=[1] * n),
)
raises(
    ShapeError, "do not split evenly over a group of size", lambda: dist.all_to_all_single(mg.zeros(n + 1), mg.zeros(n))
)
ok("all_to_all")

# point to point: a ring, with tags; recv from any source returns the sender's rank
right, left = (r + 1) % n, (r - 1) % n
t = mg.zeros(3, dtype=mg.float64)
if r % 2 == 0:
    dist.send(mg.full((3,), float(r), dtype=mg.float64), dst=right, tag=5)
    assert dist.recv(t, src=left, tag=5) == left
else:
    assert dist.recv(t, src=left, tag=5) == left
    dist.send(mg.full((3,), float(r), dtype=mg.float64), dst=right, tag=5)
np.testing.assert_array_equal(t.numpy(), float(left))
# messages with two tags, received in the other order
a, b = mg.zeros(1, dtype=mg.float64), mg.zeros(1, dtype=mg.float64)
works = [dist.isend(mg.tensor([10.0 * r + k], dtype=mg.float64), dst=right, tag=k) for k in (1, 2)]
wb, wa = dist.irecv(b, src=left, tag=2), dist.irecv(a, src=left, tag=1)
for w in (*works, wa, wb):
    w.wait()
assert a.item() == 10.0 * left + 1 and b.item() == 10.0 * left + 2
if r == 0:
    got = [dist.recv(t, tag=9) for _ in range(n - 1)]
    assert sorted(got) == list(range(1, n)), got
else:
    dist.send(mg.full((3,), float(r), dtype=mg.float64), dst=0, tag=9)
raises(ArgumentError, "destination rank should not be the same", lambda: dist.send(mg.zeros(1), dst=r))
raises(ArgumentError, "tag must be a non-negative int, got -1", lambda: dist.isend(mg.zeros(1), dst=right, tag=-1))
ok("send and recv")

# objects
objects = [None] * n
dist.all_gather_object(objects, {"rank": r, "name": f"r{r}"})
assert objects == [{"rank": k, "name": f"r{k}"} for k in range(n)]
shared = [r, "x", (1, 2)] if r == 1 else [None, None, None]
dist.broadcast_object_list(shared, src=1)
assert shared == [1, "x", (1, 2)]
gathered = [None] * n if r == 2 else None
dist.gather_object(r * r, gathered, dst=2)
assert gathered == ([k * k for k in range(n)] if r == 2 else None)
received = [None]
dist.scatter_object_list(received, [f"to {k}" for k in range(n)] if r == 0 else None, src=0)
assert received == [f"to {r}"]
ok("objects")

# groups: {1, 2} (given unsorted), and a group of rank 0 alone; ranks outside get NON_GROUP_MEMBER
pair = dist.new_group([2, 1])
alone = dist.new_group([0])
assert dist.group.WORLD is dist.GroupMember.WORLD and dist.get_world_size(dist.group.WORLD) == n
if r in (1, 2):
    assert isinstance(pair, dist.ProcessGroup)
    assert dist.get_rank(pair) == r - 1 == pair.rank() and dist.get_world_size(pair) == 2 == pair.size()
    assert dist.get_process_group_ranks(pair) == [1, 2]
    assert dist.get_global_rank(pair, 1) == 2 and dist.get_group_rank(pair, 2) == 1
    t = mg.tensor(base(r))
    dist.all_reduce(t, group=pair)
    np.testing.assert_allclose(t.numpy(), base(1) + base(2))
    t = mg.tensor(base(r))
    dist.broadcast(t, src=2, group=pair)  # src is a global rank
    np.testing.assert_array_equal(t.numpy(), base(2))
    t = mg.tensor(base(r))
    dist.broadcast(t, group_src=0, group=pair, async_op=True).wait()  # group rank 0 is global rank 1
    np.testing.assert_array_equal(t.numpy(), base(1))
    out = [mg.zeros(2, 3, dtype=mg.float64) for _ in range(2)]
    dist.all_gather(out, mg.tensor(base(r)), group=pair)
    np.testing.assert_array_equal(out[1].numpy(), base(2))
    t = mg.tensor(base(r))
    dist.reduce(t, dst=2, group=pair)
    np.testing.assert_allclose(t.numpy(), base(1) + base(2) if r == 2 else base(1))
    t = mg.zeros(1, dtype=mg.float64)
    if r == 1:
        dist.send(mg.tensor([7.0], dtype=mg.float64), group_dst=1, group=pair)
    else:
        assert dist.recv(t, group=pair) == 1 and t.item() == 7.0  # the sender's global rank
    names = [None, None]
    dist.all_gather_object(names, r, group=pair)
    assert names == [1, 2]
    raises(
        ArgumentError, "global rank src=0 is not part of the group of ranks [1, 2]", lambda: dist.broadcast(t, 0, pair)
    )
    dist.barrier(group=pair)
    assert alone == dist.GroupMember.NON_GROUP_MEMBER
else:
    assert pair == dist.GroupMember.NON_GROUP_MEMBER
    assert dist.get_rank(pair) == -1 and dist.get_world_size(pair) == -1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = mg.tensor(base(r))
        assert dist.all_reduce(t, group=pair) is None
        np.testing.assert_array_equal(t.numpy(), base(r))  # untouched
    assert "does not belong to the given group" in str(caught[0].message)
    if r == 0:
        assert dist.get_rank(alone) == 0 and dist.get_world_size(alone) == 1
        t = mg.tensor(base(r))
        dist.all_reduce(t, group=alone)
        np.testing.assert_array_equal(t.numpy(), base(r))
dist.barrier()
# use_local_synchronization: only the members call new_group; a non-member's call returns at once
if r in (1, 2):
    local = dist.new_group([1, 2], use_local_synchronization=True)
    t = mg.tensor(base(r))
    dist.all_reduce(t, group=local)
    np.testing.assert_allclose(t.numpy(), base(1) + base(2))
    assert dist.get_rank(local) == r - 1 and dist.get_process_group_ranks(local) == [1, 2]
else:
    assert dist.new_group([1, 2], use_local_synchronization=True) == dist.GroupMember.NON_GROUP_MEMBER
dist.barrier()
raises(ArgumentError, "ranks [7] are not ranks of a world", lambda: dist.new_group([0, 7]))
raises(ArgumentError, "repeat a rank", lambda: dist.new_group([1, 1]))
ok("groups")

# futures from a collective: then() chains on the value, the list of output tensors
t = mg.tensor(base(r))
future = dist.all_reduce(t, async_op=True).get_future().then(lambda f: f.value()[0] * 2)
np.testing.assert_allclose(future.wait().numpy(), 2 * sum(every))
ok("futures")

# the watchdog: a group with a timeout gives up waiting for a message that never comes
quick = dist.new_group(list(range(n)), timeout=datetime.timedelta(seconds=0.3))
if r == 0:
    raises(DistributedError, "recv: timed out after 0.3 s", lambda: dist.recv(mg.zeros(1), src=1, group=quick, tag=77))
else:
    dist.send(mg.zeros(1), dst=0, group=quick, tag=78)  # another tag: never matched by rank 0's recv
dist.barrier()
# ... and DistributedDataParallel's wrap-time check of the models too: rank 1 never wraps
lonely = dist.new_group(list(range(n)), timeout=datetime.timedelta(seconds=0.3))
if r == 0:
    from minigrad.nn.parallel import DistributedDataParallel

    raises(DistributedError, "all_gather_object: timed out after 0.3 s",
           lambda: DistributedDataParallel(mg.nn.Linear(2, 2), process_group=lonely))  # fmt: skip
dist.barrier()
raises(TypeError, "timeout must be a datetime.timedelta, got int", lambda: dist.new_group(timeout=30))
ok("timeout")
dist.destroy_process_group()

"""Worker (run by mpiexec -n 2 from test_ddp.py): DistributedDataParallel's find_unused_parameters, static_graph,
communication hooks, bucket rebuild, gradient_as_bucket_view and process_group, each against one process.

The reference is one process that computes, on the same initial weights, the mean of the two ranks' losses
(each a mean over its own half of the batch, through the branches that rank takes): its gradient is the mean of
the ranks' gradients, which is what DDP must give. Prints ``rank R: <case> rel <x> ok`` per case.
"""

import sys
import warnings

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.distributed.algorithms.ddp_comm_hooks import default_hooks
from minigrad.errors import DistributedError
from minigrad.nn.parallel import DistributedDataParallel

dist.init_process_group()
r, n = dist.get_rank(), dist.get_world_size()
assert n == 2
b, steps = 4, 12


class Branchy(mg.nn.Module):
    """A trunk, three heads and a head no one uses; ``forward(x, heads)`` sums the chosen heads' outputs."""

    def __init__(self):
        super().__init__()
        self.trunk = mg.nn.Linear(3, 5)
        self.heads = mg.nn.ModuleList([mg.nn.Linear(5, 2) for _ in range(3)])
        self.never = mg.nn.Linear(5, 2)

    def forward(self, x, heads):
        h = mg.tanh(self.trunk(x))
        return sum(self.heads[k](h) for k in heads)


def heads_of(rank, step):
    """Rank-dependent control flow: each rank skips a different head at each step, and head 2 only on rank 1."""
    chosen = [k for k in (0, 1) if k != (rank + step) % 2 or step % 3 == 0]
    return chosen + ([2] if rank == 1 else [])


def data(step, rank):
    rng = np.random.default_rng(100 * step + rank)
    return mg.tensor(rng.standard_normal((b, 3))), mg.tensor(rng.standard_normal((b, 2)))


def make(dtype=mg.float64):
    mg.manual_seed(0)
    return Branchy().to(dtype=dtype)


def reference(loss_of, dtype=mg.float64, lr=0.1):
    model = make(dtype)
    opt = mg.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for step in range(steps):
        opt.zero_grad()
        total = sum(loss_of(model, step, k) for k in range(n)) / n
        total.backward()
        opt.step()
    return model


def loss(model, step, rank, dtype=mg.float64):
    x, y = data(step, rank)
    return ((model(x.to(dtype=dtype), heads_of(rank, step)) - y.to(dtype=dtype)) ** 2).mean()


def train(ddp, dtype=mg.float64, lr=0.1, accumulate=False):
    opt = mg.optim.SGD(ddp.parameters(), lr=lr, momentum=0.9)
    for step in range(steps):
        opt.zero_grad()
        if accumulate:  # two micro-batches of b/2, the first inside no_sync (it takes only head 0)
            x, y = data(step, r)
            x, y = x.to(dtype=dtype), y.to(dtype=dtype)
            with ddp.no_sync():
                (((ddp(x[:2], [0]) - y[:2]) ** 2).mean() / 2).backward()
            (((ddp(x[2:], heads_of(r, step)) - y[2:]) ** 2).mean() / 2).backward()
        else:
            loss(ddp, step, r, dtype).backward()
        opt.step()
    return ddp.module


def compare(case, model, ref, tolerance):
    worst = 0.0
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        mine, theirs = p.numpy().astype(np.float64), q.numpy().astype(np.float64)
        worst = max(worst, float(np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)))
        same = mg.tensor(p.numpy().copy())
        dist.broadcast(same, src=0)
        if not np.array_equal(same.numpy(), p.numpy()):
            print(f"rank {r}: {case}: {name} differs from rank 0's", flush=True)
            sys.exit(3)
    verdict = "ok" if worst <= tolerance else "FAIL"
    print(f"rank {r}: {case} rel {worst:.3e} {verdict}", flush=True)
    if verdict != "ok":
        sys.exit(2)


ref = reference(loss)

# find_unused_parameters: locally unused heads count as zeros; `never` (no rank uses it) keeps .grad None
ddp = DistributedDataParallel(make(), find_unused_parameters=True, bucket_cap_mb=1e-4)
model = train(ddp)
assert model.never.weight.grad is None and model.never.bias.grad is None
assert model.heads[2].weight.grad is not None  # used on rank 1 only: rank 0 gets the mean too
compare("find_unused_parameters", model, ref, 1e-12)


# ... and with no_sync accumulation: a head used only in the no_sync micro-batch still counts as used
def loss_accumulated(model, step, rank):
    x, y = data(step, rank)
    first = ((model(x[:2], [0]) - y[:2]) ** 2).mean() / 2
    return first + ((model(x[2:], heads_of(rank, step)) - y[2:]) ** 2).mean() / 2


ref_acc = reference(loss_accumulated)
compare(
    "find_unused_parameters no_sync",
    train(DistributedDataParallel(make(), find_unused_parameters=True), accumulate=True),
    ref_acc,
    1e-12,
)


# static_graph: the same unused parameter (`never`) every step, found in the first iteration only
def fixed_heads(rank, step):
    return [0, 1, 2]


def loss_static(model, step, rank):
    x, y = data(step, rank)
    return ((model(x, fixed_heads(rank, step)) - y) ** 2).mean()


ref_static = reference(loss_static)
ddp = DistributedDataParallel(make(), static_graph=True, bucket_cap_mb=1e-4)
opt = mg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
for step in range(steps):
    opt.zero_grad()
    x, y = data(step, r)
    ((ddp(x, fixed_heads(r, step)) - y) ** 2).mean().backward()
    opt.step()
assert ddp._static_unused == [8, 9] and ddp._rebuilt  # never.weight, never.bias; buckets rebuilt after step 1
assert ddp.module.never.weight.grad is None
compare("static_graph", ddp.module, ref_static, 1e-12)
# the graph changes (`never` gets a gradient): PyTorch's error, on both ranks, during the backward
x, y = data(0, r)
out = ddp(x, [0]) + ddp.module.never(mg.tanh(ddp.module.trunk(x)))
try:
    out.sum().backward()
except DistributedError as exc:
    assert "Your training graph has changed in this iteration" in str(exc), exc
else:
    raise AssertionError("expected the static graph error")
print(f"rank {r}: static_graph change rel 0 ok", flush=True)

# without find_unused_parameters the rank-dependent heads leave buckets unfinished: the next forward says which
ddp = DistributedDataParallel(make())
x, y = data(1, r)
((ddp(x, [0]) - y) ** 2).mean().backward()
try:
    ddp(x, [0])
except DistributedError as exc:
    assert "Parameter indices which did not receive grad for rank" in str(exc)
    assert "heads.1.weight, heads.1.bias, heads.2.weight, heads.2.bias, never.weight, never.bias" in str(exc), exc
else:
    raise AssertionError("expected the unfinished reduction error")
print(f"rank {r}: unfinished reduction rel 0 ok", flush=True)

with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    DistributedDataParallel(make(), find_unused_parameters=True, static_graph=True)
assert "`_set_static_graph` will detect unused parameters automatically" in str(caught[0].message)


# communication hooks, on a model every rank uses whole (heads 0 and 1)
def loss_full(model, step, rank, dtype=mg.float64):
    x, y = data(step, rank)
    return ((model(x.to(dtype=dtype), [0, 1]) - y.to(dtype=dtype)) ** 2).mean()


def train_full(ddp, dtype=mg.float64):
    opt = mg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        opt.zero_grad()
        loss_full(ddp, step, r, dtype).backward()
        opt.step()
    return ddp.module


def fresh(dtype=mg.float64, **kw):
    model = make(dtype)
    model.never.requires_grad_(False)
    model.heads[2].requires_grad_(False)
    return DistributedDataParallel(model, bucket_cap_mb=1e-4, **kw)


ref_full = reference(lambda m, s, k: loss_full(m, s, k))
plain = train_full(fresh())
compare("no hook", plain, ref_full, 1e-12)
ddp = fresh()
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
hooked = train_full(ddp)
for p, q in zip(hooked.parameters(), plain.parameters()):
    np.testing.assert_array_equal(p.numpy(), q.numpy())  # allreduce_hook is DDP's own arithmetic
compare("allreduce_hook", hooked, ref_full, 1e-12)

ref_full32 = reference(lambda m, s, k: loss_full(m, s, k, mg.float32), dtype=mg.float32)
ddp = fresh(mg.float32)
ddp.register_comm_hook(dist.group.WORLD, default_hooks.fp16_compress_hook)
compare("fp16_compress_hook", train_full(ddp, mg.float32), ref_full32, 5e-3)
ddp = fresh(mg.float32)
ddp.register_comm_hook(None, default_hooks.fp16_compress_wrapper(default_hooks.allreduce_hook))
compare("fp16_compress_wrapper", train_full(ddp, mg.float32), ref_full32, 5e-3)


# a hook of one's own, with state: AVG all_reduce on the buffer; it sees every bucket once per step, in order
class State:
    def __init__(self):
        self.seen = []


def averaging_hook(state, bucket):
    state.seen.append((bucket.index(), bucket.is_last(), len(bucket.parameters())))
    grads = bucket.gradients()
    assert [tuple(g.shape) for g in grads] == [tuple(p.shape) for p in bucket.parameters()]
    assert sum(g.numel() for g in grads) == bucket.buffer().numel()
    return (
        dist.all_reduce(bucket.buffer(), op=dist.ReduceOp.AVG, async_op=True)
        .get_future()
        .then(lambda fut: fut.value()[0])
    )


state = State()
ddp = fresh()
ddp.register_comm_hook(state, averaging_hook)
compare("custom hook", train_full(ddp), ref_full, 1e-12)
ddp = fresh()  # a hook may return the collective's own future, whose value is [tensor]
ddp.register_comm_hook(
    None, lambda s, bucket: dist.all_reduce(bucket.buffer(), op=dist.ReduceOp.AVG, async_op=True).get_future()
)
compare("hook returning a list", train_full(ddp), ref_full, 1e-12)
count = len(ddp._buckets)
assert [s[0] for s in state.seen] == list(range(count)) * steps, state.seen
assert [s[1] for s in state.seen[:count]] == [False] * (count - 1) + [True]


# bucket rebuild: a model whose parameters() order is not the order its gradients become ready in
class Swapped(mg.nn.Module):
    def __init__(self):
        super().__init__()
        self.late = mg.nn.Linear(4, 4)  # registered first, applied last: its gradients are ready first
        self.early = mg.nn.Linear(3, 4)

    def forward(self, x):
        return self.late(mg.tanh(self.early(x)))


mg.manual_seed(1)
ddp = DistributedDataParallel(Swapped().double(), bucket_cap_mb=1e-5)  # one parameter per bucket
names = {id(p): k for k, p in ddp.module.named_parameters()}
before = [[names[id(p)] for p in bk.params] for bk in ddp._buckets]
assert before == [["early.bias"], ["early.weight"], ["late.bias"], ["late.weight"]], before
ready = []
for p in ddp.module.parameters():
    p.register_post_accumulate_grad_hook(lambda q: ready.append(names[id(q)]))
x = mg.tensor(np.random.default_rng(r).standard_normal((4, 3)))
ddp(x).sum().backward()
ddp(x).sum().backward()  # the second forward rebuilt the buckets in the first backward's order
after = [[names[id(p)] for p in bk.params] for bk in ddp._buckets]
assert after == [[k] for k in ready[:4]] and after[0][0].startswith("late"), (after, ready)
print(f"rank {r}: bucket rebuild rel 0 ok", flush=True)

# gradient_as_bucket_view: .grad is a view of the bucket buffer, and the training is the same
ddp = fresh(gradient_as_bucket_view=True)
model = train_full(ddp)
flats = [bk.flat for bk in ddp._buckets]
for p in ddp.parameters():
    assert not p.requires_grad or any(np.shares_memory(p.grad.array, f) for f in flats)
compare("gradient_as_bucket_view", model, ref_full, 1e-12)

# a process_group of its own: the same averaging over a group of both ranks
pair = dist.new_group([0, 1])
ddp = fresh(process_group=pair)
compare("process_group", train_full(ddp), ref_full, 1e-12)
dist.destroy_process_group()

"""Worker (run by mpiexec -n 2 from test_ddp.py): PowerSGD communication hooks against one process.

At full rank (r = min(n, m)) PowerSGD's projection is exact, so DDP with the hook must train as one process
averaging the two ranks' gradients (to rounding); before ``start_powerSGD_iter`` it is a plain allreduce (the
same numbers as no hook). At rank 1 it compresses: the ranks still agree, the loss falls, and the compression
statistics are the formula's. Prints ``rank R: <case> rel <x> ok``.
"""

import sys

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.distributed.algorithms.ddp_comm_hooks import powerSGD_hook as powerSGD
from minigrad.errors import ArgumentError
from minigrad.nn.parallel import DistributedDataParallel

dist.init_process_group()
r, n = dist.get_rank(), dist.get_world_size()
assert n == 2
b, steps = 8, 6


def data(step, rank):
    rng = np.random.default_rng(100 * step + rank)
    return mg.tensor(rng.standard_normal((b, 3))), mg.tensor(rng.standard_normal((b, 2)))


def make():
    mg.manual_seed(0)
    return mg.nn.Sequential(
        mg.nn.Linear(3, 6), mg.nn.Tanh(), mg.nn.Linear(6, 6), mg.nn.Tanh(), mg.nn.Linear(6, 6), mg.nn.Tanh(),
        mg.nn.Linear(6, 2),
    ).to(dtype=mg.float64)  # fmt: skip


def loss_of(model, step, rank):
    x, y = data(step, rank)
    return ((model(x) - y) ** 2).mean()


def train(model, steps=steps, fixed=False):
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for step in range(steps):
        opt.zero_grad()
        loss = loss_of(model, 0 if fixed else step, r)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def reference():
    model = make()
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        opt.zero_grad()
        (sum(loss_of(model, step, k) for k in range(n)) / n).backward()
        opt.step()
    return model


def same_on_every_rank(model) -> bool:
    for p in model.parameters():
        theirs = mg.tensor(p.numpy().copy())
        dist.broadcast(theirs, src=0)
        if not np.array_equal(theirs.numpy(), p.numpy()):
            return False
    return True


def compare(case, model, ref, tolerance):
    worst = max(
        float(np.linalg.norm(p.numpy() - q.numpy()) / np.linalg.norm(q.numpy()))
        for p, q in zip(model.parameters(), ref.parameters())
    )
    verdict = "ok" if worst <= tolerance and same_on_every_rank(model) else "FAIL"
    print(f"rank {r}: {case} rel {worst:.3e} {verdict}", flush=True)
    if verdict != "ok":
        sys.exit(2)


ref = reference()

# full rank, every matrix compressed (min_compression_rate small): exact averaging
for case, hook, same_shape in (
    ("powerSGD full rank", powerSGD.powerSGD_hook, False),
    ("powerSGD full rank batched shapes", powerSGD.powerSGD_hook, True),
    ("batched_powerSGD full rank", powerSGD.batched_powerSGD_hook, False),
):
    ddp = DistributedDataParallel(make(), bucket_cap_mb=1e-4)
    state = powerSGD.PowerSGDState(None, matrix_approximation_rank=64, start_powerSGD_iter=2,
                                   min_compression_rate=0.01, batch_tensors_with_same_shape=same_shape)  # fmt: skip
    ddp.register_comm_hook(state, hook)
    train(ddp)
    assert state.iter == steps and state.total_numel_after_compression > 0
    for error in state.error_dict.values():  # local input - mean: at full rank the errors sum to zero over ranks
        total = mg.tensor(error.copy())
        dist.all_reduce(total)
        assert np.abs(total.numpy()).max() < 1e-12, np.abs(total.numpy()).max()
    compare(case, ddp.module, ref, 1e-10)

# before start_powerSGD_iter: a plain allreduce, the numbers of no hook
plain = DistributedDataParallel(make())
train(plain)
ddp = DistributedDataParallel(make())
ddp.register_comm_hook(powerSGD.PowerSGDState(None, start_powerSGD_iter=100), powerSGD.powerSGD_hook)
train(ddp)
compare("powerSGD before start", ddp.module, plain.module, 0.0)

# rank 1 with error feedback: compresses, the ranks agree, the loss on a fixed batch falls
ddp = DistributedDataParallel(make())
state = powerSGD.PowerSGDState(None, matrix_approximation_rank=1, start_powerSGD_iter=2, min_compression_rate=1)
ddp.register_comm_hook(state, powerSGD.powerSGD_hook)
local = mg.tensor(train(ddp, steps=30, fixed=True))
dist.all_reduce(local)  # summed over the ranks: the global loss at each step is its mean
losses = local.numpy() / n
assert same_on_every_rank(ddp.module) and losses[-1] < 0.75 * losses[0], losses
# per compressed step: 6x3 (r 1: 9 numbers), two 6x6 (12 each), 2x6 (8): 18+36+36+12 = 102 -> 9+12+12+8 = 41,
# and the four biases (6, 6, 6, 2: 20) exactly
rate, before, after = state.compression_stats()
assert (before, after) == (28 * 122, 28 * 61) and rate == 2.0, state.compression_stats()
print(f"rank {r}: powerSGD rank 1 rel 0 ok", flush=True)

try:
    powerSGD.PowerSGDState(None, start_powerSGD_iter=1)
    raise AssertionError("start_powerSGD_iter=1 with error feedback was accepted")
except ArgumentError as e:
    assert "Expect `start_powerSGD_iter` > 1" in str(e)
print(f"rank {r}: powerSGD arguments rel 0 ok", flush=True)

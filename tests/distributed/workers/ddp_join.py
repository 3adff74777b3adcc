"""Worker (run by mpiexec -n 2 from test_ddp.py): DistributedDataParallel.join() with uneven inputs.

Rank r has ``3 + 2 r`` batches. The reference is one process that, at step k, averages the gradients of the
ranks that still have a batch k: divided by the initial world size (PyTorch's default) or, with
``divide_by_initial_world_size=False``, by the number of those ranks. Both ranks must end with the reference's
weights (the rank that joined early takes the last joiner's model). Prints ``rank R: <case> rel <x> ok``.
"""

import sys
import warnings

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.distributed.algorithms import Join, Joinable, JoinHook
from minigrad.distributed.algorithms.ddp_comm_hooks import default_hooks
from minigrad.errors import ArgumentError, DistributedError
from minigrad.nn.parallel import DistributedDataParallel

dist.init_process_group()
r, n = dist.get_rank(), dist.get_world_size()
assert n == 2
b = 4


def batches(rank):
    return 3 + 2 * rank


def data(step, rank):
    rng = np.random.default_rng(100 * step + rank)
    return mg.tensor(rng.standard_normal((b, 3))), mg.tensor(rng.standard_normal((b, 2)))


def make(norm=False):
    mg.manual_seed(0)
    layers = [mg.nn.Linear(3, 5), mg.nn.Tanh(), mg.nn.Linear(5, 2)]
    if norm:
        layers.insert(1, mg.nn.BatchNorm1d(5))
    return mg.nn.Sequential(*layers).to(dtype=mg.float64)


def loss_of(model, step, rank):
    x, y = data(step, rank)
    return ((model(x) - y) ** 2).mean()


def reference(divide_by_initial=True):
    model = make()
    opt = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(max(batches(k) for k in range(n))):
        active = [k for k in range(n) if step < batches(k)]
        opt.zero_grad()
        total = sum(loss_of(model, step, k) for k in active) / (n if divide_by_initial else len(active))
        total.backward()
        opt.step()
    return model


def train(ddp, join, accumulate=False):
    opt = mg.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    with join:
        for step in range(batches(r)):
            opt.zero_grad()
            if accumulate:  # two micro-batches of b/2, the first inside no_sync
                x, y = data(step, r)
                with ddp.no_sync():
                    (((ddp(x[:2]) - y[:2]) ** 2).mean() / 2).backward()
                (((ddp(x[2:]) - y[2:]) ** 2).mean() / 2).backward()
            else:
                loss_of(ddp, step, r).backward()
            opt.step()
            with mg.no_grad():  # an evaluation forward inside the loop is not shadowed as a backward
                ddp(data(step, r)[0])
    return ddp.module


def compare(case, model, ref, tolerance=1e-12):
    worst = 0.0
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        worst = max(worst, float(np.linalg.norm(p.numpy() - q.numpy()) / np.linalg.norm(q.numpy())))
        same = mg.tensor(p.numpy().copy())
        dist.broadcast(same, src=0)
        if not np.array_equal(same.numpy(), p.numpy()):
            print(f"rank {r}: {case}: {name} differs from rank 0's", flush=True)
            sys.exit(3)
    verdict = "ok" if worst <= tolerance else "FAIL"
    print(f"rank {r}: {case} rel {worst:.3e} {verdict}", flush=True)
    if verdict != "ok":
        sys.exit(2)


ref = reference()
ddp = DistributedDataParallel(make(), bucket_cap_mb=1e-4)  # several buckets, rebuilt after the first step
compare("join", train(ddp, ddp.join()), ref)

ddp = DistributedDataParallel(make())
compare("join active ranks", train(ddp, ddp.join(divide_by_initial_world_size=False)), reference(False))

ddp = DistributedDataParallel(make(), bucket_cap_mb=1e-4)
ddp.register_comm_hook(None, default_hooks.allreduce_hook)
compare("join comm hook", train(ddp, Join([ddp])), ref)

warnings.filterwarnings("ignore", message="find_unused_parameters=True was specified")
ddp = DistributedDataParallel(make(), find_unused_parameters=True)
compare("join find_unused_parameters", train(ddp, ddp.join()), ref)

ddp = DistributedDataParallel(make())
compare("join no_sync", train(ddp, ddp.join(), accumulate=True), ref)

# BatchNorm's buffers: broadcast from the highest active rank at each forward; all ranks end equal
ddp = DistributedDataParallel(make(norm=True))
model = train(ddp, ddp.join())
for name, buf in model.named_buffers():
    mine = buf.numpy().copy()
    theirs = mg.tensor(mine)
    dist.broadcast(theirs, src=1)
    assert np.array_equal(theirs.numpy(), mine), (name, r)
print(f"rank {r}: join buffers rel 0 ok", flush=True)

# enable=False is a plain block: even inputs train as without it
ddp = DistributedDataParallel(make())
opt = mg.optim.SGD(ddp.parameters(), lr=0.1)
with ddp.join(enable=False):
    for step in range(2):
        opt.zero_grad()
        loss_of(ddp, step, r).backward()
        opt.step()
print(f"rank {r}: join disabled rel 0 ok", flush=True)

# throw_on_early_termination: the rank that runs out says so; the other raises at its next forward
ddp = DistributedDataParallel(make())
try:
    with ddp.join(throw_on_early_termination=True):
        for step in range(batches(r)):
            loss_of(ddp, step, r).backward()
    raise AssertionError("no error")
except DistributedError as e:
    expected = "Rank 0 exhausted all inputs." if r == 0 else "Detected at least one rank that exhausted inputs."
    assert str(e).startswith(expected), str(e)
    assert step == 3 if r == 1 else step == 2, step
print(f"rank {r}: join throw_on_early_termination rel 0 ok", flush=True)


# the generic context manager with a joinable of one's own: one allreduce per iteration, shadowed by its hook
class Counter(Joinable):
    def __init__(self):
        super().__init__()
        self.rounds, self.last_joiner = 0, None

    def step(self) -> float:
        Join.notify_join_context(self)
        t = mg.ones(1)
        dist.all_reduce(t, async_op=True).wait()
        return t.item()

    def join_hook(self, **kwargs):
        counter = self

        class Hook(JoinHook):
            def main_hook(self):
                counter.rounds += 1
                dist.all_reduce(mg.zeros(1), async_op=True).wait()

            def post_hook(self, is_last_joiner):
                counter.last_joiner = is_last_joiner

        return Hook()

    @property
    def join_device(self):
        return "cpu"

    @property
    def join_process_group(self):
        return None


counter = Counter()
with Join([counter]):
    sums = [counter.step() for _ in range(2 + 3 * r)]
assert sums == ([2.0, 2.0] if r == 0 else [2.0, 2.0, 1.0, 1.0, 1.0]), sums
assert (counter.rounds, counter.last_joiner) == ((3, False) if r == 0 else (0, True)), counter.rounds
assert Join.notify_join_context(counter) is None  # outside a context manager: no communication
for bad, error in (([], ArgumentError), ([3], TypeError)):
    try:
        Join(bad)
        raise AssertionError(f"Join({bad}) did not raise")
    except error:
        pass
try:
    ddp.join_hook(divide=True)
    raise AssertionError("join_hook took an unknown argument")
except ArgumentError as e:
    assert "unexpected keyword arguments ['divide']" in str(e)
print(f"rank {r}: join generic rel 0 ok", flush=True)

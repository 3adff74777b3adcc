"""Worker (run by mpiexec from test_ddp.py): N ranks with batch b train as 1 process with batch N*b.

For the MLP and the small CNN of ``minigrad train`` (eval mode: no dropout), SGD with momentum and Adam,
float64 and float32, plain and with no_sync accumulation over two micro-batches: 20 steps of
DistributedDataParallel on rank-specific initial weights (rank 0's are broadcast) against a single-process
reference built from rank 0's seed. Every rank checks its weights against the reference and that all ranks'
weights are bitwise equal, then prints one line per case with the largest relative difference.

The relative difference of a weight tensor is ||w_ddp - w_ref|| / ||w_ref|| (Frobenius). Measured elementwise
against the largest weight instead, float32 Adam on the CNN reaches ~5e-5 after 20 steps: Adam moves a weight
by about lr whatever the size of its gradient, so the few weights whose float32 gradient is at rounding level
(and so differs between one batch of 2b and two of b) drift by ~1e-6 while everything else agrees to 1e-7;
float64 agrees to 1e-13 either way.
"""

import sys

import numpy as np

import minigrad as mg
import minigrad.distributed as dist
from minigrad.nn.parallel import DistributedDataParallel
from minigrad.train import build_model

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
b, steps = 8, 20
TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def make(name, dtype, seed):
    mg.manual_seed(seed)
    return build_model(name).to(dtype=getattr(mg, dtype)).eval()


def make_optimizer(kind, params):
    if kind == "sgd":
        return mg.optim.SGD(params, lr=0.05, momentum=0.9)
    return mg.optim.Adam(params, lr=1e-3)


def batch(step, dtype):
    rng = np.random.default_rng(1000 + step)
    x = rng.standard_normal((n * b, 1, 8, 8)).astype(dtype)
    y = rng.integers(0, 10, n * b)
    return mg.tensor(x), mg.tensor(y)


loss_fn = mg.nn.CrossEntropyLoss()
for name in ("mlp", "cnn"):
    for kind in ("sgd", "adam"):
        for dtype in ("float64", "float32"):
            for mode in ("plain", "no_sync"):
                reference = make(name, dtype, seed=0)
                ref_opt = make_optimizer(kind, reference.parameters())
                local = make(name, dtype, seed=r)  # different on each rank: the wrap broadcasts rank 0's
                started, box = [], {}
                first = next(iter(local.parameters()))
                first.register_post_accumulate_grad_hook(
                    lambda p, s=started, d=box: s.append(d["ddp"]._next) if d["ddp"]._armed else None
                )  # runs before DDP's own hook on that parameter: records the buckets started in a synced backward
                ddp = box["ddp"] = DistributedDataParallel(local, bucket_cap_mb=1e-4)
                assert len(ddp._buckets) >= 2, len(ddp._buckets)
                opt = make_optimizer(kind, ddp.parameters())
                for step in range(steps):
                    x, y = batch(step, dtype)
                    ref_opt.zero_grad()
                    loss_fn(reference(x), y).backward()
                    ref_opt.step()
                    xs, ys = x[r * b : (r + 1) * b], y[r * b : (r + 1) * b]
                    opt.zero_grad()
                    if mode == "plain":
                        loss_fn(ddp(xs), ys).backward()
                    else:  # two micro-batches of b/2: the first accumulates locally, the second averages
                        h = b // 2
                        with ddp.no_sync():
                            (loss_fn(ddp(xs[:h]), ys[:h]) / 2).backward()
                        (loss_fn(ddp(xs[h:]), ys[h:]) / 2).backward()
                    opt.step()
                # when the first layer's weight (complete last) came in, an allreduce had been started already
                assert len(started) == steps and min(started) >= 1, (started, len(ddp._buckets))
                worst = 0.0
                for (key, p), q in zip(ddp.module.named_parameters(), reference.parameters()):
                    mine, ref = p.numpy(), q.numpy()
                    worst = max(worst, float(np.linalg.norm(mine - ref) / np.linalg.norm(ref)))
                    same = mg.tensor(mine.copy())
                    dist.broadcast(same, src=0)
                    if not np.array_equal(same.numpy(), mine):
                        print(f"rank {r}: {name} {kind} {dtype} {mode}: {key} differs from rank 0's", flush=True)
                        sys.exit(3)
                ok = worst <= TOLERANCE[dtype]
                print(
                    f"rank {r} case {name} {kind} {dtype} {mode} rel {worst:.3e} {'ok' if ok else 'FAIL'}", flush=True
                )
                if not ok:
                    sys.exit(2)
dist.destroy_process_group()

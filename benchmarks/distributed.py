"""Data-parallel training over MPI: images per second of the small CNN, and what the allreduce costs.

The model is ``minigrad train``'s small CNN (two 3x3 convs, max-pool, dropout, two linears; 8x8 digit
images, 10 classes), trained with SGD and momentum in train mode on a global batch of 64, float32.
Configurations, each timed in processes of its own, alternated over rounds (medians over rounds):

- ``1 process, 1 thread``:  plain training, no DistributedDataParallel (the baseline);
- ``1 process, 2 threads``: the same with a two-thread BLAS;
- ``1 rank``:  ``mpiexec -n 1``, DistributedDataParallel, one BLAS thread (its overhead alone);
- ``2 ranks``: ``mpiexec -n 2``, DistributedDataParallel, one BLAS thread each, 32 images per rank;
- ``1 process, 1 thread, 32 images``: one rank's share computed alone (the cost model's compute time).

Every process reports the median step time; the DDP ones also the time per step that the backward spent
waiting for the gradient allreduce (what the overlap did not hide, waiting for the slower rank included), and
a separate blocking allreduce of the whole gradient (all parameters, float32) timed alone: what one step's
communication costs.

Then the cost model: a ring allreduce makes each rank send and receive 2 (N-1)/N of the gradient's bytes,
so one step's communication takes about ``2 (N-1)/N * bytes / bandwidth + 2 (N-1) * latency`` per bucket;
with the per-rank batch fixed (32 images), compute per step stays what one rank takes, and N machines give
``N * 32 / (t_compute + t_comm)`` images per second when nothing overlaps (the small CNN's 0.6 MB of
gradients fit in one bucket, whose allreduce starts only when the backward is done). The table lists that
for a few links. The machine this runs on may be shared: the script prints the load average it saw.

Run (needs mpi4py and an mpiexec beside the Python or on PATH; see docs/distributed.md)::

    python benchmarks/distributed.py            # about a minute
    python benchmarks/distributed.py --quick    # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOBAL_BATCH = 64
CONFIGS = {  # name: (ranks or 0 for a plain process, BLAS threads, images per process and step)
    "1 process, 1 thread": (0, 1, GLOBAL_BATCH),
    "1 process, 2 threads": (0, 2, GLOBAL_BATCH),
    "1 rank": (1, 1, GLOBAL_BATCH),
    "2 ranks": (2, 1, GLOBAL_BATCH // 2),
    "1 process, 1 thread, 32 images": (0, 1, GLOBAL_BATCH // 2),  # one rank's compute alone, for the cost model
}
LINKS = [("1 GbE", 125e6, 50e-6), ("10 GbE", 1.25e9, 20e-6), ("100 Gb/s InfiniBand", 12.5e9, 2e-6)]


def _mpiexec() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else shutil.which("mpiexec")


# --- the child: one configuration ------------------------------------------------------------------


def child(steps: int, warmup: int) -> None:
    import numpy as np

    import minigrad as mg
    from minigrad.train import build_model

    ranks = int(os.environ.get("BENCH_RANKS", "0"))
    ddp = None
    rank, world = 0, 1
    if ranks:
        import minigrad.distributed as dist
        from minigrad.nn.parallel import DistributedDataParallel

        dist.init_process_group()
        rank, world = dist.get_rank(), dist.get_world_size()
    mg.manual_seed(0)
    model = build_model("cnn").train()
    if ranks:
        ddp = DistributedDataParallel(model)
        waited = [0.0]
        group = ddp._g
        wait = group.wait

        def timed_wait(*args, **kwargs):  # DDP's waits for its allreduces: the communication left exposed
            start = time.perf_counter()
            wait(*args, **kwargs)
            waited[0] += time.perf_counter() - start

        group.wait = timed_wait
    net = ddp if ddp is not None else model
    opt = mg.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    loss_fn = mg.nn.CrossEntropyLoss()
    per_rank = int(os.environ["BENCH_BATCH"])
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((per_rank, 1, 8, 8)).astype(np.float32))
    y = mg.tensor(rng.integers(0, 10, per_rank))

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(warmup):
        step()
    if ranks:
        waited[0] = 0.0
        dist.barrier()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    result = {"rank": rank, "step_s": statistics.median(times), "mean_step_s": statistics.fmean(times)}
    n_params = sum(p.numel() for p in model.parameters())
    result["grad_bytes"] = 4 * n_params
    if ranks:
        result["exposed_wait_s"] = waited[0] / steps
        flat = mg.zeros(n_params)
        samples = []
        for _ in range(max(10, steps // 2)):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(flat)
            samples.append(time.perf_counter() - start)
        result["allreduce_s"] = statistics.median(samples)
        result["buckets"] = len(ddp._buckets)
        every = [None] * world
        dist.all_gather_object(every, result)
        if rank == 0:
            result["step_s"] = max(r["step_s"] for r in every)  # a step is done when the slowest rank is
            result["exposed_wait_s"] = statistics.fmean(r["exposed_wait_s"] for r in every)
            print("RESULT " + json.dumps(result), flush=True)
        dist.destroy_process_group()
    else:
        print("RESULT " + json.dumps(result), flush=True)


# --- the parent -------------------------------------------------------------------------------------


def run_config(name: str, steps: int, warmup: int) -> dict:
    ranks, threads, batch = CONFIGS[name]
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["BENCH_RANKS"] = str(ranks)
    env["BENCH_BATCH"] = str(batch)
    program = [sys.executable, os.path.abspath(__file__), "--child", "--steps", str(steps), "--warmup", str(warmup)]
    command = program if ranks == 0 else [_mpiexec(), "-n", str(ranks), *program]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{name}: exit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return json.loads(lines[-1][len("RESULT ") :])


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="a smoke test: one round, few steps")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    steps = args.steps or (10 if args.quick else 100)
    warmup = args.warmup or (2 if args.quick else 10)
    if args.child:
        child(steps, warmup)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    if _mpiexec() is None:
        print("benchmarks/distributed.py: no mpiexec beside the Python nor on PATH (pip install mpi4py mpich)")
        return 1
    before = loadavg()
    results: dict = {name: [] for name in CONFIGS}
    for k in range(rounds):
        for name in CONFIGS:
            print(f"round {k + 1}/{rounds}: {name}", file=sys.stderr)
            results[name].append(run_config(name, steps, warmup))
    after = loadavg()

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    base = med("1 process, 1 thread", "step_s")
    print(f"\nThe small CNN, global batch {GLOBAL_BATCH}, float32, SGD momentum; medians over {rounds} rounds")
    print(f"load average before/after: {before} / {after} on {os.cpu_count()} cores (shared with other processes)\n")
    print("| configuration | step (ms) | images/s | speed-up | allreduce alone (ms) | exposed wait (ms) |")
    print("|---|---|---|---|---|---|")
    for name in CONFIGS:
        step = med(name, "step_s")
        ranks, _, batch = CONFIGS[name]
        comm = f"{1e3 * med(name, 'allreduce_s'):.3f}" if ranks else "-"
        wait = f"{1e3 * med(name, 'exposed_wait_s'):.3f}" if ranks else "-"
        images = batch * max(ranks, 1)
        speed = f"{base / step:.2f}x" if images == GLOBAL_BATCH else "-"
        print(f"| {name} | {1e3 * step:.2f} | {images / step:.0f} | {speed} | {comm} | {wait} |")
    grad_bytes = results["2 ranks"][0]["grad_bytes"]
    buckets = results["2 ranks"][0]["buckets"]
    local = med("2 ranks", "allreduce_s")
    print(f"\ngradient: {grad_bytes / 1e6:.3f} MB per step in {buckets} bucket(s)")
    print(
        f"measured allreduce between 2 ranks on this machine: {1e3 * local:.3f} ms, i.e. "
        f"{grad_bytes / local / 1e9:.2f} GB/s of gradient per second (shared memory)"
    )
    per_rank = GLOBAL_BATCH // 2
    compute_half = med("1 process, 1 thread, 32 images", "step_s")  # one rank's step on a machine of its own
    print(
        f"\ncost model: one rank per machine, {per_rank} images per rank and step (weak scaling), compute "
        f"{1e3 * compute_half:.2f} ms per step (1 process, 1 thread, 32 images), communication not overlapped:"
    )
    print("t_comm = 2 (N-1)/N * bytes / bandwidth + 2 (N-1) * latency per bucket\n")
    print("| link | N | t_comm (ms) | images/s | efficiency |")
    print("|---|---|---|---|---|")
    for link, bandwidth, latency in LINKS:
        for n in (2, 4, 8, 16, 64):
            t_comm = 2 * (n - 1) / n * grad_bytes / bandwidth + 2 * (n - 1) * latency * buckets
            rate = n * per_rank / (compute_half + t_comm)
            ideal = n * per_rank / compute_half
            print(f"| {link} | {n} | {1e3 * t_comm:.3f} | {rate:.0f} | {rate / ideal:.0%} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

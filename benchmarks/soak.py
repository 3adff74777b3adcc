"""Soak: train a small MLP for 10,000 steps and report resident memory; it must stay flat.

After a warm-up of 1,000 steps, resident memory (RSS, from /proc/self/statm)
must grow by less than 5 MB. The test suite runs a 2,000-step version with
tracemalloc (tests/test_reliability.py).

Run: ``python benchmarks/soak.py [--steps N]``.
"""

from __future__ import annotations

import argparse
import os
import time

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=1_000)
    args = parser.parse_args()
    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    x, y = mg.randn(64, 64), mg.randint(0, 10, (64,))
    start = time.perf_counter()
    baseline = None
    print(f"{'step':>7} {'RSS MB':>8} {'loss':>8}")
    for step in range(1, args.steps + 1):
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step == args.warmup:
            baseline = rss_mb()
        if step % 1000 == 0:
            print(f"{step:>7} {rss_mb():>8.2f} {loss.item():>8.4f}")
    growth = rss_mb() - baseline
    print(f"{args.steps} steps in {time.perf_counter() - start:.1f} s; RSS growth after warm-up: {growth:+.2f} MB")
    print("flat" if growth < 5 else "GROWING: more than 5 MB")
    return 0 if growth < 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""minigrad.compile: eager against compiled (capture once, replay), with PyTorch eager beside them.

Two cases: the 5-op chain ``((x*2+1).relu()*x).sum().backward()`` on 10
float32 elements (per-op overhead), and the MLP training step of
benchmarks/mlp_step.py (784-256-128-10, batch 128, float32, SGD lr = 0.1:
the arithmetic dominates). Every implementation runs alone in its own
process, alternated over rounds; the numbers are medians (see
benchmarks/README.md). Run:

    python benchmarks/compile.py            # about a minute
    python benchmarks/compile.py --quick    # smoke test
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

CASES = ["chain5", "mlp_step"]
IMPLS = [
    h.Impl("eager", "compile:eager_step"),
    h.Impl("compiled", "compile:compiled_step"),
    h.Impl("torch", "compile:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=5, warmup=50, repeats=60, sample_s=2e-3, busy_cores=0.75)
QUICK = h.Settings(rounds=1, warmup=5, repeats=5, sample_s=0, busy_cores=0.75, quiet_wait_s=0)


def _chain(lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal(10).astype(np.float32), requires_grad=True)

    def step():
        y = ((x * 2 + 1).relu() * x).sum()
        y.backward()
        return y

    return step, x


def _minigrad(case: str, compiled: bool):
    import minigrad as mg

    mg.tune_malloc()  # a benchmark owns its process
    if case == "chain5":
        step, x = _chain(mg)

        def run(x):
            y = ((x * 2 + 1).relu() * x).sum()
            y.backward()
            return y

        fn = mg.compile(run) if compiled else run
        return lambda: fn(x)
    import mlp_step

    step = mlp_step.minigrad_step()  # nn.Linear layers, F.cross_entropy, optim.SGD, as a user writes it
    return mg.compile(step) if compiled else step


def eager_step(case: str):
    return _minigrad(case, compiled=False)


def compiled_step(case: str):
    return _minigrad(case, compiled=True)


def torch_step(case: str):
    import torch

    if case == "chain5":
        return _chain(torch)[0]
    import mlp_step

    return mlp_step.torch_step()


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK)
    results = h.run(IMPLS, CASES, settings)
    print(h.header("minigrad.compile: eager vs compiled minigrad (and PyTorch eager)", settings, results))
    print()
    columns = {"eager": "mg eager", "compiled": "mg compiled", "torch": "torch eager"}
    ratios = [("compiled", "eager"), ("compiled", "torch"), ("eager", "torch")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="case", rows=CASES))
    print()
    for case in CASES:
        print(f"per-process medians (one per round), {case}:")
        print(h.round_medians(results, case))
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""A small runner that times each implementation alone in its own process.

BLAS and PyTorch thread pools keep spinning for a while after a call, so two
libraries timed in one process slow each other down (10-40x on a 2-core
machine). Here every measurement runs in a fresh ``python`` subprocess that
imports one implementation only; the implementations are alternated over
several rounds (A B C A B C ...) so that slow phases of a noisy machine hit
them all alike, and the parent reports medians over all rounds.

An implementation is named by ``"module:function"``. The function is called
in the child as ``function(case)`` for each benchmark case (a string) and
returns a zero-argument step callable, or ``None`` when it does not take part
in that case. The child warms the step up, picks how many calls make one
timing sample (so that samples of microsecond ops are long enough for
``time.perf_counter``), takes ``repeats`` samples and prints the per-call
times as JSON on its last line of stdout.

This module uses the standard library only: the parent imports no numerical
library, so it disturbs nothing.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class Impl:
    """One implementation: a column of the table.

    ``setup`` is ``"module:function"`` (the module is looked up on a path
    holding benchmarks/ and the repository root, so ``minigrad`` is the
    working tree's). ``requires`` lists modules that must import, else the
    implementation is skipped (PyTorch where it is not installed).
    """

    name: str
    setup: str
    requires: tuple = ()


@dataclass
class Settings:
    rounds: int = 5
    warmup: int = 20
    repeats: int = 50
    sample_s: float = 1e-3  # target length of one timing sample; 0 means one call per sample


@dataclass
class Results:
    """Per-call times (seconds) of every implementation and case, over all rounds."""

    impls: list
    cases: list
    times: dict = field(default_factory=dict)  # (impl, case) -> list of per-call times
    rounds: dict = field(default_factory=dict)  # (impl, case) -> list of per-round medians
    skipped: dict = field(default_factory=dict)  # impl -> reason
    info: dict = field(default_factory=dict)  # impl -> what the child reported (versions, threads)

    def median(self, impl: str, case: str):
        t = self.times.get((impl, case))
        return statistics.median(t) if t else None


# --- the child ------------------------------------------------------------------

_CHILD = (
    "import sys; sys.path[:0] = {path!r}; import _harness; _harness.child_main(sys.argv[1])"
)


def child_main(spec_json: str) -> None:
    """Run in the subprocess: set up and time every case of one implementation."""
    spec = json.loads(spec_json)
    for name in spec["requires"]:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(json.dumps({"skipped": f"{name} does not import ({exc})"}))
            return
    module_name, _, func_name = spec["setup"].partition(":")
    setup = getattr(importlib.import_module(module_name), func_name)
    out = {"cases": {}, "info": _info()}
    for case in spec["cases"]:
        step = setup(case)
        if step is None:
            continue
        out["cases"][case] = _time(step, spec["warmup"], spec["repeats"], spec["sample_s"])
        del step
    print(json.dumps(out))


def _time(step, warmup: int, repeats: int, sample_s: float) -> list:
    """Per-call times of ``repeats`` samples of ``step``, after ``warmup`` calls."""
    perf_counter = time.perf_counter
    for _ in range(warmup):
        step()
    inner = 1
    if sample_s > 0:  # calls per sample, so that one sample lasts about sample_s
        n, t0 = 0, perf_counter()
        while n < 5 or perf_counter() - t0 < 0.02:
            step()
            n += 1
        per_call = (perf_counter() - t0) / n
        inner = max(1, int(sample_s / per_call))
    loop = range(inner)
    gc.collect()  # start clean; gc stays on: collecting an engine's garbage is part of its cost
    times = []
    for _ in range(repeats):
        t0 = perf_counter()
        for _ in loop:
            step()
        times.append((perf_counter() - t0) / inner)
    return times


def _info() -> dict:
    """Versions and thread counts of the numerical libraries this child loaded."""
    info = {}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        info["numpy"] = numpy.__version__
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    if "minigrad" in sys.modules:
        info["minigrad"] = getattr(sys.modules["minigrad"], "__version__", "?")
    return info


# --- the parent --------------------------------------------------------------------


def _launch(impl: Impl, cases: list, settings: Settings) -> dict:
    spec = {
        "setup": impl.setup,
        "requires": list(impl.requires),
        "cases": cases,
        "warmup": settings.warmup,
        "repeats": settings.repeats,
        "sample_s": settings.sample_s,
    }
    code = _CHILD.format(path=[BENCH_DIR, REPO_ROOT])
    proc = subprocess.run(
        [sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child for {impl.name} failed (exit {proc.returncode}):\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"benchmark child for {impl.name} printed nothing:\n{proc.stderr}")
    return json.loads(lines[-1])


def run(impls: list, cases: list, settings: Settings, *, progress: bool = True) -> Results:
    """Time every implementation on every case, each round launching one fresh process per implementation."""
    results = Results(impls=[i.name for i in impls], cases=list(cases))
    active = list(impls)
    start = time.perf_counter()
    for r in range(settings.rounds):
        for impl in list(active):
            out = _launch(impl, list(cases), settings)
            if "skipped" in out:
                results.skipped[impl.name] = out["skipped"]
                active.remove(impl)
                results.impls.remove(impl.name)
                continue
            results.info[impl.name] = out["info"]
            for case, times in out["cases"].items():
                results.times.setdefault((impl.name, case), []).extend(times)
                results.rounds.setdefault((impl.name, case), []).append(statistics.median(times))
        if progress:
            print(f"  round {r + 1}/{settings.rounds} done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return results


# --- reporting ---------------------------------------------------------------------


def fmt_time(seconds) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us" if seconds < 1e-5 else f"{seconds * 1e6:.1f} us"
    return f"{seconds * 1e3:.3f} ms"


def fmt_ratio(num, den) -> str:
    if num is None or den is None or den == 0:
        return "-"
    return f"{num / den:.2f}x"


def table(results: Results, *, columns: dict, ratios: list, row_title: str = "case", rows=None) -> str:
    """A plain-text table: one row per case, the median of each implementation, then ratios.

    ``columns`` maps implementation names to column headings (implementations
    that were skipped are left out); ``ratios`` lists ``(numerator,
    denominator)`` implementation names.
    """
    rows = results.cases if rows is None else rows
    shown = [name for name in columns if name in results.impls]
    ratio_pairs = [(a, b) for a, b in ratios if a in results.impls and b in results.impls]
    header = [row_title] + [columns[n] for n in shown] + [f"{a}/{b}" for a, b in ratio_pairs]
    body = []
    for case in rows:
        line = [case] + [fmt_time(results.median(n, case)) for n in shown]
        line += [fmt_ratio(results.median(a, case), results.median(b, case)) for a, b in ratio_pairs]
        body.append(line)
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for line in body:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    return "\n".join(out)


def round_medians(results: Results, case: str) -> str:
    """Each implementation's per-process medians for ``case``: how much the rounds agree."""
    lines = []
    for name in results.impls:
        meds = results.rounds.get((name, case))
        if meds:
            lines.append(f"  {name:>9}: " + "  ".join(fmt_time(m) for m in meds))
    return "\n".join(lines)


def header(title: str, settings: Settings, results: Results) -> str:
    """What ran where: the machine, the library versions each child saw, the BLAS environment."""
    lines = [title, "=" * len(title)]
    lines.append(
        f"python {platform.python_version()}, {os.cpu_count()} cores, {settings.rounds} rounds x "
        f"{settings.repeats} samples per implementation (each in its own process, alternated), medians"
    )
    for name in results.impls:
        info = results.info.get(name, {})
        lines.append(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    for name, reason in results.skipped.items():
        lines.append(f"  {name}: skipped ({reason})")
    env = [f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ]
    lines.append("  BLAS environment: " + (" ".join(env) if env else "none of " + ", ".join(BLAS_ENV[:2]) + " set"))
    return "\n".join(lines)


def parse_args(description: str, default: Settings, quick: Settings) -> tuple:
    """Common command line: ``--quick`` for a smoke test, ``--rounds``/``--repeats`` to override."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="few rounds and repeats (a smoke test, not a measurement)")
    parser.add_argument("--rounds", type=int, help="processes per implementation (alternated)")
    parser.add_argument("--repeats", type=int, help="timed samples per process and case")
    parser.add_argument("--json", metavar="PATH", help="also write the medians to PATH as JSON")
    args = parser.parse_args()
    settings = Settings(**vars(quick if args.quick else default))
    if args.rounds:
        settings.rounds = args.rounds
    if args.repeats:
        settings.repeats = args.repeats
    return args, settings


def write_json(path: str, results: Results, settings: Settings) -> None:
    data = {
        "settings": vars(settings),
        "info": results.info,
        "skipped": results.skipped,
        "median_s": {f"{impl}/{case}": results.median(impl, case) for impl, case in results.times},
        "round_medians_s": {f"{impl}/{case}": meds for (impl, case), meds in results.rounds.items()},
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=2)

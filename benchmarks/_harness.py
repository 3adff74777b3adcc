"""A small runner that times each implementation alone in its own process.

BLAS and PyTorch thread pools keep spinning for a while after a call, so two
libraries timed in one process slow each other down (10-40x on a 2-core
machine). Here every measurement runs in a fresh ``python`` subprocess that
imports one implementation only; the implementations are alternated over
several rounds (A B C A B C ...) so that slow phases of a noisy machine hit
them all alike, and the parent reports medians over all rounds.

On a shared machine other processes (a test suite, a build) take cores away,
and a two-thread BLAS call then slows down two- to twenty-fold. So the parent
waits, within a budget, for the machine to go quiet before each launch; each
child measures how much CPU other processes used while it timed (from
/proc/stat), and processes that ran disturbed are left out of the medians
when at least half of the processes ran quiet.

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
    python_env: str | None = None  # an environment variable naming another interpreter for this one (a venv)


@dataclass
class Settings:
    rounds: int = 5
    warmup: int = 20
    repeats: int = 50
    sample_s: float = 1e-3  # target length of one timing sample; 0 means one call per sample
    busy_cores: float = 0.25  # other processes' CPU use (in cores) above which a measurement counts as disturbed
    quiet_wait_s: float = 60.0  # at most this long in all, wait for the machine to go quiet before a launch


@dataclass
class Results:
    """Per-call times (seconds) of every implementation and case, one list per process (round)."""

    impls: list
    cases: list
    busy_cores: float = 0.25
    runs: dict = field(default_factory=dict)  # (impl, case) -> [(times, other processes' load in cores)]
    skipped: dict = field(default_factory=dict)  # impl -> reason
    info: dict = field(default_factory=dict)  # impl -> what the child reported (versions, threads)
    waited_s: float = 0.0  # time spent waiting for other processes to go quiet

    def samples(self, impl: str, case: str) -> tuple:
        """The pooled per-call times, and whether disturbed processes had to be included.

        Processes during which other processes used more than ``busy_cores``
        are left out, as long as at least half of the processes were quiet.
        """
        runs = self.runs.get((impl, case), [])
        quiet = [t for t, load in runs if load is None or load <= self.busy_cores]
        use, disturbed = (quiet, False) if 2 * len(quiet) >= len(runs) else ([t for t, _ in runs], True)
        return [x for t in use for x in t], disturbed

    def median(self, impl: str, case: str):
        times, _ = self.samples(impl, case)
        return statistics.median(times) if times else None

    def disturbed(self) -> list:
        """(impl, case) whose median had to include processes disturbed by other load."""
        return [key for key in self.runs if self.samples(*key)[1]]

    def ratio(self, num: str, den: str, case: str):
        """``num``'s time over ``den``'s: the median over rounds of the two processes' ratio in one round.

        The processes of one round ran seconds apart, so a slow phase of the
        machine (which no load figure shows, e.g. the host taking a core away)
        hits both; pairing them keeps it out of the ratio. Rounds where
        either ran disturbed are left out while at least half are quiet.
        """
        a, b = self.runs.get((num, case), []), self.runs.get((den, case), [])
        pairs = [(statistics.median(ta), statistics.median(tb), la, lb) for (ta, la), (tb, lb) in zip(a, b)]
        if not pairs:
            return None
        quiet = [p for p in pairs if all(load is None or load <= self.busy_cores for load in p[2:])]
        use = quiet if 2 * len(quiet) >= len(pairs) else pairs
        return statistics.median(x / y for x, y, _, _ in use)


# --- the child ------------------------------------------------------------------

_CHILD = "import sys; sys.path[:0] = {path!r}; import _harness; _harness.child_main(sys.argv[1])"


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
        gc.collect()
    print(json.dumps(out))


def _time(step, warmup: int, repeats: int, sample_s: float) -> dict:
    """Per-call times of ``repeats`` samples of ``step``, after ``warmup`` calls,
    and the CPU (in cores) that other processes used meanwhile."""
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
    busy0, own0, wall0 = _machine_busy_s(), time.process_time(), perf_counter()
    for _ in range(repeats):
        t0 = perf_counter()
        for _ in loop:
            step()
        times.append((perf_counter() - t0) / inner)
    busy1, own1, wall1 = _machine_busy_s(), time.process_time(), perf_counter()
    other = None if busy0 is None else max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall1 - wall0)
    return {"times": times, "other_load": other}


def _machine_busy_s():
    """CPU seconds all processes have used on this machine (Linux /proc/stat; None elsewhere).

    Time stolen by the hypervisor counts as busy: it slows a measurement as
    much as another process does.
    """
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def other_load(interval: float = 0.25):
    """The CPU, in cores, that processes other than this one used over ``interval`` seconds."""
    busy0, own0, t0 = _machine_busy_s(), time.process_time(), time.perf_counter()
    time.sleep(interval)
    busy1, own1, t1 = _machine_busy_s(), time.process_time(), time.perf_counter()
    if busy0 is None:
        return None
    return max(0.0, (busy1 - busy0) - (own1 - own0)) / (t1 - t0)


def _info() -> dict:
    """Versions and thread counts of the numerical libraries this child loaded."""
    info = {}
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        info["numpy"] = numpy.__version__
    torch = sys.modules.get("torch")
    if torch is not None:
        info["torch"] = f"{torch.__version__} ({torch.get_num_threads()} threads)"
    jax = sys.modules.get("jax")
    if jax is not None:
        info["jax"] = jax.__version__
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
    python = (os.environ.get(impl.python_env) if impl.python_env else None) or sys.executable
    proc = subprocess.run(
        [python, "-c", code, json.dumps(spec)], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child for {impl.name} failed (exit {proc.returncode}):\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"benchmark child for {impl.name} printed nothing:\n{proc.stderr}")
    return json.loads(lines[-1])


def _wait_quiet(settings: Settings, results: Results) -> None:
    """Wait (within the run's budget) until other processes leave the CPU alone."""
    while results.waited_s < settings.quiet_wait_s:
        load = other_load()
        if load is None or load <= settings.busy_cores:
            return
        results.waited_s += 0.25


def run(impls: list, cases: list, settings: Settings, *, progress: bool = True) -> Results:
    """Time every implementation on every case, each round launching one fresh process per implementation."""
    results = Results(impls=[i.name for i in impls], cases=list(cases), busy_cores=settings.busy_cores)
    active = list(impls)
    start = time.perf_counter()
    for r in range(settings.rounds):
        for impl in list(active):
            _wait_quiet(settings, results)
            out = _launch(impl, list(cases), settings)
            if "skipped" in out:
                results.skipped[impl.name] = out["skipped"]
                active.remove(impl)
                results.impls.remove(impl.name)
                continue
            results.info[impl.name] = out["info"]
            for case, run_ in out["cases"].items():
                results.runs.setdefault((impl.name, case), []).append((run_["times"], run_["other_load"]))
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
    """A plain-text table: one row per case, the median of each implementation, then ratios
    (each the median over rounds of the same-round ratio, see :meth:`Results.ratio`).

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
        line += [fmt_ratio(results.ratio(a, b, case), 1.0) for a, b in ratio_pairs]
        body.append(line)
    widths = [max(len(str(r[i])) for r in [header, *body]) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    out.append("  ".join("-" * w for w in widths))
    for line in body:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    return "\n".join(out)


def round_medians(results: Results, case: str) -> str:
    """Each implementation's per-process medians for ``case``: how much the rounds agree.

    A ``*`` marks a process during which other processes used more than
    ``busy_cores`` of CPU (left out of the medians when most were quiet).
    """
    lines = []
    for name in results.impls:
        runs = results.runs.get((name, case))
        if runs:
            cells = [
                fmt_time(statistics.median(t)) + ("*" if load is not None and load > results.busy_cores else "")
                for t, load in runs
            ]
            lines.append(f"  {name:>9}: " + "  ".join(cells))
    return "\n".join(lines)


def header(title: str, settings: Settings, results: Results) -> str:
    """What ran where: the machine, the library versions each child saw, the BLAS environment."""
    lines = [title, "=" * len(title)]
    lines.append(
        f"python {platform.python_version()}, {os.cpu_count()} cores, {settings.rounds} rounds x "
        f"{settings.repeats} samples per implementation (each in its own process, alternated), medians;"
        " ratios are medians of same-round ratios"
    )
    for name in results.impls:
        info = results.info.get(name, {})
        lines.append(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    for name, reason in results.skipped.items():
        lines.append(f"  {name}: skipped ({reason})")
    disturbed = [f"{impl}/{case}" for impl, case in results.disturbed()]
    noisy = sum(
        1 for runs in results.runs.values() for _, load in runs if load is not None and load > results.busy_cores
    )
    total = sum(len(runs) for runs in results.runs.values())
    kept = ""
    if disturbed:
        named = ", ".join(disturbed[:4]) + (f" and {len(disturbed) - 4} more" if len(disturbed) > 4 else "")
        kept = f"; most were disturbed, so all are kept, for {named}"
    lines.append(
        f"  other processes: waited {results.waited_s:.0f} s for quiet; {noisy} of {total} measurements ran with"
        f" > {results.busy_cores} cores of other load (marked *), left out where most were quiet{kept}"
    )
    env = [f"{k}={os.environ[k]}" for k in BLAS_ENV if k in os.environ]
    lines.append("  BLAS environment: " + (" ".join(env) if env else "none of " + ", ".join(BLAS_ENV[:2]) + " set"))
    return "\n".join(lines)


def parse_args(description: str, default: Settings, quick: Settings, check: str | None = None) -> tuple:
    """Common command line: ``--quick`` for a smoke test, ``--rounds``/``--repeats`` to override.

    ``check``, the help text of a ``--check`` option, gives a script that
    option (compare the implementations' results, no timing).
    """
    parser = argparse.ArgumentParser(description=description)
    if check is not None:
        parser.add_argument("--check", action="store_true", help=check)
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
        "median_s": {f"{impl}/{case}": results.median(impl, case) for impl, case in results.runs},
        "processes": {
            f"{impl}/{case}": [{"median_s": statistics.median(t), "other_load_cores": load} for t, load in runs]
            for (impl, case), runs in results.runs.items()
        },
    }
    with open(path, "w") as f:
        json.dump(data, f, indent=2)


def finish(results: Results, settings: Settings, json_path) -> int:
    """The common end of every benchmark: warn when other load disturbed the run, write JSON if asked."""
    if results.disturbed():
        print("WARNING: measured while other processes loaded the CPU; rerun on a quiet machine")
    if json_path:
        write_json(json_path, results, settings)
    return 0


# --- checks and profiles of a step-benchmark's implementations (no timing) -------------------------------


def check_steps(minigrad_step, torch_step) -> int:
    """In this process (no timing): the first gradients and three steps' losses of each implementation.

    Each maker returns a step function with a ``grads()`` method (name -> array of the first step's
    gradients); torch's is skipped when PyTorch is not installed. Returns 1 when an implementation's
    numbers differ from the first one's or its loss does not fall.
    """
    import numpy as np

    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)  # the working tree's minigrad
    makers = {"minigrad": minigrad_step}
    try:
        import torch  # noqa: F401

        makers["torch"] = torch_step
    except ImportError:
        print("torch: not installed, skipped")
    ref = None
    status = 0
    for name, make in makers.items():
        step = make()
        grads = step.grads()
        losses = [float(step().item()) for _ in range(3)]
        finite = all(np.isfinite(v) for v in losses) and all(np.isfinite(g).all() for g in grads.values())
        if ref is None:
            ref = (grads, losses)
        grad_err = max(float(np.max(np.abs(g - ref[0][k])) / (np.max(np.abs(ref[0][k])) + 1e-30))
                       for k, g in grads.items())  # fmt: skip
        loss_err = max(abs(a - b) / abs(b) for a, b in zip(losses, ref[1]))
        ok = finite and grad_err < 1e-4 and loss_err < 1e-5 and losses[-1] < losses[0]
        status |= not ok
        print(f"{name:>9}: losses {' '.join(f'{v:.6f}' for v in losses)}  max relative |grad - first| "
              f"{grad_err:.1e}, |loss - first| {loss_err:.1e}  {'ok' if ok else 'MISMATCH'}")  # fmt: skip
    return status


def profile_step(minigrad_step, steps: int = 3) -> int:
    """cProfile of minigrad's step (after a warm-up step): where its time goes."""
    import cProfile
    import pstats

    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    step = minigrad_step()
    step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step()
    prof.disable()
    print(f"minigrad, {steps} steps:")
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    return 0

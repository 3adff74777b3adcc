"""Launch a worker script under ``mpiexec -n N`` from a test, with a bounded time.

The worker runs with the Python that runs the tests (so CI's virtual
environment, whose dev extra brings mpi4py and the mpich wheel), and the
``mpiexec`` beside it (the mpich wheel installs it into the environment's
``bin``) or else the one on PATH. ``requires_mpi`` skips a test, with the
reason, where mpi4py or mpiexec is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir, os.pardir))
WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers")


def find_mpiexec() -> str | None:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.path.exists(beside):
        return beside
    return shutil.which("mpiexec")


def _missing() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return f'mpi4py is not installed for {sys.executable} (pip install "minigrad[distributed]", or the dev extra)'
    if find_mpiexec() is None:
        return "no mpiexec beside the Python nor on PATH (pip install mpich)"
    return None


requires_mpi = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def run_workers(script: str, *args: str, n: int = 2, timeout: float = 120, env: dict | None = None, cwd=ROOT,
                launcher_args: tuple = (), output_dir=None):  # fmt: skip
    """Run ``workers/<script>`` (or the script at an absolute path) on ``n`` ranks, in ``cwd``.

    Returns the CompletedProcess (stdout and stderr as text). ``launcher_args``
    go to mpiexec before the program (e.g. ``-disable-auto-cleanup``). With
    ``output_dir`` the output goes through files there instead of pipes
    (under ``-disable-auto-cleanup``, Hydra ends the job when a rank dies
    and its output is a pipe, which would hide what the survivors do).

    One BLAS thread per rank: the ranks share the machine's cores.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = ROOT + os.pathsep + environment.get("PYTHONPATH", "")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    environment.update(env or {})
    command = [find_mpiexec(), *launcher_args, "-n", str(n), sys.executable, os.path.join(WORKERS, script), *args]
    if output_dir is None:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=cwd)
    out, err = os.path.join(output_dir, "stdout.txt"), os.path.join(output_dir, "stderr.txt")
    with open(out, "w") as o, open(err, "w") as e:
        done = subprocess.run(command, stdout=o, stderr=e, stdin=subprocess.DEVNULL, timeout=timeout, env=environment,
                              cwd=cwd)  # fmt: skip
    with open(out) as o, open(err) as e:
        return subprocess.CompletedProcess(command, done.returncode, o.read(), e.read())


def check(result) -> str:
    """Assert the job succeeded on every rank; return its stdout."""
    assert result.returncode == 0, (
        f"mpiexec exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, dead but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return state not in ("Z", "X")

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


def run_workers(script: str, *args: str, n: int = 2, timeout: float = 120, env: dict | None = None, cwd=ROOT):
    """Run ``workers/<script>`` (or the script at an absolute path) on ``n`` ranks, in ``cwd``.

    Returns the CompletedProcess (stdout and stderr as text).

    One BLAS thread per rank: the ranks share the machine's cores.
    """
    environment = dict(os.environ)
    environment["PYTHONPATH"] = ROOT + os.pathsep + environment.get("PYTHONPATH", "")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    environment.update(env or {})
    command = [find_mpiexec(), "-n", str(n), sys.executable, os.path.join(WORKERS, script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=environment, cwd=cwd)


def check(result) -> str:
    """Assert the job succeeded on every rank; return its stdout."""
    assert result.returncode == 0, (
        f"mpiexec exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout

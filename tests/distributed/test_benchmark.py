"""benchmarks/distributed.py runs (``--quick``, a few steps; no timing asserted): its table has every
configuration, the gradient size of the small CNN, and the cost model's rows."""

import pathlib
import subprocess
import sys

from mpi_launch import requires_mpi

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "distributed.py"


@requires_mpi
def test_the_distributed_benchmark_runs():
    args = ["--quick", "--steps", "3", "--warmup", "1"]
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for name in ("1 process, 1 thread", "1 process, 2 threads", "1 rank", "2 ranks", "1 process, 1 thread, 32 images"):
        assert f"| {name} |" in out, out
    n_params = 32 * 9 + 32 + 64 * 32 * 9 + 64 + 1024 * 128 + 128 + 128 * 10 + 10
    assert f"gradient: {4 * n_params / 1e6:.3f} MB per step in 1 bucket(s)" in out, out
    assert out.count("| 10 GbE |") == 5 and "t_comm = 2 (N-1)/N * bytes / bandwidth" in out

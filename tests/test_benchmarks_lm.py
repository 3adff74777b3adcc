"""The language-model benchmarks (benchmarks/lstm_lm_step.py, tiny_gpt_step.py) run their ``--check``:
a step of each implementation built, the first gradients and three losses compared (against PyTorch
where it is installed, else minigrad's own), finite, and the loss going down. No timing."""

import os
import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", ["lstm_lm_step.py", "tiny_gpt_step.py"])
def test_language_model_benchmark_checks(script):
    # one BLAS thread in the child: a two-thread GEMM slows down many-fold on a loaded 2-core machine (README)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--check"], capture_output=True, text=True,
                          timeout=600, check=False, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "losses" in line]
    assert lines and lines[0].split()[0] == "minigrad:" and all(line.endswith("ok") for line in lines)

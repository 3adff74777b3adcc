"""The language-model benchmarks (benchmarks/lstm_lm_step.py, tiny_gpt_step.py) run their ``--check``:
a step of each implementation built, the first gradients and three losses compared (against PyTorch
where it is installed, else minigrad's own), finite, and the loss going down. No timing."""

import pathlib
import subprocess
import sys

import pytest

BENCHMARKS = pathlib.Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.mark.parametrize("script", ["lstm_lm_step.py", "tiny_gpt_step.py"])
def test_language_model_benchmark_checks(script):
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--check"], capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "losses" in line]
    assert lines and lines[0].split()[0] == "minigrad:" and all(line.endswith("ok") for line in lines)

"""``minigrad train`` under ``mpiexec -n 2``: one report and one set of files (rank 0's), a global batch split over
the ranks, and a checkpoint that a single process resumes (``--resume`` with another N)."""

import json
import os
import subprocess
import sys

from mpi_launch import ROOT, check, find_mpiexec, requires_mpi

ARGS = ["--model", "mlp", "--epochs", "2", "--limit", "256", "--batch-size", "32", "--no-progress"]


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    return env


@requires_mpi
def test_train_on_two_ranks_then_resume_alone(tmp_path):
    out = str(tmp_path / "run")
    command = [find_mpiexec(), "-n", "2", sys.executable, "-m", "minigrad.cli", "train", *ARGS, "--out", out]
    first = check(subprocess.run([*command, "--stop-after", "1"], capture_output=True, text=True, timeout=200,
                                 env=_env(), cwd=ROOT))  # fmt: skip
    assert first.count("results in") == 1 and first.count("test accuracy") == 1  # rank 0 alone reports
    history = json.load(open(os.path.join(out, "metrics.json")))["history"]
    assert [h["epoch"] for h in history] == [1]
    assert 0 <= history[0]["train_accuracy"] <= 1 and history[0]["train_loss"] > 0
    resumed = subprocess.run(
        [sys.executable, "-m", "minigrad.cli", "train", *ARGS, "--out", out, "--resume", f"{out}/checkpoint.npz"],
        capture_output=True, text=True, timeout=200, env=_env(), cwd=ROOT,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    history2 = json.load(open(os.path.join(out, "metrics.json")))["history"]
    assert [h["epoch"] for h in history2] == [1, 2] and history2[0] == history[0]


@requires_mpi
def test_batch_must_divide_by_the_ranks(tmp_path):
    args = ["--model", "mlp", "--epochs", "1", "--limit", "64", "--batch-size", "33", "--no-progress"]
    command = [find_mpiexec(), "-n", "2", sys.executable, "-m", "minigrad.cli", "train", *args, "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=_env(), cwd=ROOT)
    assert result.returncode != 0
    assert "--batch-size 33 is the global batch: it must divide by the 2 ranks" in result.stderr

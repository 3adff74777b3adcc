"""The minigrad command: training, resuming, checking, and bad arguments."""

import json
import subprocess
import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad.cli import main

QUICK = ["--limit", "200", "--epochs", "3", "--warmup", "5", "--no-progress"]


def test_train_prints_accuracy_and_writes_results(tmp_path, capsys):
    assert main(["train", *QUICK, "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("test accuracy: ") and out[-1].endswith("%")
    history = json.loads((tmp_path / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert (tmp_path / "metrics.csv").read_text().startswith("epoch,train_loss")
    state = mg.load(tmp_path / "checkpoint.npz")
    assert state["epoch"] == 3 and "model" in state and "optimizer" in state


def test_resume_gives_the_uninterrupted_result(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    args = [*QUICK, "--epochs", "4", "--model", "cnn"]
    assert main(["train", *args, "--out", str(straight)]) == 0
    assert main(["train", *args, "--stop-after", "2", "--out", str(split)]) == 0
    assert main(["train", *args, "--out", str(split), "--resume", str(split / "checkpoint.npz")]) == 0
    a, b = mg.load(straight / "checkpoint.npz"), mg.load(split / "checkpoint.npz")
    for name in a["model"]:
        np.testing.assert_array_equal(a["model"][name].numpy(), b["model"][name].numpy())
    assert a["history"][-1]["test_loss"] == b["history"][-1]["test_loss"]


def test_resume_refuses_a_different_configuration(tmp_path, capsys):
    assert main(["train", *QUICK, "--out", str(tmp_path)]) == 0
    code = main(["train", *QUICK, "--lr", "0.1", "--out", str(tmp_path), "--resume", str(tmp_path / "checkpoint.npz")])
    assert code == 1 and "different settings: ['lr']" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["train", "--epochs", "0"], ["train", "--model", "resnet"], ["train", "--lr", "fast"], ["fly"], []],
)
def test_bad_arguments_give_usage_not_a_traceback(argv):
    result = subprocess.run([sys.executable, "-m", "minigrad.cli", *argv], capture_output=True, text=True)
    assert result.returncode == 2
    assert "usage: minigrad" in result.stderr and "Traceback" not in result.stderr


def test_missing_checkpoint_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "minigrad.cli", "train", *QUICK, "--out", str(tmp_path), "--resume", "nope.npz"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr and "nope.npz" in result.stderr


def test_check_prints_the_sanity_report(capsys):
    code = main(["check", "--model", "mlp"])
    out = capsys.readouterr().out
    assert out.startswith("sanity checks:") and "gradcheck_model" in out and "overfit_small" in out
    assert code == 0, out


def test_an_unusable_device_is_one_clear_line(tmp_path, capsys):
    assert main(["train", *QUICK, "--device", "tpu", "--out", str(tmp_path)]) == 1
    assert "unknown device 'tpu'" in capsys.readouterr().err
    if not mg.cuda.is_available():
        assert main(["train", *QUICK, "--device", "cuda", "--out", str(tmp_path)]) == 1
        assert "pip install 'minigrad[gpu]'" in capsys.readouterr().err

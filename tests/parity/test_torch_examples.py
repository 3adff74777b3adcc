"""The PyTorch-style examples of issue #17 run under PyTorch 2.13 itself: each example's source with its
``import minigrad as torch`` lines swapped for ``import torch`` (nothing else changed), on its quick
setting. This pins the claim in their docstrings that they use only PyTorch spellings; the data loader
(minigrad.data.load_digits, standing in for torchvision) and the _common helpers stay as they are."""

import pathlib
import re
import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
SWAPS = {
    "import minigrad as torch": "import torch",
    "import minigrad.nn as nn": "import torch.nn as nn",
    "import minigrad.nn.functional as F": "import torch.nn.functional as F",
}


@pytest.fixture(autouse=True)
def one_thread():
    """Small models on a shared 2-core machine: PyTorch's intra-op threads only add contention."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load_under_torch(name, monkeypatch):
    """Import examples/<name>.py with the minigrad imports swapped for PyTorch's, as module ``name``."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    path = EXAMPLES / f"{name}.py"
    source = path.read_text()
    for ours, theirs in SWAPS.items():
        source = re.sub(rf"^{re.escape(ours)}$", theirs, source, flags=re.MULTILINE)
    code_lines = [line for line in source.splitlines() if line.startswith(("import ", "from "))]
    assert not [line for line in code_lines if "minigrad" in line and "minigrad.data" not in line], code_lines
    module = types.ModuleType(name)
    module.__file__ = str(path)
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(source, str(path), "exec"), module.__dict__)
    assert module.torch is torch
    return module


def fell(losses):
    n = max(1, len(losses) // 4)
    return np.isfinite(losses).all() and np.mean(losses[-n:]) < np.mean(losses[:n])


@pytest.mark.parametrize("name", ["char_lstm", "tiny_transformer_lm", "vae_digits", "sine_lstmcell", "dcgan_digits"])
def test_example_runs_under_pytorch(name, monkeypatch, tmp_path):
    if name == "tiny_transformer_lm":
        load_under_torch("char_lstm", monkeypatch)  # it takes char_lstm's text
    result = load_under_torch(name, monkeypatch).main(["--quick", "--out", str(tmp_path)])
    if name == "sine_lstmcell":
        assert result["losses"][-1] < 0.01 * result["losses"][0] and result["future_mse"] < 0.5
    else:
        assert fell(result["moments"] if name == "dcgan_digits" else result["losses"])
    if name == "tiny_transformer_lm":
        model = result["model"]
        assert isinstance(model, torch.nn.Module) and model.head.weight is model.tok_emb.weight
        assert {"tok_emb.weight", "head.weight"} <= set(model.state_dict()) and "causal_mask" not in model.state_dict()
    if name in ("vae_digits", "dcgan_digits"):
        assert result["grid"].shape == (64, 64)

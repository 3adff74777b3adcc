"""Parity with PyTorch 2.13 for Module state dicts of weight-tied models and non-persistent buffers: the
same keys in the same order, and strict loading both ways (nn/module.py's _named_state, register_buffer)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import minigrad as mg  # noqa: E402


def build(lib):
    class TiedLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = lib.nn.Embedding(7, 4)
            self.block = lib.nn.Linear(4, 4)
            self.head = lib.nn.Linear(4, 7, bias=False)
            self.head.weight = self.tok_emb.weight
            self.register_buffer("mask", lib.ones(3, 3), persistent=False)
            self.register_buffer("steps", lib.zeros(1))

    return TiedLM()


def test_tied_weights_and_non_persistent_buffers_give_pytorchs_state_dict():
    ours, theirs = build(mg), build(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    # PyTorch's state dict loads strictly into ours, and ours into PyTorch's
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(ours.head.weight.numpy(), theirs.tok_emb.weight.detach().numpy())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})

"""One training step of an LSTM language model: minigrad against PyTorch CPU.

Embedding(256, 64) -> LSTM(64, 256, num_layers=2, batch_first=True) -> Linear(256, 256) on a batch
of 32 random token sequences of length 64, float32: forward, mean cross-entropy of the next token,
backward, Adam (lr 1e-3). Both libraries run the same code (``lib.nn``, ``lib.optim``: the port
is ``import minigrad as torch``) from the same seeded weights (loaded with ``load_state_dict``, the
keys are PyTorch's in both) and the same batch.

Every implementation runs alone in its own process, alternated over rounds; the numbers are
medians (see benchmarks/README.md). Run:

    python benchmarks/lstm_lm_step.py            # a few minutes
    python benchmarks/lstm_lm_step.py --quick    # smoke test
    python benchmarks/lstm_lm_step.py --check    # the first step's gradients and three losses compared (no timing)
    python benchmarks/lstm_lm_step.py --profile  # cProfile of minigrad's step, one process
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

VOCAB, EMBED, HIDDEN, LAYERS = 256, 64, 256, 2
SEQ, BATCH = 64, 32
LR = 1e-3
SEED = 0
CASE = "lstm_lm_step"

IMPLS = [
    h.Impl("minigrad", "lstm_lm_step:minigrad_step"),
    h.Impl("torch", "lstm_lm_step:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=5, warmup=3, repeats=10, sample_s=0)
QUICK = h.Settings(rounds=1, warmup=1, repeats=2, sample_s=0, quiet_wait_s=0)


def build(lib):
    """The model in ``lib`` (minigrad or torch): the same code for both."""

    class LSTMLM(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = lib.nn.Embedding(VOCAB, EMBED)
            self.lstm = lib.nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS, batch_first=True)
            self.head = lib.nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            out, _ = self.lstm(self.embed(tokens))
            return self.head(out)

    return LSTMLM()


def make_problem(shapes: dict, seed: int = SEED):
    """(weights by state-dict key, input tokens (B, T), next tokens (B, T)) from a fixed seed.

    LSTM and Linear weights ~ U(-1/sqrt(fan), 1/sqrt(fan)) as PyTorch initialises them, the embedding N(0, 1).
    """
    rng = np.random.default_rng(seed)
    weights = {}
    for key, shape in shapes.items():
        if key.startswith("embed"):
            weights[key] = rng.standard_normal(shape).astype(np.float32)
        else:
            bound = 1 / np.sqrt(HIDDEN)
            weights[key] = rng.uniform(-bound, bound, shape).astype(np.float32)
    tokens = rng.integers(0, VOCAB, (BATCH, SEQ + 1))
    return weights, tokens[:, :-1].copy(), tokens[:, 1:].copy()


def _setup(lib, to_tensor, as_array):
    model = build(lib)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    weights, x_np, y_np = make_problem(shapes)
    model.load_state_dict({k: to_tensor(v) for k, v in weights.items()}, strict=True)
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    x, y = to_tensor(x_np), to_tensor(y_np)
    F = lib.nn.functional

    def loss_of():
        return F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))

    def step():
        loss = loss_of()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def grads():
        """Gradients of the loss at the current weights, by state-dict key (no update)."""
        opt.zero_grad()
        loss_of().backward()
        return {name: as_array(p.grad) for name, p in model.named_parameters()}

    step.grads = grads
    return step


def minigrad_step(case: str = CASE):
    """minigrad as a user writes it (the code PyTorch's users write, on ``minigrad``)."""
    import minigrad as mg

    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    return _setup(mg, mg.tensor, lambda t: t.numpy().copy())


def torch_step(case: str = CASE):
    """PyTorch CPU, default thread count, default (for-loop) Adam."""
    import torch

    return _setup(torch, torch.from_numpy, lambda t: t.detach().numpy().copy())


# --- running ---------------------------------------------------------------------------------


def main() -> int:
    extra = "--profile" in sys.argv
    if extra:
        sys.argv.remove("--profile")
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK, check="compare gradients and losses")
    if args.check:
        return h.check_steps(minigrad_step, torch_step)
    if extra:
        return h.profile_step(minigrad_step)
    results = h.run(IMPLS, [CASE], settings)
    title = (f"LSTM LM training step: embedding {EMBED}, hidden {HIDDEN}, {LAYERS} layers, vocabulary {VOCAB}, "
             f"sequence {SEQ}, batch {BATCH}, float32, Adam")  # fmt: skip
    print(h.header(title, settings, results))
    print()
    print(h.table(results, columns={"minigrad": "minigrad", "torch": "torch"}, ratios=[("minigrad", "torch")],
                  row_title="step"))  # fmt: skip
    print()
    print("per-process medians (one per round):")
    print(h.round_medians(results, CASE))
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

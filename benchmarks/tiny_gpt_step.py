"""One training step of a tiny GPT (a causal TransformerEncoder): minigrad against PyTorch CPU.

Token embedding (256 -> 128) plus a learned position embedding (64 x 128), 4 pre-norm
TransformerEncoderLayers (width 128, 4 heads, feed-forward 512, GELU, dropout 0, batch_first)
under the causal mask (``generate_square_subsequent_mask(64)``, ``is_causal=True``), a final
LayerNorm and a Linear head to 256 tokens; a batch of 16 random sequences of 64 tokens, float32:
forward, mean cross-entropy of the next token, backward, AdamW (lr 3e-4, weight decay 0.01).
Both libraries run the same code from the same seeded weights (loaded with ``load_state_dict``;
the keys are PyTorch's in both) and the same batch.

Every implementation runs alone in its own process, alternated over rounds; the numbers are
medians (see benchmarks/README.md). Run:

    python benchmarks/tiny_gpt_step.py            # a few minutes
    python benchmarks/tiny_gpt_step.py --quick    # smoke test
    python benchmarks/tiny_gpt_step.py --check    # the first step's gradients and three losses compared (no timing)
    python benchmarks/tiny_gpt_step.py --profile  # cProfile of minigrad's step, one process
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

VOCAB, WIDTH, HEADS, LAYERS, FF = 256, 128, 4, 4, 512
CONTEXT, BATCH = 64, 16
LR, WEIGHT_DECAY = 3e-4, 0.01
SEED = 0
CASE = "tiny_gpt_step"

IMPLS = [
    h.Impl("minigrad", "tiny_gpt_step:minigrad_step"),
    h.Impl("torch", "tiny_gpt_step:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=5, warmup=3, repeats=10, sample_s=0)
QUICK = h.Settings(rounds=1, warmup=1, repeats=2, sample_s=0, quiet_wait_s=0)


def build(lib):
    """The model in ``lib`` (minigrad or torch): the same code for both."""
    nn = lib.nn

    class TinyGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(VOCAB, WIDTH)
            self.pos = nn.Parameter(lib.zeros(1, CONTEXT, WIDTH))
            layer = nn.TransformerEncoderLayer(WIDTH, HEADS, dim_feedforward=FF, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)  # fmt: skip
            self.blocks = nn.TransformerEncoder(layer, LAYERS, norm=nn.LayerNorm(WIDTH), enable_nested_tensor=False)
            self.head = nn.Linear(WIDTH, VOCAB)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(CONTEXT))

        def forward(self, tokens):
            x = self.tok(tokens) + self.pos
            return self.head(self.blocks(x, mask=self.mask, is_causal=True))

    return TinyGPT()


def make_problem(shapes: dict, seed: int = SEED):
    """(weights by state-dict key, input tokens (B, T), next tokens (B, T)) from a fixed seed: LayerNorm
    weights 1 and biases 0, every other weight N(0, 0.02) (GPT-2's), biases 0, the causal mask as built."""
    rng = np.random.default_rng(seed)
    weights = {}
    for key, shape in shapes.items():
        if key == "mask":
            continue
        if "norm" in key:
            weights[key] = np.full(shape, 1.0 if key.endswith("weight") else 0.0, np.float32)
        elif key.endswith("bias"):
            weights[key] = np.zeros(shape, np.float32)
        else:
            weights[key] = (rng.standard_normal(shape) * 0.02).astype(np.float32)
    tokens = rng.integers(0, VOCAB, (BATCH, CONTEXT + 1))
    return weights, tokens[:, :-1].copy(), tokens[:, 1:].copy()


def _setup(lib, to_tensor, as_array):
    model = build(lib)
    state = model.state_dict()
    weights, x_np, y_np = make_problem({k: tuple(v.shape) for k, v in state.items()})
    model.load_state_dict({"mask": state["mask"], **{k: to_tensor(v) for k, v in weights.items()}}, strict=True)
    opt = lib.optim.AdamW(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
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
        """Gradients of the loss at the current weights, by parameter name (no update)."""
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
    """PyTorch CPU, default thread count, default (for-loop) AdamW; its fused attention kernel is used
    where its rules allow it."""
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
    title = (f"tiny GPT training step: {LAYERS} layers, {HEADS} heads, width {WIDTH}, context {CONTEXT}, "
             f"batch {BATCH}, vocabulary {VOCAB}, float32, causal TransformerEncoder, AdamW")  # fmt: skip
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

"""minigrad.compile: eager against compiled (capture once, replay), with PyTorch eager beside them.

Four cases: the 5-op chain ``((x*2+1).relu()*x).sum().backward()`` on 10
float32 elements (per-op overhead); the MLP training step of
benchmarks/mlp_step.py (784-256-128-10, batch 128, float32, SGD lr = 0.1:
the arithmetic dominates); and two models made of many small ops, Adam
steps of an LSTM (input 16, hidden 32, sequence 12, batch 8, a linear head)
and of a tiny transformer (one encoder layer, d_model 32, 4 heads,
feed-forward 64, sequence 12, batch 8, dropout 0.1). Every implementation runs alone in its own
process, alternated over rounds; the numbers are medians (see
benchmarks/README.md). Run:

    python benchmarks/compile.py            # about a minute
    python benchmarks/compile.py --quick    # smoke test
    TORCH_PYTHON=/tmp/venv-torch/bin/python JAX_PYTHON=/tmp/venv-jax/bin/python python benchmarks/compile.py

PyTorch and JAX run under the interpreters named by ``TORCH_PYTHON`` and
``JAX_PYTHON`` when set (their own venvs), else under this one; an
implementation whose library does not import there is skipped.
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

CASES = ["chain5", "mlp_step", "lstm", "tiny_transformer"]
SEQ, BATCH, FEATURES, CLASSES = 12, 8, 16, 10
IMPLS = [
    h.Impl("eager", "compile:eager_step"),
    h.Impl("compiled", "compile:compiled_step"),
    h.Impl("torch", "compile:torch_step", requires=("torch",), python_env="TORCH_PYTHON"),
    h.Impl("jax", "compile:jax_step", requires=("jax",), python_env="JAX_PYTHON"),
]
DEFAULT = h.Settings(rounds=5, warmup=50, repeats=60, sample_s=2e-3, busy_cores=0.75)
QUICK = h.Settings(rounds=1, warmup=5, repeats=5, sample_s=0, busy_cores=0.75, quiet_wait_s=0)


def _chain(lib):
    x = lib.tensor(np.random.default_rng(0).standard_normal(10).astype(np.float32), requires_grad=True)

    def step():
        y = ((x * 2 + 1).relu() * x).sum()
        y.backward()
        return y

    return step, x


def _minigrad(case: str, compiled: bool):
    import minigrad as mg

    mg.tune_malloc()  # a benchmark owns its process
    if case == "chain5":
        step, x = _chain(mg)

        def run(x):
            y = ((x * 2 + 1).relu() * x).sum()
            y.backward()
            return y

        fn = mg.compile(run) if compiled else run
        return lambda: fn(x)
    if case in ("lstm", "tiny_transformer"):
        step = _small_ops_step(mg, case)
        return mg.compile(step) if compiled else step
    import mlp_step

    step = mlp_step.minigrad_step()  # nn.Linear layers, F.cross_entropy, optim.SGD, as a user writes it
    return mg.compile(step) if compiled else step


def _small_ops_step(lib, case: str):
    """An Adam step of the LSTM or the tiny transformer, written the same way for minigrad and PyTorch."""
    nn, F = lib.nn, lib.nn.functional
    lib.manual_seed(0)
    if case == "lstm":

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(FEATURES, 32, batch_first=True)
                self.head = nn.Linear(32, CLASSES)

            def forward(self, x):
                out, _ = self.rnn(x)
                return self.head(out[:, -1])

    else:

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Linear(FEATURES, 32)
                self.layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
                self.head = nn.Linear(32, CLASSES)

            def forward(self, x):
                return self.head(self.layer(self.embed(x)).mean(dim=1))

    model = Net()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((BATCH, SEQ, FEATURES)).astype(np.float32))
    y = lib.tensor(rng.integers(0, CLASSES, BATCH))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def eager_step(case: str):
    return _minigrad(case, compiled=False)


def compiled_step(case: str):
    return _minigrad(case, compiled=True)


def torch_step(case: str):
    import torch

    if case == "chain5":
        return _chain(torch)[0]
    if case in ("lstm", "tiny_transformer"):
        return _small_ops_step(torch, case)
    import mlp_step

    return mlp_step.torch_step()


def jax_step(case: str):
    """JAX on CPU: the step's gradient and (for the MLP) its SGD update in one ``jax.jit``; the LSTM and
    transformer steps are not written for JAX (the case is skipped)."""
    import jax
    import jax.numpy as jnp

    if case == "chain5":
        x = jnp.asarray(np.random.default_rng(0).standard_normal(10).astype(np.float32))
        grad = jax.jit(jax.value_and_grad(lambda x: (jax.nn.relu(x * 2 + 1) * x).sum()))

        def step():
            y, g = grad(x)
            g.block_until_ready()
            return y

        return step
    if case != "mlp_step":
        return None
    import mlp_step

    weights, biases, x_np, y_np = mlp_step.make_problem()
    params = [jnp.asarray(a) for pair in zip(weights, biases) for a in pair]
    x, y = jnp.asarray(x_np), jnp.asarray(y_np)

    def loss_of(params, x, y):
        w1, b1, w2, b2, w3, b3 = params
        h = jax.nn.relu(x @ w1 + b1)
        h = jax.nn.relu(h @ w2 + b2)
        logits = h @ w3 + b3
        return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[:, None], axis=1).mean()

    @jax.jit
    def update(params, x, y):
        loss, grads = jax.value_and_grad(loss_of)(params, x, y)
        return loss, [p - mlp_step.LR * g for p, g in zip(params, grads)]

    state = [params]

    def step():
        loss, state[0] = update(state[0], x, y)
        loss.block_until_ready()
        return loss

    return step


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK)
    results = h.run(IMPLS, CASES, settings)
    print(h.header("minigrad.compile: eager vs compiled minigrad (and PyTorch eager)", settings, results))
    print()
    columns = {"eager": "mg eager", "compiled": "mg compiled", "torch": "torch eager", "jax": "jax jit"}
    ratios = [("compiled", "eager"), ("compiled", "torch"), ("eager", "torch"), ("compiled", "jax")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="case", rows=CASES))
    print()
    for case in CASES:
        print(f"per-process medians (one per round), {case}:")
        print(h.round_medians(results, case))
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

"""One SGD training step of an MLP: hand-written NumPy (the limit), minigrad, PyTorch.

784-256-128-10, ReLU, batch 128, float32, cross-entropy averaged over the
batch, SGD with lr = 0.1; random data and He-initialised weights from a fixed
seed, the same in every implementation. Target: minigrad <= 1.05x NumPy.

Every implementation runs alone in its own process, alternated over rounds;
the numbers are medians (see benchmarks/README.md). Run:

    python benchmarks/mlp_step.py            # about a minute
    python benchmarks/mlp_step.py --quick    # smoke test
    python benchmarks/mlp_step.py --check    # one step of each, compared (no timing)
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

SIZES = (784, 256, 128, 10)
BATCH = 128
LR = 0.1
SEED = 0
TARGET = 1.05  # minigrad / NumPy
CASE = "mlp_step"

IMPLS = [
    h.Impl("numpy", "mlp_step:numpy_step"),
    h.Impl("minigrad", "mlp_step:minigrad_step"),
    h.Impl("torch", "mlp_step:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=15, warmup=20, repeats=150, sample_s=0)
QUICK = h.Settings(rounds=1, warmup=3, repeats=10, sample_s=0, quiet_wait_s=0)


def make_problem(seed: int = SEED):
    """(weights, biases, x, y): He-initialised float32 weights (in, out), zero biases, a random batch."""
    rng = np.random.default_rng(seed)
    weights = [
        (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:])
    ]
    biases = [np.zeros(n_out, np.float32) for n_out in SIZES[1:]]
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    return weights, biases, x, y


# --- (1) hand-written NumPy: the reference -------------------------------------------


def numpy_step(case: str = CASE):
    """Forward, backward and update by hand, as fast as we know how.

    float32 throughout (no upcasts: Python scalars keep an array's dtype),
    in-place bias adds, ReLUs, softmax and updates; the softmax/cross-entropy
    gradient fused as (softmax - onehot) / B; no gradient for the input.
    (Preallocated ``out=`` buffers and folding lr into the backward were
    tried and gained nothing measurable.)
    """
    (w1, w2, w3), (b1, b2, b3), x, y = make_problem()
    rows = np.arange(BATCH)
    lr = np.float32(LR)
    inv_b = np.float32(1.0 / BATCH)
    params = (w1, b1, w2, b2, w3, b3)

    def step():
        h1 = x @ w1
        h1 += b1
        np.maximum(h1, 0, out=h1)
        h2 = h1 @ w2
        h2 += b2
        np.maximum(h2, 0, out=h2)
        z = h2 @ w3
        z += b3
        z -= z.max(axis=1, keepdims=True)  # stable log-softmax: z - log(sum(exp(z)))
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = (np.log(s).sum() - z[rows, y].sum()) * inv_b
        e /= s  # softmax
        e[rows, y] -= 1
        e *= inv_b  # d loss / d logits = (softmax - onehot) / B
        dw3 = h2.T @ e
        db3 = e.sum(axis=0)
        d2 = e @ w3.T
        d2 *= h2 > 0
        dw2 = h1.T @ d2
        db2 = d2.sum(axis=0)
        d1 = d2 @ w2.T
        d1 *= h1 > 0
        dw1 = x.T @ d1
        db1 = d1.sum(axis=0)
        for p, g in zip(params, (dw1, db1, dw2, db2, dw3, db3)):
            g *= lr
            p -= g
        return loss

    step.params = lambda: [p.copy() for p in params]
    return step


# --- (2) minigrad, with nn and optim --------------------------------------------------------


def minigrad_step(case: str = CASE):
    """The same step as a minigrad user writes it: nn.Linear layers, F.cross_entropy, optim.SGD."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import nn, optim

    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    weights, biases, x_np, y_np = make_problem()
    model = nn.Sequential(*[layer for n_in, n_out in zip(SIZES[:-1], SIZES[1:])
                            for layer in (nn.Linear(n_in, n_out), nn.ReLU())][:-1])  # fmt: skip
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for layer, w, b in zip(linears, weights, biases):
        layer.weight.array[...] = w.T  # nn.Linear stores (out, in)
        layer.bias.array[...] = b
    opt = optim.SGD(model.parameters(), lr=LR)
    x = mg.tensor(x_np)
    y = mg.tensor(y_np)

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def current():
        out = []
        for layer in linears:
            out += [layer.weight.array.T.copy(), layer.bias.array.copy()]
        return out

    step.params = current
    return step


# --- (3) PyTorch -----------------------------------------------------------------------------


def torch_step(case: str = CASE):
    """PyTorch CPU as its users write it: F.linear (weights stored (out, in) as nn.Linear does),
    F.cross_entropy, a manual SGD update; default thread count."""
    import torch
    import torch.nn.functional as F

    weights, biases, x_np, y_np = make_problem()
    ws = [torch.tensor(w.T.copy(), requires_grad=True) for w in weights]  # (out, in)
    bs = [torch.tensor(b, requires_grad=True) for b in biases]
    (w1, w2, w3), (b1, b2, b3) = ws, bs
    params = (w1, b1, w2, b2, w3, b3)
    x = torch.from_numpy(x_np)
    y = torch.from_numpy(y_np)

    def step():
        h1 = F.relu(F.linear(x, w1, b1))
        h2 = F.relu(F.linear(h1, w2, b2))
        loss = F.cross_entropy(F.linear(h2, w3, b3), y)
        loss.backward()
        with torch.no_grad():
            for p in params:
                p.sub_(p.grad, alpha=LR)
                p.grad = None
        return loss

    def current():
        out = [p.detach().numpy().copy() for p in params]
        return [a.T.copy() if a.ndim == 2 else a for a in out]  # back to (in, out)

    step.params = current
    return step


# --- running ---------------------------------------------------------------------------------


def _as_float(loss) -> float:
    return float(loss.detach() if hasattr(loss, "detach") else loss)


def check() -> int:
    """Run a few steps of each implementation in this process (no timing) and compare them."""
    if h.REPO_ROOT not in sys.path:
        sys.path.insert(0, h.REPO_ROOT)  # the working tree's minigrad
    makers = {"numpy": numpy_step, "minigrad": minigrad_step}
    try:
        import torch  # noqa: F401

        makers["torch"] = torch_step
    except ImportError:
        print("torch: not installed, skipped")
    ref = None
    status = 0
    for name, make in makers.items():
        step = make()
        losses = [_as_float(step()) for _ in range(3)]
        params = step.params()
        if ref is None:
            ref = (losses, params)
        err = max(float(np.max(np.abs(p - q))) for p, q in zip(params, ref[1]))
        loss_err = max(abs(a - b) for a, b in zip(losses, ref[0]))
        ok = err < 1e-4 and loss_err < 1e-4
        status |= not ok
        print(f"{name:>9}: losses {' '.join(f'{v:.6f}' for v in losses)}  "
              f"max |param - numpy| {err:.2e}  {'ok' if ok else 'MISMATCH'}")  # fmt: skip
    return status


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK, check="compare a few steps, no timing")
    if args.check:
        return check()
    results = h.run(IMPLS, [CASE], settings)
    title = f"MLP training step {'-'.join(map(str, SIZES))}, batch {BATCH}, float32, SGD lr={LR}"
    print(h.header(title, settings, results))
    print()
    columns = {"numpy": "numpy", "minigrad": "minigrad", "torch": "torch"}
    ratios = [("minigrad", "numpy"), ("torch", "numpy"), ("minigrad", "torch")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="step"))
    print()
    print("per-process medians (one per round):")
    print(h.round_medians(results, CASE))
    ratio = results.ratio("minigrad", "numpy", CASE)
    verdict = "meets" if ratio <= TARGET else "misses"
    print()
    print(f"minigrad/numpy = {ratio:.3f} ({verdict} the target <= {TARGET})")
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

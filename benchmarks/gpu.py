"""Training steps on a GPU: minigrad on CuPy against PyTorch CUDA.

Cases (float32, SGD, cross-entropy, the same He-initialised weights and
random data in both libraries, already on the device):

* ``mlp-128``, ``mlp-1024``: 784-256-128-10 with ReLU, batch 128 and 1024;
* ``cnn-64``, ``cnn-512``: conv8-relu-pool-conv16-relu-pool-linear10 on
  1x28x28 (benchmarks/conv_step.py's small CNN), batch 64 and 512.

Each library is written as its users write it (nn.Sequential, the
functional cross-entropy, the library's SGD), with default settings. Kernel
launches are asynchronous, so every timed call is one training step followed
by a device synchronisation: a step's time is its latency, launch overhead
included. Each library runs alone in its own process, alternated over
rounds; the numbers are medians (see benchmarks/README.md). Target: minigrad
within 2x of PyTorch at the large batches (mlp-1024, cnn-512).

    python benchmarks/gpu.py            # about two minutes
    python benchmarks/gpu.py --quick    # smoke test
    python benchmarks/gpu.py --check    # a few steps of each, compared (no timing)
"""

from __future__ import annotations

import subprocess
import sys

import _harness as h
import numpy as np

CASES = ["mlp-128", "mlp-1024", "cnn-64", "cnn-512"]
LARGE = ("mlp-1024", "cnn-512")
TARGET = 2.0  # minigrad / PyTorch at the large batches
SIZES = (784, 256, 128, 10)
CNN = {"size": 28, "c1": 8, "c2": 16, "classes": 10}
LR = 0.01
SEED = 0

IMPLS = [
    h.Impl("minigrad", "gpu:minigrad_step", requires=("cupy",)),
    h.Impl("torch", "gpu:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=5, warmup=20, repeats=100, sample_s=0, quiet_wait_s=0)
QUICK = h.Settings(rounds=1, warmup=3, repeats=5, sample_s=0, quiet_wait_s=0)


def make_problem(case: str, seed: int = SEED) -> dict:
    """Weights in PyTorch's layouts ((out, in), (O, C, kh, kw)), small biases, a random batch and labels."""
    model, batch = case.split("-")
    rng = np.random.default_rng(seed)
    batch = int(batch)

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    def small(size):
        return (0.01 * rng.standard_normal(size)).astype(np.float32)

    if model == "mlp":
        params = []
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
            params += [he((n_out, n_in), n_in), small(n_out)]
        x = rng.standard_normal((batch, SIZES[0])).astype(np.float32)
        classes = SIZES[-1]
    else:
        s, c1, c2, classes = (CNN[key] for key in ("size", "c1", "c2", "classes"))
        feats = c2 * (s // 4) ** 2
        params = [he((c1, 1, 3, 3), 9), small(c1), he((c2, c1, 3, 3), c1 * 9), small(c2)]
        params += [he((classes, feats), feats), small(classes)]
        x = rng.standard_normal((batch, 1, s, s)).astype(np.float32)
    return {"params": params, "x": x, "y": rng.integers(0, classes, batch)}


def _layers(nn, model: str) -> list:
    """The same architecture from either library's ``nn`` (their layer names and arguments agree)."""
    if model == "mlp":
        return [nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)]
    c1, c2, s = CNN["c1"], CNN["c2"], CNN["size"]
    return [
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * (s // 4) ** 2, CNN["classes"]),
    ]  # fmt: skip


def minigrad_step(case: str):
    """minigrad on CuPy: nn.Sequential, F.cross_entropy, optim.SGD; minigrad.cuda.synchronize() ends the step."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import nn, optim

    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    prob = make_problem(case)
    model = nn.Sequential(*_layers(nn, case.split("-")[0])).to("cuda")
    for param, value in zip(model.parameters(), prob["params"]):
        param.array[...] = mg.tensor(value, device="cuda").array
    opt = optim.SGD(model.parameters(), lr=LR)
    x, y = mg.tensor(prob["x"], device="cuda"), mg.tensor(prob["y"], device="cuda")

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        mg.cuda.synchronize()
        return loss

    step.params = lambda: [p.numpy() for p in model.parameters()]
    return step


def torch_step(case: str):
    """PyTorch CUDA: torch.nn.Sequential, F.cross_entropy, torch.optim.SGD; torch.cuda.synchronize() ends the step."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    if not torch.cuda.is_available():
        return None
    prob = make_problem(case)
    model = nn.Sequential(*_layers(nn, case.split("-")[0])).to("cuda")
    with torch.no_grad():
        for param, value in zip(model.parameters(), prob["params"]):
            param.copy_(torch.from_numpy(value))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = torch.from_numpy(prob["x"]).cuda(), torch.from_numpy(prob["y"]).cuda()

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        return loss

    step.params = lambda: [p.detach().cpu().numpy() for p in model.parameters()]
    return step


def check() -> int:
    """Three steps of each library in this process (no timing); the parameters must agree to float32 rounding."""
    if h.REPO_ROOT not in sys.path:
        sys.path.insert(0, h.REPO_ROOT)
    status = 0
    for case in CASES:
        results = {}
        for name, make in (("minigrad", minigrad_step), ("torch", torch_step)):
            step = make(case)
            if step is None:
                continue
            losses = [float(step().item()) for _ in range(3)]
            results[name] = (losses, step.params())
        if len(results) < 2:
            print(f"{case}: only {list(results)} ran, nothing to compare")
            continue
        (loss_a, params_a), (loss_b, params_b) = results["minigrad"], results["torch"]
        worst = max(float(np.max(np.abs(a - b)) / (np.max(np.abs(b)) + 1e-30)) for a, b in zip(params_a, params_b))
        ok = worst < 1e-3 and np.allclose(loss_a, loss_b, rtol=1e-3)
        status |= not ok
        print(f"{case}: losses minigrad {loss_a} torch {loss_b}; worst relative parameter difference {worst:.2e}"
              f" {'ok' if ok else 'MISMATCH'}")  # fmt: skip
    return status


def gpu_name() -> str:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return out.stdout.strip().splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown GPU (nvidia-smi did not answer)"


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK, check="compare a few steps, no timing")
    if args.check:
        return check()
    results = h.run(IMPLS, CASES, settings)
    print(h.header("Training steps on a GPU, float32, step + synchronize", settings, results))
    print(f"  GPU: {gpu_name()}")
    print()
    columns = {"minigrad": "minigrad (CuPy)", "torch": "torch (CUDA)"}
    print(h.table(results, columns=columns, ratios=[("minigrad", "torch")], row_title="case"))
    print()
    for case in CASES:
        print(f"per-process medians, {case} (one per round):")
        print(h.round_medians(results, case))
    for case in LARGE:
        ratio = results.ratio("minigrad", "torch", case)
        if ratio is not None:
            verdict = "meets" if ratio <= TARGET else "misses"
            print(f"{case}: minigrad/torch = {ratio:.2f} ({verdict} the target <= {TARGET})")
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

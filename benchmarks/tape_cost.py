"""Tape cost: what recording and replaying one op costs, on tensors too small for the arithmetic to matter.

(a) Forward + backward per op on 10-element float32 tensors (matmul: 4x4):
    minigrad and PyTorch, with NumPy's forward alone as the reference.
(b) The headline: ``((x*2+1).relu()*x).sum().backward()`` on 10 elements,
    minigrad against PyTorch (target: minigrad/torch <= 0.5).

Every implementation runs alone in its own process, alternated over rounds;
the numbers are medians (see benchmarks/README.md). Run:

    python benchmarks/tape_cost.py            # about a minute
    python benchmarks/tape_cost.py --quick    # smoke test
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np

OPS = ["add", "mul", "exp", "tanh", "relu", "sum", "matmul", "softmax", "getitem", "reshape"]
HEADLINE = "chain5"  # ((x*2+1).relu()*x).sum()
TARGET = 0.5  # minigrad / PyTorch on the headline

IMPLS = [
    h.Impl("numpy", "tape_cost:numpy_forward"),
    h.Impl("minigrad", "tape_cost:minigrad_forward_backward"),
    h.Impl("torch", "tape_cost:torch_forward_backward", requires=("torch",)),
    h.Impl("mg-fwd", "tape_cost:minigrad_forward"),
]
# These ops run on one thread: other processes disturb them only once they take more than the spare core.
DEFAULT = h.Settings(rounds=5, warmup=200, repeats=60, sample_s=1e-3, busy_cores=0.75)
QUICK = h.Settings(rounds=1, warmup=20, repeats=5, sample_s=2e-4, busy_cores=0.75, quiet_wait_s=0)


def _inputs(op: str):
    """Two float32 inputs, the same in every process: 4x4 for matmul, 10 elements otherwise."""
    rng = np.random.default_rng(0)
    shape = (4, 4) if op == "matmul" else (10,)
    return rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)


def _np_softmax(a):
    e = np.exp(a - a.max())
    return e / e.sum()


_NUMPY = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "exp": lambda a, b: np.exp(a),
    "tanh": lambda a, b: np.tanh(a),
    "relu": lambda a, b: np.maximum(a, 0),
    "sum": lambda a, b: a.sum(),
    "matmul": lambda a, b: a @ b,
    "softmax": lambda a, b: _np_softmax(a),
    "getitem": lambda a, b: a[2:7],
    "reshape": lambda a, b: a.reshape(2, 5),
    HEADLINE: lambda a, b: (np.maximum(a * 2 + 1, 0) * a).sum(),
}

_BINARY = {"add", "mul", "matmul"}  # both inputs require grad


def numpy_forward(op: str):
    """The reference: NumPy computes the forward only (there is no backward to run)."""
    a, b = _inputs(op)
    f = _NUMPY[op]
    return lambda: f(a, b)


def _tensor_ops(lib):
    """The ops as written with a tensor library; minigrad and PyTorch share the spelling."""
    if lib.__name__ == "torch":
        softmax = lambda x: lib.softmax(x, dim=-1)  # noqa: E731
    else:
        softmax = lambda x: lib.softmax(x, axis=-1)  # noqa: E731
    return {
        "add": lambda x, y: x + y,
        "mul": lambda x, y: x * y,
        "exp": lambda x, y: x.exp(),
        "tanh": lambda x, y: x.tanh(),
        "relu": lambda x, y: x.relu(),
        "sum": lambda x, y: x.sum(),
        "matmul": lambda x, y: x @ y,
        "softmax": lambda x, y: softmax(x),
        "getitem": lambda x, y: x[2:7],
        "reshape": lambda x, y: x.reshape(2, 5),
        HEADLINE: lambda x, y: ((x * 2 + 1).relu() * x).sum(),
    }


def _forward_backward(lib, op: str):
    a, b = _inputs(op)
    x = lib.tensor(a, requires_grad=True)
    y = lib.tensor(b, requires_grad=op in _BINARY)
    f = _tensor_ops(lib)[op]
    out_shape = tuple(f(x, y).shape)
    if out_shape == ():

        def step():
            f(x, y).backward()
            x.grad = None
            y.grad = None

    else:  # a non-scalar output: backward with a fixed cotangent of ones (no extra op)
        g = lib.tensor(np.ones(out_shape, np.float32))

        def step():
            f(x, y).backward(g)
            x.grad = None
            y.grad = None

    return step


def minigrad_forward_backward(op: str):
    import minigrad

    minigrad.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    return _forward_backward(minigrad, op)


def torch_forward_backward(op: str):
    import torch

    return _forward_backward(torch, op)


def minigrad_forward(op: str):
    """minigrad's forward alone, recording the tape (inputs require grad) but never running it."""
    import minigrad

    minigrad.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    a, b = _inputs(op)
    x = minigrad.tensor(a, requires_grad=True)
    y = minigrad.tensor(b, requires_grad=op in _BINARY)
    f = _tensor_ops(minigrad)[op]
    return lambda: f(x, y)


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK)
    results = h.run(IMPLS, OPS + [HEADLINE], settings)
    print(h.header("Tape cost on tiny tensors (10 float32 elements; matmul 4x4)", settings, results))
    print()
    print("(a) forward+backward per op (numpy: forward alone; mg-fwd: minigrad forward, recorded, no backward)")
    print()
    columns = {"numpy": "numpy fwd", "minigrad": "minigrad f+b", "torch": "torch f+b", "mg-fwd": "mg-fwd"}
    ratios = [("minigrad", "numpy"), ("torch", "numpy"), ("minigrad", "torch")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="op", rows=OPS))
    print()
    print("(b) headline: ((x*2+1).relu()*x).sum().backward() on 10 elements (numpy: forward alone)")
    print()
    print(h.table(results, columns=columns, ratios=ratios, row_title="expression", rows=[HEADLINE]))
    print()
    print("per-process medians (one per round):")
    print(h.round_medians(results, HEADLINE))
    ratio = results.ratio("minigrad", "torch", HEADLINE)
    print()
    if ratio is None:
        print("minigrad/torch: PyTorch not available, headline ratio not measured")
    else:
        verdict = "meets" if ratio <= TARGET else "misses"
        print(f"minigrad/torch on the headline = {ratio:.2f} ({verdict} the target <= {TARGET})")
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

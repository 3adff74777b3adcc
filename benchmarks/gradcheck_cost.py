"""What gradcheck costs on a network of about 100k parameters.

An MLP 784-128-10 (101,770 parameters, ReLU, cross-entropy on 4 samples) is
checked through ``minigrad.checks.gradcheck_model``:

* fast mode (v^T J u along random directions): function evaluations and
  seconds; the target is under 5 s on a 2-core machine;
* full mode (every coordinate, 2 evaluations each): evaluations and seconds.
  ``--quick`` checks a sample of coordinates and extrapolates to all;
* ``check_tape`` (each node checked on its own, large nodes in fast mode) on
  the small CNN: the target is under 10 s.

Run: ``python benchmarks/gradcheck_cost.py [--quick]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import _harness as h
import numpy as np

if h.REPO_ROOT not in sys.path:
    sys.path.insert(0, h.REPO_ROOT)  # the working tree's minigrad, as the other benchmarks use

import minigrad as mg  # noqa: E402
from minigrad import checks  # noqa: E402


class MLP:
    def __init__(self, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.w1 = mg.tensor(rng.standard_normal((784, 128)) / 28, requires_grad=True)
        self.b1 = mg.tensor(np.zeros(128), requires_grad=True)
        self.w2 = mg.tensor(rng.standard_normal((128, 10)) / 11, requires_grad=True)
        self.b2 = mg.tensor(np.zeros(10), requires_grad=True)

    def parameters(self):
        return [self.w1, self.b1, self.w2, self.b2]

    def __call__(self, x):
        return (x @ self.w1 + self.b1).relu() @ self.w2 + self.b2


def cross_entropy(logits, targets):
    return -(logits.log_softmax(axis=1)[np.arange(logits.shape[0]), targets]).mean()


def timed(label, **kwargs):
    model = MLP()
    rng = np.random.default_rng(1)
    x = mg.tensor(rng.standard_normal((4, 784)))
    y = rng.integers(0, 10, 4)
    start = time.perf_counter()
    result = checks.gradcheck_model(model, cross_entropy, x, y, samples=4, **kwargs)
    seconds = time.perf_counter() - start
    report = result.reports["data loss"]
    print(f"{label:<28} {report.evaluations:>9} evaluations {seconds:>9.2f} s   {result.message}")
    return report.evaluations, seconds


def tape_check_cnn() -> None:
    """check_tape on the small CNN of the nn benchmark (batch 64, 1x28x28, conv8-pool-conv16-pool-linear)."""
    from minigrad import nn
    from minigrad.nn import functional as F

    mg.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10),
    )  # fmt: skip
    images, labels = mg.randn(64, 1, 28, 28), mg.randint(0, 10, (64,))
    start = time.perf_counter()
    report = mg.check_tape(lambda *params: F.cross_entropy(model(images), labels), list(model.parameters()))
    seconds = time.perf_counter() - start
    print(f"{'check_tape, small CNN':<28} {len(report.nodes):>9} nodes       {seconds:>9.2f} s   "
          f"{'every vjp checks out' if report.passed else str(len(report.faults)) + ' faulty'}"
          f" (target: under 10 s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sample coordinates in full mode and extrapolate")
    args = parser.parse_args()
    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    n_params = sum(p.array.size for p in MLP().parameters())
    print(f"network: MLP 784-128-10, {n_params:,} parameters, 4 samples")
    timed("fast mode", fast_mode=True)
    if args.quick:
        per = 500
        evaluations, seconds = timed(f"full mode, {per} coords/param", coordinates_per_parameter=per)
        checked = sum(min(per, p.array.size) for p in MLP().parameters())
        scale = n_params / checked
        print(f"{'full mode, extrapolated':<28} {evaluations * scale:>9.0f} evaluations {seconds * scale:>9.2f} s")
    else:
        timed("full mode, every coordinate", coordinates_per_parameter=None)
    tape_check_cnn()


if __name__ == "__main__":
    main()

"""A tour of gradcheck: a planted backward bug caught, a relu kink flagged, dropout checked
under seeding, and a regularizer checked apart from the data loss.

    python examples/gradcheck_tour.py
"""

import numpy as np
from _common import arguments

import minigrad as mg
from minigrad import checks, nn
from minigrad.nn import functional as F


class Swish(mg.Function):
    """x * sigmoid(x), with a planted bug in its backward: the sigmoid's derivative term is halved."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * (s + 0.5 * x * s * (1 - s))  # correct: s + x * s * (1 - s)


def main(argv=None):
    arguments(__doc__.splitlines()[0], argv)
    rng = np.random.default_rng(0)

    print("1. A custom op with a planted bug in its backward:")
    x = mg.tensor(rng.uniform(-2, 2, 6), requires_grad=True)
    report = mg.gradcheck(lambda x: Swish.apply(x).sum(), x, raise_exception=False)
    print(report, "\n")

    print("2. relu at a kink: x = 0 and x = 1e-9 cross it between x-h and x+h; flagged, not failed:")
    x = mg.tensor([0.0, 1e-9, 0.5, -0.7], dtype=mg.float64, requires_grad=True)
    print(mg.gradcheck(lambda x: (x.relu() * x.exp()).sum(), x), "\n")

    print("3. dropout: gradcheck re-seeds before every evaluation, so the mask repeats:")
    w = mg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    data = mg.tensor(rng.standard_normal((5, 4)))
    print(mg.gradcheck(lambda w: F.dropout(data @ w, p=0.5).tanh().sum(), w), "\n")

    print("4. a model's gradient, the data loss and the L2 regularizer checked separately:")
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    targets = mg.tensor(rng.integers(0, 3, 5))
    result = checks.gradcheck_model(
        model,
        F.cross_entropy,
        data,
        targets,
        regularization=lambda m: 1e-3 * sum((p * p).sum() for p in m.parameters()),
    )
    print(result)
    return report


if __name__ == "__main__":
    main()

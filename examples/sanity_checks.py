"""The three sanity checks on a fresh model, and one that fails on purpose and says why.

python examples/sanity_checks.py
"""

from _common import arguments

import minigrad as mg
from minigrad import checks, nn, optim
from minigrad.data import load_digits
from minigrad.nn import functional as F


def classifier(init_scale: float = 1.0) -> nn.Module:
    mg.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    with mg.no_grad():
        for p in model.parameters():
            p.mul_(init_scale)
    return model


def l2(model):
    return sum((p * p).sum() for p in model.parameters())


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    x, y = load_digits("train")
    x, y = x[:200], y[:200]
    steps = 100 if args.quick else 300

    print("A fresh classifier with PyTorch's default initialization:")
    report = checks.run_all(
        classifier(),
        F.cross_entropy,
        x,
        y,
        num_classes=10,
        make_optimizer=lambda p: optim.Adam(p, lr=1e-2),
        regularization=lambda m: 1e-3 * l2(m),
        overfit_steps=steps,
    )
    print()
    print("The same net with weights 20 times too large fails the initial-loss check:")
    bad = checks.initial_loss(classifier(init_scale=20.0), F.cross_entropy, x, y, num_classes=10)
    print(bad)
    return report, bad


if __name__ == "__main__":
    main()

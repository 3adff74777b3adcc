"""Newton's method against gradient descent on a strongly convex logistic regression.

Newton's error squares every step once it is close (quadratic convergence:
the number of correct digits doubles); gradient descent's shrinks by a
constant factor (linear convergence).
    python examples/newton_vs_gd.py
"""

import numpy as np
from _common import arguments, pyplot, save

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.data import make_moons


def problem(n):
    x, y = make_moons(n, noise=0.3, seed=0, dtype=np.float64)
    features = mg.tensor(np.concatenate([x.numpy(), np.ones((n, 1))], axis=1))
    labels = y.to(mg.float64)

    def loss(w):  # mean logistic loss + L2: strongly convex
        return F.binary_cross_entropy_with_logits(features @ w, labels) + 0.01 * (w * w).sum()

    return loss


def run(loss, make, steps):
    w = mg.tensor(np.zeros(3), requires_grad=True)
    opt = make([w])
    values = []
    for _ in range(steps):
        if isinstance(opt, optim.Newton):
            opt.step(lambda: loss(w))
        else:
            opt.zero_grad()
            loss(w).backward()
            opt.step()
        values.append(loss(w).item())
    return np.array(values)


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    loss = problem(50 if args.quick else 400)
    newton = run(loss, lambda p: optim.Newton(p), 8)
    gd = run(loss, lambda p: optim.SGD(p, lr=1.0), 8 if args.quick else 200)
    best = min(newton.min(), gd.min())
    print(f"{'step':>4} {'Newton f - f*':>16} {'GD f - f*':>16}")
    for k in range(8):
        print(f"{k + 1:>4} {newton[k] - best:>16.3e} {gd[k] - best:>16.3e}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.semilogy(range(1, len(gd) + 1), np.maximum(gd - best, 1e-17), label="gradient descent (lr 1)")
        ax.semilogy(range(1, len(newton) + 1), np.maximum(newton - best, 1e-17), "o-", label="Newton")
        ax.set(xlabel="step", ylabel="f - f*", title="logistic regression on two moons")
        ax.legend()
        save(fig, args.out, "newton_vs_gd.png")
    return newton, gd


if __name__ == "__main__":
    main()

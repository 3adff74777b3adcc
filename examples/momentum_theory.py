"""Measured convergence rates of gradient descent and heavy-ball momentum against theory.

On quadratics of condition number kappa, gradient descent at its best rate
2 / (lambda_min + lambda_max) contracts the error by (kappa - 1) / (kappa + 1)
per step; heavy-ball momentum at its best rate and momentum by
(sqrt(kappa) - 1) / (sqrt(kappa) + 1). The measured rates land on the formulas.
    python examples/momentum_theory.py
"""

import math

import numpy as np
from _common import arguments, pyplot, save

import minigrad as mg
from minigrad import optim
from minigrad.data import quadratic


def measured_rate(q, make, theory):
    """The geometric mean contraction of ||x - x*|| over the second half of a run long enough for
    the error to fall by 1e120 at the theoretical rate (x* = 0, so float64 never runs out of digits).

    Heavy ball at its optimal parameters has a repeated eigenvalue, so its error is ~ t rho^t: the
    long window keeps the factor t's share of the measured rate under 1%."""
    steps = int(math.log(1e-120) / math.log(theory)) + 30
    x = mg.tensor(np.ones(len(q.b)), requires_grad=True)
    opt = make([x])
    errors = []
    for _ in range(steps):
        opt.zero_grad()
        q(x).backward()
        opt.step()
        errors.append(np.linalg.norm(x.numpy()))
    start = steps // 2
    return (errors[-1] / errors[start]) ** (1 / (steps - 1 - start))


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    kappas = [4, 16] if args.quick else [4, 16, 64, 256]
    rows = []
    print(f"{'kappa':>6} {'GD measured':>12} {'(k-1)/(k+1)':>12} {'HB measured':>12} {'(sk-1)/(sk+1)':>14}")
    for kappa in kappas:
        q = quadratic(np.linspace(1.0, kappa, 8), seed=0, minimizer=np.zeros(8))
        lam_min, lam_max = 1.0, float(kappa)
        gd_theory = (kappa - 1) / (kappa + 1)
        gd_lr = 2 / (lam_min + lam_max)
        gd = measured_rate(q, lambda p, lr=gd_lr: optim.SGD(p, lr=lr), gd_theory)
        rho = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
        lr = 4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2
        hb = measured_rate(q, lambda p, lr=lr, rho=rho: optim.SGD(p, lr=lr, momentum=rho**2), rho)
        rows.append((kappa, gd, (kappa - 1) / (kappa + 1), hb, rho))
        print(f"{kappa:>6} {gd:>12.4f} {(kappa - 1) / (kappa + 1):>12.4f} {hb:>12.4f} {rho:>14.4f}")
    plt = pyplot()
    if plt is not None:
        table = np.array(rows)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(table[:, 0], table[:, 2], "-", color="#1b9e77", label="GD theory (k-1)/(k+1)")
        ax.plot(table[:, 0], table[:, 1], "o", color="#1b9e77", label="GD measured")
        ax.plot(table[:, 0], table[:, 4], "-", color="#d95f02", label="heavy ball theory")
        ax.plot(table[:, 0], table[:, 3], "o", color="#d95f02", label="heavy ball measured")
        ax.set(xscale="log", xlabel="condition number kappa", ylabel="contraction per step")
        ax.legend()
        save(fig, args.out, "momentum_theory.png")
    return rows


if __name__ == "__main__":
    main()

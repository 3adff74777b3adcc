"""Hessian-free Newton (NewtonCG) against first-order methods and dense Newton, by gradient evaluations.

1. f(x) = 1/2 (x - x*)^T A (x - x*), A with eigenvalues log-spaced over
   [1e-4, 1] (condition number 1e4) in a random basis. Gradient descent with
   its best constant step needs about kappa ln(1/eps) gradients, heavy-ball
   momentum about sqrt(kappa) ln(1/eps); NewtonCG a few steps of at most n
   Hessian-vector products; dense Newton n products per step plus an n x n
   solve. Cost to reach f - f* <= 1e-8.
2. A small tanh MLP fitting sin(3x), full batch (non-convex): cost to reach a
   mean squared error of 1e-4 and of 1e-6.
Prints the tables and plots the loss against the cost (gradients + 2 x
Hessian-vector products: a product is a reverse pass through the gradient's
recorded graph, about two gradients' work).
    python examples/newton_cg.py
"""

import time

import numpy as np
from _common import arguments, pyplot, save

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim

TARGET = 1e-8  # the quadratic's
MLP_TARGETS = (1e-4, 1e-6)


class Counted:
    """A loss as a closure over parameters, counting what each method asks of it."""

    def __init__(self, params, value):
        self.params, self.value = list(params), value
        self.n = sum(p.numel() for p in self.params)
        self.grads = self.hvps = self.losses = 0
        self.curve = []  # (cost so far, loss)

    def cost(self):
        return self.grads + 2 * self.hvps

    def record(self):
        with mg.no_grad():
            f = self.value().item()
        self.curve.append((self.cost(), f))
        return f

    def reached(self, target):
        """The cost at which the loss first got to target (None if it never did)."""
        hits = [c for c, f in self.curve if f <= target]
        return hits[0] if hits else None


def first_order(counted, opt, target, cap):
    """GD / momentum / Adam / LBFGS: each closure call is one loss and one gradient (backward)."""

    def closure():
        opt.zero_grad()
        loss = counted.value()
        loss.backward()
        counted.grads += 1
        return loss

    counted.record()
    while counted.curve[-1][1] > target and counted.grads < cap:
        opt.step(closure)
        counted.record()


def dense_newton(counted, target, cap):
    """optim.Newton: one gradient and n Hessian-vector products per step (its Hessian), then an n x n solve."""
    opt = optim.Newton(counted.params)

    def closure():
        if mg.is_grad_enabled():  # the Hessian evaluation; the line search's calls run without recording
            counted.grads += 1
            counted.hvps += counted.n
        else:
            counted.losses += 1
        return counted.value()

    counted.record()
    while counted.curve[-1][1] > target and counted.cost() < cap:
        opt.step(closure)
        counted.record()


def newton_cg(counted, target, cap, **kwargs):
    opt = optim.NewtonCG(counted.params, **kwargs)
    counted.record()
    while counted.curve[-1][1] > target and counted.cost() < cap:
        opt.step(counted.value)
        state = opt.state[id(counted.params[0])]
        counted.grads, counted.hvps, counted.losses = state["grad_evals"], state["hvp_evals"], state["loss_evals"]
        counted.record()


def lbfgs(params):  # written in parallel with NewtonCG: shown where minigrad has it
    return optim.LBFGS(params, line_search_fn="strong_wolfe", tolerance_grad=1e-20, tolerance_change=1e-30)


# --- 1. the ill-conditioned quadratic ---------------------------------------------------------------


def quadratic(n, kappa, seed=0):
    """(A, x*): a random orthogonal basis, eigenvalues log-spaced over [1/kappa, 1]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.logspace(-np.log10(kappa), 0, n)) @ q.T
    return (a + a.T) / 2, rng.standard_normal(n)


def quadratic_methods(kappa):
    lo, hi = 1.0 / kappa, 1.0
    rate = 4 / (np.sqrt(hi) + np.sqrt(lo)) ** 2  # Polyak's heavy ball, tuned to the spectrum
    beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    table = {
        "gradient descent (lr 2/(L+mu))": lambda c, t, cap: first_order(
            c, optim.SGD(c.params, lr=2 / (hi + lo)), t, cap
        ),
        "momentum SGD (tuned heavy ball)": lambda c, t, cap: first_order(
            c, optim.SGD(c.params, lr=rate, momentum=beta), t, cap
        ),
        "momentum SGD (lr 1/L, 0.9)": lambda c, t, cap: first_order(
            c, optim.SGD(c.params, lr=1 / hi, momentum=0.9), t, cap
        ),
    }
    if hasattr(optim, "LBFGS"):
        table["LBFGS (strong Wolfe)"] = lambda c, t, cap: first_order(c, lbfgs(c.params), t, cap)
    table["Newton (dense H)"] = dense_newton
    table["NewtonCG"] = newton_cg
    table["NewtonCG, damping 1e-8"] = lambda c, t, cap: newton_cg(c, t, cap, damping=1e-8)
    table["NewtonCG, damping 1e-8, Jacobi"] = lambda c, t, cap: newton_cg(
        c, t, cap, damping=1e-8, preconditioner="jacobi"
    )
    return table


def run_quadratic(n, kappa, cap):
    a, xstar = quadratic(n, kappa)
    at, xt = mg.tensor(a), mg.tensor(xstar)
    print(f"1. quadratic, n = {n}, condition number {kappa:.0e}: cost to reach f - f* <= {TARGET:.0e}")
    print(f"{'method':<32} {'gradients':>9} {'HVPs':>6} {'cost':>7} {'f - f*':>9} {'seconds':>8}")
    results = {}
    for name, run in quadratic_methods(kappa).items():
        x = mg.tensor(np.zeros(n), requires_grad=True)
        counted = Counted([x], lambda x=x: 0.5 * ((x - xt) @ (at @ (x - xt))))
        start = time.perf_counter()
        run(counted, TARGET, cap)
        seconds = time.perf_counter() - start
        f = counted.curve[-1][1]
        results[name] = {"cost": counted.cost(), "grads": counted.grads, "hvps": counted.hvps, "f": f,
                         "seconds": seconds, "curve": np.array(counted.curve)}  # fmt: skip
        flag = "" if f <= TARGET else " (not reached)"
        print(f"{name:<32} {counted.grads:>9} {counted.hvps:>6} {counted.cost():>7} {f:>9.1e} {seconds:>8.2f}{flag}")
    return results


# --- 2. a small MLP, full batch ----------------------------------------------------------------------------


def run_mlp(hidden, cap):
    x = mg.tensor(np.linspace(-1, 1, 128)[:, None])
    y = mg.sin(3 * x)
    table = {"Adam (lr 1e-2)": lambda c, t, cap: first_order(c, optim.Adam(c.params, lr=1e-2), t, cap)}
    if hasattr(optim, "LBFGS"):
        table["LBFGS (strong Wolfe)"] = lambda c, t, cap: first_order(c, lbfgs(c.params), t, cap)
    table["Newton (dense H)"] = dense_newton
    table["NewtonCG"] = newton_cg
    results = {}
    for name, run in table.items():
        mg.manual_seed(0)  # the same initial network for every method
        model = nn.Sequential(
            nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )
        model = model.to(mg.float64)
        counted = Counted(model.parameters(), lambda model=model: F.mse_loss(model(x), y))
        if not results:
            print(f"2. MLP 1-{hidden}-{hidden}-1 (n = {counted.n}) on sin(3x), full batch: cost to reach the MSE")
            print(f"{'method':<32} " + " ".join(f"{'cost to ' + format(t, '.0e'):>12}" for t in MLP_TARGETS)
                  + f" {'seconds':>8}")  # fmt: skip
        # dense Newton pays n products per step: one target is enough to show it
        last = MLP_TARGETS[0] if name.startswith("Newton (") else MLP_TARGETS[-1]
        start = time.perf_counter()
        run(counted, last, cap)
        seconds = time.perf_counter() - start
        reached = {t: counted.reached(t) for t in MLP_TARGETS}
        results[name] = {"reached": reached, "seconds": seconds, "curve": np.array(counted.curve)}
        cells = " ".join(f"{('-' if reached[t] is None else reached[t]):>12}" for t in MLP_TARGETS)
        print(f"{name:<32} {cells} {seconds:>8.2f}")
    return results


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    mg.manual_seed(0)  # the Jacobi preconditioner's Rademacher vectors
    n, kappa, cap = (30, 1e3, 20_000) if args.quick else (100, 1e4, 200_000)
    quad = run_quadratic(n, kappa, cap)
    print()
    mlp = run_mlp(6 if args.quick else 12, 300 if args.quick else 50_000)
    plt = pyplot()
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
        for ax, results in zip(axes, (quad, mlp)):
            for name, r in results.items():
                curve = r["curve"]
                style = "o-" if "Newton" in name else "-"  # the Newton methods: one point per step
                ax.loglog(np.maximum(curve[:, 0], 1), np.maximum(curve[:, 1], 1e-17), style, ms=3, label=name)
            ax.set(xlabel="cost (gradients + 2 x Hessian-vector products)")
            ax.legend(fontsize=8)
        axes[0].axhline(TARGET, color="grey", lw=0.8, ls=":")
        axes[0].set(ylabel="f - f*", title=f"quadratic, n = {n}, condition number {kappa:.0e}")
        axes[1].set(ylabel="mean squared error", title="MLP on sin(3x), full batch")
        save(fig, args.out, "newton_cg.png")
    return quad, mlp


if __name__ == "__main__":
    main()

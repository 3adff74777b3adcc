"""Hessian-free Newton (NewtonCG) against first-order methods on an ill-conditioned quadratic.

f(x) = 1/2 (x - x*)^T A (x - x*), A with eigenvalues log-spaced over [1e-4, 1]
(condition number 1e4) in a random basis. Gradient descent with its best
constant step needs about kappa ln(1/eps) gradients; heavy-ball momentum about
sqrt(kappa) ln(1/eps); NewtonCG needs a few steps of at most n Hessian-vector
products each; dense Newton n products per step plus an n x n solve. Prints the
cost of each to reach f - f* <= 1e-8 and plots f - f* against it.
    python examples/newton_cg.py
"""

import time

import numpy as np
from _common import arguments, pyplot, save

import minigrad as mg
from minigrad import optim

TARGET = 1e-8


def problem(n, kappa, seed=0):
    """(A, x*): a random orthogonal basis, eigenvalues log-spaced over [1/kappa, 1]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = q @ np.diag(np.logspace(-np.log10(kappa), 0, n)) @ q.T
    return (a + a.T) / 2, rng.standard_normal(n)


class Counted:
    """The quadratic as a closure, counting what each method asks of it."""

    def __init__(self, a, xstar):
        self.x = mg.tensor(np.zeros(len(xstar)), requires_grad=True)
        self.a, self.xstar = mg.tensor(a), mg.tensor(xstar)
        self.grads = self.hvps = self.losses = 0
        self.curve = []  # (gradient-equivalent cost so far, f - f*)

    def value(self):
        r = self.x - self.xstar
        return 0.5 * (r @ (self.a @ r))

    def cost(self):
        # a Hessian-vector product is a reverse pass through the gradient's graph: count it as two gradients
        return self.grads + 2 * self.hvps

    def record(self):
        with mg.no_grad():
            f = self.value().item()
        self.curve.append((self.cost(), f))
        return f


def first_order(counted, opt, cap):
    """GD / momentum / LBFGS: each closure call is one loss and one gradient (backward)."""

    def closure():
        opt.zero_grad()
        loss = counted.value()
        loss.backward()
        counted.grads += 1
        return loss

    counted.record()
    while counted.curve[-1][1] > TARGET and counted.grads < cap:
        opt.step(closure)
        counted.record()


def run_newton(counted, n, cap):
    """Dense Newton: one gradient and n Hessian-vector products per step (its Hessian), then an n x n solve."""
    opt = optim.Newton([counted.x])

    def closure():
        if mg.is_grad_enabled():  # the Hessian evaluation; the line search's calls run without recording
            counted.grads += 1
            counted.hvps += n
        else:
            counted.losses += 1
        return counted.value()

    counted.record()
    while counted.curve[-1][1] > TARGET and counted.cost() < cap:
        opt.step(closure)
        counted.record()


def run_newton_cg(counted, cap, **kwargs):
    opt = optim.NewtonCG([counted.x], **kwargs)
    counted.record()
    while counted.curve[-1][1] > TARGET and counted.cost() < cap:
        opt.step(counted.value)
        state = opt.state[id(counted.x)]
        counted.grads, counted.hvps, counted.losses = state["grad_evals"], state["hvp_evals"], state["loss_evals"]
        counted.record()


def methods(n, kappa):
    lo, hi = 1.0 / kappa, 1.0
    rate = 4 / (np.sqrt(hi) + np.sqrt(lo)) ** 2  # Polyak's heavy ball, tuned to the spectrum
    beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    table = {
        "gradient descent (lr 2/(L+mu))": lambda c, cap: first_order(c, optim.SGD([c.x], lr=2 / (hi + lo)), cap),
        "momentum SGD (tuned heavy ball)": lambda c, cap: first_order(c, optim.SGD([c.x], lr=rate, momentum=beta), cap),
        "momentum SGD (lr 1/L, 0.9)": lambda c, cap: first_order(c, optim.SGD([c.x], lr=1 / hi, momentum=0.9), cap),
    }
    if hasattr(optim, "LBFGS"):  # written in parallel; shown when present
        table["LBFGS (strong Wolfe)"] = lambda c, cap: first_order(
            c,
            optim.LBFGS([c.x], line_search_fn="strong_wolfe", tolerance_grad=1e-20, tolerance_change=1e-30),
            cap,
        )
    table["Newton (dense H)"] = lambda c, cap: run_newton(c, n, cap)
    table["NewtonCG"] = lambda c, cap: run_newton_cg(c, cap)
    table["NewtonCG, damping 1e-8"] = lambda c, cap: run_newton_cg(c, cap, damping=1e-8)
    return table


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    n, kappa, cap = (30, 1e3, 20_000) if args.quick else (100, 1e4, 200_000)
    a, xstar = problem(n, kappa)
    print(f"n = {n}, condition number {kappa:.0e}; cost = gradients + 2 x Hessian-vector products")
    print(f"{'method':<32} {'gradients':>9} {'HVPs':>6} {'cost':>7} {'f - f*':>9} {'seconds':>8}")
    results = {}
    for name, run in methods(n, kappa).items():
        counted = Counted(a, xstar)
        start = time.perf_counter()
        run(counted, cap)
        seconds = time.perf_counter() - start
        f = counted.curve[-1][1]
        results[name] = {"cost": counted.cost(), "grads": counted.grads, "hvps": counted.hvps, "f": f,
                         "seconds": seconds, "curve": np.array(counted.curve)}  # fmt: skip
        flag = "" if f <= TARGET else " (not reached)"
        print(f"{name:<32} {counted.grads:>9} {counted.hvps:>6} {counted.cost():>7} {f:>9.1e} {seconds:>8.2f}{flag}")
    plt = pyplot()
    if plt is not None:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for name, r in results.items():
            curve = r["curve"]
            ax.loglog(np.maximum(curve[:, 0], 1), np.maximum(curve[:, 1], 1e-17), label=name)
        ax.axhline(TARGET, color="grey", lw=0.8, ls=":")
        ax.set(xlabel="cost (gradients + 2 x Hessian-vector products)", ylabel="f - f*",
               title=f"quadratic, n = {n}, condition number {kappa:.0e}")  # fmt: skip
        ax.legend(fontsize=8)
        save(fig, args.out, "newton_cg.png")
    return results


if __name__ == "__main__":
    main()

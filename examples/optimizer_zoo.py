"""Every optimizer on the ill-conditioned quadratic f(x) = 0.1 x1^2 + 2 x2^2.

Gradient descent zig-zags across the narrow valley; momentum averages the
zig-zag away; the adaptive methods rescale each coordinate. Prints where each
one ends after the same number of steps and plots the trajectories over the
contours.
    python examples/optimizer_zoo.py
"""

import numpy as np
from _common import arguments, pyplot, save

import minigrad as mg
from minigrad import optim

START = [-5.0, -2.0]
ZOO = {
    "SGD (lr 0.4)": lambda p: optim.SGD(p, lr=0.4),
    "Momentum (0.5)": lambda p: optim.SGD(p, lr=0.2, momentum=0.5),
    "Nesterov (0.5)": lambda p: optim.SGD(p, lr=0.2, momentum=0.5, nesterov=True),
    "AdaGrad": lambda p: optim.Adagrad(p, lr=0.4),
    "RMSProp": lambda p: optim.RMSprop(p, lr=0.4, alpha=0.9),
    "AdaDelta": lambda p: optim.Adadelta(p, lr=1.0, rho=0.9),
    "Adam": lambda p: optim.Adam(p, lr=0.4),
    "Yogi": lambda p: optim.Yogi(p, lr=0.4),
}


def f(x):
    return 0.1 * x[0] ** 2 + 2 * x[1] ** 2


def trajectory(make, steps):
    x = mg.tensor(START, dtype=mg.float64, requires_grad=True)
    opt = make([x])
    points = [x.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(x).backward()
        opt.step()
        points.append(x.numpy().copy())
    return np.array(points)


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    steps = 5 if args.quick else 20
    paths = {name: trajectory(make, steps) for name, make in ZOO.items()}
    print(f"{'optimizer':<16} {'x after ' + str(steps) + ' steps':>24} {'f(x)':>10}")
    for name, path in paths.items():
        x1, x2 = path[-1]
        print(f"{name:<16} {f'({x1:+.3f}, {x2:+.3f})':>24} {0.1 * x1**2 + 2 * x2**2:>10.4f}")
    plt = pyplot()
    if plt is not None:
        grid1, grid2 = np.meshgrid(np.linspace(-5.5, 4.0, 200), np.linspace(-3.0, 3.0, 200))
        fig, axes = plt.subplots(2, 4, figsize=(14, 6), sharex=True, sharey=True)
        for ax, (name, path) in zip(axes.ravel(), paths.items()):
            ax.contour(grid1, grid2, 0.1 * grid1**2 + 2 * grid2**2, levels=15, colors="#bbbbbb", linewidths=0.7)
            ax.plot(path[:, 0], path[:, 1], "-o", color="#d95f02", markersize=3)
            ax.plot([0], [0], "k+", markersize=10)
            ax.set_title(name)
        fig.suptitle("f(x) = 0.1 x1^2 + 2 x2^2 from (-5, -2)")
        save(fig, args.out, "optimizer_zoo.png")
    return paths


if __name__ == "__main__":
    main()

"""Every learning-rate schedule over the same 100 steps, warmup included.

python examples/schedules.py
"""

from _common import arguments, pyplot, save

from minigrad.optim import schedules as S


def all_schedules(total: int) -> dict:
    return {
        "constant": S.constant(1.0),
        "piecewise constant": S.piecewise_constant([total // 2, 3 * total // 4], [1.0, 0.3, 0.1]),
        "exponential": S.exponential(1.0, 3.0, decay_steps=total),
        "exponential (staircase)": S.exponential(1.0, 0.5, decay_steps=total // 6, staircase=True),
        "inverse power (1/sqrt)": S.inverse_power(1.0, beta=0.5, alpha=0.5),
        "polynomial (power 2)": S.polynomial(1.0, 0.05, power=2.0, total_steps=total),
        "cosine": S.cosine(1.0, 0.0, total),
        "warmup + cosine": S.warmup(S.cosine(1.0, 0.0, total - total // 10), warmup_steps=total // 10),
        "join: constant, then cosine": S.join([S.constant(1.0), S.cosine(1.0, 0.1, total // 2)], [total // 2]),
    }


def main(argv=None):
    args = arguments(__doc__.splitlines()[0], argv)
    total = 20 if args.quick else 100
    curves = {name: [f(t) for t in range(total + 1)] for name, f in all_schedules(total).items()}
    marks = [0, total // 4, total // 2, 3 * total // 4, total]
    print(f"{'schedule':<30}" + "".join(f"{'t=' + str(t):>9}" for t in marks))
    for name, values in curves.items():
        print(f"{name:<30}" + "".join(f"{values[t]:>9.4f}" for t in marks))
    plt = pyplot()
    if plt is not None:
        fig, axes = plt.subplots(3, 3, figsize=(12, 8), sharex=True, sharey=True)
        for ax, (name, values) in zip(axes.ravel(), curves.items()):
            ax.plot(range(total + 1), values, color="#7570b3")
            ax.set_title(name)
            ax.grid(alpha=0.3)
        fig.supxlabel("step")
        fig.supylabel("learning rate / lr0")
        save(fig, args.out, "schedules.png")
    return curves


if __name__ == "__main__":
    main()

"""Optimizer step time: minigrad's ``opt.step()`` against the same update written in bare NumPy (and PyTorch).

1,048,576 float32 parameters in 10 tensors (weight matrices and vectors of a
mid-sized net), fixed random gradients; one row per optimizer and setting.
The NumPy column is the same formula as minigrad's optimizer (read from
minigrad/optim/*.py), written the way a careful person writes it: in-place
ufuncs on the state arrays, ``out=`` into two scratch arrays allocated once
and shared by all parameters, the same operations in the same order.
Target: minigrad within 1.2x of NumPy for every optimizer.

Every implementation runs alone in its own process, alternated over rounds;
the numbers are medians (see benchmarks/README.md). Run:

    python benchmarks/optim_step.py            # about two minutes
    python benchmarks/optim_step.py --quick    # smoke test
    python benchmarks/optim_step.py --check    # three steps of each, compared (no timing)
"""

from __future__ import annotations

import math
import sys

import _harness as h
import numpy as np

SHAPES = [(512, 1024), (256, 1024), (128, 1024), (256, 256), (128, 256), (128, 128), (64, 128),
          (4096,), (2048,), (2048,)]  # fmt: skip
TARGET = 1.2  # minigrad / NumPy, per optimizer
SEED = 0

# case -> (minigrad / torch class name, keyword arguments); the NumPy update below uses the same values
CASES = {
    "sgd": ("SGD", {"lr": 0.01}),
    "sgd-momentum": ("SGD", {"lr": 0.01, "momentum": 0.9}),
    "sgd-nesterov": ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    "adagrad": ("Adagrad", {"lr": 0.01}),
    "rmsprop": ("RMSprop", {"lr": 0.01}),
    "rmsprop-c-mom": ("RMSprop", {"lr": 0.01, "momentum": 0.9, "centered": True}),
    "adadelta": ("Adadelta", {"lr": 1.0}),
    "adam": ("Adam", {"lr": 1e-3}),
    "adamw": ("AdamW", {"lr": 1e-3, "weight_decay": 1e-2}),
    "yogi": ("Yogi", {"lr": 1e-2}),
}
DEFAULTS = {  # the hyperparameters left at their defaults above, as minigrad (and PyTorch) define them
    "alpha": 0.99, "eps_rmsprop": 1e-8, "eps_adagrad": 1e-10, "rho": 0.9, "eps_adadelta": 1e-6,
    "betas": (0.9, 0.999), "eps_adam": 1e-8, "eps_yogi": 1e-3, "yogi_init": 1e-6,
}  # fmt: skip

IMPLS = [
    h.Impl("numpy", "optim_step:numpy_step"),
    h.Impl("minigrad", "optim_step:minigrad_step"),
    h.Impl("torch", "optim_step:torch_step", requires=("torch",)),
]
DEFAULT = h.Settings(rounds=7, warmup=5, repeats=30, sample_s=0)
QUICK = h.Settings(rounds=1, warmup=2, repeats=5, sample_s=0, quiet_wait_s=0)


def make_problem(seed: int = SEED):
    """(params, grads): float32 arrays of SHAPES, the same in every process."""
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    return params, grads


# --- (1) bare NumPy ----------------------------------------------------------------------------------
# Each update works in place on one parameter p with its gradient g, its state arrays and two scratch
# arrays t, u of p's shape (views of two buffers allocated once and shared by all parameters). The
# operations are minigrad's, in minigrad's order (so the results agree to the last bit), with the
# temporaries written into t and u. Python scalars keep float32 arrays float32 (NEP 50).


def _sgd(p, g, s, t, u, lr, momentum=0.0, nesterov=False):
    if momentum:
        buf = s.get("buf")
        if buf is None:  # b_1 = g
            buf = s["buf"] = g.copy()
        else:  # b_t = momentum b_{t-1} + g
            buf *= momentum
            buf += g
        if nesterov:  # d = g + momentum b_t
            np.multiply(buf, momentum, out=t)
            t += g
            t *= lr
        else:
            np.multiply(buf, lr, out=t)
    else:
        np.multiply(g, lr, out=t)
    p -= t  # p -= lr d


def _adagrad(p, g, s, t, u, lr):
    eps = DEFAULTS["eps_adagrad"]
    s["step"] = s.get("step", 0) + 1  # lr_decay = 0: the rate is lr
    acc = s.setdefault("sum", np.zeros_like(p))
    np.multiply(g, g, out=t)
    acc += t  # s_t = s_{t-1} + g^2
    np.multiply(g, lr, out=u)
    np.sqrt(acc, out=t)
    t += eps
    np.divide(u, t, out=t)
    p -= t  # p -= lr g / (sqrt(s_t) + eps)


def _rmsprop(p, g, s, t, u, lr, momentum=0.0, centered=False):
    alpha, eps = DEFAULTS["alpha"], DEFAULTS["eps_rmsprop"]
    sq = s.setdefault("square_avg", np.zeros_like(p))
    sq *= alpha
    np.multiply(g, 1 - alpha, out=t)
    t *= g
    sq += t  # v_t = alpha v + (1 - alpha) g^2
    if centered:
        ga = s.setdefault("grad_avg", np.zeros_like(p))
        ga *= alpha
        np.multiply(g, 1 - alpha, out=t)
        ga += t  # c_t = alpha c + (1 - alpha) g
        np.multiply(ga, ga, out=t)
        np.subtract(sq, t, out=t)
        np.sqrt(t, out=t)
    else:
        np.sqrt(sq, out=t)
    t += eps  # a
    if momentum:
        buf = s.setdefault("buf", np.zeros_like(p))
        buf *= momentum
        np.divide(g, t, out=t)
        buf += t  # b_t = momentum b + g / a
        np.multiply(buf, lr, out=t)
    else:
        np.multiply(g, lr, out=u)
        np.divide(u, t, out=t)  # lr g / a
    p -= t


def _adadelta(p, g, s, t, u, lr):
    rho, eps = DEFAULTS["rho"], DEFAULTS["eps_adadelta"]
    sq = s.setdefault("square_avg", np.zeros_like(p))
    acc = s.setdefault("acc_delta", np.zeros_like(p))
    sq *= rho
    np.multiply(g, 1 - rho, out=t)
    t *= g
    sq += t  # v_t = rho v + (1 - rho) g^2
    np.add(acc, eps, out=t)
    np.sqrt(t, out=t)
    np.add(sq, eps, out=u)
    np.sqrt(u, out=u)
    t /= u
    t *= g  # d = sqrt(u + eps) / sqrt(v_t + eps) g
    acc *= rho
    np.multiply(t, 1 - rho, out=u)
    u *= t
    acc += u  # u_t = rho u + (1 - rho) d^2
    if lr != 1:  # multiplying by 1 changes nothing
        t *= lr
    p -= t


def _adam(p, g, s, t, u, lr, weight_decay=0.0, decoupled=False):
    (beta1, beta2), eps = DEFAULTS["betas"], DEFAULTS["eps_adam"]
    m = s.setdefault("exp_avg", np.zeros_like(p))
    v = s.setdefault("exp_avg_sq", np.zeros_like(p))
    s["step"] = step = s.get("step", 0) + 1
    if decoupled and weight_decay:
        p *= 1 - lr * weight_decay  # AdamW
    m *= beta1
    np.multiply(g, 1 - beta1, out=t)
    m += t  # m_t = beta1 m + (1 - beta1) g
    v *= beta2
    np.multiply(g, 1 - beta2, out=t)
    t *= g
    v += t  # v_t = beta2 v + (1 - beta2) g^2
    np.sqrt(v, out=t)
    t /= math.sqrt(1 - beta2**step)
    t += eps
    np.multiply(m, lr / (1 - beta1**step), out=u)
    np.divide(u, t, out=t)
    p -= t  # p -= lr / (1 - beta1^t) m / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)


def _yogi(p, g, s, t, u, lr):
    (beta1, beta2), eps = DEFAULTS["betas"], DEFAULTS["eps_yogi"]
    m = s.setdefault("exp_avg", np.zeros_like(p))
    v = s.setdefault("exp_avg_sq", np.full_like(p, DEFAULTS["yogi_init"]))
    m *= beta1
    np.multiply(g, 1 - beta1, out=t)
    m += t  # m_t = beta1 m + (1 - beta1) g
    np.multiply(g, g, out=u)  # g^2
    np.subtract(v, u, out=t)
    np.sign(t, out=t)
    t *= u
    t *= 1 - beta2
    v -= t  # v_t = v - (1 - beta2) sign(v - g^2) g^2
    np.sqrt(v, out=t)
    t += eps
    np.divide(m, t, out=t)
    t *= lr
    p -= t  # p -= lr m_t / (sqrt(v_t) + eps)


def _numpy_update(name: str, kwargs: dict):
    """The bare-NumPy update for one case: a function (p, g, state, t, u)."""
    kw = dict(kwargs)
    if name == "SGD":
        return lambda p, g, s, t, u: _sgd(p, g, s, t, u, **kw)
    if name == "Adagrad":
        return lambda p, g, s, t, u: _adagrad(p, g, s, t, u, **kw)
    if name == "RMSprop":
        return lambda p, g, s, t, u: _rmsprop(p, g, s, t, u, **kw)
    if name == "Adadelta":
        return lambda p, g, s, t, u: _adadelta(p, g, s, t, u, **kw)
    if name in ("Adam", "AdamW"):
        return lambda p, g, s, t, u: _adam(p, g, s, t, u, decoupled=name == "AdamW", **kw)
    if name == "Yogi":
        return lambda p, g, s, t, u: _yogi(p, g, s, t, u, **kw)
    raise ValueError(name)


def numpy_step(case: str):
    """The update in bare NumPy over the 10 arrays; state arrays allocated once, and two scratch arrays
    sized for the largest parameter, shared by all (two scratch arrays per parameter were 5-10% slower:
    8 MB more memory to stream through the caches)."""
    params, grads = make_problem()
    update = _numpy_update(*CASES[case])
    states = [{} for _ in params]
    size = max(p.size for p in params)
    t_buf, u_buf = np.empty(size, np.float32), np.empty(size, np.float32)
    items = [(p, g, s, t_buf[: p.size].reshape(p.shape), u_buf[: p.size].reshape(p.shape))
             for p, g, s in zip(params, grads, states)]  # fmt: skip

    def step():
        for p, g, s, t, u in items:
            update(p, g, s, t, u)

    step.params = lambda: [p.copy() for p in params]
    return step


# --- (2) minigrad -------------------------------------------------------------------------------------


def minigrad_step(case: str):
    """``opt.step()`` of minigrad's optimizer on 10 Parameters whose ``.grad`` is set once."""
    import minigrad as mg
    from minigrad import nn, optim

    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    params_np, grads_np = make_problem()
    params = [nn.Parameter(p) for p in params_np]
    for p, g in zip(params, grads_np):
        p.grad = mg.tensor(g)
    name, kwargs = CASES[case]
    opt = getattr(optim, name)(params, **kwargs)

    def step():
        opt.step()

    step.params = lambda: [np.array(p.array) for p in params]
    return step


# --- (3) PyTorch --------------------------------------------------------------------------------------


def torch_step(case: str):
    """``opt.step()`` of torch.optim (default implementation choice) on 10 tensors with fixed ``.grad``."""
    import torch

    name, kwargs = CASES[case]
    if not hasattr(torch.optim, name):
        return None  # Yogi
    params_np, grads_np = make_problem()
    params = [torch.tensor(p, requires_grad=True) for p in params_np]
    for p, g in zip(params, grads_np):
        p.grad = torch.from_numpy(g)
    opt = getattr(torch.optim, name)(params, **kwargs)

    def step():
        opt.step()

    step.params = lambda: [p.detach().numpy().copy() for p in params]
    return step


# --- running ------------------------------------------------------------------------------------------


def check(steps: int = 3) -> int:
    """Run ``steps`` steps of each implementation and case in this process and compare the parameters'
    changes with NumPy's (relative to the largest change; float32 rounding of the parameters allowed for)."""
    if h.REPO_ROOT not in sys.path:
        sys.path.insert(0, h.REPO_ROOT)
    makers = {"minigrad": minigrad_step}
    try:
        import torch  # noqa: F401

        makers["torch"] = torch_step
    except ImportError:
        print("torch: not installed, skipped")
    start, _ = make_problem()
    status = 0
    for case in CASES:
        ref = numpy_step(case)
        for _ in range(steps):
            ref()
        ref_delta = [p - p0 for p, p0 in zip(ref.params(), start)]
        scale = max(float(np.max(np.abs(d))) for d in ref_delta)
        size = max(float(np.max(np.abs(p))) for p in start)
        cells = []
        for name, make in makers.items():
            step = make(case)
            if step is None:
                cells.append(f"{name} -")
                continue
            for _ in range(steps):
                step()
            err = max(float(np.max(np.abs((p - p0) - d))) for p, p0, d in zip(step.params(), start, ref_delta))
            ok = err <= 1e-4 * scale + 4 * np.finfo(np.float32).eps * size  # plus float32 rounding of p
            status |= not ok
            cells.append(f"{name} {err / scale:.1e} {'ok' if ok else 'MISMATCH'}")
        print(f"{case:>14}: max |change| {scale:.2e}; rel. err of the change vs numpy: {'   '.join(cells)}")
    return status


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK, check="compare three steps, no timing")
    if args.check:
        return check()
    results = h.run(IMPLS, list(CASES), settings)
    n = sum(int(np.prod(s)) for s in SHAPES)
    print(h.header(f"Optimizer step, {n:,} float32 parameters in {len(SHAPES)} tensors", settings, results))
    print()
    columns = {"numpy": "numpy", "minigrad": "minigrad", "torch": "torch"}
    ratios = [("minigrad", "numpy"), ("torch", "numpy"), ("minigrad", "torch")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="optimizer"))
    print()
    for case, (name, kwargs) in CASES.items():
        print(f"  {case}: {name}({', '.join(f'{k}={v}' for k, v in kwargs.items())})")
    print()
    misses = []
    for case in CASES:
        ratio = results.ratio("minigrad", "numpy", case)
        if ratio is not None and ratio > TARGET:
            misses.append(f"{case} {ratio:.2f}")
    verdict = "met by every optimizer" if not misses else "missed by " + ", ".join(misses)
    print(f"minigrad/numpy <= {TARGET}: {verdict}")
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

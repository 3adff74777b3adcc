"""Where minigrad's CNN training step (benchmarks/conv_step.py, case ``cnn``) spends its time.

One process, minigrad only (no PyTorch: two thread pools in one process
disturb each other). Three views of the same step:

1. the step's median time, then the time of each primitive call, forward and
   vjp, *exclusive* of the primitives it calls (a wrapper around
   ``Primitive.__call__`` and ``Primitive.vjp``), summed per step;
2. the pieces inside minigrad's conv and max-pool on the step's own shapes,
   each timed alone (pad copy, im2col copy, GEMMs, col2im, pool, its mask),
   next to the same piece of the hand-written NumPy reference;
3. ``cProfile``'s top functions by internal time (``--cprofile``).

    python benchmarks/conv_profile.py [--steps 30] [--cprofile]

Use ``PYTHONPATH=/path/to/other/checkout`` to profile another copy of
minigrad (the working tree's is used otherwise). The numbers are of one
process on a shared machine: read the shares, and rerun when the machine
is busy (the load of other processes is printed).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict

import _harness as h
import numpy as np

if not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, h.REPO_ROOT)

import conv_step  # noqa: E402


def _median_ms(f, n=30, warmup=3) -> float:
    for _ in range(warmup):
        f()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


class PrimitiveTimer:
    """Exclusive wall time per (primitive, forward|vjp), by wrapping the Primitive class's methods."""

    def __init__(self):
        from minigrad.primitive import Primitive

        self.cls = Primitive
        self.orig_call, self.orig_vjp = Primitive.__call__, Primitive.vjp
        self.total = defaultdict(float)
        self.count = defaultdict(int)
        self.stack = []  # [label, time spent in children]
        timer = self

        def call(prim, *args, **params):
            return timer._timed((prim.name, "fwd"), timer.orig_call, prim, *args, **params)

        def vjp(prim, node, g, raw):
            return timer._timed((prim.name, "vjp"), timer.orig_vjp, prim, node, g, raw)

        self.call, self.vjp = call, vjp

    def _timed(self, label, f, *args, **kwargs):
        self.stack.append([label, 0.0])
        t0 = time.perf_counter()
        try:
            return f(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - t0
            _, children = self.stack.pop()
            self.total[label] += elapsed - children
            self.count[label] += 1
            if self.stack:
                self.stack[-1][1] += elapsed

    def __enter__(self):
        self.cls.__call__, self.cls.vjp = self.call, self.vjp
        return self

    def __exit__(self, *exc):
        self.cls.__call__, self.cls.vjp = self.orig_call, self.orig_vjp


def profile_primitives(step, steps: int) -> None:
    for _ in range(3):
        step()
    with PrimitiveTimer() as timer:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        wall = (time.perf_counter() - t0) / steps
    rows = sorted(timer.total.items(), key=lambda kv: -kv[1])
    accounted = sum(timer.total.values()) / steps
    print(f"\nprimitives, exclusive time per step (wall {wall * 1e3:.2f} ms with the timer on; "
          f"primitives {accounted * 1e3:.2f} ms, the rest is Python around them, optimizer and tape):")  # fmt: skip
    print(f"  {'primitive':<24}{'part':<6}{'calls':>6}{'ms/step':>10}{'share':>8}")
    for (name, part), total in rows:
        per_step = total / steps
        print(f"  {name:<24}{part:<6}{timer.count[(name, part)] // steps:>6}{per_step * 1e3:>10.3f}"
              f"{per_step / wall:>8.1%}")  # fmt: skip


def _conv_pieces(mc, label: str, n: int, c: int, o: int, s: int) -> list:
    """(name, minigrad piece, NumPy reference piece or None) for one conv layer of the CNN.

    minigrad's conv2d is ``_conv_cols(_unfold_cols(x), w, b)``; its backward
    ``_conv_cols_weight_grad`` (dW), ``_conv_cols_input_grad`` (dcols) and
    ``_fold_cols`` (col2im). Each is timed on the layouts it gets in the step:
    the second conv's input, like every cotangent, is NHWC in memory.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, s, s)).astype(np.float32)
    x_cl = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)  # NCHW view of NHWC memory
    x_in = x if c == 1 else x_cl  # as in the step: the image, or the previous layer's pooled output
    w = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    g = rng.standard_normal((n, s, s, o)).astype(np.float32).transpose(0, 3, 1, 2)  # NHWC memory, as minigrad's
    geo = {"kernel": (3, 3), "stride": (1, 1), "padding": (1, 1), "dilation": (1, 1), "groups": 1}
    ref = conv_step.NumpyConv(n, s, s, c, o, 3, 1)
    wmat = conv_step._conv_matrix(w)
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    ref.forward(x_nhwc, wmat)
    gmat_ref = np.ascontiguousarray(g.transpose(0, 2, 3, 1)).reshape(-1, o)
    cols = mc._unfold_cols.forward(x_in, **geo)
    dcols = mc._conv_cols_input_grad.forward(g, w, groups=1)
    inner = (slice(None), slice(1, s + 1), slice(1, s + 1))

    def ref_pad():
        ref.xpad[inner] = x_nhwc

    def ref_col2im():
        ref.dxpad.fill(0)
        for i in range(3):
            for j in range(3):
                ref.dxpad[:, i : i + s, j : j + s] += ref.dcols.reshape(3, 3, n, s, s, c)[i, j]

    return [
        (f"{label}: pad copy / into kept NHWC buffer", lambda: mc._channels_last_padded(x_in, (1, 1)), ref_pad),
        (f"{label}: im2col incl. pad", lambda: mc._unfold_cols.forward(x_in, **geo), lambda: ref.im2col(x_nhwc)),
        (f"{label}: forward GEMM + bias / GEMM", lambda: mc._conv_cols.forward(cols, w, b, out_shape=(n, s, s),
         groups=1), lambda: ref.matrix() @ wmat),
        (f"{label}: bias grad (ones @ g)", lambda: mc._conv_bias_grad.forward(g), None),
        (f"{label}: dW GEMM", lambda: mc._conv_cols_weight_grad.forward(cols, g, w_shape=w.shape, groups=1),
         lambda: ref.weight_grad(gmat_ref)),
        (f"{label}: dcols batched GEMM", lambda: mc._conv_cols_input_grad.forward(g, w, groups=1),
         lambda: np.matmul(gmat_ref, wmat.reshape(9, c, o).transpose(0, 2, 1), out=ref.dcols)),
        (f"{label}: col2im", lambda: mc._fold_cols.forward(dcols, x_shape=x.shape, **geo), ref_col2im),
    ]  # fmt: skip


def _pool_pieces(mc, label: str, n: int, o: int, s: int) -> list:
    """The max-pool after a conv: its input is (N, O, s, s) in NHWC memory, as minigrad's conv output."""
    rng = np.random.default_rng(0)
    a = np.ascontiguousarray(rng.standard_normal((n, s, s, o)).astype(np.float32))
    a_view = a.transpose(0, 3, 1, 2)
    kw = {"kernel": (2, 2), "stride": (2, 2), "padding": (0, 0), "dilation": (1, 1)}
    out = mc._max_pool2d.forward(a_view, **kw)
    g = np.ones(out.shape, np.float32)
    pooled, mask = conv_step._pool_relu(a)
    gp = np.ones(pooled.shape, np.float32)
    print(f"  ({label}: minigrad's pooled output is C-contiguous: {out.flags.c_contiguous})")
    return [
        (f"{label}: forward (reshape + max) / incl. relu and mask", lambda: mc._max_pool2d.forward(a_view, **kw),
         lambda: conv_step._pool_relu(a)),
        (f"{label}: backward (mask, ties, spread) / incl. relu",
         lambda: mc._max_pool_grad.forward(g, a_view, out, **kw), lambda: conv_step._unpool(gp, pooled, mask.copy())),
    ]  # fmt: skip


def profile_pieces() -> None:
    """The conv and pool pieces of minigrad (its own internal functions) against the NumPy reference's."""
    from minigrad.ops import conv as mc

    needed = ("_channels_last_padded", "_unfold_cols", "_conv_cols", "_conv_bias_grad", "_conv_cols_weight_grad",
              "_conv_cols_input_grad", "_fold_cols", "_max_pool2d", "_max_pool_grad")  # fmt: skip
    missing = [name for name in needed if not hasattr(mc, name)]
    if missing:
        print(f"\npieces: skipped, this minigrad's conv.py has no {', '.join(missing)}")
        return
    n = conv_step.CNN["batch"]
    print("\npieces on the CNN step's shapes, each timed alone (median ms):")
    pieces = _conv_pieces(mc, "conv1", n, 1, 8, 28) + _conv_pieces(mc, "conv2", n, 8, 16, 14)
    pieces += _pool_pieces(mc, "pool1", n, 8, 28) + _pool_pieces(mc, "pool2", n, 16, 14)
    print(f"  {'piece':<62}{'minigrad':>10}{'numpy ref':>10}")
    for name, f, r in pieces:
        print(f"  {name:<62}{_median_ms(f):>10.3f}{_median_ms(r) if r else float('nan'):>10.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--cprofile", action="store_true", help="also print cProfile's top functions")
    parser.add_argument("--no-pieces", action="store_true", help="skip the timings of conv.py's internal pieces")
    args = parser.parse_args()
    import minigrad

    print(f"minigrad from {os.path.dirname(minigrad.__file__)}; numpy {np.__version__}")
    print(f"other processes' load before: {h.other_load(0.5):.2f} cores")
    step = conv_step.minigrad_step("cnn")
    ref = conv_step.numpy_step("cnn")
    print(f"CNN step: minigrad {_median_ms(step, args.steps):.2f} ms, numpy reference "
          f"{_median_ms(ref, args.steps):.2f} ms (medians, one process)")  # fmt: skip
    profile_primitives(step, args.steps)
    if not args.no_pieces:
        profile_pieces()
    if args.cprofile:
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.steps):
            step()
        prof.disable()
        print()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    print(f"other processes' load after: {h.other_load(0.5):.2f} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Convolution: a conv2d forward+backward and a small CNN training step, NumPy (the limit), minigrad, PyTorch.

(a) ``conv2d``: forward and backward of one 3x3 convolution, batch 64,
    16 -> 32 channels, padding 1, 28x28, float32, no bias. The loss is the sum
    of the outputs times a fixed random cotangent; the gradients of the input
    and of the weight are computed.
(b) ``cnn``: one SGD training step (lr 0.1) of conv(1->8, 3x3, pad 1)-relu-
    maxpool2-conv(8->16, 3x3, pad 1)-relu-maxpool2-flatten-linear(784->10),
    batch 64, 1x28x28 inputs, mean cross-entropy; PyTorch's layers (biases
    included) from the same seeded weights in every implementation.

Target: the CNN step of minigrad within 1.5x of PyTorch CPU.

Every implementation runs alone in its own process, alternated over rounds,
and each case in processes of its own (see :func:`run_each_case_alone`);
the numbers are medians (see benchmarks/README.md). Run:

    python benchmarks/conv_step.py            # about four minutes
    python benchmarks/conv_step.py --quick    # smoke test
    python benchmarks/conv_step.py --check    # one step of each, compared (no timing)
"""

from __future__ import annotations

import sys

import _harness as h
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CASES = ["conv2d", "cnn"]
TARGET = 1.5  # minigrad / PyTorch on the CNN step
SEED = 0
LR = 0.01
CONV = {"batch": 64, "c_in": 16, "c_out": 32, "size": 28, "kernel": 3, "padding": 1}
CNN = {"batch": 64, "size": 28, "c1": 8, "c2": 16, "classes": 10}

IMPLS = [
    h.Impl("numpy", "conv_step:numpy_step"),
    h.Impl("minigrad", "conv_step:minigrad_step"),
    h.Impl("torch", "conv_step:torch_step", requires=("torch",)),
    h.Impl("np-nchw", "conv_step:numpy_nchw_step"),
]
DEFAULT = h.Settings(rounds=9, warmup=10, repeats=40, sample_s=0)
QUICK = h.Settings(rounds=1, warmup=2, repeats=5, sample_s=0, quiet_wait_s=0)


# --- the problems (PyTorch's layouts: NCHW activations, (O, C, kh, kw) and (out, in) weights) ----------


def make_conv_problem(seed: int = SEED) -> dict:
    """x (N, C, H, W), w (O, C, 3, 3) and the cotangent of the output (N, O, H, W), float32."""
    rng = np.random.default_rng(seed)
    n, c, o, s, k = (CONV[key] for key in ("batch", "c_in", "c_out", "size", "kernel"))
    return {
        "x": rng.standard_normal((n, c, s, s)).astype(np.float32),
        "w": (rng.standard_normal((o, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32),
        "cot": rng.standard_normal((n, o, s, s)).astype(np.float32),
    }


def make_cnn_problem(seed: int = SEED) -> dict:
    """He-initialised weights in PyTorch's layouts, small random biases, a random batch and labels."""
    rng = np.random.default_rng(seed)
    n, s, c1, c2, k = (CNN[key] for key in ("batch", "size", "c1", "c2", "classes"))
    feats = c2 * (s // 4) ** 2

    def he(shape, fan_in):
        return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

    def small(size):
        return (0.01 * rng.standard_normal(size)).astype(np.float32)

    return {
        "w1": he((c1, 1, 3, 3), 9), "b1": small(c1),
        "w2": he((c2, c1, 3, 3), c1 * 9), "b2": small(c2),
        "w3": he((k, feats), feats), "b3": small(k),
        "x": rng.standard_normal((n, 1, s, s)).astype(np.float32),
        "y": rng.integers(0, k, n),
    }  # fmt: skip


PARAM_NAMES = ("w1", "b1", "w2", "b2", "w3", "b3")


# --- (1) hand-written NumPy: the reference ------------------------------------------------------


class NumpyConv:
    """A stride-1 'same' convolution on channels-last (NHWC) activations, written as fast as we know.

    Forward: the input is copied into the interior of a padded buffer that is
    kept between calls (its border stays zero), the kernel windows of that
    buffer (``sliding_window_view``, ordered (kh, kw, C) so that the copy
    reads contiguous runs of C) are copied once into a reused ``cols`` buffer
    of shape (N*H*W, kh*kw*C), and one GEMM with the weight kept as a
    (kh*kw*C, O) matrix gives the NHWC output (with one channel, cols is kept
    K-major, (kh*kw, N*H*W): kh*kw contiguous slab copies). Backward: dW = cols^T g (one
    GEMM; this order is faster than g^T cols), dcols = g W^T, and col2im as
    kh*kw shifted slice-adds of dcols into a reused, zeroed padded buffer
    whose interior is dx. dcols is computed as one batched GEMM laid out
    (kh*kw, N*H*W, C), one g @ W[:, :, i, j] per kernel offset, so that each
    slice-add reads a contiguous block: from the (N*H*W, kh*kw*C) layout of a
    single GEMM each add reads runs of only C floats, and col2im costs 5-7x
    more (18 ms against 2.5 ms for case conv2d; the batched GEMM costs 0.5 ms
    more than the single one).
    """

    def __init__(self, n, h, w, c, o, k, p):
        self.shape, self.k, self.p = (n, h, w, c), k, p
        self.xpad = np.zeros((n, h + 2 * p, w + 2 * p, c), np.float32)
        # one channel: cols kept K-major, (kh*kw, N*H*W), one contiguous slab per kernel offset (a 7x faster copy)
        self.cols = np.empty((k, k, n, h, w) if c == 1 else (n, h, w, k, k, c), np.float32)
        self.dxpad = np.zeros_like(self.xpad)
        self.out = np.empty((n * h * w, o), np.float32)
        self.dcols = np.empty((k * k, n * h * w, c), np.float32)

    def forward(self, x, wmat):
        """x (N, H, W, C) (or any array that assigns into that shape, e.g. a transposed NCHW view)."""
        n, h, w, c = self.shape
        self.im2col(x)
        np.matmul(self.matrix(), wmat, out=self.out)
        return self.out.reshape(n, h, w, -1)

    def im2col(self, x):
        """The padding copy and the window copy, into the kept buffers."""
        n, h, w, c = self.shape
        p, k = self.p, self.k
        self.xpad[:, p : p + h, p : p + w] = x
        if c == 1:
            for i in range(k):
                for j in range(k):
                    self.cols[i, j] = self.xpad[:, i : i + h, j : j + w, 0]
        else:
            win = sliding_window_view(self.xpad, (k, k), axis=(1, 2))  # (N, H, W, C, kh, kw), a view
            np.copyto(self.cols, win.transpose(0, 1, 2, 4, 5, 3))  # the im2col copy

    def matrix(self):
        """cols as an (N*H*W, kh*kw*C) matrix (a view; transposed for one channel)."""
        n, h, w, c = self.shape
        if c == 1:
            return self.cols.reshape(self.k * self.k, n * h * w).T
        return self.cols.reshape(n * h * w, self.k * self.k * c)

    def weight_grad(self, gmat):
        """dW as a (kh*kw*C, O) matrix from the output cotangent as an (N*H*W, O) matrix."""
        return self.matrix().T @ gmat

    def input_grad(self, gmat, wmat):
        """dx (N, H, W, C), a view into the reused padded buffer (valid until the next call)."""
        n, h, w, c = self.shape
        p, k = self.p, self.k
        w_offsets = wmat.reshape(k * k, c, -1).transpose(0, 2, 1)  # (kh*kw, O, C), a view
        np.matmul(gmat, w_offsets, out=self.dcols)  # (kh*kw, N*H*W, C): dcols, one block per kernel offset
        dcols = self.dcols.reshape(k, k, n, h, w, c)
        dxpad = self.dxpad
        dxpad.fill(0)
        for i in range(k):
            for j in range(k):
                dxpad[:, i : i + h, j : j + w] += dcols[i, j]
        return dxpad[:, p : p + h, p : p + w]


def _pool_relu(a):
    """relu then 2x2 max-pool of an NHWC array, pooled first (max commutes with relu; 1/4 of the relu work).

    The pool is a reshape and an elementwise maximum of the four strided views.

    Returns the pooled (N, H/2, W/2, C) array and the mask of the winners (as
    float32, in the (N, H/2, 2, W/2, 2, C) shape); the backward is then the
    mask times the cotangent, broadcast.
    """
    n, hh, ww, c = a.shape
    a6 = a.reshape(n, hh // 2, 2, ww // 2, 2, c)
    pooled = np.maximum(a6[:, :, 0, :, 0], a6[:, :, 0, :, 1])  # 4 strided maxima: ~5x faster than
    np.maximum(pooled, a6[:, :, 1, :, 0], out=pooled)  # a6.max(axis=(2, 4)), a reduction over
    np.maximum(pooled, a6[:, :, 1, :, 1], out=pooled)  # two strided axes
    np.maximum(pooled, 0, out=pooled)
    mask = (a6 == pooled[:, :, None, :, None, :]).astype(np.float32)  # pooled > 0 is folded in below
    return pooled, mask


def _unpool(g, pooled, mask):
    """The vjp of :func:`_pool_relu`: the cotangent goes to each window's max (ties share it all)."""
    g = g * (pooled > 0)  # the relu's kink: a window whose max was <= 0 passes nothing
    mask *= g[:, :, None, :, None, :]
    n, ho, _, wo, _, c = mask.shape
    return mask.reshape(n, 2 * ho, 2 * wo, c)


def _conv_matrix(w):
    """An (O, C, kh, kw) weight as the (kh*kw*C, O) matrix the NHWC im2col multiplies by."""
    o = w.shape[0]
    return np.ascontiguousarray(w.transpose(2, 3, 1, 0).reshape(-1, o))


def _conv_weight(wmat, c):
    """The inverse of :func:`_conv_matrix` (for comparing, not timed)."""
    k2, o = wmat.shape
    k = int(round((k2 // c) ** 0.5))
    return wmat.reshape(k, k, c, o).transpose(3, 2, 0, 1).copy()


def numpy_step(case: str, nchw: bool = False):
    """The reference; activations channels-last (NHWC) throughout, weights kept as GEMM matrices.

    ``conv2d``: the input, the cotangent, the output and dx are NHWC arrays
    (as they are inside an engine that keeps activations channels-last);
    with ``nchw`` they are NCHW arrays, as a user hands them over, and the
    layout changes are made with the fewest copies we know (the input's
    transpose fused into the padding copy, one copy each for the cotangent,
    the output and dx).
    ``cnn``: the NCHW input has one channel, so it is already NHWC; the
    linear layer's weight is kept as an (H*W*C, 10) matrix so that
    flattening the NHWC activations needs no transpose.
    """
    if case == "conv2d":
        return _numpy_conv2d(nchw)
    if case == "cnn" and not nchw:
        return _numpy_cnn()
    return None


def numpy_nchw_step(case: str):
    """The reference with NCHW inputs and outputs at the boundary (``conv2d`` only)."""
    return numpy_step(case, nchw=True)


def _numpy_conv2d(nchw: bool):
    prob = make_conv_problem()
    n, c, o, s, k, p = (CONV[key] for key in ("batch", "c_in", "c_out", "size", "kernel", "padding"))
    conv = NumpyConv(n, s, s, c, o, k, p)
    wmat = _conv_matrix(prob["w"])
    if nchw:
        x, cot = prob["x"], prob["cot"]
    else:
        x = np.ascontiguousarray(prob["x"].transpose(0, 2, 3, 1))
        cot = np.ascontiguousarray(prob["cot"].transpose(0, 2, 3, 1))
    result = {}

    def step():
        if nchw:
            out = conv.forward(x.transpose(0, 2, 3, 1), wmat)  # transpose fused into the padding copy
            out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
            gmat = np.ascontiguousarray(cot.transpose(0, 2, 3, 1)).reshape(-1, o)
        else:
            out = conv.forward(x, wmat)
            gmat = cot.reshape(-1, o)
        dwmat = conv.weight_grad(gmat)
        dx = conv.input_grad(gmat, wmat)
        dx = np.ascontiguousarray(dx.transpose(0, 3, 1, 2)) if nchw else dx.copy()
        result.update(out=out, dx=dx, dwmat=dwmat)
        return out

    def current():
        out, dx = result["out"], result["dx"]
        if not nchw:
            out, dx = out.transpose(0, 3, 1, 2), dx.transpose(0, 3, 1, 2)
        return {"out": np.array(out), "dx": np.array(dx), "dw": _conv_weight(result["dwmat"], c)}

    step.result = current
    return step


def _numpy_cnn():
    prob = make_cnn_problem()
    n, s, c1, c2, classes = (CNN[key] for key in ("batch", "size", "c1", "c2", "classes"))
    s2, s4 = s // 2, s // 4
    conv1 = NumpyConv(n, s, s, 1, c1, 3, 1)
    conv2 = NumpyConv(n, s2, s2, c1, c2, 3, 1)
    w1, w2 = _conv_matrix(prob["w1"]), _conv_matrix(prob["w2"])
    # (10, C*H*W) in NCHW-flatten order -> (H*W*C, 10) for NHWC-flattened activations
    w3 = np.ascontiguousarray(prob["w3"].reshape(classes, c2, s4, s4).transpose(2, 3, 1, 0).reshape(-1, classes))
    b1, b2, b3 = prob["b1"].copy(), prob["b2"].copy(), prob["b3"].copy()
    x = prob["x"].reshape(n, s, s, 1)  # one channel: NCHW and NHWC hold the same memory
    y = prob["y"]
    rows = np.arange(n)
    lr = np.float32(LR)
    inv_n = np.float32(1.0 / n)
    params = (w1, b1, w2, b2, w3, b3)
    ones1, ones2 = np.ones(n * s * s, np.float32), np.ones(n * s2 * s2, np.float32)

    def step():
        a1 = conv1.forward(x, w1)
        a1 += b1
        p1, m1 = _pool_relu(a1)
        a2 = conv2.forward(p1, w2)
        a2 += b2
        p2, m2 = _pool_relu(a2)
        flat = p2.reshape(n, -1)
        z = flat @ w3
        z += b3
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        se = e.sum(axis=1, keepdims=True)
        loss = (np.log(se).sum() - z[rows, y].sum()) * inv_n
        e /= se
        e[rows, y] -= 1
        e *= inv_n  # d loss / d logits
        dw3 = flat.T @ e
        db3 = e.sum(axis=0)
        dflat = e @ w3.T
        da2 = _unpool(dflat.reshape(p2.shape), p2, m2).reshape(-1, c2)
        dw2 = conv2.weight_grad(da2)
        db2 = ones2 @ da2  # column sums as a GEMV: ~20x faster than da2.sum(axis=0) on a tall, narrow matrix
        dp1 = conv2.input_grad(da2, w2)
        da1 = _unpool(dp1, p1, m1).reshape(-1, c1)
        dw1 = conv1.weight_grad(da1)
        db1 = ones1 @ da1
        for prm, g in zip(params, (dw1, db1, dw2, db2, dw3, db3)):
            g *= lr
            prm -= g
        return loss

    def current():
        w3_torch = w3.reshape(s4, s4, c2, classes).transpose(3, 2, 0, 1).reshape(classes, -1)
        return {"w1": _conv_weight(w1, 1), "b1": b1.copy(), "w2": _conv_weight(w2, c1), "b2": b2.copy(),
                "w3": w3_torch.copy(), "b3": b3.copy()}  # fmt: skip

    step.result = current
    return step


# --- (2) minigrad, as a user writes it -------------------------------------------------------------


def minigrad_step(case: str):
    """``conv2d``: F.conv2d on tensors that require grad, ``out.backward(cot)``; ``cnn``: nn.Sequential of
    nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear, F.cross_entropy, optim.SGD."""
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import nn, optim

    mg.tune_malloc()  # a benchmark owns its process (MINIGRAD_TUNE_MALLOC=0: glibc's defaults)
    if case == "conv2d":
        prob = make_conv_problem()
        x = mg.tensor(prob["x"], requires_grad=True)
        w = mg.tensor(prob["w"], requires_grad=True)
        cot = mg.tensor(prob["cot"])
        result = {}

        def step():
            out = F.conv2d(x, w, padding=CONV["padding"])
            out.backward(cot)
            result.update(out=out.array, dx=x.grad.array, dw=w.grad.array)
            x.grad = None
            w.grad = None
            return out

        step.result = lambda: {key: np.array(v) for key, v in result.items()}
        return step

    prob = make_cnn_problem()
    c1, c2, classes, s = CNN["c1"], CNN["c2"], CNN["classes"], CNN["size"]
    model = nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * (s // 4) ** 2, classes),
    )  # fmt: skip
    layers = {"w1": model[0].weight, "b1": model[0].bias, "w2": model[3].weight, "b2": model[3].bias,
              "w3": model[7].weight, "b3": model[7].bias}  # fmt: skip
    for name, param in layers.items():
        param.array[...] = prob[name]
    opt = optim.SGD(model.parameters(), lr=LR)
    x = mg.tensor(prob["x"])
    y = mg.tensor(prob["y"])

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step.result = lambda: {name: np.array(param.array) for name, param in layers.items()}
    return step


# --- (3) PyTorch ------------------------------------------------------------------------------------


def torch_step(case: str):
    """PyTorch CPU as its users write it (torch.nn.functional, torch.optim.SGD), default thread count."""
    import torch
    import torch.nn.functional as F

    if case == "conv2d":
        prob = make_conv_problem()
        x = torch.tensor(prob["x"], requires_grad=True)
        w = torch.tensor(prob["w"], requires_grad=True)
        cot = torch.from_numpy(prob["cot"])
        result = {}

        def step():
            out = F.conv2d(x, w, padding=CONV["padding"])
            out.backward(cot)
            result.update(out=out.detach(), dx=x.grad, dw=w.grad)
            x.grad = None
            w.grad = None
            return out

        step.result = lambda: {key: v.numpy().copy() for key, v in result.items()}
        return step

    prob = make_cnn_problem()
    params = {name: torch.tensor(prob[name], requires_grad=True) for name in PARAM_NAMES}
    w1, b1, w2, b2, w3, b3 = (params[name] for name in PARAM_NAMES)
    opt = torch.optim.SGD(list(params.values()), lr=LR)
    x = torch.from_numpy(prob["x"])
    y = torch.from_numpy(prob["y"])

    def step():
        a = F.max_pool2d(F.relu(F.conv2d(x, w1, b1, padding=1)), 2)
        a = F.max_pool2d(F.relu(F.conv2d(a, w2, b2, padding=1)), 2)
        loss = F.cross_entropy(F.linear(a.flatten(1), w3, b3), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step.result = lambda: {name: p.detach().numpy().copy() for name, p in params.items()}
    return step


# --- running ----------------------------------------------------------------------------------------


def _as_float(value) -> float:
    if hasattr(value, "detach"):
        value = value.detach()
    return float(value.sum() if getattr(value, "ndim", 0) else value)


def check() -> int:
    """Run each implementation in this process (no timing) and compare it with NumPy's.

    ``conv2d``: one step; the output, dx and dW. ``cnn``: three steps; the
    losses and the parameters after them. Differences are relative to the
    largest magnitude of the reference array.
    """
    if h.REPO_ROOT not in sys.path:
        sys.path.insert(0, h.REPO_ROOT)  # the working tree's minigrad
    makers = {"numpy": numpy_step, "np-nchw": numpy_nchw_step, "minigrad": minigrad_step}
    try:
        import torch  # noqa: F401

        makers["torch"] = torch_step
    except ImportError:
        print("torch: not installed, skipped")
    status = 0
    for case in CASES:
        print(f"{case}:")
        ref = None
        for name, make in makers.items():
            step = make(case)
            if step is None:
                continue
            losses = [_as_float(step()) for _ in range(1 if case == "conv2d" else 3)]
            arrays = step.result()
            if ref is None:
                ref = (losses, arrays)
            errs = {key: float(np.max(np.abs(arrays[key] - r)) / max(float(np.max(np.abs(r))), 1e-30))
                    for key, r in ref[1].items()}  # fmt: skip
            loss_err = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(losses, ref[0]))
            ok = loss_err < 1e-4 and max(errs.values()) < 1e-4
            status |= not ok
            label = "sum(out)" if case == "conv2d" else "losses"
            print(f"  {name:>9}: {label} {' '.join(f'{v:.6f}' for v in losses)}  rel. err vs numpy: "
                  f"{' '.join(f'{k} {v:.1e}' for k, v in errs.items())}  {'ok' if ok else 'MISMATCH'}")  # fmt: skip
    return status


def run_each_case_alone(impls, cases, settings) -> h.Results:
    """``h.run`` once per case, so that every process runs one case only, and the results merged.

    glibc's malloc adapts to the sizes freed before: after the conv2d case
    has freed its 29 MB column matrix, the CNN step's arrays no longer go
    through mmap and page faults, and that step ran twice as fast (minigrad
    13 ms -> 6 ms, NumPy 6.6 ms -> 5 ms) as in a process that runs it alone,
    as a training script does. (minigrad's processes fix the thresholds with
    ``minigrad.tune_malloc()``, minigrad/_malloc.py; the NumPy and PyTorch
    processes do not.)
    """
    merged = None
    for case in cases:
        print(f"  case {case}:", file=sys.stderr)
        results = h.run(impls, [case], settings)
        if merged is None:
            merged = results
            merged.cases = list(cases)
            continue
        merged.runs.update(results.runs)
        merged.info.update(results.info)
        merged.skipped.update(results.skipped)
        merged.waited_s += results.waited_s
    return merged


def main() -> int:
    args, settings = h.parse_args(__doc__.splitlines()[0], DEFAULT, QUICK, check="compare one step of each, no timing")
    if args.check:
        return check()
    results = run_each_case_alone(IMPLS, CASES, settings)
    conv = "conv2d: batch {batch}, {c_in}->{c_out} channels, {kernel}x{kernel}, pad {padding}, {size}x{size}".format(
        **CONV
    )
    print(h.header(f"Convolution, float32 ({conv}, fwd+bwd; cnn: SGD step, batch {CNN['batch']})", settings, results))
    print()
    columns = {"numpy": "numpy", "minigrad": "minigrad", "torch": "torch", "np-nchw": "np-nchw"}
    ratios = [("minigrad", "numpy"), ("torch", "numpy"), ("minigrad", "torch"), ("np-nchw", "numpy")]
    print(h.table(results, columns=columns, ratios=ratios, row_title="case"))
    print()
    print("numpy: NHWC inside (conv2d: NHWC in and out); np-nchw: the same with NCHW in and out (conv2d only)")
    print()
    for case in CASES:
        print(f"per-process medians, {case} (one per round):")
        print(h.round_medians(results, case))
    ratio = results.ratio("minigrad", "torch", "cnn")
    if ratio is not None:
        print()
        print(f"cnn: minigrad/torch = {ratio:.3f} ({'meets' if ratio <= TARGET else 'misses'} the target <= {TARGET})")
    return h.finish(results, settings, args.json)


if __name__ == "__main__":
    sys.exit(main())

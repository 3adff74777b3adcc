"""What only a GPU shows: training steps stay on the device, and CUDA results equal the CPU's.

Every test here needs CuPy and a GPU and skips without them. The op-level
tests elsewhere already run on both devices through the ``device`` fixture;
these cover what crosses modules: host<->device copies in a whole training
step, models, optimizers, custom Functions, gradcheck, save/load and the
value checks that CUDA defers to anomaly mode.
"""

from __future__ import annotations

import contextlib
import traceback
from collections import Counter

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

pytestmark = pytest.mark.skipif(not mg.cuda.is_available(), reason="no CUDA device (CuPy and a GPU are needed)")


# --- counting host<->device copies ------------------------------------------------------------

# Every way CuPy copies between host and device passes through one of these
# Python-level entry points: methods of cupy.ndarray (a Python subclass of
# CuPy's Cython base, so its methods can be wrapped) and module functions that
# accept host data.
_TO_HOST_METHODS = ("get", "item", "tolist", "__float__", "__int__", "__index__", "__bool__", "__complex__")
_TO_DEVICE_METHODS = ("set",)
_TO_DEVICE_FUNCTIONS = ("asarray", "array", "asanyarray", "ascontiguousarray")


class Transfers(Counter):
    """Counts of "to host" and "to device" copies, and the lines of minigrad or test code that made them."""

    def __init__(self):
        super().__init__()
        self.sites = []

    def add(self, key: str) -> None:
        self[key] += 1
        frames = [f for f in traceback.extract_stack()[:-2] if "minigrad" in f.filename or "tests" in f.filename]
        where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[::-1][:4])
        self.sites.append(f"{key}: {where}")

    def __str__(self) -> str:
        return f"{dict(self)}\n" + "\n".join(self.sites)


@contextlib.contextmanager
def count_transfers():
    """Count host->device and device->host copies made through CuPy's Python entry points inside the block.

    Yields a :class:`Transfers`. Creating an array from another CuPy array is
    not a transfer and is not counted.
    """
    import cupy

    counts = Transfers()
    saved = []
    depth = [0]  # entry points call one another (item() calls get()): count the outermost only

    def call(key, original, *args, **kwargs):
        if depth[0] == 0 and key is not None:
            counts.add(key)
        depth[0] += 1
        try:
            return original(*args, **kwargs)
        finally:
            depth[0] -= 1

    def wrap_method(name, key):
        original = getattr(cupy.ndarray, name, None)
        if original is None:  # not every CuPy version defines every conversion
            return

        def counted(self, *args, **kwargs):
            return call(key, original, self, *args, **kwargs)

        saved.append((cupy.ndarray, name, original))
        setattr(cupy.ndarray, name, counted)

    def wrap_function(name):
        original = getattr(cupy, name)

        def counted(obj, *args, **kwargs):
            return call(None if isinstance(obj, cupy.ndarray) else "to device", original, obj, *args, **kwargs)

        saved.append((cupy, name, original))
        setattr(cupy, name, counted)

    try:
        for name in _TO_HOST_METHODS:
            wrap_method(name, "to host")
        for name in _TO_DEVICE_METHODS:
            wrap_method(name, "to device")
        for name in _TO_DEVICE_FUNCTIONS:
            wrap_function(name)
        yield counts
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


@contextlib.contextmanager
def count_memcpys():
    """The same count read from the CUDA driver's activity records (CUPTI, through PyTorch's profiler).

    This sees every copy the process makes, whatever library issues it.
    Yields a Counter filled in when the block ends.
    """
    torch = pytest.importorskip("torch")
    from torch.profiler import ProfilerActivity, profile

    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA cannot read CUPTI records")
    counts = Counter()
    mg.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        yield counts
        mg.cuda.synchronize()
    for event in prof.events():
        if event.name.startswith("Memcpy HtoD"):
            counts["to device"] += 1
        elif event.name.startswith("Memcpy DtoH"):
            counts["to host"] += 1


def _cnn(device):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Dropout(0.2), nn.Linear(8 * 4 * 4, 10),
    ).to(device)  # fmt: skip


def _mlp(device):
    return nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10)).to(device)


def _batch(model_name, device, n=16):
    rng = np.random.default_rng(0)
    shape = (n, 1, 16, 16) if model_name == "cnn" else (n, 64)
    x = mg.tensor(rng.standard_normal(shape).astype(np.float32), device=device)
    y = mg.tensor(rng.integers(0, 10, n), device=device)
    return x, y


OPTIMIZERS = {
    "sgd nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4),
    "adamw": lambda p: optim.AdamW(p, lr=1e-3, amsgrad=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-3, momentum=0.5, centered=True),
    "adagrad": lambda p: optim.Adagrad(p, lr=1e-2, lr_decay=1e-3),
    "adadelta": lambda p: optim.Adadelta(p),
    "yogi": lambda p: optim.Yogi(p, bias_correction=True),
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("model_name", ["mlp", "cnn"])
def test_a_training_step_copies_nothing_between_host_and_device(model_name, optimizer):
    mg.manual_seed(0)
    model = (_cnn if model_name == "cnn" else _mlp)("cuda")
    x, y = _batch(model_name, "cuda")
    opt = OPTIMIZERS[optimizer](model.parameters())
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        schedule.step()
        return loss

    step()  # the optimizer's state is created here, on the device
    with count_transfers() as counts:
        for _ in range(3):
            loss = step()
    assert counts == {}, f"a training step copied between host and device: {counts}"
    with count_transfers() as counts:
        value = loss.item()
    assert counts == {"to host": 1} and np.isfinite(value)


def test_the_driver_sees_no_copy_in_a_training_step_and_one_for_item():
    mg.manual_seed(0)
    model = _cnn("cuda")
    x, y = _batch("cnn", "cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    step()
    with count_memcpys() as copies:
        for _ in range(3):
            loss = step()
    assert copies == {}, f"the driver saw copies in a training step: {dict(copies)}"
    with count_memcpys() as copies:
        loss.item()
    assert copies == {"to host": 1}


@pytest.mark.parametrize("model_name", ["mlp", "cnn"])
def test_a_model_computes_the_same_loss_and_gradients_on_both_devices(model_name):
    mg.manual_seed(0)
    model = (_cnn if model_name == "cnn" else _mlp)("cpu").to(dtype=mg.float64).eval()
    twin = (_cnn if model_name == "cnn" else _mlp)("cuda").to(dtype=mg.float64).eval()
    twin.load_state_dict(model.state_dict())
    x, y = _batch(model_name, "cpu")
    x = x.to(dtype=mg.float64)
    losses = []
    for m, device in ((model, "cpu"), (twin, "cuda")):
        loss = F.cross_entropy(m(x.to(device)), y.to(device))
        loss.backward()
        losses.append(loss.item())
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-12)
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        assert q.grad.device == "cuda"
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_training_on_cuda_follows_the_cpu_trajectory():
    results = []
    for device in ("cpu", "cuda"):
        mg.manual_seed(0)
        model = _mlp("cpu").to(dtype=mg.float64).to(device)
        x, y = _batch("mlp", device)
        x = x.to(dtype=mg.float64)
        opt = optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(20):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        results.append((loss.item(), [p.numpy() for p in model.parameters()]))
    (loss_cpu, params_cpu), (loss_cuda, params_cuda) = results
    assert loss_cuda < 2.0
    np.testing.assert_allclose(loss_cuda, loss_cpu, rtol=1e-9)
    for a, b in zip(params_cuda, params_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# --- gradcheck, custom ops, serialization on the device -------------------------------------------


class SoftPlus(mg.Function):
    """log(1 + e^x), written on backend arrays: runs on whichever library its inputs belong to."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        xp = mg.backend.xp_of(x)
        return xp.logaddexp(0, x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = mg.backend.xp_of(x)
        return g / (1 + xp.exp(-x))


def test_gradcheck_runs_on_cuda_tensors_in_float64():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((3, 4)), requires_grad=True, device="cuda")
    w = mg.tensor(rng.standard_normal((4, 2)), requires_grad=True, device="cuda")
    report = mg.gradcheck(lambda x, w: (SoftPlus.apply(x) @ w).tanh(), (x, w))
    assert report.passed and report.verdict == "correct"
    assert x.device == "cuda" and x.dtype == np.float64  # the inputs are left as they were


def test_gradcheck_finds_kinks_and_wrong_gradients_on_cuda():
    x = mg.tensor([[0.0, 1.0], [-2.0, 3.0]], requires_grad=True, device="cuda")
    report = mg.gradcheck(lambda x: x.relu().sum(), x)
    assert report.passed and [k.index for k in report.kinks] == [(0, 0)]

    class Wrong(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    y = mg.tensor([[0.5, 1.5]], requires_grad=True, device="cuda")
    with pytest.raises(mg.GradcheckError):
        mg.gradcheck(Wrong.apply, y)


def test_save_and_load_cuda_state(tmp_path):
    mg.manual_seed(0)
    model = _cnn("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = _batch("cnn", "cuda")
    F.cross_entropy(model(x), y).backward()
    opt.step()
    path = tmp_path / "checkpoint.npz"
    mg.save({"model": model.state_dict(), "optim": opt.state_dict()}, path)
    on_cpu, on_cuda = mg.load(path), mg.load(path, device="cuda")
    for name, value in model.state_dict().items():
        assert on_cpu["model"][name].device == "cpu" and on_cuda["model"][name].device == "cuda"
        np.testing.assert_array_equal(on_cpu["model"][name].numpy(), value.numpy())
    twin = _cnn("cuda")
    twin.load_state_dict(on_cuda["model"])
    twin_opt = optim.Adam(twin.parameters(), lr=1e-3)
    twin_opt.load_state_dict(on_cuda["optim"])
    assert all(p.device == "cuda" for p in twin.parameters())


def test_an_in_place_change_of_a_saved_cuda_tensor_is_caught():
    x = mg.tensor([1.0, 2.0], requires_grad=True, device="cuda")
    y = x * 1.0
    z = (y * y).sum()
    y.add_(1.0)
    with pytest.raises(mg.GraphError, match="mul"):
        z.backward()


# --- value checks that CUDA defers ------------------------------------------------------------------


def test_an_out_of_range_target_gives_nan_on_cuda_and_an_error_in_anomaly_mode():
    logits = mg.zeros(3, 4, requires_grad=True, device="cuda")
    target = mg.tensor([0, 7, 1], device="cuda")
    per_sample = F.cross_entropy(logits, target, reduction="none").numpy()
    assert np.isnan(per_sample[1]) and np.isfinite(per_sample[[0, 2]]).all()
    loss = F.cross_entropy(logits, target)
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(logits.grad.numpy()[1]).any()
    assert np.isfinite(logits.grad.numpy()[[0, 2]]).all()
    with mg.detect_anomaly(), pytest.raises(mg.IndexOutOfRange, match="target 7 is out of range for 4 classes"):
        F.cross_entropy(logits, target)
    ignored = F.cross_entropy(logits, mg.tensor([0, -100, 1], device="cuda"))
    np.testing.assert_allclose(ignored.item(), np.log(4), rtol=1e-6)


def test_an_out_of_range_embedding_index_gives_nan_on_cuda_and_an_error_in_anomaly_mode():
    emb = nn.Embedding(5, 3).to("cuda")
    rows = emb(mg.tensor([[1, 5], [-1, 4]], device="cuda"))
    out = rows.numpy()
    assert np.isnan(out[0, 1]).all() and np.isnan(out[1, 0]).all() and np.isfinite(out[[0, 1], [0, 1]]).all()
    rows.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[1, 4]], np.ones((2, 3)))
    np.testing.assert_array_equal(emb.weight.grad.numpy()[[0, 2, 3]], np.zeros((3, 3)))
    with mg.detect_anomaly(), pytest.raises(mg.IndexOutOfRange, match="index 5 is out of range for 5"):
        emb(mg.tensor([1, 5], device="cuda"))


def test_an_out_of_range_array_index_raises_on_cuda_as_in_numpy():
    x = mg.arange(6.0, device="cuda").reshape(2, 3)
    with pytest.raises(mg.IndexOutOfRange, match="index 3 is out of bounds for axis 1 with size 3"):
        x[:, mg.tensor([0, 3], device="cuda")]
    with pytest.raises(mg.IndexOutOfRange, match="index -3 is out of bounds for axis 0 with size 2"):
        x[mg.tensor([-3], device="cuda"), 1]
    np.testing.assert_array_equal(x[mg.tensor([1, -1], device="cuda")].numpy(), [[3, 4, 5], [3, 4, 5]])


def test_minigrad_train_runs_on_cuda_and_its_checkpoint_resumes_on_either_device(tmp_path):
    import shutil

    from minigrad.cli import main

    quick = ["--limit", "300", "--epochs", "4", "--warmup", "5", "--no-progress", "--model", "cnn"]  # 57% on the CPU
    straight, split, moved = tmp_path / "straight", tmp_path / "split", tmp_path / "moved"
    assert main(["train", *quick, "--device", "cuda", "--out", str(straight)]) == 0
    assert main(["train", *quick, "--device", "cuda", "--stop-after", "3", "--out", str(split)]) == 0
    shutil.copytree(split, moved)
    on_gpu = ["--device", "cuda", "--out", str(split), "--resume", str(split / "checkpoint.npz")]
    assert main(["train", *quick, *on_gpu]) == 0
    assert main(["train", *quick, "--out", str(moved), "--resume", str(moved / "checkpoint.npz")]) == 0  # on the CPU
    a, b, c = (mg.load(path / "checkpoint.npz") for path in (straight, split, moved))
    for name in a["model"]:
        np.testing.assert_array_equal(a["model"][name].numpy(), b["model"][name].numpy())
    assert a["history"][-1]["test_accuracy"] > 0.4 and c["history"][-1]["test_accuracy"] > 0.4
    assert c["epoch"] == 4


def test_fork_rng_works_after_a_draw_on_the_gpu():
    mg.manual_seed(0)
    outside = mg.rand(3, device="cuda").numpy()
    mg.manual_seed(0)
    with mg.fork_rng():
        mg.manual_seed(5)
        mg.rand(3, device="cuda")
    np.testing.assert_array_equal(mg.rand(3, device="cuda").numpy(), outside)

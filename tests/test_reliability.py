"""Determinism, resume equivalence, safe checkpoint loading, a soak, and training in threads."""

import gc
import os
import threading
import tracemalloc

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset, make_spirals
from minigrad.optim import lr_scheduler, schedules


def _model():
    return nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 3))


def _train(steps, model=None, optimizer=None, scheduler=None, loader=None, make_optimizer=None, state=None):
    """Train on spirals; everything random comes from minigrad's seeded generator."""
    x, y = make_spirals(120, seed=0)
    if model is None:
        model = _model()
        optimizer = make_optimizer(model.parameters())
        scheduler = lr_scheduler.LambdaLR(optimizer, schedules.warmup(schedules.cosine(1.0, 0.1, 40), 5))
        loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    done = 0
    while done < steps:
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            done += 1
            if done == steps:
                break
    return model, optimizer, scheduler, loader


MAKERS = {
    "sgd momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_manual_seed_makes_training_bit_for_bit_repeatable(name):
    runs = []
    for _ in range(2):
        mg.manual_seed(123)
        model, *_ = _train(12, make_optimizer=MAKERS[name])
        runs.append([p.numpy().copy() for p in model.parameters()])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_two_n_steps_equal_n_steps_saved_loaded_and_n_more(name, tmp_path):
    """Training 2N steps equals N steps, save, load into fresh objects, N more: bit for bit.

    The checkpoint holds the model, the optimizer, the scheduler (warmup then
    cosine), the loader's epoch and the random generator (dropout masks).
    """
    n = 8  # two epochs of 4 batches: checkpoints are taken between epochs, as `minigrad train` does
    mg.manual_seed(7)
    straight, *_ = _train(2 * n, make_optimizer=MAKERS[name])

    mg.manual_seed(7)
    model, opt, sched, loader = _train(n, make_optimizer=MAKERS[name])
    path = tmp_path / "ckpt.npz"
    mg.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
             "loader": loader.state_dict(), "rng": mg.get_rng_state()}, path)  # fmt: skip

    mg.manual_seed(0)  # a fresh process: nothing shared with the first run but the file
    state = mg.load(path)
    model2 = _model()
    opt2 = MAKERS[name](model2.parameters())
    sched2 = lr_scheduler.LambdaLR(opt2, schedules.warmup(schedules.cosine(1.0, 0.1, 40), 5))
    x, y = make_spirals(120, seed=0)
    loader2 = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    model2.load_state_dict(state["model"])
    opt2.load_state_dict(state["opt"])
    sched2.load_state_dict(state["sched"])
    loader2.load_state_dict(state["loader"])
    mg.set_rng_state(state["rng"])
    resumed, *_ = _train(n, model2, opt2, sched2, loader2)
    for a, b in zip(straight.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_rng_state_round_trip():
    mg.manual_seed(3)
    mg.rand(5)
    state = mg.get_rng_state()
    expected = mg.rand(4).numpy()
    mg.manual_seed(99)
    mg.set_rng_state(state)
    np.testing.assert_array_equal(mg.rand(4).numpy(), expected)


def _checkpoint(tmp_path, mutate):
    model = _model()
    state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    mutate(state)
    path = tmp_path / "bad.npz"
    mg.save(state, path)
    return path


@pytest.mark.parametrize(
    "mutate, error",
    [
        (lambda s: s.__setitem__("0.weight", np.zeros((3, 3), np.float32)), "shape"),
        (lambda s: s.pop("3.bias"), "missing key: 3.bias"),
        (lambda s: s.__setitem__("extra", np.zeros(2, np.float32)), "unexpected key: extra"),
    ],
)
def test_a_bad_checkpoint_leaves_the_model_untouched(tmp_path, mutate, error):
    model = _model()
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(nn.StateDictError, match=error):
        model.load_state_dict(mg.load(_checkpoint(tmp_path, mutate)))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


@pytest.mark.parametrize("damage", ["truncated", "foreign", "object array", "garbage"])
def test_damaged_files_raise_checkpoint_error_and_never_run_code(tmp_path, damage):
    path = tmp_path / "x.npz"
    mg.save(_model().state_dict(), path)
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    elif damage == "foreign":
        np.savez(path, weights=np.ones(3))
    elif damage == "object array":
        np.savez(path, __minigrad__=np.frombuffer(b'{"format": "minigrad-checkpoint", "version": 1, "tree": '
                                                    b'{"array": "a0", "tensor": true}}', np.uint8),
                 a0=np.array([{"x": 1}], dtype=object))  # fmt: skip
    else:
        path.write_bytes(b"not a zip file at all")
    with pytest.raises(mg.CheckpointError):
        mg.load(path)


def test_soak_memory_stays_flat():
    """2,000 training steps (the soak script runs 10,000): traced memory after warm-up grows < 5 MB."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = mg.randn(32, 20), mg.randint(0, 10, (32,))

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(200):
        step()
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(1800):
        step()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert grown < 5_000_000, f"memory grew by {grown / 1e6:.1f} MB over 1,800 steps"


def test_two_threads_train_at_once_one_inside_no_grad():
    """Grad mode is per thread: an evaluation loop under no_grad does not stop training in another thread."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
    x = mg.randn(64, 4)
    y = (x.sum(dim=1, keepdim=True) > 0).to(mg.float32)
    results, errors = {}, []
    barrier = threading.Barrier(2)

    def trainer():
        try:
            opt = optim.Adam(model.parameters(), lr=1e-2)
            barrier.wait()
            first = None
            for _ in range(300):
                loss = F.binary_cross_entropy_with_logits(model(x), y)
                first = loss.item() if first is None else first
                opt.zero_grad()
                loss.backward()
                opt.step()
            results["trainer"] = (first, loss.item())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def evaluator():
        try:
            with mg.no_grad():
                barrier.wait()
                flags = [model(x).requires_grad for _ in range(300)]
            results["evaluator"] = any(flags)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=trainer), threading.Thread(target=evaluator)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    first, last = results["trainer"]
    assert last < 0.5 * first  # training worked while the other thread was in no_grad
    assert results["evaluator"] is False  # and no_grad held in its own thread

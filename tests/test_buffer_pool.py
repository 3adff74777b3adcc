"""The pool of large work buffers (minigrad/backend.py): a block is lent again only when no array reaches it.

The engine-level tests keep several forward passes, their outputs and their
gradients alive while other passes run, and compare every value with a
computation in a fresh model: a buffer handed out while a node or the user
still held it would show up as a changed value.
"""

import gc
import threading

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import backend, nn

BIG = (512, 256)  # 512 KiB of float32: above POOL_MIN_BYTES


def test_a_block_is_not_lent_while_any_view_of_it_lives():
    a = backend.empty(np, BIG, np.float32)
    a.fill(1.0)
    view = a.T[::3]  # a strided view, as a node might save
    del a
    gc.collect()
    others = [backend.empty(np, BIG, np.float32) for _ in range(3)]
    for other in others:
        assert not np.shares_memory(other, view)
        other.fill(-1.0)
    assert (view == 1.0).all()


def test_a_block_comes_back_when_its_last_view_dies():
    pool = backend.BufferPool()
    a = pool.empty(BIG, np.float32)
    address = a.__array_interface__["data"][0]
    view = a.reshape(-1)[10:]
    del a
    assert pool.free_bytes() == 0
    del view
    assert pool.free_bytes() == 512 * 256 * 4
    b = pool.empty((256, 512), np.float32)  # the same number of bytes, another shape
    assert b.__array_interface__["data"][0] == address
    assert pool.free_bytes() == 0


def test_the_pool_keeps_what_the_last_busy_period_had_lent_at_once():
    pool = backend.BufferPool()
    MiB = 2**18  # float32 elements
    step = [pool.empty((MiB,), np.float32) for _ in range(2)]
    step.pop()
    step.append(pool.empty((2 * MiB,), np.float32))  # sizes of 1 and 2 MiB, two of 1 MiB at once
    del step  # the end of a busy period: two 1 MiB blocks and a 2 MiB one are kept for the next
    assert pool.free_bytes() == 4 * 2**20
    again = [pool.empty((MiB,), np.float32) for _ in range(2)] + [pool.empty((2 * MiB,), np.float32)]
    assert pool.free_bytes() == 0  # the same step finds its blocks
    del again
    smaller = [pool.empty((MiB,), np.float32)]
    del smaller  # a period that used one 1 MiB block: the rest is unmapped
    assert pool.free_bytes() == 2**20
    pool.release()
    assert pool.free_bytes() == 0


def test_blocks_come_back_from_other_threads_and_the_garbage_collector():
    pool = backend.BufferPool()
    arrays = [pool.empty(BIG, np.float32) for _ in range(4)]
    cycle = [pool.empty(BIG, np.float32)]
    cycle.append(cycle)  # freed only by the collector

    def drop():
        arrays.clear()

    worker = threading.Thread(target=drop)
    worker.start()
    worker.join()
    del cycle
    gc.collect()
    assert pool.free_bytes() == 5 * 512 * 256 * 4


def test_small_arrays_and_empty_like_keep_numpys_rules():
    small = backend.empty(np, (3, 4), np.float32)
    assert small.flags.owndata  # plain NumPy below POOL_MIN_BYTES
    nhwc = np.zeros((8, 64, 32, 32), np.float32).transpose(0, 3, 1, 2)
    like = backend.empty_like(nhwc, bool)
    assert like.shape == nhwc.shape and like.dtype == bool
    assert like.transpose(0, 2, 3, 1).flags.c_contiguous  # the memory order of nhwc
    assert (backend.zeros(np, BIG, np.float64) == 0).all()


# --- the engine: saved values, outputs and gradients are never overwritten ---------------------------


def _cnn(seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )  # fmt: skip


def _batch(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((48, 3, 16, 16)).astype(np.float32)  # every conv and relu array is pooled
    return mg.tensor(x), mg.tensor(rng.integers(0, 10, 48))


def _fresh_gradients(seed):
    """The gradients of the batch ``seed`` in a model of its own, nothing else alive."""
    model = _cnn()
    x, y = _batch(seed)
    F.cross_entropy(model(x), y).backward()
    return [p.grad.numpy().copy() for p in model.parameters()]


def test_two_forward_passes_kept_alive_then_both_backwards():
    model = _cnn()
    (x1, y1), (x2, y2) = _batch(1), _batch(2)
    loss1 = F.cross_entropy(model(x1), y1)
    loss2 = F.cross_entropy(model(x2), y2)  # the second pass runs while the first graph holds its buffers
    loss2.backward()
    second = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    loss1.backward()
    first = [p.grad.numpy().copy() for p in model.parameters()]
    for got, want in zip(first + second, _fresh_gradients(1) + _fresh_gradients(2)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_held_outputs_and_gradients_survive_later_steps():
    model = _cnn()
    x, y = _batch(3)
    x.requires_grad = True
    features = model[:2](x)  # a relu of a conv's output, both from the pool
    (dx,) = mg.grad(F.cross_entropy(model[2:](features), y), [x])  # col2im's buffer, from the pool
    kept = features.numpy().copy(), dx.numpy().copy()
    for seed in range(4, 8):  # more steps, whose buffers are lent from the same pool
        model.zero_grad()
        F.cross_entropy(model(_batch(seed)[0]), _batch(seed)[1]).backward()
    np.testing.assert_array_equal(features.numpy(), kept[0])
    np.testing.assert_array_equal(dx.numpy(), kept[1])


def test_retain_graph_backward_twice_reads_its_saved_buffers_unchanged():
    model = _cnn()
    x, y = _batch(9)
    loss = F.cross_entropy(model(x), y)
    loss.backward(retain_graph=True)
    once = [p.grad.numpy().copy() for p in model.parameters()]
    F.cross_entropy(model(_batch(10)[0]), _batch(10)[1])  # another pass in between, dropped at once
    model.zero_grad()
    loss.backward()
    for got, want in zip([p.grad.numpy() for p in model.parameters()], once):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_gradient_of_the_input_matches_a_fresh_computation_while_others_are_alive(create_graph):
    model = _cnn()
    x, y = _batch(11)
    x.requires_grad = True
    alive = [F.cross_entropy(model(_batch(s)[0]), _batch(s)[1]) for s in (12, 13)]
    (dx,) = mg.grad(F.cross_entropy(model(x), y), [x], create_graph=create_graph)
    fresh = _cnn()
    x2 = mg.tensor(x.numpy(), requires_grad=True)
    F.cross_entropy(fresh(x2), y).backward()
    np.testing.assert_allclose(dx.numpy(), x2.grad.numpy(), rtol=1e-5, atol=1e-7)
    assert all(loss.requires_grad for loss in alive)

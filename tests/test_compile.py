"""minigrad.compile: capture once, replay bit for bit (issue #21)."""

from __future__ import annotations

import gc
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

SIZES = (12, 16, 8, 5)
BATCH = 6


def _problem(dtype, seed=0, batch=BATCH):
    rng = np.random.default_rng(seed)
    xs = [mg.tensor(rng.standard_normal((batch, SIZES[0])).astype(dtype)) for _ in range(4)]
    ys = [mg.tensor(rng.integers(0, SIZES[-1], batch)) for _ in range(4)]
    return xs, ys


def _mlp(dtype, dropout=0.0):
    mg.manual_seed(0)
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()] + ([nn.Dropout(dropout)] if dropout else [])
    model = nn.Sequential(*layers[: -2 if dropout else -1])
    for p in model.parameters():
        p.array = p.array.astype(dtype)
    return model


_OPTIMIZERS = {  # the settings of each optimizer whose step a replay runs in place (Optimizer._step_into)
    "sgd": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9),
    "adam": lambda ps: optim.Adam(ps, lr=1e-2),
    "sgd_plain": lambda ps: optim.SGD(ps, lr=0.05),
    "sgd_decay": lambda ps: optim.SGD(ps, lr=0.05, weight_decay=1e-2),
    "sgd_dampening": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.3, weight_decay=1e-2),
    "sgd_nesterov": lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "adam_decay_amsgrad": lambda ps: optim.Adam(ps, lr=1e-2, weight_decay=1e-2, amsgrad=True),
    "adamw": lambda ps: optim.AdamW(ps, lr=1e-2, betas=(0.8, 0.99)),
}


def _optimizer(kind, model):
    return _OPTIMIZERS[kind](model.parameters())


def _run(compiled: bool, dtype, kind, steps=100, dropout=0.0, scheduler=False):
    model = _mlp(dtype, dropout)
    opt = _optimizer(kind, model)
    sched = optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.5) if scheduler else None
    xs, ys = _problem(dtype)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    fn = mg.compile(step) if compiled else step
    mg.manual_seed(1)
    losses = []
    for i in range(steps):
        losses.append(fn(xs[i % 4], ys[i % 4]).item())
        if sched is not None:
            sched.step()
    state = [{k: (v.numpy().copy() if isinstance(v, mg.Tensor) else v) for k, v in s.items()}
             for s in opt.state_dict()["state"].values()]  # fmt: skip
    weights = [p.numpy().copy() for p in model.parameters()]
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return losses, weights, state, grads, fn


def _same(a, b):
    la, wa, sa, ga, _ = a
    lb, wb, sb, gb, _ = b
    assert la == lb
    for u, v in zip(wa + ga, wb + gb):
        assert u.dtype == v.dtype and np.array_equal(u, v)
    assert len(sa) == len(sb)
    for u, v in zip(sa, sb):
        assert u.keys() == v.keys()
        for k in u:
            assert np.array_equal(u[k], v[k]), k


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_mlp_step_bit_identical_to_eager(dtype, kind):
    eager = _run(False, dtype, kind)
    compiled = _run(True, dtype, kind)
    _same(eager, compiled)
    fn = compiled[-1]
    assert fn.captures == 1 and len(fn.programs()) == 1


@pytest.mark.parametrize("kind", [k for k in _OPTIMIZERS if k not in ("sgd", "adam")])
def test_fused_optimizer_steps_bit_identical_to_eager(kind):
    """Each optimizer's in-place replay (every temporary in a scratch buffer) gives eager's bits, with a scheduler
    changing the learning rate between replays; the program replays _step_into, not step()."""
    eager = _run(False, np.float32, kind, steps=40, scheduler=True)
    compiled = _run(True, np.float32, kind, steps=40, scheduler=True)
    _same(eager, compiled)
    (program,) = compiled[-1].programs()
    hosts = [fn for fn, *_ in program.code if type(fn).__name__ == "_Host"]
    assert [h.fn.__name__ for h in hosts] == ["zero_grad", "_step_into"]


def test_fused_optimizer_step_allocates_nothing():
    """After its first call, _step_into writes every temporary into its scratch buffers (step() makes one per
    product); an lr that is not a Python number (a NumPy scalar promotes differently) takes step()'s arithmetic."""
    w = mg.tensor(np.linspace(-1, 1, 32 * 32).reshape(32, 32), requires_grad=True)
    w.grad = mg.tensor(np.cos(np.arange(32 * 32.0)).reshape(32, 32))
    size = w.array.nbytes
    for make in _OPTIMIZERS.values():
        opt, scratch = make([w]), {}
        assert opt._fuses_step()
        assert _transient_bytes(opt.step, calls=2) >= size
        assert _transient_bytes(opt._step_into, scratch, calls=2) < size // 8  # Python objects only
        opt.param_groups[0]["lr"] = np.float32(0.01)
        before, reference = w.numpy().copy(), make([mg.tensor(w.numpy(), requires_grad=True)])
        reference.state[id(reference.param_groups[0]["params"][0])] = {
            k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in opt.state[id(w)].items()
        }
        reference.param_groups[0]["params"][0].grad = w.grad
        reference.param_groups[0]["lr"] = np.float32(0.01)
        opt._step_into(scratch)
        reference.step()
        assert not np.array_equal(before, w.numpy())
        assert np.array_equal(w.numpy(), reference.param_groups[0]["params"][0].numpy())

    class Custom(optim.SGD):  # its own _update: replayed by calling step() itself
        def _update(self, param, grad, state, group):
            param -= grad

    assert not Custom([w])._fuses_step() and not optim.RMSprop([w])._fuses_step()


def test_scheduler_and_dropout_follow_eager():
    """The learning rate is read at each replay; dropout draws fresh numbers, the ones eager draws."""
    eager = _run(False, np.float32, "sgd", steps=30, dropout=0.3, scheduler=True)
    compiled = _run(True, np.float32, "sgd", steps=30, dropout=0.3, scheduler=True)
    _same(eager, compiled)
    assert len(set(compiled[0])) == 30  # the losses change: fresh masks and updates every step


def test_chain_gradient_into_argument():
    def f(x):
        y = ((x * 2 + 1).relu() * x).sum()
        y.backward()
        return y

    g = mg.compile(f)
    for seed in range(3):
        data = np.random.default_rng(seed).standard_normal(10).astype(np.float32)
        a = mg.tensor(data, requires_grad=True)
        b = mg.tensor(data, requires_grad=True)
        ya, yb = f(a), g(b)
        assert ya.item() == yb.item()
        assert np.array_equal(a.grad.numpy(), b.grad.numpy())
    assert g.captures == 1


def test_replay_updates_live_arrays_in_place():
    _, _, _, _, fn = _run(True, np.float32, "adam", steps=3)
    program = fn.programs()[0]
    assert all(isinstance(t, mg.Tensor) for _, t in program.live)  # parameters are read live, not copied


def _counting_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


def test_guards_recapture_and_warn_once():
    model = _mlp(np.float32, dropout=0.2)
    opt = _optimizer("sgd", model)
    fn = mg.compile(_counting_step(model, opt))
    xs, ys = _problem(np.float32)
    fn(xs[0], ys[0])
    fn(xs[1], ys[1])
    assert fn.captures == 1
    x8, y8 = _problem(np.float32, batch=8)
    with pytest.warns(UserWarning, match="shape"):
        fn(x8[0], y8[0])
    assert fn.captures == 2
    fn(xs[2], ys[2])  # back to the first program: no capture
    assert fn.captures == 2
    model.eval()
    with pytest.warns(UserWarning, match="training flag"):
        fn(xs[0], ys[0])
    assert fn.captures == 3
    model.train()
    fn(xs[0], ys[0])
    assert fn.captures == 3


def test_guard_dtype_and_grad_mode():
    def f(x):
        return (x * 3).exp().sum()

    g = mg.compile(f)
    x32 = mg.tensor(np.arange(4, dtype=np.float32))
    assert g(x32).item() == f(x32).item()
    with pytest.warns(UserWarning, match="dtype"):
        g(mg.tensor(np.arange(4, dtype=np.float64)))
    assert g.captures == 2
    with mg.no_grad():
        with pytest.warns(UserWarning, match="grad mode"):
            out = g(x32)
    assert g.captures == 3 and out.item() == f(x32).item()
    with mg.no_grad():
        g(x32)
    assert g.captures == 3


@pytest.mark.parametrize(
    "kind, what, line",
    [
        ("item", "item", "loss.item()  # item"),
        ("bool", "bool", "if loss > 1:  # bool"),
        ("float", "item", "float(loss)  # float"),
    ],
)
def test_value_reads_are_refused_naming_the_line(kind, what, line):
    w = mg.tensor(np.ones(3, np.float32), requires_grad=True)

    def f(x):
        loss = (x * w).sum()
        if kind == "item":
            loss.item()  # item
        elif kind == "bool":
            if loss > 1:  # bool
                pass
        else:
            float(loss)  # float
        loss.backward()
        return loss

    g = mg.compile(f)
    with pytest.raises(mg.CaptureError, match=what) as info:
        g(mg.tensor(np.ones(3, np.float32)))
    assert "test_compile.py" in str(info.value) and line in str(info.value)


def test_fullgraph_false_falls_back_to_eager_with_one_warning():
    w = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    seen = []

    def f(x):
        loss = (x * w).sum()
        seen.append(loss.item())
        loss.backward()
        return loss

    g = mg.compile(f, fullgraph=False)
    x = mg.tensor(np.ones(3, np.float32))
    with pytest.warns(UserWarning, match="eagerly"):
        g(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g(x)
    assert seen == [3.0, 3.0]
    assert np.array_equal(w.grad.numpy(), np.full(3, 2, np.float32))  # both calls ran: grads accumulated


def test_module_zero_grad_and_unrelated_hooks():
    model = _mlp(np.float64)
    opt = optim.SGD(model.parameters(), lr=0.1)
    elsewhere = mg.tensor(np.ones(2), requires_grad=True)
    elsewhere.register_hook(lambda g: g)  # a hook on a tensor the step never reaches: no refusal

    def step(x, y):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    xs, ys = _problem(np.float64)
    fn = mg.compile(step)
    compiled = [fn(xs[i % 4], ys[i % 4]).item() for i in range(5)]
    model2 = _mlp(np.float64)
    opt = optim.SGD(model2.parameters(), lr=0.1)
    model = model2
    assert compiled == [step(xs[i % 4], ys[i % 4]).item() for i in range(5)]


def test_other_refusals():
    x = mg.tensor(np.array([1.0, -2.0, 3.0], np.float32))
    with pytest.raises(mg.CaptureError, match="outside minigrad's ops"):
        mg.compile(lambda t: mg.nonzero(t > 0))(x)
    with pytest.raises(mg.CaptureError, match="outside minigrad's ops"):
        mg.compile(lambda t: t * mg.nonzero(t > 0).sum())(x)
    written = mg.compile(lambda t: (t * 2).add_(1, alpha=3).mul_(t))  # unrecorded writes: captured
    for _ in range(2):
        assert np.array_equal(written(x).numpy(), ((x * 2 + 3) * x).numpy())
    with pytest.raises(mg.CaptureError, match="random numbers"):
        mg.compile(lambda t: t * mg.rand(3))(x)
    w = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(mg.CaptureError, match="graph is still live"):
        mg.compile(lambda t: t * w)(x)
    h = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    h.register_hook(lambda g: g * 2)

    def hooked(t):
        loss = (t * h).sum()
        loss.backward()
        return loss

    with pytest.raises(mg.CaptureError, match="hooks"):
        mg.compile(hooked)(x)
    h2 = mg.tensor(np.ones(3, np.float32), requires_grad=True)
    h2.register_post_accumulate_grad_hook(lambda t: None)  # what DistributedDataParallel's allreduces hang on

    def post_hooked(t):
        loss = (t * h2).sum()
        loss.backward()
        return loss

    with pytest.raises(mg.CaptureError, match="post-accumulate"):
        mg.compile(post_hooked)(x)


def test_recompile_limit_then_eager():
    def f(x):
        return (x * 2).sum()

    g = mg.compile(f, recompile_limit=2, name="double")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in (1, 2):
            g(mg.tensor(np.ones(n, np.float32)))
    with pytest.warns(UserWarning, match="double reached the recompile limit"):
        out = g(mg.tensor(np.ones(5, np.float32)))
    assert out.item() == 10.0 and g.captures == 2
    with pytest.raises(mg.ArgumentError, match="recompile_limit"):
        mg.compile(f, recompile_limit=0)


def test_compile_arguments():
    assert mg.compile(mode="reduce-overhead", dynamic=False, backend="inductor")(lambda t: t * 2) is not None
    with pytest.raises(mg.ArgumentError, match="mode"):
        mg.compile(lambda t: t, mode="fastest")
    with pytest.raises(TypeError):
        mg.compile(3)


def test_program_freed_with_the_function():
    def f(x):
        return (x * 2).sum()

    g = mg.compile(f)
    g(mg.tensor(np.ones(3, np.float32)))
    ref = weakref.ref(g.programs()[0])
    del g
    gc.collect()
    assert ref() is None


def test_scheduler_and_clipping_inside_the_function():
    """Host calls (scheduler.step, clip_grad_norm_) inside the compiled function are replayed, not left out."""

    def run(compiled):
        model = _mlp(np.float64)
        opt = _optimizer("sgd", model)
        sched = optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
        xs, ys = _problem(np.float64)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            sched.step()
            return loss, norm

        fn = mg.compile(step) if compiled else step
        out = [fn(xs[i % 4], ys[i % 4]) for i in range(12)]
        return (
            [(a.item(), b.item()) for a, b in out],
            [p.numpy() for p in model.parameters()],
            opt.param_groups[0]["lr"],
        )

    (la, wa, lra), (lb, wb, lrb) = run(False), run(True)
    assert la == lb and lra == lrb
    assert all(np.array_equal(u, v) for u, v in zip(wa, wb))


def _traced_over_replays(fn, xs, ys, settle: int, measured: int) -> tuple[int, int]:
    """tracemalloc's traced bytes after ``settle`` calls of ``fn`` (NumPy's small-block caches fill up
    first; they stop at a fixed size) and after ``measured`` more."""
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(settle):
            fn(xs[i % 4], ys[i % 4])
        gc.collect()
        first = tracemalloc.get_traced_memory()[0]
        for i in range(measured):
            fn(xs[i % 4], ys[i % 4])
        gc.collect()
        return first, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def test_replays_do_not_grow_memory():
    model = _mlp(np.float32)
    opt = _optimizer("adam", model)
    fn = mg.compile(_counting_step(model, opt))
    xs, ys = _problem(np.float32)
    for i in range(20):
        fn(xs[i % 4], ys[i % 4])
    first, last = _traced_over_replays(fn, xs, ys, settle=400, measured=600)
    assert last - first < 4096, (first, last)
    # Adam's update is replayed in place: its scratch buffers are made once, at the first replay
    program = fn.programs()[0]
    (host,) = [f for f, *_ in program.code if getattr(getattr(f, "fn", None), "__name__", "") == "_step_into"]
    assert host.fn == opt._step_into and len(host.args[0]) == 2 * len(list(model.parameters()))


def test_batch_norm_running_statistics_follow_eager():
    """Unrecorded in-place updates (batch norm's running mean and variance) are captured and replayed."""

    def run(compiled):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(SIZES[0], 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, SIZES[-1]))
        opt = _optimizer("adam", model)
        xs, ys = _problem(np.float32)
        fn = mg.compile(_counting_step(model, opt)) if compiled else _counting_step(model, opt)
        losses = [fn(xs[i % 4], ys[i % 4]).item() for i in range(15)]
        bn = model[1]
        return losses, [t.numpy().copy() for t in (bn.running_mean, bn.running_var)], bn.running_mean._version

    (la, sa, va), (lb, sb, vb) = run(False), run(True)
    assert la == lb and va == vb
    assert all(np.array_equal(u, v) for u, v in zip(sa, sb))


def test_in_place_on_intermediates_is_refused():
    x = mg.tensor(np.ones(3, np.float32), requires_grad=True)

    def f(t):
        y = t * 2
        y.add_(1)  # recorded: refused
        return y.sum()

    with pytest.raises(mg.CaptureError, match="add_"):
        mg.compile(f)(x)


def test_eager_steps_after_compiled_ones_continue_the_same_run():
    """The replay updated the live parameters and optimizer state: eager steps afterwards continue exactly."""

    def run(compiled_first):
        model = _mlp(np.float32)
        opt = _optimizer("adam", model)
        xs, ys = _problem(np.float32)
        step = _counting_step(model, opt)
        first = mg.compile(step) if compiled_first else step
        losses = [first(xs[i % 4], ys[i % 4]).item() for i in range(6)]
        losses += [step(xs[i % 4], ys[i % 4]).item() for i in range(6)]
        return losses, model.state_dict()

    (la, sa), (lb, sb) = run(False), run(True)
    assert la == lb
    assert all(np.array_equal(sa[k].numpy(), sb[k].numpy()) for k in sa)


def test_factories_inside_the_function_are_constants():
    w = mg.tensor(np.arange(3, dtype=np.float32), requires_grad=True)

    def f(x, scale=2.0):
        bias = mg.ones(3) * scale
        loss = ((x + bias) * w).sum()
        loss.backward()
        return {"loss": loss, "bias": bias}

    g = mg.compile(f)
    x = mg.tensor(np.array([1.0, 2.0, 3.0], np.float32))
    for _ in range(2):
        out = g(x)
        assert out["loss"].item() == float(((np.array([1, 2, 3]) + 2) * np.arange(3)).sum())
        assert np.array_equal(out["bias"].numpy(), np.full(3, 2, np.float32))
    assert g.captures == 1
    with pytest.warns(UserWarning, match="non-tensor value"):
        assert g(x, scale=3.0)["bias"].numpy()[0] == 3.0  # a new value of a Python argument: a new capture
    assert g.captures == 2


def test_compiled_module_under_no_grad_and_inside_a_capture():
    model = _mlp(np.float64)
    compiled = mg.compile(model)
    xs, _ = _problem(np.float64)
    with mg.no_grad():
        for x in xs:
            assert np.array_equal(compiled(x).numpy(), model(x).numpy())
    assert compiled.captures == 1
    model.eval()
    with mg.no_grad(), pytest.warns(UserWarning, match="training flag"):
        compiled(xs[0])
    with pytest.raises(mg.CaptureError, match="graph is still live"), pytest.warns(UserWarning, match="grad mode"):
        compiled(xs[0])  # grad mode on: the result would need its graph

    outer = mg.compile(lambda x: compiled(x).sum())  # a compiled function called inside a capture runs eagerly
    with mg.no_grad():
        assert outer(xs[1]).item() == model(xs[1]).sum().item()


def test_unreachable_module_parameters_are_refused():
    holder = [_mlp(np.float32)]  # reached through a list: the guards could not see its training flag

    def f(x):
        return holder[0](x).sum()

    with mg.no_grad(), pytest.raises(mg.CaptureError, match="Parameter"):
        mg.compile(f)(_problem(np.float32)[0][0])


def test_anomaly_mode_runs_eagerly():
    def f(x):
        return (x * 2).sum()

    g = mg.compile(f)
    x = mg.tensor(np.ones(3, np.float32))
    with mg.detect_anomaly():
        assert g(x).item() == 6.0
    assert g.captures == 0


def test_callable_object_roots_and_optimizer_parameter_guard():
    class Trainer:
        def __init__(self):
            self.w = mg.tensor(np.ones(3, np.float32), requires_grad=True)
            self.opt = optim.SGD([self.w], lr=0.1)

        def __call__(self, x):
            self.opt.zero_grad()
            loss = (x * self.w).sum()
            loss.backward()
            self.opt.step()
            return loss

    trainer = Trainer()
    fn = mg.compile(trainer)
    x = mg.tensor(np.ones(3, np.float32))
    fn(x)
    fn(x)
    assert fn.captures == 1 and np.allclose(trainer.w.numpy(), 0.8)
    trainer.opt.add_param_group({"params": [mg.tensor(np.ones(2, np.float32), requires_grad=True)]})
    with pytest.warns(UserWarning, match="parameters"):
        fn(x)
    assert fn.captures == 2


def test_an_error_during_capture_leaves_no_trace():
    from minigrad import backend
    from minigrad.interpreter import _PER_THREAD

    before = _PER_THREAD.interpreter

    def f(x):
        (x * 2).sum()
        raise KeyError("boom")

    g = mg.compile(f)
    with pytest.raises(KeyError):
        g(mg.tensor(np.ones(3, np.float32)))
    assert _PER_THREAD.interpreter is before and g.captures == 0 and not g.cache
    assert type(backend.generator("cpu")).__name__ == "Generator"  # the watched generator was put back


def test_arguments_sharing_arrays_are_guarded():
    w = mg.tensor(np.full(3, 2.0, np.float32), requires_grad=True)

    def f(a, b):
        return (a * b * w).sum()

    g = mg.compile(f)
    x, y = mg.tensor(np.ones(3, np.float32)), mg.tensor(np.full(3, 3.0, np.float32))
    with mg.no_grad():
        assert g(x, x).item() == 6.0  # captured with one array in both places
        with pytest.warns(UserWarning, match="share one array"):
            assert g(x, y).item() == 18.0
        assert g(w, x).item() == 12.0  # w passed in: the program reads w through the argument
        other = mg.tensor(np.full(3, 5.0, np.float32), requires_grad=True)
        with pytest.warns(UserWarning, match="sharing"):
            assert g(other, x).item() == 30.0  # ... and must not, once another tensor comes in its place


class _LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(6, 8, batch_first=True)
        self.fc = nn.Linear(8, SIZES[-1])

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class _TinyTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(6, 16)
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.1, batch_first=True)
        self.fc = nn.Linear(16, SIZES[-1])

    def forward(self, x):
        return self.fc(self.layer(self.embed(x)).mean(dim=1))


def _cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(4 * 4 * 4, SIZES[-1]),
    )  # fmt: skip


@pytest.mark.parametrize(
    "make, shape",
    [(_cnn, (4, 1, 8, 8)), (_LSTMNet, (4, 5, 6)), (_TinyTransformer, (4, 5, 6))],
    ids=["cnn-batchnorm", "lstm", "transformer-dropout"],
)
def test_other_models_bit_identical_to_eager(make, shape):
    rng = np.random.default_rng(0)
    xs = [mg.tensor(rng.standard_normal(shape).astype(np.float32)) for _ in range(3)]
    ys = [mg.tensor(rng.integers(0, SIZES[-1], shape[0])) for _ in range(3)]

    def run(compiled):
        mg.manual_seed(0)
        model = make()
        opt = optim.Adam(model.parameters(), lr=1e-2)
        fn = mg.compile(_counting_step(model, opt)) if compiled else _counting_step(model, opt)
        mg.manual_seed(1)
        losses = [fn(xs[i % 3], ys[i % 3]).item() for i in range(12)]
        return losses, [t.numpy().copy() for t in model.state_dict().values()], fn

    (la, sa, _), (lb, sb, fn) = run(False), run(True)
    assert la == lb
    assert all(np.array_equal(u, v) for u, v in zip(sa, sb))
    assert fn.captures == 1


def test_a_leaf_made_inside_is_refused():
    def f(x):
        w = mg.ones(3, requires_grad=True)
        loss = (x * w).sum()
        loss.backward()
        return loss

    with pytest.raises(mg.CaptureError, match="leaf"):
        mg.compile(f)(mg.tensor(np.ones(3, np.float32)))


def test_compiled_method_guards_its_objects_model():
    class Trainer:
        def __init__(self):
            self.model = _mlp(np.float32, dropout=0.2)
            self.opt = _optimizer("sgd", self.model)

        @mg.compile
        def step(self, x, y):
            self.opt.zero_grad()
            loss = F.cross_entropy(self.model(x), y)
            loss.backward()
            self.opt.step()
            return loss

    trainer = Trainer()
    xs, ys = _problem(np.float32)
    trainer.step(xs[0], ys[0])
    trainer.step(xs[1], ys[1])
    trainer.model.eval()
    with pytest.warns(UserWarning, match="training flag"):
        trainer.step(xs[0], ys[0])
    assert Trainer.step.captures == 2


@pytest.mark.parametrize("where", ["hook", "after_step"])
def test_fullgraph_false_breaks_give_eager_results(where):
    """A break in the backward (a hook) or after the update (item) finishes the call eagerly, exactly."""

    def run(compiled):
        model = _mlp(np.float64)
        opt = _optimizer("adam", model)
        xs, ys = _problem(np.float64)
        first = next(model.parameters())
        if where == "hook":
            first.register_hook(lambda g: g * 0.5)
        seen = []

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if where == "after_step":
                seen.append(loss.item())
            return loss

        fn = mg.compile(step, fullgraph=False) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losses = [fn(xs[i % 4], ys[i % 4]).item() for i in range(4)]
        return losses, seen, [p.numpy().copy() for p in model.parameters()]

    (la, sa, wa), (lb, sb, wb) = run(False), run(True)
    assert la == lb and sa == sb
    assert all(np.array_equal(u, v) for u, v in zip(wa, wb))


def test_embedding_indices_are_slots():
    """An index array among an op's settings (an embedding lookup) is read from the call's tensor each replay."""

    def run(compiled):
        mg.manual_seed(0)
        embed, head = nn.Embedding(11, 6), nn.Linear(6, SIZES[-1])
        params = list(embed.parameters()) + list(head.parameters())
        opt = optim.Adam(params, lr=1e-2)

        def step(tokens, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(embed(tokens).mean(dim=1)), y)
            loss.backward()
            opt.step()
            return loss

        rng = np.random.default_rng(0)
        batches = [(mg.tensor(rng.integers(0, 11, (4, 5))), mg.tensor(rng.integers(0, SIZES[-1], 4))) for _ in range(3)]
        fn = mg.compile(step) if compiled else step
        return [fn(*batches[i % 3]).item() for i in range(9)], [p.numpy().copy() for p in params], fn

    (la, wa, _), (lb, wb, fn) = run(False), run(True)
    assert la == lb and all(np.array_equal(u, v) for u, v in zip(wa, wb))
    assert fn.captures == 1
    lookup = next(line for line in fn.programs()[0].describe().splitlines() if "= getitem(" in line)
    assert "index=%" in lookup  # the index is a slot, not a constant


GLOBAL_SCALE = mg.tensor(np.full(3, 2.0, np.float32))


def test_tensor_copies_and_global_tensors():
    """``Tensor(value)`` of a value of the program is a recorded copy; a rebound global tensor recaptures."""
    global GLOBAL_SCALE

    def f(x):
        y = x * 3
        z = mg.tensor(y)  # a copy of an intermediate: replayed, not frozen
        return (z + x * GLOBAL_SCALE).sum()

    g = mg.compile(f)
    with mg.no_grad():
        for v in (1.0, 2.0, 5.0):
            x = mg.tensor(np.full(3, v, np.float32))
            assert g(x).item() == f(x).item() == 15 * v
        assert g.captures == 1
        old = GLOBAL_SCALE
        try:
            GLOBAL_SCALE = mg.tensor(np.full(3, 10.0, np.float32))
            with pytest.warns(UserWarning, match="globals or closure"):
                assert g(x).item() == f(x).item()
        finally:
            GLOBAL_SCALE = old
    assert g.captures == 2


# --- preallocated buffers ----------------------------------------------------------------------


def _transient_bytes(fn, *args, calls=5):
    """The most memory one call allocates beyond what it keeps (tracemalloc's peak over its start), max over calls."""
    fn(*args)
    gc.collect()
    tracemalloc.start()
    try:
        worst = 0
        for _ in range(calls):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            out = fn(*args)
            worst = max(worst, tracemalloc.get_traced_memory()[1] - before)
            del out
    finally:
        tracemalloc.stop()
    return worst


def test_replay_writes_into_preallocated_buffers():
    """Ops that can write into out= do so at replay: a forward chain of them allocates (almost) nothing,
    and buffers are shared between intermediates whose lifetimes do not overlap."""
    rng = np.random.default_rng(0)
    w = mg.tensor(rng.standard_normal((64, 64)))
    x = mg.tensor(rng.standard_normal((64, 64)))

    def f(x):
        h = (x @ w).relu()
        for _ in range(4):
            h = (h * 0.5 + 1).tanh() - x
        return (h * h).sum()

    g = mg.compile(f)
    with mg.no_grad():
        expected = [f(x).item() for _ in range(2)]
        got = [g(x).item() for _ in range(3)]
        program = g.programs()[0]
        assert got == expected[:1] * 3
        assert program.allocating == ["sum"]  # the returned scalar only
        assert len(program.buffers) == 2  # 16 intermediates of the same shape, two alive at once
        eager, compiled = _transient_bytes(f, x), _transient_bytes(g, x)
    assert eager > 2 * x.array.nbytes  # eager: each op a fresh array (two or three alive at once)
    assert compiled < x.array.nbytes // 8, compiled  # the Python objects of a call, no array


def test_chain_replay_calls_ufuncs_inline_and_buffers_sum_vjps():
    """The 5-op chain's replay calls the buffered ops' ufuncs themselves (no helper frame per instruction), and a
    sum's vjp writes its spread cotangent into a buffer (eager makes a broadcast view: the same values)."""
    x = mg.tensor(np.linspace(-2, 2, 10).astype(np.float32), requires_grad=True)
    w = mg.tensor(np.random.default_rng(1).standard_normal((3, 4, 5)), requires_grad=True)

    def chain(x):
        y = ((x * 2 + 1).relu() * x).sum()
        y.backward()
        return y

    def sums(w):
        y = ((w * w).sum(axis=1) * w.sum(dim=(0, 2), keepdim=True).sum(1)).sum()
        y.backward()
        return y

    cases = ((chain, x, ["sum", "add_vjp[0]", "add"]), (sums, w, ["sum"] * 4 + ["unbroadcast", "add"]))
    for f, t, allocating in cases:
        c = mg.compile(f)
        for _ in range(3):
            t.grad = None
            got = c(t).item()
        compiled = t.grad.numpy().copy()
        t.grad = None
        assert f(t).item() == got and np.array_equal(t.grad.numpy(), compiled)
        program = c.programs()[0]
        assert program.allocating == allocating  # no sum_vjp[0]: buffered
    source = c.programs()[0].run.source
    assert "u0_0(v0, v0, out=b0)" in source and "i0(" not in source  # w * w: np.multiply itself


def test_buffers_never_escape_to_the_caller():
    """Returned tensors, and gradients stored in .grad, are fresh arrays at every replay, as in eager:
    keeping them across replays sees each step's own values."""

    def run(compiled):
        model = _mlp(np.float64)
        opt = optim.SGD(model.parameters(), lr=0.1)
        xs, ys = _problem(np.float64)

        def step(x, y):
            opt.zero_grad()
            hidden = model[1](model[0](x))
            out = model[2:](hidden)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss, hidden, out  # their graphs were freed by the backward, as eager

        fn = mg.compile(step) if compiled else step
        kept = []
        for i in range(4):
            loss, hidden, out = fn(xs[i % 4], ys[i % 4])
            kept.append((loss, hidden, out, [p.grad for p in model.parameters()]))
        return kept, fn

    (eager, _), (compiled, fn) = run(False), run(True)
    assert len(fn.programs()[0].buffers) > 0
    arrays = [id(t.array) for step in compiled for t in (*step[:3], *step[3])]
    assert len(set(arrays)) == len(arrays)  # nothing shared between replays
    for a, b in zip(eager, compiled):
        for u, v in zip((*a[:3], *a[3]), (*b[:3], *b[3])):
            assert np.array_equal(u.numpy(), v.numpy())


def test_mlp_step_memory_flat_and_buffers_counted():
    """Over 1,000 replays of the MLP step tracemalloc stays flat; the instructions that still allocate are named."""
    model = _mlp(np.float32)
    opt = _optimizer("sgd", model)
    fn = mg.compile(_counting_step(model, opt))
    xs, ys = _problem(np.float32)
    for i in range(20):
        fn(xs[i % 4], ys[i % 4])
    program = fn.programs()[0]
    # the forward activations and hidden cotangents are buffers; the loss (returned), the weight and bias
    # gradients (stored in .grad) and cross_entropy's forward and vjp (no out= form) are fresh arrays each replay
    assert len(program.plan) == 9  # 3 linear and 2 relu forwards, 2 matmuls and 2 relu vjps of the backward
    assert program.allocating == ["cross_entropy", "cross_entropy_vjp[0]"] + ["linear_vjp[1]", "linear_vjp[2]"] * 3
    first, last = _traced_over_replays(fn, xs, ys, settle=200, measured=1000)
    assert last - first < 4096, (first, last)


def test_program_and_buffers_freed_with_the_function():
    w = mg.tensor(np.ones((4, 4)))

    def f(x):
        return ((x @ w).relu() * 2).sum()

    g = mg.compile(f)
    with mg.no_grad():
        g(mg.tensor(np.ones((4, 4))))
    program = g.programs()[0]
    refs = [weakref.ref(program)] + [weakref.ref(b) for b in program.buffers]
    assert len(refs) > 1
    del g, program
    gc.collect()
    assert all(r() is None for r in refs)


class _Twice(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def _line_of(fn, text: str) -> int:
    import inspect

    lines, start = inspect.getsourcelines(fn)
    return start + next(i for i, line in enumerate(lines) if text in line)


def test_double_backward_custom_functions_and_recorded_in_place_are_refused_naming_the_line():
    """What the capture does not record is refused with the line that did it, never replayed differently."""
    w = mg.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    x = mg.tensor(np.array([0.5, -1.0, 2.0]))

    def double_backward(x):
        (g,) = mg.autograd.grad((w * w * x).sum(), [w], create_graph=True)  # double backward
        g.sum().backward()
        return g

    def custom(x):
        loss = _Twice.apply(w * x).sum()  # custom Function
        loss.backward()
        return loss

    def in_place(x):
        y = w * x
        y.mul_(2)  # recorded in-place
        loss = y.sum()
        loss.backward()
        return loss

    for fn, marker, what in [
        (double_backward, "double backward", "create_graph=True"),
        (custom, "custom Function", "custom Function"),
        (in_place, "recorded in-place", "mul_"),
    ]:
        w.grad = None
        with pytest.raises(mg.CaptureError, match=what) as caught:
            mg.compile(fn)(x)
        assert f"test_compile.py:{_line_of(fn, marker)}" in str(caught.value), str(caught.value)
        assert w.grad is None  # refused before any gradient was written


def test_a_primitive_with_its_own_vjp_method_is_refused():
    """The replay records a primitive's per-input vjp functions; a primitive class that overrides ``vjp``
    itself would be replayed without it, so it is refused (it runs eagerly with fullgraph=False)."""
    from minigrad.primitive import Primitive, primitive

    class _OwnVjp(Primitive):
        def vjp(self, node, g, raw):
            return [g * 3]

    @primitive(name="triple_own_vjp")
    def triple(x):
        return x * 3

    triple.defvjp(lambda g, ans, x: g * 3)
    triple.__class__ = _OwnVjp
    w = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)

    def step(w):
        loss = triple(w).sum()
        loss.backward()
        return loss

    with pytest.raises(mg.CaptureError, match="the primitive triple_own_vjp, which defines its own vjp method"):
        mg.compile(step)(w)
    w.grad = None
    with pytest.warns(UserWarning):
        mg.compile(step, fullgraph=False)(w)
    np.testing.assert_array_equal(w.grad.numpy(), [3.0, 3.0])

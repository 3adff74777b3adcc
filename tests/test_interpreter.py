"""The interpreter seam: one current interpreter per thread, swapped by grad modes, wrapped by monitors."""

import threading

import numpy as np

import minigrad as mg
from minigrad import interpreter
from minigrad.interpreter import NOT_RECORDING, RAW, RECORDING, Monitored, using


def test_the_default_interpreter_records():
    assert interpreter.current() is RECORDING


def test_grad_modes_swap_the_interpreter_and_restore_it():
    with mg.no_grad():
        assert interpreter.current() is NOT_RECORDING
        with mg.enable_grad():
            assert interpreter.current() is RECORDING
        assert interpreter.current() is NOT_RECORDING
    assert interpreter.current() is RECORDING


def test_a_plain_backward_runs_the_vjps_under_the_raw_interpreter(monkeypatch):
    import minigrad.engine as engine

    calls = []

    class Watching:
        grad_enabled = False
        monitor = None

        def apply(self, op, args, params):
            calls.append((op.name, type(args[0]).__name__))
            return RAW.apply(op, args, params)

    monkeypatch.setattr(engine, "RAW", Watching())
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()  # sum's vjp calls the broadcast primitive, on a bare array
    assert calls == [("broadcast_to", "ndarray")]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_monitors_wrap_the_interpreter_and_keep_its_grad_mode():
    with mg.no_grad(), mg.record_signatures():
        current = interpreter.current()
        assert isinstance(current, Monitored) and current.inner is NOT_RECORDING
        assert not current.grad_enabled
        with mg.enable_grad():
            assert interpreter.current().inner is RECORDING
            assert interpreter.current().monitor is current.monitor  # the same monitor keeps counting
    assert interpreter.current() is RECORDING


def test_nested_monitors_do_not_wrap_twice_and_merge_their_features():
    with mg.record_signatures() as rec, mg.detect_anomaly():
        current = interpreter.current()
        assert current.inner is RECORDING
        assert current.monitor.recorder is rec and current.monitor.anomaly


def test_a_new_interpreter_plugs_in_at_the_seam():
    # What a capture for minigrad.compile does: see every op with its arguments, run it eagerly.
    log = []

    class Tracing:
        def __init__(self, inner):
            self.inner, self.grad_enabled, self.monitor = inner, inner.grad_enabled, None

        def apply(self, op, args, params):
            out = self.inner.apply(op, args, params)
            log.append((op.name, len(args), out.shape))
            return out

        def apply_function(self, op, args, params):
            return self.inner.apply_function(op, args, params)

        def with_grad(self, enabled):
            return Tracing(self.inner.with_grad(enabled))

    x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    with using(Tracing(RECORDING)):
        y = ((x * 2).relu() + 1).sum()
    assert log == [("mul", 2, (3,)), ("relu", 1, (3,)), ("add", 2, (3,)), ("sum", 1, ())]
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 2.0])


def test_the_interpreter_is_per_thread():
    seen = {}

    def worker():
        seen["other"] = interpreter.current()

    with mg.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert interpreter.current() is NOT_RECORDING
    assert seen["other"] is RECORDING


def test_a_custom_functions_backward_runs_without_recording():
    modes = []

    class Probe(mg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            modes.append(mg.is_grad_enabled())
            return g

    x = mg.tensor([1.0], requires_grad=True)
    Probe.apply(x).sum().backward()
    assert modes == [False]

"""Anomaly mode: the first NaN or Inf, forward or backward, names the op and the user's line."""

import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import AnomalyError


def test_forward_nan_names_the_op_and_the_line():
    x = mg.tensor([1.0, -1.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError) as info:
            (x * 2).sqrt()  # the line that makes the NaN
    message = str(info.value)
    assert message.startswith("sqrt (op 1) produced NaN in a result of shape (2,)")
    assert "test_anomaly.py" in message and "(x * 2).sqrt()  # the line that makes the NaN" in message


def test_inherited_nan_is_said_to_come_from_the_inputs():
    with mg.detect_anomaly(), pytest.raises(AnomalyError, match="already held NaN"):
        mg.tensor([np.nan, 1.0]) + 1


def test_backward_nan_names_the_node_and_the_forward_line():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.detect_anomaly(), np.errstate(invalid="ignore", divide="ignore"):
        y = x.sqrt() * 0  # finite forward; the backward of sqrt at 0 is 0 / 0
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    message = str(info.value)
    assert "the backward of sqrt (node #" in message and "NaN" in message  # 0 / (2 sqrt 0)
    assert "y = x.sqrt() * 0" in message
    assert x.grad is None


def test_off_by_default_and_per_thread():
    x = mg.tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        assert np.isnan(x.sqrt().item())  # no error outside the context
    errors = []

    def worker():
        try:
            with np.errstate(invalid="ignore"):
                x.sqrt()
        except AnomalyError as exc:  # pragma: no cover - would be the bug
            errors.append(exc)

    with mg.detect_anomaly():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert errors == []


def test_decorator_form_and_gradcheck_still_works_inside():
    @mg.detect_anomaly()
    def run():
        x = mg.tensor([0.5, 1.5], dtype=mg.float64, requires_grad=True)
        return mg.gradcheck(lambda x: (x.relu() * x.exp()).sum(), x).passed

    assert run()


def test_set_detect_anomaly_as_a_call_and_as_a_context_as_pytorch():
    x = mg.tensor([-1.0], requires_grad=True)
    mg.autograd.set_detect_anomaly(True)
    try:
        assert mg.is_anomaly_enabled()
        with np.errstate(invalid="ignore"), pytest.raises(AnomalyError, match="sqrt"):
            x.sqrt()
        with mg.autograd.set_detect_anomaly(False):  # off for a block, back on after it
            assert not mg.is_anomaly_enabled()
            with np.errstate(invalid="ignore"):
                x.sqrt()
        assert mg.is_anomaly_enabled()
    finally:
        mg.autograd.set_detect_anomaly(False)
    assert not mg.is_anomaly_enabled()
    assert mg.interpreter.current() is mg.interpreter.RECORDING  # the plain interpreter again, paying nothing
    with mg.autograd.set_detect_anomaly(True):
        assert mg.is_anomaly_enabled()
    assert not mg.is_anomaly_enabled()
    with mg.detect_anomaly(), mg.autograd.set_detect_anomaly(False):
        assert not mg.is_anomaly_enabled()
    with pytest.raises(mg.ArgumentError, match="check_nan=False"):
        mg.autograd.set_detect_anomaly(True, check_nan=False)
    assert not mg.is_anomaly_enabled()

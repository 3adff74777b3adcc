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


# Ops of the breadth issues that make NaN or Inf from finite inputs, each with such an input.
FIRST_NAN = {
    "asin": lambda x: mg.asin(x + 1.5),
    "acos": lambda x: mg.acos(x + 1.5),
    "acosh": lambda x: mg.acosh(x - 1.0),
    "atanh": lambda x: mg.atanh(x + 1.5),
    "log1p": lambda x: mg.log1p(x - 2.0),
    "log2": lambda x: mg.log2(x - 1.0),
    "log10": lambda x: mg.log10(x - 1.0),
    "rsqrt": lambda x: mg.rsqrt(x - 1.0),
    "fmod": lambda x: mg.fmod(x, x * 0),
    "remainder": lambda x: mg.remainder(x, x * 0),
    "exp2": lambda x: mg.exp2(x * 4000),
    "expm1": lambda x: mg.expm1(x * 2000),
    "cosh": lambda x: mg.cosh(x * 2000),
}


@pytest.mark.parametrize("name", list(FIRST_NAN))
def test_the_first_op_that_makes_a_nan_or_inf_is_named(name):
    x = mg.tensor([0.5, 0.25], dtype=mg.float64, requires_grad=True)
    with mg.detect_anomaly(), np.errstate(all="ignore"), pytest.raises(AnomalyError) as info:
        FIRST_NAN[name](x).sum()
    assert str(info.value).startswith(f"{name} (op "), str(info.value)
    assert "produced" in str(info.value) and "test_anomaly.py" in str(info.value)


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


# Ops of the breadth issues (scans, reductions, special functions) that make NaN or Inf from
# finite inputs, each with such an input; the NaN must be blamed on them, not on the sum after them.
BREADTH_FIRST_NAN = {
    "cumsum": lambda x: mg.cumsum(x * 1e308 * 3, 0),
    "cumprod": lambda x: mg.cumprod(x * 1e200, 0),
    "prod": lambda x: mg.prod(x * 1e300),
    "xlogy": lambda x: mg.xlogy(x, -x),
    "logit": lambda x: mg.logit(x + 1.0),
    "erfinv": lambda x: mg.erfinv(x + 1.0),
}


@pytest.mark.parametrize("name", list(BREADTH_FIRST_NAN))
def test_the_first_breadth_op_that_makes_a_nan_or_inf_is_named(name):
    x = mg.tensor([0.5, 0.25], dtype=mg.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        assert not np.all(np.isfinite(BREADTH_FIRST_NAN[name](x).numpy()))  # outside anomaly mode: no error
    with mg.detect_anomaly(), np.errstate(all="ignore"), pytest.raises(AnomalyError) as info:
        BREADTH_FIRST_NAN[name](x).sum()
    message = str(info.value)
    assert name in message.split(" (op ")[0], message  # the op itself, not a later one
    assert "produced" in message and "test_anomaly.py" in message

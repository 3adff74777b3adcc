"""minigrad.futures.Future, as torch.futures.Future: set_result/wait/value/done, then() chains (values and
exceptions, wrapped as PyTorch's), add_done_callback order, collect_all/wait_all, and the errors of a Future
nothing can complete."""

import pytest

import minigrad
from minigrad.errors import DistributedError
from minigrad.futures import Future, collect_all, wait_all


def test_set_result_then_wait_value_done():
    f = Future()
    assert not f.done()
    f.set_result(3)
    assert f.done() and f.wait() == 3 and f.value() == 3
    with pytest.raises(DistributedError, match="already complete"):
        f.set_result(4)
    assert minigrad.futures.Future is Future


def test_then_chains_on_completion_in_order():
    order = []
    f = Future()
    g = f.then(lambda fut: fut.value() + 1)
    h = g.then(lambda fut: fut.value() * 10)
    f.add_done_callback(lambda fut: order.append("callback"))
    assert not g.done() and not h.done()
    f.set_result(1)
    assert order == ["callback"] and g.value() == 2 and h.wait() == 20
    done = Future()
    done.set_result(5)
    assert done.then(lambda fut: fut.value() - 5).value() == 0  # chained on a complete Future: runs now


def test_exceptions_travel_down_the_chain():
    f = Future()
    g = f.then(lambda fut: fut.value() / 0)
    f.set_result(1.0)
    with pytest.raises(RuntimeError, match="the callback: ZeroDivisionError: float division by zero") as info:
        g.wait()
    assert isinstance(info.value, DistributedError) and isinstance(info.value.__cause__, ZeroDivisionError)
    e = Future()
    e.set_exception(ValueError("bad"))
    with pytest.raises(ValueError, match="bad"):
        e.value()
    with pytest.raises(RuntimeError, match="Got the following error when running the callback: ValueError: bad"):
        e.then(lambda fut: fut.value()).wait()
    with pytest.raises(TypeError, match="expected an exception"):
        Future().set_exception("bad")


def test_a_future_nothing_completes_refuses_to_wait():
    with pytest.raises(DistributedError, match="nothing will complete this Future"):
        Future().wait()
    with pytest.raises(DistributedError, match="not complete yet"):
        Future().value()


def test_wait_drives_the_work_behind_a_chain():
    calls = []
    source = Future()
    source._driver = lambda: (calls.append("driven"), source.set_result([7]))
    chained = source.then(lambda fut: fut.value()[0])
    assert chained.wait() == 7 and calls == ["driven"]


def test_collect_all_and_wait_all():
    a, b = Future(), Future()
    both = collect_all([a, b])
    a.set_result(1)
    assert not both.done()
    b.set_result(2)
    assert both.done() and [f.value() for f in both.value()] == [1, 2]
    assert wait_all([a, b]) == [1, 2]

"""In-place updates: fast writes outside recording, safe history while recording."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.errors import DTypeError, GraphError, ShapeError


def test_inplace_outside_recording_writes_the_same_buffer_and_bumps_the_version():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    buffer = w.array
    with mg.no_grad():
        w.add_(mg.tensor([1.0, 1.0]), alpha=-0.5)
        w.mul_(2)
        w.sub_(1.0)
        w.div_(2)
        w += 1
    assert w.array is buffer and w._version == 5
    np.testing.assert_allclose(w.numpy(), [1.0, 2.0])


def test_zero_fill_and_copy():
    t = mg.tensor([1.0, 2.0])
    t.zero_()
    assert t.tolist() == [0.0, 0.0]
    t.fill_(3.0)
    assert t.tolist() == [3.0, 3.0]
    t.copy_(mg.tensor([5.0, 6.0]))
    assert t.tolist() == [5.0, 6.0] and t._version == 3


def test_inplace_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    for update in (lambda: w.add_(1.0), lambda: w.mul_(2.0), lambda: w.zero_()):
        with pytest.raises(GraphError, match="leaf.*no_grad"):
            update()
    np.testing.assert_array_equal(w.numpy(), [1.0, 2.0])


def test_augmented_assignment_on_a_non_leaf_is_recorded():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y += x * x  # y = 3x + x^2
    y *= 2  # y = 6x + 2x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 + 4 * x.numpy())


def test_recorded_mul_by_a_tensor_keeps_the_old_value_for_its_gradient():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    w = mg.tensor([3.0, 4.0], requires_grad=True)
    y = x * 1
    y.mul_(w)  # y = x * w
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 2.0])


def test_copy_into_a_non_leaf_passes_the_gradient_to_the_source():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    s = mg.tensor([5.0, 7.0], requires_grad=True)
    y = x * 2
    y.copy_(s)
    (y * y).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), [10.0, 14.0])
    assert x.grad is None


def test_inplace_errors_name_the_op_and_leave_data_intact():
    t = mg.tensor([1, 2])
    with pytest.raises(DTypeError, match="add_"):
        t.add_(0.5)
    assert t.tolist() == [1, 2] and t._version == 0
    u = mg.tensor([1.0, 2.0])
    with pytest.raises(ShapeError, match=r"add_.*\(2,\)"):
        u.add_(mg.ones(3))
    assert u.tolist() == [1.0, 2.0]


def test_an_op_recorded_before_an_inplace_change_keeps_the_old_history():
    # z read y before y.mul_(3): its gradient flows through y's old history (dz/dx = 1), as in
    # PyTorch, not through the in-place multiply and not lost because that node is later on the tape
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x * 1
    z = y + 1
    y.mul_(3)
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])

    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x * 1
    z = y + 1
    y.mul_(3)
    (z.sum() + y.sum()).backward()  # 1 through z, 3 through the new y
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_an_op_recorded_before_fill_keeps_the_old_history():
    x = mg.tensor([1.0, 2.0], dtype=mg.float64, requires_grad=True)
    y = x * 2
    z = y + 1
    y.fill_(0.0)  # y leaves the graph, but z was computed from its old value
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    assert y.grad is None


def test_a_recorded_inplace_op_with_the_tensor_itself_as_operand_reads_its_old_value():
    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x * 1
    y.add_(y, alpha=2)  # y = 3x; alpha multiplies y before the write, which must not count as modifying it
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [3.0, 6.0, 9.0])
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0, 3.0])

    x = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x * 1
    y -= y
    y.sum().backward()
    np.testing.assert_allclose(y.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_a_view_or_base_changed_through_its_alias_by_a_recorded_inplace_op_cannot_be_used_silently():
    # minigrad gives only the tensor the in-place op ran on a new history; its aliases keep nodes that
    # leave the change out (PyTorch would rebase them), so using them is an error, not a wrong gradient
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    y = x * 1
    y[1:3].mul_(5)  # changes y through a view
    with pytest.raises(GraphError, match=r"sum: .*\(4,\).*view"):
        y.sum()
    with pytest.raises(GraphError, match="view"):
        y.backward(mg.ones(4, dtype=mg.float64))

    y = x * 1
    v = y.view(2, 2)
    y.mul_(3)  # changes the view through its base
    with pytest.raises(GraphError, match=r"mul: .*\(2, 2\)"):
        v * 2
    (y.sum()).backward()  # the tensor the op ran on has the right history
    np.testing.assert_allclose(x.grad.numpy(), [3.0] * 4)


def test_the_tensor_an_inplace_op_ran_on_keeps_a_usable_history_when_it_is_a_view():
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], dtype=mg.float64, requires_grad=True)
    v = (x * 1).view(2, 2)
    v.mul_(2)
    v.add_(1)
    (v * v).sum().backward()  # d/dx (2x + 1)^2 = 4 (2x + 1)
    np.testing.assert_allclose(x.grad.numpy(), 4 * (2 * x.numpy() + 1))
    with mg.no_grad():  # values stay readable outside recording
        assert (x * 1).view(2, 2).sum().item() == 10.0


# --- x[index] = value ------------------------------------------------------------------------------


def test_setitem_outside_recording_writes_the_same_buffer_and_bumps_the_version():
    x = mg.tensor(np.zeros((2, 3)))
    buffer, version = x.array, x._vc[0]
    x[0, 1:] = mg.tensor(np.array([1.0, 2.0]))
    x[x > 1.5] = -1.0
    assert x.array is buffer and x._vc[0] == version + 2
    np.testing.assert_array_equal(x.numpy(), [[0.0, 1.0, -1.0], [0.0, 0.0, 0.0]])
    w = mg.tensor(np.ones(3), requires_grad=True)
    with mg.no_grad():
        w[1] = 5.0  # a leaf may be changed outside recording, as optimizers do
    np.testing.assert_array_equal(w.numpy(), [1.0, 5.0, 1.0])


def test_setitem_on_a_tensor_a_node_saved_makes_its_backward_raise():
    w = mg.tensor(np.ones(3), requires_grad=True)
    x = mg.tensor(np.arange(3.0))
    y = (w * x).sum()  # mul saved x
    x[0] = 7.0
    with pytest.raises(GraphError, match="mul"):
        y.backward()


def test_setitem_on_a_leaf_that_requires_grad_is_refused_while_recording():
    w = mg.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(GraphError, match="setitem: a leaf tensor"):
        w[0] = 2.0
    np.testing.assert_array_equal(w.numpy(), [1.0, 1.0, 1.0])


def test_setitem_passes_the_gradient_to_the_value_and_around_the_overwritten_entries():
    x = mg.tensor(np.arange(4.0), requires_grad=True)
    v = mg.tensor(np.array(10.0), requires_grad=True)
    y = x * 2
    y[1:3] = v  # a 0-d value broadcast over two entries
    (y * mg.tensor(np.array([1.0, 2.0, 3.0, 4.0]))).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 0.0, 0.0, 8.0])
    np.testing.assert_array_equal(v.grad.numpy(), 5.0)
    z = mg.zeros(3, dtype=mg.float64)  # a constant takes a history from a value that requires grad
    u = mg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    z[1:] = u
    (z * z).sum().backward()
    np.testing.assert_array_equal(u.grad.numpy(), [2.0, 4.0])


def test_setitem_errors_name_the_op_and_leave_data_intact():
    x = mg.tensor(np.zeros(3))
    with pytest.raises(ShapeError, match="setitem: .*broadcast"):
        x[:2] = mg.ones(3)
    with pytest.raises(mg.IndexOutOfRange, match="setitem: index 5 is out of bounds"):
        x[[0, 5]] = 1.0
    with pytest.raises(mg.ArgumentError, match="setitem: could not convert"):  # a ValueError, as NumPy's
        x[0] = "a"
    y = mg.tensor(np.zeros(3), requires_grad=True) * 1
    with pytest.raises(ShapeError, match="setitem"):
        y[:2] = mg.tensor(np.ones(3), requires_grad=True)
    np.testing.assert_array_equal(x.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 0.0])

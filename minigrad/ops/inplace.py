"""In-place updates: ``add_``, ``mul_``, ``div_``, ``fill_``, ``copy_``, ``+=`` and ``x[index] = value``.

Every in-place change bumps the tensor's version counter, which nodes that
saved the tensor check before their backward: a saved value changed in place
raises an error instead of giving a wrong gradient.

Outside recording (``no_grad``, or nothing requires grad) the update is
written straight into the existing buffer, which is what optimizers need.
While recording, the result is computed by the out-of-place primitive from a
copy of the old value, written into the buffer, and the tensor takes the new
node as its history, as PyTorch does. A leaf that requires grad cannot be
changed in place while recording (its gradient would lose its meaning).
Unlike PyTorch, only that tensor gets the new history: its views and its
base keep theirs, which leave the change out, so using one of them in a
recorded op (or backward) afterwards raises GraphError.
"""

from __future__ import annotations

from .. import backend
from ..errors import DeviceError, DTypeError, GraphError, ShapeError
from ..grad_mode import is_grad_enabled
from ..interpreter import _PER_THREAD
from ..tensor import Tensor
from . import elementwise, shape


def _captured(op: str) -> None:
    """An in-place update while ``minigrad.compile`` captures: not recorded yet, so the capture refuses it."""
    capture = _PER_THREAD.interpreter.capture
    if capture is not None:
        capture.in_place(op)


def _records(self: Tensor, other) -> bool:
    return is_grad_enabled() and (self.requires_grad or (isinstance(other, Tensor) and other.requires_grad))


def _operand(op: str, self: Tensor, other):
    """``other`` as an array on self's device, or a Python scalar."""
    data = other.array if isinstance(other, Tensor) else other
    if backend.is_array(data) and backend.device_of(data) != self.device:
        raise DeviceError(f"{op}: tensor on {self.device} cannot be updated from {backend.device_of(data)}")
    return data


def _write(op: str, self: Tensor, ufunc_name: str, other, alpha=1) -> Tensor:
    """self.array = ufunc(self.array, alpha * other) in the same buffer, then bump the version."""
    capture = _PER_THREAD.interpreter.capture
    if capture is not None:  # minigrad.compile records the write
        capture.write(op, self, ufunc_name, other, alpha)
    if alpha != 1:
        other = other * alpha
    xp = self.xp
    try:
        getattr(xp, ufunc_name)(self.array, other, out=self.array, casting="same_kind")
    except TypeError as exc:  # NumPy's UFuncTypeError (a TypeError) for a disallowed cast
        raise DTypeError(f"{op}: {exc} (tensor {self.shape} {self.dtype})") from exc
    except ValueError as exc:
        raise ShapeError(f"{op}: {exc} (tensor {self.shape}, operand {getattr(other, 'shape', ())})") from exc
    self._vc[0] += 1
    return self


def _rebase(op: str, self: Tensor, result: Tensor) -> Tensor:
    """Write a recorded result into self's buffer and make its node self's history."""
    _captured(op)
    if result.shape != self.shape:
        raise ShapeError(
            f"{op}: the result has shape {result.shape}, which does not fit the tensor's shape {self.shape}"
        )
    if result.dtype != self.dtype and not self.xp.can_cast(result.dtype, self.dtype, casting="same_kind"):
        raise DTypeError(f"{op}: result dtype {result.dtype} cannot be stored in a tensor of dtype {self.dtype}")
    self.array[...] = result.array
    self._vc[0] += 1
    self._node = result._node
    _new_epoch(self)
    self.requires_grad = True
    return self


def _new_epoch(self: Tensor) -> None:
    """Mark the histories of self's aliases (views and bases, which share its counter) as out of date.

    Only self gets the new history; an alias still carries a node whose value
    the write changed, and using it in a recorded op would silently leave the
    change out of its gradient (see :func:`minigrad.tape.check_history`).
    """
    vc = self._vc
    if len(vc) == 1:
        vc.append(0)
    vc[1] += 1
    if self._node is not None:
        self._node.epoch = vc[1]


def _forbid_leaf(op: str, self: Tensor) -> None:
    if self._node is None and self.requires_grad and is_grad_enabled():
        raise GraphError(
            f"{op}: a leaf tensor that requires grad cannot be modified in place while recording; "
            "do it inside `with minigrad.no_grad():` (as optimizers do) or use the out-of-place op"
        )


def _recorded(op: str, self: Tensor, fn, other) -> Tensor:
    """Record ``fn(old self, other)`` and make it self's value and history.

    The old value is copied first, so a vjp that reads it (mul_, div_) is not
    fooled by the overwrite; ``other`` is that copy too when it is self
    (``y.add_(y, alpha=2)``, ``y -= y``), else an op that saved it would see
    the write as a modification.
    """
    _forbid_leaf(op, self)
    old = Tensor._wrap(self.array.copy(), self._node)
    return _rebase(op, self, fn(old, old if other is self else other))


def add_(self: Tensor, other, alpha=1) -> Tensor:
    """self += alpha * other, in place (PyTorch's ``add_``; ``sub_`` is alpha = -1)."""
    if _records(self, other):
        return _recorded("add_", self, lambda old, o: old + (o if alpha == 1 else o * alpha), other)
    data = _operand("add_", self, other)
    return _write("add_", self, "add", data, alpha)


def mul_(self: Tensor, other) -> Tensor:
    """self *= other, in place."""
    if _records(self, other):
        return _recorded("mul_", self, elementwise.mul, other)
    return _write("mul_", self, "multiply", _operand("mul_", self, other))


def div_(self: Tensor, other) -> Tensor:
    """self /= other, in place."""
    if _records(self, other):
        return _recorded("div_", self, elementwise.true_divide, other)
    return _write("div_", self, "true_divide", _operand("div_", self, other))


def setitem(self: Tensor, index, value) -> None:
    """``self[index] = value``, in place, with the indices ``self[index]`` takes.

    While recording (self or value requires grad) it is the out-of-place
    ``setitem`` primitive made self's history: the overwritten entries get no
    gradient and value gets the cotangent at the index. Otherwise value is
    written straight into the buffer.
    """
    index = shape._index_data(index)
    if _records(self, value):
        _recorded("setitem", self, lambda old, v: shape._setitem(old, v, index=index), value)
        return
    data = _operand("setitem", self, value)
    _captured("setitem")
    try:
        shape.put(self.array, index, data)
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise shape._setitem.error(exc, (self, value)) from exc  # the errors the recorded path raises
    self._vc[0] += 1


def copy_(self: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast to self's shape) into self, in place.

    While recording, the gradient flows to ``src`` when it requires grad;
    otherwise self's new value is a constant and self leaves the graph.
    """
    if isinstance(src, Tensor) and src.requires_grad and is_grad_enabled():
        _forbid_leaf("copy_", self)
        return _rebase("copy_", self, shape.broadcast_to(src, self.shape))
    return _overwrite(
        "copy_", self, lambda data: self.xp.copyto(data, _operand("copy_", self, src), casting="same_kind")
    )


def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value``, in place; self leaves the graph (its value is a constant)."""
    return _overwrite("fill_", self, lambda data: data.fill(value))


def _overwrite(op: str, self: Tensor, write) -> Tensor:
    """Replace self's values by constants: write into the buffer, bump the version, drop the history."""
    _captured(op)
    _forbid_leaf(op, self)
    try:
        write(self.array)
    except (TypeError, ValueError) as exc:
        raise ShapeError(f"{op}: {exc} (tensor {self.shape} {self.dtype})") from exc
    self._vc[0] += 1
    if self._node is not None:
        self._node = None
        self.requires_grad = False
        _new_epoch(self)
    return self

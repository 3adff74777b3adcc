"""Tensors from existing data without a needless copy, issue #16: ``as_tensor``, ``asarray``, ``empty_like``,
``scalar_tensor``, and ``clone``/``detach`` as functions (``torch.clone(x)``, ``torch.detach(x)``).

``as_tensor``/``asarray`` share memory with their input when they can (a tensor, or a NumPy/CuPy array of
the asked dtype on the asked device): a change to the array shows in the tensor, as in PyTorch. Python data
(numbers, lists) is always copied, with :func:`minigrad.tensor`'s dtype rules (floats become the default
dtype, float32).
"""

from __future__ import annotations

import numpy as np

from . import backend
from .errors import ArgumentError
from .ops import elementwise
from .tensor import Tensor, _as_array, get_default_dtype


def _shares(data, dtype, device) -> bool:
    array = data.array if isinstance(data, Tensor) else data
    if not backend.is_array(array):
        return False
    same_dtype = dtype is None or np.dtype(dtype) == array.dtype
    same_device = device is None or backend.normalize_device(device) == backend.device_of(array)
    return same_dtype and same_device


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """``data`` as a tensor, sharing its memory when it can (``torch.as_tensor``).

    A tensor of the asked dtype and device is returned as it is; a NumPy or CuPy array of them is wrapped
    without a copy. Otherwise the data is converted (copied) as :func:`minigrad.tensor` does; a tensor
    converted to another dtype keeps its graph (the cast is recorded).
    """
    if isinstance(data, Tensor):
        if _shares(data, dtype, device):
            return data
        out = data if dtype is None else elementwise.astype(data, dtype=np.dtype(dtype))
        return out if device is None else out.to(device)
    if _shares(data, dtype, device):
        return Tensor._wrap(data)
    return Tensor._wrap(_as_array(data, dtype, device, copy=False))


def asarray(obj, *, dtype=None, device=None, copy: bool | None = None, requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor (``torch.asarray``): shared memory unless ``copy=True`` or a conversion needs one.

    ``copy=False`` raises ArgumentError when a copy cannot be avoided; ``requires_grad`` makes the result a
    leaf that requires grad (a new tensor sharing obj's memory when obj is a tensor).
    """
    shares = _shares(obj, dtype, device)
    if copy is False and not shares:
        raise ArgumentError(
            f"asarray: copy=False, but {type(obj).__name__} data cannot be used as a tensor of dtype {dtype} on "
            f"{device} without a copy"
        )
    if copy:
        array = obj.array if isinstance(obj, Tensor) else obj
        out = Tensor(array, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype, device)
    if requires_grad:
        out = Tensor._wrap(out.array, vc=out._vc).requires_grad_(True)
    return out


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialized tensor of input's shape and (unless given) dtype and device (``torch.empty_like``)."""
    target = backend.normalize_device(device) if device is not None else input.device
    xp = backend.xp_for(target)
    out = Tensor._wrap(xp.empty(tuple(input.shape), dtype=input.dtype if dtype is None else np.dtype(dtype)))
    return out.requires_grad_(True) if requires_grad else out


def scalar_tensor(s, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding the number ``s``, of the default dtype (float32) unless ``dtype`` is given (as
    ``torch.scalar_tensor``: ``scalar_tensor(1)`` is ``tensor(1.)``)."""
    return Tensor(
        float(s) if dtype is None else s,
        dtype=get_default_dtype() if dtype is None else dtype,
        device=device,
        requires_grad=requires_grad,
    )


def clone(input: Tensor) -> Tensor:
    """A copy of input with its own memory; the gradient passes through (``torch.clone``)."""
    return elementwise.clone(input)


def detach(input: Tensor) -> Tensor:
    """input cut from the graph, sharing its memory and version counter (``torch.detach``)."""
    return input.detach()

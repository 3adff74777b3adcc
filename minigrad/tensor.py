"""The Tensor: an array of the active backend, plus what autograd needs.

A :class:`Tensor` holds ``data`` (a NumPy or CuPy ndarray), ``grad``,
``requires_grad``, the node that produced it (``grad_fn``) and a version
counter shared with its aliases. Operators and methods delegate to the
primitives in :mod:`minigrad.ops`; nothing here computes a gradient.

Dtypes follow PyTorch: Python floats (and lists of them) become the default
dtype (float32, see :func:`set_default_dtype`), Python ints become int64 and
bools bool; NumPy and CuPy arrays keep their dtype. Only floating-point
tensors can require grad.
"""

from __future__ import annotations

import numpy as np

from . import autograd as _autograd
from . import backend
from .errors import DTypeError, GraphError, IndexOutOfRange, ShapeError

float16 = np.float16
float32 = np.float32
float64 = np.float64
int8 = np.int8
int16 = np.int16
int32 = np.int32
int64 = np.int64
uint8 = np.uint8
bool_ = np.bool_

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype that Python floats become (float16, float32 or float64)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise DTypeError(f"set_default_dtype: the default dtype must be floating point, got {dtype}")
    _default_dtype = dtype


def get_default_dtype():
    """The dtype that Python floats become (float32 unless changed)."""
    return _default_dtype


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Create one with :func:`minigrad.tensor` (or ``Tensor(data, ...)``, which
    takes the same arguments). ``.data`` is the backend array itself;
    ``.grad`` is filled by :meth:`backward` for leaves that require grad.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "_vc", "__weakref__")
    __array_ufunc__ = None  # make ``ndarray + Tensor`` call Tensor.__radd__
    __hash__ = object.__hash__  # __eq__ is elementwise, hashing stays by identity

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        self.data = _as_array(data, dtype, device, copy=True)
        self.grad = None
        self.requires_grad = False
        self._node = None
        self._vc = [0]
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, node=None, vc=None) -> Tensor:
        """Wrap a backend array without copying or checking (internal fast path)."""
        t = object.__new__(cls)
        t.data = data
        t.grad = None
        t.requires_grad = node is not None
        t._node = node
        t._vc = [0] if vc is None else vc
        return t

    # --- attributes -------------------------------------------------------
    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple (NumPy's ``shape``)."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self):
        """The NumPy dtype of the data."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` (NumPy data) or ``"cuda"`` (CuPy data)."""
        return backend.device_of(self.data)

    @property
    def xp(self):
        """The array module (NumPy or CuPy) of this tensor's data."""
        return backend.xp_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self):
        """The node that produced this tensor, or None for a leaf."""
        return self._node

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's data has seen."""
        return self._vc[0]

    def size(self, dim=None):
        """The shape (PyTorch's ``size()``), or the length of one dimension.

        Raises IndexOutOfRange when ``dim`` is not a dimension of the tensor.
        """
        if dim is None:
            return self.data.shape
        if not -self.data.ndim <= dim < self.data.ndim:
            raise IndexOutOfRange(f"size: dim {dim} is out of range for a tensor of shape {self.shape}")
        return self.data.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.data.ndim

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        """The sub-tensors along the first dimension (each one a differentiable ``self[i]``).

        Without this Python would iterate through ``__getitem__`` until an
        IndexError, which a 0-d tensor raises at once: an empty loop instead of
        PyTorch's error.
        """
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    # --- conversions --------------------------------------------------------
    def numpy(self):
        """The data as a NumPy array (shared with the tensor on the CPU, copied from a GPU)."""
        return backend.to_device(self.data, "cpu")

    def tolist(self):
        """The data as nested Python lists."""
        return self.numpy().tolist()

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ShapeError(
                f"item: only one-element tensors can be converted to a Python number, got shape {self.shape}"
            )
        return self.data.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ShapeError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.data.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.data.item())

    def detach(self) -> Tensor:
        """A tensor sharing this one's data (and version counter) but cut from the graph."""
        return Tensor._wrap(self.data, vc=self._vc)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; only floating-point tensors can require grad."""
        if requires_grad and self.data.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if not requires_grad and self._node is not None:
            raise GraphError("requires_grad_: cannot turn off requires_grad of a non-leaf tensor; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, device=None, dtype=None) -> Tensor:
        """Move to a device and/or cast to a dtype: ``t.to("cuda")``, ``t.to(float64)``.

        Differentiable: the gradient flows back to the original device and dtype.
        Returns ``self`` when nothing changes.
        """
        for arg in args:
            if isinstance(arg, str):
                device = arg
            else:
                dtype = arg
        out = self
        if device is not None and backend.normalize_device(device) != self.device:
            out = _ops.shape.to_device(out, backend.normalize_device(device))
        if dtype is not None and np.dtype(dtype) != out.dtype:
            dtype = np.dtype(dtype)
            # a cast to a non-float dtype ends the graph, as in PyTorch: no gradient through integers
            out = _ops.elementwise.astype(out if dtype.kind == "f" else out.detach(), dtype=dtype)
        return out

    def cpu(self) -> Tensor:
        """``to("cpu")``."""
        return self.to("cpu")

    def cuda(self) -> Tensor:
        """``to("cuda")``."""
        return self.to("cuda")

    def astype(self, dtype) -> Tensor:
        """Cast to ``dtype`` (NumPy's name for ``.to(dtype)``); differentiable."""
        return self.to(dtype=dtype)

    def float(self) -> Tensor:
        """Cast to float32 (differentiable)."""
        return self.to(dtype=np.float32)

    def double(self) -> Tensor:
        """Cast to float64 (differentiable)."""
        return self.to(dtype=np.float64)

    def half(self) -> Tensor:
        """Cast to float16 (differentiable; the gradient comes back in the input's dtype)."""
        return self.to(dtype=np.float16)

    def long(self) -> Tensor:
        """Cast to int64, rounding toward zero; no gradient flows through it (as PyTorch)."""
        return self.to(dtype=np.int64)

    def int(self) -> Tensor:
        """Cast to int32, rounding toward zero; no gradient flows through it (as PyTorch)."""
        return self.to(dtype=np.int32)

    def bool(self) -> Tensor:
        """Cast to bool (True where nonzero); no gradient flows through it (as PyTorch)."""
        return self.to(dtype=np.bool_)

    def type(self, dtype) -> Tensor:
        """Cast to ``dtype`` (differentiable for floating dtypes)."""
        return self.to(dtype=dtype)

    def clone(self) -> Tensor:
        """A copy with its own data that stays in the graph (gradient passes through)."""
        return _ops.elementwise.clone(self)

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=100, precision=4)
        extras = []
        if self.data.dtype != _default_dtype and self.data.dtype not in (np.int64, np.bool_):
            extras.append(f"dtype={self.data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + ", ".join([body, *extras]) + ")"

    # --- autograd -----------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False, create_graph=False) -> None:
        """Accumulate d self / d leaf into ``.grad`` of every leaf that requires grad.

        ``gradient`` is the cotangent of ``self`` (required unless ``self`` has
        one element). The graph's saved values are freed afterwards unless
        ``retain_graph``; ``create_graph`` records the backward pass so the
        gradients can be differentiated again.
        """
        _autograd.backward(
            self, None if gradient is None else (gradient,), retain_graph=retain_graph, create_graph=create_graph
        )

    # --- arithmetic -----------------------------------------------------------
    def __add__(self, other):
        return _ops.elementwise.add(self, other)

    def __radd__(self, other):
        return _ops.elementwise.add(other, self)

    def __sub__(self, other):
        return _ops.elementwise.sub(self, other)

    def __rsub__(self, other):
        return _ops.elementwise.sub(other, self)

    def __mul__(self, other):
        return _ops.elementwise.mul(self, other)

    def __rmul__(self, other):
        return _ops.elementwise.mul(other, self)

    def __truediv__(self, other):
        return _ops.elementwise.div(self, other)

    def __rtruediv__(self, other):
        return _ops.elementwise.div(other, self)

    def __pow__(self, other):
        return _ops.elementwise.pow(self, other)

    def __rpow__(self, other):
        return _ops.elementwise.pow(other, self)

    def __neg__(self):
        return _ops.elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.elementwise.abs(self)

    def __matmul__(self, other):
        return _ops.linalg.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.linalg.matmul(other, self)

    def __getitem__(self, index):
        return _ops.shape.getitem(self, index)

    def __setitem__(self, index, value):
        _ops.inplace.setitem(self, index, value)

    # comparisons: elementwise, boolean, not differentiable
    def __eq__(self, other):
        if not _is_operand(other):  # ``t == None`` is False and ``t in [None, "a"]`` works, as in PyTorch
            return NotImplemented
        return _ops.elementwise.eq(self, other)

    def __ne__(self, other):
        if not _is_operand(other):
            return NotImplemented
        return _ops.elementwise.ne(self, other)

    def __lt__(self, other):
        return _ops.elementwise.lt(self, other)

    def __le__(self, other):
        return _ops.elementwise.le(self, other)

    def __gt__(self, other):
        return _ops.elementwise.gt(self, other)

    def __ge__(self, other):
        return _ops.elementwise.ge(self, other)

    def __and__(self, other):
        return _ops.elementwise.logical_and(self, other)

    def __or__(self, other):
        return _ops.elementwise.logical_or(self, other)

    def __xor__(self, other):
        return _ops.elementwise.logical_xor(self, other)

    def __invert__(self):
        return _ops.elementwise.logical_not(self)

    def eq(self, other):
        return _ops.elementwise.eq(self, other)

    def ne(self, other):
        return _ops.elementwise.ne(self, other)

    def lt(self, other):
        return _ops.elementwise.lt(self, other)

    def le(self, other):
        return _ops.elementwise.le(self, other)

    def gt(self, other):
        return _ops.elementwise.gt(self, other)

    def ge(self, other):
        return _ops.elementwise.ge(self, other)

    # --- in place -------------------------------------------------------------
    def add_(self, other, alpha=1):
        """``self += alpha * other`` in place."""
        return _ops.inplace.add_(self, other, alpha=alpha)

    def sub_(self, other, alpha=1):
        """``self -= alpha * other`` in place."""
        return _ops.inplace.add_(self, other, alpha=-alpha)

    def mul_(self, other):
        """``self *= other`` in place."""
        return _ops.inplace.mul_(self, other)

    def div_(self, other):
        """``self /= other`` in place."""
        return _ops.inplace.div_(self, other)

    def zero_(self):
        """Fill with zeros in place."""
        return _ops.inplace.fill_(self, 0)

    def fill_(self, value):
        """Fill with ``value`` in place."""
        return _ops.inplace.fill_(self, value)

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape) into this tensor in place."""
        return _ops.inplace.copy_(self, src)

    def __iadd__(self, other):
        return _ops.inplace.add_(self, other)

    def __isub__(self, other):
        return _ops.inplace.add_(self, other, alpha=-1)

    def __imul__(self, other):
        return _ops.inplace.mul_(self, other)

    def __itruediv__(self, other):
        return _ops.inplace.div_(self, other)

    # --- elementwise methods ------------------------------------------------------
    def exp(self):
        return _ops.elementwise.exp(self)

    def log(self):
        return _ops.elementwise.log(self)

    def sqrt(self):
        return _ops.elementwise.sqrt(self)

    def tanh(self):
        return _ops.elementwise.tanh(self)

    def sigmoid(self):
        return _ops.elementwise.sigmoid(self)

    def abs(self):
        return _ops.elementwise.abs(self)

    def relu(self):
        return _ops.elementwise.relu(self)

    def leaky_relu(self, negative_slope=0.01):
        return _ops.elementwise.leaky_relu(self, negative_slope)

    def clip(self, min=None, max=None):
        return _ops.elementwise.clip(self, min, max)

    clamp = clip

    def maximum(self, other):
        return _ops.elementwise.maximum(self, other)

    def minimum(self, other):
        return _ops.elementwise.minimum(self, other)

    def pow(self, exponent):
        return _ops.elementwise.pow(self, exponent)

    def masked_fill(self, mask, value):
        return _ops.elementwise.masked_fill(self, mask, value)

    # --- reductions -----------------------------------------------------------------
    def sum(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.sum(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def mean(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.mean(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def var(self, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return _ops.reduction.var(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def std(self, axis=None, unbiased=None, keepdims=False, *, dim=None, keepdim=None, correction=None):
        return _ops.reduction.std(self, axis, unbiased, keepdims, dim=dim, keepdim=keepdim, correction=correction)

    def max(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.max(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def min(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.min(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def amax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.amax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def amin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.amin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmax(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.argmax(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def argmin(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.argmin(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def logsumexp(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
        return _ops.reduction.logsumexp(self, axis, keepdims, dim=dim, keepdim=keepdim)

    def softmax(self, axis=-1, *, dim=None):
        return _ops.reduction.softmax(self, axis, dim=dim)

    def log_softmax(self, axis=-1, *, dim=None):
        return _ops.reduction.log_softmax(self, axis, dim=dim)

    def any(self):
        """True where any element is nonzero (a 0-d bool tensor)."""
        return Tensor._wrap(self.xp.asarray(self.data.any()))

    def all(self):
        """True where every element is nonzero (a 0-d bool tensor)."""
        return Tensor._wrap(self.xp.asarray(self.data.all()))

    # --- shape -------------------------------------------------------------------------
    def reshape(self, *shape):
        """The same data in a new shape: ``t.reshape(2, -1)`` or ``t.reshape((2, -1))``."""
        return _ops.shape.reshape(self, _shape_args(shape))

    def view(self, *shape):
        """PyTorch's name for :meth:`reshape` (the result shares the version counter)."""
        return _ops.shape.reshape(self, _shape_args(shape))

    def view_as(self, other):
        """Reshape to ``other.shape``."""
        return _ops.shape.reshape(self, other.shape)

    def reshape_as(self, other):
        """Reshape to ``other.shape``."""
        return _ops.shape.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return _ops.shape.flatten(self, start_dim, end_dim)

    def squeeze(self, axis=None, *, dim=None):
        return _ops.shape.squeeze(self, axis, dim=dim)

    def unsqueeze(self, dim):
        return _ops.shape.unsqueeze(self, dim)

    def transpose(self, dim0=None, dim1=None):
        return _ops.shape.transpose(self, dim0, dim1)

    def permute(self, *dims):
        """Reorder the dimensions: ``t.permute(2, 0, 1)``."""
        return _ops.shape.permute(self, _shape_args(dims))

    @property
    def T(self):
        """All dimensions reversed (the matrix transpose for 2-D tensors)."""
        return _ops.shape.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """The last two dimensions swapped (batched matrix transpose)."""
        return _ops.linalg._mT(self)

    def broadcast_to(self, shape):
        return _ops.shape.broadcast_to(self, shape)

    def repeat(self, *sizes):
        """Tile: ``sizes[i]`` copies along dimension i, ``t.repeat(2, 1)`` or ``t.repeat((2, 1))`` (PyTorch).

        ``sizes`` may name more dimensions than the tensor has (new leading
        ones); differentiable (the vjp sums the copies). See
        :func:`minigrad.ops.shape.repeat`.
        """
        return _ops.shape.repeat(self, _shape_args(sizes))

    def split(self, split_size, dim=0):
        return _ops.shape.split(self, split_size, dim)

    def chunk(self, chunks, dim=0):
        return _ops.shape.chunk(self, chunks, dim)

    def expand(self, *shape):
        """Broadcast to ``shape``, where -1 keeps a dimension (PyTorch's ``expand``)."""
        return _ops.shape.expand(self, _shape_args(shape))

    def expand_as(self, other):
        """Broadcast to ``other.shape``."""
        return _ops.shape.broadcast_to(self, other.shape)

    def matmul(self, other):
        """Matrix product, as ``self @ other``."""
        return _ops.linalg.matmul(self, other)


def _is_operand(value) -> bool:
    """True for what an elementwise op takes: tensors, arrays, numbers, and lists or tuples of them."""
    return isinstance(value, (Tensor, int, float, bool, complex, np.generic, list, tuple)) or backend.is_array(value)


def _shape_args(args) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _as_array(data, dtype, device, copy: bool):
    """Turn Python data, arrays or tensors into a backend array with PyTorch's dtype rules."""
    if isinstance(data, Tensor):
        data = data.data
    if backend.is_array(data):
        array = data.copy() if copy else data
    else:
        if _contains_tensor(data):
            raise TypeError("tensor: a list of tensors cannot be converted; use minigrad.stack")
        try:
            array = np.array(data)
        except ValueError as exc:  # a ragged nested list
            raise ShapeError(f"tensor: {exc}") from exc
        if array.dtype.kind == "f" and dtype is None and not isinstance(data, np.generic):  # NumPy scalars keep theirs
            array = array.astype(_default_dtype)
        elif array.dtype.kind not in "biuf":
            raise DTypeError(
                f"tensor: cannot make a tensor from {type(data).__name__} data (NumPy dtype {array.dtype})"
            )
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
    target = backend.normalize_device(device) if device is not None else backend.device_of(array)
    return backend.to_device(array, target)


def _contains_tensor(data) -> bool:
    return isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) or _contains_tensor(d) for d in data)


def _to_tensor(value, like: Tensor) -> Tensor:
    """``value`` as a tensor on ``like``'s device; tensors pass through."""
    if isinstance(value, Tensor):
        return value
    array = value if backend.is_array(value) else np.asarray(value, dtype=like.dtype)
    return Tensor._wrap(backend.to_device(array, like.device))


def tensor(data, dtype=None, requires_grad: bool = False, device=None) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, array or tensor).

    Floats become the default dtype (float32), ints int64, bools bool, arrays
    keep their dtype unless ``dtype`` is given. ``device`` is ``"cpu"`` or
    ``"cuda"``. Raises DTypeError when ``requires_grad`` is asked of a
    non-floating-point tensor.
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with the NumPy array ``array`` (no copy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


from . import ops as _ops  # noqa: E402  (the ops import Tensor from this module)

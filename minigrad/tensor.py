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

import inspect
import types
import weakref

import numpy as np

from . import backend
from .errors import ArgumentError, DTypeError, GraphError, IndexOutOfRange, ShapeError

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
    takes the same arguments). ``.array`` is the backend array itself (NumPy
    or CuPy, shared, not copied); ``.grad`` is filled by :meth:`backward` for
    leaves that require grad (and for non-leaves after :meth:`retain_grad`).

    ``.data`` is PyTorch's: a tensor that shares this one's memory, does not
    require grad and is not recorded, so ported ``p.data.add_(-lr * p.grad)``,
    ``p.data.copy_(src)`` or ``p.data.normal_(0, 0.02)`` change ``p`` in
    place without the tape seeing it. As in PyTorch it has its own version
    counter: a graph that saved ``p`` does not notice the change (that is
    what ``.data`` is for, and why :meth:`detach`, which shares the version
    counter and so makes such a graph raise, is the safer choice).
    """

    __slots__ = ("array", "grad", "requires_grad", "_node", "_vc", "__weakref__")
    __array_ufunc__ = None  # make ``ndarray + Tensor`` call Tensor.__radd__
    __hash__ = object.__hash__  # __eq__ is elementwise, hashing stays by identity

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        self.array = _as_array(data, dtype, device, copy=True)
        capture = _PER_THREAD.interpreter.capture
        if capture is not None:  # minigrad.compile: a copy of a value of the program, or a constant
            capture.made(data, self.array, dtype, device)
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
        t.array = data
        t.grad = None
        t.requires_grad = node is not None
        t._node = node
        t._vc = [0] if vc is None else vc
        return t

    # --- attributes -------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """A tensor sharing this memory, detached and not recorded, with its own version counter (PyTorch's ``.data``).

        Assigning ``t.data = other`` makes ``t`` hold ``other``'s array (any
        shape and dtype, as in PyTorch); ``t`` keeps its history and version
        counter.
        """
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: assigned value must be a Tensor, got {type(value).__name__}"
                " (to replace the raw array, assign to .array)"
            )
        self.array = value.array

    @property
    def shape(self) -> tuple:
        """The size of each dimension, a tuple (NumPy's ``shape``)."""
        return self.array.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.array.ndim

    @property
    def dtype(self):
        """The NumPy dtype of the data."""
        return self.array.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` (NumPy data) or ``"cuda"`` (CuPy data)."""
        return backend.device_of(self.array)

    @property
    def xp(self):
        """The array module (NumPy or CuPy) of this tensor's data."""
        return backend.xp_of(self.array)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._node is None

    @property
    def grad_fn(self):
        """None for a leaf; for a result, its recorded op as PyTorch shows it.

        A :class:`minigrad.tape.GradFn`: ``grad_fn.name()`` is PyTorch's style
        of name (``"MulBackward0"``), ``grad_fn.next_functions`` the ops of the
        inputs, ``grad_fn.node`` the tape's node itself.
        """
        node = self._node
        return None if node is None else _tape.GradFn(node)

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` backward fills, after :meth:`retain_grad` (always False for leaves)."""
        if self._node is None:
            return False
        hooks = _tape.hooks_of(self)
        return hooks is not None and hooks.retain is not None and hooks.retain() is self

    def retain_grad(self) -> None:
        """Make :meth:`backward` fill ``.grad`` of this non-leaf tensor too (a leaf already has it: no effect).

        The gradient is summed into ``.grad`` across backward calls, as a
        leaf's is, after any hooks of the tensor have run; :func:`minigrad.grad`
        leaves it alone. Raises GraphError when the tensor does not require grad.
        """
        if not self.requires_grad:
            raise GraphError("retain_grad: the tensor does not require grad, so no gradient reaches it")
        if self._node is not None:
            _tape.hooks_of(self, create=True).retain = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with the gradient flowing into this tensor during every backward.

        ``hook`` gets a tensor (the full gradient of this tensor, summed over
        every use of it) and returns None or a replacement of the same shape,
        which then flows on instead: into the inputs' gradients for a
        non-leaf, into ``.grad`` (or :func:`minigrad.grad`'s result) for a
        leaf. Hooks run in registration order, with recording on only under
        ``create_graph=True`` (so a hook's arithmetic is differentiated with
        the rest of the backward). A hook must not modify its argument in
        place. Works on leaves and non-leaves; a non-leaf's hooks are dropped
        with its graph when a backward frees it.

        Returns a handle whose ``remove()`` unregisters the hook. Raises
        GraphError when the tensor does not require grad.
        """
        if not self.requires_grad:
            raise GraphError(
                f"register_hook: the tensor of shape {tuple(self.shape)} does not require grad, "
                "so no gradient reaches it; set requires_grad=True first"
            )
        if not callable(hook):
            raise TypeError(f"register_hook: hook must be callable, got {type(hook).__name__}")
        return _tape.add_hook(self, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` once a ``backward()`` has accumulated this leaf's ``.grad``, as PyTorch does.

        The hook gets the leaf itself (read ``tensor.grad``) and returns None.
        It runs as soon as the leaf's gradient is complete -- after the last
        vjp that feeds it and the leaf's :meth:`register_hook` hooks -- while
        the rest of the backward still runs, which is what lets
        DistributedDataParallel start a gradient allreduce early (or an
        optimizer step per parameter). So a later error in the same backward
        leaves this leaf's ``.grad`` already updated. :func:`minigrad.grad`
        writes no ``.grad`` and runs no such hook. Returns a handle whose
        ``remove()`` unregisters it. Raises GraphError on a non-leaf or a
        tensor that does not require grad.
        """
        if self._node is not None:
            raise GraphError(
                "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on "
                "non-leaf tensors (use register_hook)"
            )
        if not self.requires_grad:
            raise GraphError(
                f"register_post_accumulate_grad_hook: the tensor of shape {tuple(self.shape)} does not require "
                "grad, so no gradient is accumulated into it"
            )
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {type(hook).__name__}")
        return _tape.add_post_accumulate_hook(self, hook)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's data has seen."""
        return self._vc[0]

    def size(self, dim=None):
        """The shape (PyTorch's ``size()``), or the length of one dimension.

        Raises IndexOutOfRange when ``dim`` is not a dimension of the tensor.
        """
        if dim is None:
            return self.array.shape
        if not -self.array.ndim <= dim < self.array.ndim:
            raise IndexOutOfRange(f"size: dim {dim} is out of range for a tensor of shape {self.shape}")
        return self.array.shape[dim]

    def numel(self) -> int:
        """The number of elements."""
        return int(self.array.size)

    def dim(self) -> int:
        """The number of dimensions (PyTorch's name for ``ndim``)."""
        return self.array.ndim

    def ndimension(self) -> int:
        """The number of dimensions (PyTorch's alias of :meth:`dim`)."""
        return self.array.ndim

    def nelement(self) -> int:
        """The number of elements (PyTorch's alias of :meth:`numel`)."""
        return int(self.array.size)

    def is_contiguous(self, memory_format=None) -> bool:
        """True when the data is C-contiguous (row-major with no gaps), as PyTorch's default memory format."""
        return bool(self.array.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> Tensor:
        """``self`` when the data is C-contiguous, else a C-contiguous copy (differentiable: gradients pass through).

        Only PyTorch's default ``memory_format`` (contiguous) is supported;
        the copy is :func:`minigrad.ops.elementwise.clone`, as PyTorch's
        ``contiguous`` records a ``CloneBackward0``.
        """
        if memory_format is not None and str(memory_format).split(".")[-1] != "contiguous_format":
            raise ArgumentError(f"contiguous: only the contiguous memory format is supported, got {memory_format!r}")
        if self.array.flags.c_contiguous:
            return self
        return _ops.elementwise.clone(self)

    def data_ptr(self) -> int:
        """The address of the first element of the data (shared by tensors that share memory, as views do)."""
        data = self.array
        if isinstance(data, np.ndarray):
            return int(data.__array_interface__["data"][0])
        return int(data.data.ptr)  # CuPy: the device pointer of the view's first element

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        """The sub-tensors along the first dimension (each one a differentiable ``self[i]``).

        Without this Python would iterate through ``__getitem__`` until an
        IndexError, which a 0-d tensor raises at once: an empty loop instead of
        PyTorch's error.
        """
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    # --- conversions --------------------------------------------------------
    def numpy(self):
        """The data as a NumPy array (shared with the tensor on the CPU, copied from a GPU)."""
        _reads_value("numpy()")
        return backend.to_device(self.array, "cpu")

    def tolist(self):
        """The data as nested Python lists."""
        return self.numpy().tolist()

    def item(self):
        """The single value of a one-element tensor, as a Python number."""
        _reads_value("item()")
        if self.array.size != 1:
            raise ShapeError(
                f"item: only one-element tensors can be converted to a Python number, got shape {self.shape}"
            )
        return self.array.item()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        _reads_value("bool()")
        if self.array.size != 1:
            raise ShapeError(
                f"bool: the truth value of a tensor of shape {self.shape} is ambiguous; use .any() or .all()"
            )
        return bool(self.array.item())

    def __index__(self) -> int:
        _reads_value("an index")
        if self.array.dtype.kind not in "iu" or self.array.size != 1:
            raise TypeError("only one-element integer tensors can be used as an index")
        return int(self.array.item())

    def detach(self) -> Tensor:
        """A tensor sharing this one's data (and version counter) but cut from the graph."""
        return Tensor._wrap(self.array, vc=self._vc)

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph in place: it becomes a leaf that does not require grad (as ``detach_``)."""
        self._node = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place on a leaf; only floating-point tensors can require grad."""
        if requires_grad and self.array.dtype.kind != "f":
            raise DTypeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype {self.array.dtype}"
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

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype, PyTorch's ``type_as`` (``self`` when it already has it; differentiable)."""
        return self.to(dtype=other.dtype)

    def _new(self, op: str, fill, size, dtype, device, requires_grad) -> Tensor:
        """A new tensor of ``size`` made by ``fill(xp, shape, dtype)``: this tensor's dtype and device unless given."""
        shape = _shape_args(size)
        if not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape):
            raise ShapeError(f"{op}: size must be non-negative integers, got {shape}")
        device = self.device if device is None else backend.normalize_device(device)
        dtype = self.dtype if dtype is None else np.dtype(dtype)
        out = Tensor._wrap(fill(backend.xp_for(device), tuple(int(s) for s in shape), dtype))
        return out.requires_grad_() if requires_grad else out

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Zeros of ``size`` with this tensor's dtype and device unless given (PyTorch's ``new_zeros``)."""
        return self._new("new_zeros", lambda xp, s, dt: xp.zeros(s, dtype=dt), size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Ones of ``size`` with this tensor's dtype and device unless given (PyTorch's ``new_ones``)."""
        return self._new("new_ones", lambda xp, s, dt: xp.ones(s, dtype=dt), size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        """Uninitialised values of ``size`` with this tensor's dtype and device unless given."""
        return self._new("new_empty", lambda xp, s, dt: xp.empty(s, dtype=dt), size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        """``fill_value`` everywhere, of ``size``, with this tensor's dtype and device unless given."""
        return self._new("new_full", lambda xp, s, dt: xp.full(s, fill_value, dtype=dt), (size,), dtype, device,
                         requires_grad)  # fmt: skip

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False) -> Tensor:
        """A copy of ``data`` as a new leaf, with this tensor's dtype and device unless given (PyTorch's
        ``new_tensor``: unlike ``tensor(data)``, a float list takes this tensor's dtype, not the default)."""
        return Tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad,
                      device=self.device if device is None else device)  # fmt: skip

    def __repr__(self) -> str:
        body = np.array2string(self.numpy(), separator=", ", prefix="tensor(", threshold=100, precision=4)
        extras = []
        if self.array.dtype != _default_dtype and self.array.dtype not in (np.int64, np.bool_):
            extras.append(f"dtype={self.array.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._node is not None:
            extras.append(f"grad_fn=<{_tape.backward_name(self._node.op)}>")
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

    # --- operators -----------------------------------------------------------
    # The one-line operators (+, -, *, <, &, t[i], +=, ...) and methods (exp, sum, flatten,
    # add_, ...) are bound from the tables below the class; these have a rule of their own.
    def __pos__(self):
        return self

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

    # --- in place -------------------------------------------------------------
    def sub_(self, other, alpha=1):
        """``self -= alpha * other`` in place."""
        return _ops.inplace.add_(self, other, alpha=-alpha)

    def zero_(self):
        """Fill with zeros in place."""
        return _ops.inplace.fill_(self, 0)

    def __isub__(self, other):
        return _ops.inplace.add_(self, other, alpha=-1)

    # --- elementwise ------------------------------------------------------------
    def pow(self, exponent):  # written out for PyTorch's keyword ``exponent`` (the op calls it ``b``)
        return _ops.elementwise.pow(self, exponent)

    # Primitives with parameters are written out: a generic forwarder, (self, *args, **kwargs),
    # would build a tuple and a dict on every call.
    def leaky_relu(self, negative_slope=0.01):
        return _ops.elementwise.leaky_relu(self, negative_slope)

    def clip(self, min=None, max=None):
        return _ops.elementwise.clip(self, min, max)

    clamp = clip

    def round(self, decimals=0):
        return _ops.pointwise.round(self, decimals=decimals)

    def lerp(self, end, weight):
        return _ops.pointwise.lerp(self, end, weight)

    # --- reductions -------------------------------------------------------------
    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True where any element over ``dim`` is nonzero; see :func:`minigrad.ops.reduction.any`."""
        return _ops.reduction.any(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """True where every element over ``dim`` is nonzero; see :func:`minigrad.ops.reduction.all`."""
        return _ops.reduction.all(self, dim, keepdim, axis=axis, keepdims=keepdims)

    # --- shape ------------------------------------------------------------------
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

    def repeat(self, *sizes):
        """Tile: ``sizes[i]`` copies along dimension i, ``t.repeat(2, 1)`` or ``t.repeat((2, 1))`` (PyTorch).

        ``sizes`` may name more dimensions than the tensor has (new leading
        ones); differentiable (the vjp sums the copies). See
        :func:`minigrad.ops.shape.repeat`.
        """
        return _ops.shape.repeat(self, _shape_args(sizes))

    def split(self, split_size, dim=0):  # PyTorch's keyword ``split_size`` (the op's is ``split_size_or_sections``)
        return _ops.shape.split(self, split_size, dim)

    def expand(self, *shape):
        """Broadcast to ``shape``, where -1 keeps a dimension (PyTorch's ``expand``)."""
        return _ops.shape.expand(self, _shape_args(shape))

    def expand_as(self, other):
        """Broadcast to ``other.shape``."""
        return _ops.shape.broadcast_to(self, other.shape)

    def flip(self, *args, dims=None):
        """Reverse the order along ``dims``: ``t.flip(0, 1)``, ``t.flip((0, 1))`` or ``t.flip(dims=[0])`` (PyTorch).

        A copy; see :func:`minigrad.ops.construct.flip`.
        """
        return _ops.construct.flip(self, _shape_args(args) if dims is None else dims)

    # --- the shape and stacking sweep of issue #16 (methods with PyTorch's varargs) ---
    def tile(self, *dims):
        """Repeat ``dims[i]`` times along dimension i, ``t.tile(2, 1)`` or ``t.tile((2, 1))`` (``Tensor.tile``).

        ``dims`` shorter than the dimensions is padded with leading 1s; see
        :func:`minigrad.ops.stacking.tile`.
        """
        return _ops.stacking.tile(self, _shape_args(dims))

    @property
    def itemsize(self) -> int:
        """Bytes per element (``Tensor.itemsize``, 4 for float32)."""
        return int(self.array.itemsize)

    @property
    def nbytes(self) -> int:
        """Bytes of all elements, numel * itemsize (``Tensor.nbytes``)."""
        return int(self.array.nbytes)

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor is on a CUDA device (``Tensor.is_cuda``)."""
        return self.device != "cpu"

    @property
    def is_cpu(self) -> bool:
        """Whether the tensor is in host memory (``Tensor.is_cpu``)."""
        return self.device == "cpu"


# --- the methods that are one call of an op -------------------------------------------
# Each table maps a method name to the op it calls, as "module.name" in minigrad.ops.
# _bind_forwarders, called at the end of this module once the ops (which import Tensor)
# exist, turns every entry into a method with the op's docs. Methods with logic of their
# own (to, reshape(*shape), __eq__ and None, sub_, ...) are written out in the class.

_UNARY = {  # t.name() is op(t)
    "__neg__": "elementwise.neg",
    "__abs__": "elementwise.abs",
    "__invert__": "elementwise.logical_not",
    "abs": "elementwise.abs",
    "exp": "elementwise.exp",
    "log": "elementwise.log",
    "sqrt": "elementwise.sqrt",
    "tanh": "elementwise.tanh",
    "sigmoid": "elementwise.sigmoid",
    "relu": "elementwise.relu",
    "clone": "elementwise.clone",
    "sign": "elementwise.sign",
    "sin": "pointwise.sin",
    "cos": "pointwise.cos",
    "tan": "pointwise.tan",
    "asin": "pointwise.asin",
    "acos": "pointwise.acos",
    "atan": "pointwise.atan",
    "sinh": "pointwise.sinh",
    "cosh": "pointwise.cosh",
    "asinh": "pointwise.asinh",
    "acosh": "pointwise.acosh",
    "atanh": "pointwise.atanh",
    "log1p": "pointwise.log1p",
    "expm1": "pointwise.expm1",
    "log2": "pointwise.log2",
    "log10": "pointwise.log10",
    "exp2": "pointwise.exp2",
    "rsqrt": "pointwise.rsqrt",
    "erf": "pointwise.erf",
    "floor": "pointwise.floor",
    "ceil": "pointwise.ceil",
    "trunc": "pointwise.trunc",
    "isnan": "pointwise.isnan",
    "isinf": "pointwise.isinf",
    "isfinite": "pointwise.isfinite",
    "arcsin": "pointwise.asin",
    "arccos": "pointwise.acos",
    "arctan": "pointwise.atan",
    "arcsinh": "pointwise.asinh",
    "arccosh": "pointwise.acosh",
    "arctanh": "pointwise.atanh",
    "fix": "pointwise.trunc",
    "t": "construct.t",
    "fliplr": "construct.fliplr",
    "flipud": "construct.flipud",
    # arithmetic and in-place pointwise forms of issue #16 (minigrad/ops/arith.py)
    "neg": "arith.negative",
    "negative": "arith.negative",
    "positive": "arith.positive",
    "square": "arith.square",
    "reciprocal": "arith.reciprocal",
    "abs_": "arith.abs_",
    "neg_": "arith.neg_",
    "negative_": "arith.negative_",
    "exp_": "arith.exp_",
    "log_": "arith.log_",
    "sqrt_": "arith.sqrt_",
    "tanh_": "arith.tanh_",
    "sigmoid_": "arith.sigmoid_",
    "sign_": "arith.sign_",
    "exp2_": "arith.exp2_",
    "expm1_": "arith.expm1_",
    "log2_": "arith.log2_",
    "log10_": "arith.log10_",
    "log1p_": "arith.log1p_",
    "rsqrt_": "arith.rsqrt_",
    "sin_": "arith.sin_",
    "cos_": "arith.cos_",
    "tan_": "arith.tan_",
    "asin_": "arith.asin_",
    "acos_": "arith.acos_",
    "atan_": "arith.atan_",
    "sinh_": "arith.sinh_",
    "cosh_": "arith.cosh_",
    "asinh_": "arith.asinh_",
    "acosh_": "arith.acosh_",
    "atanh_": "arith.atanh_",
    "arcsin_": "arith.arcsin_",
    "arccos_": "arith.arccos_",
    "arctan_": "arith.arctan_",
    "arcsinh_": "arith.arcsinh_",
    "arccosh_": "arith.arccosh_",
    "arctanh_": "arith.arctanh_",
    "erf_": "arith.erf_",
    "floor_": "arith.floor_",
    "ceil_": "arith.ceil_",
    "trunc_": "arith.trunc_",
    "fix_": "arith.fix_",
    "reciprocal_": "arith.reciprocal_",
    "square_": "arith.square_",
    "relu_": "arith.relu_",
    # logical, bitwise and predicates of issue #16 (minigrad/ops/logical.py)
    "logical_not": "logical.logical_not",
    "bitwise_not": "logical.bitwise_not",
    "isneginf": "logical.isneginf",
    "isposinf": "logical.isposinf",
    "isreal": "logical.isreal",
    "signbit": "logical.signbit",
    "logical_not_": "logical.logical_not_",
    "bitwise_not_": "logical.bitwise_not_",
    "is_nonzero": "logical.is_nonzero",
    "is_floating_point": "logical.is_floating_point",
    "is_complex": "logical.is_complex",
    "is_signed": "logical.is_signed",
    # special functions and float helpers of issue #16 (minigrad/ops/special.py, numeric.py)
    "erfc": "special.erfc",
    "erfinv": "special.erfinv",
    "lgamma": "special.lgamma",
    "digamma": "special.digamma",
    "i0": "special.i0",
    "sinc": "special.sinc",
    "erfc_": "special.erfc_",
    "erfinv_": "special.erfinv_",
    "lgamma_": "special.lgamma_",
    "digamma_": "special.digamma_",
    "i0_": "special.i0_",
    "sinc_": "special.sinc_",
    "frac": "numeric.frac",
    "sgn": "numeric.sgn",
    "deg2rad": "numeric.deg2rad",
    "rad2deg": "numeric.rad2deg",
    "frexp": "numeric.frexp",
    "frac_": "numeric.frac_",
    "sgn_": "numeric.sgn_",
    "deg2rad_": "numeric.deg2rad_",
    "rad2deg_": "numeric.rad2deg_",
}

_BINARY = {  # t.name(other) is op(t, other)
    "__add__": "elementwise.add",
    "__sub__": "elementwise.sub",
    "__mul__": "elementwise.mul",
    "__truediv__": "elementwise.true_divide",
    "__pow__": "elementwise.pow",
    "__matmul__": "linalg.matmul",
    "__lt__": "elementwise.lt",
    "__le__": "elementwise.le",
    "__gt__": "elementwise.gt",
    "__ge__": "elementwise.ge",
    "__and__": "elementwise.logical_and",
    "__or__": "elementwise.logical_or",
    "__xor__": "elementwise.logical_xor",
    "eq": "elementwise.eq",
    "ne": "elementwise.ne",
    "lt": "elementwise.lt",
    "le": "elementwise.le",
    "gt": "elementwise.gt",
    "ge": "elementwise.ge",
    "maximum": "elementwise.maximum",
    "minimum": "elementwise.minimum",
    "matmul": "linalg.matmul",
    "atan2": "pointwise.atan2",
    "fmod": "pointwise.fmod",
    "remainder": "pointwise.remainder",
    "copysign": "pointwise.copysign",
    "logaddexp": "pointwise.logaddexp",
    "hypot": "pointwise.hypot",
    "arctan2": "pointwise.atan2",
    "__mod__": "pointwise.remainder",
    "__floordiv__": "elementwise.floor_divide",
    "floor_divide": "elementwise.floor_divide",
    # arithmetic of issue #16
    "mul": "elementwise.mul",
    "multiply": "elementwise.mul",
    "true_divide": "elementwise.true_divide",
    # logical, bitwise and comparisons of issue #16 (minigrad/ops/logical.py)
    "logical_and": "logical.logical_and",
    "logical_or": "logical.logical_or",
    "logical_xor": "logical.logical_xor",
    "bitwise_and": "logical.bitwise_and",
    "bitwise_or": "logical.bitwise_or",
    "bitwise_xor": "logical.bitwise_xor",
    "bitwise_left_shift": "logical.bitwise_left_shift",
    "bitwise_right_shift": "logical.bitwise_right_shift",
    "greater": "logical.greater",
    "greater_equal": "logical.greater_equal",
    "less": "logical.less",
    "less_equal": "logical.less_equal",
    "not_equal": "logical.not_equal",
    "equal": "logical.equal",
    "is_same_size": "logical.is_same_size",
    "eq_": "logical.eq_",
    "ne_": "logical.ne_",
    "lt_": "logical.lt_",
    "le_": "logical.le_",
    "gt_": "logical.gt_",
    "ge_": "logical.ge_",
    "greater_": "logical.greater_",
    "greater_equal_": "logical.greater_equal_",
    "less_": "logical.less_",
    "less_equal_": "logical.less_equal_",
    "not_equal_": "logical.not_equal_",
    "logical_and_": "logical.logical_and_",
    "logical_or_": "logical.logical_or_",
    "logical_xor_": "logical.logical_xor_",
    "bitwise_and_": "logical.bitwise_and_",
    "bitwise_or_": "logical.bitwise_or_",
    "bitwise_xor_": "logical.bitwise_xor_",
    "bitwise_left_shift_": "logical.bitwise_left_shift_",
    "bitwise_right_shift_": "logical.bitwise_right_shift_",
    "__lshift__": "logical.bitwise_left_shift",
    "__rshift__": "logical.bitwise_right_shift",
    # special functions and float helpers of issue #16 (minigrad/ops/special.py, numeric.py)
    "xlogy": "special.xlogy",
    "logaddexp2": "special.logaddexp2",
    "xlogy_": "special.xlogy_",
    "fmax": "numeric.fmax",
    "fmin": "numeric.fmin",
    "nextafter": "numeric.nextafter",
    "ldexp": "numeric.ldexp",
    "gcd": "numeric.gcd",
    "lcm": "numeric.lcm",
    "nextafter_": "numeric.nextafter_",
    "ldexp_": "numeric.ldexp_",
    "gcd_": "numeric.gcd_",
    "lcm_": "numeric.lcm_",
}

_REFLECTED = {  # t.name(other) is op(other, t): Python's ``other + t`` when ``other`` is not a Tensor
    "__radd__": "elementwise.add",
    "__rsub__": "elementwise.sub",
    "__rmul__": "elementwise.mul",
    "__rtruediv__": "elementwise.true_divide",
    "__rpow__": "elementwise.pow",
    "__rmatmul__": "linalg.matmul",
    "__rmod__": "pointwise.remainder",
    "__rfloordiv__": "elementwise.floor_divide",
    # reflected bitwise operators of issue #16 (minigrad/ops/logical.py)
    "__rand__": "logical.bitwise_and",
    "__ror__": "logical.bitwise_or",
    "__rxor__": "logical.bitwise_xor",
    "__rlshift__": "logical.bitwise_left_shift",
    "__rrshift__": "logical.bitwise_right_shift",
}

_SAME_ARGS = {  # t.name(*args, **kwargs) is op(t, *args, **kwargs), with the op's parameters (plain functions only)
    "masked_fill": "elementwise.masked_fill",
    "div": "elementwise.div",
    "divide": "elementwise.div",
    "isclose": "pointwise.isclose",
    "allclose": "pointwise.allclose",
    "sum": "reduction.sum",
    "mean": "reduction.mean",
    "var": "reduction.var",
    "std": "reduction.std",
    "max": "reduction.max",
    "min": "reduction.min",
    "amax": "reduction.amax",
    "amin": "reduction.amin",
    "argmax": "reduction.argmax",
    "argmin": "reduction.argmin",
    "logsumexp": "reduction.logsumexp",
    "softmax": "reduction.softmax",
    "log_softmax": "reduction.log_softmax",
    "__getitem__": "shape.getitem",
    "flatten": "shape.flatten",
    "squeeze": "shape.squeeze",
    "unsqueeze": "shape.unsqueeze",
    "transpose": "shape.transpose",
    "broadcast_to": "shape.broadcast_to",
    "chunk": "shape.chunk",
    "add_": "inplace.add_",
    "mul_": "inplace.mul_",
    "div_": "inplace.div_",
    "fill_": "inplace.fill_",
    "copy_": "inplace.copy_",
    "__iadd__": "inplace.add_",
    "__imul__": "inplace.mul_",
    "__itruediv__": "inplace.div_",
    "mm": "linalg.mm",
    "bmm": "linalg.bmm",
    "outer": "linalg.outer",
    "ger": "linalg.outer",
    "norm": "linalg.norm",
    "diag": "linalg.diag",
    "diagonal": "linalg.diagonal",
    "diag_embed": "linalg.diag_embed",
    "trace": "linalg.trace",
    "tril": "construct.tril",
    "triu": "construct.triu",
    "roll": "construct.roll",
    "unflatten": "construct.unflatten",
    "cumsum": "scan.cumsum",
    "argsort": "sorting.argsort",
    "cumprod": "scan.cumprod",
    "cummax": "scan.cummax",
    "cummin": "scan.cummin",
    "logcumsumexp": "scan.logcumsumexp",
    "sort": "sorting.sort",
    "msort": "sorting.msort",
    "topk": "sorting.topk",
    "kthvalue": "sorting.kthvalue",
    "median": "sorting.median",
    "mode": "sorting.mode",
    "unique": "sorting.unique",
    "nonzero": "sorting.nonzero",
    "argwhere": "sorting.argwhere",
    "prod": "reduction.prod",
    "count_nonzero": "reduction.count_nonzero",
    "normal_": "sampling.normal_",
    "uniform_": "sampling.uniform_",
    "bernoulli_": "sampling.bernoulli_",
    "exponential_": "sampling.exponential_",
    "random_": "sampling.random_",
    "geometric_": "sampling.geometric_",
    "log_normal_": "sampling.log_normal_",
    "cauchy_": "sampling.cauchy_",
    "bernoulli": "sampling.bernoulli",
    "multinomial": "sampling.multinomial",
    "gather": "indexing.gather",
    "scatter": "indexing.scatter",
    "scatter_add": "indexing.scatter_add",
    "scatter_reduce": "indexing.scatter_reduce",
    "index_select": "selection.index_select",
    "masked_select": "selection.masked_select",
    "take_along_dim": "selection.take_along_dim",
    "take": "selection.take",
    "index_add": "selection.index_add",
    "index_copy": "selection.index_copy",
    "index_fill": "selection.index_fill",
    "masked_scatter": "selection.masked_scatter",
    "repeat_interleave": "selection.repeat_interleave",
    "clamp_min": "selection.clamp_min",
    "clamp_max": "selection.clamp_max",
    "scatter_": "selection.scatter_",
    "scatter_add_": "selection.scatter_add_",
    "scatter_reduce_": "selection.scatter_reduce_",
    "index_add_": "selection.index_add_",
    "index_copy_": "selection.index_copy_",
    "index_fill_": "selection.index_fill_",
    "masked_fill_": "selection.masked_fill_",
    "masked_scatter_": "selection.masked_scatter_",
    "clamp_": "selection.clamp_",
    "clip_": "selection.clip_",
    "clamp_min_": "selection.clamp_min_",
    "clamp_max_": "selection.clamp_max_",
    # arithmetic and in-place pointwise forms of issue #16 (minigrad/ops/arith.py)
    "add": "arith.add",
    "sub": "arith.sub",
    "subtract": "arith.subtract",
    "float_power": "arith.float_power",
    "addcmul": "arith.addcmul",
    "addcdiv": "arith.addcdiv",
    "addcmul_": "arith.addcmul_",
    "addcdiv_": "arith.addcdiv_",
    "round_": "arith.round_",
    "pow_": "arith.pow_",
    "float_power_": "arith.float_power_",
    "true_divide_": "arith.true_divide_",
    "divide_": "arith.divide_",
    "multiply_": "arith.multiply_",
    "subtract_": "arith.subtract_",
    "floor_divide_": "arith.floor_divide_",
    "fmod_": "arith.fmod_",
    "remainder_": "arith.remainder_",
    "atan2_": "arith.atan2_",
    "arctan2_": "arith.arctan2_",
    "copysign_": "arith.copysign_",
    "hypot_": "arith.hypot_",
    "lerp_": "arith.lerp_",
    # in-place bitwise operators of issue #16 (minigrad/ops/logical.py)
    "__iand__": "logical.bitwise_and_",
    "__ior__": "logical.bitwise_or_",
    "__ixor__": "logical.bitwise_xor_",
    "__ilshift__": "logical.bitwise_left_shift_",
    "__irshift__": "logical.bitwise_right_shift_",
    # nan-aware reductions and quantiles of issue #16 (minigrad/ops/nanreduce.py)
    "nansum": "nanreduce.nansum",
    "nanmean": "nanreduce.nanmean",
    "nanmedian": "nanreduce.nanmedian",
    "quantile": "nanreduce.quantile",
    "nanquantile": "nanreduce.nanquantile",
    "aminmax": "nanreduce.aminmax",
    # special functions and float helpers of issue #16 (minigrad/ops/special.py, numeric.py)
    "logit": "special.logit",
    "logit_": "special.logit_",
    "mvlgamma": "special.mvlgamma",
    "mvlgamma_": "special.mvlgamma_",
    "polygamma_": "special.polygamma_",
    "polygamma": "special.polygamma_method",
    "nan_to_num": "numeric.nan_to_num",
    "nan_to_num_": "numeric.nan_to_num_",
    "heaviside": "numeric.heaviside",
    "heaviside_": "numeric.heaviside_",
    "prelu": "activation_methods.prelu",
    "hardshrink": "activation_methods.hardshrink",
    # the shape and stacking sweep of issue #16
    "movedim": "stacking.movedim",
    "moveaxis": "stacking.moveaxis",
    "swapaxes": "stacking.swapaxes",
    "swapdims": "stacking.swapdims",
    "narrow": "stacking.narrow",
    "narrow_copy": "stacking.narrow_copy",
    "select": "stacking.select",
    "unbind": "stacking.unbind",
    "tensor_split": "stacking.tensor_split",
    "hsplit": "stacking.hsplit",
    "vsplit": "stacking.vsplit",
    "dsplit": "stacking.dsplit",
    "split_with_sizes": "stacking.split_with_sizes",
    "ravel": "stacking.ravel",
    "rot90": "stacking.rot90",
    "unfold": "stacking.unfold",
    "transpose_": "stacking.transpose_",
    "swapaxes_": "stacking.swapaxes_",
    "swapdims_": "stacking.swapdims_",
    "t_": "stacking.t_",
    "squeeze_": "stacking.squeeze_",
    "unsqueeze_": "stacking.unsqueeze_",
    "dot": "blas.dot",
    "vdot": "blas.vdot",
    "inner": "blas.inner",
    "mv": "blas.mv",
    "addmm": "blas.addmm",
    "addmv": "blas.addmv",
    "addr": "blas.addr",
    "baddbmm": "blas.baddbmm",
    "addbmm": "blas.addbmm",
    "addmm_": "blas.addmm_",
    "addmv_": "blas.addmv_",
    "addr_": "blas.addr_",
    "baddbmm_": "blas.baddbmm_",
    "addbmm_": "blas.addbmm_",
    "kron": "blas.kron",
    "cross": "blas.cross",
    "dist": "blas.dist",
    "diff": "series.diff",
    "cov": "series.cov",
    "corrcoef": "series.corrcoef",
    "bincount": "counting.bincount",
    "histc": "counting.histc",
    "histogram": "counting.histogram",
    "unique_consecutive": "counting.unique_consecutive",
    "inverse": "decomp.inverse",
    "det": "decomp.det",
    "logdet": "decomp.logdet",
    "slogdet": "decomp.slogdet",
    "cholesky": "decomp.cholesky",
    "cholesky_solve": "decomp.cholesky_solve",
    "cholesky_inverse": "decomp.cholesky_inverse",
    "matrix_power": "decomp.matrix_power",
    "matrix_exp": "decomp.matrix_exp",
    "pinverse": "decomp.pinverse",
    "svd": "decomp.svd",
    "qr": "decomp.qr",
    "diagflat": "building.diagflat",
    "tril_": "building.tril_",
    "triu_": "building.triu_",
    "fill_diagonal_": "building.fill_diagonal_",
    "index_put": "building.index_put",
    "index_put_": "building.index_put_",
    "put": "building.put",
    "put_": "building.put_",
    "sum_to_size": "building.sum_to_size",
    "stride": "building.stride",
    "storage_offset": "building.storage_offset",
    "element_size": "building.element_size",
    "get_device": "building.get_device",
    "lu": "lu_decomp.lu",
    "lu_solve": "lu_decomp.lu_solve",
}


def _unary(op):
    if _is_primitive(op):  # straight to the interpreter, as Primitive.__call__ would hand it on

        def method(self):
            return _PER_THREAD.interpreter.apply(op, (self,), {})

    else:

        def method(self):
            return op(self)

    return method


def _binary(op):
    if _is_primitive(op):

        def method(self, other):
            return _PER_THREAD.interpreter.apply(op, (self, other), {})

    else:

        def method(self, other):
            return op(self, other)

    return method


def _reflected(op):
    if _is_primitive(op):

        def method(self, other):
            return _PER_THREAD.interpreter.apply(op, (other, self), {})

    else:

        def method(self, other):
            return op(other, self)

    return method


def _is_primitive(op) -> bool:
    return isinstance(op, _primitive.Primitive)


def _same_args(op):
    if not isinstance(op, types.FunctionType):
        raise TypeError(f"_SAME_ARGS takes plain functions (bound as methods as they are), not {op!r}")
    # A copy of the op's function object (the same code, defaults and closure) with a
    # method's name and docs: bound as a method it is the op itself, no call in between.
    method = types.FunctionType(op.__code__, op.__globals__, op.__name__, op.__defaults__, op.__closure__)
    method.__kwdefaults__ = op.__kwdefaults__
    return method


# kind: (its table, what makes the method from the op, how the method's docstring begins)
_KINDS = {
    "unary": (_UNARY, _unary, "Method form of ``{op}``"),
    "binary": (_BINARY, _binary, "Method form of ``{op}``"),
    "reflected": (_REFLECTED, _reflected, "Reflected form of ``{op}``, ``{op}(other, self)``"),
    "same_args": (_SAME_ARGS, _same_args, "Method form of ``{op}``"),
}


def _forwarders() -> list:
    """Every entry of the tables, as ``(kind, method name, "module.op")``."""
    return [(kind, name, path) for kind, (table, _, _) in _KINDS.items() for name, path in table.items()]


def _bind_forwarders(cls, lookup) -> None:
    """Set every table entry as a method of ``cls``; ``lookup("module.op")`` returns the op.

    Each method gets the op's docstring, led by the op's name, and the op's
    signature with ``self`` first (``inspect.signature``, ``help``).
    """
    for kind, name, path in _forwarders():
        _, make, lead = _KINDS[kind]
        op = lookup(path)
        method = make(op)
        # same_args: the op's own signature, through a wrapper such as errors.public_op's (its code is *args)
        signature = inspect.signature(op if kind == "same_args" and hasattr(op, "__wrapped__") else method)
        first, *rest = signature.parameters.values()
        method.__signature__ = signature.replace(parameters=[first.replace(name="self", annotation=first.empty), *rest])
        method.__name__ = name
        method.__qualname__ = f"{cls.__qualname__}.{name}"
        method.__module__ = cls.__module__
        method.__doc__ = lead.format(op=f"minigrad.ops.{path}") + ": " + (inspect.getdoc(op) or "")
        method.__wrapped__ = op
        setattr(cls, name, method)


def _is_operand(value) -> bool:
    """True for what an elementwise op takes: tensors, arrays, numbers, and lists or tuples of them."""
    return isinstance(value, (Tensor, int, float, bool, complex, np.generic, list, tuple)) or backend.is_array(value)


def _reads_value(what: str) -> None:
    """A tensor's value is being read into Python: a capture of ``minigrad.compile`` refuses it (or stops)."""
    capture = _PER_THREAD.interpreter.capture
    if capture is not None:
        capture.reads_value(what)


def _shape_args(args) -> tuple:
    """Accept both ``f(2, 3)`` and ``f((2, 3))``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _as_array(data, dtype, device, copy: bool):
    """Turn Python data, arrays or tensors into a backend array with PyTorch's dtype rules."""
    if isinstance(data, Tensor):
        data = data.array
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


def _op(path: str):
    """The op named ``"module.name"`` in minigrad.ops."""
    module, name = path.split(".")
    return getattr(getattr(_ops, module), name)


from . import autograd as _autograd  # noqa: E402  (the engine and the ops import Tensor from this module)
from . import ops as _ops  # noqa: E402
from . import primitive as _primitive  # noqa: E402
from . import tape as _tape  # noqa: E402
from .interpreter import _PER_THREAD  # noqa: E402

_bind_forwarders(Tensor, _op)

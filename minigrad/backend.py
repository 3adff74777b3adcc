"""The one place that knows about NumPy and CuPy.

Every array operation in minigrad asks this module for the array module
(``xp``) of the arrays it holds, so the same primitive runs on both. The few
functions whose names differ between the libraries (scatter-add, random
generators, sliding windows) live here too, and so does every rule about
devices, and the pool of large work buffers that NumPy arrays reuse (CuPy has
its own memory pool).

Devices are plain strings, as PyTorch users write them: ``"cpu"`` (NumPy) and
``"cuda"`` (CuPy, optionally ``"cuda:N"``).
"""

from __future__ import annotations

import copy
import mmap
import threading
import weakref
from collections import deque

import numpy as np

from .errors import DeviceError

_cupy = None  # the imported cupy module, once "cuda" has been asked for


def _load_cupy():
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:
            raise DeviceError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'minigrad[gpu]' (or the cupy-cudaXXx wheel that matches your CUDA)"
            ) from exc
        _cupy = cupy
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    try:
        cupy = _load_cupy()
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no CuPy, no driver or no device: all mean "no"
        return False


def normalize_device(device) -> str:
    """Map ``None``/``"cpu"``/``"cuda"``/``"cuda:0"`` to ``"cpu"`` or ``"cuda"``."""
    if device is None:
        return "cpu"
    name = str(device)
    if name == "cpu":
        return "cpu"
    if name == "cuda" or name.startswith("cuda:"):
        _load_cupy()
        return "cuda"
    raise DeviceError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def xp_for(device: str):
    """The array module of a (normalized) device: NumPy for cpu, CuPy for cuda."""
    return np if device == "cpu" else _load_cupy()


_HOST = (np.ndarray, np.generic, int, float, complex)  # what NumPy owns: its arrays and scalars, Python numbers


def xp_of(array):
    """The array module that owns ``array`` (NumPy for NumPy arrays and scalars, and for Python numbers)."""
    return np if isinstance(array, _HOST) else _load_cupy()


def xp_of_type(array_type):
    """The array module whose arrays have type ``array_type`` (NumPy when None)."""
    return np if array_type is None or array_type is np.ndarray else _load_cupy()


def device_of(array) -> str:
    """``"cpu"`` for a NumPy array or scalar or a Python number, ``"cuda"`` for a CuPy array."""
    return "cpu" if isinstance(array, _HOST) else "cuda"


def is_host_array(value) -> bool:
    """True for a NumPy array or scalar: values that can be read on the host without waiting for a device.

    Code that reads an array's values to choose a faster path (count a mask,
    check targets) asks this first: on a GPU the read would stall the device.
    """
    return isinstance(value, (np.ndarray, np.generic))


def is_array(value) -> bool:
    """True for a NumPy array, or a CuPy array once CuPy is loaded."""
    return isinstance(value, np.ndarray) or (_cupy is not None and isinstance(value, _cupy.ndarray))


def to_device(array, device: str):
    """Copy ``array`` to ``device`` (no copy when it is already there)."""
    if device == "cpu":
        return array if isinstance(array, (np.ndarray, np.generic)) else array.get()  # a bare backward's 0-d scalar
    cupy = _load_cupy()
    return array if isinstance(array, cupy.ndarray) else cupy.asarray(array)


def broadcast_to(array, shape):
    """A read-only view of ``array`` broadcast to ``shape``, as ``xp.broadcast_to``.

    For contiguous NumPy arrays the view is built directly from strides,
    much faster than ``np.broadcast_to``, which matters because
    every reduction's vjp broadcasts its cotangent back.
    """
    if isinstance(array, np.generic):  # a NumPy scalar, as reductions return in a plain backward
        array = np.asarray(array)
    if type(array) is np.ndarray and array.flags.c_contiguous:
        lead = len(shape) - array.ndim
        if lead >= 0:
            strides = [0] * lead
            for size, stride, target in zip(array.shape, array.strides, shape[lead:]):
                if size == target:
                    strides.append(stride)
                elif size == 1:
                    strides.append(0)
                else:
                    break
            else:
                view = np.ndarray(shape, array.dtype, array, 0, tuple(strides))
                view.flags.writeable = False
                return view
    return xp_of(array).broadcast_to(array, shape)


def windows(array, kernel, stride, dilation, out_size):
    """The sliding windows of an NCHW array as a strided view of shape (N, C, Ho, Wo, kh, kw).

    Window (i, j) starts at row ``i * stride[0]``, column ``j * stride[1]``
    and takes every ``dilation``-th element. No copy: a read-only view,
    the sliding-window view that im2col reshapes once into a matrix.
    """
    n, c = array.shape[:2]
    s_n, s_c, s_h, s_w = array.strides
    shape = (n, c, out_size[0], out_size[1], kernel[0], kernel[1])
    strides = (s_n, s_c, s_h * stride[0], s_w * stride[1], s_h * dilation[0], s_w * dilation[1])
    if isinstance(array, np.ndarray):
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=False)
    return _load_cupy().lib.stride_tricks.as_strided(array, shape, strides)


def scatter_add(target, index, values) -> None:
    """``target[index] += values`` where repeated indices accumulate."""
    if isinstance(target, np.ndarray):
        np.add.at(target, index, values)
    else:
        import cupyx

        cupyx.scatter_add(target, index, values)


# --- reused work buffers ----------------------------------------------------
# A training step allocates the same large arrays every step (im2col columns,
# padded inputs, col2im buffers, a conv's output and its gradients). From
# glibc's malloc each comes back on fresh pages the kernel must fault in and
# zero, whenever malloc has returned the previous step's memory to the system
# (see minigrad/_malloc.py), which is what its default thresholds do to such a
# step. The convolutions take those arrays from this pool instead, which keeps
# the blocks itself, outside malloc's heap, and lends them again.


class _Loan(weakref.ref):
    """The weak reference to one loan's array, holding the block it lends."""

    __slots__ = ("block",)


class BufferPool:
    """Blocks of anonymous memory lent as NumPy arrays, taken back when no array can reach them.

    Each loan is a fresh array made on a block with ``np.frombuffer``. Its
    ``base`` is not an array, so NumPy makes every view of it (a reshape, a
    transpose, a slice a node saved, the gradient a user holds) keep that
    array itself as their ``base``: it dies exactly when the last array on
    the block does, and a weak-reference callback then puts the block back.
    The pool never guesses from reference counts, and it never lends a block
    that an array can still reach.

    How much it keeps: a *busy period* runs from a first loan until nothing
    is lent any more (a training step, whose graph is freed at its end). Of
    each size, the pool keeps as many free blocks as the last busy period (or
    the current one, if more) had lent at once, so that the next step finds
    all its buffers; blocks of sizes the last period did not use are unmapped
    when it ends. A process that stops computing keeps one step's blocks;
    :meth:`release` unmaps every free block.

    A returned block waits in a queue until the pool's lock is free (the
    callback may run inside the pool, when the garbage collector frees an
    array there, or in another thread). Blocks are ``mmap`` memory, so that
    the pool leaves malloc's own state alone; blocks of 4 MiB and more are
    advised to use huge pages, as NumPy does for its own large arrays.
    """

    def __init__(self):
        self._free: dict = {}  # nbytes -> [block, ...], never an empty list
        self._lent: dict = {}  # nbytes -> blocks lent now
        self._lent_bytes = 0
        self._needed: dict = {}  # nbytes -> the most blocks lent at once in the current busy period
        self._last_needed: dict = {}  # ... and in the last one
        self._returned: deque = deque()  # blocks whose loan ended, not yet filed
        self._loans: dict = {}  # id -> the live _Loan references (a weak reference must live to call back)
        self._lock = threading.Lock()

    def empty(self, shape: tuple, dtype) -> np.ndarray:
        """An uninitialized C-contiguous NumPy array of ``shape`` and ``dtype`` on a pooled block."""
        dtype = np.dtype(dtype)
        count = 1
        for size in shape:
            count *= size
        nbytes = count * dtype.itemsize
        with self._lock:
            self._file_returned()
            blocks = self._free.get(nbytes)
            block = None
            if blocks is not None:
                block = blocks.pop()
                if not blocks:
                    del self._free[nbytes]
            lent = self._lent[nbytes] = self._lent.get(nbytes, 0) + 1
            self._lent_bytes += nbytes
            if lent > self._needed.get(nbytes, 0):
                self._needed[nbytes] = lent
        if block is None:
            block = mmap.mmap(-1, nbytes)
            if nbytes >= _HUGE_PAGE_BYTES and hasattr(mmap, "MADV_HUGEPAGE"):
                block.madvise(mmap.MADV_HUGEPAGE)
        owner = np.frombuffer(block, dtype, count)
        loan = _Loan(owner, self._loan_ended)
        loan.block = block
        self._loans[id(loan)] = loan
        return owner.reshape(shape)

    def free_bytes(self) -> int:
        """The bytes of the blocks held free for reuse."""
        with self._lock:
            self._file_returned()
            return sum(nbytes * len(blocks) for nbytes, blocks in self._free.items())

    def release(self) -> None:
        """Unmap every free block now (blocks still lent come back, and are kept, as usual)."""
        with self._lock:
            self._file_returned()
            self._free.clear()

    def _loan_ended(self, loan: _Loan) -> None:
        """The weak reference's callback: queue the block, and file it now if nobody holds the lock."""
        del self._loans[id(loan)]
        self._returned.append(loan.block)
        if self._lock.acquire(blocking=False):
            try:
                self._file_returned()
            finally:
                self._lock.release()

    def _file_returned(self) -> None:
        """Put queued blocks on the free lists, keeping of each size no more than a busy period needs.

        Called with the lock held.
        """
        while self._returned:
            block = self._returned.popleft()
            nbytes = len(block)
            self._lent[nbytes] -= 1
            self._lent_bytes -= nbytes
            keep = max(self._needed.get(nbytes, 0), self._last_needed.get(nbytes, 0)) - self._lent[nbytes]
            blocks = self._free.setdefault(nbytes, [])
            if len(blocks) < keep:
                blocks.append(block)
            elif not blocks:  # dropped: unmapped now, as no array is on it
                del self._free[nbytes]
            if self._lent_bytes == 0:  # the end of a busy period: keep what it needed
                self._last_needed, self._needed = self._needed, {}
                for size in [size for size in self._free if size not in self._last_needed]:
                    del self._free[size]
                for size, blocks in self._free.items():
                    del blocks[self._last_needed[size] :]


POOL_MIN_BYTES = 2**17  # smaller arrays come from malloc's heap, which reuses them well
_HUGE_PAGE_BYTES = 2**22
pool = BufferPool()


def empty(xp, shape: tuple, dtype):
    """``xp.empty(shape, dtype)``, C-contiguous; a NumPy array of ``POOL_MIN_BYTES`` or more is on a pooled block.

    Use it for the large arrays an op makes every step; the block is reused
    once no array references it (see :class:`BufferPool`). CuPy keeps its own
    memory pool, so on a GPU this is ``cupy.empty``.
    """
    if xp is np:
        count = np.dtype(dtype).itemsize
        for size in shape:
            count *= size
        if count >= POOL_MIN_BYTES:
            return pool.empty(shape, dtype)
    return xp.empty(shape, dtype=dtype)


def zeros(xp, shape: tuple, dtype):
    """``xp.zeros(shape, dtype)``, from the pool as :func:`empty` (a reused block is zeroed by one fill)."""
    if xp is not np:
        return xp.zeros(shape, dtype=dtype)
    out = empty(xp, shape, dtype)
    out.fill(0)
    return out


def empty_like(array, dtype=None):
    """An uninitialized array of ``array``'s shape, its dtype (or ``dtype``) and its memory order (``order="K"``),
    as :func:`empty`: an elementwise result written into it runs over memory in the order of its input."""
    if array.nbytes < POOL_MIN_BYTES:
        return xp_of(array).empty_like(array, dtype=dtype)
    order = sorted(range(array.ndim), key=lambda axis: -abs(array.strides[axis]))
    out = empty(xp_of(array), tuple(array.shape[axis] for axis in order), array.dtype if dtype is None else dtype)
    inverse = [0] * array.ndim
    for position, axis in enumerate(order):
        inverse[axis] = position
    return out.transpose(inverse)


# --- fused CuPy kernels -----------------------------------------------------
# On a GPU a small step costs its kernel launches (tens of microseconds of CPU
# each), not its arithmetic; where an op would launch several, one fused kernel
# does the same. NumPy keeps the array expressions.

_KERNELS: dict = {}


def _kernel(name: str, in_params: str, out_params: str, operation: str):
    """The CuPy ElementwiseKernel ``name``, built on first use (CuPy compiles it then)."""
    kernel = _KERNELS.get(name)
    if kernel is None:
        kernel = _KERNELS[name] = _load_cupy().ElementwiseKernel(in_params, out_params, operation, name)
    return kernel


_ONEHOT = """
if (t == ignore_index) {
    out = 0;
} else if (t < 0 || t >= classes) {
    out = nan;
} else {
    out = ((i / inner) % classes == t) ? 1 : 0;  // element i of the C-ordered output is of class (i / inner) % C
}
"""


def onehot(target, shape, axis: int, dtype, ignore_index: int):
    """One-hot rows of integer class ``target`` along ``axis`` of ``shape``, as an array of ``dtype``.

    A target equal to ``ignore_index`` gives a row of zeros; one outside
    [0, C) a row of NaN (only CUDA lets such a target through: the losses
    check their targets on the host, except on a GPU, where the check would
    stall the device). NumPy: one broadcast compare of the targets with the
    class indices (an ignored target matches no class unless ``ignore_index``
    is itself a class, when its rows are cleared). CuPy: one fused kernel,
    where array operations would launch ten.
    """
    classes = shape[axis]
    if isinstance(target, np.ndarray):
        expanded = target.reshape(target.shape[:axis] + (1,) + target.shape[axis:])
        hot = expanded == np.arange(classes).reshape((classes,) + (1,) * (len(shape) - axis - 1))
        if 0 <= ignore_index < classes:
            hot &= expanded != ignore_index
        return hot.astype(dtype)
    cupy = _load_cupy()
    inner = 1  # elements per class below the class axis
    for size in shape[axis + 1 :]:
        inner *= size
    out = cupy.empty(shape, dtype)
    kernel = _kernel("minigrad_onehot", "T t, int64 ignore_index, int64 classes, int64 inner, F nan", "F out", _ONEHOT)
    kernel(cupy.expand_dims(target, axis), ignore_index, classes, inner, np.dtype(dtype).type(np.nan), out)
    return out


def sub_scaled_(target, scale: float, values) -> None:
    """``target -= scale * values``, in place: the plain gradient-descent update.

    NumPy computes the product into a temporary; CuPy does it in one kernel.
    """
    if isinstance(target, np.ndarray) or values.dtype != target.dtype:
        target -= scale * values
        return
    kernel = _kernel("minigrad_sub_scaled", "T values, T scale", "T target", "target -= scale * values")
    kernel(values, values.dtype.type(scale), target)  # the scale in the arrays' dtype, as T requires


# --- random numbers -------------------------------------------------------
# One generator per device, re-seeded together by ``manual_seed``.
_generators: dict[str, object] = {}
_seed: int | None = None


def manual_seed(seed: int) -> None:
    """Seed every device's generator, so runs repeat bit for bit."""
    global _seed
    _seed = int(seed)
    _generators.clear()


def get_rng_state() -> dict:
    """The CPU generator's state (a dict of ints, storable with ``minigrad.save``), as ``torch.get_rng_state``."""
    return {"seed": _seed, "cpu": generator("cpu").bit_generator.state}


def set_rng_state(state: dict) -> None:
    """Put the CPU generator back into a state from :func:`get_rng_state` (to resume a run exactly)."""
    global _seed
    gen = np.random.default_rng()
    gen.bit_generator.state = state["cpu"]
    _seed = state.get("seed")
    _generators["cpu"] = gen


class fork_rng:
    """Context manager: random draws inside do not disturb the generators outside.

    On exit every device's generator is back where it was, so a tool that
    re-seeds for its own purposes (gradcheck) leaves the user's stream alone.
    Inside, the CPU generator is a copy of the one outside, so its draws start
    where the stream stands, as with ``torch.random.fork_rng``. A CuPy generator
    cannot be copied (it holds a lock): inside, the GPU gets a fresh generator
    seeded as ``manual_seed`` last said.
    """

    def __enter__(self):
        self._saved = (_seed, dict(_generators))
        cpu = _generators.get("cpu")
        _generators.clear()
        if cpu is not None:
            _generators["cpu"] = copy.deepcopy(cpu)
        return self

    def __exit__(self, *exc):
        global _seed
        _seed, generators = self._saved
        _generators.clear()
        _generators.update(generators)
        return False


def generator(device: str):
    """The random generator of ``device`` (``numpy.random.Generator`` or CuPy's)."""
    gen = _generators.get(device)
    if gen is None:
        xp = xp_for(device)
        gen = xp.random.default_rng(_seed)
        _generators[device] = gen
    return gen


def integers_inclusive(rng, low: int, last: int, shape):
    """int64 integers uniform on [low, last], both ends included, from the generator ``rng``.

    NumPy's generator takes ``endpoint=True`` (so ``last`` may be int64's largest); CuPy's draws from
    [low, high), so there the top of int64's range, 2**63 - 1, cannot be drawn.
    """
    if isinstance(rng, np.random.Generator):
        return rng.integers(low, last, size=tuple(shape), dtype=np.int64, endpoint=True)
    return rng.integers(low, min(last + 1, 2**63 - 1), size=tuple(shape), dtype=np.int64)

"""Tensor factories: zeros, ones, full, arange, eye, rand, randn, ... (PyTorch names and arguments).

Sizes may be given as ``zeros(2, 3)`` or ``zeros((2, 3))``. Floating-point
results take the default dtype (float32) unless ``dtype`` says otherwise.
Random tensors come from minigrad's generator (:func:`manual_seed`), one per
device, so a seeded run repeats bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

from . import backend
from .errors import ArgumentError, DTypeError, OutOfMemory, ShapeError
from .generator import rng_for
from .interpreter import _PER_THREAD
from .tensor import Tensor, _shape_args, get_default_dtype


def _size(op: str, size) -> tuple:
    shape = _shape_args(size)
    if not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape):
        raise ShapeError(f"{op}: size must be non-negative integers, got {shape}")
    shape = tuple(int(s) for s in shape)
    if math.prod(shape) >= 2**63:  # PyTorch: "Storage size calculation overflowed"
        raise ShapeError(f"{op}: size {shape} has {math.prod(shape)} elements, more than an int64 can count")
    return shape


def _count(op: str, name: str, n) -> int:
    """A count argument (eye's n and m, linspace's steps, randperm's n): a non-negative int, as PyTorch."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise DTypeError(f"{op}: {name} must be an int, got {n!r}")
    if n < 0:
        raise ArgumentError(f"{op}: {name} must be greater or equal to 0, got {n}")
    return int(n)


def _allocate(op: str, shape: tuple, dtype, make):
    """``make()``, the array of ``shape``; a failed allocation raises OutOfMemory naming what was asked for.

    NumPy raises MemoryError when malloc fails, and ValueError ("array is too
    big") when the byte count does not fit in an address; both mean the same
    to the user.
    """
    try:
        return make()
    except (MemoryError, ValueError) as exc:
        if isinstance(exc, ValueError) and "too big" not in str(exc):
            raise
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        raise OutOfMemory(
            f"{op}: cannot allocate a tensor of shape {shape} and dtype {np.dtype(dtype)}: {nbytes:,} bytes "
            f"({nbytes / 2**30:,.1f} GiB)"
        ) from exc


def _make(array, requires_grad: bool) -> Tensor:
    capture = _PER_THREAD.interpreter.capture
    if capture is not None:  # minigrad.compile: a constant of the program being captured
        capture.constant(array)
    t = Tensor._wrap(array)
    return t.requires_grad_() if requires_grad else t


def _dtype(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of zeros."""
    xp, shape, dt = backend.xp_for(backend.normalize_device(device)), _size("zeros", size), _dtype(dtype)
    return _make(_allocate("zeros", shape, dt, lambda: xp.zeros(shape, dtype=dt)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ones."""
    xp, shape, dt = backend.xp_for(backend.normalize_device(device)), _size("ones", size), _dtype(dtype)
    return _make(_allocate("ones", shape, dt, lambda: xp.ones(shape, dtype=dt)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor filled with ``fill_value`` (int64 for an int, bool for a bool, else the default dtype)."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    dt = _dtype(dtype)
    if dt.kind in "iu" and isinstance(fill_value, (int, float, np.integer, np.floating)):
        info = np.iinfo(dt)  # PyTorch: "value cannot be converted to type int64_t without overflow"
        if not (math.isfinite(fill_value) and info.min <= fill_value <= info.max):
            raise ArgumentError(f"full: value {fill_value!r} cannot be converted to type {dt} without overflow")
    xp = backend.xp_for(backend.normalize_device(device))
    shape = _size("full", (size,) if isinstance(size, int) else size)
    try:
        array = _allocate("full", shape, dt, lambda: xp.full(shape, fill_value, dtype=dt))
    except OverflowError as exc:  # an int too large for NumPy's conversion (to bool, say)
        raise ArgumentError(f"full: value {fill_value!r} cannot be converted to type {dt}: {exc}") from exc
    return _make(array, requires_grad)


def _like(op, fill, t: Tensor, dtype, device, requires_grad) -> Tensor:
    device = t.device if device is None else device
    return fill(t.shape, dtype=t.dtype if dtype is None else dtype, device=device, requires_grad=requires_grad)


def zeros_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Zeros with the shape (and, unless given, dtype and device) of ``t``."""
    return _like("zeros_like", zeros, t, dtype, device, requires_grad)


def ones_like(t: Tensor, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ones with the shape (and, unless given, dtype and device) of ``t``."""
    return _like("ones_like", ones, t, dtype, device, requires_grad)


def full_like(t: Tensor, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``fill_value`` everywhere, with the shape (and, unless given, dtype and device) of ``t``."""
    return full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtype,
                device=t.device if device is None else device, requires_grad=requires_grad)  # fmt: skip


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` up to (not including) ``end`` by ``step``; int64 when all are ints."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    for v in (start, end, step):
        if isinstance(v, (int, np.integer, float, np.floating)) and not math.isfinite(v):
            raise ArgumentError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if step == 0:
        raise ArgumentError("arange: step must be nonzero")
    if (end - start) * step < 0:
        raise ArgumentError(
            f"arange: upper bound and lower bound inconsistent with step sign: start {start}, end {end}, step {step}"
        )
    xp = backend.xp_for(backend.normalize_device(device))
    return _make(xp.arange(start, end, step).astype(dtype), requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    xp = backend.xp_for(backend.normalize_device(device))
    steps = _count("linspace", "steps", steps)
    return _make(xp.linspace(start, end, steps).astype(_dtype(dtype)), requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """The n x m identity matrix (square when ``m`` is None)."""
    xp = backend.xp_for(backend.normalize_device(device))
    n, m = _count("eye", "n", n), None if m is None else _count("eye", "m", m)
    return _make(xp.eye(n, m, dtype=_dtype(dtype)), requires_grad)


def empty_tensor(shape, dtype=None, device=None) -> Tensor:
    """An uninitialized tensor (what layers allocate before their init fills it)."""
    xp, shape, dt = backend.xp_for(backend.normalize_device(device)), _size("empty", shape), _dtype(dtype)
    return Tensor._wrap(_allocate("empty", shape, dt, lambda: xp.empty(shape, dtype=dt)))


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor with uninitialized values."""
    return _make(empty_tensor(size, dtype, device).array, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed minigrad's random generators (every device) so runs repeat bit for bit."""
    backend.manual_seed(seed)


def _random(op, draw, size, dtype, device, requires_grad, generator=None) -> Tensor:
    dtype = _dtype(dtype)
    if dtype.kind not in "f":  # PyTorch: "normal_kernel_cpu" / "check_uniform_bounds" not implemented for 'Long'
        raise DTypeError(f"{op}: samples a floating-point dtype, got {dtype}")
    device = backend.normalize_device(device)
    draw_dtype = dtype if dtype in (np.float32, np.float64) else np.float64
    gen, shape = rng_for(op, generator, device), _size(op, size)
    array = _allocate(op, shape, dtype, lambda: draw(gen, shape, draw_dtype).astype(dtype, copy=False))
    return _make(array, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1), from ``generator`` (a :class:`minigrad.Generator`) or the device's default."""
    return _random(
        "rand", lambda gen, shape, dt: gen.random(shape, dtype=dt), size, dtype, device, requires_grad, generator
    )


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples, from ``generator`` (a :class:`minigrad.Generator`) or the device's default."""
    return _random(
        "randn",
        lambda gen, shape, dt: gen.standard_normal(shape, dtype=dt),
        size,
        dtype,
        device,
        requires_grad,
        generator,
    )


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples on [0, 1) with the shape (and, unless given, dtype and device) of ``input``."""
    return rand(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                device=input.device if device is None else device, requires_grad=requires_grad)  # fmt: skip


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples with the shape (and, unless given, dtype and device) of ``input``.

    The reparameterisation trick of a VAE, ``mu + std * randn_like(std)``: the noise is a constant,
    the gradient flows through ``mu`` and ``std``.
    """
    return randn(input.shape, generator=generator, dtype=input.dtype if dtype is None else dtype,
                 device=input.device if device is None else device, requires_grad=requires_grad)  # fmt: skip


def randint(low, high=None, size=(), *, generator=None, dtype=None, device=None) -> Tensor:
    """Integers drawn uniformly from [low, high) (int64 unless ``dtype`` is given).

    As PyTorch: ``randint(high, size)``, ``randint(high, size=size)`` or ``randint(low, high, size)``;
    from ``generator`` (a :class:`minigrad.Generator`) or the device's default.
    """
    if isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if not low < high:
        raise ArgumentError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    device, shape = backend.normalize_device(device), _size("randint", size)
    gen, dt = rng_for("randint", generator, device), np.dtype(np.int64 if dtype is None else dtype)
    return Tensor._wrap(_allocate("randint", shape, dt, lambda: gen.integers(low, high, size=shape).astype(dt)))


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype`` says otherwise), from ``generator`` or the
    device's default. ``requires_grad`` needs a floating-point dtype, as in PyTorch."""
    n = _count("randperm", "n", n)
    dt = np.dtype(np.int64 if dtype is None else dtype)
    if requires_grad and dt.kind != "f":
        raise DTypeError(f"randperm: only floating-point tensors can require gradients, got dtype {dt}")
    device = backend.normalize_device(device)
    gen = rng_for("randperm", generator, device)
    return _make(_allocate("randperm", (n,), dt, lambda: gen.permutation(n).astype(dt)), requires_grad)

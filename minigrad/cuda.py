"""``minigrad.cuda``: the GPU's status, as ``torch.cuda`` spells it.

CuPy launches kernels asynchronously: a call returns once its work is queued.
Time a step on the GPU by calling :func:`synchronize` before reading the clock.
"""

from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy imports and sees at least one GPU."""
    return backend.cuda_is_available()


def device_count() -> int:
    """How many GPUs CuPy sees (0 without CuPy or a driver)."""
    if not backend.cuda_is_available():
        return 0
    return backend.xp_for("cuda").cuda.runtime.getDeviceCount()


def synchronize() -> None:
    """Wait until every kernel queued on the current GPU has finished (no-op without a GPU)."""
    if backend.cuda_is_available():
        backend.xp_for("cuda").cuda.Device().synchronize()

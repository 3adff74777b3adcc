"""glibc's malloc, set at import to keep a training step's freed memory for the next step.

A training step allocates the same arrays every step (activations, im2col
columns, gradients: megabytes each) and frees them at its end. glibc's malloc
serves blocks above its *mmap threshold* (128 KiB at start) with fresh
``mmap`` calls and returns the top of its heap to the system whenever more than
its *trim threshold* (128 KiB) is free there; either way the next step gets
new pages from the kernel and takes a page fault on each 4 KiB of them. glibc
raises both thresholds by itself, but only after it has freed one large
mmapped block (the mmap threshold to that block's size, at most 32 MiB on
64-bit systems; the trim threshold to twice that), so a step's speed depended
on what the process had happened to free before.

Measured on the small CNN step of ``benchmarks/conv_step.py`` (2 cores,
each run alone): ~3,700 page faults per step and 14 ms by default, none and
7 ms with the settings below; the single large conv2d step of the same
script, which frees 29 MB blocks, and the MLP step do not get slower.

So at import, on glibc, minigrad fixes what glibc's adaptive rule would reach:

* ``M_MMAP_THRESHOLD`` = 32 MiB, the ceiling of glibc's own adaptive rule:
  blocks up to that size come from the heap;
* ``M_TRIM_THRESHOLD`` = 128 MiB: up to that much free memory at the top of the
  heap is kept for reuse instead of being returned (a step's temporaries, the
  conv2d benchmark's ~70 MB among them). The cost is resident memory: a process
  may hold up to 128 MiB it has freed; ``malloc_trim(0)`` from libc returns it.

Nothing is changed when the C library is not glibc (macOS, Windows, musl),
or when the user has chosen malloc settings (any of glibc's ``MALLOC_*_``
variables, or malloc tunables in ``GLIBC_TUNABLES``): theirs win. The setting
is process-wide, as every malloc setting is.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 128 * 2**20
_USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def _user_has_chosen() -> bool:
    """True when the environment already sets glibc's malloc thresholds."""
    return any(name in os.environ for name in _USER_VARIABLES) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", ""
    )


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds as the module docstring says; True when they were set."""
    if not sys.platform.startswith("linux") or _user_has_chosen():
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it; musl's mallopt does nothing  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

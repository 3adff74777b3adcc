"""glibc's malloc thresholds, fixed on request so that a training step's freed memory serves the next step.

A training step allocates the same arrays every step (activations, im2col
columns, gradients: megabytes each) and frees them at its end. glibc's malloc
serves blocks above its *mmap threshold* (128 KiB at start) with fresh
``mmap`` calls and returns the top of its heap to the system whenever more than
its *trim threshold* (128 KiB) is free there; either way the next step gets
new pages from the kernel and takes a page fault on each 4 KiB of them. glibc
raises both thresholds by itself, but only after it has freed one large
mmapped block (the mmap threshold to that block's size, at most 32 MiB on
64-bit systems; the trim threshold to twice that), so a step's speed depends
on what the process happened to free before, and a step whose temporaries
add up to more than twice its largest block gives its heap back every time.

:func:`tune_malloc` fixes what glibc's adaptive rule would reach:

* ``M_MMAP_THRESHOLD`` = 32 MiB, the ceiling of glibc's own adaptive rule:
  blocks up to that size come from the heap;
* ``M_TRIM_THRESHOLD`` = 128 MiB: up to that much free memory at the top of the
  heap is kept for reuse instead of being returned.

The cost is resident memory, for the whole process: it may hold up to
128 MiB it has freed (``malloc_trim(0)`` from libc returns it), and glibc's
thresholds stop adapting. That is a choice for the program that owns the
process, so ``import minigrad`` makes it only when asked: the ``minigrad``
command, the examples and the benchmarks call :func:`tune_malloc`; a user's
training script may call it too. minigrad's convolutions do not need it: they
take their large arrays from a pool that reuses them (see
:func:`minigrad.backend.empty`), so a library user who never calls it keeps
their speed.

The environment variable ``MINIGRAD_TUNE_MALLOC`` decides without code:

* unset or empty: ``import minigrad`` leaves malloc alone; :func:`tune_malloc`
  tunes when called;
* ``1``: ``import minigrad`` calls :func:`tune_malloc` (an opt-in for scripts
  you do not want to edit);
* ``0``: :func:`tune_malloc` does nothing, wherever it is called (the
  ``minigrad`` command, the benchmarks: to see them with glibc's defaults).

Any other value raises :class:`~minigrad.errors.ArgumentError`. Nothing is
changed either when the C library is not glibc (macOS, Windows, musl) or
when the user has chosen malloc settings (any of glibc's ``MALLOC_*_``
variables, or malloc tunables in ``GLIBC_TUNABLES``): theirs win.
"""

from __future__ import annotations

import ctypes
import os
import sys

from .errors import ArgumentError

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 128 * 2**20
SWITCH = "MINIGRAD_TUNE_MALLOC"
_USER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


def _switch() -> str:
    """The value of ``MINIGRAD_TUNE_MALLOC``: "1", "0" or "" (unset). Raises ArgumentError for any other."""
    value = os.environ.get(SWITCH, "").strip()
    if value not in ("", "0", "1"):
        raise ArgumentError(f"tune_malloc: {SWITCH} must be 1 (tune at import), 0 (never tune) or unset, got {value!r}")
    return value


def _user_has_chosen() -> bool:
    """True when the environment already sets glibc's malloc thresholds."""
    return any(name in os.environ for name in _USER_VARIABLES) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", ""
    )


def tune_malloc() -> bool:
    """Fix glibc's mmap threshold (32 MiB) and trim threshold (128 MiB) for this process.

    Freed arrays of a training step then stay in the process for the next
    step instead of being returned to the system and page-faulted back in;
    the process may keep up to 128 MiB it has freed. Call it from a program
    that owns its process (a training script), not from a library. Returns
    True when the thresholds were set; False, changing nothing, off glibc,
    when a ``MALLOC_*_`` variable or a malloc tunable in ``GLIBC_TUNABLES`` is
    set (the user's settings win), or when ``MINIGRAD_TUNE_MALLOC=0``. Raises
    ArgumentError when ``MINIGRAD_TUNE_MALLOC`` is neither 0, 1 nor empty.
    See ``minigrad/_malloc.py``.
    """
    if _switch() == "0" or not sys.platform.startswith("linux") or _user_has_chosen():
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # only glibc has it; musl's mallopt does nothing  # noqa: B018
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


def tune_if_asked() -> None:
    """At import: :func:`tune_malloc` when ``MINIGRAD_TUNE_MALLOC=1``, nothing otherwise."""
    if _switch() == "1":
        tune_malloc()

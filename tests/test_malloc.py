"""glibc's malloc thresholds, set at import so that a step's freed arrays are reused (minigrad/_malloc.py)."""

import ctypes
import resource
import sys

import numpy as np
import pytest

from minigrad import _malloc


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    except OSError:
        return False


@pytest.mark.parametrize(
    "name, value",
    [("MALLOC_TRIM_THRESHOLD_", "0"), ("MALLOC_TOP_PAD_", "0"), ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0")],
)
def test_the_users_malloc_settings_win(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not _malloc.keep_freed_memory()


def test_no_change_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not _malloc.keep_freed_memory()


@pytest.mark.skipif(not _glibc() or _malloc._user_has_chosen(), reason="needs glibc and no MALLOC_* settings")
def test_freed_arrays_come_back_without_page_faults():
    assert _malloc.keep_freed_memory()
    size = 3 * 2**20 // 4  # 3 MB: above glibc's initial mmap threshold, below NumPy's huge-page size
    for _ in range(3):
        np.ones(size, np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        np.ones(size, np.float32)  # 768 pages each: 3,840 faults if the memory went back to the system
    assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 200

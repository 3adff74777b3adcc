"""glibc's malloc thresholds: set by minigrad.tune_malloc() or MINIGRAD_TUNE_MALLOC=1, never by a plain import.

The behaviour is checked in fresh processes, by what the thresholds do: a
step that frees several 3 MB arrays at once (more than twice the largest
block, as a CNN step does) gives that memory back to the system with glibc's
defaults, and takes a page fault per 4 KiB to get it again; tuned, it keeps it.
"""

import ctypes
import os
import subprocess
import sys

import pytest

from minigrad import _malloc
from minigrad.errors import ArgumentError

# Prints the page faults of three "steps" after a warm-up, then what tune_malloc() returned (None: not called).
_STEPS = """
import resource, sys
import numpy as np
import minigrad
tuned = minigrad.tune_malloc() if sys.argv[1] == "call" else None

def step():  # five 3 MB arrays alive at once (below NumPy's huge-page size), then all freed
    arrays = [np.ones(3 * 2**20 // 4, np.float32) for _ in range(5)]
    del arrays

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(3):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, tuned)
"""
_CLEAN = ("MINIGRAD_TUNE_MALLOC", "GLIBC_TUNABLES") + _malloc._USER_VARIABLES
# Settings a user may have made; each keeps glibc returning the steps' memory (a trim threshold of 128 KiB or 0).
_USER_SETTINGS = [
    ("MALLOC_TRIM_THRESHOLD_", "131072"),
    ("MALLOC_TOP_PAD_", "0"),
    ("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0"),
]
_RETURNED = 3 * 5 * 3 * 2**20 // 4096  # faults when every step gets its 15 MB from the system again: 11,520


def _glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    except OSError:
        return False


def _steps(call: bool = False, **env) -> tuple:
    """(page faults of three steps, what tune_malloc() returned or None) in a fresh process with ``env``."""
    environ = {k: v for k, v in os.environ.items() if k not in _CLEAN} | env
    out = subprocess.run(
        [sys.executable, "-c", _STEPS, "call" if call else "import"],
        env=environ, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return int(out[0]), None if out[1] == "None" else out[1] == "True"


needs_glibc = pytest.mark.skipif(not _glibc(), reason="needs glibc")


@needs_glibc
def test_import_leaves_malloc_alone():
    faults, _ = _steps()
    assert faults > _RETURNED // 2  # glibc's defaults: each step's memory went back to the system


@needs_glibc
def test_tune_malloc_keeps_freed_memory():
    faults, tuned = _steps(call=True)
    assert tuned is True
    assert faults < _RETURNED // 20


@needs_glibc
def test_the_switch_tunes_at_import():
    faults, _ = _steps(MINIGRAD_TUNE_MALLOC="1")
    assert faults < _RETURNED // 20


@needs_glibc
def test_the_switch_at_0_turns_tune_malloc_off():
    faults, tuned = _steps(call=True, MINIGRAD_TUNE_MALLOC="0")
    assert tuned is False
    assert faults > _RETURNED // 2


@needs_glibc
@pytest.mark.parametrize("name, value", _USER_SETTINGS)
def test_the_users_malloc_settings_win_in_a_process(name, value):
    faults, tuned = _steps(call=True, **{name: value, "MINIGRAD_TUNE_MALLOC": "1"})
    assert tuned is False
    assert faults > _RETURNED // 2


@pytest.mark.parametrize("name, value", _USER_SETTINGS)
def test_the_users_malloc_settings_win(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    assert not _malloc.tune_malloc()


def test_no_change_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not _malloc.tune_malloc()


def test_a_bad_switch_value_is_an_argument_error(monkeypatch):
    monkeypatch.setenv("MINIGRAD_TUNE_MALLOC", "yes")
    with pytest.raises(ArgumentError, match="MINIGRAD_TUNE_MALLOC must be 1"):
        _malloc.tune_malloc()
    with pytest.raises(ArgumentError, match="got 'yes'"):
        _malloc.tune_if_asked()

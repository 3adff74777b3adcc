"""Grad mode: whether ops record nodes in this thread (``no_grad``, ``enable_grad``, ``set_grad_enabled``).

Grad mode is a property of the current interpreter (see
:mod:`minigrad.interpreter`): entering a mode installs the interpreter that
records (or does not), keeping any monitor that watches it, and leaving it
restores the one before.
"""

from __future__ import annotations

import functools

from .interpreter import _PER_THREAD, Installs


def is_grad_enabled() -> bool:
    """True when primitives record nodes in this thread."""
    return _PER_THREAD.interpreter.grad_enabled


class _GradMode(Installs):
    """Context manager and decorator that sets grad mode for this thread."""

    enabled: bool

    def installed(self, current):
        return current.with_grad(self.enabled)


class no_grad(_GradMode):
    """Turn recording off (inference, optimizer updates). Works as ``with`` and as a decorator."""

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block. Works as ``with`` and as a decorator."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` turns recording on or off, as in PyTorch.

    It takes effect on construction, as PyTorch's does, so a bare
    ``set_grad_enabled(False)`` call switches the mode until switched back.
    """

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._previous = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = self._previous.with_grad(self.enabled)

    def __enter__(self):  # already set by the constructor; __exit__ restores
        return self

    def __call__(self, fn):
        _PER_THREAD.interpreter = self._previous
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper

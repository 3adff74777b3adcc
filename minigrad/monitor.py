"""Monitors: what watches every op in a thread (kink signatures, anomaly mode, creation sites).

A monitor is active only inside one of its contexts, :class:`record_signatures`
(gradcheck's kink detection), :class:`detect_anomaly` (PyTorch's anomaly
mode) or :class:`record_sites` (check_tape's localisation). Entering one
wraps the current interpreter in a :class:`~minigrad.interpreter.Monitored`
one whose monitor keeps the features of any monitor already active, so the
contexts nest; outside them the eager path pays nothing.
"""

from __future__ import annotations

import linecache
import os
import sys

import numpy as np

from . import backend
from .errors import AnomalyError, ArgumentError, called_op
from .interpreter import _PER_THREAD, Installs, Monitored
from .tensor import Tensor


class Monitor:
    """The features watching one thread's ops, and how many ops it has seen.

    ``recorder`` is a :class:`record_signatures` block collecting branch
    signatures (or None), ``anomaly`` checks every result for NaN and Inf,
    ``sites`` makes nodes remember the user's line that created them (anomaly
    mode needs them too, to say where a bad value came from).
    """

    __slots__ = ("recorder", "anomaly", "sites", "ops")

    def __init__(self, recorder=None, anomaly: bool = False, sites: bool = False, ops: int = 0):
        self.recorder, self.anomaly, self.ops = recorder, anomaly, ops
        self.sites = sites or anomaly

    def observe(self, op, args, params, result) -> None:
        """Called after every op: count it, record its signature, check its output, note its site."""
        self.ops += 1
        arrays = None
        if self.recorder is not None:
            self.recorder.ops += 1
            if op.signature is not None:
                arrays = _arrays(op, args)
                self.recorder.add(op.name, op.signature(*arrays, **params))
        node = result._node
        site = user_site() if self.sites and node is not None and node.site is None else None
        if site is not None:
            node.site = site
        public = called_op() if self.sites else None
        if public is not None and node is not None:
            node.public = public
        if self.anomaly:
            _check_finite(
                f"{public} (its primitive {op.name}, op {self.ops - 1}) produced"
                if public is not None and public != op.name
                else f"{op.name} (op {self.ops - 1}) produced",
                result.array,
                arrays if arrays is not None else _arrays(op, args),
                site=site or user_site(),
            )


def _arrays(op, args) -> list:
    """The arrays an op's forward saw: tensors unwrapped, lists and tuples as arrays."""
    nin = len(args) if op.nin is None else op.nin
    arrays = list(args)
    for i in range(nin):
        a = args[i]
        if isinstance(a, Tensor):
            arrays[i] = a.array
        elif isinstance(a, (list, tuple)):
            arrays[i] = np.asarray(a)
    return arrays


class _Monitoring(Installs):
    """Turns on a monitor's features for the block (``with``, or as a decorator); subclasses say which."""

    features: dict = {}

    def installed(self, current):
        inner = current.inner if isinstance(current, Monitored) else current
        return Monitored(inner, self._monitor(current.monitor))

    def _monitor(self, previous) -> Monitor:
        """A monitor with this block's features on top of those of ``previous`` (None or the active one)."""
        merged = {"recorder": None, "anomaly": False, "sites": False}
        if previous is not None:
            merged.update(recorder=previous.recorder, anomaly=previous.anomaly, sites=previous.sites)
        merged.update(self.features)
        return Monitor(**merged, ops=previous.ops if previous is not None else 0)


class record_sites(_Monitoring):
    """Inside the block every recorded node remembers the user's line that created it
    (and custom Functions the random state they ran with), for :func:`minigrad.check_tape`."""

    features = {"sites": True}


class detect_anomaly(_Monitoring):
    """Raise at the first NaN or Inf that an op produces, forward or backward (PyTorch's anomaly mode).

    Inside the block every op's output is checked, and every cotangent a
    backward computes; the error names the op, its position (the op's index
    in the block forward, its node number backward), the shapes, and the
    line of your code that created the op. Per thread; off (and free) by
    default. Use it as ``with minigrad.detect_anomaly():`` or as a decorator.
    """

    features = {"anomaly": True}


class set_detect_anomaly:
    """Turn anomaly mode on or off (``mode``), as PyTorch's ``torch.autograd.set_detect_anomaly``.

    It takes effect on construction, so a bare ``set_detect_anomaly(True)``
    call switches anomaly mode on in this thread until switched off, and
    ``with set_detect_anomaly(False):`` turns it off for a block (inside a
    :class:`detect_anomaly` block, say), restoring the previous mode on exit.
    What anomaly mode checks: see :class:`detect_anomaly`. ``check_nan`` is
    accepted for PyTorch's signature; minigrad's anomaly mode always checks
    for NaN and Inf, and ``check_nan=False`` raises ArgumentError.
    """

    def __init__(self, mode: bool, check_nan: bool = True):
        if not check_nan and mode:
            raise ArgumentError(
                "set_detect_anomaly: check_nan=False is not supported; minigrad's anomaly mode always checks "
                "results for NaN and Inf"
            )
        self.mode = bool(mode)
        self._previous = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = self._installed(self._previous)

    def _installed(self, current):
        if self.mode:
            return detect_anomaly().installed(current)
        if current.monitor is None or not current.monitor.anomaly:
            return current
        monitor = current.monitor  # anomaly on: drop it, and the creation sites it turned on
        if monitor.recorder is None:
            return current.inner  # back to the plain interpreter, which pays nothing for monitors
        return Monitored(current.inner, Monitor(recorder=monitor.recorder, ops=monitor.ops))

    def __enter__(self):  # already set by the constructor; __exit__ restores
        return self

    def __exit__(self, *exc):
        _PER_THREAD.interpreter = self._previous
        return False


class record_signatures(_Monitoring):
    """Record the branch signature of every non-smooth op run inside the block.

    A non-smooth primitive (relu, abs, clip, maximum, max, ...) declares a
    function of its inputs that says which side of each kink every element is
    on. Inside this context each such call appends ``(op_name, position,
    signature_array)`` to :attr:`log`, where ``position`` is the op's index
    among all the ops run in the block. Two evaluations whose logs differ
    crossed a kink between them; this is what :func:`minigrad.gradcheck`
    compares at x-h and x+h. Outside the context nothing is computed.
    """

    def __init__(self):
        self.log: list = []
        self.ops = 0  # ops run so far in the block
        self.features = {"recorder": self}

    def add(self, name: str, signature) -> None:
        self.log.append((name, self.ops - 1, signature))


def is_anomaly_enabled() -> bool:
    """True inside :class:`detect_anomaly` (in this thread), as ``torch.is_anomaly_enabled``."""
    monitor = _PER_THREAD.interpreter.monitor
    return monitor is not None and monitor.anomaly


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """``file:line in function: code`` of the innermost frame outside minigrad (where the user called in)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}" + (f": {code}" if code else "")


def _check_finite(what: str, value, inputs=(), site: str = "") -> None:
    """Raise AnomalyError when a floating array holds NaN or Inf."""
    if not backend.is_array(value) or value.dtype.kind not in "fc":
        return
    xp = backend.xp_of(value)
    if bool(xp.isfinite(value).all()):
        return
    kinds = [k for k, bad in (("NaN", xp.isnan(value).any()), ("Inf", xp.isinf(value).any())) if bool(bad)]
    shapes = ", ".join(str(tuple(a.shape)) for a in inputs if backend.is_array(a))
    inherited = any(
        backend.is_array(a) and a.dtype.kind in "fc" and not bool(backend.xp_of(a).isfinite(a).all()) for a in inputs
    )
    raise AnomalyError(
        f"{what} {' and '.join(kinds)} in a result of shape {tuple(value.shape)}"
        + (f" from inputs of shapes {shapes}" if shapes else "")
        + (" (its inputs already held NaN or Inf)" if inherited else "")
        + (f"; created at {site}" if site else "")
    )

"""Interpreters: what calling an op does in this thread right now.

Every primitive call is ``current_interpreter.apply(op, args, params)``, and
every custom Function call ``current_interpreter.apply_function(op, args,
params)``. The per-thread state holds exactly one current interpreter,
reached by one attribute read (``_PER_THREAD.interpreter``); the seam is
where a new way of running ops plugs in without a new flag on the hot path
(HIPS autograd's trace stack is the model):

* :data:`RAW`, inside a plain backward: bare arrays in, bare array out;
  nothing is wrapped, checked or recorded, so a backward pass costs what the
  array library costs.
* :class:`Eager`, everywhere else: unwraps tensors, checks devices, runs the
  forward, wraps the result, and -- when ``grad_enabled`` and an input
  requires grad -- records a :class:`~minigrad.tape.Node`. There are two,
  :data:`RECORDING` and :data:`NOT_RECORDING`; ``no_grad`` and friends swap
  one for the other (see :mod:`minigrad.grad_mode`).
* ``minigrad.compile``'s capturing interpreter (:mod:`minigrad.compile`),
  a wrapper around an eager one while a compiled function's first call runs:
  it runs the inner interpreter and records what each op did. Interpreters
  say whether a capture listens in their ``capture`` attribute (None on the
  plain ones), which the few places that run array code outside the ops read
  (``backward``, ``item()``, in-place updates, :func:`host_call` functions).
* :class:`Monitored`, a wrapper around an eager interpreter while a monitor
  is active (gradcheck's signature recorder, anomaly mode, check_tape's
  sites; see :mod:`minigrad.monitor`): it runs the inner interpreter, then
  shows the monitor what the op did. The eager path pays nothing for
  monitors when none is active.

Interpreters are immutable; changing mode means installing another one and
restoring the previous one afterwards, so contexts nest.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from . import backend

_SCALARS = (int, float, bool, complex, np.generic)
_new_tensor = object.__new__


class Raw:
    """Inside a plain backward: vjps run on bare arrays, so every op is just its forward."""

    __slots__ = ()
    grad_enabled = False
    monitor = None
    capture = None

    def apply(self, op, args, params):
        out = op.forward(*args, **params)
        return out[0] if op.residual else out

    def apply_function(self, op, args, params):
        return op.run(args, params, record=False).array

    def with_grad(self, enabled: bool) -> Raw:
        return self


class Eager:
    """Run ops on tensors; record a node for each when ``grad_enabled`` and an input requires grad."""

    __slots__ = ("grad_enabled",)
    monitor = None
    capture = None

    def __init__(self, grad_enabled: bool):
        self.grad_enabled = grad_enabled

    def apply(self, op, args, params):
        # This runs for every op, so it is written for speed: one pass over
        # the inputs, no helper calls on the common path.
        nin = len(args) if op.nin is None else op.nin
        arrays = list(args)
        needs = []
        parents = []  # the nodes of the inputs in needs, as they are now (see Node)
        array_type = None
        for i in range(nin):
            a = args[i]
            if isinstance(a, Tensor):
                arrays[i] = data = a.array
                if a.requires_grad:
                    needs.append(i)
                    parents.append(a._node)
                    if len(a._vc) > 1:  # an in-place op was recorded on it or an alias of it
                        check_history(op.name, a)
            elif isinstance(a, _SCALARS):
                continue
            elif isinstance(a, (list, tuple)):
                arrays[i] = data = np.asarray(a)
            else:
                data = a
            if array_type is None:
                array_type = type(data)
            elif type(data) is not array_type:
                raise op.device_error(args)
        try:
            out = op.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            raise op.error(exc, args) from exc
        residual = None
        if op.residual:
            out, residual = out
        if type(out) is not array_type:
            out = _as_output_array(out, array_type)
        result = _new_tensor(Tensor)
        result.array = out
        result.grad = None
        view = op.view
        if view and isinstance(args[0], Tensor) and (view is True or view(params)):
            result._vc = args[0]._vc
        else:
            result._vc = [0]
        if needs and self.grad_enabled and op.differentiable:
            saved = []
            for i in op.saves:  # a plain loop: comprehensions cost a function call each
                a = args[i]
                if isinstance(a, Tensor):
                    vc = a._vc
                    saved.append((vc, vc[0]))
            if op.saves_output:
                saved.append((result._vc, 0))
            result._node = Node(op, args, arrays, params, needs, parents, saved, out, result._vc, residual)
            result.requires_grad = True
        else:
            result._node = None
            result.requires_grad = False
        return result

    def apply_function(self, op, args, params):
        return op.run(args, params, record=self.grad_enabled)

    def with_grad(self, enabled: bool) -> Eager:
        return RECORDING if enabled else NOT_RECORDING


class Monitored:
    """An eager interpreter with a monitor watching every op it runs."""

    __slots__ = ("inner", "monitor", "grad_enabled")

    def __init__(self, inner, monitor):
        self.inner, self.monitor, self.grad_enabled = inner, monitor, inner.grad_enabled

    def apply(self, op, args, params):
        result = self.inner.apply(op, args, params)
        self.monitor.observe(op, args, params, result)
        return result

    def apply_function(self, op, args, params):
        rng_state = backend.get_rng_state() if self.monitor.sites else None
        result = self.inner.apply_function(op, args, params)
        if rng_state is not None and result._node is not None:
            result._node.ctx.rng_state = rng_state  # check_tape replays a stochastic forward from it
        self.monitor.observe(op, args, params, result)
        return result

    def with_grad(self, enabled: bool) -> Monitored:
        return Monitored(self.inner.with_grad(enabled), self.monitor)

    @property
    def capture(self):
        return self.inner.capture


RAW = Raw()
RECORDING = Eager(True)
NOT_RECORDING = Eager(False)


class _PerThread(threading.local):
    """Each thread's current interpreter (grad mode and monitors are per thread, as in PyTorch)."""

    def __init__(self):
        self.interpreter = RECORDING


_PER_THREAD = _PerThread()


def current():
    """This thread's current interpreter (hot paths read ``_PER_THREAD.interpreter`` directly)."""
    return _PER_THREAD.interpreter


class Installs:
    """Base of the contexts that install an interpreter for a block and restore the previous one.

    A subclass says what to install over the current interpreter
    (:meth:`installed`): grad modes, monitors, :class:`using`. Each also works
    as a decorator, entering a new instance around every call.
    """

    def installed(self, current):
        raise NotImplementedError

    def __enter__(self):
        self._previous = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = self.installed(self._previous)
        return self

    def __exit__(self, *exc):
        _PER_THREAD.interpreter = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


def host_call(fn):
    """Mark ``fn`` as array code that runs outside the ops (an optimizer's step, ``zero_grad``, gradient clipping).

    Outside a capture it is ``fn`` itself plus one attribute read. While
    ``minigrad.compile`` captures, the call is recorded as one step of the
    program (replayed by calling ``fn`` again with the same arguments), so
    what it does to arrays is replayed exactly instead of being left out.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        capture = _PER_THREAD.interpreter.capture
        if capture is None:
            return fn(*args, **kwargs)
        return capture.host(fn, args, kwargs)

    return wrapper


class using(Installs):
    """``with using(interpreter):`` runs the block's ops with ``interpreter``."""

    def __init__(self, interpreter):
        self.interpreter = interpreter

    def installed(self, current):
        return self.interpreter


def _as_output_array(out, array_type):
    """A forward's result as an array of the inputs' kind (NumPy reductions may return scalars)."""
    if backend.is_array(out):
        return out
    return backend.xp_of_type(array_type).asarray(out)


from .tape import Node, check_history  # noqa: E402  (the tape and Tensor read this module's thread state)
from .tensor import Tensor  # noqa: E402

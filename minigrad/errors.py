"""Every error minigrad raises on purpose, in one place.

Each class subclasses the built-in exception a Python user would expect
(``ValueError`` for bad shapes, ``TypeError`` for bad dtypes, ``RuntimeError``
for graph and device problems), so ``except ValueError`` keeps working, while
``except minigrad.MinigradError`` catches exactly the errors minigrad raised.
Messages name the operation and the shapes, dtypes or devices involved.
"""

import functools
import threading
from collections.abc import Callable


class MinigradError(Exception):
    """Base class of all errors raised on purpose by minigrad."""


class ShapeError(MinigradError, ValueError):
    """Shapes that do not fit: broadcasting, matmul, reshape, indexing."""


class DTypeError(MinigradError, TypeError):
    """A dtype the operation cannot take, e.g. an integer tensor asked to require grad."""


class DeviceError(MinigradError, RuntimeError):
    """Tensors on different devices in one op, or a device that is not available."""


class GraphError(MinigradError, RuntimeError):
    """Misuse of the autograd graph: backward twice through a freed graph,
    backward on a tensor that does not require grad, a saved tensor modified in place."""


class IndexOutOfRange(MinigradError, IndexError):
    """An index outside a tensor's bounds."""


class AnomalyError(MinigradError, RuntimeError):
    """In anomaly mode, an op produced NaN or Inf (forward) or a backward produced a non-finite gradient."""


class ArgumentError(MinigradError, ValueError):
    """An argument outside its allowed values: a dropout probability above 1, an unknown reduction."""


class OutOfMemory(MinigradError, MemoryError):
    """An allocation the machine cannot give (or larger than an array can address): the message names the op,
    the shape, the dtype and the bytes asked for. A MemoryError, so ``except MemoryError`` still catches it."""


class MissingDependency(MinigradError, ImportError):
    """An optional extra that a feature needs is not installed (Graphviz for drawings, mpi4py for MPI).

    The message says what to install."""


class DistributedError(MinigradError, RuntimeError):
    """Misuse of minigrad.distributed: a collective before ``init_process_group``, ranks whose tensors or
    parameters disagree in shape or dtype, a gradient reduction left unfinished."""


# --- the op the user called, for errors and anomaly reports from the primitives it is built from ---------------------

_CALLED = threading.local()


def called_op() -> str | None:
    """The outermost public op (see :func:`public_op`) running in this thread, or None outside any."""
    stack = getattr(_CALLED, "stack", None)
    return stack[0] if stack else None


def public_op(name: str) -> Callable:
    """Mark a composite function (built from other ops) as the public op ``name``, the one the user called.

    A :class:`MinigradError` raised inside it by a primitive or another composite (``silu``'s ``sigmoid``,
    ``index_add``'s ``gather_backward``) is re-raised as the same class with ``name`` in front of its message,
    ``"silu: sigmoid: ..."``, so the error names the op the user called as well as the part that refused; an
    error that already starts with ``name`` is left as it is. While it runs, :func:`called_op` returns the
    outermost such name, which anomaly mode reports next to the primitive that produced a NaN or Inf (and
    keeps on the nodes it records, for the backward's report).
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            stack = getattr(_CALLED, "stack", None)
            if stack is None:
                stack = _CALLED.stack = []
            stack.append(name)
            try:
                return fn(*args, **kwargs)
            except MinigradError as exc:
                message = str(exc)
                if message.startswith(name) and message[len(name) : len(name) + 1] in (":", " "):
                    raise  # it names the op already ("silu: ...", anomaly mode's "index_add (its primitive ...")
                raise type(exc)(f"{name}: {message}") from exc
            finally:
                stack.pop()

        return wrapper

    return decorate

"""Every error minigrad raises on purpose, in one place.

Each class subclasses the built-in exception a Python user would expect
(``ValueError`` for bad shapes, ``TypeError`` for bad dtypes, ``RuntimeError``
for graph and device problems), so ``except ValueError`` keeps working, while
``except minigrad.MinigradError`` catches exactly the errors minigrad raised.
Messages name the operation and the shapes, dtypes or devices involved.
"""


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


class MissingDependency(MinigradError, ImportError):
    """An optional extra that a feature needs is not installed (Graphviz for drawings, mpi4py for MPI).

    The message says what to install."""


class DistributedError(MinigradError, RuntimeError):
    """Misuse of minigrad.distributed: a collective before ``init_process_group``, ranks whose tensors or
    parameters disagree in shape or dtype, a gradient reduction left unfinished."""

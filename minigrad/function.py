"""Custom operations, PyTorch style: subclass :class:`Function`.

    class Cube(minigrad.Function):
        @staticmethod
        def forward(ctx, x):                # backend arrays in, an array out
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):               # arrays: one gradient per forward argument
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    y = Cube.apply(t)

``forward`` and ``backward`` work on backend arrays (NumPy or CuPy).
``backward`` returns one gradient per positional argument of ``forward``
(``None`` for those without one), each of that argument's exact shape: a
wrong shape is an error, never silently summed. A non-smooth op may define a
static ``signature(*args)`` returning an array that tells which side of its
kinks each element is on, for :func:`minigrad.gradcheck`.

Because ``backward`` works on arrays, it is not itself recorded:
``create_graph=True`` through a custom Function raises an error instead of
returning a second derivative that would be silently wrong.
"""

from __future__ import annotations

from . import backend
from .errors import DeviceError, GraphError
from .interpreter import _PER_THREAD, NOT_RECORDING, using
from .tape import Node, check_history
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved arrays and any attributes set on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep ``arrays`` for backward (available as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays


class FunctionOp:
    """A Function subclass as an op on the tape: the same interface as a primitive's.

    Every positional argument is an input (``nin`` None). The node's ``ctx``
    is the Function's context; ``rerun`` replays the forward from the random
    state it ran with when one was recorded (see :func:`minigrad.check_tape`).
    ``backward`` returns whatever arrays the user's code returns, so they are
    never taken to be fresh (``fresh_vjps``): the engine copies them into ``.grad``.
    """

    nin = None
    residual = False
    fresh_vjps = False

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__
        self.backward_name = cls.__name__ + "Backward"  # grad_fn.name(), as PyTorch names a custom Function's node
        self.signature = cls.signature
        self.declares_kinks = cls.signature is not None

    def run(self, args, params, record: bool) -> Tensor:
        """Run the user's forward on the arrays of ``args``; record a node when ``record`` and a gradient is needed."""
        arrays = [a.array if isinstance(a, Tensor) else a for a in args]
        devices = {backend.device_of(a) for a in arrays if backend.is_array(a)}
        if len(devices) > 1:
            raise DeviceError(f"{self.name}: all inputs must be on one device, got {sorted(devices)}")
        needs = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        for i in needs:
            check_history(self.name, args[i])
        ctx = FunctionCtx(tuple(i in needs for i in range(len(args))))
        out = self.cls.forward(ctx, *arrays, **params)
        if not backend.is_array(out):
            out = backend.xp_of_type(type(arrays[0]) if arrays and backend.is_array(arrays[0]) else None).asarray(out)
        result = Tensor._wrap(out)
        if needs and record:
            saved = [
                (a._vc, a._vc[0])
                for a in args
                if isinstance(a, Tensor) and any(s is a.array for s in ctx.saved_tensors)
            ]
            parents = [args[i]._node for i in needs]
            result._node = Node(self, args, arrays, params, needs, parents, saved, out, result._vc, ctx)
            result.requires_grad = True
        return result

    def rerun(self, node, *inputs):
        """The Function again on ``inputs``, with the node's settings and the random state its forward saw."""
        rng_state = getattr(node.ctx, "rng_state", None)
        if rng_state is not None:
            backend.set_rng_state(rng_state)
        return self.cls.apply(*inputs, **node.params)

    def vjp(self, node, g, raw: bool):
        if not raw:
            raise GraphError(
                f"{self.name}: create_graph=True cannot differentiate a custom Function's backward, "
                "which works on arrays; write the op with minigrad primitives to get higher derivatives"
            )
        with using(NOT_RECORDING):  # the user's code runs with minigrad in its ordinary mode, recording nothing
            grads = self.cls.backward(node.ctx, g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(node.inputs):
            raise GraphError(
                f"{self.name}.backward returned {len(grads)} gradients for {len(node.inputs)} forward arguments"
            )
        results = []
        for i in node.needs:
            gi = grads[i]
            if gi is None:
                results.append(None)
                continue
            if isinstance(gi, Tensor):
                gi = gi.array
            expected = node.inputs[i].shape
            if tuple(gi.shape) != tuple(expected):
                raise GraphError(
                    f"{self.name}.backward returned a gradient of shape {tuple(gi.shape)} for argument {i}, "
                    f"whose shape is {tuple(expected)} (a broadcast input needs its gradient summed back)"
                )
            results.append(gi)
        return results

    def __repr__(self) -> str:
        return f"<function op {self.name}>"


class Function:
    """Base class of custom differentiable operations; see the module docstring."""

    signature = None

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grad_outputs)")

    @classmethod
    def apply(cls, *args, **kwargs) -> Tensor:
        """Run ``forward`` on the arrays of ``args`` and record the op when a gradient is needed."""
        op = cls.__dict__.get("_op")
        if op is None:
            op = cls._op = FunctionOp(cls)
        return _PER_THREAD.interpreter.apply_function(op, args, kwargs)

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
from .autograd import Node, check_history, modes, user_site
from .errors import GraphError
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved arrays and any attributes set on it."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep ``arrays`` for backward (available as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays


class _FunctionOp:
    """Adapts a Function subclass to the node interface (``name``, ``vjp``)."""

    saves_output = False

    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__

    def vjp(self, node, g, raw: bool):
        if not raw:
            raise GraphError(
                f"{self.name}: create_graph=True cannot differentiate a custom Function's backward, "
                "which works on arrays; write the op with minigrad primitives to get higher derivatives"
            )
        with _user_code():
            grads = self.cls.backward(node.ctx, g)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(node.args):
            raise GraphError(
                f"{self.name}.backward returned {len(grads)} gradients for {len(node.args)} forward arguments"
            )
        results = []
        for i in node.needs:
            gi = grads[i]
            if gi is None:
                results.append(None)
                continue
            if isinstance(gi, Tensor):
                gi = gi.data
            expected = node.args[i].shape
            if tuple(gi.shape) != tuple(expected):
                raise GraphError(
                    f"{self.name}.backward returned a gradient of shape {tuple(gi.shape)} for argument {i}, "
                    f"whose shape is {tuple(expected)} (a broadcast input needs its gradient summed back)"
                )
            results.append(gi)
        return results


class _user_code:
    """Run a user's backward with minigrad in its ordinary mode (ops give tensors, nothing recorded)."""

    def __enter__(self):
        state = self._state = modes()
        self._previous = (state.grad_enabled, state.raw)
        state.grad_enabled, state.raw = False, False

    def __exit__(self, *exc):
        self._state.grad_enabled, self._state.raw = self._previous
        return False


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
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        devices = {backend.device_of(a) for a in arrays if backend.is_array(a)}
        if len(devices) > 1:
            from .errors import DeviceError

            raise DeviceError(f"{cls.__name__}: all inputs must be on one device, got {sorted(devices)}")
        needs = tuple(i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad)
        for i in needs:
            check_history(cls.__name__, args[i])
        ctx = FunctionCtx(tuple(i in needs for i in range(len(args))))
        monitor = modes().monitor
        if monitor is not None and monitor.sites:  # check_tape replays a stochastic forward from here
            ctx.rng_state = backend.get_rng_state()
        out = cls.forward(ctx, *arrays, **kwargs)
        if not backend.is_array(out):
            out = backend.xp_of_type(type(arrays[0]) if arrays and backend.is_array(arrays[0]) else None).asarray(out)
        if monitor is not None:  # gradcheck's signature recorder or anomaly mode
            monitor.observe(cls.__name__, cls.signature, arrays, kwargs, out)
        result = Tensor._wrap(out)
        if needs and modes().grad_enabled:
            op = cls.__dict__.get("_op") or _FunctionOp(cls)
            cls._op = op
            saved = [
                (a._vc, a._vc[0]) for a in args if isinstance(a, Tensor) and any(s is a.data for s in ctx.saved_tensors)
            ]
            result._node = Node(op, args, arrays, kwargs, needs, saved, out, result._vc, ctx=ctx)
            if monitor is not None and monitor.sites:
                result._node.site = user_site()
            result.requires_grad = True
        return result

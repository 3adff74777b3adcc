"""Primitives: a forward on arrays plus one vector-Jacobian product per input.

A primitive is written as a plain function on backend arrays (its forward)
and decorated; its vjps are attached one per differentiable input, written
with minigrad's own ops, so that ``create_graph=True`` differentiates the
backward pass too:

    @primitive(saves_output=True)
    def exp(x):
        return xp_of(x).exp(x)

    exp.defvjp(lambda g, ans, x: g * ans)      # d e^x / dx = e^x

A vjp receives the cotangent ``g`` of the output, the output ``ans`` (when
``saves_output`` is set, else None; or the forward's residual, see
:class:`Primitive`) and the call's own arguments. It runs in
two modes (see :func:`minigrad.autograd.run_backward`): on bare arrays in a
plain backward, on tensors under ``create_graph=True``. So a vjp uses only
operators, minigrad functions and what arrays and tensors share (``shape``,
``ndim``, ``dtype``), and works unchanged in both. Results whose shape differs
from the input's shape (broadcasting) are summed back to it here, once, for
every primitive.

Calling the primitive unwraps tensors to arrays, checks devices, runs the
forward, and records a :class:`~minigrad.autograd.Node` only when grad mode is
on and some input requires grad. Errors from the array library are re-raised
as minigrad errors that name the op and the input shapes and dtypes.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from . import backend
from .autograd import _PER_THREAD, Node, check_history, user_site
from .errors import ArgumentError, DeviceError, DTypeError, IndexOutOfRange, MinigradError, ShapeError
from .tensor import Tensor


class Primitive:
    """A differentiable operation; see the module docstring.

    The inputs are the forward's positional parameters without a default
    (tensors or constants); a forward with ``*arrays`` takes every
    positional argument as an input (concatenate, stack). The others, with
    defaults or after ``*``, are settings. ``name`` is the op's name in
    errors and tapes (the forward's own name by default). ``saves`` lists the inputs whose *values* the
    vjps read: their version counters are checked before backward, so an
    in-place change raises instead of giving a wrong gradient.
    ``differentiable=False`` marks ops with no gradient (comparisons, argmax):
    they never record. ``view`` marks ops whose output can share its first
    input's memory (reshape, permute, broadcast, basic indexing; or a
    predicate on the call's parameters): the output shares the input's
    version counter, so an in-place change through either one is seen by
    every node that saved the other, as PyTorch does for views.
    ``signature``, for non-smooth ops, maps the forward's arguments to an
    array that says on which side of each kink every element lies.
    ``residual=True`` lets the forward return ``(out, residual)``: what the
    vjps would otherwise recompute (cross-entropy keeps its log-softmax and
    one-hot targets). The node keeps it until backward, and the vjps get it as
    ``ans`` in a plain backward. In a recorded backward (``create_graph=True``)
    they get None instead and recompute it from the input tensors, so that
    the recomputation is differentiated too.
    """

    def __init__(
        self,
        forward,
        *,
        name=None,
        saves=(),
        saves_output=False,
        signature=None,
        differentiable=True,
        view=False,
        residual=False,
    ):
        functools.update_wrapper(self, forward)
        self.differentiable = differentiable
        self.view = view
        self.forward = forward
        self.name = name or forward.__name__
        self.nin = _count_inputs(forward)
        self.saves = tuple(saves)
        self.saves_output = saves_output
        self.signature = signature
        if residual and saves_output:
            raise ValueError(f"{self.name}: a primitive either saves its output or keeps a residual, not both")
        self.residual = residual
        self.vjps = None
        self.vjp_variadic = None

    def defvjp(self, *vjps):
        """Attach one vjp per input: ``vjp(g, ans, *args, **params) -> cotangent``."""
        self.vjps = vjps
        return self

    def defvjp_variadic(self, vjp):
        """Attach one vjp for all inputs of a variadic op: ``vjp(i, g, ans, *args, **params)``."""
        self.vjp_variadic = vjp
        return vjp

    def __repr__(self) -> str:
        return f"<primitive {self.name}>"

    def __call__(self, *args, **params):
        # This runs for every op, so it is written for speed: one pass over
        # the inputs, no helper calls on the common path.
        state = _PER_THREAD.modes
        if state.raw:  # inside a plain backward: bare arrays in, bare array out
            if self.residual:
                return self.forward(*args, **params)[0]
            return self.forward(*args, **params)
        nin = len(args) if self.nin is None else self.nin
        arrays = list(args)
        needs = []
        parents = []  # the nodes of the inputs in needs, as they are now (see Node)
        array_type = None
        for i in range(nin):
            a = args[i]
            if isinstance(a, Tensor):
                arrays[i] = data = a.data
                if a.requires_grad:
                    needs.append(i)
                    parents.append(a._node)
                    if len(a._vc) > 1:  # an in-place op was recorded on it or an alias of it
                        check_history(self.name, a)
            elif isinstance(a, _SCALARS):
                continue
            elif isinstance(a, (list, tuple)):
                arrays[i] = data = np.asarray(a)
            else:
                data = a
            if array_type is None:
                array_type = type(data)
            elif type(data) is not array_type:
                raise self._device_error(args)
        try:
            out = self.forward(*arrays, **params)
        except (ValueError, TypeError, IndexError, OverflowError) as exc:
            raise self._error(exc, args) from exc
        residual = None
        if self.residual:
            out, residual = out
        if type(out) is not array_type:
            out = _as_output_array(out, array_type)
        monitor = state.monitor
        if monitor is not None:  # gradcheck's signature recorder or anomaly mode
            monitor.observe(self.name, self.signature, arrays, params, out)
        result = _new_tensor(Tensor)
        result.data = out
        result.grad = None
        view = self.view
        if view and isinstance(args[0], Tensor) and (view is True or view(params)):
            result._vc = args[0]._vc
        else:
            result._vc = [0]
        if needs and self.differentiable and state.grad_enabled:
            saved = []
            for i in self.saves:  # a plain loop: comprehensions cost a function call each
                a = args[i]
                if isinstance(a, Tensor):
                    vc = a._vc
                    saved.append((vc, vc[0]))
            if self.saves_output:
                saved.append((result._vc, 0))
            result._node = node = Node(self, args, arrays, params, needs, saved, out, result._vc, residual, parents)
            if monitor is not None and monitor.sites:
                node.site = user_site()
            result.requires_grad = True
        else:
            result._node = None
            result.requires_grad = False
        return result

    def vjp(self, node, g, raw: bool):
        """Cotangents of the inputs in ``node.needs``, each of its input's shape.

        With ``raw`` the vjps get bare arrays (a plain backward); otherwise
        tensors, and their work is recorded (``create_graph=True``).
        """
        if raw:
            args = node.arrays
            ans = node.ctx if self.residual else node.out_data
        else:
            args = node.args
            ans = node.output() if self.saves_output else None
        params = node.params
        grads = []
        for i in node.needs:
            if self.vjp_variadic is not None:
                gi = self.vjp_variadic(i, g, ans, *args, **params)
            elif self.vjps[i] is None:  # an input the op does not differentiate (where's condition)
                grads.append(None)
                continue
            else:
                gi = self.vjps[i](g, ans, *args, **params)
            shape = args[i].shape
            if gi.shape != shape:
                gi = unbroadcast(gi, shape)
            grads.append(gi)
        return grads

    def _device_error(self, args) -> MinigradError:
        """The error for inputs of different kinds: arrays of two devices, or something that is no array at all."""
        nin = len(args) if self.nin is None else self.nin
        for a in args[:nin]:
            if not (isinstance(a, (Tensor, list, tuple) + _SCALARS) or backend.is_array(a)):
                described = ", ".join(describe(b) for b in args[:nin])
                return DTypeError(
                    f"{self.name}: an input of type {type(a).__name__} is neither a tensor, an array nor a number "
                    f"(inputs: {described})"
                )
        devices = [
            backend.device_of(a.data if isinstance(a, Tensor) else a)
            for a in args
            if isinstance(a, Tensor) or backend.is_array(a)
        ]
        return DeviceError(
            f"{self.name}: all inputs must be on one device, got {', '.join(devices)}; move them with .to(device)"
        )

    def _error(self, exc: Exception, args) -> Exception:
        described = ", ".join(describe(a) for a in args)
        text = str(exc)
        if text.startswith(f"{self.name}: "):  # NumPy's own message may already name the op
            text = text[len(self.name) + 2 :]
        message = f"{self.name}: {text} (inputs: {described})"
        if isinstance(exc, MinigradError):  # raised on purpose inside a forward: keep its class
            return type(exc)(message)
        if isinstance(exc, IndexError):
            return IndexOutOfRange(message)
        if isinstance(exc, OverflowError):  # a Python int or inf that the integer dtype cannot hold
            return DTypeError(message)
        if "broadcast" in text or "shape" in text:
            return ShapeError(message)
        if isinstance(exc, TypeError) or "dtype" in text or "cast" in text:
            return DTypeError(message)
        if "convert" in text:  # a value the dtype cannot take ('could not convert string to float')
            return ArgumentError(message)
        return ShapeError(message)


def _count_inputs(forward) -> int | None:
    """The number of inputs a forward takes: its positional parameters without a default (None for ``*args``)."""
    count = 0
    for p in inspect.signature(forward).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
    return count


_SCALARS = (int, float, bool, complex, np.generic)
_new_tensor = object.__new__


def _as_output_array(out, array_type):
    """A forward's result as an array of the inputs' kind (NumPy reductions may return scalars)."""
    if backend.is_array(out):
        return out
    return backend.xp_of_type(array_type).asarray(out)


def describe(value) -> str:
    """A short description of an argument for error messages: shape and dtype for arrays."""
    if isinstance(value, Tensor) or backend.is_array(value):
        return f"{'tensor' if isinstance(value, Tensor) else 'array'} {tuple(value.shape)} {value.dtype}"
    return repr(value) if len(repr(value)) < 40 else type(value).__name__


def primitive(forward=None, **options):
    """Decorator that turns a forward on arrays into a :class:`Primitive`."""
    if forward is None:
        return lambda f: Primitive(f, **options)
    return Primitive(forward, **options)


_sum_to = None


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape``: the vjp of broadcasting ``shape`` up to ``g.shape``."""
    global _sum_to
    if _sum_to is None:  # the ops import this module, so the link is made on first use
        from .ops.reduction import sum_to

        _sum_to = sum_to
    return _sum_to(g, shape)

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
two modes (see :mod:`minigrad.engine`): on bare arrays in a
plain backward, on tensors under ``create_graph=True``. So a vjp uses only
operators, minigrad functions and what arrays and tensors share (``shape``,
``ndim``, ``dtype``), and works unchanged in both. Results whose shape differs
from the input's shape (broadcasting) are summed back to it here, once, for
every primitive.

Calling the primitive hands it to the thread's current interpreter (see
:mod:`minigrad.interpreter`), which unwraps tensors to arrays, checks devices,
runs the forward, and records a :class:`~minigrad.tape.Node` only when grad
mode is on and some input requires grad. Errors from the array library are
re-raised as minigrad errors that name the op and the input shapes and dtypes
(:meth:`Primitive.error`).
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from . import backend
from .errors import DeviceError, DTypeError, IndexOutOfRange, MinigradError, ShapeError
from .interpreter import _PER_THREAD
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

    What every op on the tape offers, primitives and custom Functions alike:
    ``name``, ``vjp(node, g, raw)``, ``rerun(node, *inputs)``, ``signature``,
    ``declares_kinks`` (a primitive without a signature is declared smooth)
    and ``fresh_vjps`` (a vjp returns either one of the arrays it was given,
    or a view of one, or a new array: see :func:`minigrad.engine._fresh`).
    """

    declares_kinks = True
    fresh_vjps = True

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
        return _PER_THREAD.interpreter.apply(self, args, params)

    def rerun(self, node, *inputs):
        """This op again, on ``inputs`` instead of the node's, with the node's settings (for check_tape)."""
        return self(*inputs, **node.params)

    def vjp(self, node, g, raw: bool):
        """Cotangents of the inputs in ``node.needs``, each of its input's shape.

        With ``raw`` the vjps get bare arrays (a plain backward); otherwise
        tensors, and their work is recorded (``create_graph=True``).
        """
        if raw:
            args = node.arrays
            ans = node.ctx if self.residual else node.out_data
        else:
            args = node.inputs
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

    def device_error(self, args) -> MinigradError:
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
            backend.device_of(a.array if isinstance(a, Tensor) else a)
            for a in args
            if isinstance(a, Tensor) or backend.is_array(a)
        ]
        return DeviceError(
            f"{self.name}: all inputs must be on one device, got {', '.join(devices)}; move them with .to(device)"
        )

    def error(self, exc: Exception, args) -> Exception:
        """The array library's exception from this op's forward as a minigrad error naming the op and its inputs.

        The class follows the exception's type, never its text: an op raises a
        minigrad error itself where it knows better (a value it cannot take, a
        shape it checks), and that class is kept. Otherwise an IndexError is an
        index out of range, a TypeError or OverflowError a dtype the op cannot
        take (an integer too large for it), and a ValueError shapes that do not
        fit (broadcasting, matmul, reshape, concatenation).
        """
        described = ", ".join(describe(a) for a in args)
        text = str(exc)
        if text.startswith(f"{self.name}: "):  # the op's own message already names it
            text = text[len(self.name) + 2 :]
        message = f"{self.name}: {text} (inputs: {described})"
        if isinstance(exc, MinigradError):  # raised on purpose inside a forward: keep its class
            return type(exc)(message)
        if isinstance(exc, IndexError):
            return IndexOutOfRange(message)
        if isinstance(exc, (TypeError, OverflowError)):
            return DTypeError(message)
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

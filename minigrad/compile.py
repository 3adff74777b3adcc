"""``minigrad.compile``: capture a step once, then replay it as a flat program over arrays.

The first call of a compiled function runs it eagerly, exactly as without
``compile``, under a *capturing* interpreter (see :mod:`minigrad.interpreter`):
every primitive forward, every vjp of the backward, the sums of cotangents,
the writes into ``.grad`` and the calls marked :func:`~minigrad.interpreter.host_call`
(an optimizer's ``step`` and ``zero_grad``) are recorded as a static program,
a flat list of instructions

    (callable, argument template, argument slots, params, output slots)

over a register file of arrays. Slots are filled at each replay from the
call's tensor arguments and from the *live* arrays of the other tensors the
capture read (parameters, buffers), so a replay updates them in place and
``state_dict()`` sees the result. A later call whose guards match (the
arguments' structure, shapes, dtypes, devices and requires_grad, grad mode,
the training flags and parameters of the modules the function can reach,
and the optimizers' parameters) replays the program under the raw
interpreter: no Tensor or Node objects, one Python loop. A miss captures
again (up to :data:`CACHE_SIZE_LIMIT` programs per function, then eagerly, as
PyTorch) and warns once naming the guard.

What the program keeps live: the optimizer's update is replayed by calling
``step()`` itself (SGD, Adam and AdamW by calling ``_step_into``, the same
arithmetic with every temporary in a scratch buffer), so learning rates and
other hyperparameters are read at every replay (schedulers keep working) and
its state arrays are the ones in ``optimizer.state``; random ops (dropout) draw from minigrad's generator
inside their forward, so a replay draws the numbers an eager step would.

What a capture refuses, with :class:`CaptureError` naming the line (or, with
``fullgraph=False``, by running the rest of the call and later calls with
the same guards eagerly, after one warning): reading a value into Python
(``item()``, ``bool()``, ``float()``, ``numpy()``, ``if loss > x``), ops whose
output shape depends on values (``nonzero``, ``masked_select``, ``unique``),
in-place updates of tensors, hooks, custom Functions, ``create_graph=True``,
:func:`minigrad.grad`, random numbers drawn outside an op, raw arrays computed
outside the ops, and a result whose graph is still live (a backward must
happen inside the function). Replay never silently runs a different
computation from eager: what it cannot record, it refuses.
"""

from __future__ import annotations

import builtins
import dis
import functools
import types
import warnings
import weakref

import numpy as np

from . import backend
from . import engine as _engine
from .errors import GraphError
from .interpreter import _PER_THREAD, RAW, Eager, Monitored, _as_output_array
from .monitor import user_site
from .primitive import Primitive
from .tape import LEAF_HOOKS, NODE_HOOKS, POST_ACCUMULATE_HOOKS, collect
from .tensor import Tensor, _as_array

CACHE_SIZE_LIMIT = 8  # programs kept per compiled function, as torch._dynamo's recompile_limit

_SCALARS = (int, float, bool, complex, np.generic)


class CaptureError(GraphError):
    """``minigrad.compile`` met something it cannot record; the message names it and the line that did it."""


class _Capturing:
    """The interpreter installed while a capture runs: the eager interpreter inside, recording every op it runs."""

    __slots__ = ("inner", "recorder", "grad_enabled", "monitor")

    def __init__(self, inner, recorder):
        self.inner, self.recorder = inner, recorder
        self.grad_enabled, self.monitor = inner.grad_enabled, inner.monitor

    @property
    def capture(self):
        recorder = self.recorder
        return None if recorder.broken is not None else recorder

    def apply(self, op, args, params):
        recorder = self.recorder
        if recorder.broken is None and type(op).vjp is not Primitive.vjp:  # the replay records the per-input vjps
            recorder.refuse(f"the primitive {op.name}, which defines its own vjp method")
        if recorder.broken is not None:
            return self.inner.apply(op, args, params)
        recorder.in_op += 1
        try:
            result = self.inner.apply(op, args, params)
        finally:
            recorder.in_op -= 1
        recorder.record_op(op, args, params, result)
        return result

    def apply_function(self, op, args, params):
        if self.recorder.broken is None:
            self.recorder.refuse(f"the custom Function {op.name}")
        return self.inner.apply_function(op, args, params)

    def with_grad(self, enabled: bool) -> _Capturing:
        return _Capturing(self.inner.with_grad(enabled), self.recorder)


class _WatchedGenerator:
    """A backend generator during a capture: draws inside an op's forward pass through, others are refused."""

    def __init__(self, gen, recorder):
        self._gen, self._recorder = gen, recorder

    def __getattr__(self, name):
        value = getattr(self._gen, name)
        recorder = self._recorder
        if callable(value) and recorder.in_op == 0 and recorder.broken is None:
            recorder.refuse(f"random numbers drawn outside an op (generator.{name}); use minigrad's random ops")
        return value


class _Recorder:
    """What one capture has seen so far: slots, their capture-time arrays, and the instructions."""

    def __init__(self, fullgraph: bool, fn_name: str, args: list):
        self.fullgraph = fullgraph
        self.fn_name = fn_name
        self.broken = None  # the reason, once a fullgraph=False capture gave up
        self.in_op = 0  # > 0 while an op's forward runs (random draws are allowed there)
        self.values: list = []  # slot -> the array it held at capture (kept alive, so ids stay unique)
        self.slots: dict = {}  # id(array) -> slot
        self.versions: dict = {}  # slot -> (version counter, version) of the tensor that made it
        self.arg_slots: list = []  # (slot, index of the argument tensor)
        self.live: list = []  # (slot, tensor): read at every replay
        self.live_ids: dict = {}  # id(tensor) -> slot
        self.code: list = []
        self.labels: list = []  # one name per instruction, for describe()
        self.nodes: dict = {}  # node -> (template, holes, out slot, residual slot)
        self.args = args
        self.program_ref = [None]
        self.arg_index = {id(t): k for k, t in enumerate(args)}
        self.aliases: list = []  # (weak reference to a tensor, argument index) that share one array
        self.reachable: dict = {}  # id(array) -> tensor the function reaches itself (set by the caller)
        for k, t in enumerate(args):
            if id(t.array) not in self.slots:
                s = self._new(t.array, t._vc)
                self.arg_slots.append((s, k))
        self.arg_of_slot = {s: k for s, k in self.arg_slots}

    # --- refusing ---------------------------------------------------------------------
    def refuse(self, what: str):
        site = user_site()
        if self.fullgraph:
            raise CaptureError(
                f"minigrad.compile cannot capture {what} in {self.fn_name}, at {site}. Move it out of the "
                "compiled function, or pass fullgraph=False to run such calls eagerly"
            )
        self.broken = f"{what}, at {site}"

    def reads_value(self, what: str) -> None:
        self.refuse(f"reading a tensor's value into Python ({what})")

    def in_place(self, op: str) -> None:
        self.refuse(f"the in-place update {op} (only add_, mul_ and div_ outside recording are captured)")

    def write(self, op: str, t: Tensor, ufunc_name: str, other, alpha) -> None:
        """An unrecorded in-place ``add_``/``mul_``/``div_`` (batch norm's running statistics): one instruction."""
        target = self.slot_of(t, op)
        holes = [(0, target)]
        template = [None, other]
        if isinstance(other, Tensor):
            holes.append((1, self.slot_of(other, op)))
            template[1] = None
        elif backend.is_array(other):
            s = self.slots.get(id(other))
            if s is None:
                self.refuse(f"{op} with a raw array computed outside minigrad's ops")
                return
            holes.append((1, s))
            template[1] = None
        live = weakref.ref(t) if id(t) in self.live_ids else None
        self.emit(_Write(ufunc_name, alpha, live), template, holes, _NO_PARAMS, (), op)
        vc = t._vc
        self.versions[target] = (vc, vc[0] + 1)  # the write's own bump: later uses see it as expected

    # --- slots ------------------------------------------------------------------------
    def constant(self, array) -> None:
        """A factory (zeros, ones, arange, ...) made ``array`` inside the function: a constant of the program."""
        if self.broken is None and id(array) not in self.slots:
            self._new(array)

    def made(self, data, array, dtype, device) -> None:
        """``Tensor(data)`` inside the function: a recorded copy when ``data`` is a value of the program, else
        a constant (Python data, or an array the program does not know: what ``.array`` code makes is unseen)."""
        if self.broken is not None:
            return
        source = data.array if isinstance(data, Tensor) else data
        s = self._array_slot(source) if backend.is_array(source) else None
        if s is None:
            self.constant(array)
            return
        out = self._new(array)
        self.emit(_Copy(dtype, device), [None], [(0, s)], _NO_PARAMS, out, "tensor")

    def finish(self) -> list:
        """The live tensors, as (slot, tensor); refuses a tensor made inside the function outside the ops."""
        live = []
        for s, ref, shape in self.live:
            t = ref()
            if t is None:
                self.refuse(
                    f"a tensor of shape {shape} made inside the function by Python code outside minigrad's ops "
                    "(a data-dependent op such as nonzero, or arithmetic on .array); make it outside and pass it in"
                )
                return []
            live.append((s, t))
        return live

    def _new(self, array, vc=None) -> int:
        s = len(self.values)
        self.values.append(array)
        self.slots[id(array)] = s
        if vc is not None:
            self.versions[s] = (vc, vc[0])
        return s

    def slot_of(self, t: Tensor, what: str) -> int:
        """The slot holding ``t``'s array: made by a recorded op, an argument, or (new) a live tensor."""
        s = self.slots.get(id(t.array))
        if s is None:
            s = self._new(t.array, t._vc)
            key, live_ids = id(t), self.live_ids
            # weak: a tensor that dies before the capture ends was made inside the function (see finish)
            self.live.append((s, weakref.ref(t, lambda _, key=key: live_ids.pop(key, None)), tuple(t.shape)))
            live_ids[key] = s
            return s
        k = self.arg_of_slot.get(s)
        if k is not None and self.args[k] is not t and id(t) not in self.arg_index:
            # another tensor sharing an argument's array (a parameter passed in): replays check it still does
            self.aliases.append((weakref.ref(t), k))
        vc, version = self.versions.get(s, (None, None))
        if vc is t._vc and vc[0] != version:
            self.refuse(f"{what} of a tensor changed in place since it was made")
        return s

    def _array_slot(self, array):
        """The slot of a bare array: one the program made, or the array of a tensor the function reaches."""
        s = self.slots.get(id(array))
        if s is None and id(array) in self.reachable:  # a global's or a buffer's array, unwrapped (an index)
            s = self.slot_of(self.reachable[id(array)], "an index")
        return s

    def _template(self, op, args, n):
        template, holes = list(args), []
        for i in range(len(args)):
            a = args[i]
            if isinstance(a, Tensor):
                holes.append((i, self.slot_of(a, op.name)))
                template[i] = None  # filled from the slot at each replay
            elif isinstance(a, _SCALARS) or a is None:
                continue
            elif i < n and isinstance(a, (list, tuple)):
                if any(isinstance(b, Tensor) for b in a):
                    self.refuse(f"{op.name} on a list of tensors")
                template[i] = np.asarray(a)
            elif backend.is_array(a):
                s = self._array_slot(a)
                if s is None:
                    self.refuse(f"{op.name} on a raw array computed outside minigrad's ops")
                    return None, None
                holes.append((i, s))
                template[i] = None
        return template, tuple(holes)

    # --- ops ----------------------------------------------------------------------------
    def record_op(self, op, args, params, result) -> None:
        if self.broken is not None:
            return
        params = self._params(op, params)
        if params is None:
            return
        n = len(args) if op.nin is None else op.nin
        template, holes = self._template(op, args, n)
        if template is None:
            return
        out = result.array
        s = self._new(out, result._vc)
        node = result._node
        rs = None
        if op.residual:
            rs = len(self.values)
            self.values.append(node.ctx if node is not None else None)
        if op.residual or out.ndim == 0:  # (out, residual), or a NumPy scalar made an array: the wrapper
            self.emit(_forward(op, type(out)), template, holes, params, (s, rs), op.name)
        else:  # ufuncs and friends return an n-d array of the inputs' kind: the forward itself
            self.emit(op.forward, template, holes, params, s, op.name)
        if node is not None:
            self.nodes[node] = (template, holes, s, rs, params)

    def _params(self, op, params):
        """The op's settings with the arrays among them (an index array) as :class:`_Slot` references."""
        if not any(_holds_array(v) for v in params.values()):
            return params
        mapped = {}
        for key, value in params.items():
            value = self._param(op, value)
            if value is _REFUSED:
                return None
            mapped[key] = value
        return mapped

    def _param(self, op, value):
        if isinstance(value, Tensor):
            return _Slot(self.slot_of(value, op.name))
        if backend.is_array(value):
            s = self._array_slot(value)
            if s is None:
                self.refuse(f"{op.name} with an array among its settings computed outside minigrad's ops")
                return _REFUSED
            return _Slot(s)
        if type(value) in (tuple, list) and any(_holds_array(v) for v in value):
            items = [self._param(op, v) for v in value]
            return _REFUSED if any(v is _REFUSED for v in items) else type(value)(items)
        return value

    def emit(self, fn, template, holes, params, outs, label: str) -> None:
        """Append one instruction; ``label`` is what :meth:`_Program.describe` calls it."""
        self.code.append((fn, template, tuple(holes), params, outs))
        self.labels.append(label)

    # --- host calls -------------------------------------------------------------------------
    def host(self, fn, args, kwargs):
        """A :func:`host_call` function called while capturing: run it with the capture paused, record the call."""
        args = tuple(list(a) if isinstance(a, (types.GeneratorType, map, filter)) else a for a in args)
        for a in (*args, *kwargs.values()):
            if isinstance(a, _CALLABLES):
                self.refuse(f"{_name(fn)} with a callable argument (a closure runs ops the program cannot see)")
                return fn(*args, **kwargs)
            if isinstance(a, Tensor) and id(a.array) in self.slots and id(a) not in self.live_ids:
                self.refuse(f"{_name(fn)} on a tensor computed inside the function")
                return fn(*args, **kwargs)
        capturing = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = _outside(capturing)
        self.in_op += 1  # its random draws are replayed with it
        try:
            result = fn(*args, **kwargs)
        finally:
            self.in_op -= 1
            _PER_THREAD.interpreter = capturing
        if self.broken is not None:
            return result
        s = None
        if isinstance(result, Tensor):
            s = self._new(result.array, result._vc)
        elif result is not None and not isinstance(result, _SCALARS):
            self.refuse(f"{_name(fn)}, which returned a {type(result).__name__}")
            return result
        replayed = _fused_step(fn, args, kwargs)
        if replayed is not None:  # an optimizer whose update has an in-place form: step() without temporaries
            self.emit(_Host(replayed, ({},), {}, self.program_ref), [], (), _NO_PARAMS, (s, None), _name(fn))
            return result
        self.emit(_Host(fn, args, kwargs, self.program_ref), [], (), _NO_PARAMS, (s, None), _name(fn))
        return result

    # --- backward ---------------------------------------------------------------------------
    def backward(self, roots, root_grads, sink, *, retain_graph: bool, create_graph: bool):
        """Tensor.backward while capturing: the engine's plain backward, each step recorded as it runs."""
        if create_graph:
            self.refuse("backward(create_graph=True)")
        elif sink is not _engine.GRAD_SINK:
            self.refuse("minigrad.grad (only .backward() is captured)")
        if self.broken is not None:
            capturing = _PER_THREAD.interpreter
            _PER_THREAD.interpreter = _outside(capturing)
            try:
                return _engine.run_backward(
                    roots, root_grads, sink, retain_graph=retain_graph, create_graph=create_graph
                )
            finally:
                _PER_THREAD.interpreter = capturing
        nodes = collect(roots)
        if (NODE_HOOKS and any(NODE_HOOKS.get(n) is not None for n in nodes)) or (
            (LEAF_HOOKS or POST_ACCUMULATE_HOOKS) and _hooked_leaf(roots, nodes)
        ):
            self.refuse("gradient hooks (register_hook, retain_grad, post-accumulate hooks)")
            return self.backward(roots, root_grads, sink, retain_graph=retain_graph, create_graph=create_graph)
        for node in nodes:
            if node not in self.nodes:
                self.refuse(f"a backward through {node.name}, recorded before the compiled function was called")
                return self.backward(roots, root_grads, sink, retain_graph=retain_graph, create_graph=create_graph)
        node_grads: dict = {}  # node -> slot of its cotangent
        leaves: dict = {}  # id(leaf) -> [leaf, slot, node that made it (or BORROWED / None for a sum), node's g slot]
        for root, g in zip(roots, root_grads):
            if id(g.array) not in self.slots and id(g) not in self.live_ids and g._node is None:
                self.constant(g.array)  # the ones that backward() made
            gs = self.slot_of(g, "backward")
            if root._node is None:
                if root.requires_grad:
                    self._to_leaf(leaves, root, gs, _engine._BORROWED, None)
            else:
                self._sum(node_grads, root._node, gs)
        previous = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = RAW
        try:
            for node in nodes:
                gs = node_grads.pop(node, None)
                if gs is None:
                    continue
                template, holes, out_slot, res_slot, params = self.nodes[node]
                outs = self._vjps(node, gs, holes, template, res_slot if node.op.residual else out_slot, params)
                for k, i in enumerate(node.needs):
                    if outs[k] is None:
                        continue
                    parent = node.parents[k]
                    if parent is None:
                        self._to_leaf(leaves, node.inputs[i], outs[k], node, gs)
                    else:
                        self._sum(node_grads, parent, outs[k])
        finally:
            _PER_THREAD.interpreter = previous
        self._finish(list(leaves.values()))
        if not retain_graph:
            for node in nodes:
                node.free()

    def _vjps(self, node, gs: int, holes, template, ans_slot, mapped) -> tuple:
        """Run and record the node's vjps, one instruction per input it differentiates (as Primitive.vjp).

        They run here on the node's own settings; ``mapped`` is the same settings with arrays as slots.
        """
        op, params, values = node.op, node.params, self.values
        vjp_template = [None, None, *template]
        vjp_holes = [(0, gs)] + ([(1, ans_slot)] if ans_slot is not None else [])
        vjp_holes += [(i + 2, s) for i, s in holes]
        args = list(vjp_template)
        for i, s in vjp_holes:
            args[i] = values[s]
        outs = []
        for i in node.needs:
            if op.vjp_variadic is not None:
                fn, t, h = op.vjp_variadic, [i, *vjp_template], [(j + 1, s) for j, s in vjp_holes]
                gi = fn(i, *args, **params)
            elif op.vjps[i] is None:  # an input the op does not differentiate
                outs.append(None)
                continue
            else:
                fn, t, h = op.vjps[i], vjp_template, vjp_holes
                gi = fn(*args, **params)
            s = self._new(gi)
            self.emit(fn, t, h, mapped, s, f"{op.name}_vjp[{i}]")
            shape = args[i + 2].shape
            if gi.shape != shape:
                gi = _unbroadcast()(gi, shape)
                s2 = self._new(gi)
                self.emit(_unbroadcast(), [None, shape], [(0, s)], _NO_PARAMS, s2, "unbroadcast")
                s = s2
            outs.append(s)
        return tuple(outs)

    def _sum(self, table: dict, key, s: int) -> None:
        old = table.get(key)
        if old is None:
            table[key] = s
            return
        out = self.values[old] + self.values[s]
        table[key] = self._new(out)
        self.emit(_add, [None, None], [(0, old), (1, s)], _NO_PARAMS, table[key], "add")

    def _to_leaf(self, leaves: dict, leaf, s: int, node, gs) -> None:
        entry = leaves.get(id(leaf))
        if entry is None:
            leaves[id(leaf)] = [leaf, s, node, gs]
            return
        old = entry[1]
        entry[1] = self._new(self.values[old] + self.values[s])
        entry[2] = None  # a sum: owned by the engine
        self.emit(_add, [None, None], [(0, old), (1, s)], _NO_PARAMS, entry[1], "add")

    def _finish(self, entries) -> None:
        """GradSink.finish, recorded: each leaf's cotangent into its ``.grad`` (a copy where eager copies)."""
        kept = set()
        real = [[leaf, self.values[s], node, None if gs is None else self.values[gs]] for leaf, s, node, gs in entries]
        decisions = []
        for entry in real:
            leaf, g = entry[0], entry[1]
            owned = _engine._owned(entry)
            convert = not backend.is_array(g)
            if convert:
                g, owned = backend.xp_of(g).asarray(g), True
            cast = g.dtype != leaf.dtype
            if cast:
                g, owned = g.astype(leaf.dtype), True
            copy = not owned or id(g) in kept
            if not copy:
                kept.add(id(g))
            decisions.append((convert, leaf.dtype if cast else None, copy))
        _engine.GRAD_SINK.finish(real, False)  # the eager effect, exactly as a plain backward has it
        for (leaf, s, _, _), (convert, dtype, copy) in zip(entries, decisions):
            arg = self.arg_index.get(id(leaf))
            if arg is None and id(leaf) not in self.live_ids:
                self.refuse(
                    f"a backward into a leaf of shape {tuple(leaf.shape)} made inside the function (a replay would "
                    "keep summing into the first call's tensor); make it outside and pass it in"
                )
                return
            sink = _Sink(leaf if arg is None else None, arg, convert, dtype, copy, self.program_ref)
            out = self._new(leaf.grad.array, leaf.grad._vc)
            self.emit(sink, [None], [(0, s)], _NO_PARAMS, (out, None), "grad_sink")


class _Slot:
    """A setting that is an array of the program (an index array): read from slot ``s`` at each replay."""

    __slots__ = ("s",)

    def __init__(self, s: int):
        self.s = s

    def __repr__(self) -> str:
        return f"%{self.s}"


_REFUSED = object()


def _holds_array(value) -> bool:
    if isinstance(value, Tensor) or backend.is_array(value):
        return True
    return type(value) in (tuple, list) and any(_holds_array(v) for v in value)


def _hooked_leaf(roots, nodes) -> bool:
    """True when a leaf this backward reaches has a gradient hook, retain_grad or a post-accumulate hook."""
    leaves = [r for r in roots if r._node is None]
    leaves += [n.inputs[i] for n in nodes for k, i in enumerate(n.needs) if n.parents[k] is None]
    return any(LEAF_HOOKS.get(t) is not None or POST_ACCUMULATE_HOOKS.get(t) is not None for t in leaves)


def _add(a, b):
    """A sum of two cotangents, as the engine writes it (``old + new``); replays write it into a buffer where
    the sum does not reach the user (``xp.add(old, new, out=buffer)``, the same ufunc)."""
    return a + b


def _name(fn) -> str:
    return getattr(fn, "__qualname__", getattr(fn, "__name__", repr(fn)))


_NO_PARAMS: dict = {}
_CALLABLES = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, functools.partial)


def _outside(interpreter):
    """The interpreter a host call runs under: the capturing one's inner interpreter (monitors kept)."""
    if isinstance(interpreter, _Capturing):
        return interpreter.inner
    if isinstance(interpreter, Monitored) and isinstance(interpreter.inner, _Capturing):
        return Monitored(interpreter.inner.inner, interpreter.monitor)
    return interpreter


def _forward(op, array_type):
    """The instruction that runs ``op``'s forward: ``(output, residual or None)``, the output an array."""
    forward, residual = op.forward, op.residual

    def run(*args, **params):
        out = forward(*args, **params)
        res = None
        if residual:
            out, res = out
        if type(out) is not array_type:
            out = _as_output_array(out, array_type)
        return out, res

    run.__name__ = op.name
    return run


def _unbroadcast():
    from .primitive import unbroadcast

    return unbroadcast


class _Host:
    """A recorded host call: ``fn(*args, **kwargs)`` again, under the caller's interpreter."""

    def __init__(self, fn, args, kwargs, program_ref):
        self.fn, self.args, self.kwargs, self.program_ref = fn, args, kwargs, program_ref
        self.__name__ = _name(fn)

    def __call__(self):
        previous = _PER_THREAD.interpreter
        _PER_THREAD.interpreter = self.program_ref[0].caller
        try:
            result = self.fn(*self.args, **self.kwargs)
        finally:
            _PER_THREAD.interpreter = previous
        return (result.array if isinstance(result, Tensor) else None), None


def _fused_step(fn, args, kwargs):
    """``optimizer._step_into`` for a recorded ``optimizer.step()`` (no closure) of an optimizer that defines the
    in-place form of its update (SGD, Adam, AdamW), else None; it is replayed with a scratch dict of its own."""
    from .optim.optimizer import Optimizer

    if getattr(Optimizer.step, "__wrapped__", None) is not fn or len(args) != 1:
        return None
    opt = args[0]
    if not isinstance(opt, Optimizer) or any(v is not None for v in kwargs.values()) or not opt._fuses_step():
        return None
    return opt._step_into


class _Write:
    """A recorded unrecorded in-place update: ``ufunc(target, alpha * other, out=target)``, as ops.inplace does it."""

    def __init__(self, ufunc_name: str, alpha, tensor):  # tensor: a weak reference to a live tensor, or None
        self.ufunc_name, self.alpha, self.tensor = ufunc_name, alpha, tensor
        self.__name__ = f"{ufunc_name}_"

    def __call__(self, target, other):
        if self.alpha != 1:
            other = other * self.alpha
        getattr(backend.xp_of(target), self.ufunc_name)(target, other, out=target, casting="same_kind")
        t = None if self.tensor is None else self.tensor()
        if t is not None:
            t._vc[0] += 1  # a live tensor's version moves as in eager
        return ()


class _Copy:
    """A recorded ``Tensor(value)`` of a value of the program: the same copy (and cast, and move) again."""

    __name__ = "tensor"

    def __init__(self, dtype, device):
        self.dtype, self.device = dtype, device

    def __call__(self, array):
        return _as_array(array, self.dtype, self.device, copy=True)


class _Sink:
    """A recorded write of a leaf's cotangent into its ``.grad``, as :class:`~minigrad.engine.GradSink` does it."""

    __name__ = "grad_sink"

    def __init__(self, leaf, arg, convert, dtype, copy, program_ref):
        self.leaf, self.arg, self.convert, self.dtype, self.copy = leaf, arg, convert, dtype, copy
        self.program_ref = program_ref

    def __call__(self, g):
        leaf = self.leaf if self.arg is None else self.program_ref[0].args[self.arg]
        if self.convert:
            g = backend.xp_of(g).asarray(g)
        if self.dtype is not None:
            g = g.astype(self.dtype)
        if leaf.grad is None:
            leaf.grad = Tensor._wrap(g.copy() if self.copy else g)
        else:
            leaf.grad.array += g
            leaf.grad._vc[0] += 1
        return leaf.grad.array, None


# --- the program ------------------------------------------------------------------------------


class _Program:
    """A finished capture: the instructions, where each slot comes from, and how to rebuild the result."""

    def __init__(self, recorder: _Recorder, out_spec):
        self.code = recorder.code
        self.labels = recorder.labels
        self.arg_slots = recorder.arg_slots
        self.live = recorder.live
        self.live_meta = [(t.array.shape, t.array.dtype, type(t.array)) for _, t in recorder.live]
        self.aliases = recorder.aliases
        self.out_spec = out_spec
        produced = {s for *_, outs in self.code for s in _targets(outs) if s is not None}
        produced.update(s for s, _ in self.arg_slots)
        produced.update(s for s, _ in self.live)
        # constants (a backward's ones, tensors made inside the function) keep their capture-time arrays
        self.initial = [None if s in produced else v for s, v in enumerate(recorder.values)]
        self.ref = recorder.program_ref  # host and sink instructions reach args and caller through it
        self.args = self.caller = None
        out_slots = _spec_slots(out_spec)
        self.plan, self.buffers, allocating = _plan_buffers(self.code, recorder.values, out_slots)
        self.allocating = [self.labels[n] for n in allocating]  # instructions that make a fresh array per replay
        self.run = _generate(self, recorder.values)

    def live_ok(self, tensors) -> bool:
        """True while every live tensor still has the shape, dtype and device it had at capture, and the
        tensors that shared an argument's array (a parameter passed in) still share this call's."""
        for ref, k in self.aliases:
            t = ref()
            if t is not None and t.array is not tensors[k].array:
                return False
        for (_, t), (shape, dtype, kind) in zip(self.live, self.live_meta):
            a = t.array
            if a.shape != shape or a.dtype != dtype or type(a) is not kind:
                return False
        return True

    def replay(self, tensors: list, caller):
        self.args, self.caller = tensors, caller
        self.ref[0] = self
        _PER_THREAD.interpreter = RAW
        try:
            regs = self.run(tensors)
        finally:
            _PER_THREAD.interpreter = caller
            self.ref[0] = self.args = self.caller = None  # no cycle through the instructions
        return _rebuild(self.out_spec, regs, tensors)

    def __len__(self) -> int:
        return len(self.code)

    def describe(self) -> str:
        """The program, one instruction per line (slots as ``%n``)."""
        lines = []
        for label, (_fn, template, holes, params, outs) in zip(self.labels, self.code):
            args = [repr(a) if not backend.is_array(a) else f"const{tuple(a.shape)}" for a in template]
            for i, s in holes:
                args[i] = f"%{s}"
            args += [f"{k}={v!r}" for k, v in params.items()]
            targets = ", ".join(f"%{s}" for s in _targets(outs) if s is not None) or "_"
            lines.append(f"{targets} = {label}({', '.join(args)})")
        return "\n".join(lines)


def _targets(outs) -> tuple:
    """An instruction's output slots: one slot (the call returns an array) or a tuple (it returns a sequence)."""
    return (outs,) if isinstance(outs, int) else outs


def _generate(program: _Program, values: list):
    """The program as one straight-line Python function: slots become local variables, no loop, no lists.

    It takes the call's argument tensors and returns the slots the result is
    rebuilt from (a dict); every callable, constant and setting is bound as a
    name of the function's scope.
    """
    scope: dict = {}
    lines = ["def replay(tensors):"]
    for s, k in program.arg_slots:
        lines.append(f"    v{s} = tensors[{k}].array")
    for s, t in program.live:
        scope[f"t{s}"] = t
        lines.append(f"    v{s} = t{s}.array")
    for s, v in enumerate(program.initial):
        if v is not None:
            scope[f"v{s}"] = v  # a constant: a name of the scope, read like a local
    for n, (fn, template, holes, params, outs) in enumerate(program.code):
        scope[f"f{n}"] = fn
        args = []
        filled = dict(holes)
        for i, a in enumerate(template):
            if i in filled:
                args.append(f"v{filled[i]}")
            else:
                scope[f"c{n}_{i}"] = a
                args.append(f"c{n}_{i}")
        for key, value in params.items():
            args.append(f"{key}={_expression(value, f'p{n}_{key}', scope)}")
        planned = program.plan.get(n)
        calls = None
        if planned is not None:  # written into its preallocated buffer
            into, k = planned
            buffer = scope[f"b{k}"] = program.buffers[k]
            inline = getattr(into, "inline", None)
            if inline is not None:  # the into's ufunc calls themselves, bound here: no Python frame per replay
                arrays = [values[filled[i]] if i in filled else a for i, a in enumerate(template)] + [buffer]
                calls = inline(backend.xp_of(buffer), f"b{k}", args, arrays)
            scope[f"i{n}"] = into
            call = f"i{n}(b{k}, {', '.join(args)})"
        else:
            call = f"f{n}({', '.join(args)})"
        if calls:
            for j, (ufunc, operands, extra) in enumerate(calls):
                scope[f"u{n}_{j}"] = ufunc
                line = f"u{n}_{j}({', '.join(operands)}, out=b{k}{extra})"
                lines.append(f"    v{outs} = {line}" if j == len(calls) - 1 else f"    {line}")
        elif isinstance(outs, int):
            lines.append(f"    v{outs} = {call}")
        elif not outs:
            lines.append(f"    {call}")
        else:
            targets = [("_" if s is None else f"v{s}") for s in outs]
            lines.append(f"    {', '.join(targets)}{',' if len(targets) == 1 else ''} = {call}")
    wanted = sorted(_spec_slots(program.out_spec))
    lines.append("    return {" + ", ".join(f"{s}: v{s}" for s in wanted) + "}")
    source = "\n".join(lines)
    exec(builtins.compile(source, "<minigrad.compile replay>", "exec"), scope)  # noqa: S102  (our own generated code)
    replay = scope["replay"]
    replay.source = source
    return replay


def _expression(value, name: str, scope: dict) -> str:
    """Source for a setting: ``v<s>`` for a slot, a tuple of such for an index tuple, else a bound name."""
    if isinstance(value, _Slot):
        return f"v{value.s}"
    if type(value) in (tuple, list) and any(_holds_slot(v) for v in value):
        items = [_expression(v, f"{name}_{i}", scope) for i, v in enumerate(value)]
        body = ", ".join(items) + ("," if len(items) == 1 and type(value) is tuple else "")
        return f"({body})" if type(value) is tuple else f"[{body}]"
    scope[name] = value
    return name


def _holds_slot(value) -> bool:
    return isinstance(value, _Slot) or (type(value) in (tuple, list) and any(_holds_slot(v) for v in value))


def _spec_slots(spec) -> set:
    kind = spec[0]
    if kind == "slot":
        return {spec[1]}
    if kind == "seq":
        return set().union(*[_spec_slots(s) for s in spec[2]])
    if kind == "dict":
        return set().union(*[_spec_slots(s) for s in spec[2]])
    return set()


def _rebuild(spec, regs, tensors):
    kind = spec[0]
    if kind == "slot":
        return Tensor._wrap(regs[spec[1]])
    if kind == "arg":
        return tensors[spec[1]]
    if kind in ("obj", "const"):
        return spec[1]
    if kind == "seq":
        return spec[1](_rebuild(s, regs, tensors) for s in spec[2])
    if kind == "dict":
        return {k: _rebuild(s, regs, tensors) for k, s in zip(spec[1], spec[2])}
    raise AssertionError(kind)


def _out_spec(recorder: _Recorder, value):
    """How to rebuild ``value`` (what the function returned) from a replay's slots."""
    if isinstance(value, Tensor):
        if id(value) in recorder.arg_index:
            return ("arg", recorder.arg_index[id(value)])
        if id(value) in recorder.live_ids:
            return ("obj", value)
        s = recorder.slots.get(id(value.array))
        if s is None:
            recorder.refuse(
                f"a result of shape {tuple(value.shape)} made by Python code outside minigrad's ops (a data-dependent "
                "op such as nonzero, or arithmetic on .array)"
            )
            return ("obj", value)
        if value._node is not None and value._node.inputs is not None:
            recorder.refuse(
                "a result whose graph is still live (call backward inside the compiled function, or run it "
                "under no_grad)"
            )
        return ("slot", s)
    if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
        return ("seq", type(value), [_out_spec(recorder, v) for v in value])
    if isinstance(value, dict):
        return ("dict", list(value), [_out_spec(recorder, v) for v in value.values()])
    if value is None or isinstance(value, (_SCALARS, str)):
        return ("const", value)
    recorder.refuse(f"a result of type {type(value).__name__}")
    return ("const", value)


# --- preallocated buffers ------------------------------------------------------------------------
# A replay writes the result of an op that can write into ``out=`` (the ufunc ops, matmul, linear and
# relu, forwards and vjps) into a buffer the program made once, instead of a fresh array. A liveness
# pass lets results whose lifetimes do not overlap share one buffer. A result that can reach the user
# (a returned tensor, a gradient stored into ``.grad``, what an in-place write or a host call sees) is
# never buffered: the next replay would overwrite it. Nor is one whose memory another result may share
# (a view, a residual) while that one lives on past it: its lifetime is extended over theirs.


def _ufunc_into(name):
    """``xp.<name>(*args, out=out)``: the forward ``a <op> b`` (or ``xp.<name>(x)``) written into ``out``."""

    def into(out, *args):
        return getattr(backend.xp_of(out), name)(*args, out=out)

    into.__name__ = f"{name}_into"
    into.inline = lambda xp, out, args, arrays: [(getattr(xp, name), args, "")]
    return into


def _linear_into(out, x, w, b):
    """linear's forward into ``out``: the GEMM, then the bias added in place, as the forward does."""
    if out.dtype != getattr(b, "dtype", None):
        out[...] = x @ w.swapaxes(-1, -2) + b
        return out
    backend.xp_of(out).matmul(x, w.swapaxes(-1, -2), out=out)
    out += b
    return out


def _linear_inline(xp, out, args, arrays):
    x, w, b = args
    if not backend.is_array(arrays[2]) or arrays[2].dtype != arrays[-1].dtype:
        return None
    return [(xp.matmul, [x, f"{w}.swapaxes(-1, -2)"], ""), (xp.add, [out, b], "")]


_linear_into.inline = _linear_inline


def _relu_into(out, x):
    """relu into ``out``: ``maximum(x, 0)``, as the forward (the same ufunc, so the same bits)."""
    if out.dtype.kind != "f" or x.dtype != out.dtype:  # an integer or bool relu casts back: the forward's way
        out[...] = backend.xp_of(out).maximum(x, 0).astype(out.dtype, copy=False)
        return out
    return backend.xp_of(out).maximum(x, 0, out=out)


def _relu_inline(xp, out, args, arrays):
    target = arrays[-1]
    if target.dtype.kind != "f" or getattr(arrays[0], "dtype", None) != target.dtype:
        return None
    return [(xp.maximum, [args[0], "0"], "")]


_relu_into.inline = _relu_inline


def _relu_vjp_into(out, g, ans, x):
    """relu's vjp into ``out``: ``g * (x > 0)``, the mask written into ``out`` as 1.0/0.0 first (the product
    with a bool mask multiplies by that same 1.0 or 0.0, so the bits are eager's)."""
    xp = backend.xp_of(out)
    xp.greater(x, 0, out=out, casting="unsafe")
    return xp.multiply(g, out, out=out)


_relu_vjp_into.inline = lambda xp, out, args, arrays: [
    (xp.greater, [args[2], "0"], ', casting="unsafe"'),
    (xp.multiply, [args[0], out], ""),
]


def _tanh_vjp_into(out, g, ans, x):
    """tanh's vjp ``g * (1 - ans * ans)`` into ``out``, in eager's order of operations."""
    xp = backend.xp_of(out)
    xp.multiply(ans, ans, out=out)
    xp.subtract(1, out, out=out)
    return xp.multiply(g, out, out=out)


_tanh_vjp_into.inline = lambda xp, out, args, arrays: [
    (xp.multiply, [args[1], args[1]], ""),
    (xp.subtract, ["1", out], ""),
    (xp.multiply, [args[0], out], ""),
]


def _drop_ans(name, first, second):
    """A vjp ``g <op> <input>``: ``(out, g, ans, a, b)`` -> ``xp.<name>(g, a or b, out=out)``."""

    def into(out, g, ans, a, b):
        return getattr(backend.xp_of(out), name)(g, a if first else b, out=out)

    into.__name__ = f"{name}_vjp_into"
    into.inline = lambda xp, out, args, arrays: [(getattr(xp, name), [args[0], args[2] if first else args[3]], "")]
    return into


def _negate_into(out, g, ans, a, b):
    return backend.xp_of(out).negative(g, out=out)


_negate_into.inline = lambda xp, out, args, arrays: [(xp.negative, [args[0]], "")]


def _linear_vjp_into(out, g, ans, x, w, b):
    """linear's input cotangent ``g @ w`` into ``out``."""
    return backend.xp_of(out).matmul(g, w, out=out)


_linear_vjp_into.inline = lambda xp, out, args, arrays: [(xp.matmul, [args[0], args[3]], "")]


def _sum_vjp_into(out, g, ans, x, axis=None, keepdims=False):
    """sum's vjp into ``out``: the cotangent spread over the summed axes, copied where eager makes a broadcast view
    of it (the same values); it takes the op's settings."""
    if not keepdims and g.ndim:
        from .ops.reduction import _kept_shape

        g = g.reshape(_kept_shape(x.shape, axis))
    backend.xp_of(out).copyto(out, g)
    return out


_sum_vjp_into.takes_params = True
_sum_vjp_into.any_layout = True  # eager's result is a broadcast view; the buffer holds the same values, contiguous

_INTO: dict = {}  # forward or vjp function -> its into(out, *args) version; filled on first use


def _into_table() -> dict:
    if not _INTO:
        from .ops import elementwise as e
        from .ops import linalg, reduction

        for op, name in ((e.add, "add"), (e.sub, "subtract"), (e.mul, "multiply"), (e.true_divide, "true_divide")):
            _INTO[op.forward] = _ufunc_into(name)
        _INTO[linalg.matmul.forward] = _ufunc_into("matmul")
        _INTO[e.tanh.forward] = _ufunc_into("tanh")
        _INTO[e.relu.forward] = _relu_into
        _INTO[linalg._linear.forward] = _linear_into
        _INTO[linalg._linear.vjps[0]] = _linear_vjp_into
        _INTO[e.mul.vjps[0]] = _drop_ans("multiply", False, True)
        _INTO[e.mul.vjps[1]] = _drop_ans("multiply", True, False)
        _INTO[e.sub.vjps[1]] = _negate_into
        _INTO[e.relu.vjps[0]] = _relu_vjp_into
        _INTO[e.tanh.vjps[0]] = _tanh_vjp_into
        _INTO[reduction._sum.vjps[0]] = _sum_vjp_into
        _INTO[_add] = _ufunc_into("add")  # a sum of cotangents
    return _INTO


def _uses(template_holes, params) -> list:
    slots = [s for _, s in template_holes]
    _param_slots(params, slots)
    return slots


def _param_slots(value, slots: list) -> None:
    if isinstance(value, _Slot):
        slots.append(value.s)
    elif isinstance(value, dict):
        for v in value.values():
            _param_slots(v, slots)
    elif type(value) in (tuple, list):
        for v in value:
            _param_slots(v, slots)


def _may_share(a, b) -> bool:
    if not (backend.is_array(a) and backend.is_array(b)):
        return a is not None and b is not None and not isinstance(a, _SCALARS) and not isinstance(b, _SCALARS)
    return bool(backend.xp_of(a).may_share_memory(a, b)) if type(a) is type(b) else False


def _plan_buffers(code, values, out_slots) -> tuple:
    """Which instructions write into which buffer: ``({instruction: (into, buffer index)}, buffers, allocating)``.

    ``values`` are the capture-time arrays (their shapes, dtypes and memory, for the aliasing analysis);
    ``allocating`` names the instructions that still make a fresh array at each replay.
    """
    table = _into_table()
    parent: dict = {}

    def find(s):
        while parent.get(s, s) != s:
            s = parent[s]
        return s

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    defined: dict = {}
    last: dict = {}
    escapes: set = set(out_slots)
    for n, (fn, _template, holes, params, outs) in enumerate(code):
        used = _uses(holes, params)
        for s in used:
            last[s] = n
        if isinstance(fn, (_Host, _Write)) or (isinstance(fn, _Sink) and not fn.copy):
            escapes.update(used)  # stored into .grad, written in place, or seen by a host call
        for o in _targets(outs):
            if o is None:
                continue
            defined[o] = n
            last.setdefault(o, n)
            for s in used:  # a result that may share an input's memory (a view, a residual) is one lifetime
                if _may_share(values[o], values[s]):
                    union(o, s)
    group_end: dict = {}
    group_escapes: set = set()
    for s, n in last.items():
        r = find(s)
        group_end[r] = max(group_end.get(r, n), n)
        if s in escapes:
            group_escapes.add(r)
    plan, buffers, allocating = {}, [], []
    free: dict = {}  # (shape, dtype, kind) -> buffer indices free now
    busy: list = []  # (end, key, buffer index)
    for n, (fn, _template, _holes, _params, outs) in enumerate(code):
        for item in [b for b in busy if b[0] < n]:
            busy.remove(item)
            free.setdefault(item[1], []).append(item[2])
        if not isinstance(outs, int):  # a wrapped forward (a residual, a 0-d result), a sink, a host call
            if (
                outs
                and outs[0] is not None
                and not isinstance(fn, _Host)
                and not (isinstance(fn, _Sink) and not fn.copy)
            ):
                allocating.append(n)
            continue
        into = table.get(fn)
        value = values[outs]
        r = find(outs)
        if into is None or (_params and not getattr(into, "takes_params", False)):
            allocating.append(n)
            continue
        if not backend.is_array(value) or r in group_escapes:
            allocating.append(n)
            continue
        if value.ndim == 0 or not (value.flags.c_contiguous or getattr(into, "any_layout", False)):
            allocating.append(n)
            continue
        key = (value.shape, value.dtype, type(value))
        pool = free.get(key)
        if pool:
            k = pool.pop()
        else:
            k = len(buffers)
            buffers.append(backend.xp_of(value).empty(value.shape, dtype=value.dtype))
        busy.append((group_end[r], key, k))
        plan[n] = (into, k)
    return plan, buffers, allocating


# --- guards ------------------------------------------------------------------------------------

_GUARDS = (
    "the arguments (their structure or a non-tensor value)",
    "an argument's shape",
    "an argument's dtype",
    "an argument's device",
    "an argument's requires_grad",
    "which arguments share one array",
    "grad mode",
    "a module's training flag",
    "the parameters (of a module or an optimizer), or a tensor of the function's globals or closure",
)
_TENSOR = object()


def _flatten(value, tensors: list, spec: list) -> None:
    if isinstance(value, Tensor):
        tensors.append(value)
        spec.append(_TENSOR)
    elif type(value) in (list, tuple):
        spec.append((type(value), len(value)))
        for v in value:
            _flatten(v, tensors, spec)
    elif type(value) is dict:
        spec.append((dict, tuple(value)))
        for v in value.values():
            _flatten(v, tensors, spec)
    elif value is None or isinstance(value, (_SCALARS, str)):
        spec.append((type(value), value))
    else:
        spec.append(("id", id(value)))


def _code_names(code, names: set) -> None:
    """The global names a function's code (and the code of functions defined inside it) may read."""
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names.add(ins.argval)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _code_names(const, names)


_NOT_SCANNED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type, Tensor)


class _Roots:
    """The modules and optimizers a compiled function can reach: its globals, closure, self (one level deep)."""

    def __init__(self, fn):
        from .nn.module import Module
        from .optim.optimizer import Optimizer

        self.kinds = (Module, Optimizer)
        self.Module = Module
        target = getattr(fn, "__func__", fn)
        code = getattr(target, "__code__", None)
        names: set = set()
        if code is not None:
            _code_names(code, names)
        self.names = sorted(names)
        self.globals = getattr(target, "__globals__", {})
        self.cells = getattr(target, "__closure__", None) or ()
        self.owner = getattr(fn, "__self__", None)

    def objects(self, args) -> list:
        found = []
        kinds = self.kinds
        for name in self.names:
            v = self.globals.get(name)
            if isinstance(v, kinds):
                found.append(v)
        for cell in self.cells:
            try:
                v = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            found.append(v) if isinstance(v, kinds) else self._attrs(v, found)
        if self.owner is not None:
            found.append(self.owner) if isinstance(self.owner, kinds) else self._attrs(self.owner, found)
        for a in args:
            if isinstance(a, kinds):
                found.append(a)
            elif not isinstance(a, (Tensor, *_SCALARS, str, list, tuple, dict, type(None))):
                self._attrs(a, found)  # the self of a compiled method, a trainer passed in
        return found

    def _attrs(self, obj, found: list) -> None:
        """The modules and optimizers among the attributes of a plain object (a trainer holding the model)."""
        if isinstance(obj, _NOT_SCANNED):
            return
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            found.extend(v for v in attrs.values() if isinstance(v, self.kinds))

    def state(self, objects) -> tuple:
        """(training flags, parameter identities and requires_grad) of the reachable modules and optimizers."""
        flags, params = [], []
        seen = set()
        for obj in objects:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, self.Module):
                for m in obj.modules():
                    flags.append(m.training)
                    params.append(id(m))
                    for p in m._parameters.values():
                        params.append(None if p is None else (id(p), p.requires_grad))
            else:
                for group in obj.param_groups:
                    params.extend(id(p) for p in group["params"])
        return tuple(flags), tuple(params)

    def free_tensors(self) -> list:
        """The tensors the function reads from its globals and closure (and the closures of functions there)."""
        found = [v for v in (self.globals.get(name) for name in self.names) if isinstance(v, Tensor)]
        for cell in self.cells:
            try:
                v = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if isinstance(v, Tensor):
                found.append(v)
            elif isinstance(v, types.FunctionType):  # a helper defined beside the step (loss_of)
                for inner in v.__closure__ or ():
                    try:
                        w = inner.cell_contents
                    except ValueError:
                        continue
                    if isinstance(w, Tensor):
                        found.append(w)
        return found

    def tensors(self, objects) -> dict:
        """id(array) -> tensor for the tensors the function reaches without its arguments."""
        found = {id(t.array): t for t in self.free_tensors()}
        for obj in objects:
            if hasattr(obj, "param_groups"):
                found.update((id(p.array), p) for g in obj.param_groups for p in g["params"])
            else:
                found.update((id(p.array), p) for p in obj.parameters())
                found.update((id(b.array), b) for b in obj.buffers())
        return found

    @staticmethod
    def covered(objects) -> set:
        ids = set()
        for obj in objects:
            if hasattr(obj, "param_groups"):
                ids.update(id(p) for g in obj.param_groups for p in g["params"])
            else:
                ids.update(id(p) for p in obj.parameters())
                ids.update(id(b) for b in obj.buffers())
        return ids


_EAGER = object()  # a cache entry: these guards run eagerly (a fullgraph=False capture gave up)
_MODES = (None, "default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")


class CompiledFunction:
    """What :func:`compile` returns: calls ``fn`` through a cache of captured programs (see the module)."""

    def __init__(self, fn, fullgraph: bool, disable: bool, name: str | None = None, limit: int = CACHE_SIZE_LIMIT):
        self.fn = fn
        self.fullgraph = fullgraph
        self.disable = disable
        self.limit = limit
        self.name = name or getattr(fn, "__qualname__", type(fn).__name__)
        # a Module or another callable object: its bound __call__, whose self is a root (or holds roots)
        self.roots = _Roots(fn if isinstance(fn, (types.FunctionType, types.MethodType)) else fn.__call__)
        self.cache: dict = {}  # guard key -> _Program or _EAGER, oldest first
        self.captures = 0  # how many times the function was captured
        self.last_key = None
        self._warned: set = set()
        try:
            self.__wrapped__ = fn
            self.__doc__ = getattr(fn, "__doc__", None)
            self.__name__ = getattr(fn, "__name__", self.name)
        except AttributeError:
            pass

    def _key(self, args, kwargs, interpreter, tensors):
        """The guard key of a call: (arguments' structure, each tensor's metadata, grad mode, flags, parameters)."""
        spec = []
        for a in args:
            if isinstance(a, Tensor):
                tensors.append(a)
                spec.append(_TENSOR)
            else:
                _flatten(a, tensors, spec)
        if kwargs:
            _flatten(kwargs, tensors, spec)
        meta = []
        first: dict = {}  # id(array) -> the first argument holding it: which arguments share an array is guarded
        for k, t in enumerate(tensors):
            a = t.array
            meta.append((a.shape, a.dtype, type(a), t.requires_grad, first.setdefault(id(a), k)))
        objects = self.roots.objects(args)
        flags, params = self.roots.state(objects) if objects else ((), ())
        if self.roots.names or self.roots.cells:
            params = params + tuple(id(t) for t in self.roots.free_tensors())
        return (tuple(spec), tuple(meta), interpreter.grad_enabled, flags, params), objects

    @staticmethod
    def _changed(key, old) -> list:
        """The names of the guards in which ``key`` differs from ``old``."""
        if key[0] != old[0] or len(key[1]) != len(old[1]):
            changed = [_GUARDS[0]]
        else:
            changed = [_GUARDS[1 + i] for i in range(5) if any(a[i] != b[i] for a, b in zip(key[1], old[1]))]
        changed += [name for name, a, b in zip(_GUARDS[6:], key[2:], old[2:]) if a != b]
        return changed

    def __call__(self, *args, **kwargs):
        interpreter = _PER_THREAD.interpreter
        if self.disable or type(interpreter) is not Eager:  # inside a capture, a monitor, a backward: eager
            return self.fn(*args, **kwargs)
        tensors: list = []
        key, objects = self._key(args, kwargs, interpreter, tensors)
        entry = self.cache.get(key)
        if entry is _EAGER:
            return self.fn(*args, **kwargs)
        if entry is not None:
            if entry.live_ok(tensors):
                return entry.replay(tensors, interpreter)
            self._warn("a captured tensor's shape, dtype or device, or an argument's sharing with it")
            del self.cache[key]
        elif self.last_key is not None:
            if len(self.cache) >= self.limit:  # as PyTorch at its recompile_limit: eager from here on
                self._warn(f"the recompile limit ({self.limit})", limit=True)
                return self.fn(*args, **kwargs)
            self._warn(", ".join(self._changed(key, self.last_key)) or "a guard")
        return self._capture(key, objects, tensors, args, kwargs)

    def _warn(self, guard: str, limit: bool = False) -> None:
        if guard in self._warned:
            return
        self._warned.add(guard)
        if limit:
            message = f"minigrad.compile: {self.name} reached {guard}; calls with new guards run eagerly"
        else:
            message = f"minigrad.compile: {self.name} is captured again because {guard} changed"
        warnings.warn(message, stacklevel=3)

    def _capture(self, key, objects, tensors, args, kwargs):
        recorder = _Recorder(self.fullgraph, self.name, tensors)
        recorder.reachable = self.roots.tensors(objects)
        reachable = {id(t) for t in recorder.reachable.values()}
        for k, t in enumerate(tensors):
            if id(t) in reachable:  # an argument the function also reaches itself: later calls must pass it again
                recorder.aliases.append((weakref.ref(t), k))
        previous = _PER_THREAD.interpreter
        watched = _watch_generators(recorder)
        _PER_THREAD.interpreter = _Capturing(previous, recorder)
        try:
            result = self.fn(*args, **kwargs)
            if recorder.broken is None:
                out_spec = _out_spec(recorder, result)
            result_ref = result  # noqa: F841  (alive while the live tensors are checked)
            live = recorder.finish() if recorder.broken is None else []
            if recorder.broken is None:
                recorder.live = live
                covered = _Roots.covered(objects)
                from .nn.module import Parameter

                for _, t in recorder.live:
                    if isinstance(t, Parameter) and id(t) not in covered:
                        recorder.refuse(
                            f"a Parameter of shape {tuple(t.shape)} of a module the guards cannot see (reach it "
                            "through the function's globals, closure, arguments or self, e.g. pass the model in)"
                        )
                        break
        finally:
            _PER_THREAD.interpreter = previous
            _unwatch_generators(watched)
        self.captures += 1
        self.last_key = key
        if recorder.broken is not None:
            warnings.warn(
                f"minigrad.compile: {self.name} runs eagerly with these inputs: the capture stopped at "
                f"{recorder.broken}",
                stacklevel=3,
            )
            self.cache[key] = _EAGER
        else:
            self.cache[key] = _Program(recorder, out_spec)
        return result

    def programs(self) -> list:
        """The captured programs in the cache (oldest first)."""
        return [p for p in self.cache.values() if p is not _EAGER]

    def __get__(self, obj, objtype=None):  # a compiled method binds as a plain function would
        return self if obj is None else types.MethodType(self, obj)

    def __repr__(self) -> str:
        return f"<minigrad.compile of {self.name}: {len(self.programs())} program(s)>"


def _watch_generators(recorder):
    backend.generator("cpu")  # made now, as the first draw would make it (same seed, same stream)
    watched = {}
    for device, gen in list(backend._generators.items()):
        watched[device] = gen
        backend._generators[device] = _WatchedGenerator(gen, recorder)
    return watched


def _unwatch_generators(watched) -> None:
    for device, gen in watched.items():
        current = backend._generators.get(device)
        if isinstance(current, _WatchedGenerator) and current._gen is gen:
            backend._generators[device] = gen


def compile(
    model=None,
    *,
    fullgraph: bool = True,
    dynamic: bool | None = None,
    backend=None,
    mode: str | None = None,
    options: dict | None = None,
    name: str | None = None,
    disable: bool = False,
    recompile_limit: int | None = None,
    isolate_recompiles: bool = False,
    shapes_spec=None,
):
    """Capture ``model`` (a function or a Module) on its first call and replay it after; see :mod:`minigrad.compile`.

    ``step = minigrad.compile(step)``, or ``@minigrad.compile`` /
    ``@minigrad.compile(fullgraph=False)`` as a decorator. The compiled
    function gives exactly the results of the eager one (bit for bit); it is
    faster because a replay runs the recorded arrays' arithmetic as one
    straight-line function, with no Tensor, Node or interpreter work per op.

    ``fullgraph=True`` (minigrad's default; PyTorch's is False) raises
    :class:`CaptureError` at the first thing the capture cannot record;
    ``fullgraph=False`` instead finishes that call eagerly, warns once, and
    runs later calls with the same guards eagerly. ``recompile_limit`` is how
    many programs (guard sets) the function keeps, :data:`CACHE_SIZE_LIMIT`
    by default as PyTorch's; past it, new guard sets run eagerly, after one
    warning, as in PyTorch. ``name`` names the function in warnings and
    errors. ``disable=True`` returns a wrapper that always runs eagerly.
    ``dynamic``, ``backend``, ``mode``, ``options``, ``isolate_recompiles``
    and ``shapes_spec`` are PyTorch's and accepted for its signature:
    minigrad has one way to compile (static shapes, one program per guard
    set, as ``dynamic=False``); ``mode`` must be one of PyTorch's modes.

    Raises ArgumentError for an unknown ``mode`` or a ``recompile_limit``
    below 1, TypeError when ``model`` is not callable.
    """
    from .errors import ArgumentError

    if mode not in _MODES:
        raise ArgumentError(f"compile: unknown mode {mode!r}; PyTorch's modes are {[m for m in _MODES if m]}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"compile: options must be a dict, got {type(options).__name__}")
    limit = CACHE_SIZE_LIMIT if recompile_limit is None else recompile_limit
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ArgumentError(f"compile: recompile_limit must be a positive int, got {recompile_limit!r}")

    def wrap(fn):
        if not callable(fn):
            raise TypeError(f"compile: expected a function or a Module, got {type(fn).__name__}")
        return CompiledFunction(fn, fullgraph, disable, name=name, limit=limit)

    return wrap if model is None else wrap(model)

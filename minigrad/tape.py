"""The tape: recorded nodes, their format, and the tape printed as a Wengert list.

Calling an op while some input requires a gradient records a :class:`Node`.
The nodes in sequence order form the tape. Every reader of the tape -- the
backward engine, :func:`minigrad.check_tape`, :func:`format_tape`, a graph
picture, a compiler -- reads the same record:

=============  ===============================================================
``op``         the op: ``name``, ``vjp(node, g, raw)`` (one cotangent per
               entry of ``needs``) and ``rerun(node, *inputs)`` (the op again,
               on new inputs, with this node's params); a primitive or a
               custom Function's op alike
``inputs``     the call's arguments as recorded (tensors and constants);
               ``arrays`` the same with tensors replaced by their arrays
``params``     the call's keyword settings
``needs``      the indices of the inputs that require a gradient, and
               ``parents`` their nodes when the op ran (None for a leaf)
``seq``        the output's id: the node's position on the tape; the output
               array is ``out_data`` and its version counter ``out_vc``
``saved``      (version counter, version) of each tensor whose value the vjp
               reads, and ``ctx`` what the op kept from its forward for its
               backward (a residual, a custom Function's context)
=============  ===============================================================

:meth:`Node.sources` names each input's origin: another node's output, a
leaf, or a constant. Parents are kept apart from the inputs because an
in-place op later gives an input a new history that this node never read.

Nodes are owned by the tensors that depend on them: a tensor holds its node,
the node holds its input tensors. A forward whose result is dropped frees its
graph by reference counting alone; there is no global tape to clear.
"""

from __future__ import annotations

import itertools
import weakref
from operator import attrgetter

from .errors import GraphError

_sequence = itertools.count()


class Node:
    """One recorded application of an op, in the format the module docstring gives.

    ``epoch`` is how many recorded in-place ops had changed the history of a
    tensor sharing the output's counter (the tensor itself, a view of it or
    its base) when the node was made: a tensor whose counter has seen more
    than its node's epoch was changed through an alias, and its node no
    longer describes its value (see :func:`check_history`). ``site`` is the
    user's line that created the node, while a monitor asks for it.
    """

    __slots__ = (
        "op",
        "inputs",
        "arrays",
        "params",
        "needs",
        "parents",
        "saved",
        "out_data",
        "out_vc",
        "epoch",
        "seq",
        "ctx",
        "site",
        "public",  # the public op (minigrad.errors.public_op) that recorded it, while a monitor asks for sites
        "__weakref__",  # for the hook tables (see Hooks); costs a node nothing when no hook is registered
    )

    def __init__(self, op, inputs, arrays, params, needs, parents, saved, out_data, out_vc, ctx=None):
        self.op = op
        self.inputs = inputs
        self.arrays = arrays
        self.params = params
        self.needs = needs
        self.parents = parents
        self.saved = saved
        self.out_data = out_data
        self.out_vc = out_vc
        self.epoch = out_vc[1] if len(out_vc) > 1 else 0
        self.ctx = ctx
        self.site = None
        self.public = None
        self.seq = next(_sequence)

    @property
    def name(self) -> str:
        return self.op.name

    def sources(self) -> list:
        """Each input's origin: ``("node", parent)``, ``("leaf", tensor)`` or ``("const", value)``.

        A tensor that needs no gradient counts as a constant. Raises
        GraphError when the node was freed by a backward.
        """
        self.check_saved()
        parent_of = dict(zip(self.needs, self.parents))
        sources = []
        for i, value in enumerate(self.inputs):
            if i not in parent_of:
                sources.append(("const", value))
            elif parent_of[i] is None:
                sources.append(("leaf", value))
            else:
                sources.append(("node", parent_of[i]))
        return sources

    def output(self):
        """The op's output as a tensor attached to this node (for vjps that reuse it).

        Rebuilding it on demand, as PyTorch does for saved outputs, keeps the
        node from owning its own output, which would make a reference cycle.
        """
        return _tensor.Tensor._wrap(self.out_data, self, self.out_vc)

    def check_saved(self) -> None:
        """Raise if the graph was freed or a tensor the vjp reads changed in place."""
        if self.inputs is None:
            raise GraphError(
                f"backward through {self.name} (node #{self.seq}) a second time: its saved values "
                "were freed by the first backward; pass retain_graph=True to the first backward "
                "to keep them"
            )
        for counter, version in self.saved:
            if counter[0] != version:
                raise GraphError(
                    f"{self.name} (node #{self.seq}) saved a tensor for its gradient that was then "
                    f"modified in place (version {version} -> {counter[0]}); the gradient would be "
                    "wrong. Clone the tensor before modifying it, or modify it outside the graph"
                )

    def free(self) -> None:
        self.inputs = self.arrays = self.params = self.out_data = self.ctx = self.parents = None
        self.saved = ()

    def __repr__(self) -> str:
        return f"<Node #{self.seq} {self.name}>"


class Hooks:
    """The gradient hooks of one tensor (``Tensor.register_hook``, ``Tensor.retain_grad``), in registration order.

    A non-leaf's hooks are kept by its node, a leaf's by the tensor, in the
    weak tables :data:`NODE_HOOKS` and :data:`LEAF_HOOKS`: the engine looks
    there only when a table is not empty, so a backward with no hook
    anywhere pays one test per node. ``retain`` is a weak reference to the
    non-leaf tensor whose ``.grad`` a ``backward()`` fills (after the hooks, as
    PyTorch's ``retain_grad`` does), or None.
    """

    __slots__ = ("fns", "retain")

    def __init__(self):
        self.fns: list = []
        self.retain = None

    def run(self, g, raw: bool, interpreter, retain: bool):
        """Call each hook on the gradient ``g`` (an array when ``raw``, else a tensor) and return the result.

        A hook gets a tensor and returns None (keep the gradient) or a
        replacement of the same shape. Hooks run with ``interpreter``
        installed: recording under ``create_graph=True``, so what they compute
        is differentiated too, and not recording otherwise.
        """
        if not self.fns and (self.retain is None or not retain):
            return g
        previous = _interpreter._PER_THREAD.interpreter
        _interpreter._PER_THREAD.interpreter = interpreter
        try:
            t = _tensor.Tensor._wrap(g) if raw else g
            for fn in list(self.fns):
                out = fn(t)
                if out is None:
                    continue
                if not isinstance(out, _tensor.Tensor):
                    out = _tensor._to_tensor(out, like=t)
                if tuple(out.shape) != tuple(t.shape):
                    raise GraphError(
                        f"register_hook: the hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                        f"{tuple(out.shape)} for a tensor of shape {tuple(t.shape)}; a hook must keep the shape"
                    )
                t = out
            if retain and self.retain is not None:
                target = self.retain()
                if target is not None:
                    _retain(target, t, raw)
        finally:
            _interpreter._PER_THREAD.interpreter = previous
        return t.array if raw else t


def _retain(target, g, raw: bool) -> None:
    """Sum the gradient ``g`` of the non-leaf ``target`` into its ``.grad`` (a copy: the engine reuses its arrays)."""
    if not raw:
        target.grad = g if target.grad is None else target.grad + g
    elif target.grad is None:
        target.grad = _tensor.Tensor._wrap(g.array.copy())
    else:
        target.grad.array += g.array
        target.grad._vc[0] += 1


class WeakTable:
    """A table keyed by object identity that forgets an entry when its key is collected.

    Not a ``weakref.WeakKeyDictionary``: that compares keys with ``==``,
    which for tensors is elementwise. Empty, it is false, which is all the
    engine asks of it when no hook is registered.
    """

    __slots__ = ("data",)

    def __init__(self):
        self.data: dict = {}  # id(key) -> (weak reference to key, value)

    def __bool__(self) -> bool:
        return bool(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def get(self, key, default=None):
        entry = self.data.get(id(key))
        if entry is None or entry[0]() is not key:
            return default
        return entry[1]

    def __setitem__(self, key, value) -> None:
        k, data = id(key), self.data

        def forget(ref, k=k, data=data):
            entry = data.get(k)
            if entry is not None and entry[0] is ref:
                del data[k]

        data[k] = (weakref.ref(key, forget), value)

    def pop(self, key, default=None):
        entry = self.data.get(id(key))
        if entry is None or entry[0]() is not key:
            return default
        del self.data[id(key)]
        return entry[1]


NODE_HOOKS = WeakTable()  # node -> Hooks (non-leaf tensors)
LEAF_HOOKS = WeakTable()  # leaf tensor -> Hooks
POST_ACCUMULATE_HOOKS = WeakTable()  # leaf tensor -> Hooks (register_post_accumulate_grad_hook; fns get the leaf)


def drop_hooks(node) -> None:
    """Forget the hooks of a node that a backward freed (they can never run again); ``retain_grad`` stays set."""
    hooks = NODE_HOOKS.get(node)
    if hooks is not None:
        hooks.fns = []
        if hooks.retain is None:
            NODE_HOOKS.pop(node)


def hooks_of(tensor, create: bool = False) -> Hooks | None:
    """The :class:`Hooks` of ``tensor`` (kept by its node when it has one), made when ``create``."""
    table, key = (LEAF_HOOKS, tensor) if tensor._node is None else (NODE_HOOKS, tensor._node)
    hooks = table.get(key)
    if hooks is None and create:
        hooks = table[key] = Hooks()
    return hooks


class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` unregisters the hook (again: no effect)."""

    __slots__ = ("_table", "_key", "_fn", "__weakref__")

    def __init__(self, table, key, fn):
        self._table, self._key, self._fn = table, weakref.ref(key), fn

    def remove(self) -> None:
        key = self._key()
        hooks = None if key is None else self._table.get(key)
        if hooks is None:
            return
        hooks.fns = [f for f in hooks.fns if f is not self._fn]
        if not hooks.fns and hooks.retain is None:
            self._table.pop(key)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()
        return False


def add_hook(tensor, fn) -> RemovableHandle:
    """Register ``fn`` on the gradient of ``tensor``; see ``Tensor.register_hook``."""
    hooks = hooks_of(tensor, create=True)
    hooks.fns.append(fn)
    table, key = (LEAF_HOOKS, tensor) if tensor._node is None else (NODE_HOOKS, tensor._node)
    return RemovableHandle(table, key, fn)


def add_post_accumulate_hook(tensor, fn) -> RemovableHandle:
    """Register ``fn(tensor)`` to run once a backward has accumulated ``tensor.grad``; see the Tensor method."""
    hooks = POST_ACCUMULATE_HOOKS.get(tensor)
    if hooks is None:
        hooks = POST_ACCUMULATE_HOOKS[tensor] = Hooks()
    hooks.fns.append(fn)
    return RemovableHandle(POST_ACCUMULATE_HOOKS, tensor, fn)


class GradFn:
    """``tensor.grad_fn``: the recorded node of a non-leaf, as PyTorch shows it.

    ``name()`` is PyTorch's style of name, the op's name in CamelCase plus
    ``Backward0`` (``MulBackward0``; a custom Function ``Cube`` gives
    ``CubeBackward``, as in PyTorch); ``node`` is the tape's
    :class:`Node` itself. Two GradFn of one node compare equal.
    """

    __slots__ = ("node",)

    def __init__(self, node):
        self.node = node

    def name(self) -> str:
        return backward_name(self.node.op)

    @property
    def next_functions(self) -> tuple:
        """``(fn, 0)`` for each tensor input: its GradFn, an :class:`AccumulateGrad` for a leaf, None without grad.

        Raises GraphError once a backward has freed the node (minigrad drops the graph's links with its saved values).
        """
        if self.node.inputs is None:
            raise GraphError(
                f"next_functions: {self.name()} (node #{self.node.seq}) was freed by a backward, which drops the "
                "graph's links; read next_functions before backward, or pass retain_graph=True to it"
            )
        parent_of = dict(zip(self.node.needs, self.node.parents))
        out = []
        for i, value in enumerate(self.node.inputs):
            if not isinstance(value, _tensor.Tensor):
                continue
            if i not in parent_of:
                out.append((None, 0))
            elif parent_of[i] is None:
                out.append((AccumulateGrad(value), 0))
            else:
                out.append((GradFn(parent_of[i]), 0))
        return tuple(out)

    def register_hook(self, hook):
        raise NotImplementedError(
            "grad_fn.register_hook: hooks on nodes are not supported; register the hook on the tensor "
            "(Tensor.register_hook), which gets the same gradient"
        )

    def __eq__(self, other) -> bool:
        return isinstance(other, GradFn) and other.node is self.node

    def __hash__(self) -> int:
        return hash(self.node)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self.node))}>"


class AccumulateGrad:
    """The entry of a leaf in ``next_functions`` (``variable`` is the leaf), as PyTorch's."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def next_functions(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self.variable))}>"


def backward_name(op) -> str:
    """PyTorch's style of grad_fn name: op ``mul`` -> ``MulBackward0``, a custom Function ``F`` -> ``FBackward``."""
    custom = getattr(op, "backward_name", None)
    if custom is not None:
        return custom
    return "".join(part[:1].upper() + part[1:] for part in op.name.split("_")) + "Backward0"


def check_history(op: str, tensor) -> None:
    """Raise GraphError when ``tensor``'s recorded history no longer describes its value.

    That happens when a recorded in-place op changed it through an alias (it
    is a view whose base was changed in place, or the base of a view that
    was): the op gave the alias a new history but not this tensor, whose
    gradient would silently leave the change out.
    """
    node = tensor._node
    vc = tensor._vc
    if node is None or len(vc) < 2 or vc[1] == node.epoch or not _interpreter.current().grad_enabled:
        return
    raise GraphError(
        f"{op}: a tensor of shape {tuple(tensor.shape)} (made by {node.name}, node #{node.seq}) was changed by a "
        "recorded in-place op on a view of it or on its base, so its recorded history no longer gives its "
        "gradient; minigrad does not rebase views. Apply the in-place op to a clone(), use the out-of-place op, "
        "or take the view after the in-place op"
    )


def collect(roots, check: bool = True) -> list:
    """The nodes the roots depend on, latest first.

    An explicit stack, not recursion, so a 100,000-op chain is fine; the
    order is by decreasing sequence number, a valid reverse topological
    order because every node was recorded after the nodes of its inputs.
    With ``check`` every node is verified before any vjp runs (not freed, no
    saved tensor changed in place), so an error leaves every ``.grad`` as it was.
    """
    nodes = []
    seen = set()
    stack = [r._node for r in roots if r._node is not None]
    push, visit, keep = stack.append, seen.add, nodes.append
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        visit(node)
        if node.inputs is None:  # freed by an earlier backward
            if check:
                node.check_saved()
            continue
        if check:
            for counter, version in node.saved:
                if counter[0] != version:
                    node.check_saved()  # raises, naming the op
        keep(node)
        for parent in node.parents:
            if parent is not None:
                push(parent)
    nodes.sort(key=_by_sequence, reverse=True)
    return nodes


_by_sequence = attrgetter("seq")


def tape_nodes(tensor) -> list:
    """The nodes ``tensor`` depends on, in tape (sequence) order."""
    return list(reversed(collect([tensor], check=False)))


def format_tape(tensor) -> str:
    """The Wengert list of ``tensor``: one line per recorded op, in the order it ran.

    Inputs that require grad are named ``x0, x1, ...`` and intermediate values
    ``v0, v1, ...``; each line shows the op, its arguments and the shape and
    dtype of its result. Tensors that need no gradient show as ``const``.
    """
    names: dict = {}  # node or id(leaf) -> name
    lines = []
    n_inputs = n_values = 0
    for node in tape_nodes(tensor):
        parts = []
        for kind, source in node.sources():
            if kind == "node":
                parts.append(names[source])
            elif kind == "leaf":
                if id(source) not in names:  # a leaf seen for the first time
                    names[id(source)] = f"x{n_inputs}"
                    n_inputs += 1
                    lines.append(f"{names[id(source)]:>6} = input {_shape_str(source.shape)} {source.dtype}")
                parts.append(names[id(source)])
            elif isinstance(source, _tensor.Tensor):
                parts.append(f"const{_shape_str(source.shape)}")
            else:
                parts.append(_short(source))
        if node.params:
            parts.extend(f"{k}={_short(v)}" for k, v in node.params.items())
        names[node] = f"v{n_values}"
        n_values += 1
        lines.append(
            f"{names[node]:>6} = {node.name}({', '.join(parts)}) -> "
            f"{_shape_str(node.out_data.shape)} {node.out_data.dtype}"
        )
    return "\n".join(lines)


def print_tape(tensor, file=None) -> None:
    """Print :func:`format_tape` of ``tensor``."""
    print(format_tape(tensor), file=file)


def _shape_str(shape) -> str:
    return str(tuple(shape))


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 24 else text[:21] + "..."


from . import interpreter as _interpreter  # noqa: E402  (the interpreters record Nodes)
from . import tensor as _tensor  # noqa: E402  (tensor.py imports the autograd modules first)

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

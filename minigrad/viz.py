"""The tape as a picture: :func:`draw` turns the graph behind a tensor into Graphviz DOT.

For people studying backprop a drawing teaches more than a list, as
micrograd's ``draw_dot`` and torchviz's ``make_dot`` show. :func:`draw` reads
the tape the way :func:`minigrad.print_tape` does (``tape_nodes`` and
``Node.sources``), so ops never know it exists:

- one box per recorded op: its name, its output's shape and dtype;
- one rounded box per leaf (an input that requires grad), named from
  ``params`` (``dict(model.named_parameters())``, as ``make_dot`` takes) or
  ``input 0, input 1, ...``; constants (tensors that need no gradient,
  numbers) are left out, as they carry no gradient;
- arrows from each input to the op that used it, ops ranked top to bottom in
  the order they ran; the tensor drawn is filled green.

With ``show_grads`` each leaf shows the norm of its ``.grad`` (after
``backward(retain_graph=True)``: a plain backward frees the tape, and with
it what the picture is drawn from); with ``show_values`` tensors of at most ``MAX_SHOWN``
elements show their values, leaves and op outputs alike, as micrograd does.
``highlight=`` takes a :class:`~minigrad.tapecheck.TapeCheckReport`
(``check_tape``) or a :class:`~minigrad.gradcheck.GradcheckReport` (with
``localize=True`` for its per-node verdicts): faulty nodes are drawn red,
nodes of the ops whose kinks a check crossed orange.

A long tape is unreadable as 10,000 boxes and slow to lay out, so a linear
chain (each op's only differentiable input the previous op, used by nothing
else) of ``collapse`` ops or more is drawn as one box with the count of each
op in it.

Rendering (:meth:`Graph.save`, :meth:`Graph.pipe`, Jupyter's ``_repr_svg_``)
runs Graphviz's ``dot`` through the ``graphviz`` Python package, the extra
``minigrad[viz]``; :attr:`Graph.source` needs neither.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np

from . import backend
from .errors import GraphError, MissingDependency
from .tape import tape_nodes
from .tensor import Tensor

MAX_SHOWN = 8  # show_values shows tensors of at most this many elements
_FORMATS = ("svg", "png", "pdf")
_INSTALL = (
    "install the extra and Graphviz itself: pip install 'minigrad[viz]', then apt install graphviz "
    "(Debian/Ubuntu), brew install graphviz (macOS) or see https://graphviz.org/download/"
)


class Graph:
    """A drawing of a tape: its DOT :attr:`source`, renderable to SVG, PNG or PDF."""

    def __init__(self, source: str, boxes: int, edges: int):
        self.source = source
        self.boxes = boxes  # how many boxes (ops, collapsed chains, leaves) the drawing has
        self.edges = edges

    def __repr__(self) -> str:
        return f"<minigrad.viz.Graph: {self.boxes} boxes, {self.edges} arrows>"

    def pipe(self, format: str = "svg") -> bytes:
        """The rendered drawing as bytes, in ``format`` ("svg", "png" or "pdf")."""
        if format not in _FORMATS:
            raise ValueError(f"viz: cannot render to {format!r}; choose one of {', '.join(_FORMATS)}")
        graphviz = _graphviz()
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound as exc:
            raise MissingDependency(
                f"viz: rendering needs Graphviz's dot program, which was not found; {_INSTALL}"
            ) from exc

    def save(self, path) -> str:
        """Render to ``path``, in the format its suffix names (.svg, .png, .pdf); returns the path."""
        path = os.fspath(path)
        format = os.path.splitext(path)[1].lstrip(".").lower()
        if format not in _FORMATS:
            raise ValueError(f"viz: cannot tell the format of {path!r}; give it a .svg, .png or .pdf suffix")
        data = self.pipe(format)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def _repr_svg_(self) -> str:
        return self.pipe("svg").decode("utf-8")


def draw(
    tensor: Tensor,
    *,
    show_values: bool = False,
    show_grads: bool = False,
    params: dict | None = None,
    highlight=None,
    collapse: int | None = 8,
) -> Graph:
    """Draw the graph that ``tensor`` was computed by (see the module docstring).

    Args:
        tensor: the result to draw, usually a loss; it must have been
            computed with some input requiring grad.
        show_values: show the values of tensors with at most ``MAX_SHOWN`` elements.
        show_grads: show each leaf's gradient norm ``|grad|`` (or "no grad").
        params: names for leaves, ``{name: tensor}``, e.g. ``dict(model.named_parameters())``.
        highlight: a check_tape or gradcheck report whose faults and kinks to mark.
        collapse: chains of at least this many ops become one box; None draws every op.

    Raises:
        TypeError: ``tensor`` is not a Tensor.
        ValueError: ``tensor`` has no recorded graph (nothing to draw), or ``collapse`` < 2.
        GraphError: its graph was freed by a ``backward()`` without ``retain_graph=True``
            (backward releases what the tape holds; the picture reads it).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz.draw: expected a Tensor, got {type(tensor).__name__}")
    if tensor._node is None:
        raise ValueError(
            "viz.draw: the tensor has no recorded graph (it is a leaf, or was computed without any input "
            "requiring grad, or under no_grad)"
        )
    if tensor._node.inputs is None:
        raise GraphError(
            "viz.draw: the graph was freed by backward(); call backward(retain_graph=True) to draw it "
            "afterwards (with its gradients), or draw before backward"
        )
    if collapse is not None and collapse < 2:
        raise ValueError(f"viz.draw: collapse must be at least 2 (or None), got {collapse}")
    nodes = tape_nodes(tensor)
    names = {id(t): name for name, t in (params or {}).items()}
    faulty, kinked = _marks(highlight, nodes)
    return _Drawing(nodes, tensor, names, show_values, show_grads, faulty, kinked, collapse).graph()


class _Drawing:
    """Builds the DOT text of one drawing."""

    def __init__(self, nodes, root, names, show_values, show_grads, faulty, kinked, collapse):
        self.nodes, self.root, self.names = nodes, root, names
        self.show_values, self.show_grads = show_values, show_grads
        self.faulty, self.kinked = faulty, kinked
        self.lines = [
            "digraph tape {",
            '  graph [rankdir=TB, fontname="Helvetica"];',
            '  node [shape=box, fontname="Helvetica", fontsize=11];',
            "  edge [arrowsize=0.7];",
        ]
        self.box_of: dict = {}  # node -> the id of the box it is drawn in
        self.leaves: dict = {}  # id(leaf tensor) -> its box id
        self.edges: set = set()
        self.chains = _chains(nodes, collapse) if collapse else {}

    def graph(self) -> Graph:
        for position, node in enumerate(self.nodes):
            chain = self.chains.get(node)
            if chain is not None and chain[0] is not node:  # inside a collapsed chain: already drawn
                self.box_of[node] = self.box_of[chain[0]]
                continue
            box = f"n{position}"
            members = chain or [node]
            self.box_of.update(dict.fromkeys(members, box))
            self._op_box(box, position, members)
            for kind, source in node.sources():
                if kind == "node":
                    self._edge(self.box_of[source], box)
                elif kind == "leaf":
                    self._edge(self._leaf_box(source), box)
        self.lines.append("}")
        boxes = len(set(self.box_of.values())) + len(self.leaves)
        return Graph("\n".join(self.lines) + "\n", boxes, len(self.edges))

    def _op_box(self, box, position, members):
        last = members[-1]
        if len(members) == 1:
            title = f"{last.name}  #{position}"
        else:
            counts = Counter(n.name for n in members)
            title = " ".join(f"{name} ×{count}" for name, count in counts.items())
            title = f"{len(members)} ops: {title}" if len(counts) > 1 else title
        label = [title, _describe(last.out_data)]
        if self.show_values and last.out_data.size <= MAX_SHOWN:
            label.append(_values(last.out_data))
        style = {}
        if any(n in self.faulty for n in members):
            style = {"style": "filled", "fillcolor": "#f4a6a6", "color": "#b00000", "penwidth": "2"}
            label.append("FAULTY vjp")
        elif any(n in self.kinked for n in members):
            style = {"style": "filled", "fillcolor": "#ffd59e", "color": "#c06000"}
            label.append("kink crossed")
        elif last is self.root._node:
            style = {"style": "filled", "fillcolor": "#c8e6c9"}
        self.lines.append(f"  {box} [{_attributes(label=label, **style)}];")

    def _leaf_box(self, leaf) -> str:
        key = id(leaf)
        if key not in self.leaves:
            box = f"x{len(self.leaves)}"
            self.leaves[key] = box
            label = [self.names.get(key, f"input {len(self.leaves) - 1}"), _describe(leaf.array)]
            if self.show_values and leaf.array.size <= MAX_SHOWN:
                label.append(_values(leaf.array))
            if self.show_grads:
                label.append("no grad" if leaf.grad is None else f"|grad| = {_norm(leaf.grad.array):.4g}")
            self.lines.append(f"  {box} [{_attributes(label=label, style='rounded,filled', fillcolor='#dbe9f6')}];")
        return self.leaves[key]

    def _edge(self, tail: str, head: str) -> None:
        if tail != head and (tail, head) not in self.edges:
            self.edges.add((tail, head))
            self.lines.append(f"  {tail} -> {head};")


def _chains(nodes, collapse: int) -> dict:
    """node -> the list of nodes of its collapsed chain, for chains of at least ``collapse`` nodes.

    A node continues the chain of its parent when its only differentiable
    input is that parent's output and nothing else uses that output.
    """
    consumers = Counter()
    for node in nodes:
        for kind, source in node.sources():
            if kind != "const":
                consumers[id(source)] += 1
    chains, current = {}, []
    for node in nodes:
        sources = [s for kind, s in node.sources() if kind != "const"]
        links = len(sources) == 1 and current and sources[0] is current[-1] and consumers[id(current[-1])] == 1
        if links:
            current.append(node)
            continue
        _close(current, chains, collapse)
        current = [node]
    _close(current, chains, collapse)
    return chains


def _close(chain, chains, collapse):
    if len(chain) >= collapse:
        chains.update(dict.fromkeys(chain, chain))


def _marks(report, nodes) -> tuple[set, set]:
    """The nodes to draw as faulty and as having crossed a kink, from a check_tape or gradcheck report."""
    if report is None:
        return set(), set()
    from .numerical import GradcheckReport
    from .tapecheck import TapeCheckReport

    if isinstance(report, GradcheckReport):
        faulty, kinked = _marks(report.localization, nodes) if report.localization is not None else (set(), set())
        crossed = {op.split(" (op ")[0] for kink in report.kinks for op in kink.ops}
        return faulty, kinked | {n for n in nodes if n.name in crossed}
    if isinstance(report, TapeCheckReport):
        by_position = dict(enumerate(nodes))
        faulty = {by_position[c.position] for c in report.nodes if c.faulty and c.position in by_position}
        kinked = {by_position[c.position] for c in report.nodes if c.kinks and c.position in by_position}
        return faulty, kinked
    raise TypeError(f"viz.draw: highlight takes a report of check_tape or gradcheck, got {type(report).__name__}")


def _describe(array) -> str:
    return f"{tuple(array.shape)} {array.dtype}"


def _values(array) -> str:
    values = np.asarray(backend.to_device(array, "cpu"))
    return "data " + np.array2string(values, precision=4, separator=", ", suppress_small=True).replace("\n", "")


def _norm(array) -> float:
    return float(np.linalg.norm(np.asarray(backend.to_device(array, "cpu"), dtype=np.float64)))


def _attributes(label, **style) -> str:
    text = "\\n".join(_escape(line) for line in label)
    return ", ".join([f'label="{text}"'] + [f'{k}="{v}"' for k, v in style.items()])


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _graphviz():
    try:
        import graphviz
    except ImportError as exc:
        raise MissingDependency(f"viz: rendering needs the graphviz Python package; {_INSTALL}") from exc
    return graphviz

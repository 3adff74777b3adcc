"""The backward engine: cotangents propagated through the tape, into a sink.

``run_backward`` collects the nodes the roots depend on (latest first, see
:func:`minigrad.tape.collect`), calls each vjp once, sums cotangents per node,
and hands every cotangent that reaches a leaf to a *sink* (``sink.leaf``;
``sink.wanted``, when not None, maps nodes whose cotangents the sink wants
to them; ``sink.finish`` at the end):

* :class:`GradSink` (``Tensor.backward``): adds them into the leaves'
  ``.grad``;
* :class:`TargetSink` (:func:`minigrad.grad`): keeps the cotangents of
  chosen tensors, leaves or not, and touches no ``.grad``.

Every vjp is written once, with operators and minigrad functions, and runs
in one of two modes. A plain backward installs the raw interpreter, passes
the vjps bare arrays, and every primitive they call returns a bare array,
with no recording and no wrapping: the backward pass costs what the array
library costs. With ``create_graph=True`` they get tensors and are recorded
like any forward, so the gradients can be differentiated again.

Nodes are freed only once the whole pass has succeeded, so an error leaves
the graph and every ``.grad`` as they were.
"""

from __future__ import annotations

from . import backend
from .interpreter import _PER_THREAD, RAW
from .monitor import _check_finite
from .tape import collect


def run_backward(roots, root_grads, sink, *, retain_graph: bool, create_graph: bool) -> None:
    """Propagate ``root_grads`` (tensors) from ``roots`` back through the tape into ``sink``."""
    nodes = collect(roots)
    raw = not create_graph
    node_grads: dict = {}
    for root, g in zip(roots, root_grads):
        if raw:
            g = g.data
        if root._node is None:
            if root.requires_grad:
                sink.leaf(root, g, False)  # the caller's array: never kept without a copy
        else:
            old = node_grads.get(root._node)
            node_grads[root._node] = g if old is None else old + g
    wanted = sink.wanted  # the nodes whose cotangents the sink keeps (grad()'s non-leaf targets), or None

    pop, get = node_grads.pop, node_grads.get
    previous = _PER_THREAD.interpreter
    anomaly = previous.monitor is not None and previous.monitor.anomaly
    _PER_THREAD.interpreter = previous.with_grad(True) if create_graph else RAW
    try:
        for node in nodes:
            g = pop(node, None)
            if g is None:
                continue
            if wanted is not None and node in wanted:
                wanted[node] = g
            inputs = node.inputs
            parents = node.parents
            grads = node.op.vjp(node, g, raw)
            for k, i in enumerate(node.needs):
                gi = grads[k]
                if gi is None:
                    continue
                if anomaly:
                    _check_finite(
                        f"the backward of {node.name} (node #{node.seq}) produced, for its input {i},",
                        gi if raw else gi.data,
                        site=node.site or "",
                    )
                parent = parents[k]
                if parent is None:  # a leaf: the sink sums its cotangents
                    sink.leaf(inputs[i], gi, raw and _fresh(gi, node, g))
                else:
                    old = get(parent)
                    node_grads[parent] = gi if old is None else old + gi
    finally:
        _PER_THREAD.interpreter = previous
    if not retain_graph:
        for node in nodes:
            node.free()
    sink.finish(create_graph)


def _fresh(gi, node, g) -> bool:
    """True when the vjp allocated ``gi``: its memory is none of the arrays the vjp was given.

    A primitive's vjp computes from its cotangent ``g``, its output and its
    inputs; what it returns without new arithmetic is one of those or a
    view of one (``add`` hands ``g`` on, ``sum`` a broadcast view of it).
    An array whose memory root is none of theirs was allocated by the vjp,
    and nothing else can reach it. Custom Functions return what their
    backward returns, which may be anything: never fresh.
    """
    if not node.op.fresh_vjps:
        return False
    kind = type(gi)
    root = gi if gi.base is None else _root(gi)
    if root is (g if type(g) is not kind or g.base is None else _root(g)):
        return False
    given = [node.out_data, *node.arrays]
    if node.op.residual:
        given.extend(node.ctx if isinstance(node.ctx, tuple) else (node.ctx,))
    for a in given:
        if type(a) is kind and root is (a if a.base is None else _root(a)):
            return False
    return True


def _root(array):
    """The array that owns ``array``'s memory (itself, or the end of its chain of bases)."""
    base = array.base
    while base is not None:
        array = base
        base = array.base
    return array


class GradSink:
    """Adds each leaf's cotangent into its ``.grad``, once the whole pass has succeeded.

    ``.grad`` always owns its memory, so in-place updates of one gradient never
    touch another array: a cotangent is kept without a copy only when the
    engine knows it is fresh (see :func:`_fresh`), and then only once.
    """

    wanted = None

    def __init__(self):
        self.grads: dict = {}  # id(leaf) -> [leaf, cotangent, fresh]

    def leaf(self, leaf, g, fresh: bool) -> None:
        entry = self.grads.get(id(leaf))
        if entry is None:
            self.grads[id(leaf)] = [leaf, g, fresh]
        else:
            entry[1] = entry[1] + g
            entry[2] = True

    def finish(self, create_graph: bool) -> None:
        kept = set()  # ids of arrays already made some leaf's .grad
        for leaf, g, fresh in self.grads.values():
            if create_graph:
                if g.dtype != leaf.dtype:
                    g = g.to(dtype=leaf.dtype)
                leaf.grad = g if leaf.grad is None else leaf.grad + g
                continue
            if not backend.is_array(g):
                g = backend.xp_of(g).asarray(g)
                fresh = True
            if g.dtype != leaf.dtype:
                g = g.astype(leaf.dtype)
                fresh = True
            if leaf.grad is None:
                if not fresh or id(g) in kept:
                    g = g.copy()
                kept.add(id(g))
                leaf.grad = _tensor.Tensor._wrap(g)
            else:
                leaf.grad.data += g
                leaf.grad._vc[0] += 1


class TargetSink:
    """Keeps the cotangents of ``targets`` (leaves or not) and leaves ``.grad`` alone."""

    def __init__(self, targets):
        self.targets = targets
        self.leaves: dict = {}  # id(leaf) -> cotangent
        self.wanted = {t._node: None for t in targets if t._node is not None}

    def leaf(self, leaf, g, fresh: bool) -> None:
        old = self.leaves.get(id(leaf))
        self.leaves[id(leaf)] = g if old is None else old + g

    def finish(self, create_graph: bool) -> None:
        self.raw = not create_graph

    def results(self) -> list:
        """One cotangent per target, as a tensor, or None where nothing reached it."""
        results = []
        for t in self.targets:
            g = self.leaves.get(id(t)) if t._node is None else self.wanted.get(t._node)
            if g is not None and self.raw:
                g = _tensor.Tensor._wrap(g if backend.is_array(g) else backend.xp_of(g).asarray(g))
            results.append(g)
        return results


from . import tensor as _tensor  # noqa: E402  (tensor.py imports the autograd modules first)

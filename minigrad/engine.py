"""The backward engine: cotangents propagated through the tape, into a sink.

``run_backward`` collects the nodes the roots depend on (latest first, see
:func:`minigrad.tape.collect`), calls each vjp once, sums cotangents per node,
sums the cotangents that reach each leaf, and hands them to a *sink* at the
end (``sink.finish``; ``sink.wanted``, when not None, collects the
cotangents of chosen nodes on the way):

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

Gradient hooks (``Tensor.register_hook``, ``retain_grad``; see
:class:`minigrad.tape.Hooks`) run on a non-leaf's gradient once all of it has
arrived, which is when its node comes up in sequence order, before its vjp
and before :func:`minigrad.grad` keeps it; on a leaf's, once summed, before
the sink gets it. Their tables are looked at only when not empty: with no
hook anywhere a backward pays one ``is None`` test per node.

Post-accumulate hooks (``Tensor.register_post_accumulate_grad_hook``, what
DistributedDataParallel starts its allreduces from) run as soon as a leaf's
gradient is complete, not at the end: before the pass, the engine finds for
each hooked leaf the last node (in backward order) whose vjp feeds it; once
that node is done, the leaf's tensor hooks run, its ``.grad`` is written and
the post-accumulate hooks get the leaf, while the rest of the backward is
still to come. Such a leaf's ``.grad`` is therefore written before the pass
has succeeded (an error later leaves it updated), as in PyTorch.
"""

from __future__ import annotations

from . import backend
from .interpreter import _PER_THREAD, RAW
from .monitor import _check_finite
from .tape import LEAF_HOOKS, NODE_HOOKS, POST_ACCUMULATE_HOOKS, collect, drop_hooks


def run_backward(roots, root_grads, sink, *, retain_graph: bool, create_graph: bool) -> None:
    """Propagate ``root_grads`` (tensors) from ``roots`` back through the tape into ``sink``."""
    capture = _PER_THREAD.interpreter.capture
    if capture is not None:  # minigrad.compile records this backward (see minigrad.compile)
        return capture.backward(roots, root_grads, sink, retain_graph=retain_graph, create_graph=create_graph)
    nodes = collect(roots)
    raw = not create_graph
    node_grads: dict = {}
    leaf_grads: dict = {}  # id(leaf) -> [leaf, cotangent, the node whose vjp made it, that node's cotangent]
    for root, g in zip(roots, root_grads):
        if raw:
            g = g.array
        if root._node is None:
            if root.requires_grad:
                _add_to_leaf(leaf_grads, root, g, _BORROWED, None)  # the caller's array: never kept without a copy
        else:
            old = node_grads.get(root._node)
            node_grads[root._node] = g if old is None else old + g
    wanted = sink.wanted  # the nodes whose cotangents the sink keeps (grad()'s non-leaf targets), or None

    pop, get = node_grads.pop, node_grads.get
    previous = _PER_THREAD.interpreter
    anomaly = previous.monitor is not None and previous.monitor.anomaly
    _PER_THREAD.interpreter = previous.with_grad(True) if create_graph else RAW
    node_hooks = NODE_HOOKS if _NODE_HOOKED else None  # the tables' dicts: an emptiness test costs no call
    if node_hooks is not None or _LEAF_HOOKED or _POST_HOOKED:
        hook_mode = previous.with_grad(create_graph)  # hooks run as PyTorch's: recording only under create_graph
        retains = sink is GRAD_SINK  # retain_grad fills .grad in backward(), not in grad()
    ready = _ready_after(nodes) if _POST_HOOKED and sink is GRAD_SINK else None  # node -> leaves complete after it
    kept: set = set()
    try:
        for node in nodes:
            g = pop(node, None)
            if g is None:
                if ready is not None and node in ready:
                    _finish_ready(ready.pop(node), leaf_grads, raw, hook_mode, kept, create_graph)
                continue
            if node_hooks is not None:
                hooks = node_hooks.get(node)
                if hooks is not None:
                    g = hooks.run(g, raw, hook_mode, retains)
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
                        f"the backward of {_called_name(node)} (node #{node.seq}) produced, for its input {i},",
                        gi if raw else gi.array,
                        site=node.site or "",
                    )
                parent = parents[k]
                if parent is None:  # a leaf: summed here, handed to the sink at the end
                    _add_to_leaf(leaf_grads, inputs[i], gi, node if raw else _BORROWED, g)
                else:
                    old = get(parent)
                    node_grads[parent] = gi if old is None else old + gi
            if ready is not None and node in ready:
                _finish_ready(ready.pop(node), leaf_grads, raw, hook_mode, kept, create_graph)
        if _LEAF_HOOKED:
            for entry in leaf_grads.values():
                hooks = LEAF_HOOKS.get(entry[0])
                if hooks is not None:
                    g = hooks.run(entry[1], raw, hook_mode, retains)
                    if g is not entry[1]:
                        entry[1], entry[2] = g, _BORROWED  # the hook's array: copied into .grad
    finally:
        _PER_THREAD.interpreter = previous
    if ready is None:
        sink.finish(leaf_grads.values(), create_graph)  # before freeing: freshness reads the nodes' arrays
    else:  # the leaves no node fed last (a root that is a leaf): written now, then their post-accumulate hooks
        GRAD_SINK.finish(leaf_grads.values(), create_graph, kept)
        for entry in leaf_grads.values():
            _run_post_hooks(entry[0], hook_mode)
    if not retain_graph:
        for node in nodes:
            node.free()
        if node_hooks is not None:  # a freed node's hooks can never run again
            for node in nodes:
                drop_hooks(node)


_NODE_HOOKED, _LEAF_HOOKED, _POST_HOOKED = NODE_HOOKS.data, LEAF_HOOKS.data, POST_ACCUMULATE_HOOKS.data


def _ready_after(nodes) -> dict:
    """For each leaf with post-accumulate hooks: the last node in backward order whose vjp feeds it."""
    last: dict = {}
    for node in nodes:
        inputs, parents = node.inputs, node.parents
        if inputs is None:  # freed: its vjp raises the error
            continue
        for k, i in enumerate(node.needs):
            if parents[k] is None and POST_ACCUMULATE_HOOKS.get(inputs[i]) is not None:
                last[id(inputs[i])] = node
    ready: dict = {}
    for leaf_id, node in last.items():
        ready.setdefault(node, []).append(leaf_id)
    return ready


def _finish_ready(leaf_ids, leaf_grads, raw, hook_mode, kept, create_graph) -> None:
    """Leaves whose gradient is complete: their tensor hooks, their ``.grad``, then their post-accumulate hooks."""
    for leaf_id in leaf_ids:
        entry = leaf_grads.pop(leaf_id, None)
        if entry is None:
            continue
        hooks = LEAF_HOOKS.get(entry[0]) if _LEAF_HOOKED else None
        if hooks is not None:
            g = hooks.run(entry[1], raw, hook_mode, True)
            if g is not entry[1]:
                entry[1], entry[2] = g, _BORROWED
        GRAD_SINK.finish((entry,), create_graph, kept)
        _run_post_hooks(entry[0], hook_mode)


def _run_post_hooks(leaf, hook_mode) -> None:
    """Call ``leaf``'s post-accumulate hooks with the leaf, under the hooks' mode, then reinstall the engine's."""
    hooks = POST_ACCUMULATE_HOOKS.get(leaf)
    if hooks is None:
        return
    engine_mode = _PER_THREAD.interpreter
    _PER_THREAD.interpreter = hook_mode
    try:
        for fn in list(hooks.fns):
            fn(leaf)
    finally:
        _PER_THREAD.interpreter = engine_mode


_BORROWED = object()  # marks a leaf cotangent that is the caller's array, or a tensor (create_graph)


def _add_to_leaf(leaf_grads: dict, leaf, g, node, node_g) -> None:
    """Sum ``g`` into the leaf's entry; remember which node's vjp made it (None once it is a sum)."""
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g, node, node_g]
    else:
        entry[1] = entry[1] + g
        entry[2] = None


def _owned(entry) -> bool:
    """True when nothing but the engine holds the entry's cotangent: a sum, or fresh from a vjp (see :func:`_fresh`)."""
    node = entry[2]
    if node is None:
        return True
    return node is not _BORROWED and _fresh(entry[1], node, entry[3])


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
    root = _root(gi)
    given = [g, node.out_data, *node.arrays]
    if node.op.residual:
        given.extend(node.ctx if isinstance(node.ctx, tuple) else (node.ctx,))
    return not any(type(a) is kind and _root(a) is root for a in given)


def _root(array):
    """The array that owns ``array``'s memory: itself, or the last array along its chain of bases.

    The chain ends at an array whose base is no array of its kind: None, or the
    buffer an array was made on (``np.frombuffer``, as pooled work buffers are).
    """
    kind = type(array)
    base = array.base
    while isinstance(base, kind):
        array = base
        base = array.base
    return array


class GradSink:
    """Adds each leaf's cotangent into its ``.grad``, once the whole pass has succeeded.

    ``.grad`` always owns its memory, so in-place updates of one gradient never
    touch another array: a cotangent is kept without a copy only when the
    engine knows it owns it (see :func:`_fresh`), and then only once.
    """

    wanted = None  # no non-leaf cotangents wanted

    @staticmethod
    def finish(entries, create_graph: bool, kept: set | None = None) -> None:
        kept = set() if kept is None else kept  # ids of arrays already made some leaf's .grad
        for entry in entries:
            leaf, g = entry[0], entry[1]
            if create_graph:
                if g.dtype != leaf.dtype:
                    g = g.to(dtype=leaf.dtype)
                leaf.grad = g if leaf.grad is None else leaf.grad + g
                continue
            owned = _owned(entry)
            if not backend.is_array(g):
                g, owned = backend.xp_of(g).asarray(g), True
            if g.dtype != leaf.dtype:
                g, owned = g.astype(leaf.dtype), True
            if leaf.grad is None:
                if not owned or id(g) in kept:
                    g = g.copy()
                kept.add(id(g))
                leaf.grad = _tensor.Tensor._wrap(g)
            else:
                leaf.grad.array += g
                leaf.grad._vc[0] += 1


GRAD_SINK = GradSink()


class TargetSink:
    """Keeps the cotangents of ``targets`` (leaves or not) and leaves ``.grad`` alone."""

    def __init__(self, targets):
        self.targets = targets
        self.wanted = {t._node: None for t in targets if t._node is not None}
        self.results = None

    def finish(self, entries, create_graph: bool) -> None:
        """``results``: one cotangent per target, as a tensor, or None where nothing reached it."""
        leaves = {id(entry[0]): entry[1] for entry in entries}
        self.results = []
        for t in self.targets:
            g = leaves.get(id(t)) if t._node is None else self.wanted.get(t._node)
            if g is not None and not create_graph:
                g = _tensor.Tensor._wrap(g if backend.is_array(g) else backend.xp_of(g).asarray(g))
            self.results.append(g)


from . import tensor as _tensor  # noqa: E402  (tensor.py imports the autograd modules first)


def _called_name(node) -> str:
    """A node's op for anomaly reports: the public op that recorded it (with its primitive), or the primitive."""
    public = getattr(node, "public", None)
    return f"{public} (its primitive {node.name})" if public is not None and public != node.name else node.name

"""Reverse mode on a tape: nodes, grad mode, ``backward`` and ``grad``.

Calling a primitive while some input requires a gradient records a
:class:`Node`: the primitive, its arguments, which of them need a gradient,
the versions of the tensors its vjp will read, and a sequence number that
only grows. The nodes in sequence order form the tape (a Wengert list).

``backward`` collects the nodes the output depends on with an explicit stack
(no recursion, so a 100,000-op chain is fine), orders them by decreasing
sequence number -- a valid reverse topological order, because every node was
recorded after the nodes of its inputs -- and calls each vjp once, summing
cotangents per node and into ``.grad`` of the leaves.

Nodes are owned by the tensors that depend on them: a tensor holds its node,
the node holds its input tensors. A forward whose result is dropped frees its
graph by reference counting alone; there is no global tape to clear.
"""

from __future__ import annotations

import functools
import itertools
import linecache
import os
import sys
import threading
from operator import attrgetter

from . import backend
from .errors import AnomalyError, GraphError

# --- per-thread modes -------------------------------------------------------


class _Modes:
    """One thread's autograd modes. Grad mode and the monitors are per thread, as in PyTorch."""

    __slots__ = ("grad_enabled", "raw", "monitor")

    def __init__(self):
        self.grad_enabled = True
        self.raw = False  # True while a plain backward runs vjps on bare arrays
        self.monitor = None  # a _Monitor while record_signatures, detect_anomaly or record_sites is active


class _PerThread(threading.local):
    """Holds each thread's :class:`_Modes`.

    Every op reads the modes, and an attribute of a thread-local object costs
    four times a plain one; so an op looks up ``modes`` once and then reads
    plain attributes.
    """

    def __init__(self):
        self.modes = _Modes()


_PER_THREAD = _PerThread()


def modes() -> _Modes:
    """This thread's modes (read ``_PER_THREAD.modes`` directly on hot paths)."""
    return _PER_THREAD.modes


def is_grad_enabled() -> bool:
    """True when primitives record nodes in this thread."""
    return modes().grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode for this thread."""

    enabled: bool

    def __enter__(self):
        self._previous = modes().grad_enabled
        modes().grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        modes().grad_enabled = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """Turn recording off (inference, optimizer updates). Works as ``with`` and as a decorator."""

    enabled = False


class enable_grad(_GradMode):
    """Turn recording back on inside a ``no_grad`` block. Works as ``with`` and as a decorator."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``with set_grad_enabled(flag):`` turns recording on or off, as in PyTorch."""

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._previous = modes().grad_enabled
        modes().grad_enabled = self.enabled  # takes effect on construction, as PyTorch's does

    def __enter__(self):  # already set by the constructor; __exit__ restores
        return self

    def __call__(self, fn):
        modes().grad_enabled = self._previous
        mode = self.enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper


# --- branch signatures (kinks) --------------------------------------------


class _Monitor:
    """What watches every op in this thread: a signature recorder, anomaly detection, or both.

    ``modes().monitor`` is None unless one of the two contexts is active, so an
    op pays one attribute read for both features when neither is on.
    """

    __slots__ = ("recorder", "anomaly", "sites", "ops")

    def __init__(self, recorder, anomaly: bool, sites: bool, ops: int = 0):
        self.recorder, self.anomaly, self.ops = recorder, anomaly, ops
        self.sites = sites or anomaly  # nodes remember the user's line that created them

    def observe(self, name: str, signature, arrays, params, out) -> None:
        """Called by every op after its forward: count it, record its signature, check its output."""
        self.ops += 1
        if self.recorder is not None:
            self.recorder.ops += 1
            if signature is not None:
                self.recorder.add(name, signature(*arrays, **params))
        if self.anomaly:
            _check_finite(f"{name} (op {self.ops - 1}) produced", out, arrays, site=user_site())


def _enter_monitor(recorder=None, anomaly=None, sites=None):
    previous = modes().monitor
    modes().monitor = _Monitor(
        recorder if recorder is not None else (previous.recorder if previous else None),
        anomaly if anomaly is not None else (previous.anomaly if previous else False),
        sites if sites is not None else (previous.sites if previous else False),
        previous.ops if previous else 0,
    )
    return previous


class record_sites:
    """Inside the block every recorded node remembers the user's line that created it
    (and custom Functions the random state they ran with), for :func:`minigrad.check_tape`."""

    def __enter__(self):
        self._previous = _enter_monitor(sites=True)
        return self

    def __exit__(self, *exc):
        modes().monitor = self._previous
        return False


class record_signatures:
    """Record the branch signature of every non-smooth op run inside the block.

    A non-smooth primitive (relu, abs, clip, maximum, max, ...) declares a
    function of its inputs that says which side of each kink every element is
    on. Inside this context each such call appends ``(op_name, position,
    signature_array)`` to :attr:`log`, where ``position`` is the op's index
    among all the ops run in the block. Two evaluations whose logs differ
    crossed a kink between them; this is what :func:`minigrad.gradcheck`
    compares at x-h and x+h. Outside the context nothing is computed.
    """

    def __init__(self):
        self.log: list = []
        self.ops = 0  # ops run so far in the block

    def add(self, name: str, signature) -> None:
        self.log.append((name, self.ops - 1, signature))

    def __enter__(self):
        self._previous = _enter_monitor(recorder=self)
        return self

    def __exit__(self, *exc):
        modes().monitor = self._previous
        return False


class detect_anomaly:
    """Raise at the first NaN or Inf that an op produces, forward or backward (PyTorch's anomaly mode).

    Inside the block every op's output is checked, and every cotangent a
    backward computes; the error names the op, its position (the op's index
    in the block forward, its node number backward), the shapes, and the
    line of your code that created the op. Per thread; off (and free) by
    default. Use it as ``with minigrad.detect_anomaly():`` or as a decorator.
    """

    def __enter__(self):
        self._previous = _enter_monitor(anomaly=True)
        return self

    def __exit__(self, *exc):
        modes().monitor = self._previous
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper


def is_anomaly_enabled() -> bool:
    """True inside :class:`detect_anomaly` (in this thread), as ``torch.is_anomaly_enabled``."""
    monitor = modes().monitor
    return monitor is not None and monitor.anomaly


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_site() -> str:
    """``file:line in function: code`` of the innermost frame outside minigrad (where the user called in)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}" + (f": {code}" if code else "")


def _check_finite(what: str, value, inputs=(), site: str = "") -> None:
    """Raise AnomalyError when a floating array holds NaN or Inf."""
    if not backend.is_array(value) or value.dtype.kind not in "fc":
        return
    xp = backend.xp_of(value)
    if bool(xp.isfinite(value).all()):
        return
    kinds = [k for k, bad in (("NaN", xp.isnan(value).any()), ("Inf", xp.isinf(value).any())) if bool(bad)]
    shapes = ", ".join(str(tuple(a.shape)) for a in inputs if backend.is_array(a))
    inherited = any(
        backend.is_array(a) and a.dtype.kind in "fc" and not bool(backend.xp_of(a).isfinite(a).all()) for a in inputs
    )
    raise AnomalyError(
        f"{what} {' and '.join(kinds)} in a result of shape {tuple(value.shape)}"
        + (f" from inputs of shapes {shapes}" if shapes else "")
        + (" (its inputs already held NaN or Inf)" if inherited else "")
        + (f"; created at {site}" if site else "")
    )


# --- nodes ------------------------------------------------------------------

_sequence = itertools.count()


class Node:
    """One recorded application of an op: what its vjp needs, nothing more.

    ``op`` is the primitive (or custom Function) with ``name`` and
    ``vjp(node, g, raw)``, which returns one cotangent per index in
    ``needs``; ``args`` the call's arguments (tensors and constants) and
    ``arrays`` the same with tensors replaced by their arrays; ``params`` its
    keyword settings; ``needs`` the indices of the arguments that require a
    gradient and ``parents`` their nodes when the op ran (None for a leaf),
    kept apart from the arguments because an in-place op later gives an
    argument a new history that this node never read; ``saved`` pairs of
    (version counter, version at record time) for the tensors whose values
    the vjp reads; ``out_data`` the output array
    (no extra memory: the next op holds it anyway) and ``out_vc`` its version
    counter, and ``epoch`` how many recorded in-place ops had changed the
    history of a tensor sharing that counter (the tensor itself, a view of it
    or its base) when the node was made: a tensor whose counter has seen more
    than its node's epoch was changed through an alias, and its node no longer
    describes its value (see :func:`minigrad.ops.inplace`); ``seq`` the
    position on the tape; ``ctx`` what the op kept from
    its forward for its backward (a custom Function's context, a primitive's
    residual).
    """

    __slots__ = (
        "op",
        "args",
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

    def __init__(self, op, args, arrays, params, needs, saved, out_data, out_vc, ctx=None, parents=None):
        self.op = op
        self.args = args
        self.arrays = arrays
        self.params = params
        self.needs = needs
        self.parents = [args[i]._node for i in needs] if parents is None else parents
        self.saved = saved
        self.out_data = out_data
        self.out_vc = out_vc
        self.epoch = out_vc[1] if len(out_vc) > 1 else 0
        self.ctx = ctx
        self.site = None  # where the user created it, recorded in anomaly mode
        self.seq = next(_sequence)

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def freed(self) -> bool:
        return self.args is None

    def output(self):
        """The op's output as a tensor attached to this node (for vjps that reuse it).

        Rebuilding it on demand, as PyTorch does for saved outputs, keeps the
        node from owning its own output, which would make a reference cycle.
        """
        return _tensor.Tensor._wrap(self.out_data, self, self.out_vc)

    def check_saved(self) -> None:
        """Raise if the graph was freed or a tensor the vjp reads changed in place."""
        if self.args is None:
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
        self.args = self.arrays = self.params = self.out_data = self.ctx = self.parents = None
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
    if node is None or len(vc) < 2 or vc[1] == node.epoch or not modes().grad_enabled:
        return
    raise GraphError(
        f"{op}: a tensor of shape {tuple(tensor.shape)} (made by {node.name}, node #{node.seq}) was changed by a "
        "recorded in-place op on a view of it or on its base, so its recorded history no longer gives its "
        "gradient; minigrad does not rebase views. Apply the in-place op to a clone(), use the out-of-place op, "
        "or take the view after the in-place op"
    )


# --- the backward pass --------------------------------------------------------


def _collect(roots, check: bool = True) -> list:
    """The nodes the roots depend on, latest first.

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
        args = node.args
        if args is None:  # freed by an earlier backward
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


def run_backward(roots, root_grads, *, retain_graph: bool, create_graph: bool, targets=None):
    """Propagate ``root_grads`` (tensors) from ``roots`` back through the tape.

    Every vjp is written once, with operators and minigrad functions, and runs
    in one of two modes. A plain backward passes it bare arrays and every
    primitive it calls returns a bare array, with no recording and no
    wrapping: the backward pass costs what the array library costs. With
    ``create_graph=True`` it gets tensors and is recorded like any forward,
    so the gradients can be differentiated again.

    With ``targets`` None, cotangents reaching leaves are added to their
    ``.grad`` (as ``Tensor.backward``). Otherwise returns the cotangents of
    the target tensors, leaves or not, as tensors (or None), and leaves
    ``.grad`` alone (as :func:`grad`). Nodes are freed only once the whole
    pass has succeeded, so an error leaves the graph and every ``.grad`` as
    they were.
    """
    nodes = _collect(roots)
    raw = not create_graph
    node_grads: dict = {}
    leaf_grads: dict = {}  # id(leaf) -> (leaf, cotangent)
    borrowed = set()  # ids of arrays the caller owns: never stored as a .grad without a copy
    for root, g in zip(roots, root_grads):
        if raw:
            g = g.data
            borrowed.add(id(g))
        if root._node is None:
            if root.requires_grad:
                _accumulate_leaf(leaf_grads, root, g)
        else:
            old = node_grads.get(root._node)
            node_grads[root._node] = g if old is None else old + g

    wanted = None if targets is None else {t._node: None for t in targets if t._node is not None}
    pop = node_grads.pop
    state = _PER_THREAD.modes
    anomaly = state.monitor is not None and state.monitor.anomaly
    previous = state.grad_enabled, state.raw
    state.grad_enabled, state.raw = create_graph, raw
    get = node_grads.get
    try:
        for node in nodes:
            g = pop(node, None)
            if g is None:
                continue
            if wanted is not None and node in wanted:
                wanted[node] = g
            args = node.args
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
                if parent is None:  # a leaf: its cotangents are summed here and stored at the end
                    _accumulate_leaf(leaf_grads, args[i], gi)
                else:
                    old = get(parent)
                    node_grads[parent] = gi if old is None else old + gi
    finally:
        state.grad_enabled, state.raw = previous
    if not retain_graph:
        for node in nodes:
            node.free()

    if targets is not None:
        results = []
        for t in targets:
            if t._node is None:
                entry = leaf_grads.get(id(t))
                g = None if entry is None else entry[1]
            else:
                g = wanted.get(t._node)
            results.append(_as_tensor(g, raw))
        return results
    _store_leaf_grads(leaf_grads.values(), create_graph, borrowed)
    return None


def _as_tensor(g, raw: bool):
    if g is None or not raw:
        return g
    return _tensor.Tensor._wrap(g if backend.is_array(g) else backend.xp_of(g).asarray(g))


def _accumulate_leaf(leaf_grads: dict, leaf, g) -> None:
    entry = leaf_grads.get(id(leaf))
    leaf_grads[id(leaf)] = (leaf, g if entry is None else entry[1] + g)


def _store_leaf_grads(entries, create_graph: bool, borrowed: set) -> None:
    """Add each leaf's cotangent into its ``.grad``.

    A cotangent can alias another array (the upstream gradient handed on by
    ``add``, a broadcast view from ``sum``'s vjp, the same array given to two
    leaves, the caller's own ``gradient``); such a one is copied so that
    ``.grad`` always owns its memory and in-place updates of one gradient
    never touch another.
    """
    handed = borrowed
    for leaf, g in entries:
        if create_graph:
            if g.dtype != leaf.dtype:
                g = g.to(dtype=leaf.dtype)
            leaf.grad = g if leaf.grad is None else leaf.grad + g
            continue
        if not backend.is_array(g):
            g = backend.xp_of(g).asarray(g)
        if g.dtype != leaf.dtype:
            g = g.astype(leaf.dtype)
        if leaf.grad is None:
            if id(g) in handed or not _sole_owner(g):
                g = g.copy()
            handed.add(id(g))
            leaf.grad = _tensor.Tensor._wrap(g)
        else:
            leaf.grad.data += g
            leaf.grad._vc[0] += 1


def _sole_owner(array) -> bool:
    """True when nothing but ``array`` can reach its memory.

    Either it owns its buffer, or it is a writable view of the whole of an
    array (say, the transpose that gives a weight gradient its weight's memory
    order) that nothing else references: the view's own ``base`` link, this function's argument and
    ``getrefcount``'s are the only three references. PyTorch steals gradients
    on the same reference-count reasoning.
    """
    if array.flags.owndata:
        return True
    base = array.base
    return (
        base is not None
        and base.base is None
        and array.size == base.size  # a transpose or reshape, not a slice or a broadcast
        and getattr(array.flags, "writeable", True)  # CuPy's flags have no such field: its views are writable
        and sys.getrefcount(base) <= 3
    )


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a tuple, without touching ``.grad``.

    Computes sum_k grad_outputs[k]^T d outputs[k] / d inputs[j] for each j.
    ``grad_outputs`` defaults to ones for scalar outputs. With
    ``create_graph=True`` the backward pass is itself recorded, so the result
    can be differentiated again (Hessian-vector products). ``retain_graph``
    defaults to ``create_graph``.

    Raises GraphError when an input was not used to compute the outputs and
    ``allow_unused`` is False.
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    for t in inputs:
        if not isinstance(t, _tensor.Tensor) or not t.requires_grad:
            raise GraphError("grad: every input must be a tensor that requires grad")
    root_grads = _root_grads("grad", outputs, grad_outputs)
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outputs, root_grads, retain_graph=retain_graph, create_graph=create_graph, targets=inputs)
    for k, r in enumerate(results):
        if r is None and not allow_unused:
            raise GraphError(
                f"grad: input {k} (shape {tuple(inputs[k].shape)}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
    results = [r if r is None or r.dtype == t.dtype else r.to(dtype=t.dtype) for r, t in zip(results, inputs)]
    if not create_graph:
        results = [None if r is None else r.detach() for r in results]
    return tuple(results)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False) -> None:
    """Accumulate into ``.grad`` of the leaves the gradient of ``tensors`` (PyTorch's ``autograd.backward``)."""
    tensors = _as_tuple(tensors)
    root_grads = _root_grads("backward", tensors, grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    run_backward(tensors, root_grads, retain_graph=retain_graph, create_graph=create_graph)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(op: str, outputs, grad_outputs):
    """Check the outputs and build their initial cotangents (ones for scalars)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise GraphError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} gradients")
    root_grads = []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, _tensor.Tensor):
            raise TypeError(f"{op}: outputs must be tensors, got {type(out).__name__}")
        check_history(op, out)
        if not out.requires_grad:
            raise GraphError(
                f"{op}: tensor of shape {tuple(out.shape)} does not require grad and has no grad_fn; "
                "set requires_grad=True on the inputs you want gradients for"
            )
        if g is None:
            data = out.data
            if data.size != 1:
                raise GraphError(
                    f"{op}: gradient can be implicitly created only for scalar outputs, "
                    f"but the output has shape {tuple(out.shape)}; pass gradient= of that shape"
                )
            ones = backend.xp_of(data).empty(data.shape, data.dtype)
            ones.fill(1)  # on the device, not copied to it; and a third of np.ones's cost
            g = _tensor.Tensor._wrap(ones)
        else:
            g = _tensor._to_tensor(g, like=out)
            if g.shape != out.shape:
                raise GraphError(
                    f"{op}: gradient has shape {tuple(g.shape)} but the output has shape {tuple(out.shape)}"
                )
        root_grads.append(g)
    return root_grads


# --- the tape, printed ----------------------------------------------------------


def tape_nodes(tensor) -> list:
    """The nodes ``tensor`` depends on, in tape (sequence) order."""
    return list(reversed(_collect([tensor], check=False)))


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
        for i, arg in enumerate(node.args):
            if not isinstance(arg, _tensor.Tensor):
                parts.append(_short(arg))
            elif i not in node.needs:
                parts.append(f"const{_shape_str(arg.shape)}")
            else:
                parent = node.parents[list(node.needs).index(i)]  # arg's node when the op ran
                key = parent if parent is not None else id(arg)
                if key not in names:  # a leaf seen for the first time
                    names[key] = f"x{n_inputs}"
                    n_inputs += 1
                    lines.append(f"{names[key]:>6} = input {_shape_str(arg.shape)} {arg.dtype}")
                parts.append(names[key])
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


from . import tensor as _tensor  # noqa: E402  (tensor.py imports this module first)

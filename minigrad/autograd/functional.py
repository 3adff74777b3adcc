"""Functional transforms of a function of tensors, as PyTorch's ``torch.autograd.functional``.

Each takes ``func`` (tensors -> a tensor or a tuple of tensors) and
``inputs`` (a tensor or a tuple of tensors) and returns its results in
PyTorch's shapes: one tensor per input when ``inputs`` was a tuple (a tuple,
even of one), a bare tensor when it was a tensor; likewise for outputs.

* :func:`vjp`  -- ``(func(inputs), v^T J)``, one reverse pass;
* :func:`jvp`  -- ``(func(inputs), J v)``, forward mode by the *double-vjp*
  construction (below);
* :func:`jacobian` -- the full J, a reverse pass per output element (or a
  ``jvp`` per input element with ``strategy="forward-mode"``);
* :func:`hessian`  -- the Jacobian of the gradient of a scalar function;
* :func:`vhp` / :func:`hvp` -- ``v^T H`` and ``H v`` without forming H.

Everything is built on :func:`minigrad.grad` with ``create_graph=True``;
minigrad has no per-op forward-mode rules. **Forward mode by double vjp**:
for y = f(x), the map u -> J^T u is linear in u, and its own vjp with
cotangent v is (J^T)^T v = J v. So :func:`jvp` takes the vjp with a dummy u
that requires grad (its value does not matter: zeros), recorded, and
differentiates it with respect to u. It costs about two reverse passes; its
results equal the reverse-mode ones up to rounding, and it works through
every primitive whose vjp is differentiable (all of minigrad's; not custom
Functions, whose backward runs on arrays).

As in PyTorch, the inputs are detached copies (sharing memory) inside the
call unless ``create_graph=True``, in which case the results stay connected
to the graph of the inputs and can be differentiated again. ``strict=True``
raises when an output does not depend on an input (PyTorch's check), instead
of returning zeros for it. ``vectorize`` is accepted for PyTorch's
signature; minigrad always computes the rows one by one, with the same
result.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ArgumentError, DTypeError, GraphError, ShapeError
from ..grad_mode import enable_grad
from ..ops.shape import reshape, stack
from ..tensor import Tensor
from . import grad as _grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# --- shared plumbing ------------------------------------------------------------------------------


def _as_tuple(name: str, what: str, value) -> tuple[bool, tuple]:
    """(was it a tuple, the value as a tuple of tensors); TypeError for anything else."""
    is_tuple = isinstance(value, (tuple, list))
    values = tuple(value) if is_tuple else (value,)
    for k, v in enumerate(values):
        if not isinstance(v, Tensor):
            where = f"{what}[{k}]" if is_tuple else what
            raise TypeError(f"{name}: {where} must be a Tensor, got {type(v).__name__}")
    return is_tuple, values


def _prepare(inputs: tuple, create_graph: bool) -> tuple:
    """Inputs to differentiate with respect to: connected to the caller's graph only under create_graph.

    A detached tensor shares the input's memory and version counter; under
    ``create_graph`` an input that requires grad passes through a recorded
    identity (``view_as``), so the result's graph reaches the original.
    """
    prepared = []
    for x in inputs:
        if create_graph and x.requires_grad:
            prepared.append(x.view_as(x))
        elif x.dtype.kind == "f":
            prepared.append(x.detach().requires_grad_(True))
        else:
            raise DTypeError(f"autograd.functional: inputs must be floating point tensors, got dtype {x.dtype}")
    return tuple(prepared)


def _finish(values, create_graph: bool):
    """Detach the results unless create_graph (PyTorch's ``_grad_postprocess``)."""
    if create_graph:
        return tuple(values)
    return tuple(v.detach() for v in values)


def _out(is_tuple: bool, values: tuple):
    return tuple(values) if is_tuple else values[0]


def _check_v(name: str, v: tuple, like: tuple, what: str) -> None:
    if len(v) != len(like):
        raise ArgumentError(f"{name}: v has {len(v)} tensors but the {what} has {len(like)}")
    for k, (a, b) in enumerate(zip(v, like)):
        if tuple(a.shape) != tuple(b.shape):
            raise ShapeError(
                f"{name}: v[{k}] has shape {tuple(a.shape)} but {what}[{k}] has shape {tuple(b.shape)}; they must match"
            )


def _call(name: str, func: Callable, inputs: tuple) -> tuple[bool, tuple]:
    with enable_grad():
        outputs = func(*inputs)
    return _as_tuple(name, "the output of func", outputs)


def _vjp_of(name, outputs, inputs, cotangents, create_graph: bool, strict: bool, retain_graph: bool = True) -> list:
    """sum_k cotangents[k]^T d outputs[k] / d inputs[j] for each j; zeros where nothing connects (strict: error)."""
    pairs = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad and c is not None]
    if pairs:
        grads = _grad(
            [o for o, _ in pairs],
            inputs,
            grad_outputs=[c for _, c in pairs],
            retain_graph=retain_graph,
            create_graph=create_graph,
            allow_unused=True,
        )
    else:
        grads = (None,) * len(inputs)
    results = []
    for j, (g, x) in enumerate(zip(grads, inputs)):
        if g is None:
            if strict:
                raise GraphError(
                    f"{name}: the output of func does not depend on input {j} (shape {tuple(x.shape)}); "
                    "pass strict=False to get zeros for it"
                )
            g = _zeros(x)
        results.append(g)
    return results


def _zeros(like) -> Tensor:
    return Tensor._wrap(like.xp.zeros(like.shape, like.dtype))


def _ones_for_scalars(name: str, outputs: tuple, what: str) -> tuple:
    for k, o in enumerate(outputs):
        if o.numel() != 1:
            raise ShapeError(
                f"{name}: v can be left out only when every {what} has one element, but {what} {k} has shape "
                f"{tuple(o.shape)}; pass v"
            )
    return tuple(Tensor._wrap(o.xp.ones(o.shape, o.dtype)) for o in outputs)


# --- vjp and jvp --------------------------------------------------------------------------------------


def vjp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product of ``func`` at ``inputs``, one reverse pass.

    With y = func(x), returns y and sum_k v_k^T dy_k/dx_j for every input j.
    ``v`` has the shape of the output(s); it may be left out when the output
    has a single element. Returns ``(outputs, vjp)``, each a tuple when
    ``func`` returned (resp. ``inputs`` was) a tuple, else a tensor.

    Raises ShapeError when ``v``'s shapes differ from the outputs', GraphError
    when ``strict`` and an output does not depend on an input.
    """
    in_tuple, inputs = _as_tuple("vjp", "inputs", inputs)
    xs = _prepare(inputs, create_graph)
    out_tuple, outputs = _call("vjp", func, xs)
    if v is None:
        vs = _ones_for_scalars("vjp", outputs, "output of func")
    else:
        _, vs = _as_tuple("vjp", "v", v)
        _check_v("vjp", vs, outputs, "the output of func")
    grads = _vjp_of("vjp", outputs, xs, vs, create_graph, strict, retain_graph=create_graph)
    return _out(out_tuple, _finish(outputs, create_graph)), _out(in_tuple, _finish(grads, create_graph))


def jvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), J v)``: the Jacobian-vector product, forward mode by the double-vjp construction.

    With y = func(x), returns y and sum_j dy_k/dx_j v_j for every output k.
    u -> J^T u is linear in u, so its vjp with cotangent v is J v: the vjp
    is taken with a dummy u (zeros that require grad), recorded
    (``create_graph=True``), and differentiated with respect to u. No
    per-op forward rules are needed; every primitive's vjp is
    differentiable. ``v`` has the shape of the input(s); it may be left out
    when the input has a single element. Returns ``(outputs, jvp)``, each a
    tuple when ``func`` returned (resp. ``inputs`` was) a tuple, else a
    tensor; the jvp follows the outputs.

    Raises ShapeError when ``v``'s shapes differ from the inputs', GraphError
    when ``strict`` and an output does not depend on the inputs.
    """
    in_tuple, inputs = _as_tuple("jvp", "inputs", inputs)
    if v is None:
        vs = _ones_for_scalars("jvp", inputs, "input")
    else:
        _, vs = _as_tuple("jvp", "v", v)
        _check_v("jvp", vs, inputs, "the input")
    xs = _prepare(inputs, create_graph)
    out_tuple, outputs = _call("jvp", func, xs)
    results = _jvp_of("jvp", outputs, xs, vs, create_graph, strict)
    return _out(out_tuple, _finish(outputs, create_graph)), _out(out_tuple, _finish(results, create_graph))


def _jvp_of(name, outputs, xs, vs, create_graph: bool, strict: bool, retain_graph: bool | None = None) -> list:
    """J v for each output by double vjp: d/du <J^T u, v> at any u (zeros).

    ``retain_graph`` (default: ``create_graph``) keeps the forward's graph for another product.
    """
    dummies = [Tensor._wrap(o.xp.zeros(o.shape, o.dtype)).requires_grad_(True) for o in outputs]
    live = [k for k, o in enumerate(outputs) if o.requires_grad]
    results: list = [None] * len(outputs)
    if live:
        vjps = _grad(
            [outputs[k] for k in live],
            xs,
            grad_outputs=[dummies[k] for k in live],
            retain_graph=True,
            create_graph=True,
            allow_unused=True,
        )
        pairs = [(g, v) for g, v in zip(vjps, vs) if g is not None and g.requires_grad]
        if pairs:
            jvps = _grad(
                [g for g, _ in pairs],
                [dummies[k] for k in live],
                grad_outputs=[v for _, v in pairs],
                retain_graph=create_graph if retain_graph is None else retain_graph,
                create_graph=create_graph,
                allow_unused=True,
            )
            for k, r in zip(live, jvps):
                results[k] = r
    for k, (r, o) in enumerate(zip(results, outputs)):
        if r is None:
            if strict:
                raise GraphError(
                    f"{name}: output {k} of func (shape {tuple(o.shape)}) does not depend on the inputs; "
                    "pass strict=False to get zeros for it"
                )
            results[k] = _zeros(o)
    return results


# --- jacobian and hessian ------------------------------------------------------------------------------


def jacobian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
):
    """The Jacobian of ``func`` at ``inputs``: J[i][j] = d output_i / d input_j, shaped output_i.shape + input_j.shape.

    ``strategy="reverse-mode"`` takes one vjp per output element (cheap when
    outputs are few); ``"forward-mode"`` one :func:`jvp` per input element
    (cheap when inputs are few; by double vjp, see the module docstring).
    The result is a tensor for a single input and output, a tuple over the
    inputs for one output, a tuple over the outputs for one input, and a
    tuple (outputs) of tuples (inputs) otherwise, as PyTorch's. With
    ``create_graph=True`` it is differentiable (:func:`hessian` is built so).
    ``vectorize`` is accepted and changes nothing (the rows are computed one
    by one).

    Raises ArgumentError for an unknown strategy, GraphError when ``strict``
    and an output does not depend on an input.
    """
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ArgumentError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    in_tuple, inputs = _as_tuple("jacobian", "inputs", inputs)
    xs = _prepare(inputs, create_graph)
    out_tuple, outputs = _call("jacobian", func, xs)
    blocks = _jacobian_blocks(outputs, xs, create_graph, strict, strategy)
    blocks = [[b if create_graph else b.detach() for b in row] for row in blocks]
    rows = [_out(in_tuple, tuple(row)) for row in blocks]
    return _out(out_tuple, tuple(rows))


def _jacobian_blocks(outputs, xs, create_graph: bool, strict: bool, strategy: str) -> list:
    """blocks[i][j] = d outputs[i] / d xs[j], shaped outputs[i].shape + xs[j].shape."""
    if strict:
        _check_connected("jacobian", outputs, xs)
    if strategy == "reverse-mode":
        blocks = []
        for i, out in enumerate(outputs):
            flat_rows = [[] for _ in xs]  # per input: one gradient per output element
            n = out.numel()
            for k in range(n):
                onehot = out.xp.zeros(n, out.dtype)
                onehot[k] = 1
                cot = [None] * len(outputs)
                cot[i] = Tensor._wrap(onehot.reshape(out.shape))
                grads = _vjp_of("jacobian", outputs, xs, cot, create_graph, False)
                for j, g in enumerate(grads):
                    flat_rows[j].append(g)
            row = []
            for j, x in enumerate(xs):
                row.append(_assemble(flat_rows[j], tuple(out.shape), tuple(x.shape), x, out, first="out"))
            blocks.append(row)
        return blocks
    columns = [[[] for _ in xs] for _ in outputs]  # columns[i][j]: one jvp per element of input j
    for j, x in enumerate(xs):
        n = x.numel()
        for k in range(n):
            onehot = x.xp.zeros(n, x.dtype)
            onehot[k] = 1
            vs = [Tensor._wrap(y.xp.zeros(y.shape, y.dtype)) for y in xs]
            vs[j] = Tensor._wrap(onehot.reshape(x.shape))
            for i, r in enumerate(_jvp_of("jacobian", outputs, xs, vs, create_graph, False, retain_graph=True)):
                columns[i][j].append(r)
    blocks = []
    for i, out in enumerate(outputs):
        row = []
        for j, x in enumerate(xs):
            row.append(_assemble(columns[i][j], tuple(out.shape), tuple(x.shape), x, out, first="in"))
        blocks.append(row)
    return blocks


def _check_connected(name: str, outputs: tuple, xs: tuple) -> None:
    """strict: raise GraphError naming the first input that no output depends on."""
    _vjp_of(name, outputs, xs, [_ones(o) for o in outputs], False, True)


def _assemble(pieces: list, out_shape: tuple, in_shape: tuple, x, out, first: str):
    """Stack per-element results into one block of shape out_shape + in_shape."""
    if not pieces:  # an empty output or input: nothing to stack
        return Tensor._wrap(x.xp.zeros(out_shape + in_shape, out.dtype if out.dtype.kind == "f" else x.dtype))
    stacked = stack(pieces)  # (n_out, *in_shape) for reverse mode, (n_in, *out_shape) for forward mode
    if first == "out":
        return reshape(stacked, out_shape + in_shape)
    n_out = 1
    for d in out_shape:
        n_out *= d
    return reshape(reshape(stacked, (len(pieces), n_out)).T, out_shape + in_shape)


def hessian(
    func: Callable,
    inputs,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
):
    """The Hessian of the scalar function ``func`` at ``inputs``: H[i][j] = d^2 f / d input_i d input_j.

    The Jacobian (strategy ``outer_jacobian_strategy``) of the gradient map
    x -> grad f(x), which is computed with ``create_graph=True``. Each block
    has shape input_i.shape + input_j.shape; a tensor for a single input, a
    tuple of tuples otherwise, as PyTorch's. ``func`` must return a tensor
    with one element.

    Raises ShapeError when ``func``'s output has more than one element,
    GraphError when ``strict`` and the output does not depend on an input.
    """
    in_tuple, inputs = _as_tuple("hessian", "inputs", inputs)

    def gradient(*xs):
        out_tuple, outputs = _call("hessian", func, xs)
        _check_scalar("hessian", out_tuple, outputs)
        return tuple(_vjp_of("hessian", outputs, xs, (_ones(outputs[0]),), True, strict))

    result = jacobian(
        gradient,
        inputs,
        create_graph=create_graph,
        strict=strict,
        vectorize=vectorize,
        strategy=outer_jacobian_strategy,
    )
    return result if in_tuple else result[0][0]  # the gradient map took and returned tuples


def _ones(out):
    return Tensor._wrap(out.xp.ones(out.shape, out.dtype))


def _check_scalar(name: str, out_tuple: bool, outputs: tuple) -> None:
    if out_tuple or outputs[0].numel() != 1:
        shapes = [tuple(o.shape) for o in outputs]
        raise ShapeError(
            f"{name}: func must return a single tensor with one element, got "
            f"{'a tuple of shapes ' + str(shapes) if out_tuple else 'shape ' + str(shapes[0])}"
        )


def vhp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), v^T H)``: the vector-Hessian product of the scalar function ``func``.

    One reverse pass through the gradient, which is computed with
    ``create_graph=True``: v^T H = d/dx <grad f(x), v>. ``v`` has the
    input(s)' shape (may be left out for a single-element input). Returns
    ``(output, vhp)``, the vhp a tuple when ``inputs`` was one.
    """
    return _hessian_product("vhp", func, inputs, v, create_graph, strict, forward=False)


def hvp(func: Callable, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(inputs), H v)``: the Hessian-vector product of the scalar function ``func``.

    The forward-mode derivative of the gradient map along v, by the
    double-vjp construction (see the module docstring); equal to
    :func:`vhp` for a twice continuously differentiable ``func``, whose
    Hessian is symmetric. Returns ``(output, hvp)``, the hvp a tuple when
    ``inputs`` was one.
    """
    return _hessian_product("hvp", func, inputs, v, create_graph, strict, forward=True)


def _hessian_product(name, func, inputs, v, create_graph: bool, strict: bool, forward: bool):
    in_tuple, inputs = _as_tuple(name, "inputs", inputs)
    if v is None:
        vs = _ones_for_scalars(name, inputs, "input")
    else:
        _, vs = _as_tuple(name, "v", v)
        _check_v(name, vs, inputs, "the input")
    xs = _prepare(inputs, create_graph)
    out_tuple, outputs = _call(name, func, xs)
    _check_scalar(name, out_tuple, outputs)
    gradient = _vjp_of(name, outputs, xs, (_ones(outputs[0]),), True, strict)
    if forward:
        result = _jvp_of(name, gradient, xs, vs, create_graph, strict)
    else:
        result = _vjp_of(name, gradient, xs, vs, create_graph, strict, retain_graph=create_graph)
    return _finish(outputs, create_graph)[0], _out(in_tuple, _finish(result, create_graph))

"""Reverse mode's public API: ``backward``, ``grad``, and the names of PyTorch's ``torch.autograd``.

As ported code spells them: ``Function`` (custom ops, :mod:`minigrad.function`),
``gradcheck``/``gradgradcheck`` (:mod:`minigrad.gradcheck`),
``set_detect_anomaly`` and ``detect_anomaly``, and the transforms of
:mod:`minigrad.autograd.functional` (``vjp jvp jacobian hessian hvp vhp``).

The machinery lives in modules by job:

* :mod:`minigrad.interpreter` -- what calling an op does now (raw arrays in a
  plain backward, eager recording, monitored), one interpreter per thread;
* :mod:`minigrad.grad_mode` -- ``no_grad``, ``enable_grad``, ``set_grad_enabled``;
* :mod:`minigrad.monitor` -- kink signatures, anomaly mode, creation sites;
* :mod:`minigrad.tape` -- the node format, the tape, ``format_tape``;
* :mod:`minigrad.engine` -- the backward pass and its sinks.
"""

from __future__ import annotations

from .. import backend
from ..engine import GRAD_SINK, TargetSink, run_backward
from ..errors import GraphError
from ..grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ..monitor import (
    detect_anomaly,
    is_anomaly_enabled,
    record_signatures,
    record_sites,
    set_detect_anomaly,
    user_site,
)
from ..tape import Node, check_history, format_tape, print_tape, tape_nodes


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
    sink = TargetSink(inputs)
    run_backward(outputs, root_grads, sink, retain_graph=retain_graph, create_graph=create_graph)
    results = sink.results
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
    run_backward(tensors, root_grads, GRAD_SINK, retain_graph=retain_graph, create_graph=create_graph)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(op: str, outputs, grad_outputs):
    """Check the outputs and build their initial cotangents (ones for scalars)."""
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else _as_tuple(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise GraphError(f"{op}: got {len(outputs)} outputs but {len(grad_outputs)} gradients")
    root_grads = []
    for out, g in zip(outputs, grad_outputs):
        if not isinstance(out, _tensor.Tensor):
            raise TypeError(f"{op}: outputs must be tensors, got {type(out).__name__}")
        if len(out._vc) > 1:  # an in-place op was recorded on it or an alias of it
            check_history(op, out)
        if not out.requires_grad:
            raise GraphError(
                f"{op}: tensor of shape {tuple(out.shape)} does not require grad and has no grad_fn; "
                "set requires_grad=True on the inputs you want gradients for"
            )
        if g is None:
            data = out.array
            if data.size != 1:
                raise GraphError(
                    f"{op}: gradient can be implicitly created only for scalar outputs, "
                    f"but the output has shape {tuple(out.shape)}; pass gradient= of that shape"
                )
            ones = backend.xp_of(data).empty(data.shape, data.dtype)
            ones.fill(1)  # on the device, not copied to it; and cheaper than np.ones
            g = _tensor.Tensor._wrap(ones)
        else:
            g = _tensor._to_tensor(g, like=out)
            if g.shape != out.shape:
                raise GraphError(
                    f"{op}: gradient has shape {tuple(g.shape)} but the output has shape {tuple(out.shape)}"
                )
        root_grads.append(g)
    return root_grads


__all__ = [
    "Function",
    "Node",
    "backward",
    "check_history",
    "detect_anomaly",
    "enable_grad",
    "format_tape",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "print_tape",
    "record_signatures",
    "record_sites",
    "set_detect_anomaly",
    "set_grad_enabled",
    "tape_nodes",
    "user_site",
]

from .. import tensor as _tensor  # noqa: E402  (tensor.py imports this module first)
from ..function import Function  # noqa: E402  (PyTorch's torch.autograd.Function)
from ..gradcheck import gradcheck, gradgradcheck  # noqa: E402  (torch.autograd.gradcheck, .gradgradcheck)
from . import functional  # noqa: E402  (torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp)

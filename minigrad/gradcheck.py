"""gradcheck: analytic gradients against centered differences, with kinks found and the faulty op named.

:func:`gradcheck` is the numerical checker of :mod:`minigrad.numerical` (the
practice, kinks, fast mode: see there) plus localisation: when a check fails,
:func:`minigrad.check_tape` checks every node of the tape on its own and names
the first faulty op. :func:`gradgradcheck` checks second derivatives.
"""

from __future__ import annotations

import numpy as np

from . import backend
from .autograd import grad as _grad
from .numerical import GradcheckError, GradcheckReport, InputResult, Kink, _finish, check, verdict
from .ops.shape import concatenate, reshape
from .tapecheck import check_tape
from .tensor import Tensor


def gradcheck(
    fn,
    inputs,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-7,
    floor: float = 1e-12,
    fast_mode: bool = False,
    check_kinks: bool = True,
    fail_on_kinks: bool = False,
    max_coordinates: int | None = None,
    seed: int = 0,
    raise_exception: bool = True,
    localize=False,
    in_place: bool = False,
) -> GradcheckReport:
    """Check the gradients of ``fn`` at ``inputs`` against centered differences.

    Args:
        fn: maps the tensors in ``inputs`` to a tensor (scalar or not).
        inputs: a tensor or a sequence of tensors (and constants); every
            tensor that requires grad is checked.
        eps: the step h of the centered difference.
        rtol: the largest relative error that passes (default: the
            "correct" band in float64).
        floor: a lower bound for the denominator of the relative error, on
            top of the automatic noise floor (see the module docstring); the
            default makes differences below 1e-19 count as agreement.
        fast_mode: compare v^T J u for random unit u, v instead of the full
            Jacobian.
        check_kinks: detect coordinates whose x-h and x+h evaluations cross a
            kink, report them and leave them out of the verdict.
        fail_on_kinks: make a crossed kink fail the check instead.
        max_coordinates: in full mode, check at most this many coordinates
            of each input, drawn at random (with ``seed``): for large inputs.
        seed: minigrad's generator is re-seeded with it before every
            evaluation, so stochastic ops (dropout) repeat their draws.
        raise_exception: raise :class:`GradcheckError` (carrying the report)
            when the check fails, instead of returning the failed report.
        localize: when the check fails (or always, with ``"always"``), check
            every node of the tape on its own (:func:`minigrad.check_tape`)
            and attach the result as ``report.localization``: it names the
            first faulty op, its input, and the line that created it.
        in_place: use the input tensors themselves, not float64 copies: they
            must be contiguous float64 tensors; each coordinate is perturbed
            in place and restored (how a model's own parameters are checked).

    Returns:
        A :class:`GradcheckReport`.

    Raises:
        GradcheckError: the check failed and ``raise_exception`` is set.
        ValueError: no input requires grad. TypeError: ``fn`` did not return a
            floating-point tensor.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    settings = dict(eps=eps, rtol=rtol, floor=floor, check_kinks=check_kinks, max_coordinates=max_coordinates)
    report = check(fn, inputs, fast_mode=fast_mode, seed=seed, raise_exception=False, in_place=in_place, **settings)
    if localize == "always" or (localize and not report.passed) or (localize and fail_on_kinks and report.kinks):
        report.localization = check_tape(fn, inputs, eps=eps, rtol=rtol, seed=seed)
    return _finish(report, fail_on_kinks, raise_exception)


def gradgradcheck(fn, inputs, grad_outputs=None, **kwargs) -> GradcheckReport:
    """Check second derivatives: gradcheck of x -> v^T (d fn / d x), differentiated through ``create_graph=True``.

    ``grad_outputs`` is the fixed cotangent v (random, seeded, when None).
    Takes the same keyword arguments as :func:`gradcheck`.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [k for k, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
    with backend.fork_rng():
        backend.manual_seed(kwargs.get("seed", 0))
        probe = fn(*inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(kwargs.get("seed", 0) + 1)
        cotangent = rng.standard_normal(probe.shape)
    else:
        cotangent = backend.to_device(grad_outputs.array if isinstance(grad_outputs, Tensor) else grad_outputs, "cpu")

    def first_derivatives(*xs):
        out = fn(*xs)
        v = Tensor._wrap(backend.to_device(np.asarray(cotangent, dtype=out.dtype), out.device))
        targets = [xs[k] for k in checked]
        grads = _grad(out, targets, grad_outputs=v, create_graph=True, allow_unused=True)
        flat = [reshape(g if g is not None else t * 0, (-1,)) for g, t in zip(grads, targets)]
        return concatenate(flat)

    return gradcheck(first_derivatives, inputs, **kwargs)


__all__ = ["gradcheck", "gradgradcheck", "GradcheckReport", "GradcheckError", "InputResult", "Kink", "verdict"]

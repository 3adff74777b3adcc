"""The sanity checks every practitioner runs before trusting a training run.

* :func:`gradcheck_model` -- the gradient of the loss with respect to the
  parameters, on a few samples (few data points, few kinks), sampling
  coordinates of large parameters, optionally after some burn-in steps so
  the check happens in a characteristic state rather than at
  initialization, and with the data loss and the regularization term
  checked separately, so a correct regularizer cannot hide a wrong data
  gradient.
* :func:`initial_loss` -- a softmax classifier at initialization predicts
  roughly uniformly, so its cross-entropy should be about ln(num_classes)
  (2.303 for 10 classes).
* :func:`regularization_raises_loss` -- raising the regularization strength
  must raise the training loss.
* :func:`overfit_small` -- a model that cannot drive the loss on 20 samples
  to (near) zero has a bug.
* :func:`run_all` -- all of them, one printed report.

A model is anything callable on the inputs with a ``parameters()`` method
(every ``minigrad.nn.Module``); ``loss_fn(outputs, targets)`` returns a
scalar tensor; an optimizer is built by a factory ``make_optimizer(params)``
and has ``step()`` and ``zero_grad()``.
"""

from __future__ import annotations

import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .autograd import no_grad
from .gradcheck import GradcheckReport, gradcheck


@dataclass
class CheckResult:
    """The outcome of one sanity check: a verdict, a one-line message and the numbers behind it."""

    name: str
    passed: bool
    message: str
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return f"[{'PASS' if self.passed else 'FAIL'}] {self.name}: {self.message}"


@dataclass
class ModelGradcheck(CheckResult):
    """:func:`gradcheck_model`'s result: one gradcheck report per loss term."""

    reports: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [super().__str__()]
        for term, report in self.reports.items():
            lines.append(f"  {term}:")
            lines.extend("    " + line for line in str(report).splitlines())
        return "\n".join(lines)


@dataclass
class SanityReport:
    """What :func:`run_all` found: every check's result, printed as one report."""

    results: list

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        head = f"sanity checks: {sum(r.passed for r in self.results)}/{len(self.results)} passed"
        return "\n".join([head] + [str(r) for r in self.results])


def _params(model) -> list:
    return [p for p in model.parameters() if p.requires_grad]


def _subset(inputs, targets, n):
    return (inputs if n is None else inputs[:n]), (targets if n is None else targets[:n])


def gradcheck_model(
    model,
    loss_fn,
    inputs,
    targets,
    *,
    samples: int | None = 4,
    coordinates_per_parameter: int | None = 20,
    regularization=None,
    burn_in_steps: int = 0,
    make_optimizer=None,
    scale: float = 1.0,
    small_loss: float = 1e-8,
    seed: int = 0,
    **gradcheck_kwargs,
) -> ModelGradcheck:
    """Check d loss / d parameters of ``model`` against centered differences.

    Args:
        model, loss_fn, inputs, targets: see the module docstring.
        samples: use the first ``samples`` data points (None: all). Few points
            mean few kinks crossed.
        coordinates_per_parameter: check this many coordinates of each
            parameter, drawn at random (None: all).
        regularization: ``regularization(model) -> scalar tensor``; when
            given, the data loss and this term are checked separately.
        burn_in_steps: train this many steps first (on the same samples) with
            ``make_optimizer(params)``, so the check sees a trained state.
        scale: multiply the loss by this factor for the check; when the loss
            is smaller than ``small_loss`` a warning suggests a factor.
        gradcheck_kwargs: passed to :func:`minigrad.gradcheck` (``rtol``,
            ``eps``, ``fast_mode``, ...).

    The parameters are checked in float64 and restored afterwards (burn-in
    steps, when asked for, are kept: they are part of the state checked).
    """
    x, y = _subset(inputs, targets, samples)
    params = _params(model)
    if burn_in_steps:
        _train(model, loss_fn, make_optimizer, x, y, burn_in_steps)
    terms = {"data loss": lambda: loss_fn(model(x), y) * scale}
    if regularization is not None:
        terms["regularization"] = lambda: regularization(model) * scale
    fast = gradcheck_kwargs.pop("fast_mode", False)
    fail_on_kinks = gradcheck_kwargs.pop("fail_on_kinks", False)
    originals = [p.array for p in params]
    reports = {}
    notes = []
    try:
        for p in params:
            p.array = backend.xp_of(p.array).ascontiguousarray(p.array, dtype=np.float64)
        for term, compute in terms.items():
            with no_grad():
                value = float(compute().item())
            if 0 < abs(value) < small_loss:
                factor = 10 ** math.ceil(-math.log10(abs(value)))
                message = (
                    f"{term} is {value:.2e}: float64 differences of numbers this small lose digits; "
                    f"pass scale={factor:.0e} to check scale * loss"
                )
                warnings.warn(f"gradcheck_model: {message}", stacklevel=2)
                notes.append(message)
            reports[term] = gradcheck(
                lambda *_, compute=compute: compute(),
                params,
                in_place=True,
                fast_mode=fast,
                fail_on_kinks=fail_on_kinks,
                max_coordinates=None if fast else coordinates_per_parameter,
                seed=seed,
                raise_exception=False,
                **_checker_args(gradcheck_kwargs),
            )
    finally:
        for p, data in zip(params, originals):
            p.array = data
    passed = all(r.passed for r in reports.values())
    worst = max(r.max_rel_error for r in reports.values())
    summary = ", ".join(f"{t} {r.max_rel_error:.1e} [{r.verdict}]" for t, r in reports.items())
    message = f"max relative error {worst:.1e} ({summary})" + "".join(f"; {n}" for n in notes)
    return ModelGradcheck("gradcheck_model", passed, message, {"max_rel_error": worst}, reports)


def _checker_args(kwargs) -> dict:
    """The gradcheck settings a model check passes on (gradcheck's own defaults apply to the rest)."""
    unknown = set(kwargs) - {"eps", "rtol", "floor", "check_kinks"}
    if unknown:
        raise TypeError(f"gradcheck_model: unknown gradcheck arguments {sorted(unknown)}")
    return kwargs


def _train(model, loss_fn, make_optimizer, x, y, steps) -> list:
    if make_optimizer is None:
        raise ValueError("training steps need make_optimizer, a function from parameters to an optimizer")
    optimizer = make_optimizer(_params(model))
    if hasattr(model, "train"):
        model.train()
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.item()))
    return losses


def initial_loss(model, loss_fn, inputs, targets, num_classes: int, tolerance: float = 0.1) -> CheckResult:
    """Compare the loss at initialization with ln(num_classes), the loss of a uniform prediction.

    Passes when the relative gap is within ``tolerance``. A much larger loss
    usually means initial weights that are too large (over-confident wrong
    predictions); a much smaller one, a bug that leaks the targets.
    """
    with no_grad():
        loss = float(loss_fn(model(inputs), targets).item())
    expected = math.log(num_classes)
    gap = (loss - expected) / expected
    passed = abs(gap) <= tolerance
    message = f"loss {loss:.4f} vs ln({num_classes}) = {expected:.4f} (gap {gap:+.1%})"
    if not passed:
        message += "; too high: initial weights too large?" if gap > 0 else "; too low: do the targets leak?"
    return CheckResult("initial_loss", passed, message, {"loss": loss, "expected": expected, "gap": gap})


def regularization_raises_loss(
    model, loss_fn, inputs, targets, regularization, strengths=(0.0, 1e-3, 1e-1, 1.0)
) -> CheckResult:
    """The training loss ``data loss + s * regularization(model)`` must increase with the strength s."""
    with no_grad():
        data = loss_fn(model(inputs), targets)
        reg = regularization(model)
        losses = [float((data + s * reg).item()) for s in strengths]
    increasing = all(b > a for a, b in zip(losses, losses[1:]))
    shown = ", ".join(f"{s:g}: {v:.4f}" for s, v in zip(strengths, losses))
    message = f"loss by strength {shown}" + ("" if increasing else "; the regularizer does not raise the loss")
    return CheckResult("regularization_raises_loss", increasing, message, {"strengths": strengths, "losses": losses})


def overfit_small(
    model, loss_fn, make_optimizer, inputs, targets, n: int = 20, steps: int = 200, threshold: float = 0.05
) -> CheckResult:
    """Train on ``n`` samples; the loss must fall (near) zero: below ``threshold``.

    Trains ``model`` itself (pass a copy to keep the original).
    """
    x, y = _subset(inputs, targets, n)
    losses = _train(model, loss_fn, make_optimizer, x, y, steps)
    final = losses[-1]
    passed = final < threshold
    message = f"loss {losses[0]:.4f} -> {final:.4f} after {steps} steps on {len(x)} samples"
    if not passed:
        message += f"; it should reach below {threshold}: a model that cannot overfit 20 samples has a bug"
    return CheckResult("overfit_small", passed, message, {"losses": losses})


def run_all(
    model,
    loss_fn,
    inputs,
    targets,
    *,
    num_classes: int | None = None,
    make_optimizer=None,
    regularization=None,
    overfit_steps: int = 200,
    print_report: bool = True,
    **gradcheck_kwargs,
) -> SanityReport:
    """Run every check that the arguments allow on ``model`` and print one report.

    The overfitting check trains a deep copy, so ``model`` is left as it was.
    """
    results = []
    if num_classes is not None:
        results.append(initial_loss(model, loss_fn, inputs, targets, num_classes))
    if regularization is not None:
        results.append(regularization_raises_loss(model, loss_fn, inputs, targets, regularization))
    results.append(gradcheck_model(model, loss_fn, inputs, targets, regularization=regularization, **gradcheck_kwargs))
    if make_optimizer is not None:
        results.append(
            overfit_small(copy.deepcopy(model), loss_fn, make_optimizer, inputs, targets, steps=overfit_steps)
        )
    report = SanityReport(results)
    if print_report:
        print(report)
    return report


__all__ = [
    "CheckResult",
    "ModelGradcheck",
    "SanityReport",
    "gradcheck_model",
    "initial_loss",
    "regularization_raises_loss",
    "overfit_small",
    "run_all",
    "GradcheckReport",
]

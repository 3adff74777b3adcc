"""The numerical gradient checker and its reports: analytic gradients against centered differences.

This module is the checker itself (:func:`check`); :func:`minigrad.gradcheck`
adds localisation on top of it (:mod:`minigrad.tapecheck`, which checks each
node with this same checker).

The practice, as code:

* The numerical derivative is the centered difference
  ``(f(x + h e_i) - f(x - h e_i)) / 2h``, in float64 (lower-precision inputs
  are promoted, with a warning), whose error is O(h^2) instead of O(h).
* Analytic value ``a`` and numerical value ``n`` are compared by the relative
  error ``|a - n| / max(|a|, |n|, floor)``. The floor is what makes two values
  that are both at noise level agree: evaluating f in float64 leaves a
  rounding error of about ``eps_machine * S / h`` in ``n``, where S is the
  size of the terms f adds up (estimated as ``max(|f|, sum_j |J_j x_j|)``,
  which sees cancellation), so ``floor = max(floor_argument,
  4 * eps_machine * S / h / rtol)`` and a difference at that noise level has a
  relative error of at most ``rtol``.
* Verdict bands, as the practice goes: above 1e-2 the gradient is wrong;
  1e-2..1e-4 suspicious; 1e-4..1e-7 acceptable only where kinks or depth
  explain it; below 1e-7 correct. The check passes when every compared value
  is within ``rtol`` (default 1e-7, the "correct" band in float64).
* Kinks: non-smooth ops declare branch signatures; the evaluations at x-h and
  x+h record them, and a coordinate whose signatures differ crossed a kink,
  so its numerical derivative is not trusted: it is reported (with the op's
  name and position) and left out of the verdict unless ``fail_on_kinks``.
  For custom ops that declare no signature, a black-box test backs this up:
  the slopes between x-2h, x-h, x, x+h, x+2h must change linearly for a
  smooth function; a jump flags a suspected kink.
* A value that fails is looked at again before it is reported: Richardson
  extrapolation with x +- 2h cancels the h^2 truncation error, and if it
  still fails, wider extrapolated stencils (10h, 100h) separate rounding
  noise, which shrinks as 1/h, from a wrong gradient, which does not.
* Fast mode compares ``v^T J u`` for random unit vectors: one backward and
  two evaluations per input instead of 2n, still sensitive to a gradient
  wrong by a factor 1.001.
* Randomness: minigrad's generator is re-seeded with ``seed`` before every
  evaluation of ``fn`` and before the analytic pass, so dropout draws the same
  mask each time; the user's generator state is restored afterwards.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .autograd import grad as _grad
from .errors import MinigradError
from .monitor import record_signatures
from .tape import tape_nodes
from .tensor import Tensor

BANDS = ((1e-7, "correct"), (1e-4, "acceptable"), (1e-2, "suspicious"), (math.inf, "wrong"))
_NOISE_SAFETY = 4.0


def verdict(rel_error: float) -> str:
    """The practice's band for a relative error: correct, acceptable, suspicious or wrong."""
    if not rel_error <= math.inf:  # NaN
        return "wrong"
    for limit, name in BANDS:
        if rel_error < limit:
            return name
    return "wrong"


class _BackwardFailed(Exception):
    """The analytic pass raised: gradcheck turns this into a failed report."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class GradcheckError(MinigradError, RuntimeError):
    """A gradient check failed; ``.report`` holds the :class:`GradcheckReport`."""

    def __init__(self, report: GradcheckReport):
        super().__init__(f"gradcheck failed\n{report}")
        self.report = report


@dataclass
class Kink:
    """A coordinate whose evaluations at x-h and x+h fell on different sides of a kink."""

    input: int
    index: tuple | None  # the coordinate in the input; None for a direction (fast mode)
    ops: tuple  # e.g. ("relu (op 3)",), or the black-box test's "suspected kink"

    def __str__(self) -> str:
        where = "along the test direction" if self.index is None else f"at {self.index}"
        return f"input {self.input} {where}: {', '.join(self.ops)}"


@dataclass
class InputResult:
    """The comparison for one input: its worst element and how many values were compared."""

    input: int
    shape: tuple
    max_rel_error: float
    worst_index: tuple | None  # coordinate of the input (None in fast mode)
    output_index: tuple | None  # output element of the worst value (None in fast mode)
    analytic: float
    numerical: float
    compared: int
    kinks: int

    @property
    def verdict(self) -> str:
        return verdict(self.max_rel_error)


@dataclass
class GradcheckReport:
    """What :func:`gradcheck` found; ``bool(report)`` is ``report.passed``."""

    passed: bool
    max_rel_error: float
    inputs: list = field(default_factory=list)
    kinks: list = field(default_factory=list)
    mode: str = "full"
    evaluations: int = 0
    rtol: float = 1e-7
    notes: list = field(default_factory=list)
    fail_on_kinks: bool = False
    localization: object = None  # a TapeCheckReport when localize= asked for one
    backward_error: str = ""  # what the analytic pass raised, when it did

    def __bool__(self) -> bool:
        return self.passed

    @property
    def verdict(self) -> str:
        return verdict(self.max_rel_error)

    def __str__(self) -> str:
        head = (
            f"gradcheck {'PASSED' if self.passed else 'FAILED'} ({self.mode} mode, {self.evaluations} evaluations): "
            f"max relative error {self.max_rel_error:.2e} [{self.verdict}], tolerance {self.rtol:.0e}"
        )
        rows = [("input", "shape", "max rel err", "verdict", "worst at", "analytic", "numerical", "kinks")]
        for r in self.inputs:
            where = "-" if r.worst_index is None else str(r.worst_index)
            if r.output_index not in (None, ()):
                where += f" -> out {r.output_index}"
            rows.append(
                (
                    str(r.input),
                    str(r.shape),
                    f"{r.max_rel_error:.2e}",
                    r.verdict,
                    where,
                    f"{r.analytic:.10g}",
                    f"{r.numerical:.10g}",
                    str(r.kinks),
                )
            )
        widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        if self.kinks:
            shown = self.kinks[:10]
            effect = "failing the check" if self.fail_on_kinks else "left out of the verdict"
            lines.append(f"  kinks crossed ({len(self.kinks)}, {effect}):")
            lines.extend(f"    {k}" for k in shown)
            if len(self.kinks) > len(shown):
                lines.append(f"    ... and {len(self.kinks) - len(shown)} more")
        lines.extend(f"  note: {n}" for n in self.notes)
        if self.localization is not None:
            lines.append(str(self.localization))
        return "\n".join(lines)


def check(
    fn,
    inputs,
    *,
    fast_mode: bool = False,
    max_coordinates: int | None = None,
    fail_on_kinks: bool = False,
    raise_exception: bool = True,
    in_place: bool = False,
    **settings,
) -> GradcheckReport:
    """:func:`minigrad.gradcheck` without localisation; its arguments are gradcheck's.

    ``settings`` are the comparison's: ``eps``, ``rtol``, ``floor``,
    ``check_kinks`` and ``seed``, with gradcheck's defaults.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    with backend.fork_rng():
        checker = _Checker(fn, inputs, promote=not in_place, **settings)
        try:
            report = checker.fast() if fast_mode else checker.full(max_coordinates)
        except _BackwardFailed as failure:
            report = GradcheckReport(False, math.inf, mode="fast" if fast_mode else "full", rtol=checker.rtol)
            report.backward_error = failure.error
            report.notes.append(f"the backward raised {failure.error}; no gradient to compare")
    return _finish(report, fail_on_kinks, raise_exception)


def _finish(report: GradcheckReport, fail_on_kinks: bool, raise_exception: bool) -> GradcheckReport:
    report.fail_on_kinks = fail_on_kinks
    if fail_on_kinks and report.kinks:
        report.passed = False
    if raise_exception and not report.passed:
        raise GradcheckError(report)
    return report


class _Checker:
    """One gradcheck run: float64 copies of the inputs, evaluations, comparisons.

    With ``promote=False`` (gradcheck's ``in_place=True``) the inputs are used
    as they are (they must be contiguous float64 tensors, perturbed in place
    and restored): this is how a model's own parameters are checked.
    """

    def __init__(self, fn, inputs, *, eps=1e-6, rtol=1e-7, floor=1e-12, check_kinks=True, seed=0, promote=True):
        self.fn, self.eps, self.rtol, self.floor = fn, eps, rtol, floor
        self.check_kinks, self.seed = check_kinks, seed
        self.evaluations = 0
        self.notes = []
        self.args = list(inputs)
        self.checked = [k for k, a in enumerate(inputs) if isinstance(a, Tensor) and a.requires_grad]
        if not self.checked:
            raise ValueError("gradcheck: no input requires grad; pass tensors with requires_grad=True")
        promoted = []
        for k, a in enumerate(inputs if promote else ()):
            if isinstance(a, Tensor) and a.dtype.kind == "f":
                if a.dtype != np.float64:
                    promoted.append(f"input {k} ({a.dtype})")
                copy = Tensor._wrap(a.array.astype(np.float64, order="C"))  # C order: perturbed through a flat view
                self.args[k] = copy.requires_grad_() if a.requires_grad else copy
        if promoted:
            warnings.warn(
                f"gradcheck: {', '.join(promoted)} promoted to float64 for the check: centered differences "
                "need float64 precision",
                stacklevel=3,
            )
        self.blackbox = False

    # --- evaluations --------------------------------------------------------------
    def evaluate(self, record: bool = False):
        """f at the current argument values, flattened to float64 (plus the signature log)."""
        backend.manual_seed(self.seed)
        self.evaluations += 1
        if record:
            with record_signatures() as rec:
                out = self.fn(*self.args)
            return _flat(out), rec.log
        return _flat(self.fn(*self.args)), None

    def forward(self) -> Tensor:
        backend.manual_seed(self.seed)
        self.evaluations += 1
        out = self.fn(*self.args)
        if not isinstance(out, Tensor) or out.dtype.kind != "f":
            raise TypeError(f"gradcheck: fn must return a floating-point tensor, got {_describe(out)}")
        if out.dtype != np.float64:
            warnings.warn(
                f"gradcheck: fn returned {out.dtype} from float64 inputs; it casts internally, which limits "
                "the precision of the numerical derivative",
                stacklevel=4,
            )
        if self.check_kinks and out.requires_grad:
            self.blackbox = not all(node.op.declares_kinks for node in tape_nodes(out))
        return out

    def vjp(self, out: Tensor, cotangent) -> list:
        """The analytic v^T J for each checked input (zeros where an input is unused)."""
        targets = [self.args[k] for k in self.checked]
        if not out.requires_grad:
            return [np.zeros(t.shape) for t in targets]
        v = Tensor._wrap(backend.to_device(np.asarray(cotangent, dtype=out.dtype).reshape(out.shape), out.device))
        try:
            grads = _grad(out, targets, grad_outputs=v, retain_graph=True, allow_unused=True)
        except Exception as exc:  # a vjp that raises is a failed check, reported, not a crash
            raise _BackwardFailed(f"{type(exc).__name__}: {exc}") from exc
        return [
            np.zeros(t.shape) if g is None else backend.to_device(g.array, "cpu").astype(np.float64)
            for g, t in zip(grads, targets)
        ]

    def perturbed(self, k: int, direction, base, step: float, record: bool):
        """Evaluate f with input k moved from ``base`` by ``step`` along ``direction``.

        ``direction`` is a unit vector, or an int: the index of one coordinate
        (only that element is written, so a full check stays linear in n).
        """
        flat = self.args[k].array.reshape(-1)
        if isinstance(direction, int):
            flat[direction] = base[direction] + step
            result = self.evaluate(record)
            flat[direction] = base[direction]
            return result
        flat[...] = backend.to_device(base + step * direction, backend.device_of(flat))
        result = self.evaluate(record)
        flat[...] = backend.to_device(base, backend.device_of(flat))
        return result

    # --- kinks -------------------------------------------------------------------------
    def crossed(self, log_minus, log_plus) -> tuple:
        """The ops whose branch signatures differ between the two evaluations."""
        ops = []
        if len(log_minus) != len(log_plus):
            return ("the evaluations ran different ops (a data-dependent branch)",)
        for (name, pos, sig_m), (_, _, sig_p) in zip(log_minus, log_plus):
            if not _same(sig_m, sig_p):
                ops.append(f"{name} (op {pos})")
        return tuple(ops)

    def suspected_kink(self, k, direction, base, f0, f_minus, f_plus) -> bool:
        """Black-box test: slopes between x-2h .. x+2h must change linearly if f is smooth."""
        f_m2, _ = self.perturbed(k, direction, base, -2 * self.eps, False)
        f_p2, _ = self.perturbed(k, direction, base, 2 * self.eps, False)
        h = self.eps
        slopes = [(f_minus - f_m2) / h, (f0 - f_minus) / h, (f_plus - f0) / h, (f_p2 - f_plus) / h]
        third = np.maximum(np.abs(slopes[2] - 2 * slopes[1] + slopes[0]), np.abs(slopes[3] - 2 * slopes[2] + slopes[1]))
        scale = np.max(np.abs(slopes), axis=0)
        noise = 16 * np.finfo(np.float64).eps * np.max(np.abs([f_m2, f_minus, f0, f_plus, f_p2]), axis=0) / h
        return bool(np.any(third > 1e-3 * scale + 10 * noise))

    # --- full mode -----------------------------------------------------------------------
    def full(self, max_coordinates: int | None = None) -> GradcheckReport:
        out = self.forward()
        m = out.array.size
        analytic = {k: np.zeros((m, self.args[k].array.size)) for k in self.checked}
        for o in range(m):
            onehot = np.zeros(m)
            onehot[o] = 1.0
            for k, g in zip(self.checked, self.vjp(out, onehot)):
                analytic[k][o] = g.ravel()
        out_shape = out.shape
        del out
        # Rounding in f grows with the size of the terms it sums, not only with |f|:
        # estimate those terms as sum_j |J_oj x_j| over every checked input.
        term_size = sum(np.abs(analytic[k]) @ np.abs(_host(self.args[k].array).ravel()) for k in self.checked)
        f0 = self.evaluate()[0] if self.blackbox else None
        results, kinks = [], []
        sampler = np.random.default_rng(self.seed)
        for k in self.checked:
            x = self.args[k]
            base = backend.to_device(x.array, "cpu").ravel().copy()
            columns = np.arange(base.size)
            if max_coordinates is not None and base.size > max_coordinates:
                columns = np.sort(sampler.choice(base.size, max_coordinates, replace=False))
            numerical = np.zeros((m, columns.size))
            noise = np.zeros_like(numerical)
            excluded = np.zeros(columns.size, dtype=bool)
            for c, i in enumerate(columns.tolist()):
                f_plus, log_plus = self.perturbed(k, i, base, self.eps, self.check_kinks)
                f_minus, log_minus = self.perturbed(k, i, base, -self.eps, self.check_kinks)
                numerical[:, c] = (f_plus - f_minus) / (2 * self.eps)
                size = np.maximum(np.maximum(np.abs(f_plus), np.abs(f_minus)), term_size)
                noise[:, c] = _NOISE_SAFETY * np.finfo(np.float64).eps * size / self.eps
                if self.check_kinks:
                    ops = self.crossed(log_minus, log_plus)
                    if not ops and self.blackbox and self.suspected_kink(k, i, base, f0, f_minus, f_plus):
                        ops = ("suspected kink: one-sided differences disagree (an op without a signature)",)
                    if ops:
                        excluded[c] = True
                        kinks.append(Kink(k, tuple(int(j) for j in np.unravel_index(i, x.shape)), ops))
            for c in np.flatnonzero(self.failing(analytic[k][:, columns], numerical, noise) & ~excluded):
                i = int(columns[c])
                refined = self.refine(k, i, base, numerical[:, c], noise[:, c])
                numerical[:, c], noise[:, c] = self.widen(k, i, base, analytic[k][:, columns[c]], *refined)
            results.append(self.compare(k, analytic[k][:, columns], numerical, noise, excluded, out_shape, columns))
        return self.report("full", results, kinks)

    def relative_error(self, analytic, numerical, noise):
        """|a - n| / max(|a|, |n|, floor), the floor raised to the noise level; inf where either is not finite."""
        floor = np.maximum(self.floor, noise / self.rtol)
        denominator = np.maximum(np.maximum(np.abs(analytic), np.abs(numerical)), floor)
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(analytic - numerical) / np.where(denominator > 0, denominator, 1.0)
        return np.where(np.isfinite(analytic) & np.isfinite(numerical), rel, np.inf)

    def failing(self, analytic, numerical, noise):
        """Columns with some relative error above the tolerance."""
        return (self.relative_error(analytic, numerical, noise) > self.rtol).any(axis=0)

    def refine(self, k, direction, base, numerical, noise, project=None):
        """Richardson extrapolation for a value that failed: (4 D(h) - D(2h)) / 3 cancels the h^2 error term.

        A tiny derivative can fail only because of the O(h^2) truncation error of
        the centered difference (x^3 at 0 gives h^2, not 0), or because rounding
        inside f was larger than |f| suggests. Two more evaluations at x +- 2h
        remove the first and measure the second; a real bug stays. Skipped when a kink lies between
        h and 2h (the signatures there differ), where the wider stencil would
        mix the two sides. ``project`` maps an output vector to the compared
        value (fast mode: its dot product with v).
        """
        f_plus2, log_plus2 = self.perturbed(k, direction, base, 2 * self.eps, self.check_kinks)
        f_minus2, log_minus2 = self.perturbed(k, direction, base, -2 * self.eps, self.check_kinks)
        if self.check_kinks:
            _, log_plus = self.perturbed(k, direction, base, self.eps, True)
            _, log_minus = self.perturbed(k, direction, base, -self.eps, True)
            if self.crossed(log_plus, log_plus2) or self.crossed(log_minus, log_minus2):
                return numerical, noise
        difference = f_plus2 - f_minus2
        wide = (difference if project is None else project(difference)) / (4 * self.eps)
        # D(h) and D(2h) differ by 3/4 of D(h)'s h^2 term plus their rounding noise; the h^2 term is
        # cancelled above, so what is left of the difference measures the noise that the estimate
        # from |f| missed (rounding inside f, as in log(1 + tiny)).
        measured = 2 * np.abs(numerical - wide)
        return (4 * numerical - wide) / 3, np.maximum(1.5 * noise, measured)

    def widen(self, k, direction, base, analytic, numerical, noise, project=None, factors=(10.0, 100.0)):
        """Wider Richardson stencils for a value that still fails: a step that rounding noise allows.

        Rounding inside f can exceed the estimate from |f| and the size of the
        terms (gradgradcheck's f is a gradient whose entries cancel), and its
        effect on a difference shrinks as 1/s, while the truncation error of
        the extrapolated difference R(s) = (4 D(s) - D(2s)) / 3 is O(s^4). So
        for s = 10h and 100h, R(s) is compared again, with the noise bound the
        larger of the first estimate scaled by h/s and 2 |R(s) - R(2s)| (the
        noise measured at that step); the first step that agrees with
        ``analytic`` is taken. A wrong gradient stays wrong: R(s) and R(2s)
        then agree with each other, on the wrong value. Skipped for a stencil
        that crosses a declared kink.
        """
        for factor in factors:
            step = factor * self.eps
            values, logs = {}, {}
            for t in (-4, -2, -1, 1, 2, 4):
                values[t], logs[t] = self.perturbed(k, direction, base, t * step, self.check_kinks)
            if self.check_kinks and self.crossed(logs[-4], logs[4]):
                break  # a kink within 4s: wider stencils only cross more of them
            spans = {t: values[t] - values[-t] for t in (1, 2, 4)}
            if project is not None:
                spans = {t: project(span) for t, span in spans.items()}
            difference = {t: span / (2 * t * step) for t, span in spans.items()}
            near = (4 * difference[1] - difference[2]) / 3
            far = (4 * difference[2] - difference[4]) / 3
            bound = np.maximum(1.5 * noise / factor, 2 * np.abs(near - far))
            column = (np.reshape(analytic, (-1, 1)), np.reshape(near, (-1, 1)), np.reshape(bound, (-1, 1)))
            if not self.failing(*column)[0]:
                return near, bound
        return numerical, noise

    def compare(self, k, analytic, numerical, noise, excluded, out_shape, columns) -> InputResult:
        """Relative errors of one input's Jacobian (its ``columns``), kinked ones left out; the worst element."""
        rel = self.relative_error(analytic, numerical, noise)
        rel[:, excluded] = -1.0  # never the worst
        shape = tuple(self.args[k].shape)
        if rel.size == 0 or rel.max() < 0:
            return InputResult(k, shape, 0.0, None, None, math.nan, math.nan, 0, int(excluded.sum()))
        o, i = np.unravel_index(int(np.argmax(rel)), rel.shape)
        return InputResult(
            k,
            shape,
            float(rel[o, i]),
            tuple(int(j) for j in np.unravel_index(columns[i], shape)),
            tuple(int(j) for j in np.unravel_index(o, out_shape)),
            float(analytic[o, i]),
            float(numerical[o, i]),
            int((~excluded).sum() * rel.shape[0]),
            int(excluded.sum()),
        )

    # --- fast mode -------------------------------------------------------------------------
    def fast(self, max_directions: int = 5) -> GradcheckReport:
        rng = np.random.default_rng(self.seed)
        out = self.forward()
        v = _unit(rng.standard_normal(out.array.size))
        vjps = dict(zip(self.checked, self.vjp(out, v)))
        term_size = sum(
            float(np.abs(vjps[k]).ravel() @ np.abs(_host(self.args[k].array).ravel())) for k in self.checked
        )
        del out
        f0 = self.evaluate()[0] if self.blackbox else None
        results, kinks = [], []
        for k in self.checked:
            x = self.args[k]
            base = backend.to_device(x.array, "cpu").ravel().copy()
            result = None
            for _ in range(max_directions):
                u = _unit(rng.standard_normal(base.size))
                f_plus, log_plus = self.perturbed(k, u, base, self.eps, self.check_kinks)
                f_minus, log_minus = self.perturbed(k, u, base, -self.eps, self.check_kinks)
                ops = self.crossed(log_minus, log_plus) if self.check_kinks else ()
                if (
                    not ops
                    and self.check_kinks
                    and self.blackbox
                    and self.suspected_kink(k, u, base, f0, f_minus, f_plus)
                ):
                    ops = ("suspected kink: one-sided differences disagree (an op without a signature)",)
                if ops:
                    kinks.append(Kink(k, None, ops))
                    continue
                analytic = np.array([[float(vjps[k].ravel() @ u)]])
                numerical = np.array([[float(v @ (f_plus - f_minus)) / (2 * self.eps)]])
                size = float(np.abs(v) @ np.maximum(np.abs(f_plus), np.abs(f_minus))) + term_size
                noise = np.array([[_NOISE_SAFETY * np.finfo(np.float64).eps * size / self.eps]])
                if self.failing(analytic, numerical, noise)[0]:
                    project = lambda f, v=v: float(v @ f)  # noqa: E731
                    refined = self.refine(k, u, base, numerical, noise, project=project)
                    numerical, noise = self.widen(k, u, base, analytic, *refined, project=project)
                    # the projected refinements are numbers; compare() takes (1, 1) arrays
                    numerical = np.reshape(np.asarray(numerical, dtype=np.float64), (1, 1))
                    noise = np.reshape(np.asarray(noise, dtype=np.float64), (1, 1))
                result = self.compare(k, analytic, numerical, noise, np.zeros(1, bool), (), [0])
                result.worst_index = result.output_index = None
                break
            if result is None:
                shape = tuple(x.shape)
                result = InputResult(k, shape, 0.0, None, None, math.nan, math.nan, 0, max_directions)
                self.notes.append(f"input {k}: every test direction crossed a kink; nothing was compared")
            results.append(result)
        return self.report("fast", results, kinks)

    def report(self, mode, results, kinks) -> GradcheckReport:
        worst = max((r.max_rel_error for r in results), default=0.0)
        passed = all(r.max_rel_error <= self.rtol for r in results)
        return GradcheckReport(passed, worst, results, kinks, mode, self.evaluations, self.rtol, self.notes)


def _flat(out) -> np.ndarray:
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a tensor, got {_describe(out)}")
    return backend.to_device(out.array, "cpu").astype(np.float64).ravel()


def _same(a, b) -> bool:
    a, b = _host(a), _host(b)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _host(value) -> np.ndarray:
    """A signature (array, NumPy scalar or Python bool) as a NumPy array."""
    if backend.is_array(value) and not isinstance(value, np.ndarray):
        return value.get()
    return np.asarray(value)


def _unit(v):
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f"a tensor of dtype {value.dtype}"
    return type(value).__name__


__all__ = ["check", "GradcheckReport", "GradcheckError", "InputResult", "Kink", "verdict"]

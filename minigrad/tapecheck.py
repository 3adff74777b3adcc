"""check_tape: find the faulty op by checking every node of the tape on its own.

An end-to-end gradcheck says *that* a gradient is wrong. To say *where*, run
``fn`` once, recording the tape, then check each node alone: its vjp against
centered differences of that node's forward, at the inputs it was recorded
with. A node is re-run through its own op (``node.op.rerun``, the same for
primitives and custom Functions), so the analytic side is exactly the vjp under
suspicion and the numerical side costs evaluations of that one op only: the
whole check costs the sum of the nodes' sizes, not their product with the
graph. Large nodes are checked in fast mode. Kinks are handled as in
gradcheck (a relu input at 0 is a kink, not a fault), a backward that raises
(a gradient of the wrong shape, say) is a fault, and a custom Function that
drew random numbers is replayed from the random state it ran with.

The report lists every node in tape order with its verdict and the user's
line that created it, and names the first faulty one.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import backend
from .monitor import record_sites
from .numerical import GradcheckReport, check
from .tape import tape_nodes
from .tensor import Tensor


@dataclass
class NodeCheck:
    """One node's check: its position on the tape, op, origin and gradcheck report (or the error it raised)."""

    position: int
    seq: int
    op: str
    site: str
    report: GradcheckReport | None
    error: str = ""

    @property
    def faulty(self) -> bool:
        return bool(self.error) or (self.report is not None and not self.report.passed)

    @property
    def kinks(self) -> int:
        return 0 if self.report is None else len(self.report.kinks)

    def worst(self):
        """The worst input's result, or None."""
        if self.report is None or not self.report.inputs:
            return None
        return max(self.report.inputs, key=lambda r: -1 if math.isnan(r.max_rel_error) else r.max_rel_error)

    def describe(self) -> str:
        """What is wrong with this node, in one sentence."""
        if self.error:
            return f"node {self.position} ({self.op}, #{self.seq}): its backward raised: {self.error}"
        worst = self.worst()
        ratio = ""
        if worst.numerical not in (0.0,) and not math.isnan(worst.numerical):
            ratio = f", a ratio of {worst.analytic / worst.numerical:.6g}"
        where = "along a random direction" if worst.worst_index is None else f"at element {worst.worst_index}"
        return (
            f"the vjp of node {self.position}, {self.op} (input {worst.input}), is {worst.verdict} "
            f"{where}: analytic {worst.analytic:.10g}, numerical {worst.numerical:.10g}{ratio}"
        )


@dataclass
class TapeCheckReport:
    """Every node's check in tape order; ``first_fault`` names the first faulty node."""

    nodes: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not any(n.faulty for n in self.nodes)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def faults(self) -> list:
        return [n for n in self.nodes if n.faulty]

    @property
    def first_fault(self):
        faults = self.faults
        return faults[0] if faults else None

    def __str__(self) -> str:
        head = f"check_tape: {len(self.nodes)} nodes, " + (
            "every vjp checks out" if self.passed else f"{len(self.faults)} faulty"
        )
        rows = [("node", "op", "max rel err", "verdict", "kinks", "created at")]
        for n in self.nodes:
            worst = n.worst()
            err = "raised" if n.error else ("-" if worst is None else f"{worst.max_rel_error:.2e}")
            verdict = "FAULT" if n.faulty else ("-" if worst is None else worst.verdict)
            rows.append((str(n.position), n.op, err, verdict, str(n.kinks), _short_site(n.site)))
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        fault = self.first_fault
        if fault is not None:
            lines.append(f"  first fault: {fault.describe()}")
            if fault.site:
                lines.append(f"  created at {fault.site}")
            others = [n for n in self.nodes if not n.faulty]
            if others:
                lines.append(f"  every other node ({len(others)}) checks out")
        return "\n".join(lines)


def _short_site(site: str) -> str:
    if not site:
        return ""
    location, _, code = site.partition(": ")
    path, _, rest = location.partition(":")
    return f"{path.rsplit('/', 1)[-1]}:{rest.split(' ')[0]}" + (f"  {code}" if code else "")


def check_tape(fn, inputs, *, eps: float = 1e-6, rtol: float = 1e-7, fast_above: int = 64, seed: int = 0):
    """Check the vjp of every node that ``fn(*inputs)`` records, each on its own.

    Args:
        fn, inputs: as for :func:`minigrad.gradcheck` (inputs are promoted to float64).
        eps, rtol: the step and tolerance of each node's check.
        fast_above: nodes whose inputs hold more elements than this are
            checked in fast mode (v^T J u along random directions).
        seed: minigrad's generator is seeded with it before ``fn`` runs.

    Returns:
        A :class:`TapeCheckReport`.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    promoted = [
        Tensor._wrap(a.array.astype(np.float64, order="C")).requires_grad_(a.requires_grad)
        if isinstance(a, Tensor) and a.dtype.kind == "f"
        else a
        for a in inputs
    ]
    with backend.fork_rng():
        backend.manual_seed(seed)
        with record_sites():
            out = fn(*promoted)
        if not isinstance(out, Tensor) or not out.requires_grad:
            raise ValueError("check_tape: fn must return a tensor that depends on an input requiring grad")
        report = TapeCheckReport()
        for position, node in enumerate(tape_nodes(out)):
            report.nodes.append(_check_node(position, node, eps, rtol, fast_above))
    return report


def _check_node(position: int, node, eps: float, rtol: float, fast_above: int) -> NodeCheck:
    """gradcheck of one node's op, re-run on copies of the inputs it was recorded with."""
    args = [
        Tensor._wrap(a.array.astype(np.float64, order="C")).requires_grad_(i in node.needs)
        if isinstance(a, Tensor) and a.dtype.kind == "f"
        else (a.detach() if isinstance(a, Tensor) else a)
        for i, a in enumerate(node.inputs)
    ]

    def run(*xs):
        return node.op.rerun(node, *xs)

    size = sum(a.array.size for i, a in enumerate(args) if i in node.needs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with np.errstate(all="ignore"):
                result = check(
                    run, args, eps=eps, rtol=rtol, fast_mode=size > fast_above, raise_exception=False, seed=0
                )
    except Exception as exc:  # a backward that raises is a fault of this node
        return NodeCheck(position, node.seq, node.name, node.site or "", None, f"{type(exc).__name__}: {exc}")
    return NodeCheck(position, node.seq, node.name, node.site or "", result, result.backward_error)

"""Write docs/api.md from the docstrings: one line per public name, its signature and summary.

    python docs/make_api.py

tests/test_docs.py checks that the committed api.md is what this script writes.
"""

from __future__ import annotations

import inspect
import pathlib

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import checks, data, distributed, nn, optim, testing, viz
from minigrad.nn import init
from minigrad.optim import lr_scheduler, schedules

OUT = pathlib.Path(__file__).with_name("api.md")


def _sections():
    public = [n for n in dir(mg) if not n.startswith("_") and not inspect.ismodule(getattr(mg, n))]
    return [
        ("minigrad", mg, public),
        ("minigrad.Tensor", mg.Tensor, [n for n in dir(mg.Tensor) if not n.startswith("_")]),
        ("minigrad.cuda", mg.cuda, ["is_available", "device_count", "synchronize"]),
        ("minigrad.nn", nn, [n for n in nn.__all__ if n not in ("functional", "init", "utils")]),
        ("minigrad.nn.functional", F, [n for n in F.__all__ if n != "Tensor"]),
        (
            "minigrad.nn.init",
            init,
            [n for n in dir(init) if n.endswith("_") and not n.startswith("_")] + ["calculate_gain", "fans"],
        ),  # fmt: skip
        ("minigrad.nn.utils", nn.utils, ["clip_grad_norm_", "clip_grad_value_"]),
        ("minigrad.optim", optim, [n for n in optim.__all__ if n not in ("lr_scheduler", "schedules")]),
        (
            "minigrad.optim.lr_scheduler",
            lr_scheduler,
            [n for n, v in vars(lr_scheduler).items() if inspect.isclass(v) and v.__module__ == lr_scheduler.__name__],
        ),  # fmt: skip
        (
            "minigrad.optim.schedules",
            schedules,
            [n for n, v in vars(schedules).items() if inspect.isfunction(v) and not n.startswith("_")],
        ),  # fmt: skip
        ("minigrad.data", data, data.__all__),
        ("minigrad.checks", checks, [n for n in checks.__all__ if n != "GradcheckReport"]),
        ("minigrad.testing", testing, [n for n in testing.__all__ if n != "Tensor"]),
        ("minigrad.viz", viz, ["draw", "Graph"]),
        ("minigrad.distributed", distributed, distributed.__all__),
        ("minigrad.nn.parallel", nn.parallel, ["DistributedDataParallel"]),
    ]


SLOTS = {
    "array": "The backend array itself (``numpy.ndarray`` or ``cupy.ndarray``), shared, not copied.",
    "grad": "The gradient accumulated by ``backward()`` (a Tensor), or None.",
    "requires_grad": "Whether operations on this tensor are recorded for gradients.",
}


def _summary(obj, name="") -> str:
    if type(obj).__name__ == "member_descriptor":
        return SLOTS.get(name, "")
    if isinstance(obj, type) and obj.__module__ == "numpy":
        return f"the NumPy dtype `{obj.__name__}`"
    if isinstance(obj, str):
        return f'"{obj}"'
    if isinstance(obj, dict):
        return "a table: " + ", ".join(f"{k}: {v}" for k, v in obj.items())
    doc = inspect.getdoc(obj) or ""
    if not doc and callable(getattr(mg, name, None)):  # a Tensor method that is the method form of an op
        return f"method form of ``minigrad.{name}``: " + _summary(getattr(mg, name))
    return " ".join(doc.strip().split("\n\n")[0].split())


def _signature(obj) -> str:
    if isinstance(obj, type) or not callable(obj):
        return ""
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def render() -> str:
    lines = ["# API reference", "", "Generated from the docstrings by `python docs/make_api.py`.", ""]
    for title, owner, names in _sections():
        lines += [f"## {title}", ""]
        for name in sorted(set(names)):
            obj = getattr(owner, name)
            summary = _summary(getattr(owner, "__dict__", {}).get(name, obj), name)
            lines.append(f"- **`{name}`**`{_signature(obj)}`" + (f" — {summary}" if summary else ""))
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    OUT.write_text(render())
    print(f"wrote {OUT}")

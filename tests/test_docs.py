"""Every Python block in README.md and docs/*.md runs, so the examples cannot rot.

A block that ends with comment lines shows the output it prints: those lines
must match what it prints.
"""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _blocks():
    for page in PAGES:
        for k, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            yield pytest.param(block, id=f"{page.name}-{k}")


def _shown_output(block: str) -> list[str]:
    lines = block.rstrip().splitlines()
    shown = []
    while lines and lines[-1].startswith("#"):
        shown.insert(0, lines.pop()[2:])
    return shown


@pytest.mark.parametrize("block", list(_blocks()))
def test_doc_block_runs(block):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "<doc>", "exec"), {"__name__": "__doc_example__"})
    shown = _shown_output(block)
    if shown:
        assert out.getvalue().rstrip().splitlines() == shown

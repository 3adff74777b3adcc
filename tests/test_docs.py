"""Every Python block in README.md and docs/*.md runs, so the examples cannot rot.

The blocks of a page run in order in one namespace, as a reader would run
them. A block that ends with comment lines shows the output it prints: those
lines must match what it prints.
"""

import contextlib
import io
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]




def _shown_output(block: str) -> list[str]:
    lines = block.rstrip().splitlines()
    shown = []
    while lines and lines[-1].startswith("#"):
        shown.insert(0, lines.pop()[2:])
    return shown


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_doc_page_runs(page):
    namespace = {"__name__": "__doc_example__"}
    for k, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"<{page.name} block {k}>", "exec"), namespace)
        shown = _shown_output(block)
        if shown:
            assert out.getvalue().rstrip().splitlines() == shown, f"block {k} of {page.name} printed something else"

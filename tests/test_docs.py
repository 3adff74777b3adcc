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


def test_api_reference_is_up_to_date():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_api", ROOT / "docs" / "make_api.py")
    make_api = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_api)
    assert (ROOT / "docs" / "api.md").read_text() == make_api.render(), "run: python docs/make_api.py"
    assert all(" — " in line for line in make_api.render().splitlines() if line.startswith("- ")), (
        "a name lacks a docstring"
    )

"""Shared bits of the examples: the --quick/--out arguments and optional plotting."""

from __future__ import annotations

import argparse
import os


def arguments(description: str, argv=None) -> argparse.Namespace:
    """The parsed command line. Every example owns its process, so this also tunes malloc for training
    steps (``minigrad.tune_malloc``; your own training script may call it too)."""
    import minigrad

    minigrad.tune_malloc()
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a tiny setting, for tests")
    parser.add_argument("--out", default="example-output", help="folder for plots")
    return parser.parse_args(argv)


def pyplot():
    """matplotlib.pyplot with a file backend, or None without matplotlib (pip install 'minigrad[plot]')."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no plot; pip install 'minigrad[plot]')")
        return None
    return plt


def save(fig, out: str, name: str) -> str:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print(f"plot: {path}")
    return path

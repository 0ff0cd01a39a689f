"""Machine-readable figures of a benchmark: ``--json PATH`` on every script that bench/all.py
runs, so the table in docs/benchmarks.md is built from the figures themselves, never from the
text a script prints for people (which changes whenever someone words it better).

No Django here: bench/all.py and its test import this module without a stack.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write the run's figures to PATH as JSON (bench/all.py reads them)",
    )


def _plain(value: object) -> object:
    """JSON has no NaN or infinity: a figure that could not be measured is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def write_json(path: Path | None, figures: dict[str, object]) -> None:
    """Write ``figures`` to ``path`` (nothing when no path was asked for). Written to a side file
    and renamed, so a reader never sees half a file from a run that was stopped while writing."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(_plain(figures), indent=2, sort_keys=True) + "\n")
    os.replace(partial, path)

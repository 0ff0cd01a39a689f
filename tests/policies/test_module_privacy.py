"""The policies app's modules use each other through public names only: a leading underscore
means "this module's own business", and a reader who changes one must not break another (the
backtests once borrowed four private helpers of the scan pipeline)."""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "policies"


def test_no_module_of_the_app_imports_another_ones_private_names():
    borrowed = []
    for path in sorted(APP.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (
                node.level or "policies" in (node.module or "")
            ):
                private = [a.name for a in node.names if a.name.startswith("_")]
                if private:
                    borrowed.append(f"{path.relative_to(APP.parent)}: {node.module} {private}")
    assert borrowed == []

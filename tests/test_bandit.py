"""bandit, the Python security linter, finds nothing of high severity in the product's code (the
apps, not the tests, benchmarks or generated migrations). ruff's S rules catch most of the same
while editing; this runs bandit itself, as the issue asks, so its own checks count too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = ["compliance_hub", "archive", "policies", "alerts", "consent", "ingestion"]


def test_bandit_finds_no_high_severity_issue():
    bandit = Path(sys.executable).parent / "bandit"
    done = subprocess.run(
        [str(bandit), "-r", *APPS, "-lll", "-q", "-f", "json", "-x", "*/migrations/*"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it did read the code
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
             for r in report["results"]]  # fmt: skip
    assert not found, "\n".join(found)

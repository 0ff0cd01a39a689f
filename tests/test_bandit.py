"""bandit, the Python security linter, finds nothing of medium or high severity in the product's
code (the apps, not the tests, benchmarks or generated migrations). ruff's S rules catch most of
the same while editing; this runs bandit itself, as the issue asks, so its own checks count too.

Each finding was reviewed (docs/testing.md, "bandit"): the accepted ones carry
`# nosec BXXX  # reason` on their line, so a new medium finding fails here until someone fixes it
or writes down why it is safe."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
APPS = ["compliance_hub", "archive", "policies", "alerts", "consent", "ingestion"]
# A nosec names the check it silences and says why after a second "#"; a bare one silences
# every check on the line and explains nothing.
REASONED_NOSEC = re.compile(r"# nosec B\d{3}(, ?B\d{3})*  # \S")


def test_bandit_finds_no_medium_or_high_severity_issue():
    bandit = Path(sys.executable).parent / "bandit"
    done = subprocess.run(
        [str(bandit), "-r", *APPS, "-ll", "-q", "-f", "json", "-x", "*/migrations/*"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(done.stdout)
    assert report["metrics"]["_totals"]["loc"] > 10_000  # it did read the code
    found = [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}"
             for r in report["results"]]  # fmt: skip
    assert not found, "\n".join(found)


def test_every_nosec_names_its_check_and_its_reason():
    bare = []
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "# nosec" in line and not REASONED_NOSEC.search(line):
                    bare.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not bare, "\n".join(bare)

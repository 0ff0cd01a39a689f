"""`python manage.py scan_jsonl FILE`: scan JSON Lines of `{"id": ..., "text": ...}` with the
built-in packs at their default thresholds and print one line per message,
`{"id": ..., "categories": [...], "findings": [...]}`. No database is needed: this is how policies
are tested in bulk, and how a reviewer checks the detectors on their own data."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from policies.detectors.classifier import classify
from policies.documents.evaluate import MessageContext
from policies.engine import Engine, Message, PolicyRun
from policies.packs import packs

BATCH = 500
# A line says nothing of who wrote it: it is read as sent by the firm's side, so that every pack
# policy applies, the employee-only ones (guarantees, off-label promotion) too.
AS_SENT = MessageContext(direction="outbound")
MAX_LINE = 1_000_000  # characters: a longer line is reported, not read into memory twice


class Command(BaseCommand):
    help = "Scan JSON Lines ({id, text}) with the built-in policy packs; one result line each."
    requires_system_checks: list[str] = []  # runs without a database or a configured firm

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON Lines to read; - reads standard input")
        parser.add_argument(
            "--region", default="BR", help="country for phone numbers without a code (BR)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engine = Engine(
            [
                PolicyRun(ref=f"{p.slug}:{n}", document=document)
                for p in packs()
                for n, document in enumerate(p.documents)
            ],
            classify=classify,
            region=options["region"].upper(),
        )
        name = options["file"]
        if name == "-":
            errors = self._scan(engine, sys.stdin)
        else:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"No such file: {name}")
            with path.open(encoding="utf-8", errors="replace", newline="") as lines:
                errors = self._scan(engine, lines)
        if errors:
            self.stderr.write(f'{errors} line(s) could not be read; each has an "error" line.')

    def _scan(self, engine: Engine, lines: TextIO) -> int:
        errors = 0
        batches = _batches(_records(lines))
        for batch in batches:
            readable = [(ident, text) for ident, text, error in batch if error is None]
            outcomes = iter(engine.scan([Message(text, AS_SENT) for _, text in readable]))
            for ident, _text, error in batch:
                if error is not None:
                    errors += 1
                    self._write({"id": ident, "error": error})
                    continue
                fired = next(outcomes).fired
                self._write(
                    {
                        "id": ident,
                        "categories": sorted({finding.category for finding in fired}),
                        "findings": [finding.as_dict() for finding in fired],
                    }
                )
        return errors

    def _write(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False)
        try:
            line.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from the input: escaped, still valid JSON
            line = json.dumps(row)
        self.stdout.write(line)


Record = tuple[Any, str, str | None]  # (id, text, what is wrong with the line)


def _records(lines: TextIO) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            yield number, "", f"line {number} is longer than {MAX_LINE:,} characters"
            continue
        try:
            row = json.loads(line)
        except ValueError:
            yield number, "", f"line {number} is not JSON"
            continue
        except RecursionError:
            yield number, "", f"line {number} is nested too deeply to read"
            continue
        if not isinstance(row, dict):
            yield number, "", f"line {number} is not a JSON object"
            continue
        ident = row.get("id", number)
        if not isinstance(ident, (str, int, float)) or isinstance(ident, bool):
            ident = number
        text = row.get("text")
        if not isinstance(text, str):
            yield ident, "", f"line {number} has no text (a string)"
            continue
        yield ident, text, None


def _batches(records: Iterator[Record]) -> Iterator[list[Record]]:
    while batch := list(islice(records, BATCH)):
        yield batch

"""Trying a policy document on one piece of text, before it is saved: the editor's "test this
text" box and the API's test action both call `try_document`, so both show the same findings and
the same reason. Pure: the caller passes the classifiers' batch function (or None)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .detectors.findings import Finding
from .documents.evaluate import MessageContext, Verdict, needs
from .documents.schema import Problem, validate_document
from .engine import Classify, Engine, Message, PolicyRun

MAX_TRIAL_TEXT = 100_000  # characters: what one WhatsApp message can hold, with room to spare


@dataclass(frozen=True, slots=True)
class Trial:
    """`problems`: the document's errors and warnings. `verdict` is None when it has errors (it
    cannot run). `findings`: everything the detectors the policy uses saw in the text, whether
    or not the policy fired, in text order."""

    problems: tuple[Problem, ...]
    verdict: Verdict | None
    findings: tuple[Finding, ...]

    @property
    def runnable(self) -> bool:
        return self.verdict is not None


def try_document(
    document: object,
    text: str,
    *,
    context: MessageContext | None = None,
    classify: Classify | None = None,
    region: str = "BR",
) -> Trial:
    """Run `document` over `text` as the pipeline would (same engine, same thresholds). Raises
    ValueError for a text longer than MAX_TRIAL_TEXT."""
    if len(text) > MAX_TRIAL_TEXT:
        raise ValueError(f"the text is longer than {MAX_TRIAL_TEXT:,} characters")
    problems = tuple(validate_document(document))
    if any(not problem.warning for problem in problems) or not isinstance(document, Mapping):
        return Trial(problems=problems, verdict=None, findings=())
    checked: Mapping[str, Any] = document
    engine = Engine([PolicyRun(ref="trial", document=checked)], classify=classify, region=region)
    outcome = engine.scan([Message(text, context or MessageContext())])[0]
    used = needs(checked).detectors
    seen = [f for f in outcome.findings if f.detector in used]
    seen.extend(outcome.own.get("trial", ()))
    seen.sort(key=lambda f: (f.spans[0].start if f.spans else -1, f.category, -f.score))
    return Trial(problems=problems, verdict=outcome.verdicts["trial"], findings=tuple(seen))


def segments(text: str, findings: Sequence[Finding]) -> list[tuple[str, bool]]:
    """`text` cut where the findings' spans begin and end: (piece, inside a span) in order, the
    pieces joining back into `text`. Overlapping spans merge; spans are code-point offsets, as
    Python indexes a str, clamped to the text."""
    edges = sorted(
        (max(0, min(span.start, len(text))), max(0, min(span.end, len(text))))
        for finding in findings
        for span in finding.spans
    )
    merged: list[tuple[int, int]] = []
    for start, end in edges:
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    pieces: list[tuple[str, bool]] = []
    at = 0
    for start, end in merged:
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text) or not pieces:
        pieces.append((text[at:], False))
    return pieces

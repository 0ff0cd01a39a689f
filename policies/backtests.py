"""Backtests: a draft policy document run over a date range of the archive by a worker, raising
nothing, to show what it would do before it is saved: how many messages it would alert on, by
category, a sample of those alerts, the precision it would have had on messages officers already
decided, and the same counts for the policy's saved version over the same messages.

The draft and the saved version run in one engine (compiled once per job), so every detector
runs once per batch for both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from archive.models import Message
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.pseudonyms import employee_pseudonym
from compliance_hub.tenancy.walls import ReaderWall
from consent.models import Employee

from .decisions import decided
from .documents.evaluate import Verdict
from .documents.schema import validate_document
from .engine import Engine, PolicyRun
from .models import Policy, ScanJob
from .runs import (
    FAILED_MESSAGE,
    ScanJobRefused,
    advance,
    batches,
    claim,
    create_job,
    finish,
    restricted_ids,
    window,
)

# The scan pipeline's helpers: a backtest must see a message exactly as scanning would.
from .scan_inputs import build_engine, engine_messages, sampling_seed

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 50
SNIPPET_AROUND = 120  # characters of text kept either side of the findings in a sample
DRAFT, SAVED = "draft", "saved"


def request_backtest(
    *, tenant: Tenant, actor: Actor, policy: Policy, document: object,
    date_from: date | None, date_to: date | None, time_zone: str = "UTC",
) -> ScanJob:  # fmt: skip
    """Queue a backtest of `document` (a draft of `policy`, not saved) over the range. Raises
    ScanJobRefused: a document with errors (`problems`), a bad range, too many messages, a
    backtest of the policy already running. Audited as `policy.backtest_requested`."""
    problems = validate_document(document)
    if any(not problem.warning for problem in problems) or not isinstance(document, Mapping):
        raise ScanJobRefused(
            "The draft has errors; correct them before running a backtest.",
            field="document",
            problems=problems,
        )
    span = window(date_from=date_from, date_to=date_to, time_zone=time_zone)
    with tenant_scope(tenant):
        latest = policy.versions.filter(number=policy.version).first()
    return create_job(
        tenant=tenant, actor=actor, kind=ScanJob.Kind.BACKTEST, policy=policy, span=span,
        version=latest, document=dict(document),
    )  # fmt: skip


@dataclass
class Tally:
    """The results as they grow, batch by batch (plain data: saved as the job's `results`)."""

    scanned: int = 0
    skipped: int = 0  # restricted subjects and records without text
    flagged: dict[str, int] = field(default_factory=lambda: {DRAFT: 0, SAVED: 0})
    categories: dict[str, int] = field(default_factory=dict)  # draft: messages per category
    sample: list[dict[str, Any]] = field(default_factory=list)
    # Among messages officers decided: [true positives flagged, false positives flagged,
    # true positives in total] for each side.
    decided: dict[str, list[int]] = field(
        default_factory=lambda: {DRAFT: [0, 0, 0], SAVED: [0, 0, 0]}
    )

    def add(self, side: str, verdict: Verdict, decision: bool | None) -> None:
        if verdict.fired:
            self.flagged[side] += 1
        if decision is None:
            return
        counts = self.decided[side]
        counts[2] += 1 if decision else 0
        if verdict.fired:
            counts[0 if decision else 1] += 1

    def as_results(self, *, compared: bool) -> dict[str, Any]:
        return {
            "scanned": self.scanned,
            "skipped": self.skipped,
            "flagged": self.flagged[DRAFT],
            "share": self.flagged[DRAFT] / self.scanned if self.scanned else 0.0,
            "saved_flagged": self.flagged[SAVED] if compared else None,
            "categories": dict(sorted(self.categories.items(), key=lambda kv: (-kv[1], kv[0]))),
            "sample": self.sample,
            "precision": quality(self.decided[DRAFT]),
            "saved_precision": quality(self.decided[SAVED]) if compared else None,
        }


def quality(counts: Sequence[int]) -> dict[str, int | float | None]:
    """Precision (true positives among flagged decided messages) and recall (decided true
    positives flagged), None when there is nothing to divide by."""
    true_flagged, false_flagged, true_total = counts
    flagged = true_flagged + false_flagged
    return {
        "true_positives": true_flagged,
        "false_positives": false_flagged,
        "decided_true": true_total,
        "precision": true_flagged / flagged if flagged else None,
        "recall": true_flagged / true_total if true_total else None,
    }


def run_backtest(*, tenant: Tenant, job_id: int) -> ScanJob | None:
    """The worker's part: the draft (and the saved version) over the range, batch by batch;
    nothing is written but the job's progress and results. Stops at the next batch when
    cancelled. Returns None when there is nothing to do (gone, cancelled, finished)."""
    job = claim(tenant=tenant, job_id=job_id)
    if job is None:
        return None
    compared = job.version is not None
    tally = Tally()
    try:
        engine = _engine(tenant, job)
        for ids in batches(job):
            _backtest_batch(tenant, engine, ids, tally)
            if not advance(job, done=tally.scanned + tally.skipped, results=tally.as_results(
                compared=compared)):  # fmt: skip
                break
    except Exception:
        logger.exception("backtest %s of tenant %s failed", job.pk, tenant.slug)
        return finish(
            job, status=ScanJob.Status.FAILED, results=tally.as_results(compared=compared),
            error=FAILED_MESSAGE,
        )  # fmt: skip
    return finish(job, status=ScanJob.Status.DONE, results=tally.as_results(compared=compared))


def _engine(tenant: Tenant, job: ScanJob) -> Engine:
    seed = sampling_seed(tenant.pk, job.policy_id)
    runs = [PolicyRun(ref=DRAFT, document=job.document, seed=seed)]
    if job.version is not None:
        runs.append(PolicyRun(ref=SAVED, document=job.version.document, seed=seed))
    # The firm's own model when one is in use: a backtest measures what scanning would do.
    return build_engine(tenant, runs)


def _backtest_batch(tenant: Tenant, engine: Engine, ids: list[int], tally: Tally) -> None:
    restricted = restricted_ids(tenant=tenant, ids=ids)
    with tenant_scope(tenant):
        rows: QuerySet[Message] = Message.objects.filter(tenant=tenant, pk__in=ids)
        messages = [m for m in rows.select_related("conversation").order_by("pk")]
        readable = [m for m in messages if m.pk not in restricted and m.text]
        tally.skipped += len(messages) - len(readable)
        if not readable:
            return
        read = engine_messages(tenant, readable)
        decisions = decided(tenant, [m.pk for m in readable])
        names = dict(
            Employee.objects.filter(
                tenant=tenant, pk__in={m.employee_id for m in readable}
            ).values_list("pk", "full_name")
        )
    outcomes = engine.scan(read)
    for message, outcome in zip(readable, outcomes, strict=True):
        tally.scanned += 1
        decision = decisions.get(message.pk)
        draft = outcome.verdicts[DRAFT]
        tally.add(DRAFT, draft, decision)
        if SAVED in outcome.verdicts:
            tally.add(SAVED, outcome.verdicts[SAVED], decision)
        if not draft.fired:
            continue
        for category in dict.fromkeys(f.category for f in draft.findings):
            tally.categories[category] = tally.categories.get(category, 0) + 1
        if len(tally.sample) < SAMPLE_SIZE:
            tally.sample.append(_sample_entry(message, draft, names.get(message.employee_id, "")))


def _sample_entry(message: Message, verdict: Verdict, employee: str) -> dict[str, Any]:
    spans = sorted({(s.start, s.end) for f in verdict.findings for s in f.spans})
    text = message.text
    start = max(0, min((s for s, _ in spans), default=0) - SNIPPET_AROUND)
    end = min(len(text), max((e for _, e in spans), default=0) + SNIPPET_AROUND)
    return {
        "message_id": message.pk,
        "at": message.whatsapp_timestamp.isoformat(),
        "employee": employee,
        "snippet": text[start:end],
        "clipped_start": start > 0,
        "clipped_end": end < len(text),
        # Relative to the snippet: what the page highlights.
        "spans": [[s - start, e - start] for s, e in spans if start <= s and e <= end],
        "categories": list(dict.fromkeys(f.category for f in verdict.findings)),
        "explanation": verdict.explanation,
    }


def snippet_pieces(entry: Mapping[str, object]) -> list[tuple[str, bool]]:
    """A sample's snippet cut at its spans: (text, highlighted) pieces for a template (which
    escapes each), overlapping spans merged."""
    text = str(entry.get("snippet", ""))
    pieces: list[tuple[str, bool]] = []
    at = 0
    spans = entry.get("spans")
    pairs = [
        (int(span[0]), int(span[1]))
        for span in (spans if isinstance(spans, list) else [])
        if isinstance(span, list | tuple) and len(span) == 2
    ]
    for start, end in sorted(pairs):
        start, end = max(start, at), min(end, len(text))
        if end <= start:
            continue
        if start > at:
            pieces.append((text[at:start], False))
        pieces.append((text[start:end], True))
        at = end
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


def sample_as_read(
    *, tenant: Tenant, sample: list[dict[str, Any]], wall: ReaderWall
) -> list[dict[str, Any]]:
    """A run's sample as this reader may see it: a masked officer (pseudonymised review,
    compliance_hub/tenancy/walls.py) gets each employee as the pseudonym the alert pages use
    (the words stay, as on an alert); everyone else the stored names. One query when masked."""
    if not wall.closed or not sample:
        return sample
    ids = [entry["message_id"] for entry in sample]
    with tenant_scope(tenant):
        employees = dict(
            Message.objects.filter(tenant=tenant, pk__in=ids).values_list("pk", "employee_id")
        )
    return [
        {
            **entry,
            "employee": employee_pseudonym(tenant.pk, employees[entry["message_id"]])
            if entry["message_id"] in employees
            else "",
        }
        for entry in sample
    ]

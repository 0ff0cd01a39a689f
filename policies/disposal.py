"""What policies keep of a message's content goes when the archive disposes of the message
(retention or erasure): a hit's findings quote the matched words (a CPF's digits, the phrase
that read as a promise) and a backtest's sample keeps the words around them. Both are scrubbed in
the same transaction that blanks the message, so no copy outlives it; what stays is that a
policy fired, with which categories, detectors and scores."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compliance_hub.tenancy.models import Tenant

from .models import PolicyHit, ScanJob

DISPOSED = "Content disposed of (retention or erasure)."
# What a finding keeps: nothing of these quotes the message.
_KEPT = ("category", "detector", "score", "type", "rule")


def scrub_disposed(*, tenant: Tenant, message_ids: Sequence[int], **_: object) -> None:
    """Receiver of archive.hooks.messages_disposed (inside the disposal's transaction)."""
    if not message_ids:
        return
    hits = list(PolicyHit.objects.filter(tenant=tenant, message_id__in=message_ids))
    for hit in hits:
        hit.findings = [_scrubbed(finding) for finding in hit.findings]
        hit.explanation = DISPOSED
    PolicyHit.objects.bulk_update(hits, ["findings", "explanation"])
    disposed = set(message_ids)
    jobs = ScanJob.objects.filter(tenant=tenant, kind=ScanJob.Kind.BACKTEST).exclude(results={})
    for job in jobs.only("pk", "results"):
        sample = (job.results or {}).get("sample") or []
        if not any(entry.get("message_id") in disposed for entry in sample):
            continue
        job.results["sample"] = [
            _disposed_entry(entry) if entry.get("message_id") in disposed else entry
            for entry in sample
        ]
        job.save(update_fields=["results"])


def _scrubbed(finding: dict[str, Any]) -> dict[str, Any]:
    kept = {key: finding[key] for key in _KEPT if key in finding}
    return {**kept, "spans": [], "explanation": DISPOSED}


def _disposed_entry(entry: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {
        key: entry[key] for key in ("message_id", "at", "employee", "categories") if key in entry
    }
    return {**kept, "snippet": "", "spans": [], "explanation": DISPOSED, "disposed": True}

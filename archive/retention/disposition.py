"""Retention disposition: the messages past retention and not held lose their content, and
tombstones keep their leaf hashes, so the Merkle log still verifies.

One run, for one tenant:

1. Which messages are due: at least one policy applies and every applicable policy has run out
   (selectors.past_retention_q), not disposed of already (no tombstone), and every record of the
   message already has its leaf (a record still queued for the log waits for the next run).
2. In batches, each ONE transaction: take the tenant's holds lock (holds.selectors.lock_holds,
   shared; placing a hold takes it exclusive), THEN read the holds and pick the batch, so a
   hold committed before the lock is seen and one placed after waits for the commit; tombstone
   the message, its events and its stored-attachment proofs (ledger.services.record_tombstone),
   blank their content through the database's one narrow path (ch_blank_disposed, migration
   0010_retention), mark the attachments disposed; their stored bytes are deleted once the batch
   has committed.
3. A checkpoint is signed and anchored after the run (the tombstones are leaves too), and a
   disposition certificate goes to the audit trail: counts per table, the WhatsApp-time range,
   the policies applied, that checkpoint, and whether it was a dry run.

Idempotent and resumable: a disposed message has a tombstone and is never picked again, each
batch commits on its own, so a run stopped half-way leaves finished batches finished and the
next run does the rest. A dry run changes nothing and reports what the next run would do.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..holds.selectors import held_messages_q, lock_holds
from ..hooks import messages_disposed
from ..ledger.models import LogCheckpoint, LogLeaf, Tombstone
from ..ledger.services import checkpoint_and_anchor, record_tombstone
from ..models import Attachment, AttachmentFile, Message, MessageEvent
from .rules import PRESETS, PolicyTerms
from .selectors import past_retention_q, policy_terms

logger = logging.getLogger(__name__)

BATCH_SIZE = 500  # messages per transaction (with their events and files: a few thousand rows)
MESSAGE, EVENT, FILE = "archive.message", "archive.messageevent", "archive.attachmentfile"
REASON = "retention disposition"


@dataclass
class DispositionOutcome:
    """What a run disposed of (or, dry, would): the certificate's content."""

    dry_run: bool
    counts: dict[str, int] = field(default_factory=lambda: {MESSAGE: 0, EVENT: 0, FILE: 0})
    media_deleted: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    held: int = 0  # past retention but kept by a legal hold
    waiting_for_log: int = 0  # past retention, a record not yet in the log: next run
    policies: list[dict[str, Any]] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    certificate_id: int | None = None

    @property
    def messages(self) -> int:
        return self.counts[MESSAGE]

    def widen(self, oldest: datetime | None, newest: datetime | None) -> None:
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest


def _has_leaf(table: str, ref: str = "pk") -> Exists:
    return Exists(LogLeaf.objects.filter(record_table=table, record_id=OuterRef(ref)))


def _tombstoned(table: str, ref: str = "pk") -> Exists:
    return Exists(Tombstone.objects.filter(record_table=table, record_id=OuterRef(ref)))


def _unlogged_parts() -> Q:
    """A message one of whose records (itself, an event, a stored-file proof) has no leaf yet."""
    events = MessageEvent.objects.filter(target_wamid=OuterRef("wamid")).filter(~_has_leaf(EVENT))
    files = AttachmentFile.objects.filter(message_id=OuterRef("pk")).filter(~_has_leaf(FILE))
    return Q(~_has_leaf(MESSAGE)) | Q(Exists(events)) | Q(Exists(files))


def _past_retention(tenant: Tenant, terms: list[PolicyTerms], now: datetime) -> QuerySet[Message]:
    return (
        Message.objects.filter(tenant=tenant)
        .filter(past_retention_q(terms, now=now))
        .filter(~_tombstoned(MESSAGE))
    )


def _policies(terms: list[PolicyTerms]) -> list[dict[str, Any]]:
    return [
        {"policy_id": t.policy_id, "regulation": PRESETS[t.preset].regulation, "years": t.years,
         "scope": t.scope.value, "team_id": t.team_id, "region": t.region}
        for t in terms
    ]  # fmt: skip


def disposition_plan(*, tenant: Tenant, now: datetime | None = None) -> DispositionOutcome:
    """What the next run would dispose of, held back and leave for later; changes nothing."""
    now = now or timezone.now()
    plan = DispositionOutcome(dry_run=True)
    with tenant_scope(tenant):
        terms = policy_terms(tenant=tenant)
        plan.policies = _policies(terms)
        due = _past_retention(tenant, terms, now)
        held = Q(held_messages_q(tenant=tenant))
        plan.held = due.filter(held).count()
        free = due.exclude(held)
        plan.waiting_for_log = free.filter(_unlogged_parts()).count()
        ready = free.exclude(_unlogged_parts())
        span = ready.aggregate(oldest=Min("whatsapp_timestamp"), newest=Max("whatsapp_timestamp"))
        plan.widen(span["oldest"], span["newest"])
        plan.counts[MESSAGE] = ready.count()
        # Counted from the messages' side: the holds' condition names the message table
        # itself (holds/selectors.py), so the message query must never become a subquery.
        events = (
            MessageEvent.objects.filter(target_wamid=OuterRef("wamid"))
            .filter(~_tombstoned(EVENT))
            .order_by()
            .values("target_wamid")
            .annotate(n=Count("pk"))
            .values("n")
        )
        files = (
            AttachmentFile.objects.filter(message_id=OuterRef("pk"))
            .filter(~_tombstoned(FILE))
            .order_by()
            .values("message_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        totals = ready.annotate(
            event_n=Coalesce(Subquery(events), 0), file_n=Coalesce(Subquery(files), 0)
        ).aggregate(events=Sum("event_n"), files=Sum("file_n"))
        plan.counts[EVENT] = int(totals["events"] or 0)
        plan.counts[FILE] = int(totals["files"] or 0)
    return plan


def _blank(table: str, ids: list[int]) -> int:
    if not ids:
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT ch_blank_disposed(%s, %s::bigint[])", [table, ids])
        return int(cursor.fetchone()[0])


def _dispose_batch(
    *, tenant: Tenant, actor: Actor, terms: list[PolicyTerms], now: datetime, size: int,
    outcome: DispositionOutcome,
) -> int:  # fmt: skip
    """One transaction: lock, read the holds, dispose of up to ``size`` messages. Returns how
    many messages it disposed of (0: nothing left)."""
    with tenant_scope(tenant):
        # Shared: runs of disposition and erasure go side by side; placing a hold (exclusive)
        # waits for this batch to commit, or this batch waits for the hold and reads it.
        lock_holds(tenant=tenant, shared=True)
        batch = list(
            _past_retention(tenant, terms, now)
            .exclude(Q(held_messages_q(tenant=tenant)))
            .exclude(_unlogged_parts())
            .order_by("whatsapp_timestamp", "pk")
            .values_list("pk", "wamid", "whatsapp_timestamp")[:size]
        )
        if not batch:
            return 0
        dispose_messages(tenant=tenant, actor=actor, rows=batch, reason=REASON, outcome=outcome)
    return len(batch)


def dispose_messages(
    *, tenant: Tenant, actor: Actor, rows: list[tuple[int, str, datetime]], reason: str,
    outcome: DispositionOutcome,
) -> None:  # fmt: skip
    """Tombstone and blank the messages of ``rows`` (pk, wamid, WhatsApp time), their events and
    their stored-attachment proofs; the stored bytes are deleted once the caller's transaction
    commits. The caller holds the tenant's holds lock, inside the transaction
    that read the holds, and has checked every record has its leaf. Shared by disposition and
    erasure."""
    if not rows:
        return
    message_ids = [pk for pk, _, _ in rows]
    events = list(
        MessageEvent.objects.filter(tenant=tenant, target_wamid__in=[w for _, w, _ in rows])
        .filter(~_tombstoned(EVENT))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    proofs = list(
        AttachmentFile.objects.filter(tenant=tenant, message_id__in=message_ids)
        .filter(~_tombstoned(FILE))
        .order_by("pk")
        .values_list("pk", "storage_name")
    )
    for table, ids in ((MESSAGE, message_ids), (EVENT, events), (FILE, [p for p, _ in proofs])):
        for record_id in ids:
            record_tombstone(
                tenant=tenant, record_table=table, record_id=record_id, reason=reason,
                actor=actor,
            )  # fmt: skip
        outcome.counts[table] += len(ids)
    _blank(MESSAGE, message_ids)
    _blank(EVENT, events)
    messages_disposed.send(sender=Message, tenant=tenant, message_ids=message_ids)
    attachments = Attachment.objects.filter(tenant=tenant, message_id__in=message_ids)
    stored_names = [name for _, name in proofs] + [
        a.file.name for a in attachments.exclude(file="") if a.file.name
    ]
    attachments.update(file="", status=Attachment.Status.DISPOSED)
    outcome.widen(min(at for _, _, at in rows), max(at for _, _, at in rows))
    # The bytes go only once the tombstones and blanked rows are committed: a batch rolled
    # back keeps its files.
    names = sorted(set(stored_names))
    transaction.on_commit(lambda: _delete_stored(names, outcome))


def _delete_stored(names: list[str], outcome: DispositionOutcome) -> None:
    for name in names:
        try:
            if default_storage.exists(name):
                default_storage.delete(name)
                outcome.media_deleted += 1
        except OSError:  # left for the operator; the content is already unreachable
            logger.exception("disposition could not delete stored file %s", name)


def dispose_records(
    *,
    tenant: Tenant,
    actor: Actor,
    dry_run: bool = False,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
) -> DispositionOutcome:
    """Run disposition for ``tenant`` (see the module's docstring) and write its certificate.
    A dry run changes nothing in the archive and writes a certificate marked dry."""
    now = now or timezone.now()
    if dry_run:
        outcome = disposition_plan(tenant=tenant, now=now)
    else:
        outcome = DispositionOutcome(dry_run=False)
        with tenant_scope(tenant):
            terms = policy_terms(tenant=tenant)
        outcome.policies = _policies(terms)
        while _dispose_batch(
            tenant=tenant, actor=actor, terms=terms, now=now, size=batch_size, outcome=outcome
        ):
            pass
        leftover = disposition_plan(tenant=tenant, now=now)
        outcome.held, outcome.waiting_for_log = leftover.held, leftover.waiting_for_log
        if outcome.messages:
            checkpoint_and_anchor(tenant=tenant, force=True)
    outcome.checkpoint = _latest_checkpoint(tenant)
    outcome.certificate_id = _certify(tenant=tenant, actor=actor, outcome=outcome, now=now).pk
    return outcome


def _latest_checkpoint(tenant: Tenant) -> dict[str, Any] | None:
    with tenant_scope(tenant):
        latest = LogCheckpoint.objects.filter(tenant=tenant).order_by("-size", "-id").first()
        if latest is None:
            return None
        return {
            "size": latest.size,
            "root": bytes(latest.root_hash).hex(),
            "signed_at": latest.signed_at.isoformat(),
        }


def _certify(
    *, tenant: Tenant, actor: Actor, outcome: DispositionOutcome, now: datetime
) -> AuditEvent:
    verb = "would dispose of" if outcome.dry_run else "disposed of"
    return record_event(
        "archive.disposition_certificate",
        tenant=tenant,
        actor=actor,
        target_label=(
            f"{'Dry run: ' if outcome.dry_run else ''}retention {verb} {outcome.messages} "
            f"message{'' if outcome.messages == 1 else 's'}; {outcome.held} kept by legal holds"
        ),
        details={
            "dry_run": outcome.dry_run,
            "run_at": now.isoformat(),
            "counts": dict(outcome.counts),
            "media_files_deleted": outcome.media_deleted,
            "whatsapp_time_range": {
                "oldest": outcome.oldest.isoformat() if outcome.oldest else None,
                "newest": outcome.newest.isoformat() if outcome.newest else None,
            },
            "held_by_legal_holds": outcome.held,
            "waiting_for_the_log": outcome.waiting_for_log,
            "policies": outcome.policies,
            "checkpoint": outcome.checkpoint,
        },
    )

"""From a stored delivery to the archive: parse, route each item through the consent gate,
archive what may be kept, record refusals as metadata, and redact refused content from the body.
Calls become call records like messages; account events, history declines and refusals of
unconsented numbers raise capture notices (ingestion/notices.py).

Idempotent: processing the same delivery twice (a retry, the sweeper, a replay) stores nothing
twice, because messages and events are unique per tenant on their WhatsApp ids.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone

from archive.hooks import deliveries_archived
from archive.models import CallRecord
from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    append_calls,
    append_events,
    append_messages,
    archive_calls,
    archive_events,
    archive_messages,
)
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import gate

from .column_fit import OVERSIZED, fit_display_fields, overlong_event_ids, overlong_message_ids
from .media import record_attachments
from .models import Delivery, Refusal
from .notices import drafts_for_delivery, drafts_for_refusals, raise_notices
from .whatsapp.events import Call, Change, Message, ParsedDelivery, Status
from .whatsapp.parser import parse_delivery
from .whatsapp.redact import KEPT_KEYS, redact
from .whatsapp.storable import storable, storable_text

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# What a redacted item keeps in the stored body (see whatsapp/redact.py).
REDACTED_KEYS = frozenset({*KEPT_KEYS, "redacted"})
# Meta's call directions, as the inbound/outbound of a refusal record.
CALL_DIRECTIONS = {"USER_INITIATED": "inbound", "BUSINESS_INITIATED": "outbound"}
# A call's duration is stored as a non-negative 32-bit integer.
MAX_DURATION = 2**31 - 1
# A drain claims this many deliveries per transaction and archives them as one unit: the batch's
# queries, commit and scan are paid once for all of them (32 -> 100: CPU per delivery 3.3 ->
# 1.7 ms, docs/benchmarks.md). Bodies are kept to a byte budget, so a batch of Meta's largest
# (3 MB) stays a modest amount of memory.
DRAIN_BATCH: int = settings.INGESTION_DRAIN_BATCH
DRAIN_BATCH_BYTES: int = settings.INGESTION_DRAIN_BATCH_BYTES
# Then it yields to the queue (other tenants' drains) and a successor carries on.
DRAIN_BUDGET_SECONDS = 20.0
# What a processed delivery's row changes (a redacted one also its body).
PROCESSED_FIELDS = ["status", "processed_at", "summary", "attempts", "last_error"]

Item = Message | Change | Status | Call


def _moment(timestamp: datetime, delivery: Delivery) -> datetime:
    """WhatsApp's time for the gate and the archive; our received time when Meta's is missing."""
    return delivery.received_at if timestamp <= EPOCH else timestamp


def _counterparty(item: Message | Change) -> dict[str, str]:
    return storable(asdict(item.counterparty))


def _message_record(item: Message, delivery: Delivery, employee_id: int) -> MessageRecord:
    structured = dict(item.structured)
    if item.media is not None:
        structured["media"] = item.media
    if item.history:
        structured["history"] = item.history
    if item.errors:
        structured["errors"] = list(item.errors)
    return MessageRecord(
        conversation=ConversationKey(
            employee_id=employee_id,
            business_phone_number_id=item.envelope.phone_number_id,
            counterparty_key=storable_text(item.counterparty.key or "unknown"),
        ),
        counterparty=_counterparty(item),
        business_display_number=item.envelope.display_phone_number,
        wamid=storable_text(item.wamid),
        direction=item.direction,
        type=item.type,
        whatsapp_timestamp=_moment(item.timestamp, delivery),
        received_at=delivery.received_at,
        text=storable_text(item.text),
        structured=storable(structured),
        context=storable(dict(item.context)),
        is_history=item.is_history,
        flags=list(item.flags),
        raw=storable(item.raw),
        delivery_id=delivery.pk,
    )


def _change_record(item: Change, delivery: Delivery) -> EventRecord:
    return EventRecord(
        kind=item.kind,
        event_key=f"{item.kind}:{item.event_id}",
        target_wamid=item.target_wamid,
        direction=item.direction,
        whatsapp_timestamp=_moment(item.timestamp, delivery),
        received_at=delivery.received_at,
        payload=storable(dict(item.payload)),
        raw=storable(item.raw),
        delivery_id=delivery.pk,
    )


def _status_record(item: Status, delivery: Delivery) -> EventRecord:
    moment = _moment(item.timestamp, delivery)
    return EventRecord(
        kind="status",
        event_key=f"status:{item.target_wamid}:{item.status}:{int(moment.timestamp())}",
        target_wamid=item.target_wamid,
        direction="outbound",
        whatsapp_timestamp=moment,
        received_at=delivery.received_at,
        payload=storable({"status": item.status, "recipient_id": item.recipient_id,
                          "recipient_user_id": item.recipient_user_id,
                          "errors": list(item.errors)}),
        raw=storable(item.raw),
        delivery_id=delivery.pk,
    )  # fmt: skip


def _call_record(item: Call, delivery: Delivery, employee_id: int) -> CallRecord:
    moment = _moment(item.timestamp, delivery)
    call_id = storable_text(item.call_id)[:255]
    duration = item.duration_seconds
    if duration is not None and not 0 <= duration <= MAX_DURATION:
        duration = None  # kept in raw; the column takes only what a duration can be
    event = storable_text(item.event)[:32]
    status = storable_text(item.status)[:32]
    return CallRecord(
        employee_id=employee_id,
        event_key=f"call:{call_id}:{event}:{status}:{int(moment.timestamp())}"[:320],
        call_id=call_id,
        event=event,
        status=status,
        direction=storable_text(item.direction)[:32],
        business_phone_number_id=item.envelope.phone_number_id[:32],
        counterparty_key=storable_text(item.counterparty.key)[:300],
        counterparty_wa_id=storable_text(item.counterparty.wa_id)[:32],
        started_at=item.started_at,
        ended_at=item.ended_at,
        duration_seconds=duration,
        whatsapp_timestamp=moment,
        received_at=delivery.received_at,
        delivery_id=delivery.pk,
        raw=storable(item.raw),
    )


def _was_redacted(item: Item) -> bool:
    """An item the gate refused on an earlier run, reduced to its metadata in the stored body:
    there is no content left to archive, whatever the gate says now (a replay)."""
    raw = item.raw
    return (
        isinstance(raw, dict)
        and isinstance(raw.get("redacted"), str)
        and raw.keys() <= REDACTED_KEYS
    )


def _item_id(item: Item) -> str:
    if isinstance(item, Message):
        return item.wamid
    if isinstance(item, Change):
        return item.event_id
    if isinstance(item, Call):
        return item.call_id
    return item.target_wamid


def _kind(item: Item) -> str:
    if isinstance(item, Message):
        return "message"
    if isinstance(item, Change):
        return item.kind
    if isinstance(item, Call):
        return "call"
    return "status"


def _direction(item: Item) -> str:
    if isinstance(item, Call):
        return CALL_DIRECTIONS.get(item.direction, "")
    return getattr(item, "direction", "outbound")


@dataclass
class _Plan:
    """What one parsed delivery will write: its records, refusals and notices, and the counts
    of its summary that do not depend on the archive."""

    delivery: Delivery
    parsed: ParsedDelivery
    messages: list[MessageRecord] = field(default_factory=list)
    events: list[EventRecord] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    refused_ids: dict[str, str] = field(default_factory=dict)
    calls: list[CallRecord] = field(default_factory=list)
    skipped_redacted: int = 0
    display_numbers: dict[str, str] = field(default_factory=dict)


def _plan(tenant: Tenant, delivery: Delivery, parsed: ParsedDelivery) -> _Plan:
    """Route each item of a parsed delivery through the consent gate (no writes)."""
    plan = _Plan(delivery=delivery, parsed=parsed)
    items: list[Item] = [*parsed.messages, *parsed.changes, *parsed.statuses, *parsed.calls]
    for item in items:
        if _was_redacted(item):
            plan.skipped_redacted += 1
            continue
        phone_id = item.envelope.phone_number_id
        moment = _moment(item.timestamp, delivery)
        decision = gate.decide(tenant_id=tenant.pk, phone_number_id=phone_id, at=moment)
        if not decision.capture:
            plan.refused_ids[_item_id(item)] = decision.reason.value
            plan.refusals.append(
                _refusal(tenant, delivery, item, moment, decision.reason.value,
                         decision.employee_id)
            )  # fmt: skip
            continue
        employee_id = decision.employee_id
        assert employee_id is not None, "a capture decision always names its employee (timeline)"
        if isinstance(item, Message):
            record = _message_record(item, delivery, employee_id)
            if overlong_message_ids(record):
                # Kept in the stored body (not redacted): refused for its size, not its consent.
                plan.refusals.append(
                    _refusal(tenant, delivery, item, moment, OVERSIZED, employee_id)
                )
                continue
            plan.messages.append(fit_display_fields(record))
        elif isinstance(item, Call):
            plan.calls.append(_call_record(item, delivery, employee_id))
        else:
            event = (
                _change_record(item, delivery)
                if isinstance(item, Change)
                else _status_record(item, delivery)
            )
            if overlong_event_ids(event):
                plan.refusals.append(
                    _refusal(tenant, delivery, item, moment, OVERSIZED, employee_id)
                )
                continue
            plan.events.append(event)
    plan.display_numbers = {
        item.envelope.phone_number_id: item.envelope.display_phone_number for item in items
    }
    return plan


def _refusal(
    tenant: Tenant, delivery: Delivery, item: Item, moment: datetime, reason: str,
    employee_id: int | None,
) -> Refusal:  # fmt: skip
    """The metadata of an item not archived (never its content), cut to the columns: a refusal
    is a record of what happened, not a key anything is found by."""
    return Refusal(
        tenant=tenant,
        delivery=delivery,
        phone_number_id=item.envelope.phone_number_id[:32],
        wamid=storable_text(_item_id(item))[:255],
        kind=_kind(item)[:16],
        direction=_direction(item)[:8],
        whatsapp_timestamp=moment,
        reason=reason,
        employee_pk=employee_id,
    )


def _mark_unparseable(delivery: Delivery, now: datetime) -> list[str]:
    delivery.status = Delivery.Status.UNPARSEABLE
    delivery.processed_at = now
    delivery.summary = {"unparseable": True}
    return ["status", "processed_at", "summary"]


def _raise_notices(tenant: Tenant, plan: _Plan) -> int:
    return raise_notices(
        tenant=tenant,
        drafts=[
            *drafts_for_delivery(plan.parsed),
            *drafts_for_refusals(plan.refusals, plan.display_numbers),
        ],
        day=plan.delivery.received_at.astimezone(UTC).date(),
    )


def _finish(
    plan: _Plan, *, now: datetime, new_messages: int, new_events: int, new_calls: int,
    new_notices: int,
) -> list[str]:  # fmt: skip
    """Set the delivery's outcome (summary, status, redacted body) on it; returns the fields
    to save."""
    parsed, delivery, refusals = plan.parsed, plan.delivery, plan.refusals
    summary: dict[str, Any] = {
        "messages": len(parsed.messages),
        "changes": len(parsed.changes),
        "statuses": len(parsed.statuses),
        "calls": len(parsed.calls),
        "account_events": len(parsed.account_events),
        "archived_messages": new_messages,
        "archived_events": new_events,
        "archived_calls": new_calls,
        "notices": new_notices,
        "refused": len(refusals),
        "unrecognised": len(parsed.unrecognised),
        "errors": len(parsed.errors),
    }
    if plan.skipped_redacted:
        summary["redacted_skipped"] = plan.skipped_redacted
    if refusals:
        reasons: dict[str, int] = {}
        for refusal in refusals:
            reasons[refusal.reason] = reasons.get(refusal.reason, 0) + 1
        summary["refusals_by_reason"] = reasons
    fields = list(PROCESSED_FIELDS)
    if plan.refused_ids:
        # Consent first: what the gate refused does not stay in the stored body either.
        payload, redacted = redact(json.loads(bytes(delivery.body)), plan.refused_ids)
        if redacted:
            delivery.body = json.dumps(payload, separators=(",", ":")).encode()
            delivery.redacted = True
            fields += ["body", "redacted"]
    delivery.status = Delivery.Status.PROCESSED
    delivery.processed_at = now
    delivery.summary = summary
    delivery.attempts += 1
    delivery.last_error = ""
    return fields


def process_delivery(*, tenant: Tenant, delivery: Delivery) -> dict[str, Any]:
    """Process one delivery in the caller's tenant scope and transaction; returns its summary."""
    parsed: ParsedDelivery = parse_delivery(bytes(delivery.body))
    now = timezone.now()
    if parsed.unparseable:
        delivery.save(update_fields=_mark_unparseable(delivery, now))
        return delivery.summary
    plan = _plan(tenant, delivery, parsed)
    new_messages = archive_messages(tenant=tenant, records=plan.messages)
    # Media ids live 7 days: each archived medium gets a pending attachment in this transaction
    # and its own fetch task after commit (ingestion/media.py).
    record_attachments(tenant=tenant, records=plan.messages)
    new_events = archive_events(tenant=tenant, records=plan.events)
    _store_refusals(plan.refusals)
    new_calls = archive_calls(tenant=tenant, records=plan.calls)
    fields = _finish(
        plan, now=now, new_messages=new_messages, new_events=new_events, new_calls=new_calls,
        new_notices=_raise_notices(tenant, plan),
    )  # fmt: skip
    delivery.save(update_fields=fields)
    return delivery.summary


def _store_refusals(refusals: list[Refusal]) -> None:
    Refusal.objects.bulk_create(
        sorted(refusals, key=attrgetter("kind", "wamid", "phone_number_id")),
        ignore_conflicts=True,
    )


def _own_new(keys: list[str], new: set[str]) -> int:
    """How many of a delivery's keys were new, each counted once: a key two deliveries of a
    batch carry counts for the first, as processing them one by one would."""
    mine = 0
    for key in keys:
        if key in new:
            new.discard(key)
            mine += 1
    return mine


def process_batch(*, tenant: Tenant, claims: list[Delivery]) -> None:
    """Process deliveries the caller holds locked as one unit, in one savepoint: every
    delivery's messages archived (and logged) in one call, so a batch costs a few queries
    instead of a dozen per delivery. Each delivery ends exactly as process_delivery would leave
    it. If anything fails, the savepoint is undone and each delivery is processed on its own
    (process_claimed), so a failure still stays with the delivery that caused it."""
    if not claims:
        return
    try:
        with transaction.atomic():
            _process_together(tenant, claims)
    except Exception:
        logger.warning(
            "a batch of %d deliveries of tenant %s failed together; one by one now",
            len(claims), tenant.pk, exc_info=True,
        )  # fmt: skip
        # The failed attempt changed the claims in memory: start again from the stored rows.
        fresh = {d.pk: d for d in Delivery.objects.filter(pk__in=[c.pk for c in claims])}
        for claim in claims:
            if claim.pk in fresh:
                process_claimed(tenant=tenant, claim=fresh[claim.pk])


def _process_together(tenant: Tenant, claims: list[Delivery]) -> None:
    now = timezone.now()
    plans: list[_Plan] = []
    for claim in claims:
        parsed = parse_delivery(bytes(claim.body))
        if parsed.unparseable:
            claim.save(update_fields=_mark_unparseable(claim, now))
        else:
            plans.append(_plan(tenant, claim, parsed))
    messages = [record for plan in plans for record in plan.messages]
    events = [record for plan in plans for record in plan.events]
    calls = [record for plan in plans for record in plan.calls]
    new_wamids = set(append_messages(tenant=tenant, records=messages))
    record_attachments(tenant=tenant, records=messages)
    new_event_keys = set(append_events(tenant=tenant, records=events))
    _store_refusals([refusal for plan in plans for refusal in plan.refusals])
    new_call_keys = set(append_calls(tenant=tenant, records=calls))
    together: list[Delivery] = []
    for plan in plans:
        fields = _finish(
            plan,
            now=now,
            new_messages=_own_new([r.wamid for r in plan.messages], new_wamids),
            new_events=_own_new([r.event_key for r in plan.events], new_event_keys),
            new_calls=_own_new([r.event_key for r in plan.calls], new_call_keys),
            new_notices=_raise_notices(tenant, plan),  # no query for most: no drafts
        )
        if fields == PROCESSED_FIELDS:
            together.append(plan.delivery)
        else:  # a redacted body: rare, and too big to send in a CASE
            plan.delivery.save(update_fields=fields)
    _save_processed(together, now)


def _save_processed(deliveries: list[Delivery], now: datetime) -> None:
    """One UPDATE for a batch's processed deliveries (their summaries and attempts differ, the
    rest is the same). Not Django's bulk_update: it builds a CASE of one WHEN per row and field,
    and compiling that was 40% of a drain's CPU (docs/benchmarks.md, the pipeline)."""
    if not deliveries:
        return
    rows = ", ".join(["(%s::bigint, %s::jsonb, %s::integer)"] * len(deliveries))
    params: list[Any] = [Delivery.Status.PROCESSED, now]
    for delivery in deliveries:
        params += [delivery.pk, json.dumps(delivery.summary), delivery.attempts]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Delivery._meta.db_table} AS d SET status = %s, processed_at = %s, "  # noqa: S608  # nosec B608  # our table's name
            "last_error = '', summary = v.summary, attempts = v.attempts "
            f"FROM (VALUES {rows}) AS v (id, summary, attempts) WHERE d.id = v.id",
            params,
        )


@dataclass(frozen=True)
class Outcome:
    summary: dict[str, Any] | None  # None: processing failed
    error: str = ""


def process_claimed(*, tenant: Tenant, claim: Delivery) -> Outcome:
    """Process a delivery the caller holds locked, in a savepoint, so that a failure never undoes
    the rest of the caller's batch. The failure of a delivery that was waiting (pending or
    failed: every claim of a drain or a task) is recorded on it, and the sweeper tries it again;
    a delivery that was done (a replay of a processed or unparseable one) keeps its status."""
    # Read before processing, which sets them on ``claim`` before its last write can fail.
    waiting = claim.status in (Delivery.Status.PENDING, Delivery.Status.FAILED)
    attempts = claim.attempts
    try:
        with transaction.atomic():
            return Outcome(summary=process_delivery(tenant=tenant, delivery=claim))
    except Exception as error:
        logger.exception("delivery %s of tenant %s failed", claim.pk, tenant.pk)
        message = f"{type(error).__name__}: {error}"[:2000]
        if waiting:
            Delivery.objects.filter(pk=claim.pk).update(
                status=Delivery.Status.FAILED, attempts=attempts + 1, last_error=message
            )
        return Outcome(summary=None, error=message)


def process_delivery_by_id(*, tenant: Tenant, delivery_id: int) -> dict[str, Any] | None:
    """Claim and process one delivery; None if it is gone, done, or being processed elsewhere.
    A failure is recorded on the delivery (the sweeper retries it), never lost."""
    claim = (
        Delivery.objects.select_for_update(skip_locked=True)
        .filter(pk=delivery_id, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED])
        .first()
    )
    if claim is None:
        return None
    outcome = process_claimed(tenant=tenant, claim=claim)
    transaction.on_commit(lambda: _announce(tenant, [delivery_id]))
    return outcome.summary


def process_pending_batch(
    *, tenant: Tenant, size: int = DRAIN_BATCH, max_bytes: int = DRAIN_BATCH_BYTES
) -> int:
    """Claim up to ``size`` of the tenant's pending deliveries, oldest first, and process them in
    one transaction (one commit for the batch, not one per delivery). Rows another drain holds
    are skipped, so drains of the same tenant run side by side without taking anything twice.
    Failed deliveries are not taken: they wait for their backoff (the sweeper). Only the oldest
    whose bodies together stay within ``max_bytes`` are processed (at least one); the rest stay
    pending, first in line for the next batch. Returns how many were processed."""
    return _process_pending(tenant, size, max_bytes)[0]


def _process_pending(tenant: Tenant, size: int, max_bytes: int) -> tuple[int, bool]:
    """(how many were processed, whether more may be waiting: a full claim, or some claimed
    left for the next batch by the byte budget)."""
    with tenant_scope(tenant):
        claimed = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING)
            .order_by("received_at", "id")
            .defer("body")
            .annotate(body_bytes=Length("body"))[:size]
        )
        taken: list[Delivery] = []
        weight = 0
        for row in claimed:
            if taken and weight + row.body_bytes > max_bytes:
                break
            taken.append(row)
            weight += row.body_bytes
        ids = [delivery.pk for delivery in taken]
        # The bodies of the taken ones only, in one query (deferred: a query each otherwise);
        # unordered, so that the model's ordering does not tempt PostgreSQL into walking the
        # tenant's deliveries in time order instead of looking the ids up.
        bodies = dict(Delivery.objects.filter(pk__in=ids).order_by().values_list("pk", "body"))
        for delivery in taken:
            delivery.body = bodies[delivery.pk]
        process_batch(tenant=tenant, claims=taken)
        if taken:
            transaction.on_commit(lambda: _announce(tenant, ids))
    return len(taken), len(claimed) == size or len(taken) < len(claimed)


def _announce(tenant: Tenant, delivery_ids: list[int]) -> None:
    """After the batch committed: what comes next (policy scanning) runs in this worker."""
    replies = deliveries_archived.send_robust(
        sender=Delivery, tenant=tenant, delivery_ids=delivery_ids
    )
    for receiver, reply in replies:
        if isinstance(reply, Exception):
            logger.error(
                "after deliveries of tenant %s: %s failed", tenant.pk, receiver, exc_info=reply
            )


def drain_pending(
    *,
    tenant: Tenant,
    budget_seconds: float = DRAIN_BUDGET_SECONDS,
    on_backlog: Callable[[], object] = lambda: None,
) -> int:
    """Process the tenant's pending deliveries batch after batch until none is left or the time
    budget is spent (then other tenants' tasks get their turn). ``on_backlog`` is called after
    each full batch and when the budget runs out, to queue help or a successor. Returns how many
    deliveries were claimed."""
    deadline = time.monotonic() + budget_seconds
    total = 0
    while True:
        processed, more = _process_pending(tenant, DRAIN_BATCH, DRAIN_BATCH_BYTES)
        total += processed
        if not more:
            return total
        on_backlog()
        if time.monotonic() >= deadline:
            return total

"""From a stored delivery to the archive: parse, route each item through the consent gate,
archive what may be kept, record refusals as metadata, and redact refused content from the body.

Idempotent: processing the same delivery twice (a retry, the sweeper, a replay) stores nothing
twice, because messages and events are unique per tenant on their WhatsApp ids.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    archive_events,
    archive_messages,
)
from compliance_hub.tenancy.models import Tenant
from consent import gate

from .models import Delivery, Refusal
from .whatsapp.events import Change, Message, ParsedDelivery, Status
from .whatsapp.parser import parse_delivery
from .whatsapp.redact import redact
from .whatsapp.storable import storable, storable_text

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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


def _item_id(item: Message | Change | Status) -> str:
    if isinstance(item, Message):
        return item.wamid
    if isinstance(item, Change):
        return item.event_id
    return item.target_wamid


def _kind(item: Message | Change | Status) -> str:
    if isinstance(item, Message):
        return "message"
    if isinstance(item, Change):
        return item.kind
    return "status"


def process_delivery(*, tenant: Tenant, delivery: Delivery) -> dict[str, Any]:
    """Process one delivery in the caller's tenant scope and transaction; returns its summary."""
    parsed: ParsedDelivery = parse_delivery(bytes(delivery.body))
    now = timezone.now()
    if parsed.unparseable:
        delivery.status = Delivery.Status.UNPARSEABLE
        delivery.processed_at = now
        delivery.summary = {"unparseable": True}
        delivery.save(update_fields=["status", "processed_at", "summary"])
        return delivery.summary

    messages: list[MessageRecord] = []
    events: list[EventRecord] = []
    refusals: list[Refusal] = []
    refused_ids: dict[str, str] = {}
    items: list[Message | Change | Status] = [*parsed.messages, *parsed.changes, *parsed.statuses]
    for item in items:
        phone_id = item.envelope.phone_number_id
        moment = _moment(item.timestamp, delivery)
        decision = gate.decide(tenant_id=tenant.pk, phone_number_id=phone_id, at=moment)
        if not decision.capture:
            item_id = _item_id(item)
            refused_ids[item_id] = decision.reason.value
            refusals.append(
                Refusal(
                    tenant=tenant,
                    delivery=delivery,
                    phone_number_id=phone_id[:32],
                    wamid=storable_text(item_id)[:255],
                    kind=_kind(item),
                    direction=getattr(item, "direction", "outbound"),
                    whatsapp_timestamp=moment,
                    reason=decision.reason.value,
                    employee_pk=decision.employee_id,
                )
            )
            continue
        if isinstance(item, Message):
            messages.append(_message_record(item, delivery, decision.employee_id))
        elif isinstance(item, Change):
            events.append(_change_record(item, delivery))
        else:
            events.append(_status_record(item, delivery))

    new_messages = archive_messages(tenant=tenant, records=messages)
    new_events = archive_events(tenant=tenant, records=events)
    Refusal.objects.bulk_create(refusals, ignore_conflicts=True)

    summary: dict[str, Any] = {
        "messages": len(parsed.messages),
        "changes": len(parsed.changes),
        "statuses": len(parsed.statuses),
        "calls": len(parsed.calls),
        "account_events": len(parsed.account_events),
        "archived_messages": new_messages,
        "archived_events": new_events,
        "refused": len(refusals),
        "unrecognised": len(parsed.unrecognised),
        "errors": len(parsed.errors),
    }
    if refusals:
        reasons: dict[str, int] = {}
        for refusal in refusals:
            reasons[refusal.reason] = reasons.get(refusal.reason, 0) + 1
        summary["refusals_by_reason"] = reasons
    fields = ["status", "processed_at", "summary", "attempts", "last_error"]
    if refused_ids:
        # Consent first: what the gate refused does not stay in the stored body either.
        payload, redacted = redact(json.loads(bytes(delivery.body)), refused_ids)
        if redacted:
            delivery.body = json.dumps(payload, separators=(",", ":")).encode()
            delivery.redacted = True
            fields += ["body", "redacted"]
    delivery.status = Delivery.Status.PROCESSED
    delivery.processed_at = now
    delivery.summary = summary
    delivery.attempts += 1
    delivery.last_error = ""
    delivery.save(update_fields=fields)
    return summary


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
    try:
        with transaction.atomic():
            return process_delivery(tenant=tenant, delivery=claim)
    except Exception as error:
        logger.exception("delivery %s of tenant %s failed", delivery_id, tenant.pk)
        Delivery.objects.filter(pk=delivery_id).update(
            status=Delivery.Status.FAILED,
            attempts=claim.attempts + 1,
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        return None

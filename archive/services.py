"""The verbs of the archive: append messages and the events that happen to them, idempotently.

Every multi-row insert goes in the order of the rows' unique key. Two drains may archive the same
duplicated items at once (a redelivery, the sweeper), and an insert that meets the other's
uncommitted row of the same key waits for it: in one shared order they queue behind each other,
while in opposite orders each would hold a row the other waits for (a deadlock).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from django.db import IntegrityError, transaction

from compliance_hub.tenancy.models import Tenant

from .ledger.services import log_records
from .models import Attachment, AttachmentFile, Conversation, Message, MessageEvent


@dataclass(frozen=True, order=True)  # ordered: conversations are created in key order
class ConversationKey:
    employee_id: int
    business_phone_number_id: str
    counterparty_key: str


@dataclass
class MessageRecord:
    """A message to archive (built by ingestion from a parsed delivery)."""

    conversation: ConversationKey
    counterparty: dict[str, str]  # wa_id, user_id, name, username
    business_display_number: str
    wamid: str
    direction: str
    type: str
    whatsapp_timestamp: datetime
    received_at: datetime
    text: str
    structured: dict[str, Any]
    context: dict[str, Any]
    is_history: bool
    flags: list[str]
    raw: dict[str, Any]
    delivery_id: int | None


@dataclass
class EventRecord:
    kind: str
    event_key: str
    target_wamid: str
    direction: str
    whatsapp_timestamp: datetime
    received_at: datetime
    payload: dict[str, Any]
    raw: dict[str, Any]
    delivery_id: int | None


def _conversation(tenant: Tenant, key: ConversationKey, record: MessageRecord) -> Conversation:
    lookup = {
        "tenant": tenant,
        "employee_id": key.employee_id,
        "business_phone_number_id": key.business_phone_number_id,
        "counterparty_key": key.counterparty_key,
    }
    found = Conversation.objects.filter(**lookup).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                **lookup,
                business_display_number=record.business_display_number,
                counterparty_wa_id=record.counterparty.get("wa_id", ""),
                counterparty_user_id=record.counterparty.get("user_id", ""),
                counterparty_name=record.counterparty.get("name", ""),
                counterparty_username=record.counterparty.get("username", ""),
                started_at=record.whatsapp_timestamp,
            )
    except IntegrityError:  # created by a concurrent worker a moment ago
        return Conversation.objects.get(**lookup)


def archive_messages(*, tenant: Tenant, records: list[MessageRecord]) -> int:
    """Append messages (in the caller's tenant scope); a wamid already archived is skipped, so
    a redelivery or a retried task stores nothing twice. Returns how many were new."""
    if not records:
        return 0
    first_of: dict[ConversationKey, MessageRecord] = {}  # starts each new conversation
    for record in records:
        first_of.setdefault(record.conversation, record)
    records = sorted(records, key=attrgetter("wamid"))
    conversations = {key: _conversation(tenant, key, first_of[key]) for key in sorted(first_of)}
    rows = []
    for record in records:
        conversation = conversations[record.conversation]
        rows.append(
            Message(
                tenant=tenant,
                conversation=conversation,
                employee_id=record.conversation.employee_id,
                delivery_id=record.delivery_id,
                wamid=record.wamid,
                direction=record.direction,
                type=record.type,
                whatsapp_timestamp=record.whatsapp_timestamp,
                received_at=record.received_at,
                text=record.text,
                structured=record.structured,
                context=record.context,
                is_history=record.is_history,
                flags=record.flags,
                raw=record.raw,
            )
        )
    existing = set(
        Message.objects.filter(wamid__in=[row.wamid for row in rows]).values_list(
            "wamid", flat=True
        )
    )
    new_rows = []
    for row in rows:
        if row.wamid not in existing:
            existing.add(row.wamid)  # a delivery may carry the same message twice
            new_rows.append(row)
    Message.objects.bulk_create(new_rows, ignore_conflicts=True)
    # Tamper evidence: each new message is hashed now and becomes a leaf of the tenant's Merkle
    # log at the next checkpoint (archive/ledger/): one SELECT and one INSERT, no lock.
    new_wamids = [row.wamid for row in new_rows]
    log_records(tenant=tenant, records=Message.objects.filter(wamid__in=new_wamids))
    return len(new_rows)


def archive_events(*, tenant: Tenant, records: list[EventRecord]) -> int:
    """Append edits, revokes, reactions and statuses; duplicates (same event key) are skipped."""
    if not records:
        return 0
    keys = [record.event_key for record in records]
    existing = set(
        MessageEvent.objects.filter(event_key__in=keys).values_list("event_key", flat=True)
    )
    rows = []
    for record in sorted(records, key=attrgetter("event_key")):
        if record.event_key in existing:
            continue
        existing.add(record.event_key)
        rows.append(
            MessageEvent(
                tenant=tenant,
                kind=record.kind,
                event_key=record.event_key,
                target_wamid=record.target_wamid,
                direction=record.direction,
                whatsapp_timestamp=record.whatsapp_timestamp,
                received_at=record.received_at,
                payload=record.payload,
                raw=record.raw,
                delivery_id=record.delivery_id,
            )
        )
    MessageEvent.objects.bulk_create(rows, ignore_conflicts=True)
    # Each new event is a leaf of the tenant's Merkle log too (see archive_messages).
    new_keys = [row.event_key for row in rows]
    log_records(tenant=tenant, records=MessageEvent.objects.filter(event_key__in=new_keys))
    return len(rows)


def record_stored_file(*, tenant: Tenant, attachment: Attachment) -> AttachmentFile:
    """The proof that ``attachment``'s bytes were stored (in the caller's tenant scope and
    transaction, as its status turns ``stored``): a leaf of the tenant's log. Idempotent."""
    existing = AttachmentFile.objects.filter(attachment=attachment).first()
    if existing is not None:
        return existing
    proof = AttachmentFile.objects.create(
        tenant=tenant,
        attachment=attachment,
        message_id=attachment.message_id,
        media_id=attachment.media_id,
        sha256=attachment.sha256,
        size=attachment.size,
        mime_type=attachment.mime_type,
        storage_name=attachment.file.name,
        stored_at=attachment.stored_at,
    )
    log_records(tenant=tenant, records=AttachmentFile.objects.filter(pk=proof.pk))
    return proof

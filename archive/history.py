"""A record's re-creation: the message as captured, every later version and its audit trail.

SEC 17a-4(f)(2)(i)(A)'s audit-trail alternative lets a record be changed only if the original
and every modification can be re-created with who did what and when. Messages are immutable
rows and changes are events, so re-creating one is a read: this module gathers it (one page and
one API call show the same thing). Reading content is audited by the callers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.models import Tenant

from .ledger.models import LogLeaf
from .models import Message, MessageEvent

# Changes that are part of the record (statuses say where it travelled, not what it said).
VERSION_KINDS = {
    MessageEvent.Kind.EDIT: "edit",
    MessageEvent.Kind.REVOKE: "delete",
    MessageEvent.Kind.REACTION: "reaction",
}


@dataclass(frozen=True)
class RecordVersion:
    """The original (``kind == "original"``) or one later change of it, in the order WhatsApp
    gave them. ``log_index`` is the row's leaf in the tenant's log (None until the next
    checkpoint gives it one)."""

    kind: str  # original, edit, delete, reaction
    number: int  # 0 for the original, then 1, 2, ...
    at: datetime  # WhatsApp's time
    received_at: datetime
    text: str  # original and edit: the text then; empty otherwise
    type: str  # the message's type (original) or of the edit's new message
    emoji: str  # reaction: the emoji, empty when it was removed
    direction: str
    record_id: int  # the message's id (original) or the event's
    log_index: int | None
    leaf_hash: str  # hex; empty when not in the log yet
    raw_sha256: str  # SHA-256 of the payload Meta sent, as canonical JSON


@dataclass(frozen=True)
class TrailEntry:
    """One audit event that names this record: a read, a search that showed it, a disposal."""

    id: int
    at: datetime
    action: str
    action_label: str
    actor: str
    target: str
    ip_address: str | None
    endpoint: str


@dataclass(frozen=True)
class MessageHistory:
    message: Message
    versions: list[RecordVersion]  # the original first
    trail: list[TrailEntry]  # oldest first

    @property
    def original(self) -> RecordVersion:
        return self.versions[0]

    @property
    def changes(self) -> list[RecordVersion]:
        return self.versions[1:]


def raw_digest(raw: Any) -> str:
    """SHA-256 (hex) of a raw payload as canonical JSON (keys sorted, no spaces, UTF-8): the
    same digest whatever order PostgreSQL's jsonb returns the keys in."""
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def message_history(*, tenant: Tenant, message: Message) -> MessageHistory:
    """``message`` as captured, each edit, deletion for everyone and reaction after it in
    WhatsApp's order (each with its log index), and every audit event of ``tenant`` naming
    it, oldest first. Four queries."""
    events = list(
        MessageEvent.objects.filter(
            tenant=tenant, target_wamid=message.wamid, kind__in=list(VERSION_KINDS)
        ).order_by("whatsapp_timestamp", "id")
    )
    leaves = _leaves(tenant=tenant, message=message, events=events)
    message_leaf = leaves.get((Message._meta.label_lower, message.pk))
    versions = [
        RecordVersion(
            kind="original", number=0, at=message.whatsapp_timestamp,
            received_at=message.received_at, text=message.text, type=message.type, emoji="",
            direction=message.direction, record_id=message.pk,
            log_index=message_leaf.leaf_index if message_leaf else None,
            leaf_hash=bytes(message_leaf.leaf_hash).hex() if message_leaf else "",
            raw_sha256=raw_digest(message.raw),
        )
    ]  # fmt: skip
    for number, event in enumerate(events, start=1):
        new = (event.payload.get("message") or {}) if event.kind == MessageEvent.Kind.EDIT else {}
        leaf = leaves.get((MessageEvent._meta.label_lower, event.pk))
        versions.append(
            RecordVersion(
                kind=VERSION_KINDS[MessageEvent.Kind(event.kind)], number=number,
                at=event.whatsapp_timestamp, received_at=event.received_at,
                text=str(new.get("text", "")), type=str(new.get("type", "")),
                emoji=str(event.payload.get("emoji") or "")
                if event.kind == MessageEvent.Kind.REACTION else "",
                direction=event.direction, record_id=event.pk,
                log_index=leaf.leaf_index if leaf else None,
                leaf_hash=bytes(leaf.leaf_hash).hex() if leaf else "",
                raw_sha256=raw_digest(event.raw),
            )
        )  # fmt: skip
    return MessageHistory(
        message=message,
        versions=versions,
        trail=audit_trail_of(tenant=tenant, message=message, event_ids=[e.pk for e in events]),
    )


def _leaves(
    *, tenant: Tenant, message: Message, events: list[MessageEvent]
) -> dict[tuple[str, int], LogLeaf]:
    wanted = Q(record_table=Message._meta.label_lower, record_id=message.pk)
    if events:
        wanted |= Q(
            record_table=MessageEvent._meta.label_lower, record_id__in=[e.pk for e in events]
        )
    return {
        (leaf.record_table, leaf.record_id): leaf
        for leaf in LogLeaf.objects.filter(wanted, tenant=tenant)
    }


def audit_trail_of(*, tenant: Tenant, message: Message, event_ids: list[int]) -> list[TrailEntry]:
    """The tenant's audit events naming the message or one of its events, oldest first: reads
    and searches list what they showed in ``details.message_ids`` / ``details.event_ids``
    (archive.services.record_archive_read, archive.search.services.record_search), a disposal
    names its record by table and id."""
    # jsonb containment of the whole document (details @> '{"message_ids": [id]}'): a list
    # holding this id among others matches, and a GIN index on details could serve it.
    names = (
        Q(details__contains={"message_ids": [message.pk]})
        | Q(details__contains={"record_table": Message._meta.label_lower, "record_id": message.pk})
        | Q(target_type=Message._meta.model_name, target_id=str(message.pk))
    )
    for event_id in event_ids:
        names |= Q(details__contains={"event_ids": [event_id]})
    rows = AuditEvent.objects.filter(names, tenant=tenant).order_by("occurred_at", "id")
    return [
        TrailEntry(
            id=row.pk,
            at=row.occurred_at,
            action=row.action,
            action_label=row.action_label,
            actor=row.actor_label,
            target=row.target_label,
            ip_address=row.ip_address,
            endpoint=str((row.details or {}).get("endpoint", "")),
        )
        for row in rows
    ]

"""The canonical bytes of an archive record: what a leaf of the Merkle log is the hash of.

Defined once, here, and versioned: a leaf stores the form it was hashed with, so adding a field
to a model later never changes the hash of a record already in the log (a new form does).

Form 1 is compact JSON (no spaces), keys sorted, UTF-8, of::

    {"fields": {...}, "form": 1, "id": <primary key>, "table": "<app_label.model>",
     "tenant": <tenant id>}

where ``fields`` holds the record's fields listed in :data:`FORMS` (a related record's field is
named by its lookup path, e.g. ``conversation__counterparty_key``) and each value is written as:
timestamps in ISO-8601 UTC with microseconds and a ``Z`` (``2026-01-01T09:30:00.000000Z``),
JSON documents as themselves (keys sorted at every depth), numbers as Python's shortest
round-trip form, null as null. Values are taken as the database returns them, both when the
leaf is made and when it is verified, so PostgreSQL's own normalisations (jsonb, inet) can never
make an honest record look edited.

Pure: no Django; the services read the rows and pass plain values in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

FORM = 1

# The fields that matter, per table and form. The primary key and the tenant are in every
# record's envelope. Keep the keys in step with the models' labels (app_label.model_name).
FORMS: dict[int, dict[str, tuple[str, ...]]] = {
    1: {
        "archive.message": (
            "conversation_id",
            # Who the conversation was with: the conversation's identity, which never changes.
            "conversation__employee_id",
            "conversation__business_phone_number_id",
            "conversation__counterparty_key",
            "employee_id",
            "delivery_id",
            "wamid",
            "direction",
            "type",
            "whatsapp_timestamp",
            "received_at",
            "text",
            "structured",
            "context",
            "is_history",
            "flags",
            "raw",
        ),
        "archive.messageevent": (
            "kind",
            "event_key",
            "target_wamid",
            "direction",
            "whatsapp_timestamp",
            "received_at",
            "payload",
            "delivery_id",
            "raw",
        ),
        "archive.attachmentfile": (
            "attachment_id",
            "message_id",
            "media_id",
            "sha256",
            "size",
            "mime_type",
            "storage_name",
            "stored_at",
        ),
        "archive.callrecord": (
            "employee_id",
            "event_key",
            "call_id",
            "event",
            "status",
            "direction",
            "business_phone_number_id",
            "counterparty_key",
            "counterparty_wa_id",
            "started_at",
            "ended_at",
            "duration_seconds",
            "whatsapp_timestamp",
            "received_at",
            "delivery_id",
            "raw",
        ),
        "compliance_hub.auditevent": (
            "occurred_at",
            "actor_id",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "target_label",
            "ip_address",
            "user_agent",
            "details",
        ),
        "archive.tombstone": (
            "leaf_index",
            "record_table",
            "record_id",
            "leaf_hash",
            "reason",
            "created_at",
        ),
    }
}


class NotCanonical(TypeError):
    """A value of a type the canonical form does not define."""


def fields_of(table: str, form: int = FORM) -> tuple[str, ...]:
    return FORMS[form][table]


def timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise NotCanonical("naive datetime in an archive record")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _value(value: Any) -> Any:
    # JSON documents come back from the database as plain JSON types: json.dumps sorts their
    # keys at every depth, so only the column types need a written form here.
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def canonical_bytes(
    *, tenant_id: int, table: str, record_id: int, values: Mapping[str, Any], form: int = FORM
) -> bytes:
    """The record's canonical bytes in ``form``; ``values`` maps each field of the form (extra
    keys are ignored, a missing one is an error)."""
    document = {
        "fields": {name: _value(values[name]) for name in fields_of(table, form)},
        "form": form,
        "id": record_id,
        "table": table,
        "tenant": tenant_id,
    }
    try:
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise NotCanonical(str(error)) from error
    return text.encode("utf-8")

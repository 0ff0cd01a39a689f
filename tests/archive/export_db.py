"""An archive to export, made through the archive's own services as ingestion makes it: messages
of two conversations, an edit, a deletion for everyone, reactions, a quoted reply, a stored
document and one never captured (a helper module, not a test module)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from archive.exporting.build import ExportRequest
from archive.models import Attachment, Message
from archive.services import (
    ConversationKey,
    EventRecord,
    add_attachments,
    archive_events,
    archive_messages,
    mark_attachment_stored,
)
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from tests.archive.ledger_helpers import MOMENT, employee_of, message_record

PDF = b"%PDF-1.4 nota de corretagem\n" * 50


def event(employee, n: int, kind: str, target: int, payload: dict, direction: str) -> EventRecord:
    at = MOMENT + timedelta(minutes=target, seconds=40 + n)
    return EventRecord(
        kind=kind,
        event_key=f"{kind}:{employee.tenant_id}:{n}",
        target_wamid=f"wamid.{employee.tenant_id}.{target}",
        direction=direction,
        whatsapp_timestamp=at,
        received_at=at,
        payload=payload,
        raw={kind: payload},
        delivery_id=None,
    )


def archive_for_export(tenant: Tenant, *, messages: int = 6) -> list[int]:
    """``messages`` text messages (two conversations) with their events and attachments;
    returns the archived messages' ids."""
    employee = employee_of(tenant)
    records = []
    for n in range(messages):
        record = message_record(employee, n)
        if n % 3 == 2:  # a second client
            record = replace(
                record,
                conversation=ConversationKey(
                    employee.pk, employee.whatsapp_phone_number_id, "5521777"
                ),
                counterparty={"wa_id": "5521777", "name": "Joana Lima"},
            )
        if n == 1:
            record = replace(record, context={"reply_to": {"id": f"wamid.{tenant.pk}.0"}})
        if n == 3:
            record = replace(
                record,
                type="document",
                text="the contract note",
                structured={"media": {"id": "media-3", "mime_type": "application/pdf",
                                      "sha256": "x", "filename": "nota.pdf"}},
            )  # fmt: skip
        if n == 4:
            record = replace(
                record,
                type="image",
                text="",
                structured={"media": {"id": "media-4", "mime_type": "image/jpeg", "sha256": "y"}},
            )
        records.append(record)
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=records)
        archive_events(
            tenant=tenant,
            records=[
                event(employee, 1, "edit", 0, {"message": {"type": "text", "text": "fixed"}},
                      "outbound"),
                event(employee, 2, "reaction", 1, {"emoji": "👍"}, "outbound"),
                event(employee, 3, "reaction", 1, {"emoji": ""}, "outbound"),
                event(employee, 4, "revoke", 2, {}, "inbound"),
                event(employee, 5, "status", 0, {"status": "read"}, "outbound"),
            ],
        )  # fmt: skip
        ids = add_attachments(tenant=tenant, wamids=[r.wamid for r in records if r.type != "text"])
        Attachment.objects.filter(pk__in=ids, media_id="media-3").update(
            mime_type="application/pdf", filename="nota.pdf"
        )
        document = Attachment.objects.get(pk__in=ids, media_id="media-3")
    sha = hashlib.sha256(PDF).hexdigest()
    name = default_storage.save(f"attachments/{tenant.pk}/{sha[:2]}/{sha}", ContentFile(PDF))
    mark_attachment_stored(
        tenant=tenant, attachment_id=document.pk, storage_name=name, sha256=sha,
        size=len(PDF), mime_type="application/pdf",
    )  # fmt: skip
    with tenant_scope(tenant):
        return list(
            Message.objects.filter(tenant=tenant).order_by("id").values_list("pk", flat=True)
        )


def request(
    formats: tuple[str, ...] = ("rsmf", "eml", "csv", "jsonl", "html"), **changes
) -> ExportRequest:
    base = ExportRequest(
        export_id="exp-1",
        requester="audrey@firm-a.example",
        matter="SEC inquiry",
        query="",
        date_from=date(2026, 3, 1),
        date_until=date(2026, 3, 31),
        formats=formats,
        created_at=datetime(2026, 4, 1, 12, 0, tzinfo=UTC),
    )
    return replace(base, **changes)

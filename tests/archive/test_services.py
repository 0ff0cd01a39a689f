"""The archive's writes add their own leaves to the Merkle log: a caller (ingestion) that archives
calls or records a stored attachment has nothing to remember."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from archive.ledger.models import PendingLeaf
from archive.models import Attachment, AttachmentFile, CallRecord
from archive.services import (
    add_attachments,
    archive_calls,
    archive_messages,
    fail_expired_attachments,
    mark_attachment_not_fetched,
    mark_attachment_stored,
)
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import MOMENT, message_record


def queued(tenant, table: str) -> list[int]:
    with tenant_scope(tenant):
        return sorted(
            PendingLeaf.objects.filter(record_table=table).values_list("record_id", flat=True)
        )


def call(employee, key: str) -> CallRecord:
    return CallRecord(
        employee_id=employee.pk,
        event_key=key,
        call_id=key,
        event="terminate",
        status="COMPLETED",
        business_phone_number_id=employee.whatsapp_phone_number_id,
        whatsapp_timestamp=MOMENT,
        duration_seconds=61,
    )


def test_archived_calls_are_leaves_without_the_caller_logging_them(tenant_a, ana):
    keys = ["call:c2:terminate:COMPLETED:1", "call:c1:terminate:COMPLETED:1"]
    with tenant_scope(tenant_a):
        assert archive_calls(tenant=tenant_a, records=[call(ana, k) for k in keys]) == 2
        ids = sorted(CallRecord.objects.values_list("pk", flat=True))
    assert queued(tenant_a, "archive.callrecord") == ids

    # A replay archives nothing twice and queues no second leaf.
    with tenant_scope(tenant_a):
        assert archive_calls(tenant=tenant_a, records=[call(ana, k) for k in keys]) == 0
        assert CallRecord.objects.count() == 2
    assert queued(tenant_a, "archive.callrecord") == ids


def archived_image(tenant, employee) -> int:
    """A message with an image, archived, and its pending attachment's id."""
    record = message_record(employee, 1)
    record = replace(
        record,
        type="image",
        structured={"media": {"id": "media-1", "mime_type": "", "sha256": "x"}},
    )
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=[record])
        [pending] = add_attachments(tenant=tenant, wamids=[record.wamid])
        assert add_attachments(tenant=tenant, wamids=[record.wamid]) == [pending]
        assert Attachment.objects.count() == 1
    return pending


def test_a_stored_attachment_s_proof_is_a_leaf_without_the_caller_logging_it(tenant_a, ana):
    pending = archived_image(tenant_a, ana)
    assert queued(tenant_a, "archive.attachmentfile") == []

    def store():
        return mark_attachment_stored(
            tenant=tenant_a, attachment_id=pending, storage_name="attachments/x/ab/ab",
            sha256="ab" * 32, size=3, mime_type="image/jpeg",
        )  # fmt: skip

    first = store()
    assert first.changed
    assert (first.attachment.status, first.attachment.mime_type) == ("stored", "image/jpeg")
    with tenant_scope(tenant_a):
        proof = AttachmentFile.objects.get()
    assert (proof.sha256, proof.size, proof.storage_name) == ("ab" * 32, 3, "attachments/x/ab/ab")
    assert queued(tenant_a, "archive.attachmentfile") == [proof.pk]

    # A second, concurrent fetch finds it stored: nothing changes, no second proof.
    second = store()
    assert not second.changed
    assert second.attachment.attempts == 1
    with tenant_scope(tenant_a):
        assert AttachmentFile.objects.count() == 1
    assert queued(tenant_a, "archive.attachmentfile") == [proof.pk]


def test_failed_fetches_turn_missing_then_failed_and_are_no_leaves(tenant_a, ana):
    pending = archived_image(tenant_a, ana)
    with tenant_scope(tenant_a):
        assert mark_attachment_not_fetched(
            tenant=tenant_a, attachment_id=0, error="e", permanent=True, max_attempts=2
        ).attachment is None  # fmt: skip

    def fail(*, permanent: bool = False):
        return mark_attachment_not_fetched(
            tenant=tenant_a, attachment_id=pending, error="Graph API: 500",
            permanent=permanent, max_attempts=2,
        ).attachment  # fmt: skip

    first = fail()
    assert (first.status, first.attempts) == ("missing", 1)
    second = fail()
    assert (second.status, second.attempts, second.last_error) == ("failed", 2, "Graph API: 500")
    assert queued(tenant_a, "archive.attachmentfile") == []


def test_attachments_waiting_past_the_media_lifetime_fail_with_the_reason(tenant_a, ana):
    pending = archived_image(tenant_a, ana)
    received = message_record(ana, 1).received_at
    assert (
        fail_expired_attachments(received_by=received - timedelta(seconds=1), reason="r").count == 0
    )
    expired = fail_expired_attachments(received_by=received, reason="expired")
    assert expired.count == 1
    assert expired.numbers == {tenant_a.pk: {ana.whatsapp_phone_number_id}}
    with tenant_scope(tenant_a):
        row = Attachment.objects.get(pk=pending)
    assert (row.status, row.last_error) == ("failed", "expired")

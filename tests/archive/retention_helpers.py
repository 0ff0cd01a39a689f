"""Shared by the retention, disposition and erasure tests: a logged archive of firm A whose
messages were sent on 2026-03-02 (ledger_helpers.MOMENT), a second employee in another team and
country, a stored attachment, and the run clock moved years ahead."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from io import StringIO

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from archive.ledger.services import checkpoint_and_anchor
from archive.models import Attachment
from archive.services import add_attachments, archive_messages, mark_attachment_stored
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import services as consent
from consent.models import Employee
from tests.archive.ledger_helpers import archive_sample, employee_of, message_record

ADMIN = Actor.command("test-admin")
# The sample's messages were sent in March 2026: these clocks are past 1, 3 and 6 years.
IN_2028 = datetime(2028, 1, 1, tzinfo=UTC)
IN_2030 = datetime(2030, 1, 1, tzinfo=UTC)
IN_2033 = datetime(2033, 1, 1, tzinfo=UTC)
PDF = b"%PDF-1.4 extrato\n" * 50


def logged_archive(tenant: Tenant, *, count: int = 3) -> Employee:
    """``count`` messages of the tenant's employee (team "Team <slug>", Brazil), each with a
    reaction, all with their leaves in a signed checkpoint."""
    employee = employee_of(tenant)
    archive_sample(tenant, employee, count=count)
    checkpoint_and_anchor(tenant=tenant, force=True)
    return employee


def other_employee(tenant: Tenant, *, region: str = "PT") -> Employee:
    """Someone in no team, in another country, with consent."""
    employee = consent.create_employee(
        tenant=tenant,
        data=consent.EmployeeData(
            full_name="Rui Costa", email="rui@firm.example", employee_id="PT-1",
            phone_number="+351 912 345 678", region=region, whatsapp_phone_number_id="777001",
        ),
        actor=Actor.system(),
    )  # fmt: skip
    consent.record_consent(employee=employee, actor=Actor.system(), evidence_reference="paper")
    return employee


def stored_attachment(tenant: Tenant, employee: Employee, n: int) -> tuple[int, str]:
    """Message ``n`` of ``employee`` carrying a stored PDF; returns (message id, storage name)."""
    record = replace(
        message_record(employee, n),
        type="document",
        structured={"media": {"id": f"media-{n}", "mime_type": "application/pdf"}},
    )
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=[record])
        [pending] = add_attachments(tenant=tenant, wamids=[record.wamid])
    sha = hashlib.sha256(PDF).hexdigest()
    name = default_storage.save(f"attachments/{tenant.pk}/{sha[:2]}/{sha}", ContentFile(PDF))
    mark_attachment_stored(
        tenant=tenant, attachment_id=pending, storage_name=name, sha256=sha, size=len(PDF),
        mime_type="application/pdf",
    )  # fmt: skip
    with tenant_scope(tenant):
        return Attachment.objects.get(pk=pending).message_id, name


def verify(slug: str = "firm-a", *, files: bool = False) -> str:
    out = StringIO()
    call_command("verify_archive", slug, *(["--files"] if files else []), stdout=out)
    return out.getvalue()


def archive_old(tenant: Tenant, employee: Employee, *, sent: datetime, count: int, start: int):
    """``count`` messages of ``employee`` sent at ``sent`` (one a minute), logged."""
    from datetime import timedelta

    records = [
        replace(message_record(employee, n), whatsapp_timestamp=sent + timedelta(minutes=n - start))
        for n in range(start, start + count)
    ]
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=records)
    checkpoint_and_anchor(tenant=tenant, force=True)

"""The whole path with real processes: a signed POST to the webhook, a real Celery worker over
Redis, the consent gate, the archive."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from archive.models import Message
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from ingestion.models import Delivery, Refusal
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads
from tests.polling import wait_until

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "end-to-end-app-secret-42"


def _wait(condition):
    return wait_until(condition, failure="the worker did not finish in time")


def test_a_webhook_delivery_reaches_the_archive_through_a_real_worker(client, worker):
    firm = create_tenant(slug="firm-e2e", name="Firm End To End", actor=Actor.system())
    save_whatsapp_settings(tenant=firm, app_secret=SECRET, actor=Actor.system())
    covered = consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name="Covered Person",
            email="covered@e2e.example",
            employee_id="C-1",
            phone_number="+34 612 34 56 78",
            whatsapp_phone_number_id="111000111",
        ),
        actor=Actor.system(),
    )
    consent.record_consent(
        employee=covered,
        actor=Actor.system(),
        evidence_reference="form",
        occurred_at=covered.created_at + timedelta(milliseconds=1),
    )
    consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name="Not Asked Yet",
            email="other@e2e.example",
            employee_id="C-2",
            phone_number="+34 622 98 76 54",
            whatsapp_phone_number_id="222000222",
        ),
        actor=Actor.system(),
    )
    sent = int(time.time()) + 1
    for phone_id, wamid in (("111000111", "wamid.E2E.OK"), ("222000222", "wamid.E2E.NO")):
        raw = payloads.body(
            payloads.inbound_text(
                phone_number_id=phone_id, wamid=wamid, text="hola, ¿qué tal?", timestamp=sent
            )
        )
        response = client.post(
            f"/webhooks/whatsapp/{firm.slug}/",
            data=raw,
            content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=sign(raw, SECRET),
        )
        assert response.status_code == 200

    def processed():
        with tenant_scope(firm):
            return Delivery.objects.filter(status=Delivery.Status.PROCESSED).count() == 2

    _wait(processed)
    with tenant_scope(firm):
        archived = Message.objects.get()
        refusal = Refusal.objects.get()
    assert archived.wamid == "wamid.E2E.OK" and archived.text == "hola, ¿qué tal?"
    assert (refusal.wamid, refusal.reason) == ("wamid.E2E.NO", "no_consent")


def test_the_sweeper_recovers_what_was_stored_but_never_queued(worker):
    """Redis was down when these were acknowledged (so no drain was queued), or processing
    failed: the beat's sweep hands the pending ones to a drain of their tenant and retries the
    failed one on its own, through the real worker."""
    from datetime import timedelta

    from django.utils import timezone

    from ingestion.tasks import sweep_deliveries_task

    firm = create_tenant(slug="firm-sweep", name="Firm Sweep", actor=Actor.system())
    save_whatsapp_settings(tenant=firm, app_secret=SECRET, actor=Actor.system())
    ana = consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name="Swept Person", email="swept@e2e.example", employee_id="S-1",
            phone_number="+34 612 34 56 79", whatsapp_phone_number_id="333000333",
        ), actor=Actor.system(),
    )  # fmt: skip
    consent.record_consent(
        employee=ana, actor=Actor.system(), evidence_reference="form",
        occurred_at=ana.created_at + timedelta(milliseconds=1),
    )  # fmt: skip
    sent = int(time.time()) + 1
    long_ago = timezone.now() - timedelta(minutes=10)
    with tenant_scope(firm):
        for index in range(40):  # more than one drain batch
            body = payloads.body(
                payloads.inbound_text(phone_number_id="333000333", wamid=f"wamid.SW{index}",
                                      text="oi", timestamp=sent)
            )  # fmt: skip
            Delivery.objects.create(
                tenant=firm, body=body, body_sha256="-", received_at=long_ago,
                status=Delivery.Status.FAILED if index == 0 else Delivery.Status.PENDING,
                attempts=1 if index == 0 else 0,
            )  # fmt: skip

    assert sweep_deliveries_task() == 40

    def all_processed():
        with tenant_scope(firm):
            if Delivery.objects.exclude(status=Delivery.Status.PROCESSED).exists():
                return None
            return Message.objects.count()

    assert _wait(all_processed) == 40

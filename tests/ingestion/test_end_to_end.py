"""The whole path with real processes: a signed POST to the webhook, a real Celery worker over
Redis, the consent gate, the archive."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from ingestion.models import Delivery, Refusal
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "end-to-end-app-secret-42"


def _wait(condition, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


def test_a_webhook_delivery_reaches_the_archive_through_a_real_worker(client, worker):
    firm = create_tenant(slug="firm-e2e", name="Firm End To End")
    save_whatsapp_settings(tenant=firm, app_secret=SECRET)
    covered = consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name="Covered Person",
            email="covered@e2e.example",
            employee_id="C-1",
            phone_number="+34 612 34 56 78",
            whatsapp_phone_number_id="111000111",
        ),
    )
    consent.record_consent(
        employee=covered,
        actor=None,
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

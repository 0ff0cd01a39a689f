"""The whole path with real processes: a signed POST to the webhook, a real Celery worker over
Redis, the consent gate, the archive."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery, Refusal
from tests.ingestion import payloads
from tests.polling import wait_until
from tests.webhook_firms import connected_firm, employee_on, post_text

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "end-to-end-app-secret-42"


def _wait(condition):
    return wait_until(condition, failure="the worker did not finish in time")


def test_a_webhook_delivery_reaches_the_archive_through_a_real_worker(client, worker):
    firm = connected_firm("firm-e2e", SECRET)
    employee_on(firm, phone_number_id="111000111", phone_number="+34 612 34 56 78", name="Covered")
    employee_on(
        firm, phone_number_id="222000222", phone_number="+34 622 98 76 54", name="Not Asked Yet",
        consented=False,
    )  # fmt: skip
    for phone_id, wamid in (("111000111", "wamid.E2E.OK"), ("222000222", "wamid.E2E.NO")):
        response = post_text(
            client, firm, SECRET, phone_number_id=phone_id, wamid=wamid, text="hola, ¿qué tal?"
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

    from django.utils import timezone

    from ingestion.tasks import sweep_deliveries_task

    firm = connected_firm("firm-sweep", SECRET)
    employee_on(firm, phone_number_id="333000333", phone_number="+34 612 34 56 79", name="Swept")
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

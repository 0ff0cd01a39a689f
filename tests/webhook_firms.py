"""A firm connected to WhatsApp with an employee who may or may not have consented, and a signed
webhook posted to it: what every test that drives the real path (webhook, worker, archive, scan,
alert) sets up first. One place, so those tests differ only in what they check."""

from __future__ import annotations

import time
from datetime import timedelta

from django.http import HttpResponse
from django.test import Client

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from consent.models import Employee
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.ingestion import payloads


def connected_firm(slug: str, secret: str) -> Tenant:
    """A new firm whose Meta app (with this secret) is connected."""
    firm = create_tenant(slug=slug, name=slug.replace("-", " ").title(), actor=Actor.system())
    save_whatsapp_settings(tenant=firm, app_secret=secret, actor=Actor.system())
    return firm


def employee_on(
    firm: Tenant, *, phone_number_id: str, phone_number: str, name: str, consented: bool = True
) -> Employee:
    """An employee of the firm on that WhatsApp number; consented unless told otherwise."""
    employee = consent.create_employee(
        tenant=firm,
        data=consent.EmployeeData(
            full_name=name,
            email=f"{phone_number_id}@e2e.example",
            employee_id=f"E-{phone_number_id}",
            phone_number=phone_number,
            whatsapp_phone_number_id=phone_number_id,
        ),
        actor=Actor.system(),
    )
    if consented:
        consent.record_consent(
            employee=employee,
            actor=Actor.system(),
            evidence_reference="form",
            occurred_at=employee.created_at + timedelta(milliseconds=1),
        )
    return employee


def post_text(
    client: Client, firm: Tenant, secret: str, *, phone_number_id: str, wamid: str, text: str
) -> HttpResponse:
    """Meta's webhook for one inbound text, signed with the firm's secret."""
    raw = payloads.body(
        payloads.inbound_text(
            phone_number_id=phone_number_id,
            wamid=wamid,
            text=text,
            timestamp=int(time.time()) + 1,
        )
    )
    return client.post(
        f"/webhooks/whatsapp/{firm.slug}/",
        data=raw,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(raw, secret),
    )

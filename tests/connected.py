"""Firm A connected to WhatsApp, as the webhook, ingestion, archive and dashboard tests need it.

Two fixtures, one meaning each: ``connected_tenant`` is the firm with its Meta app's secret and
verify token saved; ``connected_employee`` is Ana, who has consented, on a firm connected with
the processing tests' secret."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant
from consent import services as consent
from ingestion.services import save_whatsapp_settings
from tests.ingestion.delivering import APP_SECRET, SECRET, VERIFY_TOKEN


@pytest.fixture
def connected_tenant(tenant_a) -> Tenant:
    """Firm A with its Meta app connected."""
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN, actor=Actor.system()
    )
    return tenant_a


@pytest.fixture
def connected_employee(tenant_a, ana, django_capture_on_commit_callbacks):
    """Firm A's WhatsApp app is connected and Ana (the ``ana`` fixture) has
    consented: the same object as ``ana`` in the same test."""
    save_whatsapp_settings(
        tenant=tenant_a, app_secret=SECRET, verify_token="verify-token-123", actor=Actor.system()
    )
    with django_capture_on_commit_callbacks(execute=True):
        consent.record_consent(
            employee=ana,
            actor=Actor.system(),
            evidence_reference="signed form",
            occurred_at=ana.created_at + timedelta(milliseconds=1),
        )
    return ana

"""The verbs of ingestion: connect a tenant's WhatsApp app, and receive a delivery."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import ValidationError
from django.db import transaction

from compliance_hub.accounts.models import person_or_none
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Delivery, WhatsAppSettings

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("app_secret", "verify_token", "access_token")
# The headers worth keeping with a delivery (never cookies or anything of ours).
KEPT_HEADERS = ("X-Hub-Signature-256", "Content-Type", "User-Agent", "Content-Length")


def whatsapp_settings(*, tenant: Tenant) -> WhatsAppSettings | None:
    with tenant_scope(tenant):
        return WhatsAppSettings.objects.filter(tenant=tenant).first()


def save_whatsapp_settings(
    *,
    tenant: Tenant,
    actor=None,
    request=None,
    app_secret: str | None = None,
    verify_token: str | None = None,
    access_token: str | None = None,
    waba_ids: list[str] | None = None,
) -> WhatsAppSettings:
    """Set what is given (None keeps the saved value). Audits which settings changed, never
    their values."""
    given = {"app_secret": app_secret, "verify_token": verify_token, "access_token": access_token}
    errors = {}
    for name, value in given.items():
        if value is not None and value != value.strip():
            errors[name] = "Remove the spaces around the value."
        elif value is not None and value and len(value) < 8:
            errors[name] = "This is too short to be a real secret."
    cleaned_waba_ids = None
    if waba_ids is not None:
        cleaned_waba_ids = [w.strip() for w in waba_ids if w.strip()]
        if any(not w.isdigit() or len(w) > 32 for w in cleaned_waba_ids):
            errors["waba_ids"] = "WhatsApp Business Account ids are digits only."
    if errors:
        raise ValidationError(errors)
    with tenant_scope(tenant), transaction.atomic():
        settings_row = WhatsAppSettings.objects.select_for_update().filter(tenant=tenant).first()
        if settings_row is None:
            settings_row = WhatsAppSettings(tenant=tenant)
        changed = []
        for name, value in given.items():
            if value is not None and value != getattr(settings_row, name):
                settings_row.set_secret(name, value)
                changed.append(name)
        if cleaned_waba_ids is not None and cleaned_waba_ids != settings_row.waba_ids:
            settings_row.waba_ids = cleaned_waba_ids
            changed.append("waba_ids")
        settings_row.updated_by = person_or_none(actor)
        settings_row.save()
        if changed:
            record_event(
                "whatsapp.settings_changed",
                tenant=tenant,
                actor=actor,
                request=request,
                target=settings_row,
                details={"changed": changed},
            )
    return settings_row


def receive_delivery(*, tenant: Tenant, body: bytes, headers: dict[str, str]) -> Delivery:
    """Store one signed delivery in a single insert; processing is queued after commit. If the
    queue is unreachable the delivery still stands: the sweeper picks it up."""
    from .tasks import process_delivery_task  # the tasks module imports this one

    with tenant_scope(tenant):
        delivery = Delivery.objects.create(
            tenant=tenant,
            body=body,
            body_sha256=hashlib.sha256(body).hexdigest(),
            headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
        )
    transaction.on_commit(
        lambda: process_delivery_task.delay(tenant_id=tenant.pk, delivery_id=delivery.pk),
        robust=True,
    )
    return delivery

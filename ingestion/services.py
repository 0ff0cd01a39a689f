"""The verbs of ingestion: connect a tenant's WhatsApp app, and receive a delivery."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.digits import is_digits
from compliance_hub.tenancy.context import current_tenant_id, tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Delivery, WhatsAppSettings
from .wakeup import wake_drain, wake_drain_soon

logger = logging.getLogger(__name__)

# The settings of a tenant's WhatsApp connection, as the page, the form and the CLI name them.
SETTING_LABELS = {
    "app_secret": "app secret",
    "verify_token": "verify token",
    "access_token": "access token",
    "waba_ids": "WhatsApp Business Account ids",
}
SECRET_FIELDS = ("app_secret", "verify_token", "access_token")  # stored encrypted
# The headers worth keeping with a delivery (never cookies or anything of ours).
KEPT_HEADERS = ("X-Hub-Signature-256", "Content-Type", "User-Agent", "Content-Length")


def whatsapp_settings(*, tenant: Tenant) -> WhatsAppSettings | None:
    with tenant_scope(tenant):
        return WhatsAppSettings.objects.filter(tenant=tenant).first()


def saved_settings(row: WhatsAppSettings | None) -> dict[str, Any]:
    """Each setting's saved value, in ``SETTING_LABELS`` order (secrets in clear: to compare,
    never to show); empty values when nothing is saved."""
    if row is None:
        return {name: "" for name in SECRET_FIELDS} | {"waba_ids": []}
    return {name: getattr(row, name) for name in SECRET_FIELDS} | {"waba_ids": list(row.waba_ids)}


def changed_settings(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The labels of the settings whose saved value differs (see :func:`saved_settings`)."""
    return [label for name, label in SETTING_LABELS.items() if before[name] != after[name]]


def save_whatsapp_settings(
    *,
    tenant: Tenant,
    actor: Actor,
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
        if not all(is_digits(w, max_length=32) for w in cleaned_waba_ids):
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
        settings_row.updated_by = actor.user
        settings_row.save()
        if changed:
            record_event(
                "whatsapp.settings_changed",
                tenant=tenant,
                actor=actor,
                target=settings_row,
                details={"changed": changed},
            )
    return settings_row


# The webhook's one write, as plain SQL: through the ORM's model save it cost ~0.4 ms of CPU per
# delivery, a fifth of the whole request (docs/benchmarks.md, webhook acceptance).
_INSERT_DELIVERY_SQL = (
    f"INSERT INTO {Delivery._meta.db_table} (tenant_id, received_at, body, body_sha256, "  # noqa: S608  # nosec B608  # our table's name
    "headers, status, attempts, last_error, summary, redacted) "
    "VALUES (%s, statement_timestamp(), %s, %s, %s, %s, 0, '', '{}', false) "
    "RETURNING id, received_at"
)


# The webhook's store: the tenant's RLS setting and the insert in one execute, so in autocommit
# one round trip and one implicit transaction, committed when execute() returns. The insert is
# prepared once per connection, with the lookup's statements (ingestion/intake.py prepares all
# of them before the first lookup, and this runs only after one): parsing and planning it (its
# RLS check included) on every delivery cost PostgreSQL more than executing it.
STORE_PREPARED = (
    "intake_store",
    "PREPARE intake_store(bigint, bytea, text, jsonb, text) AS "  # noqa: S608  # nosec B608  # our table's name
    f"INSERT INTO {Delivery._meta.db_table} "  # nosec B608  # our table's name
    "(tenant_id, received_at, body, body_sha256, headers, status, attempts, last_error, summary, "
    "redacted) VALUES ($1, statement_timestamp(), $2, $3, $4, $5, 0, '', '{}', false); ",
)
_STORE_DELIVERY_SQL = (
    "SELECT set_config('app.tenant_id', %s, true); EXECUTE intake_store(%s, %s, %s, %s, %s)"
)


def _delivery_row(
    tenant_id: int, body: bytes, headers: Mapping[str, str]
) -> tuple[str, dict[str, str], list[Any]]:
    """The insert's parameters: (the body's digest, the headers kept, the row's values)."""
    digest = hashlib.sha256(body).hexdigest()
    kept = {name: headers[name] for name in KEPT_HEADERS if name in headers}
    return digest, kept, [tenant_id, body, digest, json.dumps(kept), Delivery.Status.PENDING]


def _insert_delivery(tenant: Tenant, body: bytes, headers: Mapping[str, str]) -> Delivery:
    digest, kept, values = _delivery_row(tenant.pk, body, headers)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_DELIVERY_SQL, values)
        pk, received_at = cursor.fetchone()
    return Delivery(
        pk=pk, tenant=tenant, received_at=received_at, body=body, body_sha256=digest, headers=kept
    )


def store_signed_delivery(*, tenant_id: int, body: bytes, headers: Mapping[str, str]) -> None:
    """The webhook's store of a delivery whose signature it checked (ingestion/intake.py, on a
    connection where it prepared ``STORE_PREPARED``): the same row as :func:`receive_delivery`,
    and a wake-up after its commit (at most a window later, ingestion/wakeup.py:
    wake_drain_soon), from a connection in autocommit, where the insert commits before this
    returns (inside a caller's transaction, with it)."""
    _, _, values = _delivery_row(tenant_id, body, headers)
    with connection.cursor() as cursor:
        cursor.execute(_STORE_DELIVERY_SQL, [str(tenant_id), *values])
    transaction.on_commit(lambda: wake_drain_soon(tenant_id))


def receive_delivery(*, tenant: Tenant, body: bytes, headers: Mapping[str, str]) -> Delivery:
    """Store one signed delivery in a single insert (``headers``: the request's, of which only
    ``KEPT_HEADERS`` are kept; Django's case-insensitive mapping is fine); after commit, a
    drain of the tenant's pending deliveries is queued unless one is waiting already
    (ingestion/wakeup.py). If the queue is unreachable the delivery still stands: the sweeper
    picks it up."""
    if current_tenant_id() == tenant.pk and connection.in_atomic_block:
        # The webhook: its request transaction is already the tenant's, and one INSERT needs
        # no savepoint to be all-or-nothing.
        delivery = _insert_delivery(tenant, body, headers)
    else:
        with tenant_scope(tenant):
            delivery = _insert_delivery(tenant, body, headers)
    transaction.on_commit(lambda: wake_drain(tenant.pk))
    return delivery

"""The one way to write the audit trail. Every app records its human actions through
:func:`record_event`."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.dispatch import Signal

from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant

from .actors import Actor
from .models import AuditEvent

# Sent with ``event`` inside the transaction that wrote it: the archive's Merkle log makes each
# tenant's entry a leaf (archive/ledger/receivers.py), without this app importing the archive.
audit_event_recorded = Signal()


def record_event(
    action: str,
    *,
    tenant: Tenant | None,
    actor: Actor,
    target: models.Model | None = None,
    target_label: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to ``tenant``'s trail (or the platform trail when ``tenant`` is None),
    as ``actor`` did it: their user (None for an API key, the system, a link visitor), label,
    address and user agent, as the edge recorded them."""
    event = AuditEvent(
        tenant=tenant,
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        target_type=(target._meta.model_name or "") if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:254],
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
        details=details or {},
    )
    scope = tenant_scope(tenant) if tenant is not None else unscoped()
    with scope:
        event.save(force_insert=True)
        audit_event_recorded.send(sender=AuditEvent, event=event)
    return event

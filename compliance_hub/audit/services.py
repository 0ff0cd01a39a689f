"""The one way to write the audit trail. Every app records its human actions through
:func:`record_event`."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.db import models
from django.dispatch import Signal
from django.http import HttpRequest

from compliance_hub.accounts.models import person_or_none
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant

from .models import AuditEvent

# Sent with ``event`` inside the transaction that wrote it: the archive's Merkle log makes each
# tenant's entry a leaf (archive/ledger/receivers.py), without this app importing the archive.
audit_event_recorded = Signal()


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: the one rule for the audit trail, the consent evidence and the
    login limits (allauth asks our adapter). X-Forwarded-For is trusted only when proxies in
    front of us are declared (settings.TRUSTED_PROXY_COUNT, which also sets allauth's
    ALLAUTH_TRUSTED_PROXY_COUNT), since a client can write the header itself: the client is
    the address the outermost of our proxies saw, the COUNT-th from the right."""
    if request is None:
        return None
    from django.conf import settings

    hops = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if hops and forwarded:
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops and _valid_address(chain[-hops]):
            return chain[-hops]
    address = request.META.get("REMOTE_ADDR") or ""
    return address if _valid_address(address) else None


def _valid_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def record_event(
    action: str,
    *,
    tenant: Tenant | None,
    actor: Any = None,
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    target_label: str = "",
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to ``tenant``'s trail (or the platform trail when ``tenant`` is None).

    ``actor`` is the user who acted (None for the system or an API key, which goes in
    ``actor_label``); ``request`` supplies the address and user agent.
    """
    user = person_or_none(actor)
    if not actor_label:
        api_key = getattr(actor, "api_key", None) or getattr(request, "api_key", None)
        if user is not None:
            actor_label = user.email
        elif api_key is not None:
            actor_label = f"api-key:{api_key.prefix}"
        else:
            actor_label = "system"
    event = AuditEvent(
        tenant=tenant,
        actor=user,
        actor_label=actor_label[:254],
        action=action,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=(target_label or (str(target) if target is not None else ""))[:254],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:512],
        details=details or {},
    )
    scope = tenant_scope(tenant) if tenant is not None else unscoped()
    with scope:
        event.save(force_insert=True)
        audit_event_recorded.send(sender=AuditEvent, event=event)
    return event

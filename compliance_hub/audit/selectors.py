"""Reads of the audit trail."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from compliance_hub.tenancy.models import Tenant

from .models import AuditEvent


def audit_trail(
    *,
    tenant: Tenant,
    action: str = "",
    actor: str = "",
    target: str = "",
    ip_address: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[AuditEvent]:
    """The tenant's events, newest first, filtered. ``action`` matches a prefix (``auth.`` gives
    every login event), ``actor`` and ``target`` match part of the label."""
    events = AuditEvent.objects.filter(tenant=tenant).select_related("actor")
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if target:
        events = events.filter(target_label__icontains=target)
    if ip_address:
        events = events.filter(ip_address=ip_address)
    if since:
        events = events.filter(
            occurred_at__gte=timezone.make_aware(datetime.combine(since, time.min))
        )
    if until:
        events = events.filter(
            occurred_at__lt=timezone.make_aware(datetime.combine(until, time.max))
        )
    return events.order_by("-occurred_at", "-id")


def audit_actions(*, tenant: Tenant) -> list[str]:
    return list(
        AuditEvent.objects.filter(tenant=tenant)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )

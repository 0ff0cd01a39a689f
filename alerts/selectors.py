"""Reads of alerts: the decisions officers took (for policies' backtests)."""

from __future__ import annotations

from collections.abc import Sequence

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import TRUE_POSITIVES, Alert, Disposition, Status


def decisions_on_messages(tenant: Tenant, message_ids: Sequence[int]) -> dict[int, bool]:
    """policies.decisions' source: per message with a closed alert, True when any of its alerts
    was closed as a true positive, False when only as false positive. Duplicates say nothing
    about a detector's precision, so they are left out."""
    decided: dict[int, bool] = {}
    with tenant_scope(tenant):
        rows = Alert.objects.filter(
            tenant=tenant,
            message_id__in=list(message_ids),
            status=Status.CLOSED,
            disposition__in=[*TRUE_POSITIVES, Disposition.FALSE_POSITIVE],
        ).values_list("message_id", "disposition")
        for message_id, disposition in rows:
            decided[message_id] = decided.get(message_id, False) or disposition in TRUE_POSITIVES
    return decided

"""Reads of ingestion: pipeline health for the dashboard."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Max, Min
from django.utils import timezone

from compliance_hub.tenancy.models import Tenant

from .models import Delivery, Refusal


def pipeline_health(*, tenant: Tenant, window: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    """Deliveries by status in the window, the oldest waiting one (lag), refusals by reason and
    the numbers refused most (an unconsented number in use)."""
    since = timezone.now() - window
    deliveries = Delivery.objects.filter(tenant=tenant, received_at__gte=since)
    by_status = dict(deliveries.order_by().values_list("status").annotate(n=Count("pk")))
    waiting = Delivery.objects.filter(
        tenant=tenant, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
    ).aggregate(oldest=Min("received_at"))["oldest"]
    refusals = Refusal.objects.filter(tenant=tenant, created_at__gte=since)
    by_reason = dict(refusals.order_by().values_list("reason").annotate(n=Count("pk")))
    numbers = list(
        refusals.order_by()
        .values("phone_number_id", "reason")
        .annotate(n=Count("pk"), last=Max("created_at"))
        .order_by("-n")[:5]
    )
    return {
        "received": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in Delivery.Status.values},
        "lag_seconds": (timezone.now() - waiting).total_seconds() if waiting else 0.0,
        "refusals_by_reason": by_reason,
        "refused_numbers": numbers,
    }

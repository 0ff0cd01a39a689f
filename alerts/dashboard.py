"""The dashboard's "Alerts" line: how many alerts wait for review and how many are overdue, in
plain words, or why none can be raised (no policy switched on)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from compliance_hub.dashboard import Activity, register_activity
from policies.models import Policy

from .models import Alert, Status


@register_activity
def alert_review(request: HttpRequest) -> Activity | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    waiting = Alert.objects.filter(tenant=tenant).exclude(status=Status.CLOSED)
    counts = waiting.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=timezone.now()))
    )
    queue, open_it = reverse("alerts:queue"), "Open the alert queue"
    if counts["open"]:
        overdue = f", {counts['overdue']:,} overdue" if counts["overdue"] else ""
        plural = "s" if counts["open"] != 1 else ""
        detail = f"{counts['open']:,} alert{plural} waiting for review{overdue}."
        return Activity(
            name="Alerts",
            running=True,
            detail=detail,
            order=210,
            link=queue,
            link_text=open_it,
        )
    if not Policy.objects.filter(tenant=tenant, active=True).exists():
        return Activity(
            name="Alerts", running=False, order=210,
            detail="No policy is switched on, so no alerts are raised.",
        )  # fmt: skip
    return Activity(
        name="Alerts", running=True, order=210, detail="No alert is waiting for review.",
        link=queue, link_text=open_it,
    )  # fmt: skip

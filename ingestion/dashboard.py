"""The capture panel of the dashboard: is the pipeline healthy, and what was refused."""

from __future__ import annotations

from django.http import HttpRequest

from compliance_hub.dashboard import Panel, register_panel

from .selectors import pipeline_health


@register_panel
def capture_health(request: HttpRequest) -> Panel | None:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    if tenant is None or membership is None or membership.role not in ("admin", "officer"):
        return None
    return Panel(
        template="ingestion/dashboard_panel.html",
        context=pipeline_health(tenant=tenant),
        order=20,
    )

"""The capture panel of the dashboard: is the pipeline healthy, what was refused, and the
capture notices no admin has acknowledged yet."""

from __future__ import annotations

from django.http import HttpRequest

from compliance_hub.dashboard import Panel, register_panel

from .notices import open_notices
from .selectors import pipeline_health

OPEN_NOTICES_SHOWN = 20


@register_panel
def capture_health(request: HttpRequest) -> Panel | None:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    if tenant is None or membership is None or membership.role not in ("admin", "officer"):
        return None
    context = pipeline_health(tenant=tenant)
    context["notices"] = list(open_notices(tenant=tenant)[:OPEN_NOTICES_SHOWN])
    return Panel(template="ingestion/dashboard_panel.html", context=context, order=20)

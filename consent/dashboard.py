"""The consent panel of the dashboard: who is covered, at a glance."""

from __future__ import annotations

from django.http import HttpRequest

from compliance_hub.dashboard import Panel, register_panel

from .models import ConsentState
from .selectors import consent_state_counts


@register_panel
def consent_coverage(request: HttpRequest) -> Panel | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    counts = consent_state_counts(tenant=tenant)
    return Panel(
        template="consent/dashboard_panel.html",
        context={
            "states": [(value, label, counts[value]) for value, label in ConsentState.choices],
            "employees": sum(counts.values()),
            "covered": counts[ConsentState.COVERED],
        },
        order=10,
    )

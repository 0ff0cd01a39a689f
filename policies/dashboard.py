"""The dashboard's "Policy scanning" line: whether the firm's messages are checked, by how many
policies, in plain words (nobody should take a quiet alert queue for a clean bill of health)."""

from __future__ import annotations

from django.http import HttpRequest

from compliance_hub.dashboard import Activity, register_activity

from .models import Policy


@register_activity
def policy_scanning(request: HttpRequest) -> Activity | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    active = Policy.objects.filter(tenant=tenant, active=True).count()
    if active:
        detail = (
            f"every captured message is checked against {active} "
            f"polic{'ies' if active != 1 else 'y'} switched on"
        )
    else:
        detail = "No policy is switched on, so captured messages are archived but not checked."
    return Activity(name="Policy scanning", running=bool(active), detail=detail, order=200)

"""The dashboard's "Policy scanning" line. The detectors exist before the scan pipeline that runs
them on captured messages (issue 11), so until it does the line says plainly that nothing is
checked: nobody should take a quiet alert queue for a clean bill of health."""

from __future__ import annotations

from django.http import HttpRequest

from compliance_hub.dashboard import Activity, register_activity


@register_activity
def policy_scanning(request: HttpRequest) -> Activity | None:
    if getattr(request, "tenant", None) is None:
        return None
    return Activity(
        name="Policy scanning",
        running=False,
        detail="Captured messages are archived but not checked against any policy.",
        order=200,
        available=False,
    )

"""The capture panel of the dashboard: is the pipeline healthy, what was refused, and the
capture notices no admin has acknowledged yet."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from archive.selectors import unseen_originals
from compliance_hub.dashboard import Activity, Panel, register_activity, register_panel
from compliance_hub.tenancy.roles import REVIEWER_ROLES
from compliance_hub.tenancy.walls import request_wall
from consent.timeline import REASON_TEXT

from .column_fit import OVERSIZED, OVERSIZED_TEXT
from .notices import open_notices
from .selectors import capture_running, pipeline_health

OPEN_NOTICES_SHOWN = 20
ORIGINAL_GRACE = timedelta(hours=1)


@register_panel
def capture_health(request: HttpRequest) -> Panel | None:
    tenant = getattr(request, "tenant", None)
    membership = getattr(request, "membership", None)
    if tenant is None or membership is None or membership.role not in REVIEWER_ROLES:
        return None
    context = pipeline_health(tenant=tenant)
    walled = request_wall(request).closed
    for row in context["refused_numbers"]:
        if walled:  # pseudonymised review: the number's id, not the employee's name and phone
            row["employee"] = None
        row["reason_text"] = REASON_TEXT.get(row["reason"], "") or (
            OVERSIZED_TEXT if row["reason"] == OVERSIZED else ""
        )
    context["notices"] = list(open_notices(tenant=tenant)[:OPEN_NOTICES_SHOWN])
    # Meta guarantees no order: an edit or deletion counts as orphaned only once its message
    # has had an hour to arrive.
    context["unseen_originals"] = unseen_originals(
        tenant=tenant, received_before=timezone.now() - ORIGINAL_GRACE
    )
    return Panel(template="ingestion/dashboard_panel.html", context=context, order=20)


@register_activity
def whatsapp_capture(request: HttpRequest) -> Activity | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return None
    state = capture_running(tenant=tenant)
    people = f"{state.employees} employee{'s' if state.employees != 1 else ''}"
    if state.running:
        detail = f"for {people} covered by consent with a WhatsApp number connected"
    else:
        detail = f"{state.reason[0].upper()}{state.reason[1:]}."
    admin = getattr(getattr(request, "membership", None), "role", "") == "admin"
    if not state.connected and admin:
        link, link_text = reverse("ingestion:whatsapp_settings"), "Set up the WhatsApp connection"
    else:
        link, link_text = reverse("ingestion:coverage"), "See capture for each employee"
    return Activity(
        name="WhatsApp capture",
        running=state.running,
        detail=detail,
        since=state.since,
        link=link,
        link_text=link_text,
        order=10,
    )

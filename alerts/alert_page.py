"""The alert's page as every alert view renders it: finding the alert the member may reach
(404 otherwise), the page with its forms, and the page again with a refusal. Shared by
alerts/views.py, alerts/review_views.py and alerts/notify/views.py, so the rule of who reaches
which alert is written once."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from archive.services import record_archive_read
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import REVIEWER_ROLES
from consent.selectors import consent_state_of

from .forms import AssignForm, CommentForm, TransitionForm
from .highlight import highlighted
from .masking import masking_for
from .models import Alert, AlertEvent, Disposition
from .review_forms import UnmaskForm
from .selectors import alert_context, alert_for, counterparty_alerts, earlier_alerts, group_of
from .services import AlertError, ClaimConflict, StaleAlert
from .tiers import may_work
from .workflow import STATUS_WORDS, allowed_targets


def alert_or_404(request: TenantRequest, pk: int) -> Alert:
    """The alert ``pk`` as the member reaches it, or 404: missing, another firm's, and (for a
    plain officer) second-level alerts all answer the same (alerts.selectors.alert_for)."""
    alert = alert_for(tenant=request.tenant, pk=pk, role=request.membership.role)
    if alert is None:
        raise Http404("No such alert.")
    return alert


def render_alert(
    request: TenantRequest,
    alert: Alert,
    *,
    status: int = 200,
    error: str = "",
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    tenant = request.tenant
    context = alert_context(tenant=tenant, alert=alert)
    role = request.membership.role
    can_act = role in REVIEWER_ROLES and may_work(alert, role)
    forms = {
        "transition_form": TransitionForm(initial={"version": alert.version}),
        "assign_form": AssignForm(
            initial={"version": alert.version, "assignee": alert.assignee_id},
            tenant=tenant,
            level=alert.level,
        ),
        "comment_form": CommentForm(),
    }
    masking = masking_for(tenant=tenant, viewer=request.user, role=role, alerts=[alert])
    forms["unmask_form"] = UnmaskForm()
    forms.update(bound or {})
    record_archive_read(
        tenant=tenant, actor=Actor.from_request(request), endpoint=request.path, kind="message",
        ids=context.message_ids, filters={"alert": str(alert.pk)}, where="on an alert page",
    )  # fmt: skip
    return render(
        request,
        "alerts/alert.html",
        {
            "alert": alert,
            "pieces": highlighted(alert.message.text, alert.hit.findings),
            "findings": alert.hit.findings,
            "before": context.before,
            "flagged": context.flagged,
            "after": context.after,
            # The archive names people: a masked reviewer unmasks the alert before going there.
            "conversation_url": ""
            if masking.masks(alert)
            else reverse("archive:conversation", args=[alert.conversation_id])
            + f"#m-{alert.message_id}",
            "masking": masking,
            "masked": masking.masks(alert),
            "team": masking.team(alert),
            "consent_state": consent_state_of(employee=alert.employee),
            "earlier": earlier_alerts(tenant=tenant, alert=alert, role=role),
            "client_earlier": counterparty_alerts(tenant=tenant, alert=alert, role=role),
            "group": group_of(tenant=tenant, alert=alert, role=role),
            "events": history(tenant, alert),
            "comments": alert.comments.filter(tenant=tenant).order_by("created_at", "id"),
            "targets": [(to, STATUS_WORDS[to]) for to in allowed_targets(alert.status)],
            "can_act": can_act,
            "holds_it": alert.claimed_by_id == request.user.pk,
            "error": error,
            **forms,
        },
        status=status,
    )


def history(tenant: Tenant, alert: Alert) -> list[AlertEvent]:
    events = list(AlertEvent.objects.filter(tenant=tenant, alert=alert).order_by("at", "id"))
    words = dict(Disposition.choices)
    for event in events:
        # Read by the template only: the disposition in the officers' words, not its code.
        setattr(event, "disposition_words", words.get(event.details.get("disposition", ""), ""))  # noqa: B010
    return events


def refused(request: TenantRequest, alert: Alert, error: AlertError, **bound: Any) -> HttpResponse:
    # A conflict (someone else holds it or changed it) is 409; anything else is bad input.
    status = 409 if isinstance(error, ClaimConflict | StaleAlert) else 400
    fresh = alert_for(tenant=request.tenant, pk=alert.pk, role=request.membership.role) or alert
    return render_alert(request, fresh, status=status, error=str(error), bound=bound)

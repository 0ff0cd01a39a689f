"""Browser pages of alerts: the queue and one alert with its context and the review's forms.
Views parse and call: the workflow lives in services, the reads in selectors. Officers and
admins act; auditors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from archive.selectors import READ_ROLES
from compliance_hub.audit.actors import Actor
from compliance_hub.digits import parse_id
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import REVIEWER_ROLES, role_required

from .alert_page import alert_or_404, refused, render_alert
from .bulk_forms import BulkForm
from .forms import AssignForm, CommentForm, QueueFilterForm, TransitionForm
from .masking import mask_employee_choices, mask_team_choices, masking_for
from .models import Alert, Status
from .selectors import QueueFilters, after_cursor, alert_queue
from .services import (
    AlertError,
    add_comment,
    assign_alert,
    claim_alert,
    close_group,
    release_alert,
    transition_alert,
)
from .workflow import STATUS_WORDS

PAGE_SIZE = 50


@role_required(*READ_ROLES)
@require_GET
def queue_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    form = QueueFilterForm(request.GET or None, tenant=tenant)
    masked = masking_for(tenant=tenant, viewer=request.user, role=request.membership.role).on
    if masked:
        # Before validation: a small team's id is refused, not only left out of the list.
        mask_employee_choices(form, tenant_id=tenant.pk)
        mask_team_choices(form, tenant=tenant)
    filters = form.filters() if form.is_bound and form.is_valid() else QueueFilters()
    rows = alert_queue(tenant=tenant, filters=filters, role=request.membership.role)
    if form.errors:
        rows = rows.none()
    after = request.GET.get("after", "")
    after_id = parse_id(after)
    last = Alert.objects.filter(tenant=tenant, pk=after_id).first() if after_id else None
    if last is not None:
        rows = after_cursor(rows, sort=filters.sort, last=last)
    page = list(rows[: PAGE_SIZE + 1])
    has_next = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    masking = masking_for(
        tenant=tenant, viewer=request.user, role=request.membership.role, alerts=page, on=masked
    )
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "alerts/queue.html",
        {
            "form": form,
            "alerts": page,
            "masking": masking,
            "query": query.urlencode(),
            "next_after": page[-1].pk if has_next else None,
            "continued": last is not None,
            "bulk_form": BulkForm(auto_id="bulk-%s"),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def alert_page(request: TenantRequest, pk: int) -> HttpResponse:
    return render_alert(request, alert_or_404(request, pk))


def _done(request: TenantRequest, alert: Alert, note: str) -> HttpResponse:
    messages.success(request, note)
    return HttpResponseRedirect(reverse("alerts:alert", args=[alert.pk]))


def _form_problem(form: Any) -> str:
    problems = [str(e) for errors in form.errors.values() for e in errors]
    return " ".join(problems) or "Check the form and try again."


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_claim(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    try:
        claim_alert(alert=alert, actor=Actor.from_request(request))
    except AlertError as error:
        return refused(request, alert, error)
    return _done(request, alert, "You are reviewing this alert; others see it as yours.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_release(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    try:
        release_alert(alert=alert, actor=Actor.from_request(request))
    except AlertError as error:
        return refused(request, alert, error)
    return _done(request, alert, "Released: the alert is back in the queue.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_transition(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return refused(request, alert, AlertError(_form_problem(form)), transition_form=form)
    data = form.cleaned_data
    try:
        moved = transition_alert(
            alert=alert, actor=Actor.from_request(request), to=data["to"],
            disposition=data["disposition"], rationale=data["rationale"],
            expected_version=data["version"],
        )  # fmt: skip
    except AlertError as error:
        return refused(request, alert, error, transition_form=form)
    note = f"The alert is now {STATUS_WORDS[moved.status]}."
    if moved.status == Status.CLOSED and data["with_group"]:
        others = close_group(
            alert=moved, actor=Actor.from_request(request), disposition=data["disposition"],
            rationale=data["rationale"],
        )  # fmt: skip
        note += (
            f" {len(others)} other alert{'' if len(others) == 1 else 's'} of its group closed too."
        )
    return _done(request, alert, note)


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_assign(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = AssignForm(request.POST, tenant=request.tenant, level=alert.level)
    if not form.is_valid():
        problem = "Alerts can be assigned only to this firm's compliance officers and admins."
        if "assignee" not in form.errors:
            problem = _form_problem(form)
        return refused(request, alert, AlertError(problem), assign_form=form)
    data = form.cleaned_data
    try:
        assigned = assign_alert(
            alert=alert, actor=Actor.from_request(request), assignee=data["assignee"],
            expected_version=data["version"],
        )  # fmt: skip
    except AlertError as error:
        return refused(request, alert, error, assign_form=form)
    who = assigned.assignee.email if assigned.assignee else "nobody"
    return _done(request, alert, f"Assigned to {who}.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_comment(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return refused(request, alert, AlertError(_form_problem(form)), comment_form=form)
    try:
        add_comment(alert=alert, actor=Actor.from_request(request), body=form.cleaned_data["body"])
    except AlertError as error:
        return refused(request, alert, error, comment_form=form)
    return _done(request, alert, "Comment added.")

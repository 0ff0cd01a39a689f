"""Browser pages of alerts: the queue and one alert with its context and the review's forms.
Views parse and call: the workflow lives in services, the reads in selectors. Officers and
admins act; auditors read."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from archive.selectors import READ_ROLES
from archive.services import record_archive_read
from compliance_hub.audit.actors import Actor
from compliance_hub.digits import parse_id
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import REVIEWER_ROLES, role_required
from consent.selectors import consent_state_of

from .bulk_forms import BulkForm
from .forms import AssignForm, CommentForm, QueueFilterForm, TransitionForm
from .highlight import highlighted
from .masking import mask_employee_choices, masking_for
from .models import Alert, AlertEvent, Disposition, Status
from .review_forms import UnmaskForm
from .selectors import (
    QueueFilters,
    after_cursor,
    alert_for,
    alert_queue,
    context_lines,
    earlier_alerts,
    group_of,
    messages_around,
)
from .services import (
    AlertError,
    ClaimConflict,
    StaleAlert,
    add_comment,
    assign_alert,
    claim_alert,
    close_group,
    release_alert,
    transition_alert,
)
from .tiers import may_see, may_work, only_visible, visible_to
from .workflow import STATUS_WORDS, allowed_targets

PAGE_SIZE = 50


@role_required(*READ_ROLES)
@require_GET
def queue_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    form = QueueFilterForm(request.GET or None, tenant=tenant)
    filters = form.filters() if form.is_bound and form.is_valid() else QueueFilters()
    rows = visible_to(alert_queue(tenant=tenant, filters=filters), request.membership.role)
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
        tenant=tenant, viewer=request.user, role=request.membership.role, alerts=page
    )
    if masking.on:
        mask_employee_choices(form, tenant_id=tenant.pk)
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


def _alert_or_404(request: TenantRequest, pk: int) -> Alert:
    alert = alert_for(tenant=request.tenant, pk=pk)
    # A second-level alert is, for a plain officer, as absent as another firm's (alerts/tiers.py).
    if alert is None or not may_see(alert, request.membership.role):
        raise Http404("No such alert.")
    return alert


def _render_alert(
    request: TenantRequest,
    alert: Alert,
    *,
    status: int = 200,
    error: str = "",
    bound: dict[str, Any] | None = None,
) -> HttpResponse:
    tenant = request.tenant
    before, after = messages_around(tenant=tenant, alert=alert)
    lines = context_lines(tenant=tenant, messages=[*before, alert.message, *after])
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
    shown = [m.pk for m in before] + [alert.message_id] + [m.pk for m in after]
    record_archive_read(
        tenant=tenant, actor=Actor.from_request(request), endpoint=request.path, kind="message",
        ids=shown, filters={"alert": str(alert.pk)}, where="on an alert page",
    )  # fmt: skip
    return render(
        request,
        "alerts/alert.html",
        {
            "alert": alert,
            "pieces": highlighted(alert.message.text, alert.hit.findings),
            "findings": alert.hit.findings,
            "before": [lines[m.pk] for m in before],
            "flagged": lines[alert.message_id],
            "after": [lines[m.pk] for m in after],
            # The archive names people: a masked reviewer unmasks the alert before going there.
            "conversation_url": ""
            if masking.masks(alert)
            else reverse("archive:conversation", args=[alert.conversation_id])
            + f"#m-{alert.message_id}",
            "masking": masking,
            "masked": masking.masks(alert),
            "consent_state": consent_state_of(employee=alert.employee),
            "earlier": only_visible(earlier_alerts(tenant=tenant, alert=alert), role),
            "group": only_visible(group_of(tenant=tenant, alert=alert), role),
            "events": _history(tenant, alert),
            "comments": alert.comments.filter(tenant=tenant).order_by("created_at", "id"),
            "targets": [(to, STATUS_WORDS[to]) for to in allowed_targets(alert.status)],
            "can_act": can_act,
            "holds_it": alert.claimed_by_id == request.user.pk,
            "error": error,
            **forms,
        },
        status=status,
    )


def _history(tenant: Tenant, alert: Alert) -> list[AlertEvent]:
    events = list(AlertEvent.objects.filter(tenant=tenant, alert=alert).order_by("at", "id"))
    words = dict(Disposition.choices)
    for event in events:
        # Read by the template only: the disposition in the officers' words, not its code.
        setattr(event, "disposition_words", words.get(event.details.get("disposition", ""), ""))  # noqa: B010
    return events


@role_required(*READ_ROLES)
@require_GET
def alert_page(request: TenantRequest, pk: int) -> HttpResponse:
    return _render_alert(request, _alert_or_404(request, pk))


def _refused(request: TenantRequest, alert: Alert, error: AlertError, **bound: Any) -> HttpResponse:
    # A conflict (someone else holds it or changed it) is 409; anything else is bad input.
    status = 409 if isinstance(error, ClaimConflict | StaleAlert) else 400
    fresh = alert_for(tenant=request.tenant, pk=alert.pk) or alert
    return _render_alert(request, fresh, status=status, error=str(error), bound=bound)


def _done(request: TenantRequest, alert: Alert, note: str) -> HttpResponse:
    messages.success(request, note)
    return HttpResponseRedirect(reverse("alerts:alert", args=[alert.pk]))


def _form_problem(form: Any) -> str:
    problems = [str(e) for errors in form.errors.values() for e in errors]
    return " ".join(problems) or "Check the form and try again."


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_claim(request: TenantRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    try:
        claim_alert(alert=alert, actor=Actor.from_request(request))
    except AlertError as error:
        return _refused(request, alert, error)
    return _done(request, alert, "You are reviewing this alert; others see it as yours.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_release(request: TenantRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    try:
        release_alert(alert=alert, actor=Actor.from_request(request))
    except AlertError as error:
        return _refused(request, alert, error)
    return _done(request, alert, "Released: the alert is back in the queue.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_transition(request: TenantRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        return _refused(request, alert, AlertError(_form_problem(form)), transition_form=form)
    data = form.cleaned_data
    try:
        moved = transition_alert(
            alert=alert, actor=Actor.from_request(request), to=data["to"],
            disposition=data["disposition"], rationale=data["rationale"],
            expected_version=data["version"],
        )  # fmt: skip
    except AlertError as error:
        return _refused(request, alert, error, transition_form=form)
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
    alert = _alert_or_404(request, pk)
    form = AssignForm(request.POST, tenant=request.tenant, level=alert.level)
    if not form.is_valid():
        problem = "Alerts can be assigned only to this firm's compliance officers and admins."
        if "assignee" not in form.errors:
            problem = _form_problem(form)
        return _refused(request, alert, AlertError(problem), assign_form=form)
    data = form.cleaned_data
    try:
        assigned = assign_alert(
            alert=alert, actor=Actor.from_request(request), assignee=data["assignee"],
            expected_version=data["version"],
        )  # fmt: skip
    except AlertError as error:
        return _refused(request, alert, error, assign_form=form)
    who = assigned.assignee.email if assigned.assignee else "nobody"
    return _done(request, alert, f"Assigned to {who}.")


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_comment(request: TenantRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _refused(request, alert, AlertError(_form_problem(form)), comment_form=form)
    try:
        add_comment(alert=alert, actor=Actor.from_request(request), body=form.cleaned_data["body"])
    except AlertError as error:
        return _refused(request, alert, error, comment_form=form)
    return _done(request, alert, "Comment added.")

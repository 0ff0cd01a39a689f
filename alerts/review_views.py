"""The admins' page of alert review settings (pseudonymised review, SLA per severity, the list
of unmaskings) and the reviewers' unmasking of one alert. Views parse and call: the rules are in
alerts/review_settings.py and alerts/masking.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import REVIEWER_ROLES, role_required

from .alert_page import alert_or_404, refused
from .masking import UnmaskRefused, unmask_alert, unmaskings
from .review_forms import ReviewSettingsForm, UnmaskForm
from .review_settings import (
    ReviewSettingsError,
    review_choices,
    severities,
    update_review_settings,
)
from .services import AlertError


@role_required(Role.ADMIN)
def review_settings_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    current = review_choices(tenant)
    if request.method == "POST":
        form = ReviewSettingsForm(request.POST)
        if form.is_valid():
            try:
                update_review_settings(
                    tenant=tenant, actor=Actor.from_request(request),
                    pseudonymise=form.cleaned_data["pseudonymise"], sla_hours=form.sla_hours(),
                )  # fmt: skip
            except ReviewSettingsError as refused:
                for problem in refused.problems.values():
                    form.add_error(None, problem)
            else:
                messages.success(request, "Alert review settings saved.")
                return HttpResponseRedirect(reverse("alerts:review_settings"))
        status = 400
    else:
        form = ReviewSettingsForm(
            initial={
                "pseudonymise": current.pseudonymise,
                **{f"sla_{s}": h for s, h in current.sla_hours.items()},
            }
        )
        status = 200
    return render(
        request,
        "alerts/review_settings.html",
        {
            "form": form,
            "sla_fields": [form[f"sla_{s}"] for s in severities()],
            "current": current,
            "unmaskings": unmaskings(tenant=tenant),
        },
        status=status,
    )


@role_required(*REVIEWER_ROLES)
@require_POST
def alert_unmask(request: TenantRequest, pk: int) -> HttpResponse:
    alert = alert_or_404(request, pk)
    form = UnmaskForm(request.POST)
    if not form.is_valid():
        problem = " ".join(str(e) for errors in form.errors.values() for e in errors)
        return refused(request, alert, AlertError(problem), unmask_form=form)
    try:
        unmask_alert(
            alert=alert, actor=Actor.from_request(request), reason=form.cleaned_data["reason"]
        )
    except UnmaskRefused as refusal:
        return refused(request, alert, AlertError(str(refusal)), unmask_form=form)
    messages.success(request, "Unmasked for you on this alert; the reason is recorded.")
    return HttpResponseRedirect(reverse("alerts:alert", args=[alert.pk]))

"""Pages of the learning loop: what the firm's decisions teach, retraining, the comparison of
the trained model with the one in use, promotion and rollback. Admins act; officers and
auditors read."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from archive.selectors import READ_ROLES
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required
from policies.learning import (
    LearningError,
    firm_model,
    firm_models,
    model_in_use,
    promote_model,
    promotion_refusal,
    request_retrain,
    rollback_model,
)
from policies.models import FirmModel

from ..models import Alert
from .comparison import rows
from .selectors import example_counts, false_positive_rates, recent_examples
from .services import ExampleError, exclude_example, include_example


def _is_admin(request: TenantRequest) -> bool:
    return request.membership.role == Role.ADMIN


@role_required(*READ_ROLES)
@require_GET
def learning_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    models = firm_models(tenant=tenant)
    return render(
        request,
        "alerts/learning.html",
        {
            "in_use": model_in_use(tenant),
            "models": models,
            "training": any(m.status == FirmModel.Status.TRAINING for m in models),
            "counts": example_counts(tenant=tenant),
            "rates": false_positive_rates(tenant=tenant),
            "can_act": _is_admin(request),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def examples_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    return render(
        request,
        "alerts/learning_examples.html",
        {
            "counts": example_counts(tenant=tenant),
            "examples": recent_examples(tenant=tenant),
            "can_act": _is_admin(request),
        },
    )


@role_required(*READ_ROLES)
@require_GET
def model_page(request: TenantRequest, pk: int) -> HttpResponse:
    row = firm_model(tenant=request.tenant, pk=pk)
    if row is None:
        raise Http404
    refusal = ""
    if row.status == FirmModel.Status.CANDIDATE:
        refusal = promotion_refusal(row)
    return render(
        request,
        "alerts/learning_model.html",
        {
            "model": row,
            "rows": rows(row.metrics),
            "current": row.metrics.get("current") or {},
            "candidate": row.metrics.get("candidate") or {},
            "lines": row.metrics.get("lines") or {},
            "refusal": refusal,
            "can_act": _is_admin(request),
        },
    )


@role_required(Role.ADMIN)
@require_POST
def retrain(request: TenantRequest) -> HttpResponse:
    try:
        row = request_retrain(tenant=request.tenant, actor=Actor.from_request(request))
    except LearningError as error:
        messages.error(request, str(error))
        return HttpResponseRedirect(reverse("alerts:learning"))
    messages.success(
        request, "Retraining started: the comparison appears here when it is done (about a minute)."
    )
    return HttpResponseRedirect(reverse("alerts:learning_model", args=[row.pk]))


@role_required(Role.ADMIN)
@require_POST
def promote(request: TenantRequest, pk: int) -> HttpResponse:
    if firm_model(tenant=request.tenant, pk=pk) is None:
        raise Http404
    try:
        promote_model(tenant=request.tenant, actor=Actor.from_request(request), model_id=pk)
    except LearningError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "This model now scans the firm's messages.")
    return HttpResponseRedirect(reverse("alerts:learning_model", args=[pk]))


@role_required(Role.ADMIN)
@require_POST
def rollback(request: TenantRequest) -> HttpResponse:
    row = rollback_model(tenant=request.tenant, actor=Actor.from_request(request))
    if row is None:
        messages.info(request, "The built-in model was already in use.")
    else:
        messages.success(request, "Back to the built-in model for the firm's messages.")
    return HttpResponseRedirect(reverse("alerts:learning"))


def _own_alert_or_404(request: TenantRequest, pk: int) -> None:
    """Another firm's alert (or none) is a 404, as everywhere, not a message on our page."""
    if not Alert.objects.filter(tenant=request.tenant, pk=pk).exists():
        raise Http404("No such alert.")


@role_required(Role.ADMIN)
@require_POST
def exclude(request: TenantRequest, pk: int) -> HttpResponse:
    _own_alert_or_404(request, pk)
    try:
        exclude_example(tenant=request.tenant, actor=Actor.from_request(request), alert_id=pk)
    except ExampleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Alert {pk} is left out of retraining.")
    return HttpResponseRedirect(reverse("alerts:learning_examples"))


@role_required(Role.ADMIN)
@require_POST
def include(request: TenantRequest, pk: int) -> HttpResponse:
    _own_alert_or_404(request, pk)
    try:
        include_example(tenant=request.tenant, actor=Actor.from_request(request), alert_id=pk)
    except ExampleError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Alert {pk} counts again in retraining.")
    return HttpResponseRedirect(reverse("alerts:learning_examples"))

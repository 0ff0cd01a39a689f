"""The admins' retention page (policies, a form to add or change one, and what the next
disposition run will do) and erasure page (record a request, see every decision)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from .disposition import disposition_plan
from .erasure import ErasureInputError, record_erasure_request
from .forms import ErasureRequestForm, RetentionPolicyForm
from .models import ErasureRequest, RetentionPolicy
from .rules import PRESETS, RetentionRuleError
from .selectors import retention_policies
from .services import change_policy, create_policy, delete_policy


def _policy_rows(tenant) -> list[dict]:
    return [{"policy": p, "preset": PRESETS[p.preset]} for p in retention_policies(tenant=tenant)]


def _save_policy(request: TenantRequest, form: RetentionPolicyForm, policy=None) -> bool:
    """Create or change from a valid form; a refusal goes back on the field. True when saved."""
    data = form.cleaned_data
    values = {
        "preset": data["preset"], "years": data.get("years"), "scope": data["scope"],
        "team_id": data["team"].pk if data.get("team") else None,
        "region": data.get("region") or "",
    }  # fmt: skip
    actor = Actor.from_request(request)
    try:
        if policy is None:
            create_policy(tenant=request.tenant, actor=actor, **values)
        else:
            change_policy(policy=policy, actor=actor, **values)
    except RetentionRuleError as error:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
        return False
    return True


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def retention_page(request: TenantRequest) -> HttpResponse | HttpResponseBase:
    tenant = request.tenant
    form = RetentionPolicyForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid() and _save_policy(request, form):
        messages.success(request, "Retention policy added.")
        return redirect("archive:retention")
    return render(
        request,
        "archive/retention.html",
        {"form": form, "rows": _policy_rows(tenant), "plan": disposition_plan(tenant=tenant),
         "presets": PRESETS.values()},
        status=400 if form.errors else 200,
    )  # fmt: skip


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def retention_policy_page(request: TenantRequest, pk: int) -> HttpResponse | HttpResponseBase:
    tenant = request.tenant
    policy = retention_policies(tenant=tenant).filter(pk=pk).first()
    if policy is None:
        raise Http404("No such retention policy.")
    initial = {"preset": policy.preset, "years": policy.years, "scope": policy.scope,
               "team": policy.team, "region": policy.region}  # fmt: skip
    form = RetentionPolicyForm(request.POST or None, tenant=tenant, initial=initial)
    if request.method == "POST" and form.is_valid() and _save_policy(request, form, policy):
        messages.success(request, "Retention policy changed.")
        return redirect("archive:retention")
    return render(
        request,
        "archive/retention_policy.html",
        {"form": form, "policy": policy, "preset": PRESETS[policy.preset]},
        status=400 if form.errors else 200,
    )


@role_required(Role.ADMIN)
@require_POST
def retention_policy_delete(request: TenantRequest, pk: int) -> HttpResponseBase:
    policy = RetentionPolicy.objects.filter(tenant=request.tenant, pk=pk).first()
    if policy is None:
        raise Http404("No such retention policy.")
    delete_policy(policy=policy, actor=Actor.from_request(request))
    messages.success(request, "Retention policy removed.")
    return redirect("archive:retention")


@role_required(Role.ADMIN)
@require_http_methods(["GET", "POST"])
def erasure_page(request: TenantRequest) -> HttpResponse | HttpResponseBase:
    tenant = request.tenant
    form = ErasureRequestForm(request.POST or None, tenant=tenant)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            decided = record_erasure_request(
                tenant=tenant, actor=Actor.from_request(request),
                subject_kind=data["subject_kind"], law=data["law"],
                requested_by=data["requested_by"], requested_on=data["requested_on"],
                counterparty_number=data.get("counterparty_number") or "",
                employee_id=data["employee"].pk if data.get("employee") else None,
            )  # fmt: skip
        except ErasureInputError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            if decided.decision == ErasureRequest.Decision.REFUSED:
                messages.warning(request, "Erasure refused: the records must be kept. "
                                 "The subject's data are now restricted.")  # fmt: skip
            else:
                messages.success(request, "Erasure carried out: the content is gone, "
                                 "tombstones keep the archive verifiable.")  # fmt: skip
            return redirect("archive:erasure")
    requests_ = ErasureRequest.objects.filter(tenant=tenant).select_related("employee")[:200]
    return render(
        request,
        "archive/erasure.html",
        {"form": form, "requests": requests_},
        status=400 if form.errors else 200,
    )

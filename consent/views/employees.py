"""Employee list and page: onboarding, invitations, paper opt-in, withdrawal, offboarding,
evidence downloads. Every read is scoped by ``request.tenant``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.emailed_links import emailed_links_shown_on_page
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_denial, role_required
from compliance_hub.tenancy.walls import request_wall, walled_page

from .. import selectors, services
from ..forms import (
    DeactivationForm,
    EmployeeFilterForm,
    EmployeeForm,
    ReasonForm,
    RecordConsentForm,
    TeamForm,
    add_service_errors,
)
from ..models import ConsentEvent, ConsentInvitation, Employee
from ..services import ConsentError
from ._common import (
    LANGUAGE_LABELS,
    TENANT_ROLES,
    error_text,
    query_without_page,
)


def _employee_or_404(request: TenantRequest, pk: int) -> Employee:
    return get_object_or_404(
        Employee.objects.filter(tenant=request.tenant).select_related("team"), pk=pk
    )


@role_required(*TENANT_ROLES)
def employees(request: TenantRequest) -> HttpResponse:
    """The list with filters; admins also add employees and teams here."""
    if request_wall(request).closed:  # names and numbers: pseudonymised review's wall
        return walled_page(request)
    tenant = request.tenant
    is_admin = request.membership.role == Role.ADMIN
    form = EmployeeForm(tenant=tenant) if is_admin else None
    if request.method == "POST":
        denial = role_denial(request, (Role.ADMIN,))
        if denial is not None:
            return denial
        form = EmployeeForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                employee = services.create_employee(
                    tenant=tenant, data=form.to_data(), actor=Actor.from_request(request)
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, f"Added {employee.full_name}.")
                return redirect("consent:employee", employee.pk)
    filters = EmployeeFilterForm(request.GET or None, tenant=tenant)
    rows = selectors.employee_list(tenant=tenant, **filters.selector_filters())
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "consent/employees/list.html",
        {
            "filters": filters,
            "page": page,
            "query": query_without_page(request),
            "form": form,
            "team_form": TeamForm() if is_admin else None,
            "is_admin": is_admin,
            "to_invite": _to_invite_count(tenant) if is_admin else 0,
        },
        status=400 if form is not None and form.errors else 200,
    )


def _to_invite_count(tenant) -> int:
    return selectors.employees_to_invite(tenant=tenant).count()


@role_required(Role.ADMIN)
@require_POST
def employees_invite_all(request: TenantRequest) -> HttpResponse:
    """Ask everyone who is not covered by the current notice (and has not declined or
    withdrawn) to consent; the emails go out from a worker."""
    try:
        count = services.invite_employees_in_bulk(
            tenant=request.tenant, actor=Actor.from_request(request)
        )
    except ConsentError as error:
        messages.error(request, error_text(error))
    else:
        if count:
            messages.success(request, f"Sending consent invitations to {count} employees.")
        else:
            messages.info(request, "Nobody needs an invitation right now.")
    return redirect("consent:employees")


@role_required(Role.ADMIN)
@require_POST
def team_create(request: TenantRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A team needs a name (at most 100 characters).")
        return redirect("consent:employees")
    try:
        team = services.create_team(
            tenant=request.tenant,
            name=form.cleaned_data["name"],
            actor=Actor.from_request(request),
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Team {team.name} created.")
    return redirect("consent:employees")


def _employee_form_initial(employee: Employee) -> dict:
    return {
        "full_name": employee.full_name,
        "email": employee.email,
        "employee_id": employee.employee_id,
        "team": employee.team_id,
        "region": employee.region,
        "phone_number": employee.phone_number,
        "whatsapp_phone_number_id": employee.whatsapp_phone_number_id,
        "language": employee.language,
    }


@role_required(*TENANT_ROLES)
def employee_detail(request: TenantRequest, pk: int) -> HttpResponse:
    """Details, the whole consent history, number assignments, open invitations; admins edit
    and act here (each action posts to its own URL)."""
    tenant = request.tenant
    employee = _employee_or_404(request, pk)  # another firm's employee: 404, as for everyone
    if request_wall(request).closed:  # names and numbers: pseudonymised review's wall
        return walled_page(request)
    role = request.membership.role
    is_admin = role == Role.ADMIN
    edit_form = None
    if is_admin and employee.active:
        edit_form = EmployeeForm(initial=_employee_form_initial(employee), tenant=tenant)
    status = 200
    if request.method == "POST":
        denial = role_denial(request, (Role.ADMIN,))
        if denial is not None:
            return denial
        edit_form = EmployeeForm(request.POST, tenant=tenant)
        if edit_form.is_valid():
            try:
                services.update_employee(
                    employee=employee, data=edit_form.to_data(), actor=Actor.from_request(request)
                )
            except ConsentError as error:
                messages.error(request, error_text(error))
                return redirect("consent:employee", employee.pk)
            except ValidationError as error:
                add_service_errors(edit_form, error)
            else:
                messages.success(request, f"Saved the changes to {employee.full_name}.")
                return redirect("consent:employee", employee.pk)
        # Show what the database holds, not the rejected input, in the summary.
        employee.refresh_from_db()
        status = 400
    history = list(selectors.consent_history(employee=employee))
    last = history[-1] if history else None
    open_invitations = ConsentInvitation.objects.filter(
        tenant=tenant,
        employee=employee,
        responded_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).select_related("notice", "sent_by")
    # Offer only what the service would accept in this state: nobody is asked again (nor is
    # paper recorded) for a notice version they already consented to.
    current = selectors.current_notice(tenant=tenant)
    covered_version = (
        last.notice_version if last and last.kind == ConsentEvent.Kind.GRANTED else None
    )
    needs_consent = (
        employee.active
        and current is not None
        and (covered_version is None or covered_version < (current.version or 0))
    )
    record_form = RecordConsentForm(tenant=tenant) if is_admin and needs_consent else None
    if record_form is not None and current is not None:  # a form is offered only with a notice
        record_form.fields["notice"].initial = current.pk
    return render(
        request,
        "consent/employees/detail.html",
        {
            "employee": employee,
            "state": selectors.consent_state_of(employee=employee),
            "history": history,
            "has_active_grant": covered_version is not None,
            "can_invite": is_admin and needs_consent,
            "covered_version": covered_version,
            "current_notice": current,
            "assignments": employee.assignments.filter(tenant=tenant).order_by("-assigned_at"),
            "open_invitations": open_invitations,
            "is_admin": is_admin,
            "can_download": role in (Role.ADMIN, Role.AUDITOR),
            "edit_form": edit_form,
            "record_form": record_form,
            # Two reason fields on one page: distinct ids, same field name.
            "withdraw_form": ReasonForm(auto_id="withdraw_%s"),
            "deactivate_form": DeactivationForm(auto_id="deactivate_%s"),
            "language_label": LANGUAGE_LABELS.get(employee.language, employee.language),
        },
        status=status,
    )


@role_required(Role.ADMIN)
@require_POST
def employee_invite(request: TenantRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    try:
        invitation, link = services.invite_employee(
            employee=employee,
            actor=Actor.from_request(request),
            base_url=request.build_absolute_uri("/"),
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            f"Invitation sent to {employee.email}. The link works once and expires on "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        if emailed_links_shown_on_page():
            messages.info(request, f"Local demo, no email needed: {link}", extra_tags="demo-link")
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN)
@require_POST
def employee_record_consent(request: TenantRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = RecordConsentForm(request.POST, request.FILES, tenant=request.tenant)
    if not form.is_valid():
        problems = [str(message) for messages_ in form.errors.values() for message in messages_]
        messages.error(request, "The opt-in was not recorded: " + " ".join(problems))
        return redirect("consent:employee", employee.pk)
    try:
        event = services.record_consent(
            employee=employee,
            actor=Actor.from_request(request),
            notice=form.cleaned_data["notice"],
            evidence=form.cleaned_data["evidence"],
            evidence_reference=form.cleaned_data["evidence_reference"],
            occurred_at=form.occurred_at(),
            signature_name=form.cleaned_data["signature_name"],
        )
    except ValidationError as error:
        messages.error(request, "The opt-in was not recorded: " + error_text(error))
    else:
        messages.success(
            request,
            f"Opt-in to notice version {event.notice_version} recorded for {employee.full_name}; "
            "capture is covered from "
            f"{event.occurred_at:%Y-%m-%d %H:%M} UTC.",
        )
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN)
@require_POST
def employee_withdraw(request: TenantRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (at most 1000 characters).")
        return redirect("consent:employee", employee.pk)
    try:
        services.withdraw_consent(
            employee=employee,
            actor=Actor.from_request(request),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(request, f"Consent of {employee.full_name} withdrawn: capture stopped.")
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN)
@require_POST
def employee_deactivate(request: TenantRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = DeactivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (at most 500 characters).")
        return redirect("consent:employee", employee.pk)
    try:
        services.deactivate_employee(
            employee=employee,
            actor=Actor.from_request(request),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            f"{employee.full_name} is deactivated: capture stopped and the number is released. "
            "Archived messages stay under retention.",
        )
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN, Role.AUDITOR)
@require_GET
def evidence_download(request: TenantRequest, pk: int, event_pk: int) -> FileResponse:
    employee = _employee_or_404(request, pk)
    event = get_object_or_404(
        ConsentEvent.objects.filter(tenant=request.tenant, employee=employee).exclude(evidence=""),
        pk=event_pk,
    )
    try:
        handle = event.evidence.open("rb")
    except FileNotFoundError:
        raise Http404("The evidence file is missing from storage.") from None
    record_event(
        "consent.evidence_downloaded",
        tenant=request.tenant,
        actor=Actor.from_request(request),
        target=employee,
        details={"event": event.pk, "sha256": event.evidence_sha256},
    )
    name = event.evidence.name
    assert name, "the lookup above excludes events without an evidence file"
    suffix = name.rsplit(".", 1)[-1] if "." in name else "bin"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"consent-evidence-{employee.pk}-{event.pk}.{suffix}",
        content_type=event.evidence_content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

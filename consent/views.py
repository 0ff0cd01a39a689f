"""Browser pages of the consent app.

Two audiences. The monitored employee opens public pages from a link (no login: the token
carries the tenant id and is checked by the services): read the notice and accept or decline,
or withdraw. Tenant users work on the employee list and page, the notices and the consent
register. Views only parse and call services, which audit themselves; every read is scoped by
``request.tenant`` and an object of another tenant is a 404.
"""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.roles import role_denial, role_required
from compliance_hub.views import _csv_cell

from . import selectors, services
from .forms import (
    DeactivationForm,
    DeclineForm,
    EmployeeFilterForm,
    EmployeeForm,
    ImportUploadForm,
    NoticeDraftForm,
    PublishNoticeForm,
    ReasonForm,
    RecordConsentForm,
    SignatureForm,
    TeamForm,
    add_service_errors,
)
from .models import (
    ConsentEvent,
    ConsentInvitation,
    ConsentNotice,
    ConsentState,
    Employee,
    EmployeeImport,
    Language,
)
from .services import ConsentError

TENANT_ROLES = (Role.ADMIN, Role.OFFICER, Role.AUDITOR)
LANGUAGE_LABELS = dict(Language.choices)


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _show_invitation_links() -> bool:
    """Local demos run without a mail server: show the invitation link on the page."""
    return settings.DEBUG or getattr(settings, "DJANGO_ENV", "") == "local"


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- public pages: the employee ---------------------------------------------------------------


def _public_error(request: HttpRequest, message: str, *, status: int, title: str) -> HttpResponse:
    return render(
        request,
        "consent/public/error.html",
        {"title": title, "message": message},
        status=status,
    )


def _notice_languages(notice: ConsentNotice) -> list[tuple[str, str]]:
    return [(code, label) for code, label in Language.choices if code in notice.texts]


def _chosen_language(request: HttpRequest, invitation: ConsentInvitation) -> str:
    available = [code for code, _label in _notice_languages(invitation.notice)]
    for candidate in (request.POST.get("lang"), request.GET.get("lang"), invitation.language):
        if candidate in available:
            return candidate
    return available[0] if available else invitation.language


@never_cache
def respond(request: HttpRequest, token: str) -> HttpResponse:
    """The employee reads the notice in their language and accepts (signing with their typed
    name) or declines. The link works once; a used or expired one answers 410."""
    try:
        invitation = services.find_consent_invitation(token)
    except ConsentError as error:
        return _public_error(
            request, _error_text(error), status=410, title="This link cannot be used"
        )
    with tenant_scope(invitation.tenant_id):
        language = _chosen_language(request, invitation)
        signature_form = SignatureForm()
        decline_form = DeclineForm()
        problem = ""
        status = 200
        if request.method == "POST":
            action = request.POST.get("action")
            # The evidence records the language the employee actually read.
            invitation.language = language
            try:
                if action == "accept":
                    signature_form = SignatureForm(request.POST)
                    if signature_form.is_valid():
                        event = services.accept_consent(
                            invitation=invitation,
                            signature_name=signature_form.cleaned_data["signature_name"],
                            request=request,
                            base_url=request.build_absolute_uri("/"),
                        )
                        return render(
                            request,
                            "consent/public/accepted.html",
                            {"invitation": invitation, "event": event, "tenant": invitation.tenant},
                        )
                elif action == "decline":
                    decline_form = DeclineForm(request.POST)
                    if decline_form.is_valid():
                        services.decline_consent(
                            invitation=invitation,
                            request=request,
                            reason=decline_form.cleaned_data["reason"],
                        )
                        return render(
                            request,
                            "consent/public/declined.html",
                            {"invitation": invitation, "tenant": invitation.tenant},
                        )
                else:
                    problem = "Choose Accept or Decline."
            except ConsentError as error:
                try:
                    services.find_consent_invitation(token)
                except ConsentError:
                    # Answered or expired meanwhile (a second tab, a double tap).
                    return _public_error(
                        request, _error_text(error), status=410, title="This link cannot be used"
                    )
                problem = _error_text(error)
            status = 400
        text = invitation.notice.text_for(language)
        return render(
            request,
            "consent/public/respond.html",
            {
                "invitation": invitation,
                "tenant": invitation.tenant,
                "employee": invitation.employee,
                "notice": invitation.notice,
                "text": text,
                "language": language,
                "languages": _notice_languages(invitation.notice),
                "signature_form": signature_form,
                "decline_form": decline_form,
                "problem": problem,
            },
            status=status,
        )


@never_cache
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """From the link in the confirmation email: the employee withdraws; capture stops at once."""
    try:
        grant = services.find_grant_by_withdrawal_token(token)
    except ConsentError as error:
        return _public_error(
            request, _error_text(error), status=404, title="This link cannot be used"
        )
    employee = grant.employee
    with tenant_scope(grant.tenant_id):
        last = (
            ConsentEvent.objects.filter(tenant_id=grant.tenant_id, employee=employee)
            .order_by("-occurred_at", "-id")
            .first()
        )
        context = {
            "grant": grant,
            "employee": employee,
            "tenant": grant.tenant,
            "active": last is not None and last.kind == ConsentEvent.Kind.GRANTED,
            "form": ReasonForm(),
        }
        if request.method == "POST":
            form = ReasonForm(request.POST)
            if not form.is_valid():
                context["form"] = form
                return render(request, "consent/public/withdraw.html", context, status=400)
            try:
                event = services.withdraw_consent(
                    employee=employee,
                    request=request,
                    reason=form.cleaned_data["reason"],
                    by_employee=True,
                )
            except ConsentError as error:
                context.update(active=False, error=_error_text(error))
                return render(request, "consent/public/withdraw.html", context, status=409)
            context["event"] = event
            return render(request, "consent/public/withdrawn.html", context)
        return render(request, "consent/public/withdraw.html", context)


# --- employees --------------------------------------------------------------------------------


def _employee_or_404(request: HttpRequest, pk: int) -> Employee:
    return get_object_or_404(
        Employee.objects.filter(tenant=request.tenant).select_related("team"), pk=pk
    )


@role_required(*TENANT_ROLES)
def employees(request: HttpRequest) -> HttpResponse:
    """The list with filters; admins also add employees and teams here."""
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
                    tenant=tenant, data=form.to_data(), actor=request.user, request=request
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
            "query": _query_without_page(request),
            "form": form,
            "team_form": TeamForm() if is_admin else None,
            "is_admin": is_admin,
        },
        status=400 if form is not None and form.errors else 200,
    )


@role_required(Role.ADMIN)
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    form = TeamForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A team needs a name (at most 100 characters).")
        return redirect("consent:employees")
    try:
        team = services.create_team(
            tenant=request.tenant,
            name=form.cleaned_data["name"],
            actor=request.user,
            request=request,
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
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
def employee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Details, the whole consent history, number assignments, open invitations; admins edit
    and act here (each action posts to its own URL)."""
    tenant = request.tenant
    employee = _employee_or_404(request, pk)
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
                    employee=employee, data=edit_form.to_data(), actor=request.user, request=request
                )
            except ConsentError as error:
                messages.error(request, _error_text(error))
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
    record_form = RecordConsentForm(tenant=tenant) if is_admin and employee.active else None
    if record_form is not None:
        current = services.current_notice(tenant=tenant)
        record_form.fields["notice"].initial = current.pk if current else None
    return render(
        request,
        "consent/employees/detail.html",
        {
            "employee": employee,
            "state": selectors.consent_state_of(employee=employee),
            "history": history,
            "has_active_grant": last is not None and last.kind == ConsentEvent.Kind.GRANTED,
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
def employee_invite(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    try:
        invitation, link = services.invite_employee(
            employee=employee,
            actor=request.user,
            request=request,
            base_url=request.build_absolute_uri("/"),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"Invitation sent to {employee.email}. The link works once and expires on "
            f"{invitation.expires_at:%Y-%m-%d %H:%M} UTC.",
        )
        if _show_invitation_links():
            messages.info(request, f"Local demo, no email needed: {link}", extra_tags="demo-link")
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN)
@require_POST
def employee_record_consent(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = RecordConsentForm(request.POST, request.FILES, tenant=request.tenant)
    if not form.is_valid():
        problems = [message for messages_ in form.errors.values() for message in messages_]
        messages.error(request, "The opt-in was not recorded: " + " ".join(problems))
        return redirect("consent:employee", employee.pk)
    try:
        event = services.record_consent(
            employee=employee,
            actor=request.user,
            request=request,
            notice=form.cleaned_data["notice"],
            evidence=form.cleaned_data["evidence"],
            evidence_reference=form.cleaned_data["evidence_reference"],
            occurred_at=form.occurred_at(),
            signature_name=form.cleaned_data["signature_name"],
        )
    except ValidationError as error:
        messages.error(request, "The opt-in was not recorded: " + _error_text(error))
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
def employee_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (at most 1000 characters).")
        return redirect("consent:employee", employee.pk)
    try:
        services.withdraw_consent(
            employee=employee,
            actor=request.user,
            request=request,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, f"Consent of {employee.full_name} withdrawn: capture stopped.")
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN)
@require_POST
def employee_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    employee = _employee_or_404(request, pk)
    form = DeactivationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The reason is too long (at most 500 characters).")
        return redirect("consent:employee", employee.pk)
    try:
        services.deactivate_employee(
            employee=employee,
            actor=request.user,
            request=request,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"{employee.full_name} is deactivated: capture stopped and the number is released. "
            "Archived messages stay under retention.",
        )
    return redirect("consent:employee", employee.pk)


@role_required(Role.ADMIN, Role.AUDITOR)
@require_GET
def evidence_download(request: HttpRequest, pk: int, event_pk: int) -> FileResponse:
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
        actor=request.user,
        request=request,
        target=employee,
        details={"event": event.pk, "sha256": event.evidence_sha256},
    )
    suffix = event.evidence.name.rsplit(".", 1)[-1] if "." in event.evidence.name else "bin"
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"consent-evidence-{employee.pk}-{event.pk}.{suffix}",
        content_type=event.evidence_content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- CSV import (the service lives in consent/imports.py) -------------------------------------


def _import_or_404(request: HttpRequest, pk: int) -> EmployeeImport:
    return get_object_or_404(EmployeeImport.objects.filter(tenant=request.tenant), pk=pk)


@role_required(Role.ADMIN)
def employee_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV: nothing is imported yet; the preview names every bad row."""
    from .imports import preview_import, read_upload

    form = ImportUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                employee_import = preview_import(
                    tenant=request.tenant,
                    filename=upload.name,
                    data=read_upload(upload),
                    actor=request.user,
                    request=request,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("consent:employee_import_preview", employee_import.pk)
        status = 400
    recent = EmployeeImport.objects.filter(tenant=request.tenant).select_related("uploaded_by")[:10]
    return render(
        request, "consent/employees/import.html", {"form": form, "recent": recent}, status=status
    )


@role_required(Role.ADMIN)
@require_GET
def employee_import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    employee_import = _import_or_404(request, pk)
    columns = ["full_name", "email", "employee_id", "team", "region", "phone_number",
               "whatsapp_phone_number_id", "language"]  # fmt: skip
    rows = [
        {
            "line": row.get("line", ""),
            "cells": [(column, row.get(column, "")) for column in columns],
        }
        for row in employee_import.rows
    ]
    return render(
        request,
        "consent/employees/import_preview.html",
        {
            "employee_import": employee_import,
            "columns": columns,
            "rows": rows,
            "errors": employee_import.errors,
            "is_preview": employee_import.status == EmployeeImport.Status.PREVIEW,
        },
    )


@role_required(Role.ADMIN)
@require_POST
def employee_import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    from .imports import confirm_import

    employee_import = _import_or_404(request, pk)
    try:
        count = confirm_import(employee_import=employee_import, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, "Nothing was imported: " + _error_text(error))
        return redirect("consent:employee_import_preview", employee_import.pk)
    messages.success(request, f"Imported {count} employee{'s' if count != 1 else ''}.")
    return redirect("consent:employees")


@role_required(Role.ADMIN)
@require_POST
def employee_import_discard(request: HttpRequest, pk: int) -> HttpResponse:
    from .imports import discard_import

    employee_import = _import_or_404(request, pk)
    try:
        discard_import(employee_import=employee_import, actor=request.user, request=request)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("consent:employee_import_preview", employee_import.pk)
    messages.success(
        request, f"Discarded the upload of {employee_import.filename}; nothing imported."
    )
    return redirect("consent:employee_import")


# --- notices ----------------------------------------------------------------------------------


def _notice_or_404(request: HttpRequest, pk: int) -> ConsentNotice:
    return get_object_or_404(
        ConsentNotice.objects.filter(tenant=request.tenant).select_related(
            "published_by", "created_by"
        ),
        pk=pk,
    )


@role_required(Role.ADMIN)
def notices(request: HttpRequest) -> HttpResponse:
    """Published versions and drafts; POST starts a draft from the current version's texts."""
    tenant = request.tenant
    if request.method == "POST":
        current = services.current_notice(tenant=tenant)
        draft = services.create_notice_draft(
            tenant=tenant,
            texts=current.texts if current else {},
            actor=request.user,
            request=request,
        )
        messages.success(request, "Draft created from the current version. Edit it, then publish.")
        return redirect("consent:notice", draft.pk)
    all_notices = ConsentNotice.objects.filter(tenant=tenant).select_related("published_by")
    return render(
        request,
        "consent/notices/list.html",
        {
            "published": [n for n in all_notices if n.is_published],
            "drafts": [n for n in all_notices if not n.is_published],
        },
    )


@role_required(Role.ADMIN)
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    form = None
    error = ""
    status = 200
    if not notice.is_published:
        form = NoticeDraftForm(initial=NoticeDraftForm.initial_from(notice.texts))
        if request.method == "POST":
            form = NoticeDraftForm(request.POST)
            if form.is_valid():
                try:
                    services.update_notice_draft(
                        notice=notice, texts=form.texts(), actor=request.user, request=request
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, "Draft saved.")
                    return redirect("consent:notice", notice.pk)
            status = 400
    elif request.method == "POST":
        # No form offers this; a forged POST gets the service's refusal and changes nothing.
        posted = NoticeDraftForm(request.POST)
        try:
            services.update_notice_draft(
                notice=notice,
                texts=posted.texts() if posted.is_valid() else {},
                actor=request.user,
                request=request,
            )
        except ValidationError as refusal:
            error = _error_text(refusal)
            status = 409
    texts = [
        (code, label, notice.texts[code])
        for code, label in Language.choices
        if code in notice.texts
    ]
    return render(
        request,
        "consent/notices/detail.html",
        {
            "notice": notice,
            "texts": texts,
            "form": form,
            "error": error,
            "publish_form": PublishNoticeForm() if not notice.is_published else None,
        },
        status=status,
    )


@role_required(Role.ADMIN)
@require_POST
def notice_publish(request: HttpRequest, pk: int) -> HttpResponse:
    notice = _notice_or_404(request, pk)
    form = PublishNoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter the re-consent date as YYYY-MM-DD, or leave it empty.")
        return redirect("consent:notice", notice.pk)
    try:
        services.publish_notice(
            notice=notice,
            actor=request.user,
            request=request,
            reconsent_deadline=form.deadline(),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"Published as version {notice.version}. New invitations use it from now on.",
        )
    return redirect("consent:notice", notice.pk)


# --- the consent register ---------------------------------------------------------------------


def _register_rows(request: HttpRequest, filters: EmployeeFilterForm) -> QuerySet[Employee]:
    """The filtered employees with their consent state, plus the method of the last consent
    event and the expiry of an open invitation (all in one SQL query)."""
    last_event = ConsentEvent.objects.filter(employee=OuterRef("pk")).order_by(
        "-occurred_at", "-id"
    )
    open_invitation = ConsentInvitation.objects.filter(
        employee=OuterRef("pk"),
        responded_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-expires_at")
    return selectors.employee_list(tenant=request.tenant, **filters.selector_filters()).annotate(
        last_consent_method=Subquery(last_event.values("method")[:1]),
        open_invitation_expires=Subquery(open_invitation.values("expires_at")[:1]),
    )


@role_required(*TENANT_ROLES)
def register(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    filters = EmployeeFilterForm(request.GET or None, tenant=tenant)
    rows = _register_rows(request, filters)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    counts = dict(
        selectors.with_consent_state(
            Employee.objects.filter(tenant=tenant, active=True), tenant=tenant
        )
        .order_by()
        .values_list("consent_state")
        .annotate(n=Count("pk"))
    )
    totals = [(value, label, counts.get(value, 0)) for value, label in ConsentState.choices]
    query = _query_without_page(request)
    return render(
        request,
        "consent/register.html",
        {
            "filters": filters,
            "page": page,
            "query": query,
            "totals": totals,
            "csv_url": reverse("consent:register_csv") + (f"?{query}" if query else ""),
        },
    )


@role_required(*TENANT_ROLES)
@require_GET
def register_csv(request: HttpRequest) -> HttpResponse:
    tenant = request.tenant
    filters = EmployeeFilterForm(request.GET or None, tenant=tenant)
    rows = _register_rows(request, filters)
    record_event(
        "consent.register_exported",
        tenant=tenant,
        actor=request.user,
        request=request,
        details={"filters": {k: v for k, v in request.GET.items() if v}},
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    response["Content-Disposition"] = (
        f'attachment; filename="consent-register-{tenant.slug}-{stamp}.csv"'
    )
    methods = dict(ConsentEvent.Method.choices)
    writer = csv.writer(response)
    writer.writerow(
        [
            "employee_id",
            "full_name",
            "email",
            "team",
            "region",
            "phone_number",
            "active",
            "consent_state",
            "covered_since_utc",
            "notice_version",
            "method",
            "last_event",
            "last_event_at_utc",
            "open_invitation_expires_utc",
        ]
    )
    for employee in rows.iterator(chunk_size=2000):
        covered = employee.consent_state == ConsentState.COVERED
        writer.writerow(
            [
                _csv_cell(value)
                for value in (
                    employee.employee_id,
                    employee.full_name,
                    employee.email,
                    employee.team.name if employee.team else "",
                    employee.region,
                    employee.phone_number,
                    "yes" if employee.active else "no",
                    employee.consent_state,
                    employee.last_consent_at.isoformat() if covered else "",
                    employee.last_consent_version or "",
                    methods.get(employee.last_consent_method, ""),
                    employee.last_consent_kind or "",
                    employee.last_consent_at.isoformat() if employee.last_consent_at else "",
                    employee.open_invitation_expires.isoformat()
                    if employee.open_invitation_expires
                    else "",
                )
            ]
        )
    return response

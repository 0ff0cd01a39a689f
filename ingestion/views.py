"""The WhatsApp settings page: what to paste into Meta's dashboard, the secrets Meta gives, what
is still missing, when deliveries last arrived, and a check the admin can run.

Admins only. Secrets are shown as hints (last four characters) once saved, never in full."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import READER_ROLES, role_required
from compliance_hub.tenancy.walls import request_wall, walled_page

from .connection_check import check_connection
from .coverage import REFUSAL_WINDOW, capture_coverage
from .forms import WhatsAppSettingsForm
from .models import WhatsAppSettings
from .notices import acknowledge_notice, notice_or_none
from .selectors import connection_status
from .services import (
    SECRET_FIELDS,
    changed_settings,
    save_whatsapp_settings,
    saved_settings,
    whatsapp_settings,
)

# The webhook fields a tenant subscribes to in App Dashboard → WhatsApp → Configuration.
WEBHOOK_FIELDS = (
    "messages",
    "smb_message_echoes",
    "history",
    "smb_app_state_sync",
    "calls",
    "account_update",
)


def _add_service_errors(form: WhatsAppSettingsForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, field_messages in error.message_dict.items():
            for message in field_messages:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@role_required(Role.ADMIN)
def settings_page(request: TenantRequest) -> HttpResponse:
    tenant = request.tenant
    row = whatsapp_settings(tenant=tenant)
    before = saved_settings(row)
    form = WhatsAppSettingsForm(
        request.POST or None, initial={"waba_ids": "\n".join(before["waba_ids"])}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                row = save_whatsapp_settings(
                    tenant=tenant, actor=Actor.from_request(request), **form.changes()
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                changed = changed_settings(before, saved_settings(row))
                if changed:
                    messages.success(request, f"Saved: {', '.join(changed)}.")
                else:
                    messages.info(request, "Nothing changed.")
                return redirect("ingestion:whatsapp_settings")
        status = 400
    saved = saved_settings(row)
    context = {
        "form": form,
        "settings_row": row,
        "callback_url": request.build_absolute_uri(
            reverse("ingestion:whatsapp_webhook", args=[tenant.slug])
        ),
        "hints": {name: WhatsAppSettings.hint(saved[name]) for name in SECRET_FIELDS},
        "waba_ids": saved["waba_ids"],
        "connection": connection_status(tenant=tenant, row=row),
        "webhook_fields": WEBHOOK_FIELDS,
    }
    return render(request, "ingestion/settings.html", context, status=status)


def _own_base_url(request: HttpRequest) -> str:
    """Where this site is reached from outside: the request's address, which ALLOWED_HOSTS
    vouches for. With a wildcard there the Host header is the client's to choose, and the check
    would send the verify token and a signed delivery wherever it pointed: SITE_URL instead."""
    if any(host == "*" or host.startswith(".") for host in settings.ALLOWED_HOSTS):
        return settings.SITE_URL
    return request.build_absolute_uri("/")


@role_required(Role.ADMIN)
@require_POST
def connection_check(request: TenantRequest) -> HttpResponse:
    """Run the connection check against the callback URL the page shows (the address Meta
    uses); the page then shows the outcome from the audit trail."""
    result = check_connection(
        tenant=request.tenant,
        base_url=_own_base_url(request),
        actor=Actor.from_request(request),
    )
    if result.passed:
        messages.success(request, "Connection check passed: see each step below.")
    else:
        messages.error(request, "Connection check failed: see each step below.")
    return redirect(reverse("ingestion:whatsapp_settings") + "#check-heading")


@role_required(*READER_ROLES)
def coverage_page(request: TenantRequest) -> HttpResponse:
    """Capture coverage per connected employee, with the limits of coexistence spelt out."""
    if request_wall(request).closed:  # a list of employees by name: the wall
        return walled_page(request)
    rows = capture_coverage(tenant=request.tenant)
    context = {"rows": rows, "refusal_days": REFUSAL_WINDOW.days}
    return render(request, "ingestion/coverage.html", context)


@role_required(Role.ADMIN)
@require_POST
def notice_acknowledge(request: TenantRequest, pk: int) -> HttpResponse:
    notice = notice_or_none(tenant=request.tenant, pk=pk)
    if notice is None:
        raise Http404("No such notice.")
    acknowledge_notice(notice=notice, actor=Actor.from_request(request))
    messages.success(request, "Notice acknowledged.")
    return redirect("dashboard")

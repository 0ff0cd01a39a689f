"""The tenant-wide consent register and its CSV download."""

from __future__ import annotations

import csv

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.csv_cells import spreadsheet_safe
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required
from compliance_hub.tenancy.walls import request_wall, walled_page

from .. import selectors
from ..capture import capture_states
from ..forms import EmployeeFilterForm
from ..models import ConsentEvent, ConsentState
from ._common import TENANT_ROLES, query_without_page


@role_required(*TENANT_ROLES)
def register(request: TenantRequest) -> HttpResponse:
    if request_wall(request).closed:  # names and numbers: pseudonymised review's wall
        return walled_page(request)
    tenant = request.tenant
    filters = EmployeeFilterForm(request.GET or None, tenant=tenant)
    rows = selectors.employee_list(tenant=tenant, **filters.selector_filters())
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    # The same answer as the capture coverage page: consent alone captures nothing.
    # A list of the page's rows (the page evaluates its slice once; the same instances render).
    employees = list(page.object_list)
    capture = capture_states(tenant=tenant, employees=employees)
    for employee in employees:
        # Read by the template beside the consent annotations; not a column.
        setattr(employee, "capture", capture.get(employee.pk))  # noqa: B010
    counts = selectors.consent_state_counts(tenant=tenant)
    totals = [(value, label, counts[value]) for value, label in ConsentState.choices]
    query = query_without_page(request)
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
def register_csv(request: TenantRequest) -> HttpResponse:
    if request_wall(request).closed:  # names and numbers: pseudonymised review's wall
        return walled_page(request)
    tenant = request.tenant
    filters = EmployeeFilterForm(request.GET or None, tenant=tenant)
    rows = selectors.employee_list(tenant=tenant, **filters.selector_filters())
    record_event(
        "consent.register_exported",
        tenant=tenant,
        actor=Actor.from_request(request),
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
        covered_since = employee.last_consent_at  # a covered employee's grant always has one
        writer.writerow(
            [
                spreadsheet_safe(value)
                for value in (
                    employee.employee_id,
                    employee.full_name,
                    employee.email,
                    employee.team.name if employee.team else "",
                    employee.region,
                    employee.phone_number,
                    "yes" if employee.active else "no",
                    employee.consent_state,
                    covered_since.isoformat() if covered and covered_since else "",
                    employee.last_consent_version or "",
                    methods.get(employee.last_consent_method or "", ""),
                    employee.last_consent_kind or "",
                    employee.last_consent_at.isoformat() if employee.last_consent_at else "",
                    employee.open_invitation_expires.isoformat()
                    if employee.open_invitation_expires
                    else "",
                )
            ]
        )
    return response

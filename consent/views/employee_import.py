"""CSV import pages: upload, preview with every bad row named, confirm or discard
(the service is consent/imports.py).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from ..forms import ImportUploadForm, add_service_errors
from ..imports import confirm_import, discard_import, preview_import, read_upload
from ..models import EmployeeImport
from ._common import error_text


def _import_or_404(request: TenantRequest, pk: int) -> EmployeeImport:
    return get_object_or_404(EmployeeImport.objects.filter(tenant=request.tenant), pk=pk)


@role_required(Role.ADMIN)
def employee_import(request: TenantRequest) -> HttpResponse:
    """Upload a CSV: nothing is imported yet; the preview names every bad row."""

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
                    actor=Actor.from_request(request),
                    create_teams=form.cleaned_data["create_teams"],
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
def employee_import_preview(request: TenantRequest, pk: int) -> HttpResponse:
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
def employee_import_confirm(request: TenantRequest, pk: int) -> HttpResponse:

    employee_import = _import_or_404(request, pk)
    try:
        count = confirm_import(employee_import=employee_import, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, "Nothing was imported: " + error_text(error))
        return redirect("consent:employee_import_preview", employee_import.pk)
    messages.success(request, f"Imported {count} employee{'s' if count != 1 else ''}.")
    return redirect("consent:employees")


@role_required(Role.ADMIN)
@require_POST
def employee_import_discard(request: TenantRequest, pk: int) -> HttpResponse:

    employee_import = _import_or_404(request, pk)
    try:
        discard_import(employee_import=employee_import, actor=Actor.from_request(request))
    except ValidationError as error:
        messages.error(request, error_text(error))
        return redirect("consent:employee_import_preview", employee_import.pk)
    messages.success(
        request, f"Discarded the upload of {employee_import.filename}; nothing imported."
    )
    return redirect("consent:employee_import")

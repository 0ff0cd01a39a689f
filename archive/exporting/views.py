"""Browser pages of exports: the tenant's list, the form (reached from a search with its query and
filters), one export with a progress bar that updates itself (static/js/job-progress.js polls
the JSON status below), and the download behind a signed, short-lived link."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from .forms import DEFAULT_FORMATS, SOURCE_HOLD, SOURCE_SEARCH, ExportForm
from .links import LinkExpired, LinkRefused, check_download_token, download_token
from .models import Export
from .responses import export_response
from .selectors import EXPORT_ROLES, status_text, tenant_exports
from .services import (
    ExportNotDownloadable,
    ExportRefused,
    download_export,
    export_progress,
    request_export,
)

PAGE_SIZE = 50
# Query parameters of the search page that are not part of what it searches.
NOT_CRITERIA = {"cursor", "order"}


def _export_or_404(request: TenantRequest, pk: int) -> Export:
    export = tenant_exports(tenant=request.tenant).filter(pk=pk).first()
    if export is None:
        raise Http404("No such export.")
    return export


@role_required(*EXPORT_ROLES)
@require_GET
def export_list_page(request: TenantRequest) -> HttpResponse:
    page = Paginator(tenant_exports(tenant=request.tenant), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(export, status_text(export)) for export in page.object_list]
    return render(request, "archive/exports.html", {"page": page, "rows": rows})


@role_required(*EXPORT_ROLES)
@require_http_methods(["GET", "POST"])
def export_new_page(request: TenantRequest) -> HttpResponse:
    """GET: the form, filled from the search it was opened from (its query string); POST: queue
    the export and go to its page."""
    tenant = request.tenant
    if request.method == "POST":
        form = ExportForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                export = request_export(
                    tenant=tenant, actor=Actor.from_request(request),
                    query=form.cleaned_data["q"], filters=form.search_filters(),
                    formats=form.cleaned_data["formats"], matter=form.cleaned_data["matter"],
                    legal_hold=form.hold_id(),
                )  # fmt: skip
            except ExportRefused as error:
                field = "q" if error.field == "query" else error.field
                form.add_error(field if field in form.fields else None, error.message)
            else:
                return redirect("archive:export", pk=export.pk)
    else:
        initial: dict[str, object] = {
            k: v for k, v in request.GET.items() if k not in NOT_CRITERIA and v
        }
        initial["formats"] = DEFAULT_FORMATS
        # A hold alone (its page's "Export the held messages") is an export of that hold; with
        # words or other filters beside it, it is a search narrowed to the hold.
        alone = set(initial) == {"legal_hold", "formats"}
        initial["source"] = SOURCE_HOLD if alone else SOURCE_SEARCH
        form = ExportForm(initial=initial, tenant=tenant)
    return render(request, "archive/export_new.html", {"form": form})


@role_required(*EXPORT_ROLES)
@require_GET
def export_page(request: TenantRequest, pk: int) -> HttpResponse:
    export = _export_or_404(request, pk)
    download_url = ""
    if export.downloadable:
        token = download_token(export=export, actor=Actor.from_request(request))
        download_url = reverse("archive:export_download", args=[export.pk]) + f"?token={token}"
    return render(
        request,
        "archive/export.html",
        {
            "export": export,
            "progress": export_progress(export),
            "status_text": status_text(export),
            "download_url": download_url,
            "status": Export.Status.EXPIRED if export.is_expired else export.status,
        },
    )


@role_required(*EXPORT_ROLES)
@require_GET
def export_status(request: TenantRequest, pk: int) -> JsonResponse:
    """What the progress bar shows, for the page's script."""
    export = _export_or_404(request, pk)
    progress = export_progress(export)
    response = JsonResponse(
        {
            "status": Export.Status.EXPIRED if export.is_expired else export.status,
            "status_text": status_text(export, progress),
            "done": progress.done,
            "total": progress.total,
            "percent": progress.percent,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@role_required(*EXPORT_ROLES)
@require_GET
def export_download(request: TenantRequest, pk: int) -> HttpResponse | FileResponse:
    export = _export_or_404(request, pk)
    actor = Actor.from_request(request)
    try:
        check_download_token(request.GET.get("token", ""), export=export, actor=actor)
        download = download_export(tenant=request.tenant, actor=actor, export=export)
    except LinkExpired as error:
        return _refused(request, export, error.message, status=410)
    except LinkRefused as error:
        return _refused(request, export, error.message, status=403)
    except ExportNotDownloadable as error:
        return _refused(request, export, error.message, status=410 if export.is_expired else 409)
    return export_response(download)


def _refused(request: TenantRequest, export: Export, message: str, *, status: int) -> HttpResponse:
    return render(
        request, "archive/export_refused.html", {"export": export, "message": message},
        status=status,
    )  # fmt: skip

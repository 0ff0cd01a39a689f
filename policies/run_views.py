"""Pages of backtests and lookbacks: a policy's runs, the backtest form (a draft as JSON, prefilled
with the saved version; the editor posts its unsaved form here too), the lookback form with its
confirmation, and one run's page, which follows the worker (static/js/job-progress.js polls the
JSON status below) and shows what it found. Officers and admins start and cancel; auditors read.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from archive.services import record_archive_read
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required
from compliance_hub.tenancy.walls import request_wall

from .backtests import request_backtest, sample_as_read, snippet_pieces
from .lookback import request_lookback
from .models import Policy, ScanJob
from .run_forms import BacktestForm, LookbackForm, RunRangeForm
from .run_selectors import READ_ROLES, RUN_ROLES, scan_jobs, status_text, tenant_policy
from .runs import ScanJobRefused, cancel_job, max_days
from .scope_people import document_as_read, document_as_written, lens_for

RECENT_RUNS = 50


def _policy_or_404(request: TenantRequest, pk: int) -> Policy:
    policy = tenant_policy(tenant=request.tenant, pk=pk)
    if policy is None:
        raise Http404("No such policy.")
    return policy


def _job_or_404(request: TenantRequest, pk: int) -> ScanJob:
    job = scan_jobs(tenant=request.tenant).filter(pk=pk).first()
    if job is None:
        raise Http404("No such backtest or lookback.")
    return job


def _can_run(request: TenantRequest) -> bool:
    return request.membership.role in RUN_ROLES


@role_required(*READ_ROLES)
@require_GET
def policy_runs_page(request: TenantRequest, pk: int) -> HttpResponse:
    policy = _policy_or_404(request, pk)
    jobs = list(scan_jobs(tenant=request.tenant, policy=policy)[:RECENT_RUNS])
    return render(
        request,
        "policies/runs.html",
        {"policy": policy, "rows": [(job, status_text(job)) for job in jobs],
         "can_run": _can_run(request)},
    )  # fmt: skip


def _refused(form: RunRangeForm, error: ScanJobRefused) -> list[str]:
    """Put the refusal on its field (or the form); a draft's problems go back as a list."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)
    return [str(problem) for problem in error.problems]


@role_required(*RUN_ROLES)
@require_http_methods(["GET", "POST"])
def backtest_new_page(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: the form, the draft prefilled with the saved version; POST: queue the backtest and
    go to its page (the editor's unsaved draft arrives the same way)."""
    policy = _policy_or_404(request, pk)
    problems: list[str] = []
    # A masked reader reads the draft's people as pseudonyms and submits them so.
    lens = lens_for(tenant=request.tenant, wall=request_wall(request))
    latest = policy.versions.filter(number=policy.version).first()
    saved = latest.document if latest is not None else {}
    if request.method == "POST":
        form = BacktestForm(request.POST)
        draft, refused = (
            document_as_written(form.cleaned_data["document"], lens, saved=saved)
            if form.is_valid()
            else (None, [])
        )
        if refused:
            form.add_error(
                "document", "Choose the draft's employees by their pseudonym: see above."
            )
            problems = [str(problem) for problem in refused]
        elif form.is_valid():
            try:
                job = request_backtest(
                    tenant=request.tenant, actor=Actor.from_request(request), policy=policy,
                    document=draft,
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    time_zone=timezone.get_current_timezone_name(),
                )  # fmt: skip
            except ScanJobRefused as error:
                problems = _refused(form, error)
            else:
                return redirect("policies:run", pk=job.pk)
    else:
        document = document_as_read(saved, lens)
        form = BacktestForm(
            initial={"document": json.dumps(document, indent=2, ensure_ascii=False)}
        )
    return render(
        request, "policies/backtest_new.html",
        {"policy": policy, "form": form, "problems": problems, "max_days": max_days()},
    )  # fmt: skip


@role_required(*RUN_ROLES)
@require_http_methods(["GET", "POST"])
def lookback_new_page(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: the form and the warning that real alerts follow; POST: queue the lookback of the
    policy's saved version and go to its page."""
    policy = _policy_or_404(request, pk)
    if request.method == "POST":
        form = LookbackForm(request.POST)
        if form.is_valid():
            try:
                job = request_lookback(
                    tenant=request.tenant, actor=Actor.from_request(request), policy=policy,
                    date_from=form.cleaned_data["date_from"],
                    date_to=form.cleaned_data["date_to"],
                    time_zone=timezone.get_current_timezone_name(),
                )  # fmt: skip
            except ScanJobRefused as error:
                _refused(form, error)
            else:
                return redirect("policies:run", pk=job.pk)
    else:
        form = LookbackForm()
    return render(
        request, "policies/lookback_new.html",
        {"policy": policy, "form": form, "max_days": max_days()},
    )  # fmt: skip


@role_required(*READ_ROLES)
@require_GET
def run_page(request: TenantRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    results = job.results or {}
    shown = sample_as_read(
        tenant=request.tenant, sample=results.get("sample", []), wall=request_wall(request)
    )
    sample = [
        {**entry, "pieces": snippet_pieces(entry), "sent_at": datetime.fromisoformat(entry["at"])}
        for entry in shown
    ]
    if sample:
        # The sample shows what employees wrote: a read of the archive like any other.
        record_archive_read(
            tenant=request.tenant, actor=Actor.from_request(request),
            endpoint=request.path, kind="message", ids=[e["message_id"] for e in sample],
            filters={"backtest": str(job.pk)}, where="in a backtest's sample",
        )  # fmt: skip
    template = "policies/backtest.html" if job.kind == ScanJob.Kind.BACKTEST else (
        "policies/lookback.html"
    )  # fmt: skip
    return render(
        request, template,
        {"job": job, "results": results, "sample": sample, "status_text": status_text(job),
         "can_run": _can_run(request), "share": f"{results.get('share', 0.0):.2%}"},
    )  # fmt: skip


@role_required(*READ_ROLES)
@require_GET
def run_status(request: TenantRequest, pk: int) -> JsonResponse:
    """What the page's script follows while the run is open."""
    job = _job_or_404(request, pk)
    response = JsonResponse(
        {"status": job.status, "status_text": status_text(job), "done": job.progress_done,
         "total": job.progress_total, "percent": job.percent}
    )  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


@role_required(*RUN_ROLES)
@require_POST
def run_cancel(request: TenantRequest, pk: int) -> HttpResponse:
    job = _job_or_404(request, pk)
    try:
        cancel_job(tenant=request.tenant, actor=Actor.from_request(request), job=job)
    except ScanJobRefused as error:
        messages.info(request, error.message)
    return redirect("policies:run", pk=job.pk)

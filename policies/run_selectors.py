"""Reads of backtests and lookbacks for the pages and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.roles import READER_ROLES, REVIEWER_ROLES

from .models import Policy, ScanJob

# Officers and admins start and cancel runs; auditors read what they found.
RUN_ROLES = REVIEWER_ROLES
READ_ROLES = READER_ROLES


def tenant_policy(*, tenant: Tenant, pk: int) -> Policy | None:
    """The tenant's policy, None for a missing one and for another firm's alike."""
    return Policy.objects.filter(tenant=tenant, pk=pk).first()


def scan_jobs(*, tenant: Tenant, policy: Policy | None = None, kind: str = "") -> QuerySet[ScanJob]:
    """The tenant's runs, newest first (of one policy, of one kind, when given)."""
    jobs = ScanJob.objects.filter(tenant=tenant).select_related("policy", "version")
    if policy is not None:
        jobs = jobs.filter(policy=policy)
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id")


def status_text(job: ScanJob) -> str:
    """Where a run stands, in words."""
    noun = job.get_kind_display()
    if job.status == ScanJob.Status.QUEUED:
        return f"{noun} waiting for a worker."
    if job.status == ScanJob.Status.RUNNING:
        return f"{noun} running: {job.progress_done:,} of {job.progress_total:,} messages read."
    if job.status == ScanJob.Status.DONE:
        return f"{noun} finished: {job.progress_done:,} messages read."
    if job.status == ScanJob.Status.CANCELLED:
        return f"{noun} cancelled after {job.progress_done:,} of {job.progress_total:,} messages."
    return f"{noun} failed. {job.error}".strip()

"""Celery entry points of scanning: the beat's sweeper (the after-commit scan in the drain is the
normal path; this catches what it missed, so every archived message is scanned)."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant

from .backtests import run_backtest
from .learning import run_retrain
from .lookback import run_lookback
from .models import Policy, ScanJob
from .runs import fail_stale_jobs
from .scanning import scan_unscanned


@shared_task(name="policies.scan_unscanned", queue="ingestion")
def scan_unscanned_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    return scan_unscanned(tenant=tenant) if tenant is not None else 0


@shared_task(name="policies.sweep_unscanned", queue="default")
def sweep_unscanned_task() -> int:
    """Beat, every minute: one sweep per active tenant with a policy switched on."""
    with unscoped():  # platform code: which tenants to sweep, nothing of their content
        tenant_ids = list(
            Policy.all_tenants.filter(active=True, tenant__status=Tenant.Status.ACTIVE)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        scan_unscanned_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)


# Not a TenantTask: that runs the body in one transaction, and a job's progress and its
# cancellation must be seen while it runs. The services open the tenant's scopes themselves.
# The long-jobs queue (with exports): a backtest of a year must not hold up the beat's tasks.
@shared_task(name="policies.run_scan_job", queue="exports")
def run_scan_job_task(*, tenant_id: int, job_id: int) -> str | None:
    """Run one backtest or lookback; returns its final status. Idempotent: a job that is not
    queued or running (finished, cancelled, gone) is left as it is."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return None
    with tenant_scope(tenant):
        job = ScanJob.objects.filter(tenant=tenant, pk=job_id).first()
    if job is None:
        return None
    if job.kind == ScanJob.Kind.BACKTEST:
        done = run_backtest(tenant=tenant, job_id=job_id)
    else:
        requester = (
            User.objects.filter(pk=job.requested_by_id).first() if job.requested_by_id else None
        )
        done = run_lookback(tenant=tenant, actor=Actor.task(user=requester), job_id=job_id)
    return done.status if done is not None else None


# The long-jobs queue: a training takes seconds to a minute and must not hold up the scans.
# Not a TenantTask (that holds one transaction for the whole body): the service scopes itself.
@shared_task(name="policies.retrain_firm_model", queue="exports")
def retrain_firm_model_task(*, tenant_id: int, model_id: int) -> str | None:
    """Train one requested firm model; returns its final status. Idempotent: a model that is
    not training any more (done, failed, gone) is left as it is."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return None
    row = run_retrain(tenant=tenant, model_id=model_id)
    return row.status if row is not None else None


@shared_task(name="policies.sweep_stale_jobs", queue="default")
def sweep_stale_jobs_task() -> int:
    """Beat, every few minutes: fail the backtests and lookbacks whose worker went silent (its
    task lost, the worker killed), so none shows "running" forever. Returns how many."""
    with unscoped():  # platform code: which tenants have a running job, nothing of their content
        tenant_ids = list(
            ScanJob.all_tenants.filter(status=ScanJob.Status.RUNNING)
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    failed = 0
    for tenant in Tenant.objects.filter(pk__in=tenant_ids):
        failed += fail_stale_jobs(tenant=tenant)
    return failed

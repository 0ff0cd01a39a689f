"""Celery entry points of retention: beat runs disposition daily over every tenant."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant

from .disposition import dispose_records


@shared_task(name="archive.dispose_records", queue="default")
def dispose_records_task(*, tenant_id: int) -> int:
    """One tenant's disposition run; returns the messages disposed of. Idempotent and
    resumable (disposition.py), so a retried or overlapping run does no harm: a second run of
    the same tenant waits on the first's lock and then finds less to do."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return 0
    return dispose_records(tenant=tenant, actor=Actor.task(user=None)).messages


@shared_task(name="archive.dispose_all_records", queue="default")
def dispose_all_records_task() -> int:
    """Beat, daily: one disposition task per active tenant."""
    tenant_ids = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE).values_list("pk", flat=True)
    )
    for tenant_id in tenant_ids:
        dispose_records_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)

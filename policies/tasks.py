"""Celery entry points of scanning: the beat's sweeper (the after-commit scan in the drain is the
normal path; this catches what it missed, so every archived message is scanned)."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Tenant

from .models import Policy
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

"""Celery entry points of alerts: the beat's sweepers (hits without an alert; claims left
untouched). Thin: they find the tenants and call the services."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Exists, OuterRef

from compliance_hub.celery import tenant_task
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Tenant
from policies.models import PolicyHit

from .models import Alert
from .raising import raise_missing_alerts
from .services import expire_claims, tenants_with_expired_claims
from .stats_days import forget_scanned, tenants_with_kept_coverage


@shared_task(name="alerts.raise_missing", queue="default")
def raise_missing_alerts_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    return raise_missing_alerts(tenant=tenant) if tenant is not None else 0


@shared_task(name="alerts.sweep_missing", queue="default")
def sweep_missing_alerts_task() -> int:
    """Beat, every minute: each active tenant with a hit that has no alert gets a sweep."""
    with unscoped():  # platform code: which tenants to sweep, nothing of their content
        tenant_ids = list(
            PolicyHit.all_tenants.filter(tenant__status=Tenant.Status.ACTIVE)
            .filter(~Exists(Alert.all_tenants.filter(hit_id=OuterRef("pk"))))
            .values_list("tenant_id", flat=True)
            .distinct()
        )
    for tenant_id in tenant_ids:
        raise_missing_alerts_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@shared_task(name="alerts.expire_claims_of_tenant", queue="default")
def expire_claims_of_tenant_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    return expire_claims(tenant=tenant) if tenant is not None else 0


@shared_task(name="alerts.expire_claims", queue="default")
def expire_claims_task() -> int:
    """Beat, every minute: claims nobody touched past the limit go back to the queue."""
    tenant_ids = tenants_with_expired_claims()
    for tenant_id in tenant_ids:
        expire_claims_of_tenant_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)


@tenant_task(name="alerts.forget_scanned_days_of_tenant", queue="default")
def forget_scanned_days_of_tenant_task(*, tenant_id: int) -> int:
    return forget_scanned(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="alerts.forget_scanned_days", queue="default")
def forget_scanned_days_task() -> int:
    """Beat, every 5 minutes: each tenant with kept dashboard days of coverage."""
    tenant_ids = tenants_with_kept_coverage()
    for tenant_id in tenant_ids:
        forget_scanned_days_of_tenant_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)

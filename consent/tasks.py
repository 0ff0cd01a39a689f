"""Celery entry points of the consent app."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.celery import tenant_task
from compliance_hub.tenancy.models import Tenant

from .services import expire_overdue_consents


@tenant_task(name="consent.expire_overdue", queue="default")
def expire_overdue_consents_task(*, tenant_id: int) -> int:
    return expire_overdue_consents(tenant=Tenant.objects.get(pk=tenant_id))


@shared_task(name="consent.expire_overdue_all", queue="default")
def expire_overdue_for_all_tenants_task() -> None:
    """Beat: fan out one task per active tenant (platform code: lists tenants, reads no content)."""
    for tenant_id in Tenant.objects.filter(status=Tenant.Status.ACTIVE).values_list(
        "pk", flat=True
    ):
        expire_overdue_consents_task.delay(tenant_id=tenant_id)

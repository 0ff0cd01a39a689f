"""Celery entry points of exports: prepare one (the ``exports`` queue), and the beat's expiry of
old files (which also fails exports interrupted by a lost worker)."""

from __future__ import annotations

from celery import shared_task

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Export
from .services import expire_exports, fail_stalled_exports, prepare_export


# Not a TenantTask: that runs the body in one transaction, and the export's progress and its
# "running" mark must be seen while it runs. The service opens the tenant's scopes itself.
@shared_task(name="archive.prepare_export", queue="exports")
def prepare_export_task(*, tenant_id: int, export_id: int) -> str | None:
    """Prepare one export; returns its final status. Idempotent: a finished export is left as
    it is, and a redelivery after a lost worker starts the bag again."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return None
    requester = _requester(tenant=tenant, export_id=export_id)
    export = prepare_export(tenant=tenant, actor=Actor.task(user=requester), export_id=export_id)
    return export.status if export is not None else None


def _requester(*, tenant: Tenant, export_id: int) -> User | None:
    with tenant_scope(tenant):
        user_id = (
            Export.objects.filter(tenant=tenant, pk=export_id)
            .values_list("requested_by", flat=True)
            .first()
        )
    return User.objects.filter(pk=user_id).first() if user_id else None


@shared_task(name="archive.expire_exports", queue="default")
def expire_exports_task(*, tenant_id: int) -> int:
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return 0
    # The same beat also fails exports whose worker died, so none shows "Preparing" forever.
    actor = Actor.system()
    fail_stalled_exports(tenant=tenant, actor=actor)
    return expire_exports(tenant=tenant, actor=actor)


@shared_task(name="archive.expire_all_exports", queue="default")
def expire_all_exports_task() -> int:
    """Beat: one expiry task per active tenant (platform code: lists tenants, reads no content)."""
    tenant_ids = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE).values_list("pk", flat=True)
    )
    for tenant_id in tenant_ids:
        expire_exports_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)

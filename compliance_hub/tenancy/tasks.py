"""The tenant-aware Celery task base."""

from __future__ import annotations

from celery import Task

from .context import tenant_scope
from .models import Tenant


class TenantTask(Task):
    """A task whose first keyword argument ``tenant_id`` names its tenant: the body runs in one
    transaction with that tenant set (ORM scoping and RLS). A suspended or deleted tenant's task
    returns quietly. Declare with ``@app.task(base=TenantTask, ...)`` or :func:`tenant_task`.
    """

    abstract = True

    def __call__(self, *args, tenant_id: int, **kwargs):
        tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
        if tenant is None:
            return None
        with tenant_scope(tenant):
            return super().__call__(*args, tenant_id=tenant_id, **kwargs)

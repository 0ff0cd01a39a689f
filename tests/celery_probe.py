"""A task the test worker loads (``-I tests.celery_probe``) to show what a tenant task sees."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection

from compliance_hub.audit.models import AuditEvent
from compliance_hub.celery import tenant_task


@tenant_task(name="tests.probe_tenant_scope", queue="default")
def probe_tenant_scope_task(*, tenant_id: int, token: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        role = cursor.fetchone()[0]
        cursor.execute("SELECT DISTINCT tenant_id FROM compliance_hub_auditevent")
        raw_tenants = sorted(row[0] for row in cursor.fetchall())
    cache.set(
        f"probe:{token}",
        {
            "role": role,
            "raw_tenants": raw_tenants,
            "orm_tenants": sorted(set(AuditEvent.objects.values_list("tenant_id", flat=True))),
        },
        timeout=300,
    )

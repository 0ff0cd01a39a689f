"""Platform verbs on tenants (operator CLI, Django admin)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event

from .models import Tenant
from .signals import tenant_created


def create_tenant(*, slug: str, name: str, actor: Actor) -> Tenant:
    slug = slug.strip().lower()
    tenant = Tenant(slug=slug, name=name.strip() or slug)
    tenant.full_clean()  # slug format and uniqueness, with a message the CLI can print
    with transaction.atomic():
        tenant.save()
        record_event(
            "tenant.created",
            tenant=tenant,
            actor=actor,
            target=tenant,
            details={"slug": slug},
        )
        tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


def set_tenant_status(*, tenant: Tenant, status: str, actor: Actor) -> Tenant:
    if status not in Tenant.Status.values:
        raise ValidationError(f"Status must be one of {', '.join(Tenant.Status.values)}")
    if tenant.status != status:
        with transaction.atomic():
            before = tenant.status
            tenant.status = status
            tenant.save(update_fields=["status"])
            record_event(
                "tenant.status_changed",
                tenant=tenant,
                actor=actor,
                target=tenant,
                details={"before": before, "after": status},
            )
    return tenant

"""Platform verbs on tenants (operator CLI, Django admin)."""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event

from .models import Tenant
from .signals import tenant_created


def create_tenant(*, slug: str, name: str, actor: Actor, country: str = "") -> Tenant:
    """A new firm; ``country`` (ISO 3166-1 alpha-2, e.g. "DE") is where it is established."""
    slug = slug.strip().lower()
    country = country.strip().upper()
    # phonenumbers' region list is the ISO 3166-1 alpha-2 codes we already depend on.
    if country and country not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            {"country": f"{country!r} is not a country code; use two letters, e.g. DE or GB."}
        )
    tenant = Tenant(slug=slug, name=name.strip() or slug, country=country)
    tenant.full_clean()  # slug format and uniqueness, with a message the CLI can print
    with transaction.atomic():
        tenant.save()
        record_event(
            "tenant.created",
            tenant=tenant,
            actor=actor,
            target=tenant,
            details={"slug": slug, "country": country},
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

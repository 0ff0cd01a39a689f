"""Shared bits of the platform CLIs."""

from __future__ import annotations

from django.core.management.base import CommandError

from compliance_hub.tenancy.models import Role, Tenant

ROLE_CHOICES = list(Role.values)


def tenant_by_slug(slug: str) -> Tenant:
    tenant = Tenant.objects.filter(slug=slug.strip().lower()).first()
    if tenant is None:
        raise CommandError(f"No tenant with slug {slug!r}. Create it with: manage.py create_tenant")
    if not tenant.is_active:
        raise CommandError(f"Tenant {slug!r} is suspended.")
    return tenant

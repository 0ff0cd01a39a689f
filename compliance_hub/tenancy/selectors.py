"""Reads about tenants and memberships (platform tables, always filtered explicitly)."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance_hub.accounts.models import person_or_none

from .models import Membership, Tenant


def active_memberships(user) -> QuerySet[Membership]:
    """The user's memberships in active tenants: what the tenant switcher offers."""
    person = person_or_none(user)  # an API key is no person and has no memberships
    if person is None:
        return Membership.objects.none()
    return (
        Membership.objects.active()
        .filter(user=person)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def resolve_membership(user, preferred_tenant_id: int | None) -> Membership | None:
    """The membership a request acts under: the one the user chose, else their first one."""
    memberships = list(active_memberships(user))
    for membership in memberships:
        if membership.tenant_id == preferred_tenant_id:
            return membership
    return memberships[0] if memberships else None


def tenant_members(*, tenant: Tenant) -> QuerySet[Membership]:
    return Membership.objects.filter(tenant=tenant).select_related("user").order_by("user__email")

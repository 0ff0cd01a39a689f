"""The request a tenant page sees: Django's HttpRequest with what TenantMiddleware puts on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

from .models import Membership, Tenant

if TYPE_CHECKING:
    from compliance_hub.api.models import ApiKey


class ResolvedRequest(HttpRequest):
    """For type checking only (no request is ever built from it): every request after
    TenantMiddleware, which sets ``tenant`` and ``membership`` from the signed-in person's
    membership, or None; ApiKeyAuthentication sets ``api_key`` (and the tenant) on an API call."""

    tenant: Tenant | None
    membership: Membership | None
    api_key: ApiKey | None


class TenantRequest(HttpRequest):
    """For type checking only (no request is ever built from it): the views that
    ``role_required`` or ``RoleRequiredMixin`` guard run only with a membership, so for them
    ``tenant`` and ``membership`` are set. Elsewhere TenantMiddleware leaves them None."""

    tenant: Tenant
    membership: Membership
    api_key: ApiKey | None

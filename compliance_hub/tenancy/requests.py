"""The request a tenant page sees: Django's HttpRequest with what TenantMiddleware puts on it."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Membership, Tenant


class TenantRequest(HttpRequest):
    """For type checking only (no request is ever built from it): the views that
    ``role_required`` or ``RoleRequiredMixin`` guard run only with a membership, so for them
    ``tenant`` and ``membership`` are set. Elsewhere TenantMiddleware leaves them None."""

    tenant: Tenant
    membership: Membership

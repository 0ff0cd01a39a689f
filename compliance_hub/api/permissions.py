"""The one DRF permission class for roles."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from compliance_hub.tenancy.models import Role

ALL_ROLES = tuple(Role.values)


def request_role(request) -> str | None:
    """The role a request acts with: its API key's, or its user's membership in the tenant."""
    django_request = getattr(request, "_request", request)
    api_key = getattr(django_request, "api_key", None)
    if api_key is not None:
        return api_key.role
    membership = getattr(django_request, "membership", None)
    return membership.role if membership is not None else None


class HasTenantRole(BasePermission):
    """Allows a request whose role is in the view's ``allowed_roles`` (reads) and
    ``write_roles`` (unsafe methods; defaults to ``allowed_roles``). A request with no tenant
    (a user without membership) is refused."""

    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        role = request_role(request)
        if role is None:
            self.message = "You are not a member of an active tenant."
            return False
        allowed = getattr(view, "allowed_roles", ALL_ROLES)
        if request.method not in SAFE_METHODS:
            allowed = getattr(view, "write_roles", allowed)
        if role not in allowed:
            self.message = f"The {role} role may not do this."
            return False
        return True

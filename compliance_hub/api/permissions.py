"""The one DRF permission class for roles."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from compliance_hub.accounts.models import User, person_or_none
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.walls import OPEN, REFUSAL, ReaderWall, reader_wall

ALL_ROLES = tuple(Role.values)


def request_role(request) -> str | None:
    """The role a request acts with: its API key's, or its user's membership in the tenant."""
    django_request = getattr(request, "_request", request)
    api_key = getattr(django_request, "api_key", None)
    if api_key is not None:
        return api_key.role
    membership = getattr(django_request, "membership", None)
    return membership.role if membership is not None else None


def request_person(request) -> User | None:
    """The person a request acts for: the signed-in member, or the member an API key was issued
    for (compliance_hub/api/keys.py); None for a key that acts for nobody."""
    django_request = getattr(request, "_request", request)
    api_key = getattr(django_request, "api_key", None)
    if api_key is not None:
        return api_key.user if api_key.user_id is not None else None
    return person_or_none(getattr(django_request, "user", None))


def request_wall(request) -> ReaderWall:
    """The pseudonymised-review wall (compliance_hub/tenancy/walls.py) of an API request: its
    role and the person it acts for."""
    django_request = getattr(request, "_request", request)
    tenant = getattr(django_request, "tenant", None)
    if tenant is None:
        return OPEN
    person = request_person(request)
    return reader_wall(
        tenant=tenant, role=request_role(request), user_id=person.pk if person else None
    )


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


class BehindTheWall(BasePermission):
    """Archive and employee reads for a masked reader (pseudonymised review,
    compliance_hub/tenancy/walls.py): lists are refused; one object is given when it belongs to
    a conversation the reader unmasked through an alert (the view's ``wall_conversation(obj)``
    says which; a view without it refuses every object). ``wall_actions`` names the actions on
    one object (default: retrieve)."""

    message = REFUSAL

    def has_permission(self, request, view) -> bool:
        wall = request_wall(request)
        view.reader_wall = wall  # for has_object_permission, asked once per request
        return not wall.closed or getattr(view, "action", None) in getattr(
            view, "wall_actions", ("retrieve",)
        )

    def has_object_permission(self, request, view, obj) -> bool:
        wall = getattr(view, "reader_wall", None) or request_wall(request)
        if not wall.closed:
            return True
        conversation_of = getattr(view, "wall_conversation", None)
        return conversation_of is not None and wall.opens(conversation_of(obj))

from __future__ import annotations

from django.http import HttpRequest

from .selectors import active_memberships


def tenancy(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "current_role": membership.role if membership else None,
        "switchable_memberships": (
            active_memberships(user) if user is not None and user.is_authenticated else []
        ),
    }

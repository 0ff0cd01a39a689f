from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .selectors import active_memberships
from .walls import request_wall


def tenancy(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "current_role": membership.role if membership else None,
        # The menu leaves out the pages a masked officer would be refused (walls.py); asked
        # only when a template reads it, so pages without the menu pay nothing.
        "reader_walled": SimpleLazyObject(lambda: request_wall(request).closed),
        "switchable_memberships": (
            active_memberships(user) if user is not None and user.is_authenticated else []
        ),
    }

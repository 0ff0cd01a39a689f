"""Role checks for views: one decorator and one mixin, both built on :func:`role_denial`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, Protocol, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse

from .models import Role

ALL_ROLES = tuple(Role.values)

# The role groups, defined once: every page, API view and service that lets "officers" do
# something names one of these, so a new role (the senior officer) is given its rights in one place.
# Officers' work: review alerts, write policies, place legal holds.
REVIEWER_ROLES: tuple[str, ...] = (Role.OFFICER, Role.SENIOR_OFFICER, Role.ADMIN)
# Who reads the archive and the alerts (auditors read, they do not act).
READER_ROLES: tuple[str, ...] = (*REVIEWER_ROLES, Role.AUDITOR)
# The second level of review: escalated (level-2) alerts are seen and worked only by these.
SENIOR_ROLES: tuple[str, ...] = (Role.SENIOR_OFFICER, Role.ADMIN)
# Pseudonymised review is a wall for these (compliance_hub/tenancy/walls.py): in a firm that
# pseudonymises, they read names only through an alert they unmasked. Auditors are never masked;
# admins onboard employees and so know their names (alert pages still mask them).
WALLED_ROLES: tuple[str, ...] = (Role.OFFICER, Role.SENIOR_OFFICER)
# The roles a member may hand to a key acting for them (compliance_hub/api/keys.py): never more
# than their own. An auditor's key reads unmasked, so an officer may not give one to a script.
_ROLES_WITHIN: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Role.values),
    Role.SENIOR_OFFICER: frozenset({Role.SENIOR_OFFICER, Role.OFFICER}),
    Role.OFFICER: frozenset({Role.OFFICER}),
    Role.AUDITOR: frozenset({Role.AUDITOR}),
}


def role_within(role: str, member_role: str | None) -> bool:
    """Whether ``role`` gives no more than ``member_role`` does (None: not a member)."""
    return member_role is not None and role in _ROLES_WITHIN.get(member_role, frozenset())


def role_denial(request: HttpRequest, roles: Iterable[str]) -> HttpResponse | None:
    """None when the request's membership has one of ``roles``; otherwise the answer to give."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = getattr(request, "membership", None)
    if membership is None:
        response = TemplateResponse(request, "tenancy/no_tenant.html", status=403)
        return response
    if membership.role not in roles:
        return TemplateResponse(
            request,
            "403.html",
            {"reason": f"Your role ({membership.get_role_display()}) cannot open this page."},
            status=403,
        )
    return None


class RoleCheckedView(Protocol):
    """A function view behind :func:`role_required`, which names its roles on it."""

    allowed_roles: tuple[str, ...]

    def __call__(self, request: Any, /, *args: Any, **kwargs: Any) -> HttpResponseBase: ...


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponseBase]], RoleCheckedView]:
    """``@role_required(Role.ADMIN)`` on a function view; no arguments means any tenant role."""
    allowed = roles or ALL_ROLES

    def decorator(view: Callable[..., HttpResponseBase]) -> RoleCheckedView:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            denial = role_denial(request, allowed)
            if denial is not None:
                return denial
            return view(request, *args, **kwargs)

        checked = cast(RoleCheckedView, wrapped)
        checked.allowed_roles = allowed
        return checked

    return decorator


# The mixin goes before a Django view class; type checkers see that base, the runtime keeps the
# mixin a plain class (as Django's own access mixins are).
if TYPE_CHECKING:
    from django.views import View

    _ViewBase = View
else:
    _ViewBase = object


class RoleRequiredMixin(_ViewBase):
    """Class-based views: set ``allowed_roles``."""

    allowed_roles: tuple[str, ...] = ALL_ROLES

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        denial = role_denial(request, self.allowed_roles)
        if denial is not None:
            return denial
        return super().dispatch(request, *args, **kwargs)

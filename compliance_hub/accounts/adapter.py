"""allauth adapter: sign-up is by invitation only; failed and throttled logins are audited."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from compliance_hub.audit.services import record_event

from .models import User


def _tenants_of_email(email: str):
    from compliance_hub.tenancy.models import Tenant

    return Tenant.objects.filter(
        memberships__user__email__iexact=email, memberships__is_active=True
    ).distinct()


def record_for_user_tenants(action: str, *, email: str, user=None, request=None, details=None):
    """Write ``action`` into the trail of every tenant the person belongs to (each firm's
    auditor sees its staff's logins), or the platform trail when they belong to none."""
    tenants = list(_tenants_of_email(email)) if email else []
    for tenant in tenants or [None]:
        record_event(
            action,
            tenant=tenant,
            actor=user,
            actor_label=email,
            request=request,
            details=details,
        )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            email = (credentials.get("email") or "").strip().lower()
            record_for_user_tenants(
                "auth.login_throttled",
                email=email,
                request=request,
                details={"reason": "too many failed attempts"},
            )
            raise

    def authentication_failed(self, request, **credentials) -> None:
        email = (credentials.get("email") or "").strip().lower()
        user = User.objects.filter(email__iexact=email).first() if email else None
        record_for_user_tenants(
            "auth.login_failed",
            email=email,
            user=user,
            request=request,
            details={"reason": "wrong password" if user else "unknown address"},
        )

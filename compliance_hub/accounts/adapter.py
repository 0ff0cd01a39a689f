"""allauth adapter: sign-up is by invitation only; failed logins are limited per address and
account (accounts/throttle.py) and audited."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from compliance_hub.audit.actors import Actor, client_ip
from compliance_hub.audit.services import record_event

from . import throttle
from .models import User


def _tenants_of_email(email: str):
    from compliance_hub.tenancy.models import Tenant

    return Tenant.objects.filter(
        memberships__user__email__iexact=email, memberships__is_active=True
    ).distinct()


def record_for_user_tenants(
    action: str, *, email: str, actor: Actor, details: dict[str, Any] | None = None
) -> None:
    """Write ``action`` into the trail of every tenant the person with ``email`` belongs to
    (each firm's auditor sees its staff's logins), or the platform trail when they belong to
    none."""
    tenants = list(_tenants_of_email(email)) if email else []
    for tenant in tenants or [None]:
        record_event(
            action,
            tenant=tenant,
            actor=actor,
            details=details,
        )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # One rule for every address we use: the audit trail's (TRUSTED_PROXY_COUNT).
        address = client_ip(request)
        if not address:
            raise PermissionDenied("Unable to determine the client's address")
        return address

    def pre_authenticate(self, request, **credentials) -> None:
        email = (credentials.get("email") or "").strip().lower()
        self._address_account_usage = throttle.consume_address_account(request, email=email)
        try:
            if self._address_account_usage is None:
                raise self.validation_error("too_many_login_attempts")
            super().pre_authenticate(request, **credentials)  # per address, per account
        except ValidationError:
            if self._address_account_usage is not None:
                self._address_account_usage.rollback()  # this attempt is not made
            lock = throttle.lockout(
                request,
                email=email,
                account_key=self._get_login_attempts_cache_key(request, **credentials),
            )
            throttle.record_lockout(request, lock=lock, email=email)
            raise ValidationError(lock.message(), code="too_many_login_attempts") from None

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        usage = getattr(self, "_address_account_usage", None)
        if user is not None and usage is not None:
            usage.rollback()  # only failures count, as allauth does for its own limits
        return user

    def authentication_failed(self, request, **credentials) -> None:
        email = (credentials.get("email") or "").strip().lower()
        user = User.objects.filter(email__iexact=email).first() if email else None
        record_for_user_tenants(
            "auth.login_failed",
            email=email,
            actor=Actor.visitor(request, label=email, user=user),
            details={"reason": "wrong password" if user else "unknown address"},
        )

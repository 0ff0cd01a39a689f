"""Audit of logins, logouts and MFA changes (connected in ComplianceHubConfig.ready)."""

from __future__ import annotations

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from compliance_hub.audit.actors import Actor

from .adapter import record_for_user_tenants


@receiver(auth_signals.user_logged_in)
def audit_login(sender, request, user, **kwargs) -> None:
    record_for_user_tenants("auth.login", email=user.email, actor=Actor.for_user(user, request))


@receiver(auth_signals.user_logged_out)
def audit_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        record_for_user_tenants(
            "auth.logout", email=user.email, actor=Actor.for_user(user, request)
        )


def _authenticator_event(action: str):
    def handler(sender, request, user, authenticator=None, **kwargs) -> None:
        record_for_user_tenants(
            action,
            email=user.email,
            actor=Actor.for_user(user, request),
            details={"type": getattr(authenticator, "type", "")},
        )

    return handler


_handlers = {
    mfa_signals.authenticator_added: _authenticator_event("mfa.authenticator_added"),
    mfa_signals.authenticator_removed: _authenticator_event("mfa.authenticator_removed"),
    mfa_signals.authenticator_reset: _authenticator_event("mfa.authenticator_reset"),
    mfa_signals.authentication_failed: _authenticator_event("mfa.code_rejected"),
}
for _signal, _handler in _handlers.items():
    _signal.connect(_handler, dispatch_uid=f"audit-{id(_signal)}")

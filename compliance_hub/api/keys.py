"""Issuing, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Membership, Role, Tenant
from compliance_hub.tenancy.roles import role_within

from .models import ApiKey

KEY_PREFIX = "chk"


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class KeyRefused(ValueError):
    """A key that may not be issued; ``str(error)`` is the sentence to show."""


def member_role(*, tenant: Tenant, user: User) -> str | None:
    """The role of ``user``'s active membership in ``tenant`` (None: not an active member)."""
    membership = Membership.objects.active().filter(tenant=tenant, user=user).first()
    return membership.role if membership is not None else None


def issue_api_key(
    *, tenant: Tenant, role: str, name: str, actor: Actor, for_user: User | None = None
) -> IssuedKey:
    """A new key of ``role``. With ``for_user`` the key acts for that member: it may carry no
    more than their own role (compliance_hub.tenancy.roles.role_within), else KeyRefused."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}")
    if for_user is not None:
        own = member_role(tenant=tenant, user=for_user)
        if own is None:
            raise KeyRefused(f"{for_user.email} is not an active member of {tenant.name}.")
        if not role_within(role, own):
            raise KeyRefused(
                f"A key for {for_user.email} may not have the {Role(role).label} role: "
                f"their own role is {Role(own).label}, and a key acts with no more than that."
            )
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            tenant=tenant,
            name=name[:100] or "API key",
            role=role,
            prefix=prefix,
            key_hash=_hash(secret),
            created_by=actor.user,
            user=for_user,
        )
        details = {"role": role, "prefix": prefix}
        if for_user is not None:
            details["for"] = for_user.email
        record_event("api_key.created", tenant=tenant, actor=actor, target=api_key, details=details)
    return IssuedKey(api_key=api_key, plaintext=f"{KEY_PREFIX}_{prefix}_{secret}")


def revoke_api_key(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    if api_key.revoked_at is not None:
        return api_key
    with transaction.atomic():
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        record_event(
            "api_key.revoked",
            tenant=api_key.tenant,
            actor=actor,
            target=api_key,
            details={"prefix": api_key.prefix},
        )
    return api_key


class InvalidApiKey(Exception):
    pass


def authenticate_api_key(plaintext: str) -> ApiKey:
    """The active key for ``plaintext``, or :class:`InvalidApiKey` with a reason safe to show."""
    parts = plaintext.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        raise InvalidApiKey("Malformed API key.")
    _, prefix, secret = parts
    api_key = ApiKey.objects.select_related("tenant", "user").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(secret)):
        raise InvalidApiKey("Invalid API key.")
    if api_key.revoked_at is not None:
        raise InvalidApiKey("This API key has been revoked.")
    if not api_key.tenant.is_active:
        raise InvalidApiKey("This tenant is suspended.")
    if api_key.user is not None and not (
        api_key.user.is_active
        and role_within(api_key.role, member_role(tenant=api_key.tenant, user=api_key.user))
    ):
        # Checked on every call: removing the member or lowering their role stops their keys.
        raise InvalidApiKey(
            "This key acts for a member who is no longer active in the firm or whose role no "
            "longer allows the key's; ask an admin for a new key."
        )
    now = timezone.now()
    # Write last-used at most once a minute: a busy key must not turn every read into a write.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key

"""Issuing, checking and revoking API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Role, Tenant

from .models import ApiKey

KEY_PREFIX = "chk"


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str  # shown once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(*, tenant: Tenant, role: str, name: str, actor: Actor) -> IssuedKey:
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}")
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
        )
        record_event(
            "api_key.created",
            tenant=tenant,
            actor=actor,
            target=api_key,
            details={"role": role, "prefix": prefix},
        )
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
    api_key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, _hash(secret)):
        raise InvalidApiKey("Invalid API key.")
    if api_key.revoked_at is not None:
        raise InvalidApiKey("This API key has been revoked.")
    if not api_key.tenant.is_active:
        raise InvalidApiKey("This tenant is suspended.")
    now = timezone.now()
    # Write last-used at most once a minute: a busy key must not turn every read into a write.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key

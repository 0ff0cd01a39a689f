"""Helpers the topic modules of the services package share."""

from __future__ import annotations

import secrets

from django.conf import settings

from compliance_hub.accounts.models import hash_token


def _token_pair(tenant_id: int) -> tuple[str, str]:
    secret = secrets.token_urlsafe(32)
    return f"{tenant_id}.{secret}", hash_token(secret)


def _absolute(path: str, base_url: str = "") -> str:
    return (base_url.rstrip("/") if base_url else settings.SITE_URL) + path

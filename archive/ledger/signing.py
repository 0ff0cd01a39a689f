"""Each tenant's Ed25519 checkpoint key, and the exact text a checkpoint signature covers."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from django.db import IntegrityError, transaction

from compliance_hub.crypto import decrypt_text, encrypt_text
from compliance_hub.tenancy.models import Tenant

from .canonical import timestamp
from .models import LogSigningKey

NOTE_ORIGIN = "compliance-hub/archive-log/v1"


def checkpoint_note(
    *, tenant_id: int, tenant_slug: str, size: int, root: bytes, signed_at: datetime
) -> bytes:
    """The signed bytes of a checkpoint, one fact per line, in the spirit of a CT signed tree
    head (and C2SP's checkpoint notes): readable by a person, parseable by a script."""
    return (
        f"{NOTE_ORIGIN}\n"
        f"tenant {tenant_id} {tenant_slug}\n"
        f"size {size}\n"
        f"root {root.hex()}\n"
        f"time {timestamp(signed_at)}\n"
    ).encode("ascii")


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def signing_key(tenant: Tenant) -> LogSigningKey:
    """The tenant's key, created on first use (in the caller's tenant scope)."""
    found = LogSigningKey.objects.filter(tenant=tenant).first()
    if found is not None:
        return found
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    try:
        with transaction.atomic():
            return LogSigningKey.objects.create(
                tenant=tenant,
                public_key=raw_public,
                private_key=encrypt_text(base64.b64encode(raw_private).decode()),
                key_id=key_id(raw_public),
            )
    except IntegrityError:  # created by a concurrent run a moment ago
        return LogSigningKey.objects.get(tenant=tenant)


def sign(key: LogSigningKey, message: bytes) -> bytes:
    raw = base64.b64decode(decrypt_text(key.private_key))
    return Ed25519PrivateKey.from_private_bytes(raw).sign(message)


def signature_is_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_pem(public_key: bytes) -> str:
    """SubjectPublicKeyInfo PEM: what ``openssl pkeyutl -verify -pubin`` takes."""
    return (
        Ed25519PublicKey.from_public_bytes(bytes(public_key))
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )

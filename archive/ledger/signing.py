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


ROTATION_ORIGIN = "compliance-hub/archive-log-key/v1"


def rotation_note(
    *, tenant_id: int, sequence: int, previous_key_id: str, public_key: bytes,
    created_at: datetime,
) -> bytes:  # fmt: skip
    """The bytes the previous key signs to introduce key ``sequence`` (by tenant id only: a
    slug may be renamed, an endorsement must stay checkable)."""
    return (
        f"{ROTATION_ORIGIN}\n"
        f"tenant {tenant_id}\n"
        f"key {sequence} {key_id(public_key)}\n"
        f"previous {previous_key_id}\n"
        f"public {base64.b64encode(bytes(public_key)).decode('ascii')}\n"
        f"time {timestamp(created_at)}\n"
    ).encode("ascii")


def _new_key_material() -> tuple[bytes, str]:
    """(raw public key, encrypted private key)."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    raw_public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return raw_public, encrypt_text(base64.b64encode(raw_private).decode())


def signing_key(tenant: Tenant) -> LogSigningKey:
    """The tenant's current key (the newest), key 0 created on first use (in the caller's tenant
    scope)."""
    found = LogSigningKey.objects.filter(tenant=tenant).order_by("-sequence").first()
    if found is not None:
        return found
    raw_public, private = _new_key_material()
    try:
        with transaction.atomic():
            return LogSigningKey.objects.create(
                tenant=tenant, sequence=0, public_key=raw_public, private_key=private,
                key_id=key_id(raw_public),
            )  # fmt: skip
    except IntegrityError:  # created by a concurrent run a moment ago
        return LogSigningKey.objects.get(tenant=tenant, sequence=0)


def add_rotated_key(tenant: Tenant, previous: LogSigningKey, now: datetime) -> LogSigningKey:
    """Key ``previous.sequence + 1``, endorsed by ``previous`` (the caller holds the tenant's log
    head lock, so no checkpoint is signed meanwhile)."""
    raw_public, private = _new_key_material()
    sequence = previous.sequence + 1
    note = rotation_note(
        tenant_id=tenant.pk, sequence=sequence, previous_key_id=previous.key_id,
        public_key=raw_public, created_at=now,
    )  # fmt: skip
    return LogSigningKey.objects.create(
        tenant=tenant, sequence=sequence, public_key=raw_public, private_key=private,
        key_id=key_id(raw_public), created_at=now, endorsement=sign(previous, note),
    )  # fmt: skip


def endorsement_is_valid(
    *, tenant_id: int, sequence: int, public_key: bytes, created_at: datetime,
    endorsement: bytes, previous_key_id: str, previous_public_key: bytes,
) -> bool:  # fmt: skip
    """Whether the previous key introduced this one (works from an anchored document too)."""
    note = rotation_note(
        tenant_id=tenant_id, sequence=sequence, previous_key_id=previous_key_id,
        public_key=public_key, created_at=created_at,
    )  # fmt: skip
    return signature_is_valid(bytes(previous_public_key), note, bytes(endorsement))


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

"""Rotating a tenant's checkpoint key: the old key endorses the new one, the anchors carry the
endorsement, what the old key signed still verifies, and a key slipped in without an
endorsement, or an old key signing after its retirement, is caught by verify_archive."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from archive.ledger.models import LogCheckpoint, LogSigningKey
from archive.ledger.services import checkpoint_and_anchor, signing_keys
from archive.ledger.signing import (
    checkpoint_note,
    endorsement_is_valid,
    key_id,
    sign,
    signature_is_valid,
)
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import archive_sample, employee_of, tamper

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture
def rotated(tenant_a):
    """Checkpoints by key #0, a rotation, then more records checkpointed by key #1."""
    ana = employee_of(tenant_a)
    archive_sample(tenant_a, ana, count=3)
    checkpoint_and_anchor(tenant=tenant_a)
    out = StringIO()
    call_command("rotate_log_key", tenant_a.slug, "--reason", "yearly rotation", stdout=out)
    assert "checkpoint key #1 is current" in out.getvalue()
    archive_sample(tenant_a, ana, start=3, count=2)
    checkpoint_and_anchor(tenant=tenant_a)
    return ana


def verify(tenant, *args) -> str:
    out = StringIO()
    call_command("verify_archive", tenant.slug, *args, stdout=out)
    return out.getvalue()


def verify_fails(tenant) -> str:
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant.slug, stdout=out)
    return out.getvalue()


def test_the_new_key_is_endorsed_by_the_old_and_everything_still_verifies(
    tenant_a, rotated, anchor_dir
):
    old, new = signing_keys(tenant=tenant_a)
    assert (old.sequence, new.sequence) == (0, 1)
    assert endorsement_is_valid(
        tenant_id=tenant_a.pk, sequence=1, public_key=bytes(new.public_key),
        created_at=new.created_at, endorsement=bytes(new.endorsement),
        previous_key_id=old.key_id, previous_public_key=bytes(old.public_key),
    )  # fmt: skip
    with tenant_scope(tenant_a):
        by_key = {c.key_id for c in LogCheckpoint.objects.all()}
        [event] = AuditEvent.objects.filter(action="ledger.key_rotated")
    assert by_key == {old.pk, new.pk}, "checkpoints of both keys"
    assert event.details["reason"] == "yearly rotation"
    assert event.details["previous_key_id"] == old.key_id and event.details["sequence"] == 1

    assert "OK:" in verify(tenant_a, "--all-anchors")
    keys = verify(tenant_a, "--public-key")
    assert "key #0" in keys and "(retired" in keys and "key #1" in keys and "(current" in keys
    assert keys.count("-----BEGIN PUBLIC KEY-----") == 2


def test_an_anchored_checkpoint_of_the_new_key_proves_the_rotation_by_itself(
    tenant_a, rotated, anchor_dir
):
    documents = [json.loads(p.read_text()) for p in sorted(anchor_dir.rglob("*.json"))]
    old_docs = [d for d in documents if "key_sequence" not in d]
    new_docs = [d for d in documents if d.get("key_sequence") == 1]
    assert old_docs and new_docs, "documents of key #0 keep their form"
    newest = new_docs[-1]
    public = base64.b64decode(newest["public_key"])
    # With the document alone: the checkpoint is signed by the new key...
    assert signature_is_valid(
        public, newest["signed_note"].encode(), base64.b64decode(newest["signature"])
    )
    # ...which the old key (the one auditors already hold) endorsed.
    assert newest["previous_key_id"] == old_docs[0]["key_id"]
    assert newest["previous_public_key"] == old_docs[0]["public_key"]
    from archive.ledger.anchor_checks import parse_time

    assert endorsement_is_valid(
        tenant_id=tenant_a.pk, sequence=1, public_key=public,
        created_at=parse_time(newest["key_created"]),
        endorsement=base64.b64decode(newest["key_endorsement"]),
        previous_key_id=newest["previous_key_id"],
        previous_public_key=base64.b64decode(newest["previous_public_key"]),
    )  # fmt: skip


def test_a_key_slipped_in_without_an_endorsement_is_caught(tenant_a, rotated):
    """Someone with the database's keys adds their own key #2 and signs with it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from compliance_hub.crypto import encrypt_text

    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    tamper(
        tenant_a,
        "archive_logsigningkey",
        "INSERT INTO archive_logsigningkey (tenant_id, sequence, public_key, private_key, key_id,"
        " created_at, endorsement) VALUES (%s, 2, %s, %s, %s, now(), %s)",
        [tenant_a.pk, public, encrypt_text(base64.b64encode(raw_private).decode()),
         key_id(public), b"\x00" * 64],
    )  # fmt: skip
    output = verify_fails(tenant_a)
    assert "checkpoint key #2" in output and "is not endorsed by key #1" in output


def test_the_old_key_signing_after_its_retirement_is_caught(tenant_a, rotated):
    """A stolen old key signs a checkpoint dated after the rotation: its signature is valid,
    but the key was no longer the tenant's."""
    old, new = signing_keys(tenant=tenant_a)
    with tenant_scope(tenant_a):
        latest = LogCheckpoint.objects.order_by("-signed_at").first()
    forged_at = latest.signed_at + timedelta(seconds=1)
    note = checkpoint_note(
        tenant_id=tenant_a.pk, tenant_slug=tenant_a.slug, size=latest.size,
        root=bytes(latest.root_hash), signed_at=forged_at,
    )  # fmt: skip
    with tenant_scope(tenant_a):
        key0 = LogSigningKey.objects.get(sequence=0)
    tamper(
        tenant_a,
        "archive_logcheckpoint",
        "INSERT INTO archive_logcheckpoint (tenant_id, tenant_slug, size, root_hash, signed_at,"
        " key_id, signature) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [tenant_a.pk, tenant_a.slug, latest.size, bytes(latest.root_hash), forged_at, old.pk,
         sign(key0, note)],
    )  # fmt: skip
    output = verify_fails(tenant_a)
    assert "with key #0, which was not the tenant's key at that time" in output
    assert new.sequence == 1

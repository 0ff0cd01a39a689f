"""The Merkle log in the normal flows: every archived message and event and every audit entry
becomes a leaf; the checkpoint task signs the tree and anchors a copy outside the database;
proofs for exports come out of the stored tree and verify."""

from __future__ import annotations

import base64
import json
import stat
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.conf import settings

from archive.ledger import merkle
from archive.ledger.anchors import AnchorConflict, FolderAnchor
from archive.ledger.canonical import canonical_bytes
from archive.ledger.models import (
    LogCheckpoint,
    LogHead,
    LogLeaf,
    LogNode,
    LogSigningKey,
    PendingLeaf,
    Tombstone,
)
from archive.ledger.services import (
    LogIntegrityError,
    NotInLog,
    anchor_checkpoints,
    checkpoint_and_anchor,
    checkpoint_log,
    consistency_proof,
    inclusion_proof,
    log_records,
    record_tombstone,
)
from archive.ledger.signing import public_key_pem
from archive.ledger.tasks import checkpoint_all_logs_task, checkpoint_log_task
from archive.models import Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.crypto import decrypt_text
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import MOMENT, archive_sample, as_owner, tamper

pytestmark = pytest.mark.usefixtures("anchor_dir")


def leaves_of(tenant) -> list[tuple[str, int]]:
    with tenant_scope(tenant):
        return list(LogLeaf.objects.order_by("leaf_index").values_list("record_table", "record_id"))


def queued(tenant) -> set[tuple[str, int]]:
    with tenant_scope(tenant):
        return set(PendingLeaf.objects.values_list("record_table", "record_id"))


# --- Leaves in the normal flows


def test_archived_messages_and_events_are_queued_at_once_and_sequenced_at_the_checkpoint(
    tenant_a, ana
):
    archive_sample(tenant_a, ana, count=3)
    with tenant_scope(tenant_a):
        messages = list(Message.objects.order_by("pk").values_list("pk", flat=True))
        events = list(MessageEvent.objects.order_by("pk").values_list("pk", flat=True))
    expected = {("archive.message", pk) for pk in messages} | {
        ("archive.messageevent", pk) for pk in events
    }
    assert expected <= queued(tenant_a)
    assert leaves_of(tenant_a) == []  # indexes are given by the checkpoint task

    checkpoint = checkpoint_and_anchor(tenant=tenant_a)

    logged = leaves_of(tenant_a)
    assert expected <= set(logged)
    assert queued(tenant_a) == set()
    assert checkpoint.size == len(logged)
    # Messages before their events: the order they were archived in.
    positions = {record: index for index, record in enumerate(logged)}
    assert max(positions[("archive.message", pk)] for pk in messages) < min(
        positions[("archive.messageevent", pk)] for pk in events
    )


def test_a_leaf_is_the_hash_of_the_records_canonical_bytes(tenant_a, ana):
    archive_sample(tenant_a, ana, count=1)
    checkpoint_log(tenant=tenant_a)
    with tenant_scope(tenant_a):
        message = Message.objects.select_related("conversation").get()
        leaf = LogLeaf.objects.get(record_table="archive.message", record_id=message.pk)
    data = canonical_bytes(
        tenant_id=tenant_a.pk,
        table="archive.message",
        record_id=message.pk,
        values={
            "conversation_id": message.conversation_id,
            "conversation__employee_id": message.conversation.employee_id,
            "conversation__business_phone_number_id": message.conversation.business_phone_number_id,
            "conversation__counterparty_key": message.conversation.counterparty_key,
            **{
                name: getattr(message, name)
                for name in ("employee_id", "delivery_id", "wamid", "direction", "type",
                             "whatsapp_timestamp", "received_at", "text", "structured",
                             "context", "is_history", "flags", "raw")
            },
        },
    )  # fmt: skip
    assert bytes(leaf.leaf_hash) == merkle.leaf_hash(data)
    document = json.loads(data)
    assert document["table"] == "archive.message" and document["tenant"] == tenant_a.pk
    assert document["fields"]["text"].startswith("Mensagem 0: ações")
    assert document["fields"]["whatsapp_timestamp"] == "2026-03-02T09:30:00.000000Z"


def test_the_canonical_form_is_pinned():
    """Changing these bytes breaks every log ever signed: add a new form instead."""
    from datetime import UTC, datetime

    data = canonical_bytes(
        tenant_id=7,
        table="archive.messageevent",
        record_id=42,
        values={
            "kind": "reaction",
            "event_key": "reaction:x",
            "target_wamid": "wamid.A",
            "direction": "inbound",
            "whatsapp_timestamp": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "received_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "payload": {"z": 1, "emoji": "👍", "a": [1.5, None, True]},
            "delivery_id": None,
            "raw": {},
            "ignored": "extra keys are not part of the form",
        },
    )
    assert (
        data
        == (
            '{"fields":{"delivery_id":null,"direction":"inbound","event_key":"reaction:x",'
            '"kind":"reaction","payload":{"a":[1.5,null,true],"emoji":"👍","z":1},"raw":{},'
            '"received_at":"2026-01-02T03:04:05.000000Z","target_wamid":"wamid.A",'
            '"whatsapp_timestamp":"2026-01-02T03:04:05.000006Z"},"form":1,"id":42,'
            '"table":"archive.messageevent","tenant":7}'
        ).encode()
    )


def test_archiving_the_same_messages_again_queues_nothing_twice(tenant_a, ana):
    archive_sample(tenant_a, ana, count=2)
    archive_sample(tenant_a, ana, count=2)
    checkpoint_log(tenant=tenant_a)
    archive_sample(tenant_a, ana, count=2)  # a redelivery after the checkpoint
    assert queued(tenant_a) == set()
    logged = leaves_of(tenant_a)
    assert len(logged) == len(set(logged))


def test_a_record_queued_again_after_it_was_logged_is_not_logged_twice(tenant_a, ana):
    """What a concurrent duplicate (two workers, the same message) can leave behind."""
    archive_sample(tenant_a, ana, count=2)
    first = checkpoint_log(tenant=tenant_a)
    with tenant_scope(tenant_a):
        log_records(tenant=tenant_a, records=Message.objects.all())
    assert len(queued(tenant_a)) == 2
    checkpoint_log(tenant=tenant_a, force=True)
    assert queued(tenant_a) == set()
    assert len(leaves_of(tenant_a)) == first.size


def test_every_tenant_audit_entry_is_a_leaf_and_the_platform_trail_is_not(tenant_a):
    event = record_event("membership.created", tenant=tenant_a, actor=Actor.command("alice"))
    platform = record_event("auth.login_failed", tenant=None, actor=Actor.command("nobody@x"))
    assert ("compliance_hub.auditevent", event.pk) in queued(tenant_a)
    checkpoint_log(tenant=tenant_a)
    assert ("compliance_hub.auditevent", event.pk) in leaves_of(tenant_a)
    assert ("compliance_hub.auditevent", platform.pk) not in leaves_of(tenant_a)


def test_a_failed_audit_write_leaves_no_leaf_behind(tenant_a):
    from django.db import transaction

    before = queued(tenant_a)
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event("test.rolled_back", tenant=tenant_a, actor=Actor.command("x"))
        raise RuntimeError("the action failed")
    assert queued(tenant_a) == before


def test_records_that_predate_the_log_are_adopted_when_it_begins(tenant_a, ana):
    archive_sample(tenant_a, ana, count=2)
    with tenant_scope(tenant_a):
        PendingLeaf.objects.all().delete()  # as if archived before the log existed
    checkpoint_log(tenant=tenant_a)
    with tenant_scope(tenant_a):
        expected = set(Message.objects.values_list("pk", flat=True))
    assert {pk for table, pk in leaves_of(tenant_a) if table == "archive.message"} == expected


# --- Checkpoints: signed, anchored, at least every few minutes


def test_a_checkpoint_is_signed_with_the_tenants_key_and_anchored_as_a_file(
    tenant_a, ana, anchor_dir
):
    archive_sample(tenant_a, ana, count=3)
    checkpoint = checkpoint_and_anchor(tenant=tenant_a)

    with tenant_scope(tenant_a):
        key = LogSigningKey.objects.get()
        head = LogHead.objects.get()
    assert head.size == checkpoint.size and head.anchored_checkpoint_id == checkpoint.pk
    # The private key is stored encrypted, never in the clear.
    assert len(base64.b64decode(decrypt_text(key.private_key))) == 32
    assert base64.b64encode(base64.b64decode(decrypt_text(key.private_key))).decode() not in (
        key.private_key
    )

    files = sorted((anchor_dir / str(tenant_a.pk)).rglob("*.json"))
    assert len(files) == 1
    assert not files[0].stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    document = json.loads(files[0].read_text())
    assert document["tenant"] == "firm-a" and document["tenant_id"] == tenant_a.pk
    assert document["size"] == checkpoint.size
    assert document["root"] == bytes(checkpoint.root_hash).hex()
    assert document["time"].endswith("Z")
    # Anyone holding the file checks it with the public key in it, and nothing else.
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(document["public_key"]))
    public.verify(base64.b64decode(document["signature"]), document["signed_note"].encode())
    assert document["signed_note"].splitlines() == [
        "compliance-hub/archive-log/v1",
        f"tenant {tenant_a.pk} firm-a",
        f"size {checkpoint.size}",
        f"root {document['root']}",
        f"time {document['time']}",
    ]
    # ... and the key is the one the tenant can export.
    pem = load_pem_public_key(public_key_pem(bytes(key.public_key)).encode())
    assert pem.public_bytes_raw() == bytes(key.public_key)
    # The root is the tree of the records' leaves.
    with tenant_scope(tenant_a):
        hashes = [bytes(h) for h in LogLeaf.objects.order_by("leaf_index").values_list(
            "leaf_hash", flat=True)]  # fmt: skip
    assert merkle.root(hashes) == bytes(checkpoint.root_hash)


def test_an_unchanged_log_is_signed_again_before_five_minutes_pass(tenant_a, ana, settings):
    archive_sample(tenant_a, ana, count=1)
    first = checkpoint_log(tenant=tenant_a)
    assert checkpoint_log(tenant=tenant_a) is None  # nothing new, and the last one is fresh
    with as_owner(tenant_a) as cursor:  # let time pass
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE archive_logcheckpoint DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE archive_logcheckpoint SET signed_at = signed_at - interval '4 minutes'"
        )
        cursor.execute("ALTER TABLE archive_logcheckpoint ENABLE TRIGGER USER")
    assert settings.LEDGER_CHECKPOINT_MAX_AGE == 300
    again = checkpoint_log(tenant=tenant_a)
    assert again is not None and again.size == first.size
    assert bytes(again.root_hash) == bytes(first.root_hash)


def test_the_beat_task_checkpoints_every_active_tenant(tenant_a, tenant_b, ana, monkeypatch):
    archive_sample(tenant_a, ana, count=1)
    sent = []
    monkeypatch.setattr(checkpoint_log_task, "delay", lambda **kw: sent.append(kw))
    assert checkpoint_all_logs_task() >= 2
    assert {"tenant_id": tenant_a.pk} in sent and {"tenant_id": tenant_b.pk} in sent
    assert checkpoint_log_task(tenant_id=tenant_a.pk) >= 2
    assert "archive-checkpoint-logs" in settings.CELERY_BEAT_SCHEDULE
    schedule = settings.CELERY_BEAT_SCHEDULE["archive-checkpoint-logs"]["schedule"]
    assert schedule <= timedelta(minutes=5)


def test_the_checkpoint_task_refuses_to_extend_a_head_that_was_tampered_with(tenant_a, ana):
    archive_sample(tenant_a, ana, count=2)
    checkpoint_log(tenant=tenant_a)
    tamper(
        tenant_a,
        "archive_loghead",
        "UPDATE archive_loghead SET frontier = decode(repeat('00', octet_length(frontier)), 'hex')",
    )
    archive_sample(tenant_a, ana, start=2, count=1)
    with pytest.raises(LogIntegrityError, match="disagrees with its latest signed checkpoint"):
        checkpoint_log(tenant=tenant_a)


def test_a_new_log_is_not_started_over_an_anchored_history(tenant_a, ana):
    archive_sample(tenant_a, ana, count=1)
    checkpoint_and_anchor(tenant=tenant_a)
    # Someone empties the head (and could the rest): the anchors still remember.
    with as_owner(tenant_a) as cursor:
        cursor.execute("DELETE FROM archive_loghead")
    with pytest.raises(LogIntegrityError, match="anchored checkpoints but no head"):
        checkpoint_log(tenant=tenant_a)


def test_anchoring_is_write_once(tenant_a, ana, anchor_dir):
    archive_sample(tenant_a, ana, count=1)
    checkpoint_and_anchor(tenant=tenant_a)
    (path,) = (anchor_dir / str(tenant_a.pk)).rglob("*.json")
    document = json.loads(path.read_text())
    anchor = FolderAnchor(anchor_dir)
    assert anchor.put(document) == str(path)  # the same again: fine
    forged = {**document, "root": "00" * 32}
    with pytest.raises(AnchorConflict):
        anchor.put(forged)
    assert json.loads(path.read_text()) == document
    assert anchor.latest(tenant_id=tenant_a.pk).document == document
    assert anchor_checkpoints(tenant=tenant_a) == 0  # nothing left to anchor


# --- Proofs for exports


def test_inclusion_and_consistency_proofs_come_from_the_stored_tree_and_verify(tenant_a):
    with tenant_scope(tenant_a):
        AuditEvent.objects.bulk_create(
            AuditEvent(tenant=tenant_a, action="test.bulk", actor_label=f"n{n}") for n in range(300)
        )
        log_records(tenant=tenant_a, records=AuditEvent.objects.all())
    first = checkpoint_log(tenant=tenant_a)
    with tenant_scope(tenant_a):
        AuditEvent.objects.bulk_create(
            AuditEvent(tenant=tenant_a, action="test.more", actor_label=f"m{n}") for n in range(333)
        )
        log_records(tenant=tenant_a, records=AuditEvent.objects.filter(action="test.more"))
    second = checkpoint_log(tenant=tenant_a)
    # (the tenant's creation wrote a few audit entries of its own first)
    assert first.size >= 300 and second.size == first.size + 333
    size = second.size
    with tenant_scope(tenant_a):
        assert LogNode.objects.filter(level=8).count() == size // 256  # one per 256 leaves
        rows = list(LogLeaf.objects.order_by("leaf_index").values_list("record_id", "leaf_hash"))
    hashes = [bytes(h) for _, h in rows]
    for index in (0, 1, 255, 256, first.size - 1, first.size, 511, 512, size - 1):
        record_id = rows[index][0]
        proof = inclusion_proof(
            tenant=tenant_a, record_table="compliance_hub.auditevent", record_id=record_id
        )
        assert proof.leaf_index == index and proof.tree_size == size
        assert proof.path == merkle.inclusion_path(index, size, merkle.subtree_of(hashes))
        assert proof.verify()
        assert proof.as_dict()["root"] == bytes(second.root_hash).hex()
    old = inclusion_proof(
        tenant=tenant_a,
        record_table="compliance_hub.auditevent",
        record_id=rows[17][0],
        checkpoint=first,
    )
    assert old.tree_size == first.size and old.verify()
    with pytest.raises(NotInLog):
        inclusion_proof(
            tenant=tenant_a,
            record_table="compliance_hub.auditevent",
            record_id=rows[first.size + 1][0],
            checkpoint=first,
        )
    proof = consistency_proof(tenant=tenant_a, first=first, second=second)
    assert proof.verify()
    assert proof.path == merkle.consistency_path(first.size, size, merkle.subtree_of(hashes))


def test_a_record_not_yet_checkpointed_has_no_proof_yet(tenant_a, ana):
    archive_sample(tenant_a, ana, count=1)
    checkpoint_log(tenant=tenant_a)
    archive_sample(tenant_a, ana, start=1, count=1)
    with tenant_scope(tenant_a):
        newest = Message.objects.order_by("-pk").first()
    with pytest.raises(NotInLog):
        inclusion_proof(tenant=tenant_a, record_table="archive.message", record_id=newest.pk)


# --- Tombstones


def test_a_tombstone_keeps_the_leaf_hash_and_is_itself_logged_and_audited(tenant_a, ana):
    archive_sample(tenant_a, ana, count=2)
    checkpoint_log(tenant=tenant_a)
    with tenant_scope(tenant_a):
        message = Message.objects.order_by("pk").first()
        leaf = LogLeaf.objects.get(record_table="archive.message", record_id=message.pk)
    tombstone = record_tombstone(
        tenant=tenant_a,
        record_table="archive.message",
        record_id=message.pk,
        reason="retention: 5 years elapsed",
        actor=Actor.system(),
    )
    assert bytes(tombstone.leaf_hash) == bytes(leaf.leaf_hash)
    assert tombstone.leaf_index == leaf.leaf_index
    assert ("archive.tombstone", tombstone.pk) in queued(tenant_a)
    with tenant_scope(tenant_a):
        audited = AuditEvent.objects.get(action="archive.record_tombstoned")
    assert audited.details["leaf_hash"] == bytes(leaf.leaf_hash).hex()
    again = record_tombstone(
        tenant=tenant_a,
        record_table="archive.message",
        record_id=message.pk,
        reason="again",
        actor=Actor.system(),
    )
    assert again.pk == tombstone.pk
    with tenant_scope(tenant_a):
        assert Tombstone.objects.count() == 1


def test_nothing_leaks_between_tenants_logs(tenant_a, tenant_b, ana):
    archive_sample(tenant_a, ana, count=2)
    record_event("test.b", tenant=tenant_b, actor=Actor.command("b"))
    checkpoint_log(tenant=tenant_a)
    checkpoint_log(tenant=tenant_b)
    assert all(table != "archive.message" for table, _ in leaves_of(tenant_b))
    with tenant_scope(tenant_b):
        assert LogCheckpoint.objects.count() == 1
        assert not LogLeaf.objects.filter(tenant=tenant_a).exists()


def test_call_records_are_leaves_when_their_writer_logs_them(tenant_a, ana):
    """Call records are archived by ingestion; its writer must log them as archive_messages
    does, and verification reports any it did not."""
    from archive.ledger.verification import verify_log
    from archive.models import CallRecord

    def call(key: str) -> CallRecord:
        return CallRecord.objects.create(
            tenant=tenant_a,
            employee=ana,
            event_key=key,
            call_id=key,
            event="terminate",
            business_phone_number_id=ana.whatsapp_phone_number_id,
            whatsapp_timestamp=MOMENT,
            duration_seconds=61,
        )

    with tenant_scope(tenant_a):
        logged = call("call:logged")
        log_records(tenant=tenant_a, records=CallRecord.objects.filter(pk=logged.pk))
    checkpoint_and_anchor(tenant=tenant_a)  # (an earlier, unlogged one would be adopted here)
    assert ("archive.callrecord", logged.pk) in leaves_of(tenant_a)
    with tenant_scope(tenant_a):
        forgotten = call("call:forgotten")
    report = verify_log(tenant=tenant_a)
    assert [(p.kind, p.table, p.record_id) for p in report.problems] == [
        ("inserted", "archive.callrecord", forgotten.pk)
    ]

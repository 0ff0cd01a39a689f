"""``manage.py verify_archive SLUG``: a clean archive verifies; a row edited, deleted or inserted
behind the application's back, by the tables' owner with the append-only triggers switched off
(what a superuser does with ``session_replication_role = replica``), does not, and the first bad
leaf is named. So does a rewritten log table, a truncated log, a checkpoint whose anchored copy
disagrees, and a tombstone that changed the leaf hash; an honest tombstone still verifies."""

from __future__ import annotations

import json
import os
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from archive.ledger import merkle
from archive.ledger.models import LogCheckpoint, LogLeaf, PendingLeaf, Tombstone
from archive.ledger.services import (
    checkpoint_and_anchor,
    record_leaf_hash,
    record_rows,
    record_tombstone,
)
from archive.ledger.verification import verify_log
from archive.models import Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.ledger_helpers import archive_sample, as_owner, employee_of, tamper
from tests.database import attempt

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture
def archived(tenant_a):
    """Firm A's archive: six messages with a reaction each and an audit entry, checkpointed and
    anchored, then two more messages checkpointed later (two signed tree sizes)."""
    ana = employee_of(tenant_a)
    archive_sample(tenant_a, ana, count=6)
    record_event("archive.exported", tenant=tenant_a, actor=Actor.command("audrey"))
    checkpoint_and_anchor(tenant=tenant_a)
    archive_sample(tenant_a, ana, start=6, count=2)
    checkpoint_and_anchor(tenant=tenant_a)
    return ana


def verify(slug: str = "firm-a") -> str:
    out = StringIO()
    call_command("verify_archive", slug, stdout=out)
    return out.getvalue()


def verify_fails(slug: str = "firm-a") -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_archive", slug, stdout=out)
    assert failure.value.returncode == 1
    return str(failure.value), out.getvalue()


def leaf_of(tenant, table: str, record_id: int) -> LogLeaf:
    with tenant_scope(tenant):
        return LogLeaf.objects.get(record_table=table, record_id=record_id)


def nth_message(tenant, n: int) -> Message:
    with tenant_scope(tenant):
        return Message.objects.order_by("pk")[n]


def test_a_clean_archive_verifies(tenant_a, archived):
    output = verify()
    assert "OK:" in output
    with tenant_scope(tenant_a):
        size = LogLeaf.objects.count()
    assert f"Archive log of firm-a: {size} leaves, 0 queued" in output
    assert "2 checkpoints" in output
    # The run is itself in the audit trail (a leaf of the next checkpoint).
    with tenant_scope(tenant_a):
        run = AuditEvent.objects.get(action="archive.verified")
    assert run.details["ok"] is True
    # ... and the queued leaf of that audit entry verifies too.
    assert "OK:" in verify()


def test_an_unknown_tenant_is_a_clear_error(db):
    with pytest.raises(CommandError, match="no tenant 'nobody'") as failure:
        call_command("verify_archive", "nobody", stdout=StringIO())
    assert failure.value.returncode == 2


def test_the_public_key_is_exportable(tenant_a, archived):
    out = StringIO()
    call_command("verify_archive", "firm-a", "--public-key", stdout=out)
    assert "-----BEGIN PUBLIC KEY-----" in out.getvalue()


def test_a_row_edited_by_the_owner_with_triggers_off_is_named(tenant_a, archived):
    message = nth_message(tenant_a, 2)
    update = "UPDATE archive_message SET text = 'Vendi tudo' WHERE id = %s"
    # The application role may not, and the owner may not while the triggers are on...
    with tenant_scope(tenant_a):
        assert "permission denied" in attempt(update, [message.pk])
    with as_owner(tenant_a):
        assert "append-only" in attempt(update, [message.pk])
    # ... but the owner can switch them off, as a superuser can: the protection is bypassed.
    assert tamper(tenant_a, "archive_message", update, [message.pk]) == 1
    assert nth_message(tenant_a, 2).text == "Vendi tudo"

    leaf = leaf_of(tenant_a, "archive.message", message.pk)
    error, output = verify_fails()
    assert f"leaf {leaf.leaf_index} (archive.message {message.pk}): edited" in error
    assert f"first bad leaf: leaf {leaf.leaf_index} (archive.message {message.pk}): edited" in (
        output
    )
    assert "NOT OK" in output


def test_an_event_and_an_audit_entry_edited_are_caught_too(tenant_a, archived):
    with tenant_scope(tenant_a):
        event = MessageEvent.objects.order_by("pk")[4]
        audit = AuditEvent.objects.get(action="archive.exported")
    tamper(
        tenant_a,
        "archive_messageevent",
        """UPDATE archive_messageevent SET payload = '{"emoji": "👎"}' WHERE id = %s""",
        [event.pk],
    )
    tamper(
        tenant_a,
        "compliance_hub_auditevent",
        "UPDATE compliance_hub_auditevent SET actor_label = 'someone else' WHERE id = %s",
        [audit.pk],
    )
    report = verify_log(tenant=tenant_a)
    edited = {(p.table, p.record_id) for p in report.problems if p.kind == "edited"}
    assert edited == {
        ("archive.messageevent", event.pk),
        ("compliance_hub.auditevent", audit.pk),
    }
    first = min(
        leaf_of(tenant_a, "archive.messageevent", event.pk).leaf_index,
        leaf_of(tenant_a, "compliance_hub.auditevent", audit.pk).leaf_index,
    )
    assert report.first_bad.leaf_index == first


def test_a_row_deleted_by_the_owner_with_triggers_off_is_named(tenant_a, archived):
    message = nth_message(tenant_a, 1)
    delete = "DELETE FROM archive_message WHERE id = %s"
    with as_owner(tenant_a):
        assert "append-only" in attempt(delete, [message.pk])
    assert tamper(tenant_a, "archive_message", delete, [message.pk]) == 1

    leaf = leaf_of(tenant_a, "archive.message", message.pk)
    error, _ = verify_fails()
    assert f"leaf {leaf.leaf_index} (archive.message {message.pk}): deleted" in error


def test_a_row_inserted_behind_the_archives_back_is_named(tenant_a, archived):
    original = nth_message(tenant_a, 0)
    with as_owner(tenant_a) as cursor:
        cursor.execute(
            "INSERT INTO archive_message (tenant_id, conversation_id, employee_id, wamid,"
            " direction, type, whatsapp_timestamp, received_at, text, structured, context,"
            " is_history, flags, raw)"
            " SELECT tenant_id, conversation_id, employee_id, 'wamid.FORGED', direction, type,"
            " whatsapp_timestamp, received_at, 'Combinado, compre', structured, context,"
            " is_history, flags, raw FROM archive_message WHERE id = %s RETURNING id",
            [original.pk],
        )
        forged = cursor.fetchone()[0]
    error, _ = verify_fails()
    assert f"archive.message {forged}: inserted" in error
    assert "not in the log" in error


def test_a_rewritten_log_table_is_caught_by_the_signed_roots(tenant_a, archived):
    """Whoever edits a record and also its leaf hash gets past the record check, not past the
    signed checkpoints: the range between the last root that still holds and the first that
    does not is named."""
    with tenant_scope(tenant_a):
        first_checkpoint = LogCheckpoint.objects.order_by("signed_at").first()
    message = nth_message(tenant_a, 7)  # archived after the first checkpoint
    tamper(
        tenant_a,
        "archive_message",
        "UPDATE archive_message SET text = 'rewritten' WHERE id = %s",
        [message.pk],
    )
    with tenant_scope(tenant_a):
        row = record_rows("archive.message", Message.objects.filter(pk=message.pk))[0]
    forged = record_leaf_hash(tenant_id=tenant_a.pk, table="archive.message", row=row)
    tamper(
        tenant_a,
        "archive_logleaf",
        "UPDATE archive_logleaf SET leaf_hash = %s WHERE record_table = 'archive.message'"
        " AND record_id = %s",
        [forged, message.pk],
    )
    report = verify_log(tenant=tenant_a)
    assert [p.kind for p in report.problems if p.kind == "edited"] == []
    (root,) = [p for p in report.problems if p.kind == "root"]
    assert root.leaf_index == first_checkpoint.size
    assert root.last_index == report.leaves - 1
    assert str(root).startswith(f"leaves {first_checkpoint.size}..{report.leaves - 1}: root:")
    error, _ = verify_fails()
    assert "root" in error


def test_leaves_removed_from_the_end_are_caught(tenant_a, archived):
    with tenant_scope(tenant_a):
        last = LogLeaf.objects.order_by("-leaf_index").first()
    tamper(
        tenant_a,
        "archive_logleaf",
        "DELETE FROM archive_logleaf WHERE leaf_index = %s",
        [last.leaf_index],
    )
    table = apps.get_model(last.record_table)._meta.db_table
    tamper(tenant_a, table, f'DELETE FROM "{table}" WHERE id = %s', [last.record_id])
    report = verify_log(tenant=tenant_a)
    kinds = {p.kind for p in report.problems}
    assert "truncated" in kinds
    assert report.first_bad.leaf_index == last.leaf_index


def test_a_checkpoint_whose_anchored_copy_disagrees_is_caught(tenant_a, archived, anchor_dir):
    files = sorted((anchor_dir / str(tenant_a.pk)).rglob("*.json"))
    newest = files[-1]
    document = json.loads(newest.read_text())
    document["root"] = "ab" * 32
    os.chmod(newest, 0o644)
    newest.write_text(json.dumps(document))
    error, output = verify_fails()
    assert "anchor" in error and "root" in output


def test_a_checkpoint_deleted_from_the_database_is_caught_by_its_anchored_copy(tenant_a, archived):
    with tenant_scope(tenant_a):
        newest = LogCheckpoint.objects.order_by("-signed_at").first()
    tamper(
        tenant_a,
        "archive_logcheckpoint",
        "DELETE FROM archive_logcheckpoint WHERE id = %s",
        [newest.pk],
    )
    error, _ = verify_fails()
    assert "is in the folder anchor but not in the database" in error


def test_a_checkpoint_rewritten_in_the_database_fails_its_signature(tenant_a, archived):
    with tenant_scope(tenant_a):
        oldest = LogCheckpoint.objects.order_by("signed_at").first()
    tamper(
        tenant_a,
        "archive_logcheckpoint",
        "UPDATE archive_logcheckpoint SET root_hash = %s WHERE id = %s",
        [bytes(32), oldest.pk],
    )
    report = verify_log(tenant=tenant_a)
    assert "signature" in {p.kind for p in report.problems}


def test_edits_still_queued_for_the_next_checkpoint_are_caught(tenant_a, archived):
    archive_sample(tenant_a, archived, start=8, count=1)
    message = nth_message(tenant_a, 8)
    tamper(
        tenant_a,
        "archive_message",
        "UPDATE archive_message SET text = 'changed before the checkpoint' WHERE id = %s",
        [message.pk],
    )
    report = verify_log(tenant=tenant_a)
    (problem,) = report.problems
    assert (problem.kind, problem.table, problem.record_id) == (
        "edited",
        "archive.message",
        message.pk,
    )
    assert "queued" in problem.why


def test_a_tombstone_verifies_once_the_content_is_gone(tenant_a, archived):
    message = nth_message(tenant_a, 3)
    record_tombstone(
        tenant=tenant_a,
        record_table="archive.message",
        record_id=message.pk,
        reason="retention",
        actor=Actor.system(),
    )
    # Disposition (to come) then replaces the content, or removes the row.
    tamper(
        tenant_a,
        "archive_message",
        "UPDATE archive_message SET text = '', raw = '{}', structured = '{}' WHERE id = %s",
        [message.pk],
    )
    checkpoint_and_anchor(tenant=tenant_a)
    assert "OK:" in verify()
    tamper(tenant_a, "archive_message", "DELETE FROM archive_message WHERE id = %s", [message.pk])
    assert "OK:" in verify()


def test_a_tombstone_that_changed_the_leaf_hash_is_caught(tenant_a, archived):
    message = nth_message(tenant_a, 3)
    tombstone = record_tombstone(
        tenant=tenant_a,
        record_table="archive.message",
        record_id=message.pk,
        reason="retention",
        actor=Actor.system(),
    )
    checkpoint_and_anchor(tenant=tenant_a)
    tamper(tenant_a, "archive_message", "DELETE FROM archive_message WHERE id = %s", [message.pk])
    tamper(
        tenant_a,
        "archive_tombstone",
        "UPDATE archive_tombstone SET leaf_hash = %s WHERE id = %s",
        [merkle.leaf_hash(b"something else"), tombstone.pk],
    )
    error, _ = verify_fails()
    assert f"leaf {tombstone.leaf_index} (archive.message {message.pk}): tombstone" in error
    # Changing the log's leaf hash to match does not help: the signed roots disagree.
    with tenant_scope(tenant_a):
        forged = bytes(Tombstone.objects.get().leaf_hash)
    tamper(
        tenant_a,
        "archive_logleaf",
        "UPDATE archive_logleaf SET leaf_hash = %s WHERE leaf_index = %s",
        [forged, tombstone.leaf_index],
    )
    report = verify_log(tenant=tenant_a)
    found = {(p.kind, p.table, p.record_id) for p in report.problems}
    assert ("root", "", None) in found
    # ... and the tombstone is a record of the log itself: its own leaf no longer matches.
    assert ("edited", "archive.tombstone", tombstone.pk) in found


def test_verification_streams_in_chunks(tenant_a, archived):
    """The same verdict whatever the chunk size: nothing depends on holding the log at once."""
    out = StringIO()
    call_command("verify_archive", "firm-a", "--chunk-size", "1", "--all-anchors", stdout=out)
    assert "OK:" in out.getvalue()
    message = nth_message(tenant_a, 5)
    tamper(tenant_a, "archive_message", "DELETE FROM archive_message WHERE id = %s", [message.pk])
    leaf = leaf_of(tenant_a, "archive.message", message.pk)
    for size in (1, 3, 1000):
        report = verify_log(tenant=tenant_a, chunk_size=size)
        assert report.first_bad.leaf_index == leaf.leaf_index
        assert report.first_bad.kind == "deleted"


def test_another_tenants_archive_is_not_touched(tenant_a, tenant_b, archived):
    tamper(
        tenant_a,
        "archive_message",
        "UPDATE archive_message SET text = 'x' WHERE id = %s",
        [nth_message(tenant_a, 0).pk],
    )
    record_event("test.b", tenant=tenant_b, actor=Actor.command("b"))
    checkpoint_and_anchor(tenant=tenant_b)
    assert "OK:" in verify("firm-b")


# --- the report's wording, pinned ------------------------------------------------------------
# verify_archive's output is read by people and kept as evidence: these pin it word for word for
# a few representative problems, with the hashes and times taken from the rows themselves.


def verify_output(slug: str = "firm-a") -> tuple[str, str]:
    """(the error, everything printed), for a run that fails."""
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("verify_archive", slug, stdout=out)
    assert failure.value.returncode == 1
    return str(failure.value), out.getvalue()


def short(value: bytes) -> str:
    return value.hex()[:16] + "…"


def signed(checkpoint: LogCheckpoint) -> str:
    return checkpoint.signed_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def header(tenant, *, leaves: int, queued: int, checkpoints: int) -> str:
    with tenant_scope(tenant):
        latest = LogCheckpoint.objects.order_by("-signed_at").first()
    return (
        f"Archive log of {tenant.slug}: {leaves} leaves, {queued} queued for the next checkpoint; "
        f"{checkpoints} checkpoints, latest: size {latest.size}, "
        f"root {bytes(latest.root_hash).hex()}, signed {signed(latest)}\n"
    )


def test_the_report_of_an_edited_row_is_worded_exactly_so(tenant_a, archived):
    message = nth_message(tenant_a, 2)
    tamper(
        tenant_a,
        "archive_message",
        "UPDATE archive_message SET text = 'Vendi tudo' WHERE id = %s",
        [message.pk],
    )
    leaf = leaf_of(tenant_a, "archive.message", message.pk)
    with tenant_scope(tenant_a):
        first = LogCheckpoint.objects.order_by("signed_at").first()
        size = LogLeaf.objects.count()
        hashes = [
            bytes(h)
            for h in LogLeaf.objects.order_by("leaf_index").values_list("leaf_hash", flat=True)
        ]
        row = record_rows("archive.message", Message.objects.filter(pk=message.pk))[0]
    now = record_leaf_hash(tenant_id=tenant_a.pk, table="archive.message", row=row)
    stored = hashes[leaf.leaf_index]
    hashes[leaf.leaf_index] = now
    rebuilt = merkle.root(hashes[: first.size])
    edited = (
        f"leaf {leaf.leaf_index} (archive.message {message.pk}): edited: the record now hashes "
        f"to {short(now)}, the log holds {short(stored)} (its hash when archived)"
    )
    root = (
        f"leaves 0..{first.size - 1}: root: rebuilt from the records, the tree of {first.size} "
        f"leaves has root {short(rebuilt)}; the checkpoint signed {signed(first)} says "
        f"{short(bytes(first.root_hash))} (the last root that holds is at size 0; if no record "
        "in this range is named above, the log table itself was rewritten)"
    )
    error, output = verify_output()
    assert output == (
        header(tenant_a, leaves=size, queued=0, checkpoints=2)
        + "NOT OK: 2 problem(s)\n"
        + f"first bad leaf: {edited}\n"
        + f"  - {edited}\n"
        + f"  - {root}\n"
    )
    assert error == f"the archive of firm-a does not verify: {edited}"


def test_the_report_of_a_checkpoint_missing_from_the_database_is_worded_exactly_so(
    tenant_a, archived
):
    with tenant_scope(tenant_a):
        first, newest = LogCheckpoint.objects.order_by("signed_at")
    tamper(
        tenant_a,
        "archive_logcheckpoint",
        "DELETE FROM archive_logcheckpoint WHERE id = %s",
        [newest.pk],
    )
    anchor = (
        f"anchor: checkpoint of size {newest.size} signed {signed(newest)} is in the folder "
        "anchor but not in the database: checkpoints were deleted or the log was rebuilt"
    )
    error, output = verify_output()
    assert output == (
        header(tenant_a, leaves=newest.size, queued=0, checkpoints=1)
        + f"note: {newest.size - first.size} leaves are newer than the latest checkpoint "
        "(checked against their records; signed at the next checkpoint)\n"
        + "NOT OK: 1 problem(s)\n"
        + f"first bad leaf: {anchor}\n"
        + f"  - {anchor}\n"
    )
    assert error == f"the archive of firm-a does not verify: {anchor}"


def test_a_log_never_signed_is_reported_so(tenant_a):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    with tenant_scope(tenant_a):
        queued = PendingLeaf.objects.count()
    problem = "checkpoint: the log has never been signed: nothing to hold it to"
    error, output = verify_output()
    assert output == (
        f"Archive log of firm-a: 0 leaves, {queued} queued for the next checkpoint; "
        "0 checkpoints, none signed yet\n"
        "NOT OK: 1 problem(s)\n"
        f"first bad leaf: {problem}\n"
        f"  - {problem}\n"
    )
    assert error == f"the archive of firm-a does not verify: {problem}"


def test_a_leaf_row_removed_from_the_middle_is_named(tenant_a, archived):
    with tenant_scope(tenant_a):
        leaf = LogLeaf.objects.order_by("leaf_index")[3]
    tamper(tenant_a, "archive_logleaf", "DELETE FROM archive_logleaf WHERE id = %s", [leaf.pk])
    report = verify_log(tenant=tenant_a)
    assert str(report.first_bad) == (
        "leaf 3: missing-leaf: leaves 3..3 are missing from the log (leaf rows deleted)"
    )
    # The signed roots no longer hold, the log is one short, and its record has no leaf now.
    assert [p.kind for p in report.problems] == [
        "missing-leaf",
        "root",
        "truncated",
        "head",
        "inserted",
    ]
    assert (report.problems[-1].table, report.problems[-1].record_id) == (
        leaf.record_table,
        leaf.record_id,
    )


# --- the rarer findings ----------------------------------------------------------------------


def test_a_checkpoint_dated_before_a_smaller_one_is_caught(tenant_a, archived):
    with tenant_scope(tenant_a):
        first, newest = LogCheckpoint.objects.order_by("signed_at")
    earlier = first.signed_at.replace(year=first.signed_at.year - 1)
    tamper(
        tenant_a,
        "archive_logcheckpoint",
        "UPDATE archive_logcheckpoint SET signed_at = %s WHERE id = %s",
        [earlier, newest.pk],
    )
    report = verify_log(tenant=tenant_a)
    dated = (
        f"checkpoint: checkpoint of size {newest.size} is dated "
        f"{earlier.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}, before a smaller one"
    )
    assert dated in [str(p) for p in report.problems]
    # Its time is part of what was signed, so the signature fails too.
    assert "signature" in {p.kind for p in report.problems}


def test_a_leaf_of_an_unknown_form_is_named(tenant_a, archived):
    with tenant_scope(tenant_a):
        leaf = LogLeaf.objects.order_by("leaf_index")[2]
    tamper(
        tenant_a, "archive_logleaf", "UPDATE archive_logleaf SET form = 99 WHERE id = %s", [leaf.pk]
    )
    report = verify_log(tenant=tenant_a)
    assert str(report.first_bad) == (
        f"leaf 2 ({leaf.record_table} {leaf.record_id}): edited: "
        "the log names an unknown table or form 99"
    )


def test_beyond_a_hundred_problems_the_rest_are_counted(tenant_a):
    ana = employee_of(tenant_a)
    archive_sample(tenant_a, ana, count=60)
    checkpoint_and_anchor(tenant=tenant_a)
    tamper(tenant_a, "archive_message", "UPDATE archive_message SET text = 'x'")
    tamper(tenant_a, "archive_messageevent", """UPDATE archive_messageevent SET payload = '{}'""")
    report = verify_log(tenant=tenant_a)
    # 120 records edited, and the signed root does not hold.
    assert (len(report.problems), report.more_problems) == (100, 21)
    _, output = verify_output()
    assert "NOT OK: 121 problem(s)\n" in output
    assert output.endswith("  ... and 21 more\n")


def test_a_stored_tree_node_that_differs_is_caught(tenant_a):
    ana = employee_of(tenant_a)
    archive_sample(tenant_a, ana, count=130)  # 260 leaves: a tile of 256 gets a stored node
    checkpoint_and_anchor(tenant=tenant_a)
    assert (
        tamper(tenant_a, "archive_lognode", "UPDATE archive_lognode SET hash = %s", [bytes(32)])
        == 1
    )
    report = verify_log(tenant=tenant_a)
    assert [str(p) for p in report.problems] == [
        "node: stored tree node 8/0 differs from the one the records give (inclusion and "
        "consistency proofs served from it would not verify)"
    ]


def test_an_anchored_copy_with_a_broken_signature_is_caught(tenant_a, archived, anchor_dir):
    newest = sorted((anchor_dir / str(tenant_a.pk)).rglob("*.json"))[-1]
    document = json.loads(newest.read_text())
    document["signature"] = "AAAA" + document["signature"][4:]
    os.chmod(newest, 0o644)
    newest.write_text(json.dumps(document))
    report = verify_log(tenant=tenant_a)
    differs = (
        f"anchor: checkpoint of size {document['size']} signed {document['time']} differs "
        "from its copy in the folder anchor (signature)"
    )
    # Compared twice, as it stands: as the anchor's newest copy and as the database's latest.
    assert [str(p) for p in report.problems] == [
        "anchor: the newest copy in the folder anchor is not signed",
        differs,
        differs,
    ]


def test_a_checkpoint_never_anchored_is_caught_past_the_grace_period(
    tenant_a, archived, anchor_dir, settings
):
    files = sorted((anchor_dir / str(tenant_a.pk)).rglob("*.json"))
    files[-1].unlink()
    with tenant_scope(tenant_a):
        _, newest = LogCheckpoint.objects.order_by("signed_at")
    settings.LEDGER_ANCHOR_GRACE = 3600
    report = verify_log(tenant=tenant_a)
    assert report.ok
    assert (
        f"the latest checkpoint is not in the folder anchor yet (signed {signed(newest)}, "
        "within LEDGER_ANCHOR_GRACE)"
    ) in report.notes
    settings.LEDGER_ANCHOR_GRACE = 0
    report = verify_log(tenant=tenant_a)
    assert [str(p) for p in report.problems] == [
        f"anchor: the latest checkpoint (size {newest.size}, signed {signed(newest)}) is not in "
        "the folder anchor"
    ]
    # Every checkpoint against its copies: the newest has none.
    report = verify_log(tenant=tenant_a, all_anchors=True)
    assert f"anchor: checkpoint {signed(newest)} is not in the folder anchor" in [
        str(p) for p in report.problems
    ]

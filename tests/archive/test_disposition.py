"""Retention disposition: messages past retention lose their content (text, raw, structured
payloads, their events' payloads, the stored media bytes) and keep tombstones with their leaf
hashes, so ``verify_archive`` still passes; a dry run changes nothing and says what the next
run would do; no policy keeps everything; every run leaves a certificate in the audit trail;
a run is idempotent and resumable; the database lets no other path change an archive row."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from archive.ledger.models import Tombstone
from archive.ledger.services import checkpoint_and_anchor
from archive.models import Attachment, Message, MessageEvent
from archive.retention.disposition import dispose_records, disposition_plan
from archive.retention.services import create_policy
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.archive.ledger_helpers import archive_sample
from tests.archive.retention_helpers import (
    ADMIN,
    IN_2028,
    IN_2030,
    IN_2033,
    archive_old,
    logged_archive,
    other_employee,
    stored_attachment,
    verify,
)
from tests.database import attempt
from tests.fixtures import login, make_person

pytestmark = pytest.mark.usefixtures("anchor_dir")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def conversation_page(tenant) -> str:
    client = Client()
    login(client, make_person("reader@firm-a.example", tenant=tenant, role=Role.AUDITOR))
    with tenant_scope(tenant):
        conversation = Message.objects.first().conversation_id
    return client.get(f"/archive/conversations/{conversation}/").content.decode()


def contents(tenant) -> list[tuple[str, dict, dict]]:
    with tenant_scope(tenant):
        return list(Message.objects.order_by("pk").values_list("text", "raw", "structured"))


def tombstones(tenant) -> dict[str, int]:
    with tenant_scope(tenant):
        rows = Tombstone.objects.values_list("record_table", flat=True)
        return {table: list(rows).count(table) for table in set(rows)}


def certificates(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(action="archive.disposition_certificate").order_by("id")
        )


def test_a_dry_run_changes_nothing_and_says_what_the_next_run_would_do(tenant_a):
    logged_archive(tenant_a, count=3)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    before = contents(tenant_a)

    outcome = dispose_records(tenant=tenant_a, actor=ADMIN, dry_run=True, now=IN_2028)

    assert (outcome.messages, outcome.held, outcome.dry_run) == (3, 0, True)
    assert outcome.counts == {"archive.message": 3, "archive.messageevent": 3,
                              "archive.attachmentfile": 0}  # fmt: skip
    assert contents(tenant_a) == before
    assert tombstones(tenant_a) == {}
    [certificate] = certificates(tenant_a)
    assert certificate.details["dry_run"] is True
    assert certificate.details["counts"]["archive.message"] == 3
    assert certificate.details["whatsapp_time_range"]["oldest"].startswith("2026-03-02T09:30")


def test_disposition_tombstones_blanks_and_the_archive_still_verifies(tenant_a):
    logged_archive(tenant_a, count=3)
    policy = create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)

    outcome = dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028, batch_size=2)

    assert outcome.messages == 3
    assert contents(tenant_a) == [("", {}, {})] * 3
    with tenant_scope(tenant_a):
        assert list(MessageEvent.objects.values_list("payload", "raw")) == [({}, {})] * 3
        # Only the content went: who, when, which conversation stay for the record.
        assert Message.objects.filter(wamid__startswith="wamid.").count() == 3
    assert tombstones(tenant_a) == {"archive.message": 3, "archive.messageevent": 3}
    assert "OK:" in verify()
    assert "Content disposed of" in conversation_page(tenant_a)

    [certificate] = certificates(tenant_a)
    details = certificate.details
    assert details["dry_run"] is False
    assert details["counts"] == {"archive.message": 3, "archive.messageevent": 3,
                                 "archive.attachmentfile": 0}  # fmt: skip
    assert details["whatsapp_time_range"]["oldest"] < details["whatsapp_time_range"]["newest"]
    assert [p["policy_id"] for p in details["policies"]] == [policy.pk]
    assert details["policies"][0]["regulation"] == "the firm's own retention policy"
    assert details["checkpoint"]["size"] > 0 and len(details["checkpoint"]["root"]) == 64

    # Idempotent: the next run finds nothing, and the archive still verifies.
    again = dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)
    assert again.messages == 0
    assert tombstones(tenant_a) == {"archive.message": 3, "archive.messageevent": 3}
    assert "OK:" in verify()


def test_the_stored_media_bytes_go_and_verify_files_still_passes(
    tenant_a, django_capture_on_commit_callbacks
):
    ana = logged_archive(tenant_a, count=1)
    message_id, name = stored_attachment(tenant_a, ana, 5)
    checkpoint_and_anchor(tenant=tenant_a, force=True)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        outcome = dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)

    assert outcome.counts["archive.attachmentfile"] == 1
    assert not default_storage.exists(name)
    with tenant_scope(tenant_a):
        attachment = Attachment.objects.get(message_id=message_id)
        assert (attachment.status, attachment.file.name) == ("disposed", "")
    assert "OK:" in verify(files=True)


def test_no_policy_keeps_every_message_for_ever(tenant_a):
    logged_archive(tenant_a, count=2)
    assert disposition_plan(tenant=tenant_a, now=IN_2033).messages == 0
    assert dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2033).messages == 0
    assert tombstones(tenant_a) == {}


def test_the_longest_policy_that_applies_wins(tenant_a):
    ana = logged_archive(tenant_a, count=2)  # team "Team firm-a", Brazil
    with tenant_scope(tenant_a):
        rui = other_employee(tenant_a, region="PT")
    archive_sample(tenant_a, rui, start=10, count=2)
    checkpoint_and_anchor(tenant=tenant_a, force=True)
    # Firm-wide 1 year, Ana's team 3 years (SEC 17a-4(b)(4)), Brazil 6 years (FINRA 4511).
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="sec_17a4_b4", scope="team",
                  team_id=ana.team_id)  # fmt: skip
    plan = disposition_plan(tenant=tenant_a, now=IN_2028)
    assert plan.messages == 2, (plan.waiting_for_log, plan.held)  # Rui's only
    create_policy(tenant=tenant_a, actor=ADMIN, preset="finra_4511", scope="region",
                  region="br")  # fmt: skip
    assert disposition_plan(tenant=tenant_a, now=IN_2030).messages == 2  # still Rui's only
    dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2030)
    with tenant_scope(tenant_a):
        kept = set(Message.objects.exclude(text="").values_list("employee_id", flat=True))
    assert kept == {ana.pk}
    assert disposition_plan(tenant=tenant_a, now=IN_2033).messages == 2  # Ana's, past 6 years
    assert "OK:" in verify()


def test_another_tenants_archive_is_untouched(tenant_a, tenant_b):
    logged_archive(tenant_a, count=2)
    logged_archive(tenant_b, count=2)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)
    assert all(text for text, _, _ in contents(tenant_b))
    assert tombstones(tenant_b) == {}
    assert "OK:" in verify("firm-b")


def test_the_database_allows_no_other_path_to_change_an_archive_row(tenant_a):
    logged_archive(tenant_a, count=2)
    with tenant_scope(tenant_a):
        first, second = Message.objects.order_by("pk").values_list("pk", flat=True)
        # The application role may not update a message, even saying it is disposing...
        attempt("SELECT set_config('app.disposing', 'on', true)")
        assert "permission denied" in attempt(
            "UPDATE archive_message SET text = '' WHERE id = %s", [first]
        )
        # ...and the blanking function leaves a row without a tombstone as it is.
        with connection.cursor() as cursor:
            cursor.execute("SELECT ch_blank_disposed('archive.message', %s::bigint[])", [[first]])
            assert cursor.fetchone()[0] == 0
            assert "no content to blank" in attempt(
                "SELECT ch_blank_disposed('archive.tombstone', %s::bigint[])", [[second]]
            )
    assert all(text for text, _, _ in contents(tenant_a))


def test_the_command_runs_dry_and_for_real(tenant_a):
    ana = logged_archive(tenant_a, count=1)  # this year's: kept
    archive_old(tenant_a, ana, sent=datetime(2019, 5, 1, 12, tzinfo=UTC), count=2, start=50)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    out = StringIO()
    call_command("dispose_records", "firm-a", "--dry-run", stdout=out)
    assert "The next run would dispose of 2 messages (oldest 2019-05-01, newest 2019-05-01)" in (
        out.getvalue()
    )
    assert "0 are kept by legal holds" in out.getvalue()
    assert tombstones(tenant_a) == {}
    out = StringIO()
    call_command("dispose_records", "firm-a", stdout=out)
    assert "Disposed of 2 messages" in out.getvalue()
    assert tombstones(tenant_a)["archive.message"] == 2
    with pytest.raises(CommandError, match="no tenant 'nope'"):
        call_command("dispose_records", "nope")


def test_what_policies_copied_of_a_disposed_message_goes_with_it(tenant_a):
    """A hit's findings quote the matched words and a backtest's sample the words around them:
    neither may outlive the message's content."""
    from datetime import date

    from policies.models import PolicyHit, ScanJob
    from policies.packs import pack
    from policies.services import create_policy as create_detection_policy

    logged_archive(tenant_a, count=2)
    with tenant_scope(tenant_a):
        policy, _ = create_detection_policy(
            tenant=tenant_a, actor=ADMIN, document=pack("data_protection").documents[1]
        )
        version = policy.versions.get()
        first, second = Message.objects.order_by("pk")
        finding = {
            "category": "pii", "detector": "pii", "score": 0.9, "type": "br_cpf",
            "value": "529.982.247-25", "spans": [[14, 28]],
            "explanation": "Brazilian CPF 529.982.247-25, next to 'cpf'",
        }  # fmt: skip
        PolicyHit.objects.create(
            tenant=tenant_a, message=first, policy=policy, policy_version=version,
            severity="medium", score=0.9, findings=[finding], explanation=finding["explanation"],
        )  # fmt: skip
        entry = {
            "message_id": first.pk, "employee": "Ana", "snippet": "meu CPF 529.982.247-25",
            "spans": [[8, 22]], "categories": ["pii"], "explanation": "CPF 529.982.247-25",
        }  # fmt: skip
        kept = {**entry, "message_id": second.pk + 1000}  # a message not disposed of
        job = ScanJob.objects.create(
            tenant=tenant_a, kind=ScanJob.Kind.BACKTEST, policy=policy, document={},
            date_from=date(2026, 1, 1), date_to=date(2026, 1, 31),
            starts_at=datetime(2026, 1, 1, tzinfo=UTC), ends_at=datetime(2026, 2, 1, tzinfo=UTC),
            requested_by_label="system", results={"sample": [entry, kept], "flagged": 2},
        )  # fmt: skip
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)

    assert dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028).messages == 2

    with tenant_scope(tenant_a):
        hit = PolicyHit.objects.get()
        job.refresh_from_db()
    [scrubbed] = hit.findings
    assert "529" not in str(hit.findings) + hit.explanation
    assert (scrubbed["category"], scrubbed["type"], scrubbed["score"]) == ("pii", "br_cpf", 0.9)
    disposed, untouched = job.results["sample"]
    assert disposed["disposed"] is True and "529" not in str(disposed)
    assert untouched == kept and job.results["flagged"] == 2

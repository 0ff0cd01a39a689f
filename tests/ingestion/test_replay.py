"""``manage.py replay_deliveries SLUG``: stored deliveries processed again. Idempotent over what
was processed, including bodies whose refused content was redacted; failed ones get done."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from archive.models import CallRecord, Message, MessageEvent
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope
from consent import gate
from consent import services as consent
from ingestion.models import CaptureNotice, Delivery, Refusal
from tests.ingestion import payloads
from tests.ingestion.delivering import (
    PHONE_ID,
    account_update,
    call_event,
    deliver,
    now_seconds,
    process,
    send,
)

# Every test here: firm A connected, Ana (``ana``) consented on PHONE_ID.
pytestmark = pytest.mark.usefixtures("connected_employee")


def replay(*args: str) -> str:
    out = StringIO()
    call_command("replay_deliveries", "firm-a", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot(tenant) -> dict:
    with tenant_scope(tenant):
        return {
            "messages": list(Message.objects.order_by("id").values_list("id", "wamid", "text")),
            "events": list(MessageEvent.objects.order_by("id").values_list("id", "event_key")),
            "calls": list(CallRecord.objects.order_by("id").values_list("id", "event_key")),
            "refusals": list(Refusal.objects.order_by("id").values_list("id", "wamid", "reason")),
            "notices": list(CaptureNotice.objects.order_by("id").values_list("id", "dedupe_key")),
            "bodies": {d.pk: bytes(d.body) for d in Delivery.objects.all()},
            "statuses": dict(Delivery.objects.values_list("id", "status")),
        }


def test_replaying_processed_deliveries_changes_nothing(client, tenant_a, ana):
    t = now_seconds()
    send(
        client,
        tenant_a,
        payloads.inbound_text(phone_number_id=PHONE_ID, wamid="wamid.A", text="a", timestamp=t),
    )
    send(
        client,
        tenant_a,
        payloads.inbound_reaction(
            phone_number_id=PHONE_ID, wamid="wamid.RA", target="wamid.A", emoji="👍",
            timestamp=t + 1,
        ),
    )  # fmt: skip
    send(
        client,
        tenant_a,
        call_event(phone_number_id=PHONE_ID, call_id="wacid.1", event="connect", timestamp=t),
    )
    send(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id="777000777", wamid="wamid.U", text="secret words", timestamp=t
        ),
    )  # refused (unknown number), its content redacted from the stored body
    send(client, tenant_a, account_update("PARTNER_REMOVED"))
    before = snapshot(tenant_a)
    assert len(before["messages"]) == 1 and len(before["refusals"]) == 1
    assert len(before["notices"]) == 2

    output = replay()
    assert "Replayed 5 of 5 deliveries of firm-a (processed 5)." in output
    assert "Added: 0 messages, 0 events, 0 calls, 0 notices raised." in output
    assert "Skipped 1 redacted items" in output
    assert replay("--status", "processed").count("Added: 0 messages") == 1
    assert snapshot(tenant_a) == before

    with tenant_scope(tenant_a):
        event = AuditEvent.objects.filter(action="ingestion.deliveries_replayed").first()
    assert event.details["replayed"] == 5 and event.details["added"]["messages"] == 0


def test_a_redacted_delivery_never_archives_an_empty_shell(client, tenant_a, ana):
    """Refused, redacted, then consent recorded with an earlier date: the gate would now say
    capture, but the content is gone; nothing is archived in its name."""
    consent.withdraw_consent(employee=ana, reason="paused", actor=Actor.system())
    gate.clear_cache()
    sent = now_seconds()
    send(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.GONE", text="private", timestamp=sent + 5
        ),
    )
    consent.record_consent(
        employee=ana,
        actor=Actor.system(),
        evidence_reference="paper form found later",
        occurred_at=timezone.now(),
    )
    gate.clear_cache()
    output = replay()
    assert "Added: 0 messages" in output and "Skipped 1 redacted items" in output
    with tenant_scope(tenant_a):
        assert not Message.objects.filter(wamid="wamid.GONE").exists()


def test_a_failed_delivery_replayed_gets_processed(client, tenant_a, ana):
    delivery = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.F", text="late", timestamp=now_seconds()
        ),
    )
    done = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.D", text="done", timestamp=now_seconds()
        ),
    )
    process(tenant_a, done)
    with tenant_scope(tenant_a):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED, attempts=3, last_error="OperationalError: gone"
        )
    output = replay("--status", "failed")
    assert "Replayed 1 of 1 deliveries of firm-a (failed 1)." in output
    assert "Added: 1 messages" in output
    with tenant_scope(tenant_a):
        delivery.refresh_from_db()
        assert Message.objects.get(wamid="wamid.F").text == "late"
    assert delivery.status == Delivery.Status.PROCESSED
    assert (delivery.attempts, delivery.last_error) == (4, "")


def test_the_time_window_chooses_deliveries_by_reception(client, tenant_a, ana):
    old = deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.OLD", text="o", timestamp=now_seconds()
        ),
    )
    deliver(
        client,
        tenant_a,
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.NEW", text="n", timestamp=now_seconds()
        ),
    )
    two_days_ago = timezone.now() - timedelta(days=2)
    with tenant_scope(tenant_a):
        Delivery.objects.filter(pk=old.pk).update(received_at=two_days_ago)
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert "Replayed 1 of 1" in replay("--until", yesterday, "--status", "pending")
    with tenant_scope(tenant_a):
        assert list(Message.objects.values_list("wamid", flat=True)) == ["wamid.OLD"]
    assert "Replayed 1 of 1" in replay("--since", yesterday)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "last tuesday"], "is not an ISO 8601"),
        (["--since", "2026-02-01", "--until", "2026-01-01"], "--since must be before --until"),
    ],
)
def test_bad_options_are_refused_and_change_nothing(tenant_a, ana, args, message):
    with pytest.raises(CommandError, match=message):
        replay(*args)


def test_an_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError, match="No tenant with slug"):
        call_command("replay_deliveries", "nobody", stdout=StringIO())


def refuse_to_mark_deliveries_processed() -> None:
    """From now on the database refuses a delivery's last write (as a full disk would), by a
    trigger the owner makes inside the test's transaction (gone with its rollback)."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "CREATE FUNCTION test_refuse_processed() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'the disk is full'; END $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_processed BEFORE UPDATE ON {Delivery._meta.db_table} "
            "FOR EACH ROW WHEN (NEW.status = 'processed') EXECUTE FUNCTION test_refuse_processed()"
        )
    set_role(connection, settings.DB_APP_ROLE)


def test_a_failed_replay_is_recorded_as_the_worker_records_a_failure(client, tenant_a, ana):
    """One failure record for the drain and the replay: a waiting delivery turns failed with one
    more attempt and the error; one that was processed keeps its status and its result."""

    def text(wamid: str) -> Delivery:
        return deliver(client, tenant_a, payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid=wamid, text="x", timestamp=now_seconds()
        ))  # fmt: skip

    done, by_worker, waiting = text("wamid.DONE"), text("wamid.WORKER"), text("wamid.WAIT")
    process(tenant_a, done)
    refuse_to_mark_deliveries_processed()
    assert process(tenant_a, by_worker) is None
    err = StringIO()
    with pytest.raises(CommandError, match="3 deliveries failed"):
        call_command("replay_deliveries", "firm-a", stdout=StringIO(), stderr=err)
    assert f"Delivery {waiting.pk} failed: " in err.getvalue()
    assert "the disk is full" in err.getvalue()
    with tenant_scope(tenant_a):
        rows = {d.pk: d for d in Delivery.objects.all()}
        assert not Message.objects.filter(wamid__in=["wamid.WORKER", "wamid.WAIT"]).exists()
    assert (rows[done.pk].status, rows[done.pk].attempts, rows[done.pk].last_error) == (
        Delivery.Status.PROCESSED, 1, ""
    )  # fmt: skip
    assert (rows[waiting.pk].status, rows[waiting.pk].attempts) == (Delivery.Status.FAILED, 1)
    # The worker's failure, then the replay's: one more attempt each, the same error.
    assert (rows[by_worker.pk].status, rows[by_worker.pk].attempts) == (Delivery.Status.FAILED, 2)
    assert "the disk is full" in rows[waiting.pk].last_error
    assert rows[waiting.pk].last_error == rows[by_worker.pk].last_error

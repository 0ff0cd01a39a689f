"""Two drains archiving the same duplicated items side by side never deadlock.

A duplicated delivery can reach two drains at once (Meta's retry, the sweeper) with its items in
another order. Each drain inserts in one transaction with ON CONFLICT DO NOTHING, which waits
for the other's uncommitted row of the same key: if the two inserted in opposite orders, each
would wait for the other. A test-only trigger pauses every insert of these tables for the
sessions that ask for it, so both transactions hold their first row before they reach the
second: without a stable insert order this deadlocks every time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import connection

from archive.models import CallRecord, Conversation, Message, MessageEvent
from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    archive_calls,
    archive_events,
    archive_messages,
)
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope
from tests.database import side_by_side

PAUSE_SECONDS = 0.4
PAUSED_TABLES = [Conversation, Message, MessageEvent, CallRecord]
WHEN = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def paused_inserts():
    """A BEFORE INSERT trigger (created by the owner) that sleeps in sessions which set
    ``test.pause_inserts``; every other session is untouched."""
    tables = [model._meta.db_table for model in PAUSED_TABLES]
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "CREATE OR REPLACE FUNCTION test_pause_insert() RETURNS trigger AS $$ BEGIN "
            "IF current_setting('test.pause_inserts', true) = 'on' THEN "
            f"PERFORM pg_sleep({PAUSE_SECONDS}); END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        for table in tables:
            cursor.execute(
                f"CREATE TRIGGER test_pause_insert BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_pause_insert()"
            )
    set_role(connection, settings.DB_APP_ROLE)
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        for table in tables:
            cursor.execute(f"DROP TRIGGER IF EXISTS test_pause_insert ON {table}")
        cursor.execute("DROP FUNCTION IF EXISTS test_pause_insert()")
    set_role(connection, settings.DB_APP_ROLE)


def _side_by_side(tenant, archive, batches) -> list[BaseException]:
    """``archive(batch)`` for each batch in its own thread, connection and transaction, all
    starting together, with every insert paused (``paused_inserts``)."""

    def drain(batch):
        def job(meet):
            meet()
            with tenant_scope(tenant):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('test.pause_inserts', 'on', true)")
                archive(batch)

        return job

    return side_by_side(*(drain(batch) for batch in batches))


def _event(key: str) -> EventRecord:
    return EventRecord(
        kind="status",
        event_key=key,
        target_wamid="wamid.target",
        direction="outbound",
        whatsapp_timestamp=WHEN,
        received_at=WHEN,
        payload={"status": "read"},
        raw={},
        delivery_id=None,
    )


def _message(employee_id: int, wamid: str, counterparty: str) -> MessageRecord:
    return MessageRecord(
        conversation=ConversationKey(
            employee_id=employee_id,
            business_phone_number_id="106540352242922",
            counterparty_key=counterparty,
        ),
        counterparty={"wa_id": counterparty},
        business_display_number="+55 11 98765-4321",
        wamid=wamid,
        direction="inbound",
        type="text",
        whatsapp_timestamp=WHEN,
        received_at=WHEN,
        text=f"hello {wamid}",
        structured={},
        context={},
        is_history=False,
        flags=[],
        raw={},
        delivery_id=None,
    )


def _call(employee_id: int, key: str) -> CallRecord:
    return CallRecord(
        employee_id=employee_id,
        event_key=key,
        call_id=key,
        event="terminate",
        status="COMPLETED",
        direction="USER_INITIATED",
        business_phone_number_id="106540352242922",
        counterparty_key="5511900000001",
        counterparty_wa_id="5511900000001",
        whatsapp_timestamp=WHEN,
        received_at=WHEN,
        raw={},
    )


@pytest.mark.django_db(transaction=True)
def test_duplicated_events_archived_in_opposite_orders_do_not_deadlock(tenant_a, paused_inserts):
    keys = ["status:wamid.A:read:1", "status:wamid.B:read:1", "status:wamid.C:read:1"]
    errors = _side_by_side(
        tenant_a,
        lambda keys: archive_events(tenant=tenant_a, records=[_event(key) for key in keys]),
        [keys, list(reversed(keys))],
    )
    assert errors == []
    with tenant_scope(tenant_a):
        assert sorted(MessageEvent.objects.values_list("event_key", flat=True)) == keys


@pytest.mark.django_db(transaction=True)
def test_duplicated_messages_of_a_conversation_in_opposite_orders_do_not_deadlock(
    tenant_a, ana, paused_inserts
):
    with tenant_scope(tenant_a):  # the conversation exists: only the messages race
        archive_messages(tenant=tenant_a, records=[_message(ana.pk, "wamid.M0", "5511900000001")])
    records = [_message(ana.pk, f"wamid.M{n}", "5511900000001") for n in (1, 2, 3)]
    errors = _side_by_side(
        tenant_a,
        lambda batch: archive_messages(tenant=tenant_a, records=batch),
        [records, list(reversed(records))],
    )
    assert errors == []
    with tenant_scope(tenant_a):
        assert sorted(Message.objects.values_list("wamid", flat=True)) == [
            "wamid.M0",
            "wamid.M1",
            "wamid.M2",
            "wamid.M3",
        ]


@pytest.mark.django_db(transaction=True)
def test_new_conversations_met_in_opposite_orders_do_not_deadlock(tenant_a, ana, paused_inserts):
    records = [
        _message(ana.pk, "wamid.M1", "5511900000001"),
        _message(ana.pk, "wamid.M2", "5511900000002"),
    ]
    errors = _side_by_side(
        tenant_a,
        lambda batch: archive_messages(tenant=tenant_a, records=batch),
        [records, list(reversed(records))],
    )
    assert errors == []
    with tenant_scope(tenant_a):
        assert Conversation.objects.count() == 2
        assert Message.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_duplicated_calls_archived_in_opposite_orders_do_not_deadlock(
    tenant_a, ana, paused_inserts
):
    keys = ["call:c1:terminate:COMPLETED:1", "call:c2:terminate:COMPLETED:1"]
    errors = _side_by_side(
        tenant_a,
        lambda batch: archive_calls(tenant=tenant_a, records=[_call(ana.pk, k) for k in batch]),
        [keys, list(reversed(keys))],
    )
    assert errors == []
    with tenant_scope(tenant_a):
        assert sorted(CallRecord.objects.values_list("event_key", flat=True)) == keys

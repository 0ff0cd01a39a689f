"""The drain: pending deliveries processed in batches, oldest first, side by side without
taking anything twice; woken by a Redis mark so that at most one drain task waits per tenant."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from archive.ledger.models import PendingLeaf
from archive.models import Conversation, Message
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope
from ingestion import processing, wakeup
from ingestion.models import Delivery
from ingestion.processing import DRAIN_BATCH, drain_pending, process_pending_batch
from ingestion.services import receive_delivery
from tests.database import owner_connection
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID


def store(tenant, count: int, *, first: int = 0, wamid: str = "wamid.DRAIN{}") -> list[int]:
    """``count`` signed-and-stored deliveries of one message each (as the webhook leaves them),
    each from a counterparty of its own."""
    sent = int(time.time()) + 1  # after the consent (recorded a moment ago)
    ids = []
    for index in range(first, first + count):
        body = payloads.body(
            payloads.inbound_text(
                phone_number_id=PHONE_ID, wamid=wamid.format(index), text=f"n{index}",
                timestamp=sent, wa_id=f"55119{index:08d}",
            )
        )  # fmt: skip
        ids.append(receive_delivery(tenant=tenant, body=body, headers={}).pk)
    return ids


def statuses(tenant) -> dict[str, int]:
    with tenant_scope(tenant):
        found: dict[str, int] = {}
        for status in Delivery.objects.values_list("status", flat=True):
            found[status] = found.get(status, 0) + 1
        return found


def test_a_drain_takes_every_pending_delivery_batch_after_batch(tenant_a, connected_employee):
    store(tenant_a, 2 * DRAIN_BATCH + 5)
    backlog_calls = []

    drained = drain_pending(tenant=tenant_a, on_backlog=lambda: backlog_calls.append(1))

    assert drained == 2 * DRAIN_BATCH + 5
    assert statuses(tenant_a) == {"processed": 2 * DRAIN_BATCH + 5}
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 2 * DRAIN_BATCH + 5
    # Help was asked for after each full batch, not after the last, short one.
    assert len(backlog_calls) == 2
    # Nothing is left, so a second drain finds nothing and archives nothing twice.
    assert drain_pending(tenant=tenant_a) == 0


def test_a_batch_takes_the_oldest_first(tenant_a, connected_employee):
    ids = store(tenant_a, DRAIN_BATCH + 3)
    assert process_pending_batch(tenant=tenant_a, size=3) == 3
    with tenant_scope(tenant_a):
        done = set(
            Delivery.objects.filter(status=Delivery.Status.PROCESSED).values_list("pk", flat=True)
        )
    assert done == set(ids[:3])


def test_the_budget_ends_a_drain_and_asks_for_a_successor(tenant_a, connected_employee):
    store(tenant_a, 2 * DRAIN_BATCH)
    asked = []
    drained = drain_pending(tenant=tenant_a, budget_seconds=0, on_backlog=lambda: asked.append(1))
    # One full batch, then the budget is spent: the successor (asked for) does the rest.
    assert drained == DRAIN_BATCH and asked == [1]
    assert statuses(tenant_a) == {"processed": DRAIN_BATCH, "pending": DRAIN_BATCH}


def test_failed_deliveries_wait_for_their_backoff_not_for_the_drain(tenant_a, connected_employee):
    [failed, pending] = store(tenant_a, 2)
    with tenant_scope(tenant_a):
        Delivery.objects.filter(pk=failed).update(status=Delivery.Status.FAILED, attempts=1)
    assert process_pending_batch(tenant=tenant_a) == 1
    with tenant_scope(tenant_a):
        assert Delivery.objects.get(pk=failed).status == Delivery.Status.FAILED
        assert Delivery.objects.get(pk=pending).status == Delivery.Status.PROCESSED


@pytest.mark.django_db(transaction=True)
def test_two_drains_side_by_side_never_take_the_same_delivery(tenant_a, connected_employee):
    """Another drain (here: a second connection) holds some deliveries locked mid-batch; this
    drain skips them instead of waiting or processing them a second time."""
    ids = store(tenant_a, 6)
    with owner_connection() as other:
        with other.cursor() as cursor:
            # RLS applies to the owner too (FORCE): the other drain works in firm A's scope.
            cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_a.pk)])
            cursor.execute(
                f"SELECT id FROM {Delivery._meta.db_table} WHERE id = ANY(%s) FOR UPDATE",
                [ids[:2]],
            )
            assert cursor.rowcount == 2
        started = time.monotonic()
        assert process_pending_batch(tenant=tenant_a) == 4
        assert time.monotonic() - started < 5  # skipped, not waited for
    with tenant_scope(tenant_a):
        pending = set(
            Delivery.objects.filter(status=Delivery.Status.PENDING).values_list("pk", flat=True)
        )
    assert pending == set(ids[:2])
    assert process_pending_batch(tenant=tenant_a) == 2
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 6


def test_one_drain_waits_per_tenant_however_many_deliveries_arrive(tenant_a, tenant_b):
    wakeup._redis().delete(wakeup._mark(tenant_a.pk))
    wakeup._redis().delete(wakeup._mark(tenant_b.pk))
    try:
        assert wakeup.wake_drain(tenant_a.pk) is True
        # Queued already: later deliveries of the same tenant queue nothing more...
        assert wakeup.wake_drain(tenant_a.pk) is False
        assert wakeup.wake_drain(tenant_a.pk) is False
        # ...but another tenant has its own.
        assert wakeup.wake_drain(tenant_b.pk) is True
        # A drain that starts takes the mark away before it looks for deliveries, so the next
        # delivery (which it may not see) queues the next drain.
        wakeup.drain_starting(tenant_a.pk)
        assert wakeup.wake_drain(tenant_a.pk) is True
    finally:
        wakeup._redis().delete(wakeup._mark(tenant_a.pk))
        wakeup._redis().delete(wakeup._mark(tenant_b.pk))


def test_a_batch_costs_the_same_queries_however_many_deliveries_it_holds(
    tenant_a, connected_employee
):
    """The archive of a batch (conversations, messages, their log leaves, the deliveries'
    outcomes) is written once for the batch, not once per delivery: processing 3 or 30
    deliveries, each a new conversation, takes the same number of queries."""
    store(tenant_a, 2, first=200)
    process_pending_batch(tenant=tenant_a)  # what the first batch alone reads (consent, cache)
    counts = []
    for first, size in ((0, 3), (100, 30)):
        store(tenant_a, size, first=first)
        with CaptureQueriesContext(connection) as queries:
            assert process_pending_batch(tenant=tenant_a, size=size) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    with tenant_scope(tenant_a):
        assert statuses(tenant_a) == {"processed": 35}
        assert Message.objects.count() == Conversation.objects.count() == 35
        assert PendingLeaf.objects.filter(record_table="archive.message").count() == 35
        summaries = list(Delivery.objects.values_list("summary", flat=True))
    assert all(s["archived_messages"] == 1 and s["messages"] == 1 for s in summaries)


def test_a_message_two_deliveries_of_one_batch_carry_is_archived_once(tenant_a, connected_employee):
    """A redelivery that lands in the same batch as the original: one message, one leaf, and
    the first delivery's summary counts it, as one-by-one processing would."""
    first = store(tenant_a, 1, wamid="wamid.TWICE")
    second = store(tenant_a, 1, wamid="wamid.TWICE")
    assert process_pending_batch(tenant=tenant_a) == 2
    with tenant_scope(tenant_a):
        assert Message.objects.filter(wamid="wamid.TWICE").count() == 1
        assert PendingLeaf.objects.filter(record_table="archive.message").count() == 1
        assert Delivery.objects.get(pk=first[0]).summary["archived_messages"] == 1
        assert Delivery.objects.get(pk=second[0]).summary["archived_messages"] == 0
    assert statuses(tenant_a) == {"processed": 2}


def test_a_delivery_that_fails_in_a_batch_fails_alone(tenant_a, connected_employee):
    """A delivery the database refuses makes its batch fail: the batch is undone and processed
    one by one, so the others are archived and only that one waits, failed, for the sweeper.
    (The database itself refuses it: a check constraint on one wamid, for this test only; an
    overlong wamid, the old way to fail one, is now refused as oversized and never fails.)"""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(
            "ALTER TABLE archive_message ADD CONSTRAINT test_refuses_one "
            "CHECK (wamid <> 'wamid.REFUSED50')"
        )
    set_role(connection, settings.DB_APP_ROLE)
    good = store(tenant_a, 3)
    [bad] = store(tenant_a, 1, first=50, wamid="wamid.REFUSED{}")
    assert process_pending_batch(tenant=tenant_a) == 4
    with tenant_scope(tenant_a):
        failed = Delivery.objects.get(pk=bad)
        assert failed.status == Delivery.Status.FAILED and failed.attempts == 1
        assert "IntegrityError" in failed.last_error
        done = Delivery.objects.filter(pk__in=good)
        assert [d.status for d in done] == [Delivery.Status.PROCESSED] * 3
        assert [d.attempts for d in done] == [1, 1, 1]
        assert Message.objects.count() == 3
        assert PendingLeaf.objects.filter(record_table="archive.message").count() == 3


def test_a_batch_keeps_to_its_byte_budget_and_the_drain_carries_on(
    tenant_a, connected_employee, monkeypatch
):
    """A batch takes the oldest deliveries whose bodies fit the byte budget (at least one, however
    big); the rest stay pending and the drain goes on with them instead of leaving them to the
    sweeper."""
    ids = store(tenant_a, 5)
    with tenant_scope(tenant_a):
        size = len(bytes(Delivery.objects.get(pk=ids[0]).body))
    assert process_pending_batch(tenant=tenant_a, max_bytes=2 * size + size // 2) == 2
    assert process_pending_batch(tenant=tenant_a, max_bytes=1) == 1  # one, however big
    with tenant_scope(tenant_a):
        done = set(
            Delivery.objects.filter(status=Delivery.Status.PROCESSED).values_list("pk", flat=True)
        )
    assert done == set(ids[:3])

    monkeypatch.setattr(processing, "DRAIN_BATCH_BYTES", 1)
    asked = []
    assert drain_pending(tenant=tenant_a, on_backlog=lambda: asked.append(1)) == 2
    assert statuses(tenant_a) == {"processed": 5}
    assert len(asked) == 1  # the first batch left one behind: help was asked for
    with tenant_scope(tenant_a):
        assert Message.objects.count() == 5

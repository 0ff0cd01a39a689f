"""A legal hold always wins over disposition and erasure: held messages are never disposed of
(they are counted on the page and in the certificate), are disposed of on the first run after
the hold's release, and a hold placed while disposition runs is never lost to it (two
connections: the hold's transaction holds the holds lock when disposition starts)."""

from __future__ import annotations

import time
from datetime import date

import pytest
from django.db import connection

from archive.holds.services import place_hold, release_hold
from archive.ledger.models import Tombstone
from archive.models import Message
from archive.retention.disposition import dispose_records, disposition_plan
from archive.retention.erasure import record_erasure_request
from archive.retention.services import create_policy
from archive.search.services import create_saved_search
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.retention_helpers import ADMIN, IN_2028, logged_archive, verify
from tests.database import side_by_side
from tests.fixtures import login

pytestmark = pytest.mark.usefixtures("anchor_dir")


def hold(tenant, **scope):
    with tenant_scope(tenant):
        return place_hold(tenant=tenant, actor=ADMIN, matter=scope.pop("matter", "Matter X"),
                          reason="Subpoena", **scope)  # fmt: skip


def disposed_wamids(tenant) -> set[str]:
    with tenant_scope(tenant):
        ids = Tombstone.objects.filter(record_table="archive.message").values("record_id")
        return set(Message.objects.filter(pk__in=ids).values_list("wamid", flat=True))


def first_two(tenant) -> list[Message]:
    with tenant_scope(tenant):
        return list(Message.objects.order_by("whatsapp_timestamp", "pk")[:2])


def test_held_messages_survive_disposition_until_the_hold_is_released(tenant_a):
    logged_archive(tenant_a, count=4)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    kept = first_two(tenant_a)
    held = hold(
        tenant_a,
        conversation_ids=[kept[0].conversation_id],
        until=kept[1].whatsapp_timestamp.replace(second=59),
    )

    plan = disposition_plan(tenant=tenant_a, now=IN_2028)
    assert (plan.messages, plan.held) == (2, 2)
    outcome = dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)
    assert (outcome.messages, outcome.held) == (2, 2)
    assert disposed_wamids(tenant_a).isdisjoint({m.wamid for m in kept})
    with tenant_scope(tenant_a):
        assert set(Message.objects.filter(pk__in=[m.pk for m in kept]).values_list(
            "text", flat=True)) == {m.text for m in kept}  # fmt: skip
    assert "OK:" in verify()

    with tenant_scope(tenant_a):
        release_hold(tenant=tenant_a, actor=ADMIN, hold=held, reason="Matter closed")
    again = dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)
    assert (again.messages, again.held) == (2, 0)
    assert {m.wamid for m in kept} <= disposed_wamids(tenant_a)
    assert "OK:" in verify()


def test_the_page_counts_what_holds_keep(client, tenant_a, alice):
    logged_archive(tenant_a, count=2)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    [first, _] = first_two(tenant_a)
    hold(tenant_a, conversation_ids=[first.conversation_id])
    login(client, alice)
    # The messages of March 2026 are not past a year yet today: none due, none counted.
    page = client.get("/archive/retention/").content.decode()
    assert "The next run will dispose of no messages;" in page
    assert disposition_plan(tenant=tenant_a, now=IN_2028).held == 2


def test_an_erasure_request_is_refused_while_a_hold_applies(tenant_a):
    logged_archive(tenant_a, count=2)
    [first, _] = first_two(tenant_a)
    placed = hold(tenant_a, matter="Matter X", conversation_ids=[first.conversation_id])
    decided = record_erasure_request(
        tenant=tenant_a, actor=ADMIN, subject_kind="counterparty", counterparty_number="+5511999",
        law="gdpr", requested_by="The client", requested_on=date(2026, 12, 1),
    )  # fmt: skip
    assert decided.decision == "refused"
    assert decided.basis.splitlines() == [
        f"Legal hold 'Matter X' placed {placed.created_at:%Y-%m-%d}.",
        "GDPR Art. 17(3)(e): erasure does not apply while the records are needed for the "
        "establishment, exercise or defence of legal claims.",
    ]
    with tenant_scope(tenant_a):
        assert all(Message.objects.values_list("text", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_hold_placed_while_disposition_starts_is_never_lost(tenant_a):
    """The hold's transaction has placed the hold (and holds the lock, exclusive) but not yet
    committed when disposition starts: disposition waits, then reads the hold. Without the lock
    it would read the holds without the uncommitted one and dispose of what it names."""
    logged_archive(tenant_a, count=4)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    kept = first_two(tenant_a)
    waited: list[float] = []

    def placing(meet):
        with tenant_scope(tenant_a):
            place_hold(tenant=tenant_a, actor=ADMIN, matter="Late matter", reason="Subpoena",
                       conversation_ids=[kept[0].conversation_id],
                       until=kept[1].whatsapp_timestamp.replace(second=59))  # fmt: skip
            meet()
            time.sleep(1.0)  # disposition starts now, while this is not committed

    def disposing(meet):
        meet()
        started = time.monotonic()
        dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028)
        waited.append(time.monotonic() - started)

    assert side_by_side(placing, disposing) == []
    assert waited[0] >= 0.5  # it waited for the hold's commit
    assert disposed_wamids(tenant_a).isdisjoint({m.wamid for m in kept})
    assert len(disposed_wamids(tenant_a)) == 2
    connection.close()
    assert "OK:" in verify()


def test_a_hold_by_saved_search_is_honoured_by_the_plan_the_run_and_the_page(
    client, tenant_a, alice
):
    logged_archive(tenant_a, count=3)
    create_policy(tenant=tenant_a, actor=ADMIN, preset="firm", years=1)
    with tenant_scope(tenant_a):
        saved = create_saved_search(tenant=tenant_a, actor=ADMIN, name="Petrobras talk",
                                    query="petrobras", filters={})  # fmt: skip
    hold(tenant_a, saved_search=saved.pk)

    plan = disposition_plan(tenant=tenant_a, now=IN_2028)
    assert (plan.messages, plan.held, plan.counts["archive.messageevent"]) == (0, 3, 0)
    assert dispose_records(tenant=tenant_a, actor=ADMIN, now=IN_2028).messages == 0
    assert disposed_wamids(tenant_a) == set()
    login(client, alice)
    assert client.get("/archive/retention/").status_code == 200

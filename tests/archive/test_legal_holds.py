"""Legal holds (archive/holds/): what a hold names, now and later; placing, correcting and
releasing one; bad input refused with nothing kept; the audit trail; another firm's ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction

from archive.holds.models import LegalHold
from archive.holds.selectors import (
    held_by,
    held_messages_q,
    hold_messages,
    holds_on,
    lock_holds,
)
from archive.holds.services import HoldError, place_hold, release_hold, update_hold
from archive.models import Conversation, Message
from archive.search.query import QueryError
from archive.search.selectors import SearchFilters, matching_messages, search_messages
from archive.search.services import create_saved_search, update_saved_search
from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    archive_events,
    archive_messages,
)
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee
from tests.database import side_by_side
from tests.polling import wait_until

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ACTOR = Actor.command("test")


def employee(tenant, n: int, name: str) -> Employee:
    with tenant_scope(tenant):
        return Employee.objects.create(
            tenant=tenant, full_name=name, email=f"e{n}@{tenant.slug}.example",
            employee_id=f"E{n}", phone_number=f"+551190000000{n}",
            whatsapp_phone_number_id=f"{tenant.pk}0{n}",
        )  # fmt: skip


def capture(tenant, who: Employee, wamid: str, text: str, *, client: tuple[str, str],
            at: datetime, direction: str = "inbound") -> Message:  # fmt: skip
    """Archive one message as ingestion does, and return it."""
    wa_id, name = client
    with tenant_scope(tenant):
        archive_messages(
            tenant=tenant,
            records=[
                MessageRecord(
                    conversation=ConversationKey(who.pk, who.whatsapp_phone_number_id, wa_id),
                    counterparty={"wa_id": wa_id, "name": name}, business_display_number="",
                    wamid=wamid, direction=direction, type="text", whatsapp_timestamp=at,
                    received_at=at, text=text, structured={}, context={}, is_history=False,
                    flags=[], raw={}, delivery_id=None,
                )
            ],
        )  # fmt: skip
        return Message.objects.get(tenant=tenant, wamid=wamid)


JOSE = ("5511987001111", "José Álvarez")
MARIA = ("5491155552222", "María Núñez")


@pytest.fixture
def archive_a(tenant_a):
    """Two employees of firm A talking with two clients over three days."""
    ana, bruno = employee(tenant_a, 1, "Ana Souza"), employee(tenant_a, 2, "Bruno Díaz")
    messages = {
        "a1": capture(tenant_a, ana, "a1", "buy the shares now", client=JOSE, at=START),
        "a2": capture(tenant_a, ana, "a2", "Bom dia", client=MARIA, at=START + timedelta(days=1)),
        "b1": capture(
            tenant_a, bruno, "b1", "sell the shares", client=JOSE, at=START + timedelta(days=2)
        ),
        "b2": capture(tenant_a, bruno, "b2", "lunch?", client=MARIA, at=START + timedelta(days=2)),
    }
    return {"ana": ana, "bruno": bruno, "messages": messages}


def held(tenant, hold: LegalHold) -> set[str]:
    with tenant_scope(tenant):
        return set(hold_messages(tenant=tenant, hold=hold).values_list("wamid", flat=True))


def held_by_any(tenant) -> set[str]:
    with tenant_scope(tenant):
        rows = Message.objects.filter(tenant=tenant).filter(held_messages_q(tenant=tenant))
        return set(rows.values_list("wamid", flat=True))


def free(tenant) -> set[str]:
    with tenant_scope(tenant):
        rows = Message.objects.filter(tenant=tenant).exclude(held_messages_q(tenant=tenant))
        return set(rows.values_list("wamid", flat=True))


def place(tenant, **scope) -> LegalHold:
    with tenant_scope(tenant):
        return place_hold(
            tenant=tenant, actor=ACTOR, matter=scope.pop("matter", "SEC inquiry 2026-14"),
            reason=scope.pop("reason", "Subpoena of 2 March"), **scope,
        )  # fmt: skip


def trail(tenant) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(
            AuditEvent.objects.filter(action__startswith="archive.legal_hold").order_by("id")
        )


# --- what a hold names ----------------------------------------------------------------------


def test_each_scope_names_its_messages_and_the_conditions_of_one_hold_all_apply(
    tenant_a, archive_a
):
    ana, bruno = archive_a["ana"], archive_a["bruno"]
    with tenant_scope(tenant_a):
        jose_ana = Conversation.objects.get(employee=ana, counterparty_key=JOSE[0])
    assert held(tenant_a, place(tenant_a, employee_ids=[ana.pk])) == {"a1", "a2"}
    assert held(tenant_a, place(tenant_a, employee_ids=[ana.pk, bruno.pk])) == {
        "a1", "a2", "b1", "b2"
    }  # fmt: skip
    assert held(tenant_a, place(tenant_a, conversation_ids=[jose_ana.pk])) == {"a1"}
    assert held(tenant_a, place(tenant_a, counterparty="+5511987001111")) == {"a1", "b1"}
    assert held(tenant_a, place(tenant_a, counterparty="núñez")) == {"a2", "b2"}
    window = place(tenant_a, since=START + timedelta(days=1), until=START + timedelta(days=2))
    assert held(tenant_a, window) == {"a2"}, "since inclusive, until exclusive"
    both = place(tenant_a, employee_ids=[bruno.pk], counterparty="José")
    assert held(tenant_a, both) == {"b1"}, "a custodian AND a client: their messages together"


def test_a_message_captured_after_the_hold_is_placed_is_held(tenant_a, archive_a):
    ana = archive_a["ana"]
    hold = place(tenant_a, employee_ids=[ana.pk])
    by_client = place(tenant_a, counterparty="Carla")
    later = capture(tenant_a, ana, "a9", "new chat", client=("5511900009999", "Carla Dias"),
                    at=START + timedelta(days=9))  # fmt: skip
    assert "a9" in held(tenant_a, hold)
    assert held(tenant_a, by_client) == {"a9"}, "a client's conversation that began later"
    assert "a9" in held_by_any(tenant_a)
    with tenant_scope(tenant_a):
        assert [h.pk for h in holds_on(tenant=tenant_a, message=later)] == [hold.pk, by_client.pk]


def test_held_messages_q_joins_every_active_hold_and_leaves_the_rest_free(tenant_a, archive_a):
    ana = archive_a["ana"]
    assert held_by_any(tenant_a) == set(), "no hold, nothing held"
    assert free(tenant_a) == {"a1", "a2", "b1", "b2"}
    place(tenant_a, employee_ids=[ana.pk])
    window = place(tenant_a, since=START + timedelta(days=2))
    assert held_by_any(tenant_a) == {"a1", "a2", "b1", "b2"}
    with tenant_scope(tenant_a):
        release_hold(tenant=tenant_a, actor=ACTOR, hold=window, reason="Matter closed")
    assert held_by_any(tenant_a) == {"a1", "a2"}
    assert free(tenant_a) == {"b1", "b2"}, "a released hold holds nothing"
    assert held(tenant_a, window) == {"b1", "b2"}, "its scope still reads (for the record)"


def test_held_messages_q_costs_one_query_per_saved_search_however_many_rows(
    tenant_a, archive_a, django_assert_max_num_queries
):
    ana = archive_a["ana"]
    with tenant_scope(tenant_a):
        saved = create_saved_search(
            tenant=tenant_a, actor=ACTOR, name="Shares", query="shares", filters={}
        )
    place(tenant_a, saved_search=saved.pk)
    place(tenant_a, employee_ids=[ana.pk])
    with tenant_scope(tenant_a):
        # Reading the holds, and the saved search's lexicon: then the rows are PostgreSQL's.
        with django_assert_max_num_queries(2):
            condition = held_messages_q(tenant=tenant_a)
        with django_assert_max_num_queries(1):
            rows = Message.objects.filter(tenant=tenant_a).exclude(condition)
            assert set(rows.values_list("wamid", flat=True)) == {"b2"}


def test_a_saved_search_hold_keeps_the_version_chosen_when_it_was_placed(tenant_a, archive_a):
    with tenant_scope(tenant_a):
        saved = create_saved_search(
            tenant=tenant_a, actor=ACTOR, name="Shares", query="shares",
            filters={"direction": "inbound"},
        )  # fmt: skip
    hold = place(tenant_a, saved_search=saved.pk)
    assert held(tenant_a, hold) == {"a1", "b1"}
    with tenant_scope(tenant_a):
        update_saved_search(saved=saved, actor=ACTOR, query="lunch")
    assert held(tenant_a, hold) == {"a1", "b1"}, "a later edit of the search changes no hold"
    pinned_v1 = place(tenant_a, saved_search=saved.pk, saved_search_version=1)
    current = place(tenant_a, saved_search=saved.pk)
    assert (pinned_v1.saved_search_version.number, current.saved_search_version.number) == (1, 2)
    assert held(tenant_a, current) == {"b2"}


def test_a_saved_search_hold_holds_a_message_whose_edit_matches(tenant_a, archive_a):
    with tenant_scope(tenant_a):
        saved = create_saved_search(
            tenant=tenant_a, actor=ACTOR, name="Merger", query="merger", filters={}
        )
    hold = place(tenant_a, saved_search=saved.pk)
    assert held(tenant_a, hold) == set()
    with tenant_scope(tenant_a):
        archive_events(
            tenant=tenant_a,
            records=[
                EventRecord(
                    kind="edit", event_key="edit-b2", target_wamid="b2", direction="inbound",
                    whatsapp_timestamp=START + timedelta(days=3),
                    received_at=START + timedelta(days=3),
                    payload={"message": {"text": "about the merger"}}, raw={}, delivery_id=None,
                )
            ],
        )  # fmt: skip
    assert held(tenant_a, hold) == {"b2"}, "matched later, by its edit"
    assert held_by_any(tenant_a) == {"b2"}


def test_held_by_answers_a_page_of_messages_in_one_query(
    tenant_a, archive_a, django_assert_num_queries
):
    ana, bruno = archive_a["ana"], archive_a["bruno"]
    first = place(tenant_a, employee_ids=[ana.pk], matter="First")
    second = place(tenant_a, counterparty="José", matter="Second")
    place(tenant_a, employee_ids=[bruno.pk], matter="Released")
    with tenant_scope(tenant_a):
        release_hold(
            tenant=tenant_a, actor=ACTOR, hold=LegalHold.objects.get(matter="Released"),
            reason="Closed",
        )  # fmt: skip
        ids = {m.wamid: m.pk for m in archive_a["messages"].values()}
        with django_assert_num_queries(2):  # the active holds, then every message at once
            found = held_by(tenant=tenant_a, message_ids=ids.values())
    named = {wamid: [h.matter for h in found.get(pk, [])] for wamid, pk in ids.items()}
    assert named == {"a1": ["First", "Second"], "a2": ["First"], "b1": ["Second"], "b2": []}
    assert (first.is_active, second.is_active) == (True, True)


# --- the search filter "legal hold" -------------------------------------------------------


def test_the_search_filter_legal_hold_lists_what_the_hold_names(tenant_a, tenant_b, archive_a):
    hold = place(tenant_a, employee_ids=[archive_a["ana"].pk])
    with tenant_scope(tenant_a):
        found = search_messages(tenant=tenant_a, query="shares", legal_hold=hold.pk)
        assert [hit.message.wamid for hit in found.hits] == ["a1"]
        rows = matching_messages(
            tenant=tenant_a, query="", filters=SearchFilters(legal_hold=hold.pk)
        ).rows
        assert set(rows.values_list("wamid", flat=True)) == {"a1", "a2"}
    with tenant_scope(tenant_b), pytest.raises(QueryError, match="no such legal hold"):
        search_messages(tenant=tenant_b, query="", legal_hold=hold.pk)


# --- placing, correcting, releasing ---------------------------------------------------------


def test_placing_a_hold_is_audited_with_its_scope_and_the_count_it_holds_now(tenant_a, archive_a):
    ana = archive_a["ana"]
    hold = place(tenant_a, employee_ids=[ana.pk], since=START, matter="FINRA 2026-7")
    [event] = trail(tenant_a)
    assert event.action == "archive.legal_hold_placed"
    assert event.target_id == str(hold.pk)
    assert event.details["count"] == 2
    assert event.details["matter"] == "FINRA 2026-7"
    assert event.details["scope"]["employee_ids"] == [ana.pk]
    assert event.details["scope"]["since"] == START.isoformat()
    assert "2 messages" in event.target_label


def test_release_needs_a_reason_happens_once_and_is_audited(tenant_a, archive_a):
    hold = place(tenant_a, employee_ids=[archive_a["ana"].pk])
    with tenant_scope(tenant_a):
        with pytest.raises(HoldError, match="reason"):
            release_hold(tenant=tenant_a, actor=ACTOR, hold=hold, reason="   ")
        hold.refresh_from_db()
        assert hold.is_active, "refused: nothing changed"
        released = release_hold(tenant=tenant_a, actor=ACTOR, hold=hold, reason="Case settled")
        assert (released.status, released.release_reason) == ("released", "Case settled")
        assert released.released_by_label == ACTOR.label and released.released_at is not None
        with pytest.raises(HoldError, match="released already"):
            release_hold(tenant=tenant_a, actor=ACTOR, hold=hold, reason="Again")
        hold.refresh_from_db()
        assert hold.release_reason == "Case settled"
    actions = [(e.action, e.details.get("reason"), e.details.get("count")) for e in trail(tenant_a)]
    assert actions == [
        ("archive.legal_hold_placed", "Subpoena of 2 March", 2),
        ("archive.legal_hold_released", "Case settled", 2),
    ]


def test_only_the_matter_and_reason_can_be_corrected(tenant_a, archive_a):
    hold = place(tenant_a, employee_ids=[archive_a["ana"].pk], matter="SEC 14")
    with tenant_scope(tenant_a):
        same = update_hold(tenant=tenant_a, actor=ACTOR, hold=hold, matter="SEC 14")
        changed = update_hold(tenant=tenant_a, actor=ACTOR, hold=same, matter="SEC 2026-14")
        with pytest.raises(HoldError, match="Name the matter"):
            update_hold(tenant=tenant_a, actor=ACTOR, hold=hold, matter=" ")
    assert changed.matter == "SEC 2026-14"
    assert changed.employee_ids == [archive_a["ana"].pk]
    updates = [e for e in trail(tenant_a) if e.action == "archive.legal_hold_updated"]
    assert [e.details for e in updates] == [
        {
            "before": {"matter": "SEC 14", "reason": "Subpoena of 2 March"},
            "after": {"matter": "SEC 2026-14", "reason": "Subpoena of 2 March"},
        }
    ], "one event: the unchanged correction recorded nothing"


ANA = "ana"  # stands for Ana's id, known once the archive is built


@pytest.mark.parametrize(
    ("scope", "field", "message"),
    [
        ({}, "scope", "at least one employee, conversation, counterparty, date range or saved"),
        ({"counterparty": "   "}, "scope", "at least one employee"),
        ({"employee_ids": [987654]}, "employees", "no employee 987654 in this firm"),
        ({"conversation_ids": [987654]}, "conversations", "no conversation 987654"),
        ({"employee_ids": [0]}, "employees", "whole number"),
        (
            {"since": START + timedelta(days=2), "until": START},
            "until",
            "end of the date range must come after its start",
        ),
        ({"since": START.replace(tzinfo=None)}, "since", "time zone"),
        ({"saved_search": 987654}, "saved_search", "no such saved search"),
        ({"employee_ids": ANA, "matter": " "}, "matter", "Name the matter"),
        ({"employee_ids": ANA, "reason": ""}, "reason", "reason for the hold"),
        ({"employee_ids": ANA, "counterparty": "x" * 301}, "counterparty", "At most 300"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_kept(
    tenant_a, archive_a, scope, field, message
):
    if scope.get("employee_ids") == ANA:
        scope = {**scope, "employee_ids": [archive_a["ana"].pk]}
    with pytest.raises(HoldError, match=message) as refused:
        place(tenant_a, **scope)
    assert refused.value.field == field
    with tenant_scope(tenant_a):
        assert not LegalHold.objects.exists()
    assert trail(tenant_a) == []


def test_another_firms_employee_conversation_or_saved_search_reads_as_missing(
    tenant_a, tenant_b, archive_a
):
    ana = archive_a["ana"]
    with tenant_scope(tenant_a):
        conversation = Conversation.objects.filter(employee=ana).first()
        saved = create_saved_search(
            tenant=tenant_a, actor=ACTOR, name="Shares", query="shares", filters={}
        )
    for scope, message in (
        ({"employee_ids": [ana.pk]}, f"no employee {ana.pk} in this firm"),
        ({"conversation_ids": [conversation.pk]}, f"no conversation {conversation.pk}"),
        ({"saved_search": saved.pk}, "no such saved search"),
    ):
        with pytest.raises(HoldError, match=message):
            place(tenant_b, **scope)
    with tenant_scope(tenant_b):
        assert not LegalHold.objects.exists()
    hold = place(tenant_a, employee_ids=[ana.pk])
    with tenant_scope(tenant_b):
        assert LegalHold.objects.filter(pk=hold.pk).count() == 0
        assert LegalHold.all_tenants.filter(pk=hold.pk).count() == 0, "the database wall"
        bruno_b = employee(tenant_b, 1, "Bruno B")
    other = capture(tenant_b, bruno_b, "x1", "shares", client=JOSE, at=START)
    assert held_by_any(tenant_b) == set()
    with tenant_scope(tenant_b):
        assert holds_on(tenant=tenant_b, message=other) == []


def test_a_saved_search_that_filters_by_a_hold_cannot_define_one(tenant_a, archive_a):
    first = place(tenant_a, employee_ids=[archive_a["ana"].pk])
    with tenant_scope(tenant_a):
        saved = create_saved_search(
            tenant=tenant_a,
            actor=ACTOR,
            name="Held",
            query="",
            filters={"legal_hold": str(first.pk)},
        )
    with pytest.raises(HoldError, match="filters by a legal hold"):
        place(tenant_a, saved_search=saved.pk)


def test_the_database_refuses_a_hold_of_nothing_or_a_release_without_reason(tenant_a):
    with tenant_scope(tenant_a):
        with pytest.raises(IntegrityError), transaction.atomic():
            LegalHold.objects.create(tenant=tenant_a, matter="M", reason="R", created_by_label="x")
        with pytest.raises(IntegrityError), transaction.atomic():
            LegalHold.objects.create(
                tenant=tenant_a, matter="M", reason="R", created_by_label="x", counterparty="a",
                status="released", released_at=START,
            )  # fmt: skip


# --- a hold placed while disposition runs ---------------------------------------------------


def _someone_waits_for_the_hold_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0] > 0


def _free_after_locking(tenant) -> set[str]:
    """What a disposition run would treat as not held: the lock first, then the holds."""
    with tenant_scope(tenant), transaction.atomic():
        lock_holds(tenant=tenant, shared=True)
        rows = Message.objects.filter(tenant=tenant).exclude(held_messages_q(tenant=tenant))
        return set(rows.values_list("wamid", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_disposition_that_starts_while_a_hold_is_being_placed_waits_and_sees_it(
    tenant_a, archive_a
):
    ana = archive_a["ana"]
    seen: list[set[str]] = []

    def officer(meet) -> None:
        with tenant_scope(tenant_a), transaction.atomic():
            place_hold(tenant=tenant_a, actor=ACTOR, matter="M", reason="R", employee_ids=[ana.pk])
            meet()
            # Commit only once the disposition is waiting for the hold (not before it asked).
            wait_until(_someone_waits_for_the_hold_lock, failure="disposition never waited")

    def disposition(meet) -> None:
        meet()
        seen.append(_free_after_locking(tenant_a))

    assert side_by_side(officer, disposition) == []
    assert seen == [{"b1", "b2"}], "Ana's messages were held by the time it read"


@pytest.mark.django_db(transaction=True)
def test_a_hold_placed_while_disposition_reads_the_holds_waits_for_it(tenant_a, archive_a):
    ana = archive_a["ana"]
    order: list[str] = []

    def disposition(meet) -> None:
        with tenant_scope(tenant_a), transaction.atomic():
            lock_holds(tenant=tenant_a, shared=True)
            meet()
            wait_until(_someone_waits_for_the_hold_lock, failure="the hold never waited")
            order.append("disposition done")

    def officer(meet) -> None:
        meet()
        place(tenant_a, employee_ids=[ana.pk])
        order.append("hold placed")

    assert side_by_side(disposition, officer) == []
    assert order == ["disposition done", "hold placed"]
    assert held_by_any(tenant_a) == {"a1", "a2"}

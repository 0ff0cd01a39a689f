"""Legal hold pages (/archive/holds/): an officer places a hold on an employee's messages, reads
what it covers and how many messages it holds, searches them, corrects the matter and releases
it with a reason; the conversation, proof and history pages say "Under legal hold"; auditors
read but cannot place or release; another firm sees nothing."""

from __future__ import annotations

import re

import pytest

from archive.holds.models import LegalHold
from archive.models import Message
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from tests.fixtures import login
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send


@pytest.fixture
def archived(client, tenant_a, connected_employee):
    """Two messages of Ana's with two clients."""
    t = now_seconds()
    for n, (wa_id, text) in enumerate([("5511911110000", "buy"), ("5511922220000", "hello")]):
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=f"wamid.P{n}", text=text,
                                  timestamp=t + n, wa_id=wa_id, name=f"Client {n}"),
        )  # fmt: skip
    with tenant_scope(tenant_a):
        return {m.wamid: m for m in Message.objects.all()}


def holds(tenant) -> list[LegalHold]:
    with tenant_scope(tenant):
        return list(LegalHold.objects.order_by("id"))


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_an_officer_places_searches_corrects_and_releases_a_hold(
    client, oscar, tenant_a, archived, connected_employee
):
    login(client, oscar)
    listing = client.get("/archive/holds/")
    assert listing.status_code == 200
    assert "No legal holds yet" in text_of(listing)
    assert 'href="/archive/holds/new/"' in text_of(listing)

    form = client.get("/archive/holds/new/")
    assert "release this hold and place a new one" in text_of(form)
    placed = client.post(
        "/archive/holds/new/",
        {"matter": "SEC 2026-14", "reason": "Subpoena", "counterparty": "5511911110000"},
        follow=True,
    )
    [hold] = holds(tenant_a)
    assert placed.redirect_chain[-1][0] == f"/archive/holds/{hold.pk}/"
    page = text_of(placed)
    assert "Legal hold: SEC 2026-14" in page
    assert "With the client “+55 11 91111-0000”" in page
    assert "Messages it covers now</dt><dd>1 ·" in page
    assert f'href="/archive/search/?legal_hold={hold.pk}"' in page

    found = text_of(client.get(f"/archive/search/?legal_hold={hold.pk}"))
    assert "1 message matches" in found
    assert "buy" in found and "hello" not in found

    listing = text_of(client.get("/archive/holds/"))
    assert "SEC 2026-14" in listing and "Active" in listing

    corrected = client.post(
        f"/archive/holds/{hold.pk}/", {"matter": "SEC 2026-14 (NY)", "reason": "Subpoena"},
        follow=True,
    )  # fmt: skip
    assert "Legal hold: SEC 2026-14 (NY)" in text_of(corrected)

    refused = client.post(f"/archive/holds/{hold.pk}/release/", {"reason": ""})
    assert refused.status_code == 400
    assert "This field is required" in text_of(refused)
    assert holds(tenant_a)[0].is_active
    released = client.post(
        f"/archive/holds/{hold.pk}/release/", {"reason": "Matter settled"}, follow=True
    )
    page = text_of(released)
    assert "Released: the messages it covered follow their retention again" in page
    assert "Matter settled" in page
    assert "Release the hold</button>" not in page
    with tenant_scope(tenant_a):
        actions = list(
            AuditEvent.objects.filter(action__startswith="archive.legal_hold")
            .order_by("id")
            .values_list("action", flat=True)
        )
    assert actions == [
        "archive.legal_hold_placed", "archive.legal_hold_updated", "archive.legal_hold_released"
    ]  # fmt: skip


def test_bad_input_on_the_form_says_what_is_wrong_and_keeps_nothing(
    client, oscar, tenant_a, archived
):
    login(client, oscar)
    empty = client.post("/archive/holds/new/", {"matter": "M", "reason": "R"})
    assert empty.status_code == 200
    assert (
        "A hold must name at least one employee, conversation, counterparty, date range or "
        "saved search." in text_of(empty)
    )
    reversed_dates = client.post(
        "/archive/holds/new/",
        {"matter": "M", "reason": "R", "since": "2026-03-05", "until": "2026-03-01"},
    )
    assert "The end date is before the start date." in text_of(reversed_dates)
    unknown = client.post(
        "/archive/holds/new/", {"matter": "M", "reason": "R", "employees": ["999999"]}
    )
    assert "Select a valid choice" in text_of(unknown)
    assert holds(tenant_a) == []


def test_held_messages_say_so_on_the_conversation_proof_and_history_pages(
    client, oscar, tenant_a, archived, connected_employee
):
    login(client, oscar)
    client.post(
        "/archive/holds/new/",
        {"matter": "FINRA 7", "reason": "Inquiry", "counterparty": "5511911110000"},
    )
    held, free = archived["wamid.P0"], archived["wamid.P1"]
    conversation = text_of(client.get(f"/archive/conversations/{held.conversation_id}/"))
    assert "Under legal hold: " in conversation and "FINRA 7</a>" in conversation
    assert "1 message of this conversation is under legal hold" in conversation
    other = text_of(client.get(f"/archive/conversations/{free.conversation_id}/"))
    assert "Under legal hold" not in other and "under legal hold" not in other
    for url in (f"/archive/messages/{held.pk}/proof/", f"/archive/messages/{held.pk}/history/"):
        assert "Under legal hold: " in text_of(client.get(url))
    assert "Under legal hold" not in text_of(client.get(f"/archive/messages/{free.pk}/history/"))


def test_auditors_read_holds_but_cannot_place_correct_or_release_them(
    client, oscar, audrey, tenant_a, archived
):
    login(client, oscar)
    client.post("/archive/holds/new/", {"matter": "M", "reason": "R", "counterparty": "5511"})
    [hold] = holds(tenant_a)
    client.logout()
    login(client, audrey)
    listing = text_of(client.get("/archive/holds/"))
    assert "M</a>" in listing and "/archive/holds/new/" not in listing
    detail = client.get(f"/archive/holds/{hold.pk}/")
    assert detail.status_code == 200
    assert "Release the hold" not in text_of(detail)
    assert client.get("/archive/holds/new/").status_code == 403
    assert client.post("/archive/holds/new/", {"matter": "N", "reason": "R",
                                               "counterparty": "1"}).status_code == 403  # fmt: skip
    assert client.post(f"/archive/holds/{hold.pk}/release/", {"reason": "x"}).status_code == 403
    assert (
        client.post(f"/archive/holds/{hold.pk}/", {"matter": "X", "reason": "Y"}).status_code == 403
    )
    [after] = holds(tenant_a)
    assert (after.matter, after.is_active) == ("M", True)


def test_another_firm_gets_404_for_a_hold_and_sees_none(
    client, oscar, bob, tenant_a, tenant_b, archived
):
    login(client, oscar)
    client.post("/archive/holds/new/", {"matter": "Secret matter", "reason": "R",
                                        "counterparty": "5511"})  # fmt: skip
    [hold] = holds(tenant_a)
    client.logout()
    login(client, bob)
    assert client.get(f"/archive/holds/{hold.pk}/").status_code == 404
    assert client.post(f"/archive/holds/{hold.pk}/release/", {"reason": "x"}).status_code == 404
    assert "Secret matter" not in text_of(client.get("/archive/holds/"))
    search = text_of(client.get(f"/archive/search/?legal_hold={hold.pk}"))
    assert "Select a valid choice" in search
    assert holds(tenant_a)[0].is_active

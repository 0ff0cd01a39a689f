"""The conversation around an alert shows messages as they stand: an edited message with its
new text and "edited", a message deleted for everyone marked so (the flagged one too), and a
voice note named in words, not by WhatsApp's type code (the end-to-end journey found the page
showing the original text, no mark, and "audio"). The API's alert gives the same lines by the
same rule (it gave the original text and no mark)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from django.urls import reverse

from archive.services import EventRecord, archive_events, archive_messages
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee
from tests.archive.ledger_helpers import message_record


def _event(tenant, kind: str, n: int, payload: dict) -> EventRecord:
    record = message_record(Employee(pk=0, tenant_id=tenant.pk), n)
    at = record.whatsapp_timestamp + timedelta(seconds=30)
    return EventRecord(
        kind=kind, event_key=f"{kind}:{tenant.pk}:{n}", target_wamid=record.wamid,
        direction=record.direction, whatsapp_timestamp=at, received_at=at, payload=payload,
        raw={kind: payload}, delivery_id=None,
    )  # fmt: skip


def test_edits_deletions_and_voice_notes_show_in_the_context(alerts, login_as, oscar):
    first, second = alerts  # on messages 0 and 2; message 1 is "Bom dia, reunião às 15h"
    tenant = first.tenant
    with tenant_scope(tenant):
        employee = first.employee
        voice = replace(message_record(employee, 3), type="audio", text="")
        archive_messages(tenant=tenant, records=[voice])
        archive_events(
            tenant=tenant,
            records=[
                _event(tenant, "edit", 1, {"message": {"text": "Bom dia, reunião às 16h"}}),
                _event(tenant, "revoke", 2, {}),
            ],
        )
    client = login_as(oscar)

    page = client.get(reverse("alerts:alert", args=[first.pk])).content.decode()
    context = page.split('class="alert-context"', 1)[1].split("</ol>", 1)[0]
    assert "Bom dia, reunião às 16h" in context and "às 15h" not in context
    assert " · edited</span>" in context
    assert context.count("deleted for everyone") == 1  # message 2, after the flagged one

    page = client.get(reverse("alerts:alert", args=[second.pk])).content.decode()
    context = page.split('class="alert-context"', 1)[1].split("</ol>", 1)[0]
    assert "flagged · deleted for everyone</span>" in context
    assert "<br>Audio</li>" in context and "<br>audio</li>" not in context


def test_the_api_gives_the_context_as_the_page_shows_it(alerts, login_as, oscar):
    first, second = alerts  # on messages 0 and 2
    tenant = first.tenant
    with tenant_scope(tenant):
        voice = replace(message_record(first.employee, 3), type="audio", text="")
        archive_messages(tenant=tenant, records=[voice])
        archive_events(
            tenant=tenant,
            records=[
                _event(tenant, "edit", 0, {"message": {"text": "Returns are never certain"}}),
                _event(tenant, "edit", 1, {"message": {"text": "Bom dia, reunião às 16h"}}),
                _event(tenant, "revoke", 2, {}),
            ],
        )
    client = login_as(oscar)

    body = client.get(f"/api/v1/alerts/{first.pk}/").json()
    flagged = body["message"]
    assert flagged["text"] == "I guarantee returns of 20% a month, <b>trust me</b>"  # as scanned
    assert flagged["text_now"] == "Returns are never certain"
    assert (flagged["edited"], flagged["deleted"]) == (True, False)
    lines = [(m["text"], m["edited"], m["deleted"]) for m in body["conversation_context"]["after"]]
    assert lines == [
        ("Bom dia, reunião às 16h", True, False),
        ("Guaranteed profit, keep it between us", False, True),
        ("Audio", False, False),
    ]
    page = client.get(reverse("alerts:alert", args=[first.pk])).content.decode()
    assert "edited since: now “Returns are never certain”" in page
    assert "Bom dia, reunião às 16h" in page and "às 15h" not in page

    body = client.get(f"/api/v1/alerts/{second.pk}/").json()
    assert (body["message"]["edited"], body["message"]["deleted"]) == (False, True)
    assert body["message"]["text_now"] == body["message"]["text"]
    before = body["conversation_context"]["before"]
    assert [(m["text"], m["edited"]) for m in before] == [
        ("Returns are never certain", True),
        ("Bom dia, reunião às 16h", True),
    ]
    assert [m["text"] for m in body["conversation_context"]["after"]] == ["Audio"]

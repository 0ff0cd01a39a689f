"""An officer opens the archive in a browser, finds Cliente Silva's conversation and reads it:
the edited message shows its current text and every version on demand, the message deleted for
everyone is marked with its original kept, and the page runs under the strict CSP."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ARTIFACTS, log_in
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_reads_a_conversation_with_an_edit_and_a_deletion(
    live_server, page, client, tenant_a, connected_employee, oscar
):
    t = now_seconds()
    for payload in [
        payloads.inbound_text(
            phone_number_id=PHONE_ID, wamid="wamid.IN1", text="Quero comprar ações", timestamp=t
        ),
        payloads.echo_text(
            phone_number_id=PHONE_ID, wamid="wamid.OUT1", text="Garanto 20% ao mês", timestamp=t + 5
        ),
        payloads.inbound_edit(
            phone_number_id=PHONE_ID, wamid="wamid.E1", original="wamid.IN1",
            text="Quero vender ações", timestamp=t + 40,
        ),
        payloads.envelope(
            "smb_message_echoes",
            {"message_echoes": [{"from": payloads.DISPLAY_NUMBER, "to": "5511912345678",
                                 "id": "wamid.DEL1", "timestamp": str(t + 50), "type": "revoke",
                                 "revoke": {"original_message_id": "wamid.OUT1"}}]},
            phone_number_id=PHONE_ID,
        ),
    ]:  # fmt: skip
        send(client, tenant_a, payload)

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Archive").click()
    expect(page.get_by_role("heading", name="Archive")).to_be_visible()
    page.get_by_role("link", name="Cliente Silva").click()
    expect(page).to_have_url(re.compile(r"/archive/conversations/\d+/$"))

    edited = page.locator(".chat-row.in").filter(has_text="Quero vender ações")
    expect(edited).to_contain_text("edited")
    expect(edited.get_by_text("Quero comprar ações")).to_be_hidden()
    edited.get_by_text(re.compile("every version")).click()
    expect(edited.get_by_text("Quero comprar ações")).to_be_visible()

    deleted = page.locator(".chat-row.out")
    expect(deleted).to_contain_text("Deleted for everyone")
    expect(deleted).to_contain_text("Garanto 20% ao mês")
    page.screenshot(path=str(ARTIFACTS / "conversation-page.png"), full_page=True)
    assert errors == [], errors

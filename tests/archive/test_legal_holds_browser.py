"""An officer places a legal hold in the browser: from the archive to the holds list, the form
(a client's number), the hold's page with its count, and the search of the held messages; the
pages run under the strict CSP with no console error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ARTIFACTS, log_in
from tests.ingestion import payloads
from tests.ingestion.delivering import PHONE_ID, now_seconds, send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_places_a_hold_and_searches_what_it_holds(
    live_server, page, client, tenant_a, connected_employee, oscar
):
    t = now_seconds()
    for n, (wa_id, text) in enumerate([("5511911110000", "buy the shares"),
                                       ("5511922220000", "lunch at noon")]):  # fmt: skip
        send(
            client, tenant_a,
            payloads.inbound_text(phone_number_id=PHONE_ID, wamid=f"wamid.B{n}", text=text,
                                  timestamp=t + n, wa_id=wa_id),
        )  # fmt: skip

    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Archive").click()
    page.get_by_role("link", name="Legal holds").click()
    expect(page.get_by_role("heading", name="Legal holds")).to_be_visible()
    expect(page.get_by_text("No legal holds yet")).to_be_visible()
    page.get_by_role("link", name="Place a hold").click()

    page.get_by_label("Matter").fill("SEC 2026-14")
    page.get_by_label("Reason").fill("Subpoena of 2 March")
    page.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_role("alert")).to_contain_text("A hold must name at least one employee")

    page.get_by_label("Matter").fill("SEC 2026-14")
    page.get_by_label("Reason").fill("Subpoena of 2 March")
    page.get_by_label("Client").fill("+5511911110000")
    page.get_by_role("button", name="Place the hold").click()
    expect(page).to_have_url(re.compile(r"/archive/holds/\d+/$"))
    expect(page.get_by_role("heading", name="Legal hold: SEC 2026-14")).to_be_visible()
    expect(page.locator("dl.facts")).to_contain_text("With the client “+55 11 91111-0000”")
    page.screenshot(path=str(ARTIFACTS / "legal-hold-page.png"), full_page=True)

    page.get_by_role("link", name="search the held messages").click()
    expect(page.locator(".search-count")).to_contain_text("1 message matches")
    expect(page.locator(".search-results")).to_contain_text("buy the shares")
    expect(page.locator(".search-results")).not_to_contain_text("lunch at noon")
    assert errors == [], errors

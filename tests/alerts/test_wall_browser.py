"""A masked officer in a browser (pseudonymised review as a wall): the alert page shows
pseudonyms and no link to the conversation; the archive's search says why it is closed to
them; they unmask the alert with a reason, the link appears, and the conversation opens with
the real names. Under the strict CSP (no console errors)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alerts.masking import employee_pseudonym
from alerts.review_settings import update_review_settings
from compliance_hub.audit.actors import Actor
from tests.browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_masked_officer_unmasks_an_alert_to_read_its_conversation(
    live_server, page, alerts, oscar, tenant_a
):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    alert = alerts[0]
    log_in(page, live_server.url, oscar)

    page.goto(f"{live_server.url}/archive/search/?q=guarantee")
    expect(page.get_by_text("In this firm reviews are pseudonymised")).to_be_visible()
    expect(page.get_by_text("Cliente Silva")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "wall-search-refused.png"), full_page=True)

    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    expect(
        page.get_by_text(employee_pseudonym(tenant_a.pk, alert.employee_id)).first
    ).to_be_visible()
    expect(page.get_by_text("Unmask this alert to open its conversation")).to_be_visible()
    expect(
        page.get_by_role("link", name="Read the whole conversation in the archive")
    ).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "wall-alert-masked.png"), full_page=True)

    page.get_by_label("Why do you need to see who this is?").fill(
        "The promise of returns needs the context"
    )
    page.get_by_role("button", name="Unmask this alert").click()
    link = page.get_by_role("link", name="Read the whole conversation in the archive")
    expect(link).to_be_visible()
    expect(page.get_by_text("Employee of firm-a").first).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(rf"/archive/conversations/{alert.conversation_id}/"))
    expect(page.get_by_text("Cliente Silva").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "wall-conversation-opened.png"), full_page=True)

    page.goto(f"{live_server.url}/archive/search/?q=guarantee")
    expect(page.get_by_text("In this firm reviews are pseudonymised")).to_be_visible()
    # The two refused searches are 403 pages by design; nothing else may fail.
    refused = "the server responded with a status of 403"
    assert [e for e in errors if refused not in e] == [], errors
    assert len(errors) == 2

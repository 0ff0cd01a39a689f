"""An officer opens the alert queue in a browser, opens the riskiest alert, sees the matched
words highlighted, and closes it as a false positive with a rationale; the queue no longer
lists it. The pages run under the strict CSP (no console errors)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert, Status
from compliance_hub.tenancy.context import tenant_scope
from tests.browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_closes_an_alert_as_false_positive(live_server, page, alerts, oscar):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("heading", name="Alerts", exact=True)).to_be_visible()
    riskiest = max(alerts, key=lambda a: (a.risk, a.pk))
    page.get_by_role("link", name=f"Alert {riskiest.pk}", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/alerts/{riskiest.pk}/$"))

    expect(page.locator("mark.hit").first).to_be_visible()
    expect(page.locator("mark.hit").first).to_have_text(re.compile("^guarantee", re.IGNORECASE))

    page.get_by_role("button", name="Claim for review").click()
    expect(page.get_by_text("You are reviewing this alert.").first).to_be_visible()
    page.get_by_label("Move to").select_option("closed")
    page.get_by_label("Disposition").select_option("false_positive")
    page.get_by_label("Rationale").fill("A quote from the training material, not a promise.")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_text("The alert is now closed.")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "alert-closed.png"), full_page=True)

    with tenant_scope(riskiest.tenant_id):
        closed = Alert.objects.get(pk=riskiest.pk)
    assert (closed.status, closed.disposition) == (Status.CLOSED, "false_positive")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Alerts").click()
    expect(page.get_by_role("link", name=f"Alert {riskiest.pk}", exact=True)).to_have_count(0)
    assert errors == [], errors

"""An officer opens the alerts dashboard in a browser, sees the charts drawn from the stats API
(with their tables and CSV links), closes an alert, and the dashboard's numbers change: one
alert fewer waiting, one more closed by them. Under the strict CSP (no console errors)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _card(page, title: str):
    return page.locator("section.chart-card").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


def test_an_officer_sees_the_dashboard_change_after_closing_an_alert(
    live_server, page, alerts, oscar
):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.goto(f"{live_server.url}/alerts/")
    page.get_by_role("link", name="Alerts dashboard").click()
    expect(page.get_by_role("heading", name="Alerts dashboard")).to_be_visible()

    waiting = _card(page, "Open alerts by age")
    expect(waiting.locator("svg rect")).to_have_count(1)  # one bar: both alerts under a day
    expect(waiting.locator("[data-chart-total]")).to_have_text(re.compile(r"^Total: 2 "))
    raised = _card(page, "Alerts raised")
    expect(raised.locator("svg")).to_be_visible()
    expect(raised.get_by_role("link", name="Download CSV")).to_have_attribute(
        "href", re.compile(r"^/api/v1/stats/alerts-over-time/\?.*format=csv")
    )
    closed_by_me = _card(page, "Reviewer throughput")
    expect(closed_by_me.get_by_text("Nothing in this range.").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "alerts-dashboard-before.png"), full_page=True)

    alert = alerts[0]
    page.goto(f"{live_server.url}/alerts/{alert.pk}/")
    page.get_by_label("Move to").select_option("closed")
    page.get_by_label("Disposition").select_option("false_positive")
    page.get_by_label("Rationale").fill("A quote from the training material.")
    page.get_by_role("button", name="Save status").click()
    expect(page.get_by_text("The alert is now closed.")).to_be_visible()

    page.goto(f"{live_server.url}/alerts/dashboard/")
    expect(waiting.locator("[data-chart-total]")).to_have_text(re.compile(r"^Total: 1 "))
    expect(closed_by_me.locator("[data-chart-total]")).to_have_text(re.compile(r"^Total: 1 "))
    closed_by_me.get_by_text("The figures as a table").click()
    expect(closed_by_me.locator("table td").filter(has_text="oscar")).to_have_count(1)
    fp = _card(page, "False-positive rate per policy")
    expect(fp.locator("table td").filter(has_text="Promises of returns")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "alerts-dashboard-after.png"), full_page=True)
    assert errors == [], errors

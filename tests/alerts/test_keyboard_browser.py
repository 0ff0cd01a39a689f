"""An officer works the queue by keyboard in headless Chromium: the help overlay, j/k through the
list (and nothing fires while typing in a field), Enter opens an alert, a claims it, f closes it
as a false positive once a rationale is written, and the database says it is closed. Then a
bulk close of a page from the queue's bar. The pages run under the strict CSP (no console
errors)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from alerts.models import Alert, Status
from compliance_hub.tenancy.context import tenant_scope
from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def test_an_officer_closes_an_alert_as_false_positive_by_keyboard(live_server, page, alerts, oscar):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.goto(f"{live_server.url}/alerts/")
    rows = page.locator("tr[data-alert-row]")
    expect(rows).to_have_count(2)

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    page.get_by_label("Category").press("j")  # typing in a field: no shortcut
    expect(page.locator("tr.is-current")).to_have_count(0)
    page.get_by_label("Category").fill("")
    page.locator("h1").click()

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("is-current"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    first_id = int(re.search(r"\d+", rows.nth(0).locator("a").first.inner_text()).group())
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/alerts/{first_id}/$"))
    alert = next(a for a in alerts if a.pk == first_id)

    page.keyboard.press("a")
    expect(page.get_by_text("You are reviewing this alert.").first).to_be_visible()
    assert _stored(alert).claimed_by_id == oscar.user.pk

    page.keyboard.press("f")
    rationale = page.get_by_label("Rationale")
    expect(rationale).to_be_focused()
    page.keyboard.press("Control+Enter")  # no rationale yet: the browser keeps the form
    expect(rationale).to_be_focused()
    assert _stored(alert).status == Status.IN_REVIEW
    page.keyboard.type("A quote from the training material.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("The alert is now closed.")).to_be_visible()

    stored = _stored(alert)
    assert (stored.status, stored.disposition, stored.rationale) == (
        Status.CLOSED,
        "false_positive",
        "A quote from the training material.",
    )
    assert errors == [], errors


def test_an_officer_closes_a_page_of_alerts_in_bulk(live_server, page, alerts, oscar):
    log_in(page, live_server.url, oscar)
    page.goto(f"{live_server.url}/alerts/")
    page.get_by_label("Choose every alert on this page").check()
    page.get_by_label("With the chosen alerts").select_option("close")
    page.get_by_label("Disposition (to close)").select_option("false_positive")
    page.locator("#bulk-rationale").fill("Both quote the training material.")
    page.get_by_role("button", name="Apply to the chosen alerts").click()
    expect(page.get_by_text("2 alerts changed.")).to_be_visible()
    assert [_stored(a).status for a in alerts] == [Status.CLOSED, Status.CLOSED]

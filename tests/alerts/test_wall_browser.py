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


def test_a_masked_officer_scopes_a_policy_to_an_employee_by_pseudonym(
    live_server, page, oscar, tenant_a
):
    from compliance_hub.tenancy.context import tenant_scope
    from policies.models import PolicyVersion
    from policies.services import create_policy
    from tests.consent.employees import make_employee

    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    with tenant_scope(tenant_a):
        zelda = make_employee(tenant_a, full_name="Zelda Quintana", employee_id="ZQ-7781")
        policy, _ = create_policy(
            tenant=tenant_a, actor=Actor.system(),
            document={"name": "Promises", "severity": "high", "detect": {"detector": "pii"}},
        )  # fmt: skip
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shown = employee_pseudonym(tenant_a.pk, zelda.pk)
    log_in(page, live_server.url, oscar)

    page.goto(f"{live_server.url}/policies/{policy.pk}/edit/")
    employees = page.locator("#policy-employees")
    expect(employees).to_contain_text(shown)
    expect(page.get_by_text("Zelda Quintana")).to_have_count(0)
    employees.select_option(label=shown)
    page.get_by_label("Why it changed").fill("Only her desk")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator(".messages")).to_contain_text("Saved as version 2.")
    expect(page.get_by_text(f"Employees {shown}.")).to_be_visible()
    expect(page.get_by_text("ZQ-7781")).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "wall-policy-scope.png"), full_page=True)
    with tenant_scope(tenant_a):
        latest = PolicyVersion.objects.get(policy=policy, number=2)
    assert latest.document["scope"] == {"employees": ["ZQ-7781"]}
    assert errors == []

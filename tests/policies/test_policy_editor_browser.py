"""An officer sets up policies in the browser: switches on a built-in pack, opens one of its
policies, lowers a minimum score, tests a message and sees the matched words highlighted (the
result comes in place, the edits stay), saves with a note and finds version 2 in the history;
all under the strict CSP with no console error."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from policies.detectors import classifier
from tests.browser import ARTIFACTS, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def model_loaded():
    """The classifiers' model, loaded (trained from the shipped corpus, minutes on a loaded
    machine) in this process before the page asks for it: the live server shares it."""
    return classifier.active_model()


def test_an_officer_switches_on_a_pack_tunes_a_policy_tests_it_and_saves_version_2(
    live_server, page, tenant_a, oscar, model_loaded
):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, live_server.url, oscar)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", name="Policies", exact=True)).to_be_visible()
    expect(page.get_by_text("The firm has no policies yet")).to_be_visible()

    page.get_by_role("button", name="Switch on the Conduct pack").click()
    expect(page.locator(".messages")).to_contain_text("Conduct pack switched on: 1 added")
    page.get_by_role("link", name="Harassment").click()
    expect(page.get_by_role("heading", name="Policy: Harassment")).to_be_visible()
    page.get_by_role("link", name="Edit").click()

    score = page.locator("#cond-0-min_score")
    expect(score).to_have_value("0.7")
    score.fill("0.6")
    page.get_by_label("Message to test").fill("<b>shut up</b>, you idiot!")
    page.get_by_role("button", name="Test this text").click()
    result = page.locator("#trial-result")
    expect(result).to_contain_text("The policy fires on this message.", timeout=90_000)
    expect(result.locator("mark", has_text="you idiot")).to_have_count(1)
    expect(result.locator(".trial-text")).to_contain_text("<b>shut up</b>")
    # The result came in place: the unsaved change is still in its field.
    expect(score).to_have_value("0.6")
    page.screenshot(path=str(ARTIFACTS / "policy-editor-trial.png"), full_page=True)

    page.get_by_label("Why it changed").fill("catch more abuse")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page).to_have_url(re.compile(r"/policies/\d+/$"))
    expect(page.locator(".messages")).to_contain_text("Saved as version 2.")
    versions = page.locator("table.versions")
    expect(versions).to_contain_text("Version 2")
    expect(versions).to_contain_text("catch more abuse")
    page.get_by_role("link", name="Changes from version 1").click()
    expect(page.locator(".diff-added")).to_contain_text('"min_score": 0.6')
    assert errors == [], errors

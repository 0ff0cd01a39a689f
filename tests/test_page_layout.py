"""Every page a person reaches from the menu fits a laptop's 1280 px on the demo tenant's data:
nothing scrolls sideways, long values and headings wrap (issue 8: tables overflowed)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from compliance_hub.management.commands.seed_demo import DEMO_PASSWORD
from consent import gate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOWING = """
    [...document.querySelectorAll('.table-wrap')]
      .filter((wrap) => wrap.scrollWidth > wrap.clientWidth)
      .map((wrap) => wrap.querySelector('th')?.textContent || wrap.outerHTML.slice(0, 80))
"""


def _code(email: str) -> str:
    out = StringIO()
    call_command("totp_code", email, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()[-1]


def _log_in(page, base_url: str, email: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label(re.compile("email", re.I)).fill(email)
    page.get_by_label(re.compile("password", re.I)).fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()
    page.get_by_label(re.compile("code", re.I)).fill(_code(email))
    page.get_by_role("button", name=re.compile("sign in|verify|continue|log in", re.I)).click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.mark.parametrize("role", ["admin", "officer", "auditor"])
def test_every_menu_page_of_the_demo_fits_1280_pixels(live_server, page, role):
    gate.clear_cache()
    call_command("seed_demo", stdout=StringIO())
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in(page, live_server.url, f"{role}@demo.example")
    links = page.eval_on_selector_all(
        "nav a[href^='/']", "(links) => [...new Set(links.map((a) => a.getAttribute('href')))]"
    )
    assert len(links) >= 3
    wide = {}
    for href in links:
        response = page.goto(f"{live_server.url}{href}")
        assert response.status == 200, href
        overflowing = page.evaluate(OVERFLOWING)
        if page.evaluate("document.documentElement.scrollWidth") > 1280 or overflowing:
            wide[href] = overflowing
    assert wide == {}

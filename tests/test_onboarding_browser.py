"""An invited member joins in a real browser: set a password, set up the authenticator app, land
on the dashboard. The browser fetches the favicon as every browser does."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from tests.fixtures import make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What Chromium sends for a page's icon: images first, anything at low priority, never text/html.
ICON_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"


def _fetch_icon(page, url: str) -> dict:
    return page.evaluate(
        """async ([url, accept]) => {
            const r = await fetch(url, {headers: {Accept: accept}, credentials: "same-origin"});
            return {status: r.status, type: r.headers.get("content-type"), url: r.url};
        }""",
        [url, ICON_ACCEPT],
    )


def test_an_invited_member_joins_sets_up_two_factor_and_lands_on_the_dashboard(live_server, page):
    import pyotp

    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    admin = make_person("alice@firm-a.example", tenant=firm, role=Role.ADMIN)
    _, link = invite_user(
        tenant=firm,
        email="nina@firm-a.example",
        role=Role.OFFICER,
        actor=Actor.for_user(admin.user),
    )

    page.goto(live_server.url + "/join/" + link.split("/join/", 1)[1])
    page.get_by_label("Full name").fill("Nina New")
    page.get_by_label("Password", exact=True).fill("a-Long-enough-pass-42")
    page.get_by_label("Password again").fill("a-Long-enough-pass-42")
    page.get_by_role("button", name="Accept invitation").click()

    # Straight to the authenticator: the password just set is not asked for again.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value().strip()

    # Every page names its icon, and the icon is an image that we serve.
    icon_href = page.locator("link[rel='icon']").first.get_attribute("href")
    assert icon_href
    for url in (icon_href, "/favicon.ico"):
        answer = _fetch_icon(page, url)
        assert answer["status"] == 200, answer
        assert answer["type"].startswith("image/"), answer
        assert "/accounts/" not in answer["url"], answer
    # The page's secret is still the one that will be checked.
    page.reload()
    assert page.locator("#authenticator_secret").input_value().strip() == secret

    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("activate", re.I)).click()
    expect(page.get_by_text(re.compile("incorrect code", re.I))).to_have_count(0)
    expect(page.get_by_text(re.compile("recovery codes", re.I)).first).to_be_visible()

    page.get_by_role("link", name=re.compile("continue to the dashboard", re.I)).click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Firm A Bank")

"""A person's journey in a real browser: log in with password and TOTP, land on the dashboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role
from compliance_hub.tenancy.services import create_tenant
from tests.fixtures import PASSWORD, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_logs_in_with_a_totp_code_and_lands_on_the_dashboard(live_server, page):
    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    officer = make_person("oscar@firm-a.example", tenant=firm, role=Role.OFFICER)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label(re.compile("email", re.I)).fill(officer.email)
    page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()

    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label(re.compile("code", re.I)).fill(officer.totp_code())
    page.get_by_role("button", name=re.compile("sign in|verify|continue|log in", re.I)).click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Firm A Bank")
    navigation = page.get_by_role("navigation").first
    expect(navigation).to_contain_text("Dashboard")
    expect(navigation).not_to_contain_text("API keys")  # officers do not manage keys


def test_a_new_admin_without_mfa_is_walked_through_setting_it_up(live_server, page):
    import pyotp

    firm = create_tenant(slug="firm-a", name="Firm A Bank", actor=Actor.system())
    admin = make_person("alice@firm-a.example", tenant=firm, role=Role.ADMIN, mfa=False)

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(re.compile("email", re.I)).fill(admin.email)
    page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in|log in", re.I)).click()

    # Straight to setting up the authenticator app; allauth first asks for the password again.
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.locator("#authenticator_secret").input_value().strip()
    page.get_by_label("Authenticator code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name=re.compile("activate", re.I)).click()
    expect(page.get_by_text(re.compile("recovery codes", re.I)).first).to_be_visible()
    page.goto(f"{live_server.url}/members/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("members", re.I))

"""Each role's pages, and the employee's consent page, work under the Content-Security-Policy in
a real browser: nothing is refused (no inline script, style or handler), and Swagger UI loads."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from django.test import Client
from playwright.sync_api import expect

from compliance_hub.tenancy.models import Role
from tests.consent.employees import invitation_path, make_employee
from tests.fixtures import PASSWORD, login, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _watch_console(page) -> list[str]:
    """Every console error and page error (CSP refusals are logged as console errors), and
    every failed response. The browser's own favicon fetch is left to the favicon's tests."""
    problems: list[str] = []

    def on_console(message) -> None:
        where = message.location.get("url") or ""
        if message.type == "error" and not where.endswith("/favicon.ico"):
            problems.append(f"{message.text} ({where})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def _sign_in(page, live_server, person) -> None:
    client = Client()
    login(client, person)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _main_pages(page, live_server) -> list[str]:
    page.goto(f"{live_server.url}/")
    links = page.locator("nav.main-nav a, .account-bar a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return sorted({urljoin(f"{live_server.url}/", href) for href in links})


@pytest.mark.parametrize("persona", ["alice", "oscar", "audrey"])
def test_every_main_page_of_each_role_runs_under_the_policy(
    live_server, page, request, tenant_a, persona
):
    person = request.getfixturevalue(persona)
    employee = make_employee(tenant_a)
    problems = _watch_console(page)
    _sign_in(page, live_server, person)
    pages = [
        *_main_pages(page, live_server),
        f"{live_server.url}/employees/{employee.pk}/",
        f"{live_server.url}/accounts/2fa/recovery-codes/",
    ]
    assert len(pages) >= 5
    for url in pages:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert "default-src 'self'" in (response.headers.get("content-security-policy") or "")
        page.wait_for_load_state("networkidle")
    assert problems == [], problems


def test_swagger_ui_loads_under_the_policy(live_server, page, alice):
    problems = _watch_console(page)
    _sign_in(page, live_server, alice)
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Compliance Hub API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert problems == [], problems


def test_the_authenticator_set_up_shows_its_qr_code_under_the_policy(live_server, page, tenant_a):
    """The QR code is a data: image (img-src allows data:)."""
    newcomer = make_person("nina@firm-a.example", tenant=tenant_a, role=Role.OFFICER, mfa=False)
    problems = _watch_console(page)
    _sign_in(page, live_server, newcomer)
    page.goto(f"{live_server.url}/accounts/2fa/totp/activate/")
    if "/reauthenticate/" in page.url:  # allauth asks for the password first
        page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
        page.get_by_role("button", name=re.compile("confirm", re.I)).click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert problems == [], problems


def test_the_employee_consent_page_runs_under_the_policy(live_server, phone_page, tenant_a):
    problems = _watch_console(phone_page)
    path = invitation_path(make_employee(tenant_a))
    response = phone_page.goto(f"{live_server.url}{path}")
    assert response is not None and response.status == 200
    expect(phone_page.get_by_role("button").first).to_be_visible()
    assert re.search("default-src 'self'", response.headers["content-security-policy"])
    assert problems == [], problems

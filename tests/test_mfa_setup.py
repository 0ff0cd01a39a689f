"""Setting up two-factor authentication: only pages a person opens are sent to the set-up; the
secret on screen stays the one that is checked; the authenticator cannot be switched off."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from compliance_hub.accounts.models import Invitation
from compliance_hub.tenancy.context import tenant_scope
from tests.fixtures import PASSWORD, has_totp, login

ACTIVATE = "/accounts/2fa/totp/activate/"
PAGE = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}
ICON = {"HTTP_ACCEPT": "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"}


def _secret(response) -> str:
    found = re.search(
        r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', response.content.decode()
    )
    assert found, "the activation page shows the secret"
    return found.group(1)


@pytest.fixture
def newcomer(client, tenant_a, person_factory):
    """Signed in with a password just now, no authenticator yet."""
    person = person_factory("newbie@firm-a.example", tenant=tenant_a, role="officer", mfa=False)
    client.post("/accounts/login/", {"login": person.email, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    return person


def test_the_favicon_is_an_image_we_serve(client, db):
    response = client.get("/favicon.ico", **ICON)
    if response.status_code in (301, 302):
        response = client.get(response["Location"], **ICON)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")
    assert b"".join(response.streaming_content if response.streaming else [response.content])


def test_pages_name_their_icon(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert re.search(r'<link rel="icon"[^>]+href="/static/[^"]+"', page)


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/favicon.ico", ICON),
        ("/apple-touch-icon.png", ICON),
        ("/members/", ICON),
        ("/members/", {"HTTP_ACCEPT": "*/*"}),
        ("/members/", {**PAGE, "HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}),
        ("/members/", {**PAGE, "HTTP_SEC_FETCH_DEST": "image"}),
        ("/members/", {**PAGE, "HTTP_SEC_FETCH_MODE": "cors"}),
    ],
)
def test_requests_that_are_not_page_visits_are_never_sent_to_the_set_up(
    client, newcomer, path, headers
):
    secret = _secret(client.get(ACTIVATE, **PAGE))
    response = client.get(path, **headers)
    assert response.status_code != 302 or ACTIVATE not in response["Location"]
    assert _secret(client.get(ACTIVATE, **PAGE)) == secret


def test_a_form_sent_without_two_factor_is_refused_plainly(client, newcomer, tenant_a):
    response = client.post("/members/", {"email": "x@firm-a.example", "role": "officer"}, **PAGE)
    assert response.status_code == 403
    assert "two-factor" in response.content.decode().lower()
    with tenant_scope(tenant_a):
        assert not Invitation.objects.exists()


def test_a_page_visit_is_sent_to_the_set_up(client, newcomer):
    response = client.get("/members/", **PAGE)
    assert response.status_code == 302 and response["Location"] == ACTIVATE


def test_the_pending_secret_stays_until_the_authenticator_is_activated(client, newcomer):
    import pyotp

    first = _secret(client.get(ACTIVATE, **PAGE))
    assert _secret(client.get(ACTIVATE, **PAGE)) == first, "a reload keeps the QR code valid"
    response = client.post(ACTIVATE, {"code": pyotp.TOTP(first).now()})
    assert response.status_code == 302
    assert has_totp(newcomer.user)


def test_a_new_session_gets_a_new_secret(client, newcomer):
    first = _secret(client.get(ACTIVATE, **PAGE))
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": newcomer.email, "password": PASSWORD})
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert _secret(client.get(ACTIVATE, **PAGE)) != first


def test_the_security_page_does_not_offer_to_switch_two_factor_off(client, alice):
    login(client, alice)
    page = client.get(reverse("mfa_index"), **PAGE).content.decode()
    assert reverse("mfa_deactivate_totp") not in page
    assert "deactivate" not in page.lower()


def test_switching_two_factor_off_is_refused(client, alice):
    login(client, alice)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("mfa_deactivate_totp"), **PAGE)
        assert response.status_code == 403
        assert "required" in response.content.decode().lower()
    assert has_totp(alice.user)

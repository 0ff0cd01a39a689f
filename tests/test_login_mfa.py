"""Logging in: email + password + TOTP for every role; throttling; replayed codes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Role
from tests.fixtures import PASSWORD, has_totp, login

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"


def _password_step(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def _actions(tenant) -> list[str]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize("role", Role.values)
def test_every_role_needs_the_totp_code_after_the_password(client, tenant_a, person_factory, role):
    person = person_factory(f"{role}@firm-a.example", tenant=tenant_a, role=role)
    response = _password_step(client, person.email)
    assert response.status_code == 302 and response["Location"].startswith(MFA)
    # Not logged in yet: the dashboard still sends us to the login page.
    assert client.get("/").status_code == 302
    assert client.get("/")["Location"].startswith(LOGIN)

    response = client.post(MFA, {"code": person.totp_code()})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert tenant_a.name in dashboard.content.decode()
    assert "auth.login" in _actions(tenant_a)


def test_a_wrong_totp_code_is_refused_and_audited(client, tenant_a, alice):
    _password_step(client, alice.email)
    response = client.post(MFA, {"code": "000000" if alice.totp_code() != "000000" else "111111"})
    assert response.status_code == 200
    assert "code" in response.content.decode().lower()
    assert client.get("/").status_code == 302
    assert "mfa.code_rejected" in _actions(tenant_a)


def test_a_replayed_totp_code_is_refused(client, tenant_a, alice):
    code = alice.totp_code()
    _password_step(client, alice.email)
    assert client.post(MFA, {"code": code}).status_code == 302
    client.post("/accounts/logout/")

    _password_step(client, alice.email)
    response = client.post(MFA, {"code": code})
    assert response.status_code == 200, "the same code must not log in twice"
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", Role.values)
def test_a_member_without_mfa_can_only_set_it_up(client, tenant_a, person_factory, role):
    person = person_factory(f"new-{role}@firm-a.example", tenant=tenant_a, role=role, mfa=False)
    response = _password_step(client, person.email)
    assert response.status_code == 302
    for path in ("/", "/members/", "/audit/", "/api-keys/"):
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_activate_totp")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "mfa_required"
    # Setting up the authenticator asks for the password once more (allauth's reauthentication).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 302 and setup["Location"].startswith("/accounts/reauthenticate/")
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    assert not has_totp(person.user)


def test_wrong_passwords_are_throttled_and_audited(client, tenant_a, alice):
    for _ in range(5):
        response = _password_step(client, alice.email, "wrong-password-1")
        assert response.status_code == 200
    response = _password_step(client, alice.email, PASSWORD)
    assert response.status_code in (200, 429)
    assert "too many" in response.content.decode().lower()
    assert not response.get("Location", "").startswith(MFA), "throttled: the right password too"
    actions = _actions(tenant_a)
    assert actions.count("auth.login_failed") == 5
    assert "auth.login_throttled" in actions


def test_failed_login_of_an_unknown_address_goes_to_the_platform_trail(client, db):
    _password_step(client, "nobody@nowhere.example", "whatever-password")
    with unscoped():
        event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.tenant_id is None
    assert event.actor_label == "nobody@nowhere.example"
    assert event.details == {"reason": "unknown address"}


def test_logout_ends_the_session_and_is_audited(client, tenant_a, alice):
    login(client, alice)
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302
    assert "auth.logout" in _actions(tenant_a)


def test_sessions_expire(settings):
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_a_member_of_a_suspended_firm_is_told_so(client, tenant_a, alice):
    from compliance_hub.tenancy.services import set_tenant_status

    set_tenant_status(tenant=tenant_a, status="suspended", actor=Actor.system())
    login(client, alice)
    response = client.get("/")
    assert response.status_code == 403
    assert "suspended" in response.content.decode().lower()


def test_setting_up_the_authenticator_app_is_audited_and_then_required(
    client, tenant_a, person_factory, django_capture_on_commit_callbacks
):
    import re

    import pyotp

    person = person_factory("newbie@firm-a.example", tenant=tenant_a, role=Role.OFFICER, mfa=False)
    _password_step(client, person.email)
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page) or re.search(
        r'value="([A-Z2-7]{16,})"[^>]*id="authenticator_secret"', page
    )
    assert secret, "the activation page shows the secret"
    # allauth announces the new authenticator once the request's transaction commits.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("mfa_activate_totp"), {"code": pyotp.TOTP(secret.group(1)).now()}
        )
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert has_totp(person.user)
    assert "mfa.authenticator_added" in _actions(tenant_a)

    client.post("/accounts/logout/")
    assert _password_step(client, person.email)["Location"].startswith(MFA)


def test_a_recovery_code_logs_in_once(client, tenant_a, alice):
    from allauth.mfa.models import Authenticator
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes(
        Authenticator.objects.get(user=alice.user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    _password_step(client, alice.email)
    assert client.post(MFA, {"code": codes[0]}).status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    _password_step(client, alice.email)
    assert client.post(MFA, {"code": codes[0]}).status_code == 200  # refused: used already
    assert client.get("/").status_code == 302

"""Failed logins are limited per account and per address+account, with a much higher ceiling per
address alone, so one person behind a firm's shared address cannot lock the whole firm out.
Lock-outs reach the audit trail once per window, never once per attempt."""

from __future__ import annotations

import re

from django.test import Client

from compliance_hub.audit.actors import client_ip
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Role
from tests.fixtures import PASSWORD

LOGIN = "/accounts/login/"
MFA = "/accounts/2fa/authenticate/"
FIRM_ADDRESS = "198.51.100.20"


def _attempt(client, email: str, password: str, address: str = FIRM_ADDRESS, **headers):
    return client.post(
        LOGIN, {"login": email, "password": password}, REMOTE_ADDR=address, **headers
    )


def _passed_password_step(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(MFA)


def _events(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_a_colleague_behind_the_same_address_still_logs_in(tenant_a, person_factory):
    clumsy = person_factory("clumsy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    careful = person_factory("careful@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    for _ in range(12):
        _attempt(Client(), clumsy.email, "not-the-password-1")
    assert not _passed_password_step(_attempt(Client(), clumsy.email, PASSWORD))
    assert _passed_password_step(_attempt(Client(), careful.email, PASSWORD))


def test_many_failures_for_many_accounts_from_one_address_leave_real_users_alone(
    tenant_a, person_factory
):
    careful = person_factory("careful@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    for n in range(30):
        _attempt(Client(), f"typo{n}@firm-a.example", "not-the-password-1")
    assert _passed_password_step(_attempt(Client(), careful.email, PASSWORD))


def test_one_address_alone_still_has_a_ceiling(db, settings):
    from allauth.core.internal.ratelimit import parse_rates

    rates = parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"])
    per_address = [rate for rate in rates if rate.per == "ip"]
    assert per_address and per_address[0].amount >= 50
    for n in range(per_address[0].amount):
        _attempt(Client(), f"spray{n}@elsewhere.example", "not-the-password-1")
    answer = _attempt(Client(), "one-more@elsewhere.example", "not-the-password-1")
    assert "try again" in answer.content.decode().lower()


def test_the_same_account_from_many_addresses_is_still_limited(tenant_a, person_factory):
    target = person_factory("target@firm-a.example", tenant=tenant_a, role=Role.ADMIN)
    for n in range(40):
        _attempt(Client(), target.email, "not-the-password-1", address=f"203.0.113.{n + 1}")
    response = _attempt(Client(), target.email, PASSWORD, address="192.0.2.77")
    assert not _passed_password_step(response)
    assert "try again" in response.content.decode().lower()


def test_the_person_is_told_when_to_try_again_and_not_blamed(tenant_a, person_factory):
    clumsy = person_factory("clumsy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    for _ in range(5):
        _attempt(Client(), clumsy.email, "not-the-password-1")
    page = _attempt(Client(), clumsy.email, PASSWORD).content.decode()
    assert re.search(r"try again at \d\d:\d\d UTC", page, re.I), page


def test_throttled_attempts_write_one_aggregated_audit_entry_per_window(tenant_a, person_factory):
    clumsy = person_factory("clumsy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    for _ in range(5):
        _attempt(Client(), clumsy.email, "not-the-password-1")
    for _ in range(24):
        _attempt(Client(), clumsy.email, "not-the-password-1")
    assert len(_events(tenant_a, "auth.login_failed")) == 5
    throttled = _events(tenant_a, "auth.login_throttled")
    assert len(throttled) == 1, "one entry for the window, not one per attempt"
    details = throttled[0].details
    assert details["failed_attempts"] == 5
    assert details["locked_until"]
    assert throttled[0].actor_label == clumsy.email


def test_a_flood_of_unknown_addresses_stays_bounded_in_the_platform_trail(db, settings):
    from allauth.core.internal.ratelimit import parse_rates

    ceiling = next(
        rate.amount
        for rate in parse_rates(settings.ACCOUNT_RATE_LIMITS["login_failed"])
        if rate.per == "ip"
    )
    for n in range(ceiling + 40):
        _attempt(Client(), f"spray{n}@elsewhere.example", "not-the-password-1")
    with unscoped():
        throttled = AuditEvent.objects.filter(action="auth.login_throttled").count()
        failed = AuditEvent.objects.filter(action="auth.login_failed").count()
    assert failed == ceiling
    assert throttled == 1


def test_forwarded_for_is_ignored_without_a_trusted_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "10.0.0.5"


def test_forwarded_for_is_honoured_behind_a_trusted_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
    # Garbage in the header never becomes an address (nor a 500).
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(request) == "10.0.0.5"


def test_the_login_throttle_uses_the_same_address_as_the_audit_trail(
    tenant_a, person_factory, settings
):
    settings.TRUSTED_PROXY_COUNT = settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    clumsy = person_factory("clumsy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    # Behind the proxy everyone has the proxy's REMOTE_ADDR; the header tells them apart.
    for _ in range(5):
        _attempt(
            Client(),
            clumsy.email,
            "not-the-password-1",
            address="10.0.0.5",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    assert {e.ip_address for e in _events(tenant_a, "auth.login_failed")} == {"203.0.113.9"}
    blocked = _attempt(
        Client(), clumsy.email, PASSWORD, address="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert not _passed_password_step(blocked)
    elsewhere = _attempt(
        Client(), clumsy.email, PASSWORD, address="10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.4"
    )
    assert _passed_password_step(elsewhere)


def test_the_proxy_count_comes_from_the_environment():
    from tests.manage_py import run_manage

    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.ALLAUTH_TRUSTED_PROXY_COUNT)",
        env={"DJANGO_ENV": "test", "TRUSTED_PROXY_COUNT": "2"},
    )
    assert result.stdout.strip().splitlines()[-1] == "2", result.stderr


def test_the_too_many_requests_page_does_not_blame_and_gives_a_time(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "1/m/ip"}
    for _ in range(3):
        response = client.post("/accounts/password/reset/", {"email": "x@firm-a.example"})
    assert response.status_code == 429
    page = response.content.decode()
    assert "came from you" not in page and "nothing is wrong with your account" in page.lower()
    assert re.search(r"\d\d:\d\d UTC", page)


def test_an_admin_sees_the_lock_out_in_the_audit_trail(client, tenant_a, alice, person_factory):
    from tests.fixtures import login

    clumsy = person_factory("clumsy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    for _ in range(8):
        _attempt(Client(), clumsy.email, "not-the-password-1")
    login(client, alice)
    page = client.get("/audit/", {"actor": "clumsy@"}).content.decode()
    assert page.count("clumsy@firm-a.example") >= 6  # five failures and the one lock-out
    assert "Sign-in blocked after too many failed attempts" in page and FIRM_ADDRESS in page
    # The details in words: the limit that was reached and until when.
    assert "Locked until" in page
    assert "failed sign-ins of this account from one address" in page

"""Every answer carries the security headers: pages, the API, static files, and the webhook's
answers, which leave the middleware chain early (ingestion/middleware.py)."""

from __future__ import annotations

import pytest

from ingestion.whatsapp.signature import sign
from tests.fixtures import login
from tests.ingestion.delivering import APP_SECRET, BODY, VERIFY_TOKEN

pytestmark = pytest.mark.django_db

POLICY_PARTS = [
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def assert_security_headers(response) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    for part in POLICY_PARTS:
        assert part in policy, (part, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_pages_carry_the_policy(client, alice):
    assert_security_headers(client.get("/accounts/login/"))
    login(client, alice)
    for path in ["/", "/employees/", "/audit/", "/api/docs/", "/no-such-page/"]:
        assert_security_headers(client.get(path))


def test_the_api_carries_the_policy(client, tenant_a, api_client_for):
    api = api_client_for(tenant_a)
    assert_security_headers(api.get("/api/v1/employees/"))
    assert_security_headers(client.get("/api/v1/employees/"))  # 401/403 too


def test_static_files_carry_the_policy(client):
    # Served by whitenoise before the frame-denial middleware: a script is never framed anyway.
    response = client.get("/static/js/app.js")
    assert "default-src 'self'" in response.headers.get("Content-Security-Policy", "")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_webhook_answers_carry_the_security_headers(client, connected_tenant):
    url = f"/webhooks/whatsapp/{connected_tenant.slug}/"
    accepted = client.generic(
        "POST",
        url,
        BODY,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(BODY, APP_SECRET),
    )
    assert accepted.status_code == 200
    assert_security_headers(accepted)
    refused = client.generic("POST", url, BODY, content_type="application/json")
    assert refused.status_code in (401, 403)
    assert_security_headers(refused)
    handshake = client.get(
        url, {"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": VERIFY_TOKEN}
    )
    assert handshake.status_code == 200
    assert_security_headers(handshake)
    assert_security_headers(client.generic("POST", "/webhooks/whatsapp/no-such-firm/", BODY))

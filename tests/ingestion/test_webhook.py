"""``GET/POST /webhooks/whatsapp/<slug>/`` as Meta uses it, through the real view: the
verification handshake, signed deliveries stored byte for byte, and every refusal storing nothing.

A 200 tells Meta the delivery is durably stored; anything else makes Meta retry, so the database
being unreachable must give 503 (never a 500, never a 200)."""

from __future__ import annotations

import hashlib
import json
import logging

import pytest
from django.db import connection

from compliance_hub.audit.actors import Actor
from compliance_hub.celery import app as celery_app
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.services import set_tenant_status
from ingestion.models import Delivery
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp.signature import sign
from tests.database import owner_connection
from tests.ingestion.delivering import APP_SECRET, BODY, OTHER_APP_SECRET, VERIFY_TOKEN


def url(tenant) -> str:
    return f"/webhooks/whatsapp/{tenant.slug}/"


def post(client, tenant, body: bytes, signature: str | None = None, **extra):
    headers = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
    return client.generic(
        "POST", url(tenant), body, content_type="application/json", **headers, **extra
    )


def handshake(client, tenant, **params):
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", **params}
    return client.get(url(tenant), {k: v for k, v in query.items() if v is not None})


def deliveries(tenant) -> list[Delivery]:
    with tenant_scope(tenant):
        return list(Delivery.objects.order_by("id"))


# --- GET: the verification handshake ---------------------------------------------------------


def test_the_handshake_with_the_right_token_answers_the_challenge_as_plain_text(
    client, connected_tenant
):
    response = handshake(client, connected_tenant, **{"hub.verify_token": VERIFY_TOKEN})

    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.verify_token": "not-the-token"},
        {"hub.verify_token": VERIFY_TOKEN[:-1]},
        {"hub.verify_token": None},
        {"hub.verify_token": VERIFY_TOKEN, "hub.mode": "unsubscribe"},
        {"hub.verify_token": VERIFY_TOKEN, "hub.mode": None},
    ],
    ids=["wrong token", "token prefix", "no token", "wrong mode", "no mode"],
)
def test_the_handshake_is_refused_without_the_right_token_and_mode(
    client, connected_tenant, params
):
    response = handshake(client, connected_tenant, **params)

    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_the_handshake_with_no_parameters_at_all_is_refused(client, connected_tenant):
    assert client.get(url(connected_tenant)).status_code == 403


def test_the_handshake_is_refused_for_a_tenant_that_has_not_connected_whatsapp(client, tenant_a):
    response = handshake(client, tenant_a, **{"hub.verify_token": ""})
    assert response.status_code == 403
    response = handshake(client, tenant_a, **{"hub.verify_token": VERIFY_TOKEN})
    assert response.status_code == 403


def test_an_unknown_tenant_is_404(client, db):
    response = client.get(
        "/webhooks/whatsapp/no-such-firm/",
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    )
    assert response.status_code == 404
    response = client.generic(
        "POST",
        "/webhooks/whatsapp/no-such-firm/",
        BODY,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(BODY, APP_SECRET),
    )
    assert response.status_code == 404


def test_a_suspended_tenant_is_404_for_the_handshake_and_deliveries(client, connected_tenant):
    set_tenant_status(tenant=connected_tenant, status="suspended", actor=Actor.system())

    assert (
        handshake(client, connected_tenant, **{"hub.verify_token": VERIFY_TOKEN}).status_code == 404
    )
    assert post(client, connected_tenant, BODY, sign(BODY, APP_SECRET)).status_code == 404
    assert deliveries(connected_tenant) == []


def test_other_methods_are_refused_and_store_nothing(client, connected_tenant):
    # Signed like a real delivery, so only the method stands between the body and the table.
    signed = {"HTTP_X_HUB_SIGNATURE_256": sign(BODY, APP_SECRET)}

    put = client.put(url(connected_tenant), BODY, content_type="application/json", **signed)
    delete = client.delete(url(connected_tenant), **signed)

    assert put.status_code == 405
    assert delete.status_code == 405
    assert deliveries(connected_tenant) == []


# --- POST: deliveries ------------------------------------------------------------------------


def test_a_correctly_signed_delivery_is_stored_byte_for_byte_and_acknowledged(
    client, connected_tenant
):
    signature = sign(BODY, APP_SECRET)

    response = post(client, connected_tenant, BODY, signature, HTTP_USER_AGENT="facebookexternalua")

    assert response.status_code == 200
    [delivery] = deliveries(connected_tenant)
    assert bytes(delivery.body) == BODY
    assert delivery.body_sha256 == hashlib.sha256(BODY).hexdigest()
    assert delivery.headers["X-Hub-Signature-256"] == signature
    assert delivery.headers["User-Agent"] == "facebookexternalua"
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.received_at is not None


def test_no_cookie_or_unrelated_header_is_kept_with_a_delivery(client, connected_tenant):
    client.cookies["sessionid"] = "not-for-the-archive"
    post(client, connected_tenant, BODY, sign(BODY, APP_SECRET), HTTP_X_SOMETHING="else")

    [delivery] = deliveries(connected_tenant)
    assert set(delivery.headers) <= {
        "X-Hub-Signature-256",
        "Content-Type",
        "User-Agent",
        "Content-Length",
    }


def test_the_same_body_twice_is_stored_twice_for_processing_to_deduplicate(
    client, connected_tenant
):
    signature = sign(BODY, APP_SECRET)

    assert post(client, connected_tenant, BODY, signature).status_code == 200
    assert post(client, connected_tenant, BODY, signature).status_code == 200

    assert [bytes(d.body) for d in deliveries(connected_tenant)] == [BODY, BODY]


def test_a_delivery_without_a_signature_is_401_and_nothing_is_stored(client, connected_tenant):
    response = post(client, connected_tenant, BODY)

    assert response.status_code == 401
    assert deliveries(connected_tenant) == []


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        sign(BODY + b" ", APP_SECRET),
        sign(BODY, OTHER_APP_SECRET),
        sign(BODY, APP_SECRET).upper(),
        sign(BODY, APP_SECRET)[len("sha256=") :],
        "sha1=" + hashlib.sha1(BODY).hexdigest(),
        "sha256=",
        "garbage",
    ],
    ids=[
        "zeros",
        "other body",
        "another app's secret",
        "upper case",
        "no prefix",
        "sha1 prefix",
        "empty digest",
        "garbage",
    ],
)
def test_a_delivery_with_a_wrong_signature_is_403_and_nothing_is_stored(
    client, connected_tenant, signature
):
    response = post(client, connected_tenant, BODY, signature)

    assert response.status_code == 403
    assert deliveries(connected_tenant) == []


def test_a_delivery_signed_with_another_tenants_secret_is_refused(
    client, connected_tenant, tenant_b
):
    save_whatsapp_settings(tenant=tenant_b, app_secret=OTHER_APP_SECRET, actor=Actor.system())

    # Firm B's own, correctly signed delivery, sent to firm A's callback URL.
    response = post(client, connected_tenant, BODY, sign(BODY, OTHER_APP_SECRET))

    assert response.status_code == 403
    assert deliveries(connected_tenant) == []
    assert deliveries(tenant_b) == []


def test_a_delivery_for_a_tenant_that_has_not_connected_whatsapp_is_refused(client, tenant_a):
    response = post(client, tenant_a, BODY, sign(BODY, APP_SECRET))

    assert response.status_code == 403
    assert deliveries(tenant_a) == []


def test_a_signed_body_that_is_not_json_is_stored_for_processing_to_flag(client, connected_tenant):
    body = b"\x00\xffthis is not JSON{"

    response = post(client, connected_tenant, body, sign(body, APP_SECRET))

    assert response.status_code == 200
    [delivery] = deliveries(connected_tenant)
    assert bytes(delivery.body) == body
    assert delivery.status == Delivery.Status.PENDING


def test_an_empty_signed_body_is_stored_too(client, connected_tenant):
    response = post(client, connected_tenant, b"", sign(b"", APP_SECRET))

    assert response.status_code == 200
    assert [bytes(d.body) for d in deliveries(connected_tenant)] == [b""]


def test_non_ascii_escaped_as_meta_does_is_verified_over_the_raw_bytes(client, connected_tenant):
    # Meta serialises "äöå" as \u00e4\u00f6\u00e5 and signs those bytes; re-serialising them
    # (or signing the decoded text) gives another signature.
    body = b'{"object":"whatsapp_business_account","text":"Ol\\u00e1 \\u00e4\\u00f6\\u00e5"}'
    decoded = json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":")).encode()
    assert decoded != body

    refused = post(client, connected_tenant, body, sign(decoded, APP_SECRET))
    accepted = post(client, connected_tenant, body, sign(body, APP_SECRET))

    assert refused.status_code == 403
    assert accepted.status_code == 200
    [delivery] = deliveries(connected_tenant)
    assert bytes(delivery.body) == body


def test_a_body_over_the_size_limit_is_413_and_nothing_is_stored(
    client, connected_tenant, settings
):
    settings.WEBHOOK_MAX_BODY_BYTES = 2048
    body = b'{"padding":"' + b"x" * 4096 + b'"}'

    response = post(client, connected_tenant, body, sign(body, APP_SECRET))

    assert response.status_code == 413
    assert deliveries(connected_tenant) == []


def test_a_body_at_the_size_limit_is_accepted(client, connected_tenant, settings):
    body = b'{"padding":"' + b"x" * 2000 + b'"}'
    settings.WEBHOOK_MAX_BODY_BYTES = len(body)

    assert post(client, connected_tenant, body, sign(body, APP_SECRET)).status_code == 200
    assert [bytes(d.body) for d in deliveries(connected_tenant)] == [body]


def test_a_meta_sized_body_of_three_megabytes_is_accepted(client, connected_tenant):
    body = b'{"padding":"' + b"x" * (3 * 1024 * 1024) + b'"}'

    assert post(client, connected_tenant, body, sign(body, APP_SECRET)).status_code == 200
    assert [bytes(d.body) for d in deliveries(connected_tenant)] == [body]


def test_the_webhook_needs_no_csrf_token_and_no_login(connected_tenant):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)

    assert post(strict, connected_tenant, BODY, sign(BODY, APP_SECRET)).status_code == 200
    [delivery] = deliveries(connected_tenant)
    assert bytes(delivery.body) == BODY


# --- the database or the queue being down ----------------------------------------------------


def test_a_delivery_that_cannot_be_written_is_503_so_meta_retries(client, connected_tenant):
    """The tenant and its secret are read, but the insert cannot happen (here: the table is
    locked by someone else longer than we wait). The answer must not be a 200."""
    signature = sign(BODY, APP_SECRET)
    with owner_connection() as other:  # someone else holds the table; released at the end
        with other.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Delivery._meta.db_table} IN ACCESS EXCLUSIVE MODE NOWAIT")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '200ms'")
        try:
            refused = post(client, connected_tenant, BODY, signature)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")

    assert refused.status_code == 503
    assert deliveries(connected_tenant) == []
    # Meta's retry, once the database can be written again, is stored.
    assert post(client, connected_tenant, BODY, signature).status_code == 200
    assert len(deliveries(connected_tenant)) == 1


@pytest.mark.django_db(transaction=True)
def test_the_webhook_answers_503_not_500_when_the_database_is_unreachable(client, connected_tenant):
    signature = sign(BODY, APP_SECRET)
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        delivery = post(client, connected_tenant, BODY, signature)
        verification = handshake(client, connected_tenant, **{"hub.verify_token": VERIFY_TOKEN})
    finally:
        connection.close()
        connection.settings_dict["PORT"] = real_port

    assert delivery.status_code == 503
    assert delivery["Retry-After"]
    assert verification.status_code == 503
    assert deliveries(connected_tenant) == []


@pytest.fixture
def broker_down():
    """Celery's broker (Redis) unreachable for this test: a closed port. The app caches its
    connection pool and producer pool once a task was sent (an earlier test may have), so both
    are swapped for fresh ones built from the closed port, and put back exactly afterwards."""
    amqp = celery_app.amqp
    saved = (celery_app.conf.broker_url, celery_app._pool, amqp._producer_pool)
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    celery_app._pool = None
    amqp._producer_pool = None
    try:
        yield
    finally:
        if celery_app._pool is not None:
            celery_app._pool.force_close_all()
        celery_app.conf.broker_url, celery_app._pool, amqp._producer_pool = saved


@pytest.mark.django_db(transaction=True)
def test_the_delivery_is_acknowledged_and_kept_when_the_queue_is_down(
    client, connected_tenant, broker_down, caplog
):
    """Processing is queued after commit; if Redis is down the delivery is already durable, so
    Meta still gets its 200 and the sweeper picks the delivery up later."""
    with caplog.at_level(logging.WARNING, logger="ingestion.wakeup"):
        response = post(client, connected_tenant, BODY, sign(BODY, APP_SECRET))

    assert response.status_code == 200
    [delivery] = deliveries(connected_tenant)
    assert bytes(delivery.body) == BODY
    assert delivery.status == Delivery.Status.PENDING
    # The enqueue was attempted after the commit, and failed without touching the answer.
    logged = [record.getMessage() for record in caplog.records]
    assert any("could not queue a drain" in line and "sweeper" in line for line in logged), logged
    # No drain is queued, so the mark that says one is was taken back: Meta's next delivery
    # tries again instead of waiting for the mark to expire.
    with caplog.at_level(logging.WARNING, logger="ingestion.wakeup"):
        assert post(client, connected_tenant, BODY, sign(BODY, APP_SECRET)).status_code == 200
    attempts = [r for r in caplog.records if "could not queue a drain" in r.getMessage()]
    assert len(attempts) == 2


def test_the_fast_lane_takes_exactly_the_webhook_route():
    """ingestion/middleware.py matches the webhook's path itself; it must be the URL's path."""
    from django.urls import reverse

    from ingestion.middleware import WEBHOOK_PATH

    path = reverse("ingestion:whatsapp_webhook", kwargs={"tenant_slug": "firm-a_2"})
    assert WEBHOOK_PATH.fullmatch(path)["tenant_slug"] == "firm-a_2"
    for other in ("/webhooks/whatsapp/firm-a", "/webhooks/whatsapp/firm-a/x/", "/api/v1/x/"):
        assert WEBHOOK_PATH.fullmatch(other) is None


def test_a_webhook_request_passes_no_browser_middleware(client, connected_tenant):
    """A session cookie or a CSRF token means nothing on this path: no session is read, no
    CSRF check runs, and the answer sets no cookie."""
    client.cookies["sessionid"] = "a-session-of-someone"
    response = post(client, connected_tenant, BODY, sign(BODY, APP_SECRET))
    assert response.status_code == 200
    assert not response.cookies
    assert "Vary" not in response  # SessionMiddleware would have added "Vary: Cookie"

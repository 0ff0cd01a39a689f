"""The intake server's lean path (ingestion/wsgi.py), called as gunicorn calls it: Meta's POSTs
get the same answers, the same stored rows and the same headers as through the Django view,
committed for real (autocommit, no test transaction around them), and everything else goes to
Django."""

from __future__ import annotations

import io
import logging
import sys
import time

import pytest
from django.db import connection
from django.test import Client

from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery
from ingestion.whatsapp.signature import sign

# Imported once, before any test: the import sets Django up (get_wsgi_application), which
# configures logging anew, and that must not happen in the middle of a test's log capture.
from ingestion.wsgi import IntakeApplication, application, django_application
from tests.ingestion.delivering import APP_SECRET, BODY, OTHER_APP_SECRET

pytestmark = pytest.mark.django_db(transaction=True)


def environ(path: str, body: bytes, method: str = "POST", **extra: str) -> dict:
    base = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": "facebookexternalua",
        "HTTP_COOKIE": "sessionid=someone",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    return base | extra


def call(env: dict) -> tuple[int, dict[str, str], bytes]:
    answered: list = []

    def start_response(status: str, headers: list, exc_info: object = None) -> None:
        answered.append((status, headers))

    result = application(env, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    [(status, headers)] = answered
    return int(status.split()[0]), dict(headers), body


def delivery(tenant, body: bytes, signature: str | None = None, **extra: str):
    signed = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
    return call(environ(f"/webhooks/whatsapp/{tenant.slug}/", body, **signed, **extra))


def stored(tenant) -> list[Delivery]:
    with tenant_scope(tenant):
        return list(Delivery.objects.order_by("id"))


def test_a_signed_delivery_is_committed_and_acknowledged_as_the_view_does(connected_tenant):
    status, headers, body = delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))

    assert (status, body) == (200, b'{"status": "received"}')
    [row] = stored(connected_tenant)
    assert bytes(row.body) == BODY
    assert row.status == Delivery.Status.PENDING
    assert row.headers == {
        "X-Hub-Signature-256": sign(BODY, APP_SECRET),
        "Content-Type": "application/json",
        "User-Agent": "facebookexternalua",
        "Content-Length": str(len(BODY)),
    }
    # The Django view's answer to the same delivery has the same headers (security headers
    # included), and neither sets a cookie.
    other = BODY.replace(b"Bom dia", b"Boa tarde")
    through_view = Client().generic(
        "POST",
        f"/webhooks/whatsapp/{connected_tenant.slug}/",
        other,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=sign(other, APP_SECRET),
    )
    assert through_view.status_code == 200
    view_headers = dict(through_view.items())
    assert {k: v for k, v in headers.items() if k != "Content-Length"} == view_headers
    assert headers["Content-Length"] == str(len(body))
    assert "Set-Cookie" not in headers
    assert len(stored(connected_tenant)) == 2


def test_hsts_goes_only_with_https(connected_tenant, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    # The headers are made when the application starts: start one with this setting.
    application = IntakeApplication(django_application)
    answered: list = []
    for scheme in ("http", "https"):
        env = environ(
            f"/webhooks/whatsapp/{connected_tenant.slug}/",
            BODY,
            HTTP_X_HUB_SIGNATURE_256=sign(BODY, APP_SECRET),
            **{"wsgi.url_scheme": scheme},
        )
        application(env, lambda status, headers, exc_info=None: answered.append(dict(headers)))
    plain_http, https = answered
    assert "Strict-Transport-Security" not in plain_http
    assert https["Strict-Transport-Security"].startswith("max-age=3600")


@pytest.mark.parametrize(
    ("signature", "status"),
    [(None, 401), ("sha256=00", 403), (sign(BODY, OTHER_APP_SECRET), 403)],
)
def test_an_unsigned_or_wrongly_signed_delivery_is_refused_logged_and_not_stored(
    connected_tenant, signature, status, caplog
):
    request_logger = logging.getLogger("django.request")  # may not propagate to the root
    request_logger.addHandler(caplog.handler)
    try:
        answer, headers, _ = delivery(connected_tenant, BODY, signature)
    finally:
        request_logger.removeHandler(caplog.handler)

    assert answer == status
    assert stored(connected_tenant) == []
    assert headers["X-Content-Type-Options"] == "nosniff"
    # Logged as Django's handler logs a refusal, on the same logger.
    path = f"/webhooks/whatsapp/{connected_tenant.slug}/"
    assert any(path in r.getMessage() and r.status_code == status for r in caplog.records)


def test_an_unknown_tenant_and_an_oversized_body_store_nothing(connected_tenant, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = len(BODY) - 1

    unknown = call(
        environ(
            "/webhooks/whatsapp/no-such-firm/",
            BODY,
            HTTP_X_HUB_SIGNATURE_256=sign(BODY, APP_SECRET),
        )
    )
    too_big = delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))
    bad_length = delivery(connected_tenant, BODY, sign(BODY, APP_SECRET), CONTENT_LENGTH="4.5e3")

    assert [unknown[0], too_big[0], bad_length[0]] == [404, 413, 400]
    assert stored(connected_tenant) == []


def test_the_database_unreachable_is_503_and_the_next_delivery_gets_a_fresh_connection(
    connected_tenant,
):
    signature = sign(BODY, APP_SECRET)
    connection.close()
    real_port = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"
    try:
        status, headers, _ = delivery(connected_tenant, BODY, signature)
    finally:
        connection.settings_dict["PORT"] = real_port
    assert status == 503
    assert headers["Retry-After"]
    assert stored(connected_tenant) == []
    # Meta's retry, once the database is back, is stored.
    assert delivery(connected_tenant, BODY, signature)[0] == 200
    assert len(stored(connected_tenant)) == 1


def test_a_connection_that_died_while_idle_answers_503_then_the_retry_is_stored(
    connected_tenant,
):
    """No health check before the first statement (a round trip per delivery): the dead
    connection fails the delivery with a 503, and the request's end drops it."""
    signature = sign(BODY, APP_SECRET)
    delivery(connected_tenant, BODY, signature)  # opens the thread's connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        [backend] = cursor.fetchone()
    from tests.database import owner_connection

    with owner_connection() as other, other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])

    assert delivery(connected_tenant, BODY, signature)[0] == 503
    assert delivery(connected_tenant, BODY, signature)[0] == 200
    assert len(stored(connected_tenant)) == 2


def test_everything_else_goes_to_django(connected_tenant):
    health, _, _ = call(environ("/healthz", b"", method="GET"))
    handshake, _, _ = call(
        environ(
            f"/webhooks/whatsapp/{connected_tenant.slug}/",
            b"",
            method="GET",
            QUERY_STRING="hub.mode=subscribe&hub.challenge=42&hub.verify_token=nope",
        )
    )
    put, _, _ = call(
        environ(
            f"/webhooks/whatsapp/{connected_tenant.slug}/",
            BODY,
            method="PUT",
            HTTP_X_HUB_SIGNATURE_256=sign(BODY, APP_SECRET),
        )
    )
    assert health == 200
    assert handshake == 403  # the view's answer to a wrong verify token
    assert put == 405
    assert stored(connected_tenant) == []


def test_a_new_secret_or_a_suspension_applies_to_the_next_delivery_on_the_same_connection(
    connected_tenant,
):
    """The lookup's statements are prepared once per connection; the rows they read are not
    cached: Meta's next delivery is checked against what the database says now."""
    from compliance_hub.audit.actors import Actor
    from compliance_hub.tenancy.services import set_tenant_status
    from ingestion.services import save_whatsapp_settings

    assert delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))[0] == 200
    save_whatsapp_settings(
        tenant=connected_tenant, app_secret=OTHER_APP_SECRET, actor=Actor.system()
    )
    assert delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))[0] == 403
    assert delivery(connected_tenant, BODY, sign(BODY, OTHER_APP_SECRET))[0] == 200
    set_tenant_status(tenant=connected_tenant, status="suspended", actor=Actor.system())
    assert delivery(connected_tenant, BODY, sign(BODY, OTHER_APP_SECRET))[0] == 404
    assert len(stored(connected_tenant)) == 2


def test_a_delivery_while_a_drain_starts_wakes_the_next_one_when_the_window_ends(
    connected_tenant, settings
):
    """The webhook coalesces its wake-ups (at most one Redis attempt per tenant per window and
    process), and still wakes a drain after every commit: a delivery that arrives just after a
    drain took the mark away, within the window, gets its drain when the window ends."""
    from ingestion import wakeup

    settings.WEBHOOK_WAKE_WINDOW_SECONDS = 3  # long enough for a loaded machine
    mark = wakeup._mark(connected_tenant.pk)
    redis = wakeup._redis()
    redis.delete(mark)
    try:
        assert delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))[0] == 200
        assert redis.exists(mark)  # the first delivery's attempt is at once
        wakeup.drain_starting(connected_tenant.pk)  # a drain starts: the mark is gone
        assert delivery(connected_tenant, BODY, sign(BODY, APP_SECRET))[0] == 200
        assert not redis.exists(mark)  # within the window: noted, not yet attempted
        deadline = time.monotonic() + 15
        while not redis.exists(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert redis.exists(mark)  # the window ended: the next drain is queued
    finally:
        redis.delete(mark)
    assert len(stored(connected_tenant)) == 2

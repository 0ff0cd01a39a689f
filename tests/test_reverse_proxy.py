"""Slow clients cannot stop webhook intake behind nginx.

Each real server that answers webhooks, as it is started: gunicorn as `make run` starts it
(scripts/run.sh: 2 gthread workers x 4 threads) and granian as docker-compose.yml's intake starts
it (ingestion/serve.py), with real nginx and the shipped configuration
(docker/nginx/default.conf.template, rendered with local ports). Forty clients announce a
100-byte body and send 49 bytes, then wait: nginx holds them itself, so /healthz and a signed
webhook delivery through it still answer at once. Straight against the server the same clients
hold its threads (the figure is printed, for the report). Neither server logs a query string.
"""

from __future__ import annotations

import http.client
import os
import socket
import time
from contextlib import ExitStack, closing

import pytest
from django.conf import settings
from django.db import connection

from compliance_hub.tenancy.context import tenant_scope
from ingestion.models import Delivery
from ingestion.whatsapp.signature import sign
from tests.ingestion.delivering import APP_SECRET, BODY
from tests.polling import wait_until
from tests.proxied import get, start_gunicorn, start_intake, start_nginx, stop_nginx

SLOW_CLIENTS = 40  # 5x the servers' 2 x 4 threads, however their two workers share them
# Seconds an answer may take while the slow clients wait. Not a latency target (a loaded
# machine took 6.3 s once): a server whose threads the slow clients hold answers nothing
# before the clients give up, and they wait 10 s.
QUICK = 8.0

pytestmark = pytest.mark.django_db(transaction=True)


def _post(port: int, path: str, body: bytes, headers: dict[str, str], timeout: float):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Host": "127.0.0.1", **headers})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


STARTERS = {"gunicorn": start_gunicorn, "granian": start_intake}


@pytest.fixture(scope="module", params=sorted(STARTERS))
def server(request, django_db_setup, tmp_path_factory):
    """The server, on the test database, with its access log; started once for the module per
    kind (each test's transactional database is emptied between tests, the servers keep
    running)."""
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "DB_SET_ROLE": settings.DB_APP_ROLE,
    }
    log = tmp_path_factory.mktemp(request.param) / f"{request.param}.log"
    try:
        started = STARTERS[request.param](env=env, log=log, access_log=True)
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def nginx(server):
    try:
        proxy, prefix = start_nginx(
            upstream_port=server.port, webhook_max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES
        )
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield proxy.port
    finally:
        stop_nginx(proxy, prefix)


def _open_slow_clients(stack: ExitStack, port: int, path: str) -> None:
    """Clients that announce 100 bytes, send 49, and wait."""
    for _ in range(SLOW_CLIENTS):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n".encode()
            + b"{"
            + b"x" * 48
        )
    time.sleep(0.5)  # the server has picked them all up


def _deliveries(tenant) -> int:
    with tenant_scope(tenant):
        return Delivery.objects.count()


def test_slow_clients_do_not_stop_intake_behind_nginx(server, nginx, connected_tenant):
    path = f"/webhooks/whatsapp/{connected_tenant.slug}/"
    with ExitStack() as slow:
        _open_slow_clients(slow, nginx, path)

        started = time.monotonic()
        status, body = get(nginx, "/healthz", timeout=10)
        health_seconds = time.monotonic() - started
        assert status == 200 and b"ok" in body
        assert health_seconds < QUICK

        started = time.monotonic()
        status, _ = _post(
            nginx,
            path,
            BODY,
            {"Content-Type": "application/json", "X-Hub-Signature-256": sign(BODY, APP_SECRET)},
            timeout=10,
        )
        webhook_seconds = time.monotonic() - started
        assert status == 200
        assert webhook_seconds < QUICK
        assert _deliveries(connected_tenant) == 1

        # Static files come through too (whitenoise, DEBUG off).
        status, _ = get(nginx, "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css", 10)
        assert status == 200

    # The same clients straight against the server: every thread waits for a body.
    with ExitStack() as slow:
        _open_slow_clients(slow, server.port, path)
        started = time.monotonic()
        try:
            status, _ = get(server.port, "/healthz", timeout=5)
            direct = f"answered {status} in {time.monotonic() - started:.2f} s"
        except OSError as error:
            direct = f"no answer within {time.monotonic() - started:.1f} s ({type(error).__name__})"
    print(
        f"\n{SLOW_CLIENTS} slow clients: /healthz through nginx {health_seconds * 1000:.0f} ms, "
        f"webhook through nginx {webhook_seconds * 1000:.0f} ms; "
        f"straight to {server.name}: {direct}"
    )


def test_nginx_refuses_a_webhook_body_over_the_applications_limit(nginx, connected_tenant):
    """The limit is nginx's first (413 before the body is read), the same as the application's."""
    with closing(socket.create_connection(("127.0.0.1", nginx), timeout=10)) as sock:
        sock.sendall(
            f"POST /webhooks/whatsapp/{connected_tenant.slug}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\n"
            f"Content-Length: {settings.WEBHOOK_MAX_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        assert sock.recv(64).startswith(b"HTTP/1.1 413")
    assert _deliveries(connected_tenant) == 0


def test_the_access_log_names_the_path_never_the_query(server, nginx, connected_tenant):
    """The handshake's verify token and a reader's search terms travel in query strings."""
    secret = "verify-token-that-must-stay-out-of-logs"
    path = f"/webhooks/whatsapp/{connected_tenant.slug}/"
    status, _ = get(
        nginx, f"{path}?hub.mode=subscribe&hub.verify_token={secret}&hub.challenge=7", 10
    )
    assert status == 403  # not this tenant's token
    status, _ = get(nginx, "/healthz?probe=1", timeout=10)
    assert status == 200

    def logged() -> str:
        return server.log.read_text(errors="replace")

    wait_until(lambda: f'"GET {path} HTTP/1.' in logged(), failure=server.tail, timeout=20)
    assert secret not in logged() and "probe=1" not in logged(), server.tail()

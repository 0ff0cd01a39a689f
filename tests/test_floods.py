"""Slow clients and floods cannot stop webhook intake behind nginx (issue 13).

Real servers behind real nginx with the shipped configuration (tests/proxied.py), on this test's
database: as in docker-compose.yml, gunicorn for pages and granian (ingestion/serve.py) for
webhook intake and /healthz, and their access logs show nginx sends each its own.
Three attacks from four client addresses, each while a signed webhook delivery and /healthz are
sent a few times a second from another (tests/flood_probes.py): connections trickling a large
announced body (more than nginx lets one address have in progress), hundreds of idle keep-alive
connections, and a burst of wrong-password sign-ins for existing and unknown accounts (nginx
passes on a few a second, the application counts and locks out). During each: every webhook
delivery and every /healthz answered 2xx; the audit trail grows by no more than the two walls of
sign-in limits allow (flood_probes.audit_bound); the Django admin's sign-in page is held to the
same rates; afterwards every server still answers.

The test settings check passwords with a cheap hasher; bench/floods.py runs the same probes at
the issue's sizes (10,000 sign-ins) with the production hasher and prints figures.
One test: it starts the servers once and runs the probes in order.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connection

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Role
from ingestion.whatsapp.signature import sign
from tests.flood_probes import (
    ATTACKERS,
    Delivery,
    Outcome,
    Watch,
    audit_bound,
    idle_keepalive,
    login_flood,
    passed_on,
    posts,
    slow_bodies,
)
from tests.ingestion.delivering import APP_SECRET, BODY
from tests.polling import wait_until
from tests.proxied import (
    Server,
    get,
    nginx_limits,
    start_nginx,
    start_pages_and_intake,
    stop_all,
    stop_nginx,
)

pytestmark = pytest.mark.django_db(transaction=True)

ADDRESSES = 4
SLOW_BODIES = 300  # 75 an address: past nginx's 64 requests in progress per address
IDLE = 300
SIGN_INS = 400
HOLD = 4.0  # seconds each attack is held at least, while the watch keeps sending
ANSWERS = 5  # ... and until each watched endpoint has had this many answers
ADMIN_POSTS = 100  # far more than nginx passes on from one address in the seconds they take


@pytest.fixture
def servers(tmp_path):
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        "DB_SET_ROLE": settings.DB_APP_ROLE,
        # nginx is the one proxy in front: the sign-in limits count the client's address.
        "TRUSTED_PROXY_COUNT": "1",
    }
    web, intake = start_pages_and_intake(
        env=env,
        pages_log=tmp_path / "pages.log",
        intake_log=tmp_path / "intake.log",
        access_log=True,
    )
    try:
        nginx, prefix = start_nginx(
            upstream_port=web.port,
            intake_port=intake.port,
            webhook_max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES,
        )
        try:
            yield web, intake, nginx
        finally:
            stop_nginx(nginx, prefix)
    finally:
        stop_all([intake, web])


def _audit_rows() -> int:
    with unscoped():
        return AuditEvent.objects.count()


def _assert_answered(watch: Watch, attack: str, *, at_least: int = ANSWERS) -> None:
    for answers in (watch.webhook, watch.health):
        assert answers.count >= at_least, f"{attack}: too few {answers.name} requests to judge"
        assert not answers.failures, f"{attack}: {answers.name} got {answers.failures}"


def _requests(server: Server, method: str, path: str) -> int:
    """How many requests for paths starting with ``path`` the server's access log shows."""
    return server.log.read_text(errors="replace").count(f'"{method} {path}')


def test_slow_bodies_idle_connections_and_a_login_flood_leave_intake_answering(
    servers, connected_tenant, person_factory, capsys
):
    web, intake, nginx = servers
    members = [
        person_factory(f"member{n}@firm-a.example", tenant=connected_tenant, role=Role.OFFICER)
        for n in range(2)
    ]
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(BODY, APP_SECRET)}
    delivery = Delivery(f"/webhooks/whatsapp/{connected_tenant.slug}/", lambda _n: (BODY, headers))
    lines = []

    before = _audit_rows()
    with (
        Watch(nginx.port, delivery, every=0.25) as watch,
        slow_bodies(nginx.port, delivery.path, count=SLOW_BODIES, announced=3_000_000,
                    addresses=ADDRESSES) as held,
    ):  # fmt: skip
        watch.wait(answers=ANSWERS, at_least=HOLD)
        still = held()
    lines.append(Outcome(f"{SLOW_BODIES} slow bodies", watch, _audit_rows() - before, HOLD,
                         f"{still} held").line())  # fmt: skip
    _assert_answered(watch, "slow bodies")
    assert _audit_rows() == before
    # nginx holds some for each address and refuses the rest at once (429).
    per_address = nginx_limits()["requests_per_address"]
    assert per_address <= still <= ADDRESSES * per_address, still

    with (
        Watch(nginx.port, delivery, every=0.25) as watch,
        idle_keepalive(nginx.port, count=IDLE, addresses=ADDRESSES) as held,
    ):
        watch.wait(answers=ANSWERS, at_least=HOLD)
        still = held()
    lines.append(Outcome(f"{IDLE} idle keep-alive", watch, _audit_rows() - before, HOLD,
                         f"{still} open").line())  # fmt: skip
    _assert_answered(watch, "idle keep-alive connections")
    assert still >= IDLE // 2, "the idle connections were not held: the probe probed nothing"

    before = _audit_rows()
    with Watch(nginx.port, delivery, every=0.25) as watch:
        flood = login_flood(
            nginx.port,
            attempts=SIGN_INS,
            existing=[member.user.email for member in members],
            addresses=ADDRESSES,
        )
    grown = _audit_rows() - before
    bound = audit_bound(
        addresses=ADDRESSES,
        seconds=flood.seconds,
        rates=settings.ACCOUNT_RATE_LIMITS,
        limits=nginx_limits(),
    )
    lines.append(Outcome(f"{SIGN_INS} sign-ins", watch, grown, flood.seconds,
                         f"bound {bound}; {flood.words()}").line())  # fmt: skip
    # The flood lasts as long as the client takes to send it: at least one of each meanwhile.
    _assert_answered(watch, "login flood", at_least=1)
    assert flood.attempts == SIGN_INS and 0 not in flood.statuses, flood.words()
    assert not [s for s in flood.statuses if s >= 500], flood.words()
    # nginx passed on no more than its rates allow for the time the flood took (on a quiet
    # machine it refuses most at once; on a loaded one the flood itself is slower), and each
    # it passed on was checked and wrote at most one row (a failure, or a lock-out once).
    answered = flood.statuses.get(200, 0)
    assert (
        1
        <= answered
        <= passed_on(addresses=ADDRESSES, seconds=flood.seconds, limits=nginx_limits())
    ), flood.words()
    assert answered + flood.statuses.get(429, 0) == SIGN_INS, flood.words()
    assert 1 <= grown <= bound, (grown, bound)

    # The Django admin's sign-in page checks passwords too, outside allauth's limits: nginx
    # holds it to the same rates (a fresh address: the flood's are spent).
    admin = posts(nginx.port, "/admin/login/", count=ADMIN_POSTS, source=ATTACKERS[-1])
    refused = admin.statuses.get(429, 0)
    allowed = passed_on(addresses=1, seconds=admin.seconds, limits=nginx_limits())
    assert refused >= max(1, ADMIN_POSTS - allowed), admin.words()
    # The rest reached Django, which refused a POST without its form's token.
    assert refused + admin.statuses.get(403, 0) == ADMIN_POSTS, admin.words()

    assert get(nginx.port, "/healthz", timeout=10)[0] == 200
    assert get(web.port, "/readyz", timeout=10)[0] == 200
    assert web.alive() and intake.alive() and nginx.alive()

    # Each server got its own: the deliveries (logged once answered) on intake's, the
    # sign-ins on the pages', and neither the other's.
    path = delivery.path
    wait_until(lambda: _requests(intake, "POST", path) >= 1, failure=intake.tail, timeout=30)
    assert _requests(web, "POST", path) == 0, web.tail()
    assert _requests(intake, "POST", "/accounts/") == 0, intake.tail()
    assert _requests(intake, "POST", "/admin/") == 0, intake.tail()
    sign_ins = _requests(web, "POST", "/accounts/")
    assert 1 <= sign_ins <= passed_on(addresses=ADDRESSES, seconds=flood.seconds,
                                      limits=nginx_limits()), web.tail()  # fmt: skip
    with capsys.disabled():
        print("\n" + "\n".join(lines))

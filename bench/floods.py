"""Benchmark: slow clients and floods (issue 13) against the servers behind nginx, all as
production runs them, while signed webhook deliveries and /healthz are watched.

Three probes, one after the other (tests/flood_probes.py has the attacks and the watch):
1. slow bodies: ``--slow`` connections that announce a webhook body of 3 MB (under the 4 MiB
   limit, so nginx accepts the announcement) and trickle it a byte every 3 s;
2. idle keep-alive: ``--idle`` connections that make one request and then sit open;
3. a login flood: ``--attempts`` wrong-password sign-ins (the issue's 10,000), half for existing
   members of the firm, half for addresses nobody has, from ``--addresses`` client addresses.
Each prints a figure line: the webhook's and /healthz's share of 2xx answers and p99 while the
attack ran, and how many rows the audit trail grew by; then the memory of nginx and the servers
and a last check that both still answer.

The web servers run DJANGO_ENV=local, so passwords are checked with the production hasher
(PBKDF2, about 0.5 s of CPU each here): that cost is what a login flood spends. As in
docker-compose.yml, gunicorn for pages (sign-in included) and granian for webhook intake and
/healthz; ``--shared`` first runs the sign-in flood with one gunicorn for both (the layout
before intake had its own), in the same run.

Run: .venv/bin/python bench/floods.py   (or make bench, with the others)
     .venv/bin/python bench/floods.py --slow 100 --idle 200 --attempts 1000   (quicker)
     .venv/bin/python bench/floods.py --shared   (the sign-in flood before and after the split)
     .venv/bin/python bench/floods.py --shared --flood-seconds 300   (a loaded machine)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._stack import BrokerDb, bench_environment, stack_env

os.environ.update(bench_environment())

import django
import redis

django.setup()

from django.conf import settings  # noqa: E402

from bench._fixtures import fresh_tenant  # noqa: E402
from bench._loadgen import build_body  # noqa: E402
from compliance_hub.accounts.models import User  # noqa: E402
from compliance_hub.accounts.services import add_member  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.audit.models import AuditEvent  # noqa: E402
from compliance_hub.tenancy.context import unscoped  # noqa: E402
from compliance_hub.tenancy.models import Role  # noqa: E402
from ingestion.whatsapp.signature import sign  # noqa: E402
from tests.flood_probes import (  # noqa: E402
    Delivery,
    Outcome,
    Watch,
    audit_bound,
    idle_keepalive,
    login_flood,
    slow_bodies,
)
from tests.proxied import (  # noqa: E402
    Server,
    get,
    nginx_limits,
    start_gunicorn,
    start_intake,
    start_nginx,
    stop_nginx,
)


def audit_rows() -> int:
    with unscoped():
        return AuditEvent.objects.count()


def rss_mib(root: int) -> float:
    """Resident memory of a process and its children (nginx's workers, gunicorn's)."""
    from bench._stack import process_tree

    total = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=1000, help="slow-body connections")
    parser.add_argument("--idle", type=int, default=1000, help="idle keep-alive connections")
    parser.add_argument("--attempts", type=int, default=10_000, help="wrong-password sign-ins")
    parser.add_argument("--addresses", type=int, default=4, help="attacking client addresses")
    parser.add_argument("--hold", type=float, default=30.0, help="seconds each hold lasts")
    parser.add_argument("--before", type=int, default=0, metavar="N",
                        help="first, N sign-ins against nginx without its sign-in limits "
                             "(the figures before they were added)")  # fmt: skip
    parser.add_argument("--flood-seconds", type=float, default=None, metavar="S",
                        help="stop a sign-in flood after S seconds, attempts or not (each "
                             "attacking thread waits for its answer: on a loaded machine "
                             "10,000 attempts can take hours)")  # fmt: skip
    parser.add_argument("--shared", action="store_true",
                        help="first, the sign-in flood with one gunicorn for pages and intake "
                             "(the layout before intake had its own)")  # fmt: skip
    args = parser.parse_args()

    bench = fresh_tenant("flood", "78")
    existing = []
    for n in range(4):
        email = f"member{n}@{bench.tenant.slug}.bench.example"
        user = User.objects.create_user(email, f"the-right-password-{n}-{bench.wamid_prefix}")
        add_member(tenant=bench.tenant, user=user, role=Role.OFFICER, actor=Actor.system())
        existing.append(email)

    def make(index: int) -> tuple[bytes, dict[str, str]]:
        body = build_body(prefix=bench.wamid_prefix, index=index, timestamp=int(time.time()),
                          phone_number_id=bench.phone_number_id)  # fmt: skip
        return body, {"Content-Type": "application/json",
                      "X-Hub-Signature-256": sign(body, bench.app_secret)}  # fmt: skip

    path = f"/webhooks/whatsapp/{bench.tenant.slug}/"
    delivery = Delivery(path, make)
    logs = Path(tempfile.mkdtemp(prefix="bench-floods-"))
    print(f"floods benchmark: tenant {bench.tenant.slug}, logs in {logs}", flush=True)
    with BrokerDb() as broker_db:
        redis_base = stack_env()["REDIS_URL"].rsplit("/", 1)[0]
        # Its own broker and cache database: fresh rate-limit windows, nothing left behind.
        env = bench_environment(
            broker_db=broker_db, REDIS_CACHE_URL=f"{redis_base}/{broker_db}",
            TRUSTED_PROXY_COUNT="1",
        )  # fmt: skip
        web = start_gunicorn(env=env, log=logs / "gunicorn.log")
        intake: Server | None = None
        nginx: Server | None = None
        try:
            if args.before:
                before_fix(args, web, delivery, existing, env["REDIS_CACHE_URL"])
            if args.shared:
                shared_pool(args, web, delivery, existing, env["REDIS_CACHE_URL"])
                # A fresh one: the old one may still be checking abandoned passwords.
                web.stop()
                web = start_gunicorn(env=env, log=logs / "gunicorn-after.log")
            intake = start_intake(env=env, log=logs / "intake.log")
            nginx, prefix = start_nginx(
                upstream_port=web.port, intake_port=intake.port,
                webhook_max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES,
            )  # fmt: skip
            run(args, nginx, web, intake, delivery, existing)
        finally:
            if nginx is not None:
                stop_nginx(nginx, prefix)
            if intake is not None:
                intake.stop()
            web.stop()


def sign_in_flood(nginx: Server, delivery: Delivery, existing: list[str], *, attempts: int,
                  addresses: int, limits: dict[str, int] | None, label: str,
                  seconds: float | None = None) -> None:  # fmt: skip
    before, started = audit_rows(), time.monotonic()
    with Watch(nginx.port, delivery) as watch:
        flood = login_flood(nginx.port, attempts=attempts, existing=existing,
                            addresses=addresses, seconds=seconds)  # fmt: skip
    grown, seconds = audit_rows() - before, time.monotonic() - started
    bound = audit_bound(addresses=addresses, seconds=seconds,
                        rates=settings.ACCOUNT_RATE_LIMITS, limits=limits)  # fmt: skip
    attack = f"{flood.attempts:,} wrong-password sign-ins ({addresses} addresses){label}"
    print(Outcome(attack, watch, grown, seconds,
                  f"bound {bound} rows; the flood's answers: {flood.words()}").line(),
          flush=True)  # fmt: skip


def before_fix(args: argparse.Namespace, web: Server, delivery: Delivery, existing: list[str],
               cache_url: str) -> None:  # fmt: skip
    """The sign-in flood against nginx without its sign-in limits (only the application's)."""
    nginx, prefix = start_nginx(upstream_port=web.port,
                                webhook_max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES,
                                without=("limit_req ",))  # fmt: skip
    try:
        sign_in_flood(nginx, delivery, existing, attempts=args.before, addresses=args.addresses,
                      limits=None, label=", nginx without sign-in limits")  # fmt: skip
    finally:
        stop_nginx(nginx, prefix)
    settle(web, cache_url)


def forget_lockouts(cache_url: str) -> None:
    """The application's lock-outs of the attacking addresses would hide the next flood's
    cost."""
    cache = redis.Redis.from_url(cache_url)
    for pattern in ("*allauth*", "*lockout-audited*"):
        for key in cache.scan_iter(match=pattern):
            cache.delete(key)


def shared_pool(args: argparse.Namespace, web: Server, delivery: Delivery, existing: list[str],
                cache_url: str) -> None:  # fmt: skip
    """The sign-in flood with the shipped limits and one gunicorn for pages and intake."""
    nginx, prefix = start_nginx(upstream_port=web.port,
                                webhook_max_body_bytes=settings.WEBHOOK_MAX_BODY_BYTES)  # fmt: skip
    try:
        sign_in_flood(nginx, delivery, existing, attempts=args.attempts,
                      addresses=args.addresses, limits=nginx_limits(),
                      label=", one gunicorn for pages and intake",
                      seconds=args.flood_seconds)  # fmt: skip
    finally:
        stop_nginx(nginx, prefix)
    forget_lockouts(cache_url)


def settle(web: Server, cache_url: str) -> None:
    """Between two sign-in floods: gunicorn finishes the password checks it still has queued
    (abandoned ones included), and the application's lock-outs of the attacking addresses are
    forgotten (they would hide the next flood's cost)."""
    web.wait_healthy(timeout=600)
    forget_lockouts(cache_url)


def memory(nginx: Server, web: Server, intake: Server) -> str:
    return (f"nginx {rss_mib(nginx.pid):.0f} MiB, gunicorn (pages) {rss_mib(web.pid):.0f} MiB, "
            f"granian (intake) {rss_mib(intake.pid):.0f} MiB")  # fmt: skip


def run(args: argparse.Namespace, nginx: Server, web: Server, intake: Server,
        delivery: Delivery, existing: list[str]) -> None:  # fmt: skip
    print(f"  at rest: {memory(nginx, web, intake)}", flush=True)

    started = time.monotonic()
    with Watch(nginx.port, delivery) as watch:
        time.sleep(args.hold)
    print(Outcome("no attack (the baseline)", watch, 0, time.monotonic() - started).line(),
          flush=True)  # fmt: skip

    before, started = audit_rows(), time.monotonic()
    with (
        Watch(nginx.port, delivery) as watch,
        slow_bodies(nginx.port, delivery.path, count=args.slow, announced=3_000_000,
                    addresses=args.addresses) as held,
    ):  # fmt: skip
        time.sleep(args.hold)
        still, peak = held(), rss_mib(nginx.pid)
    print(Outcome(f"{args.slow} slow bodies ({args.addresses} addresses)", watch,
                  audit_rows() - before, time.monotonic() - started,
                  f"{still} still held after {args.hold:.0f} s, nginx {peak:.0f} MiB").line(),
          flush=True)  # fmt: skip

    before, started = audit_rows(), time.monotonic()
    with (
        Watch(nginx.port, delivery) as watch,
        idle_keepalive(nginx.port, count=args.idle, addresses=args.addresses) as held,
    ):
        time.sleep(args.hold)
        still, peak = held(), rss_mib(nginx.pid)
    print(Outcome(f"{args.idle} idle keep-alive connections ({args.addresses} addresses)", watch,
                  audit_rows() - before, time.monotonic() - started,
                  f"{still} still open after {args.hold:.0f} s, nginx {peak:.0f} MiB").line(),
          flush=True)  # fmt: skip

    sign_in_flood(nginx, delivery, existing, attempts=args.attempts, addresses=args.addresses,
                  limits=nginx_limits(), label=", intake on a gunicorn of its own",
                  seconds=args.flood_seconds)  # fmt: skip

    health = get(nginx.port, "/healthz", timeout=10)[0], get(web.port, "/readyz", timeout=10)[0]
    print(f"  afterwards: /healthz {health[0]}, /readyz {health[1]}; "
          f"{memory(nginx, web, intake)}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: the webhook held at its rate while officers page through the alert queue.

Issue 13 ("Load"): a load generator holds the webhook at the benchmark rate while officers page
through the queue; report webhook p99 and page p95 side by side. Each alone is the baseline, in
the same run.

What runs (all on 127.0.0.1, everything started is stopped by its pid):
1. an alerts tenant (bench/alerts_scale.py's data at ``--alerts``: teams, employees, 12 officers,
   12 policies, alerts over two years; ``--reuse`` takes the newest complete one), whose
   officers get an authenticator (MFA is required for every role) and a signed-in session each
   (made server-side, as a login would leave it: the login itself is not what is measured);
2. a fresh webhook tenant (bench/_fixtures.py), whose deliveries stay pending (no worker: the
   processing behind the webhook is bench/pipeline.py's subject) and which is suspended at the
   end, so no sweeper spends a later measurement's CPU on them;
3. one gunicorn (gthread, ``--workers`` x ``--threads``, DEBUG off) serving both;
4. per round, three phases of ``--duration`` seconds, their order rotating from round to round:
   the webhook alone (the open-loop generator, bench/_loadgen.py, at ``--rate``), the officers
   alone, and both at once. Officers are ``--officers`` threads of this process, each a person:
   open the queue with one of several filter combinations, follow "next page" up to
   ``--pages`` times, open one alert of the page, think ``--think`` seconds, again. Page
   latency is from the request's start to the last byte of the answer (closed loop: an
   officer waits for their page, as a person does).

Figures: webhook p50/p99 and acknowledged/s, page p50/p95 by kind (queue, next page, alert),
per phase, medians over the rounds; load average per phase (the machine is shared).

Run: .venv/bin/python bench/load_mix.py [--rate 1000 --duration 30 --rounds 3 --officers 6]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._stack import (
    BrokerDb,
    CpuMeter,
    bench_environment,
    free_port,
    postgres_pid,
    redis_pid,
    start_gunicorn,
)

os.environ.update(bench_environment())

import django

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

from bench import alerts_scale  # noqa: E402
from bench._fixtures import fresh_tenant  # noqa: E402
from bench._openloop import Generator, median, percentile, summarise  # noqa: E402
from compliance_hub.accounts.models import User  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Membership, Role, Tenant  # noqa: E402
from compliance_hub.tenancy.services import set_tenant_status  # noqa: E402
from consent.models import Team  # noqa: E402
from policies.models import Policy  # noqa: E402

PHASES = ("webhook alone", "officers alone", "both")
NEXT_PAGE = re.compile(r'href="\?([^"]*after=\d+[^"]*)"')
ALERT_LINK = re.compile(r'href="/alerts/(\d+)/"')


def say(line: str = "") -> None:
    print(line, flush=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# --- the alerts tenant and its officers --------------------------------------------------------


def alerts_tenant(total: int, reuse: bool) -> Tenant:
    found = alerts_scale.reusable_tenant(total) if reuse else None
    if found is not None and found[1] >= total:
        say(f"  alerts: reusing {found[0].slug} ({found[1]:,} alerts)")
        return found[0]
    tenant = alerts_scale.fresh_tenant(total)
    started = time.perf_counter()
    alerts_scale.people(tenant)
    alerts_scale.load(tenant, total)
    say(
        f"  alerts: {tenant.slug}, {total:,} alerts loaded in {time.perf_counter() - started:.0f} s"
    )
    return tenant


def officer_sessions(tenant: Tenant) -> list[str]:
    """A signed-in session per officer of the tenant (an authenticator set up first)."""
    keys = []
    officers = Membership.objects.filter(tenant=tenant, role=Role.OFFICER).select_related("user")
    for membership in officers.order_by("pk"):
        user: User = membership.user
        if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(user, generate_totp_secret())
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    return keys


def queue_queries(tenant: Tenant) -> list[str]:
    """Filter combinations an officer uses (query strings of /alerts/)."""
    with tenant_scope(tenant):
        policies = list(
            Policy.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True)
        )
        teams = list(Team.objects.filter(tenant=tenant).order_by("pk").values_list("pk", flat=True))
    return [
        "",
        "sort=newest",
        "status=open&severity=high",
        "status=in_review",
        "status=escalated&sort=due",
        "severity=critical",
        f"policy={policies[0]}",
        f"policy={policies[-1]}&status=all",
        f"team={teams[len(teams) // 2]}",
        f"team={teams[0]}&severity=medium&sort=newest",
        "category=pii",
        "overdue=on&sort=due",
        "status=closed&sort=newest",
    ]


# --- officers: threads of signed-in people ----------------------------------------------------


class Officers:
    """``count`` officers paging through the queue until ``stop()``; each sample is
    (kind, seconds, status)."""

    def __init__(
        self, *, port: int, sessions: list[str], queries: list[str], pages: int, think: float
    ) -> None:
        self.port, self.sessions, self.queries = port, sessions, queries
        self.pages, self.think = pages, think
        self.samples: list[tuple[str, float, int]] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, count: int) -> None:
        self._stop.clear()
        self.samples, self.errors = [], 0
        for n in range(count):
            thread = threading.Thread(target=self._person, args=(n,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)
        self._threads = []

    def _get(self, conn: http.client.HTTPConnection, cookie: str, path: str) -> tuple[int, str]:
        conn.request(
            "GET",
            path,
            headers={
                "Host": "127.0.0.1",
                "Cookie": cookie,
                "Accept": "text/html",
                "User-Agent": "bench-officer",
            },
        )
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")

    def _timed(
        self, conn: http.client.HTTPConnection, cookie: str, kind: str, path: str
    ) -> tuple[int, str]:
        started = time.perf_counter()
        try:
            status, text = self._get(conn, cookie, path)
        except (OSError, http.client.HTTPException):
            with self._lock:
                self.errors += 1
            conn.close()
            return 0, ""
        with self._lock:
            self.samples.append((kind, time.perf_counter() - started, status))
        return status, text

    def _person(self, number: int) -> None:
        chance = random.Random(number)  # noqa: S311 - a benchmark's choices, not a secret
        cookie = f"{settings.SESSION_COOKIE_NAME}={self.sessions[number % len(self.sessions)]}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self._stop.is_set():
            query = chance.choice(self.queries)
            status, text = self._timed(conn, cookie, "queue", f"/alerts/?{query}")
            alerts = ALERT_LINK.findall(text)
            for _ in range(self.pages):
                found = NEXT_PAGE.search(text)
                if status != 200 or found is None or self._stop.is_set():
                    break
                status, text = self._timed(
                    conn, cookie, "next page", "/alerts/?" + found.group(1).replace("&amp;", "&")
                )
                alerts = ALERT_LINK.findall(text) or alerts
            if alerts and not self._stop.is_set():
                self._timed(conn, cookie, "alert", f"/alerts/{chance.choice(alerts)}/")
            self._stop.wait(self.think)
        conn.close()


# --- the run -----------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000, help="webhook deliveries/s offered")
    parser.add_argument("--duration", type=float, default=30, help="seconds per phase")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--officers", type=int, default=6)
    parser.add_argument("--pages", type=int, default=2, help="next pages an officer follows")
    parser.add_argument("--think", type=float, default=1.0, help="seconds between two rounds")
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument(
        "--reuse", action="store_true", help="the newest alerts tenant of that size"
    )
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--max-connections", type=int, default=256)
    return parser.parse_args()


def page_figures(samples: list[tuple[str, float, int]]) -> dict[str, float]:
    figures: dict[str, float] = {}
    for kind in ("queue", "next page", "alert", "all"):
        times = [s * 1e3 for k, s, status in samples if kind in ("all", k) and status == 200]
        figures[f"{kind} n"] = len(times)
        figures[f"{kind} p50"] = percentile(times, 50)
        figures[f"{kind} p95"] = percentile(times, 95)
    figures["not 200"] = sum(1 for _, _, status in samples if status != 200)
    return figures


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-mix-"))
    say("load mix: the webhook at its rate while officers page through the alert queue")
    say(f"  load average at the start: {load_average()}")
    tenant = alerts_tenant(args.alerts, args.reuse)
    sessions = officer_sessions(tenant)
    queries = queue_queries(tenant)
    hook = fresh_tenant("loadmix", "80")
    say(
        f"  webhook {args.rate:,.0f}/s open loop (tenant {hook.tenant.slug}); {args.officers} "
        f"officers of {tenant.slug} (queue, up to {args.pages} next pages, one alert, think "
        f"{args.think:.1f} s); {args.duration:.0f} s per phase, {args.rounds} rounds; gunicorn "
        f"gthread {args.workers} x {args.threads}"
    )
    results: dict[str, list[dict]] = {phase: [] for phase in PHASES}
    next_index = 0
    with BrokerDb() as broker_db:
        port = free_port()
        web = start_gunicorn(
            port=port,
            workers=args.workers,
            threads=args.threads,
            broker_db=broker_db,
            log=workdir / "gunicorn.log",
        )
        officers = Officers(
            port=port, sessions=sessions, queries=queries, pages=args.pages, think=args.think
        )
        try:
            # Warm-up: every worker has its templates and connections before the first phase.
            officers.start(args.officers)
            time.sleep(min(5.0, args.duration))
            officers.stop()
            for number in range(args.rounds):
                shift = number % len(PHASES)
                for phase in PHASES[shift:] + PHASES[:shift]:
                    meter = CpuMeter(
                        {"web": web.pid, "PostgreSQL": postgres_pid(), "Redis": redis_pid()}
                    )
                    generator = None
                    count = int(args.rate * args.duration)
                    if phase != "officers alone":
                        generator = Generator(
                            target=hook,
                            port=port,
                            rate=args.rate,
                            count=count,
                            first_index=next_index,
                            max_connections=args.max_connections,
                            workdir=workdir,
                        )
                        next_index += count
                    meter.start()
                    if phase != "webhook alone":
                        officers.start(args.officers)
                    if generator is not None:
                        generator.go()
                        raw = generator.result()
                    else:
                        time.sleep(args.duration)
                    officers.stop()
                    meter.stop(extra={"load generator": raw["cpu_seconds"]} if generator else {})
                    figures: dict = {"load": load_average(), "cpu": dict(meter.used)}
                    figures["cpu"]["wall"] = meter.wall
                    if generator is not None:
                        figures["webhook"] = summarise(raw, duration=args.duration)
                    if phase != "webhook alone":
                        figures["pages"] = page_figures(officers.samples)
                        figures["page errors"] = officers.errors
                    results[phase].append(figures)
                    say(f"  round {number + 1}, {phase}: {describe(figures)}")
        finally:
            officers.stop()
            web.stop()
            set_tenant_status(
                tenant=hook.tenant, status=Tenant.Status.SUSPENDED, actor=Actor.system()
            )
    summary(results)
    say(f"  (files of this run: {workdir})")


def describe(figures: dict) -> str:
    parts = []
    if "webhook" in figures:
        w = figures["webhook"]
        parts.append(
            f"webhook {w['achieved']:,.0f}/s ({w['ok']:,}/{w['sent']:,}), p50 {w['p50']:.1f} / "
            f"p99 {w['p99']:.1f} ms"
        )
    if "pages" in figures:
        p = figures["pages"]
        parts.append(
            f"pages {p['all n']:,} (queue p95 {p['queue p95']:.0f}, next page p95 "
            f"{p['next page p95']:.0f}, alert p95 {p['alert p95']:.0f}, all p95 "
            f"{p['all p95']:.0f} ms; not 200: {p['not 200']}, errors {figures['page errors']})"
        )
    cpu = figures["cpu"]
    wall = cpu["wall"] or 1.0
    web, pg, other = (cpu.get(k, 0) / wall for k in ("web", "PostgreSQL", "everything else"))
    parts.append(
        f"cores: web {web:.2f}, PostgreSQL {pg:.2f}, everything else {other:.2f}; "
        f"load average {figures['load']}"
    )
    return "; ".join(parts)


def summary(results: dict[str, list[dict]]) -> None:
    say()
    say("  side by side (medians of the rounds):")
    say("    phase            | webhook /s | webhook p99 ms | page p95 ms (queue/next/alert/all)")
    for phase, rounds in results.items():
        if not rounds:
            continue
        hook = [r["webhook"] for r in rounds if "webhook" in r]
        pages = [r["pages"] for r in rounds if "pages" in r]
        rate, p99 = median([w["achieved"] for w in hook]), median([w["p99"] for w in hook])
        hook_text = f"{rate:10,.0f} | {p99:14.1f}" if hook else f"{'-':>10} | {'-':>14}"
        page_text = (
            " / ".join(
                f"{median([p[f'{kind} p95'] for p in pages]):.0f}"
                for kind in ("queue", "next page", "alert", "all")
            )
            if pages
            else "-"
        )
        say(f"    {phase:<16} | {hook_text} | {page_text}")


if __name__ == "__main__":
    main()

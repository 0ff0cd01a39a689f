"""Benchmark: the web server's CPU for one page of the alert queue (``/alerts/``), per reader kind.

docs/benchmarks.md ("Load mix on a quiet machine"): with six officers paging through a million
alerts, one queue page cost ~58 ms of the web server's CPU, about half of it in the filter form's
select widgets. This measures that CPU alone, request by request, in this process: the whole
Django stack (middleware, session, tenant, view, template) through the test client against the
local stack's PostgreSQL, ``time.process_time()`` around each request (this process's CPU: the
database's own is not counted, and waiting for it is not CPU). Medians of ``--requests``
requests per reader kind, after ``--warm`` requests that are not counted.

Reader kinds: an officer of the firm with names shown, the same officer when the firm
pseudonymises its review (set for the run with the service an admin uses, and set back at the
end), and an auditor (never masked). With ``--profile`` the costliest functions of one reader's
requests are printed.

Same-run comparison: run this file from two trees in turn (e.g. a ``git archive`` of main and
this tree), alternating, and compare their medians; figures of different runs on this shared
machine do not compare.

Run: ``.venv/bin/python bench/queue_page.py [--alerts 1000000] [--requests 60] [--profile]``
with the local stack up and bench/alerts_scale.py's tenant of that size loaded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._stack import bench_environment

os.environ.update(bench_environment())

import django

django.setup()

from allauth.mfa.models import Authenticator  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.test import Client  # noqa: E402

from alerts.review_settings import review_choices, update_review_settings  # noqa: E402
from bench import alerts_scale  # noqa: E402
from compliance_hub.accounts.models import User  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.models import Membership, Role, Tenant  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("", "severity=high", "sort=newest", "status=in_review", "overdue=on&sort=due")


def say(line: str = "") -> None:
    print(line, flush=True)


def signed_in(tenant: Tenant, role: str) -> Client:
    """A client signed in as the first member of ``role`` (an auditor is made if none): MFA is
    required for every role, so the member gets an authenticator first."""
    membership = Membership.objects.filter(tenant=tenant, role=role).order_by("pk").first()
    if membership is None:
        user = User.objects.create_user(
            email=f"{role}@{tenant.slug}.example", password=None, full_name=f"Bench {role}"
        )
        membership = Membership.objects.create(tenant=tenant, user=user, role=role)
    user = membership.user
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def cpu_per_page(client: Client, *, requests: int, warm: int) -> list[float]:
    """This process's CPU milliseconds for each of ``requests`` queue pages (queries in turn)."""
    spent = []
    for n in range(warm + requests):
        query = QUERIES[n % len(QUERIES)]
        started = time.process_time()
        response = client.get(f"/alerts/?{query}")
        used = time.process_time() - started
        if response.status_code != 200:
            raise SystemExit(f"/alerts/?{query} answered {response.status_code}")
        if n >= warm:
            spent.append(used * 1e3)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--warm", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    found = alerts_scale.reusable_tenant(args.alerts)
    if found is None:
        raise SystemExit(f"no bench-alerts-{args.alerts}-* tenant: run bench/alerts_scale.py")
    tenant = found[0]
    say(
        f"queue page CPU — {tenant.slug} ({found[1]:,} alerts); load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; code of {ROOT}"
    )
    admin = Actor.command("bench queue_page")
    before = review_choices(tenant)
    readers = (
        ("officer, names shown", Role.OFFICER, False),
        ("officer, pseudonyms", Role.OFFICER, True),
        ("auditor", Role.AUDITOR, None),
    )
    try:
        for label, role, pseudonymise in readers:
            if pseudonymise is not None:
                update_review_settings(
                    tenant=tenant, actor=admin, pseudonymise=pseudonymise, sla_hours={}
                )
            client = signed_in(tenant, role)
            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.enable()
            spent = cpu_per_page(client, requests=args.requests, warm=args.warm)
            if args.profile:
                profiler.disable()
                say(f"  profile, {label}:")
                pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
            say(
                f"  {label:<22}: median {statistics.median(spent):6.1f} ms CPU per page, "
                f"p90 {statistics.quantiles(spent, n=10)[-1]:6.1f} ms ({len(spent)} pages)"
            )
    finally:
        update_review_settings(
            tenant=tenant, actor=admin, pseudonymise=before.pseudonymise, sla_hours={}
        )
    say(f"  load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""Benchmark: consent gate decisions per second from the cache, on one core.

Target (issue 3): at least 50,000 decisions per second per core from the cache. Baselines
measured in the same run: a bare dict lookup (the floor of any cache) and the uncached gate
(history loaded from PostgreSQL for every decision).

Run: make bench   (or: .venv/bin/python bench/consent_gate.py)  — needs the local stack
(make run, or scripts/stack.sh start run, then manage.py migrate once).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from compliance_hub.audit.actors import Actor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

from django.utils import timezone  # noqa: E402

from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from consent import gate  # noqa: E402
from consent import services as consent  # noqa: E402
from consent.models import Employee  # noqa: E402

EMPLOYEES = 1_000
DECISIONS = 200_000
ROUNDS = 7
SLUG = "bench-gate"


def ensure_data() -> tuple[Tenant, list[str]]:
    tenant = Tenant.objects.filter(slug=SLUG).first() or create_tenant(
        slug=SLUG, name="Benchmark: consent gate", actor=Actor.system()
    )
    with tenant_scope(tenant):
        have = Employee.objects.count()
    for n in range(have, EMPLOYEES):
        employee = consent.create_employee(
            tenant=tenant,
            data=consent.EmployeeData(
                full_name=f"Bench {n}",
                email=f"bench{n}@bench.example",
                employee_id=f"B{n:05d}",
                # Valid Indian mobile numbers, unique per employee.
                phone_number=f"+9198{n:08d}",
                whatsapp_phone_number_id=f"{900000000 + n}",
            ),
            audit=False,
            actor=Actor.system(),
        )
        if n % 4 != 0:  # three in four consented
            consent.record_consent(
                employee=employee, actor=Actor.system(), evidence_reference="bench"
            )
        if n % 8 == 1:  # and some withdrew since
            consent.withdraw_consent(employee=employee, actor=Actor.system())
    with tenant_scope(tenant):
        phone_ids = list(
            Employee.objects.filter(active=True).values_list("whatsapp_phone_number_id", flat=True)
        )
    return tenant, phone_ids


def rate(calls: int, seconds: float) -> float:
    return calls / seconds if seconds else float("inf")


def main() -> None:
    tenant, phone_ids = ensure_data()
    now = timezone.now()
    with tenant_scope(tenant):
        first = Employee.objects.order_by("created_at").values_list("created_at", flat=True)[0]
    span = (now - first).total_seconds()
    rng = random.Random(7)  # noqa: S311 - reproducible load, not security
    # Moments from the first employee's onboarding until now: the gate answers for any time.
    queries = [
        (rng.choice(phone_ids), first + timedelta(seconds=rng.uniform(0, span)))
        for _ in range(DECISIONS)
    ]
    tenant_id = tenant.pk

    for phone_id in phone_ids:  # warm the cache
        gate.decide(tenant_id=tenant_id, phone_number_id=phone_id, at=now)

    cached, floor = [], []
    plain = {pid: pid for pid in phone_ids}
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for phone_id, at in queries:
            gate.decide(tenant_id=tenant_id, phone_number_id=phone_id, at=at)
        cached.append(rate(DECISIONS, time.perf_counter() - started))
        started = time.perf_counter()
        for phone_id, _at in queries:
            plain.get(phone_id)
        floor.append(rate(DECISIONS, time.perf_counter() - started))

    uncached_calls = 2_000
    started = time.perf_counter()
    for phone_id, at in queries[:uncached_calls]:
        history = gate.load_history(tenant_id=tenant_id, phone_number_id=phone_id)
        gate.decide_from_history(history, at)
    uncached = rate(uncached_calls, time.perf_counter() - started)

    captured = sum(
        gate.decide(tenant_id=tenant_id, phone_number_id=p, at=a).capture
        for p, a in queries[:10_000]
    )
    median_cached = statistics.median(cached)
    print("consent gate benchmark (one process, one core)")
    print(f"  numbers: {len(phone_ids)}, decisions per round: {DECISIONS}, rounds: {ROUNDS}")
    print(f"  sample: {captured / 100:.1f}% of decisions capture")
    median_floor = statistics.median(floor)
    print(
        f"  cached gate:      median {median_cached:12,.0f} decisions/s"
        f"  (min {min(cached):,.0f}, max {max(cached):,.0f})"
    )
    print(f"  baseline dict:    median {median_floor:12,.0f} lookups/s")
    print(
        f"  baseline uncached:       {uncached:12,.0f} decisions/s (history read from PostgreSQL)"
    )
    print(
        f"  cached / uncached: {median_cached / uncached:,.0f}x;"
        f"  cached / dict: {median_cached / median_floor:.3f}"
    )
    target = 50_000
    print(f"  target >= {target:,}/s: {'met' if median_cached >= target else 'NOT met'}")


if __name__ == "__main__":
    main()

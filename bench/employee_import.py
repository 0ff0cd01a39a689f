"""Benchmark: importing employees from CSV (preview, then the all-or-nothing confirm).

Prints the time to preview and to confirm a 10,000-row file (the parser's limit) and, as the
baseline measured in the same run, a loop of single-row INSERTs of the same number of rows into
a scratch table in one transaction: the floor of any row-by-row import on this machine.

Run: make bench   (or: .venv/bin/python bench/employee_import.py) — needs the local stack.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from compliance_hub.audit.actors import Actor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from consent.imports import confirm_import, preview_import  # noqa: E402

ROWS = 10_000


def make_csv(run: int) -> bytes:
    lines = ["full_name,email,employee_id,phone_number,region"]
    base = 10_000_000 + run * ROWS  # a fresh block of numbers per run: claims are platform-wide
    for n in range(ROWS):
        lines.append(f"Bench Person {n},p{n}@bench.example,E{n:06d},+9197{base + n:08d},IN")
    return ("\n".join(lines) + "\n").encode()


def baseline_inserts() -> float:
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_rows (n int, name text, phone text) ON COMMIT DROP")
        for n in range(ROWS):
            cursor.execute(
                "INSERT INTO bench_rows VALUES (%s, %s, %s)", [n, f"Bench {n}", f"+9197{n:08d}"]
            )
    return time.perf_counter() - started


def main() -> None:
    run = Tenant.objects.filter(slug__startswith="bench-import-").count()
    tenant = create_tenant(
        slug=f"bench-import-{run}", name=f"Benchmark: import run {run}", actor=Actor.system()
    )
    data = make_csv(run)

    started = time.perf_counter()
    employee_import = preview_import(
        tenant=tenant, filename="bench.csv", data=data, actor=Actor.system()
    )
    preview = time.perf_counter() - started
    assert not employee_import.errors, employee_import.errors[:3]

    started = time.perf_counter()
    imported = confirm_import(employee_import=employee_import, actor=Actor.system())
    confirm = time.perf_counter() - started

    floor = baseline_inserts()
    print(f"employee CSV import benchmark ({ROWS:,} rows, {len(data) / 1e6:.1f} MB)")
    print(f"  preview (parse + validate + store): {preview:6.2f} s")
    rows_per_second = imported / confirm
    print(
        f"  confirm (all-or-nothing create):    {confirm:6.2f} s  = {rows_per_second:,.0f} rows/s"
    )
    print(f"  baseline single-row INSERT loop:    {floor:6.2f} s  = {ROWS / floor:,.0f} rows/s")
    print(f"  confirm / baseline: {confirm / floor:.1f}x the time of bare inserts")


if __name__ == "__main__":
    main()

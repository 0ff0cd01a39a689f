"""Benchmark: what legal holds cost disposition (archive/holds/selectors.py).

Disposition asks, over every message of a tenant, which are not held:
``Message.objects.filter(tenant=t).exclude(held_messages_q(tenant=t))``. This places holds of
each kind on the archive_search benchmark's tenant (bench-search; run bench/archive_search.py
first, or this grows it to --size) and times, for 1, 3 and 6 active holds: building the condition
(reading the holds, one lexicon query per saved-search hold) and counting the messages not held
(a full pass, as disposition's selection of candidates makes), best of --repeat. EXPLAIN
(ANALYZE) of the count with every hold. The holds are released at the end (audited, like any).

Run: PYTHONPATH=. .venv/bin/python bench/legal_holds.py [--size 1000000] (local stack up,
migrated; `make bench` does both).

Figures of 2026-12-06 (shared 2-core machine, four other engineers' tests running; 1,000,000
messages of 50 employees and 5,000 conversations over 2025; best of 2):

| active holds | build the condition | count the messages not held | not held |
|---|---|---|---|
| 0 | 3.3 ms | 414 ms | 1,000,000 |
| 1 (employees) | 4.0 ms | 943 ms | 959,950 |
| 3 (+ conversations, client + month) | 2.8 ms | 713 ms | 955,859 |
| 6 (+ a week, two saved searches) | 34.0 ms | 1,789 ms | 840,637 |

The plan with six holds is one parallel sequential scan of the tenant's messages with every hold
as a filter on the row (the client's conversations as one hashed sub-plan, the edits that match a
saved search as one init-plan each): no join and no query per row or per hold. A daily run pays
about two seconds per million messages; the candidates' own condition (past retention) narrows
the scan further.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import django

django.setup()

from django.db import connection  # noqa: E402

from archive.holds.models import LegalHold  # noqa: E402
from archive.holds.selectors import active_holds, held_messages_q  # noqa: E402
from archive.holds.services import place_hold, release_hold  # noqa: E402
from archive.models import Message  # noqa: E402
from archive.search.models import SavedSearch  # noqa: E402
from archive.search.services import create_saved_search  # noqa: E402
from bench.archive_search import grow, tenant_with_people  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402

ACTOR = Actor.command("bench legal holds")
MATTER = "bench legal holds"


def holds_of_each_kind(tenant, employees: list[int], conversations: list[tuple[int, int]]):
    """Six scopes: employees, conversations, a client by name, a date range, a saved search
    with words, a saved search with words and a filter."""
    with tenant_scope(tenant):
        merger = SavedSearch.objects.filter(tenant=tenant, name="bench hold: merger").first()
        merger = merger or create_saved_search(
            tenant=tenant, actor=ACTOR, name="bench hold: merger", query="merger OR fusão",
            filters={},
        )  # fmt: skip
        inbound = SavedSearch.objects.filter(tenant=tenant, name="bench hold: contrato").first()
        inbound = inbound or create_saved_search(
            tenant=tenant, actor=ACTOR, name="bench hold: contrato", query="contrato w/3 cliente",
            filters={"direction": "inbound"},
        )  # fmt: skip
    return [
        {"employee_ids": employees[:2]},
        {"conversation_ids": [pk for pk, _ in conversations[:20]]},
        {"counterparty": "Silva", "since": datetime(2025, 3, 1, tzinfo=UTC),
         "until": datetime(2025, 4, 1, tzinfo=UTC)},
        {"since": datetime(2025, 11, 1, tzinfo=UTC), "until": datetime(2025, 11, 8, tzinfo=UTC)},
        {"saved_search": merger.pk},
        {"saved_search": inbound.pk},
    ]  # fmt: skip


def timed(tenant, repeat: int) -> tuple[float, float, int]:
    best_build, best_count, free = float("inf"), float("inf"), 0
    for _ in range(repeat):
        with tenant_scope(tenant):
            started = time.perf_counter()
            condition = held_messages_q(tenant=tenant)
            built = time.perf_counter()
            free = Message.objects.filter(tenant=tenant).exclude(condition).count()
            done = time.perf_counter()
        best_build = min(best_build, built - started)
        best_count = min(best_count, done - built)
    return best_build, best_count, free


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tenant, employees, conversations = tenant_with_people()
    grow(tenant, conversations, args.size)
    with tenant_scope(tenant):
        for old in active_holds(tenant=tenant).filter(matter=MATTER):
            release_hold(tenant=tenant, actor=ACTOR, hold=old, reason="bench: left over")
        total = Message.objects.count()
    print(f"{total:,} messages\n")
    print("| active holds | build the condition | count the messages not held | not held |")
    print("|---|---|---|---|")
    build, count, free = timed(tenant, args.repeat)
    print(f"| 0 | {build * 1000:.1f} ms | {count * 1000:.0f} ms | {free:,} |")
    placed: list[LegalHold] = []
    for n, scope in enumerate(holds_of_each_kind(tenant, employees, conversations), start=1):
        with tenant_scope(tenant):
            placed.append(place_hold(tenant=tenant, actor=ACTOR, matter=MATTER, reason="bench",
                                     **scope))  # fmt: skip
        if n in (1, 3, 6):
            build, count, free = timed(tenant, args.repeat)
            print(f"| {n} | {build * 1000:.1f} ms | {count * 1000:.0f} ms | {free:,} |")
    with tenant_scope(tenant), connection.cursor() as cursor:
        query = Message.objects.filter(tenant=tenant).exclude(held_messages_q(tenant=tenant))
        sql, params = query.order_by().values("pk").query.sql_with_params()
        # The ORM's own SQL (values travel as parameters), inside EXPLAIN.
        explain = f"EXPLAIN (ANALYZE, BUFFERS) SELECT count(*) FROM ({sql}) AS q"  # noqa: S608
        cursor.execute(explain, params)
        print("\nEXPLAIN (ANALYZE, BUFFERS), six holds:")
        for (line,) in cursor.fetchall():
            print("   ", line)
        for hold in placed:
            release_hold(tenant=tenant, actor=ACTOR, hold=hold, reason="bench: done")


if __name__ == "__main__":
    main()

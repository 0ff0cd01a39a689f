"""Benchmark: the archive's Merkle log (issue 4, "The archive record").

1. The tree itself, one core, no database: the root of 1,000,000 leaves, and the same leaves
   streamed through the frontier (what the checkpoint task and verify_archive do). Baseline: the
   1,000,000 SHA-256 calls of the leaf level alone, the floor of any implementation.
2. The hot path: messages archived in delivery-sized batches (``archive_messages``), with the log's
   hook (hash + one queued leaf per message) against the same call with the hook switched off,
   measured in the same run.
3. The checkpoint task: queued leaves given their index per second (sequencing + nodes +
   signature + anchor file).
4. ``verify_archive``: leaves recomputed from their records per second.

Run: make bench   (or: .venv/bin/python bench/merkle_log.py) — needs the local stack
(make run, or scripts/stack.sh start run, then manage.py migrate once).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path
from unittest import mock

from compliance_hub.audit.actors import Actor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

from archive import services as archive_services  # noqa: E402
from archive.ledger import merkle  # noqa: E402
from archive.ledger.services import checkpoint_and_anchor, log_records  # noqa: E402
from archive.ledger.verification import verify_log  # noqa: E402
from archive.models import Message  # noqa: E402
from archive.services import ConversationKey, MessageRecord, archive_messages  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from consent import services as consent  # noqa: E402

LEAVES = 1_000_000
ROUNDS = 3
BATCH = 20  # messages per processing transaction, as a busy delivery carries
MESSAGES = 4_000  # per variant and round
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def pure() -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(8, "big")) for i in range(LEAVES)]
    floors, roots, streams = [], [], []
    for _ in range(ROUNDS):
        floors.append(timed(lambda: [sha256(b"\x01" + leaf).digest() for leaf in leaves])[0])
        seconds, root = timed(merkle.root, leaves)
        roots.append(seconds)

        def stream():
            frontier = merkle.Frontier(tile_height=8)
            for leaf in leaves:
                frontier.append(leaf)
            return frontier.root()

        seconds, streamed = timed(stream)
        streams.append(seconds)
        assert streamed == root
    print(f"| root of {LEAVES:,} leaves (merkle.root) | {statistics.median(roots):.2f} s |")
    print(f"| the same leaves through the frontier | {statistics.median(streams):.2f} s |")
    print(f"| baseline: {LEAVES:,} SHA-256 calls alone | {statistics.median(floors):.2f} s |")


def bench_tenant() -> tuple[Tenant, int, str]:
    run = Tenant.objects.filter(slug__startswith="bench-ledger-").count()
    while Tenant.objects.filter(slug=f"bench-ledger-{run}").exists():
        run += 1
    tenant = create_tenant(
        slug=f"bench-ledger-{run}", name=f"Benchmark: Merkle log run {run}", actor=Actor.system()
    )
    employee = consent.create_employee(
        tenant=tenant,
        data=consent.EmployeeData(
            full_name=f"Bench Ledger {run}",
            email=f"ledger{run}@bench.example",
            employee_id=f"L{run:05d}",
            phone_number=f"+9197{run:08d}",
            whatsapp_phone_number_id=f"97{run:08d}",
        ),
        audit=False,
        actor=Actor.system(),
    )
    return tenant, employee.pk, employee.whatsapp_phone_number_id


def records(employee_id: int, phone_id: str, prefix: str, count: int) -> list[MessageRecord]:
    return [
        MessageRecord(
            conversation=ConversationKey(employee_id, phone_id, f"55119{n % 50:06d}"),
            counterparty={"wa_id": f"55119{n % 50:06d}", "name": f"Client {n % 50}"},
            business_display_number="5511000",
            wamid=f"wamid.{prefix}.{n}",
            direction="inbound" if n % 2 else "outbound",
            type="text",
            whatsapp_timestamp=MOMENT + timedelta(seconds=n),
            received_at=MOMENT + timedelta(seconds=n + 1),
            text=f"Message {n}: can we talk about the bond prices before Friday? " * 2,
            structured={},
            context={},
            is_history=False,
            flags=[],
            raw={"id": f"wamid.{prefix}.{n}", "type": "text", "text": {"body": f"Message {n}"}},
            delivery_id=None,
        )
        for n in range(count)
    ]


def archive_rate(tenant: Tenant, batches: list[list[MessageRecord]]) -> float:
    started = time.perf_counter()
    for batch in batches:
        with tenant_scope(tenant):  # one transaction per batch, as a processing task has
            archive_messages(tenant=tenant, records=batch)
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def database() -> None:
    tenant, employee_id, phone_id = bench_tenant()
    with_log, without_log = [], []
    for round_number in range(ROUNDS):
        for variant in ("log", "plain"):
            rows = records(employee_id, phone_id, f"{variant}{round_number}", MESSAGES)
            batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]
            if variant == "log":
                with_log.append(archive_rate(tenant, batches))
            else:
                with mock.patch.object(archive_services, "log_records", lambda **kw: 0):
                    without_log.append(archive_rate(tenant, batches))
    logged, plain = statistics.median(with_log), statistics.median(without_log)
    print(f"| archive_messages, {BATCH} per transaction, with the log | {logged:,.0f} messages/s |")
    print(f"| baseline: the same without the log's hook | {plain:,.0f} messages/s |")
    print(f"| cost of the log on the hot path | {100 * (plain / logged - 1):.0f}% |")

    # The hook alone: queue the leaves of the first round's hook-less messages, 20 per
    # transaction (one SELECT of the rows, hashing, one INSERT).
    wamids = [f"wamid.plain0.{n}" for n in range(MESSAGES)]
    started = time.perf_counter()
    for i in range(0, len(wamids), BATCH):
        with tenant_scope(tenant):
            log_records(
                tenant=tenant, records=Message.objects.filter(wamid__in=wamids[i : i + BATCH])
            )
    rate = len(wamids) / (time.perf_counter() - started)
    print(f"| log_records alone, {BATCH} leaves per transaction | {rate:,.0f} leaves/s queued |")

    # The other hook-less messages are as an archive that predates the log: its first checkpoint
    # adopts them (reads, hashes and sequences them).
    seconds, checkpoint = timed(lambda: checkpoint_and_anchor(tenant=tenant))
    print(
        f"| first checkpoint: {checkpoint.size:,} leaves, a third of them adopted | "
        f"{seconds:.2f} s ({checkpoint.size / seconds:,.0f} leaves/s) |"
    )
    rows = records(employee_id, phone_id, "later", MESSAGES * 2)
    archive_rate(tenant, [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)])
    before = checkpoint.size
    seconds, checkpoint = timed(lambda: checkpoint_and_anchor(tenant=tenant))
    added = checkpoint.size - before
    print(
        f"| checkpoint task: {added:,} queued leaves sequenced, signed, anchored | "
        f"{seconds:.2f} s ({added / seconds:,.0f} leaves/s) |"
    )
    seconds, report = timed(lambda: verify_log(tenant=tenant))
    assert report.ok, [str(p) for p in report.problems[:5]]
    print(
        f"| verify_archive: {report.leaves:,} leaves recomputed from their records | "
        f"{seconds:.2f} s ({report.leaves / seconds:,.0f} leaves/s) |"
    )


def main() -> None:
    print(f"measured {datetime.now(UTC):%Y-%m-%d}, median of {ROUNDS} rounds")
    print("| what | figure |")
    print("| --- | --- |")
    pure()
    database()


if __name__ == "__main__":
    main()

"""Benchmark: exporting the archive (issue 10, "Exports": 1,000,000 messages in under 10 minutes,
peak memory under 500 MB), through ``archive.exporting.build.write_export`` in every format.

1. A fresh ``bench-export-<n>-<run>`` tenant: employees, conversations, then N messages loaded with
   COPY as bench/archive_search.py loads them (its text generator), clustered as an inquiry's
   export is: N/200 conversations over 30 days (about 7 messages a conversation-day, so one
   RSMF and one e-mail file per ~7 messages), plus reactions on 5% and edits on 2% of them.
2. The tenant's first checkpoint adopts every row into its Merkle log (the log's own path: leaf
   hashes, sequencing, tree nodes), timed apart: it is setup, not export.
3. In a child process (so its peak RSS is the export's own): ``write_export`` of every message
   in rsmf, eml, csv, jsonl and html to a zip file; wall time, messages/s, peak RSS, bag size.
   ``--profile`` prints the export's top functions by cumulative time (cProfile).

Run (local stack: ``scripts/stack.sh start run`` and ``manage.py migrate`` once)::

    .venv/bin/python bench/export.py                      # 10,000 messages
    .venv/bin/python bench/export.py --messages 100000 --profile
    .venv/bin/python bench/export.py --messages 1000000   # the issue's target

Figures: docs/benchmarks.md ("Exports").
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import add_json_option, write_json

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from archive.exporting.build import ExportRequest, write_export  # noqa: E402
from archive.ledger.models import LogCheckpoint, PendingLeaf  # noqa: E402
from archive.ledger.services import checkpoint_log  # noqa: E402
from archive.models import Conversation, Message  # noqa: E402
from bench.archive_search import message_text, owner_connection  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from consent.models import Employee  # noqa: E402

EMPLOYEES = 20
START = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = 30
CHUNK = 50_000
FORMATS = ("rsmf", "eml", "csv", "jsonl", "html")
COLUMNS = (
    "tenant_id, conversation_id, employee_id, wamid, direction, type, whatsapp_timestamp,"
    " received_at, text, structured, context, is_history, flags, raw"
)
EVENT_COLUMNS = (
    "tenant_id, kind, event_key, target_wamid, direction, whatsapp_timestamp, received_at,"
    " payload, raw"
)


def reusable_tenant(messages: int) -> Tenant | None:
    """The newest earlier ``bench-export-<n>-<run>`` tenant whose data was fully loaded and
    adopted by its log (its latest checkpoint covers every message): loading and adopting a
    million rows takes most of an hour on this machine, the export a fraction of it."""
    candidates = Tenant.objects.filter(slug__startswith=f"bench-export-{messages}-").order_by("-pk")
    for tenant in candidates:
        with tenant_scope(tenant):
            if Message.objects.filter(tenant=tenant).count() != messages:
                continue
            latest = LogCheckpoint.objects.filter(tenant=tenant).order_by("-size").first()
            if latest is not None and not PendingLeaf.objects.filter(tenant=tenant).exists():
                return tenant
    return None


def fresh_tenant(messages: int) -> Tenant:
    run = 0
    while Tenant.objects.filter(slug=f"bench-export-{messages}-{run}").exists():
        run += 1
    return create_tenant(
        slug=f"bench-export-{messages}-{run}",
        name=f"Benchmark: export of {messages} (run {run})",
        actor=Actor.system(),
    )


def people(tenant: Tenant, conversations: int) -> list[tuple[int, int]]:
    with tenant_scope(tenant):
        Employee.objects.bulk_create(
            Employee(
                tenant=tenant,
                full_name=f"Employee {n}",
                email=f"e{n}@{tenant.slug}.example",
                employee_id=f"X{n}",
                phone_number=f"+55119{n:08d}",
                whatsapp_phone_number_id=f"8{n:06d}",
            )
            for n in range(EMPLOYEES)
        )
        employees = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
        rng = random.Random(2)  # noqa: S311 - reproducible load, not security
        Conversation.objects.bulk_create(
            Conversation(
                tenant=tenant,
                employee_id=employees[n % EMPLOYEES],
                business_phone_number_id=f"8{n % EMPLOYEES:06d}",
                counterparty_key=f"56{n:011d}",
                counterparty_wa_id=f"56{n:011d}",
                counterparty_name=rng.choice(["José Álvarez", "María Núñez", "João", "Zoë"]),
            )
            for n in range(conversations)
        )
        return list(Conversation.objects.values_list("pk", "employee_id"))


def load(tenant: Tenant, conversations: list[tuple[int, int]], total: int) -> None:
    """Messages (COPY into a temporary table, then INSERT under RLS), with their events."""
    rng = random.Random(total)  # noqa: S311 - reproducible load, not security
    done = 0
    while done < total:
        n = min(CHUNK, total - done)
        messages, events = io.StringIO(), io.StringIO()
        for i in range(done, done + n):
            conversation, employee = conversations[rng.randrange(len(conversations))]
            at = START + timedelta(seconds=rng.randrange(DAYS * 86400))
            text = message_text(rng).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
            direction = "inbound" if rng.random() < 0.5 else "outbound"
            wamid = f"bench.{tenant.pk}.{i}"
            messages.write(
                f"{tenant.pk}\t{conversation}\t{employee}\t{wamid}\t{direction}\ttext\t"
                f"{at.isoformat()}\t{at.isoformat()}\t{text}\t{{}}\t{{}}\tf\t[]\t{{}}\n"
            )
            roll = rng.random()
            later = (at + timedelta(minutes=3)).isoformat()
            if roll < 0.05:
                events.write(
                    f"{tenant.pk}\treaction\treaction:{wamid}\t{wamid}\toutbound\t{later}\t"
                    f'{later}\t{{"emoji": "👍"}}\t{{}}\n'
                )
            elif roll < 0.07:
                events.write(
                    f"{tenant.pk}\tedit\tedit:{wamid}\t{wamid}\t{direction}\t{later}\t{later}\t"
                    f'{{"message": {{"type": "text", "text": "(edited) {text[:40]}"}}}}\t{{}}\n'
                )
        started = time.perf_counter()
        with tenant_scope(tenant), connection.cursor() as cursor:
            for table, columns, buffer in (
                ("archive_message", COLUMNS, messages),
                ("archive_messageevent", EVENT_COLUMNS, events),
            ):
                buffer.seek(0)
                cursor.execute(
                    f"CREATE TEMP TABLE bench_load ON COMMIT DROP AS"  # noqa: S608
                    f" SELECT {columns} FROM {table} WITH NO DATA"
                )
                cursor.copy_expert(f"COPY bench_load ({columns}) FROM STDIN", buffer)
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) SELECT {columns} FROM bench_load"  # noqa: S608
                )
                cursor.execute("DROP TABLE bench_load")
        done += n
        print(f"  loaded {done:,} messages ({n / (time.perf_counter() - started):,.0f}/s)")
    with owner_connection() as owner, owner.cursor() as cursor:
        cursor.execute("ANALYZE archive_message")
        cursor.execute("ANALYZE archive_messageevent")


def export_child(slug: str, target: str, profile: bool, figures: Path | None = None) -> None:
    """The measured part, alone in its process."""
    tenant = Tenant.objects.get(slug=slug)
    with tenant_scope(tenant):
        rows = Message.objects.filter(tenant=tenant)
    request = ExportRequest(
        export_id="bench", requester="bench", matter="", query="", date_from=None,
        date_until=None, formats=FORMATS, created_at=datetime(2026, 4, 1, tzinfo=UTC),
    )  # fmt: skip
    before = peak_rss_mb()
    sampler = TreeMemory()
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)

    def run() -> None:
        with open(target, "wb") as out:
            result = write_export(tenant=tenant, request=request, messages=rows, out=out)
        print(f"  counts {result.counts}, tree size {result.tree_size}")

    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(run)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    else:
        run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    sampler.stop()
    # The parts' processes (archive/exporting/parts.py), reaped by now: their CPU counts too.
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    parts_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    cpu += parts_cpu
    peak = peak_rss_mb()
    size = Path(target).stat().st_size
    count = result_messages(tenant)
    print(
        f"RESULT messages={count} seconds={seconds:.1f} cpu_seconds={cpu:.1f} "
        f"(of which parts {parts_cpu:.1f}) parts={settings.EXPORT_PARTS} "
        f"per_second={count / seconds:,.0f} per_cpu_second={count / cpu:,.0f} "
        f"peak_rss_mb={peak:.0f} (at start {before:.0f}) "
        f"largest_part_peak_rss_mb={after.ru_maxrss / 1024 if parts_cpu else 0:.0f} "
        f"bag_mb={size / 1e6:.1f} load_average={os.getloadavg()[0]:.1f}"
    )
    print(
        f"MEMORY all export processes at once (VmRSS summed, sampled every "
        f"{TreeMemory.EVERY} s): peak {sampler.peak / 1024:.0f} MB (PSS, shared pages once: "
        f"{sampler.peak_pss / 1024:.0f} MB); each process's VmHWM: "
        + ", ".join(f"{pid} {kb / 1024:.0f} MB" for pid, kb in sampler.hwm.items())
        + f"; their sum {sum(sampler.hwm.values()) / 1024:.0f} MB"
    )
    write_json(
        figures,
        {
            "messages": count,
            "seconds": seconds,
            "per_second": count / seconds,
            "cpu_seconds": cpu,
            "parts": int(settings.EXPORT_PARTS),
            # Every process of the export at once (the coordinator and its parts), sampled.
            "peak_rss_mb": sampler.peak / 1024,
            "peak_pss_mb": sampler.peak_pss / 1024,
            "coordinator_peak_rss_mb": peak,
            "bag_mb": size / 1e6,
            "target": "1,000,000 messages in under 10 minutes (1,667/s), peak memory < 500 MB",
            # At the target's size only; below it, the rate and memory say how it would go.
            "target_met": seconds < 600 and sampler.peak / 1024 < 500
            if count >= 1_000_000
            else None,
            "rate_and_memory_met": count / seconds >= 1_000_000 / 600 and sampler.peak / 1024 < 500,
        },
    )


class TreeMemory(threading.Thread):
    """This process and its children (the export's parts and proof writers), sampled from
    /proc: the largest sum of their resident memory at one moment, and each one's VmHWM."""

    EVERY = 0.5

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0  # kB
        # PSS: a page shared by the forked processes counted once (RSS counts it in each).
        self.peak_pss = 0
        self.hwm: dict[int, int] = {}  # pid -> kB
        self.done = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.done.wait(self.EVERY):
            # The kernel's list of our children: scanning all of /proc took more CPU than the
            # export's own process on this busy machine.
            try:
                children = Path(f"/proc/{me}/task/{me}/children").read_text().split()
            except OSError:
                children = []
            pids = [me, *map(int, children)]
            total = proportional = 0
            for pid in pids:
                fields = _status(pid)
                total += fields.get("VmRSS", 0)
                proportional += fields.get("Pss", 0)
                if "VmHWM" in fields:
                    self.hwm[pid] = max(self.hwm.get(pid, 0), fields["VmHWM"])
            self.peak = max(self.peak, total)
            self.peak_pss = max(self.peak_pss, proportional)

    def stop(self) -> None:
        self.done.set()
        self.join()


def _status(pid: int) -> dict[str, int]:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        lines += Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return {}
    return {
        line.split(":")[0]: int(line.split()[1])
        for line in lines
        if line.startswith(("VmRSS:", "VmHWM:", "Pss:"))
    }


def proofs_child(slug: str, folder: str) -> None:
    """The inclusion proofs of every message and event of the tenant (what a whole-tenant
    export proves), written as an export writes them (``EXPORT_PARTS`` processes, while the
    parent would zip the payload): the coordinator's serial share after the parts, timed alone
    so it can be measured at 1,000,000 without the hour of the whole export on a loaded machine."""
    from archive.exporting.feed import EVENT, MESSAGE, TABLES, ProvenRecords
    from archive.exporting.parts import ProofsInParts
    from archive.ledger.models import LogLeaf

    tenant = Tenant.objects.get(slug=slug)
    with tenant_scope(tenant):
        checkpoint = LogCheckpoint.objects.filter(tenant=tenant).order_by("-size").first()
        assert checkpoint is not None
        proven = ProvenRecords(tree_size=checkpoint.size)
        rows = (
            LogLeaf.objects.filter(
                tenant=tenant, record_table__in=(MESSAGE, EVENT), leaf_index__lt=checkpoint.size
            )
            .values_list("record_table", "record_id", "leaf_index")
            .iterator(chunk_size=20_000)
        )
        for table, record_id, index in rows:
            proven.tables.append(TABLES.index(table))
            proven.ids.append(record_id)
            proven.indexes.append(index)
    sampler = TreeMemory()
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers = ProofsInParts(
        tenant=tenant, checkpoint=checkpoint, proven=proven, folder=folder,
        workers=int(settings.EXPORT_PARTS),
    )  # fmt: skip
    written = workers.wait()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    raw = sum(Path(p).stat().st_size for p in written.raw)
    deflated = sum(Path(p).stat().st_size for p in written.deflated)
    print(
        f"PROOFS records={len(proven)} seconds={seconds:.1f} cpu_seconds={cpu + workers_cpu:.1f}"
        f" (of which workers {workers_cpu:.1f}) workers={settings.EXPORT_PARTS}"
        f" proofs_mb={raw / 1e6:.0f} deflated_mb={deflated / 1e6:.0f}"
        f" load_average={os.getloadavg()[0]:.1f}"
    )
    print(
        f"MEMORY peak {sampler.peak / 1024:.0f} MB at once (PSS {sampler.peak_pss / 1024:.0f}"
        " MB); each process's VmHWM: "
        + ", ".join(f"{pid} {kb / 1024:.0f} MB" for pid, kb in sampler.hwm.items())
    )


def peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM (getrusage's ru_maxrss survives exec, so a child
    started by a big parent would report the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def result_messages(tenant: Tenant) -> int:
    with tenant_scope(tenant):
        return Message.objects.filter(tenant=tenant).count()


def setup(messages: int) -> Tenant:
    tenant = fresh_tenant(messages)
    print(f"{tenant.slug}: loading {messages:,} messages")
    conversations = people(tenant, max(1, messages // 200))
    load(tenant, conversations, messages)
    started = time.perf_counter()
    checkpoint = checkpoint_log(tenant=tenant, force=True)
    assert checkpoint is not None
    print(f"  log adopted {checkpoint.size:,} records in {time.perf_counter() - started:.0f} s")
    return tenant


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--export-child", nargs=2, metavar=("SLUG", "TARGET"))
    parser.add_argument("--keep", action="store_true", help="keep the bag (printed path)")
    parser.add_argument(
        "--reuse", action="store_true", help="export an earlier run's data of this size if any"
    )
    parser.add_argument("--setup-only", action="store_true", help="load and adopt, no export")
    parser.add_argument(
        "--proofs-only", action="store_true", help="time only the proofs of every record"
    )
    parser.add_argument("--proofs-child", nargs=2, metavar=("SLUG", "FOLDER"))
    add_json_option(parser)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child, profile=args.profile, figures=args.json)
        return
    if args.proofs_child:
        proofs_child(*args.proofs_child)
        return

    tenant = reusable_tenant(args.messages) if args.reuse else None
    if tenant is not None:
        print(f"{tenant.slug}: reusing its {args.messages:,} messages")
    else:
        tenant = setup(args.messages)
    if args.setup_only:
        return

    folder = tempfile.mkdtemp(prefix="bench-export-")
    if args.proofs_only:
        command = [sys.executable, __file__, "--proofs-child", tenant.slug, folder]
        try:
            subprocess.run(command, check=True)  # noqa: S603 - this script, our own arguments
        finally:
            for leftover in Path(folder).iterdir():
                leftover.unlink()
            Path(folder).rmdir()
        return
    target = str(Path(folder) / f"{tenant.slug}.zip")
    command = [sys.executable, __file__, "--export-child", tenant.slug, target]
    if args.profile:
        command.append("--profile")
    if args.json:
        command += ["--json", str(args.json)]
    subprocess.run(command, check=True)  # noqa: S603 - this script, with our own arguments
    if args.keep:
        print(f"  bag kept: {target}")
    else:
        Path(target).unlink()
        Path(folder).rmdir()


if __name__ == "__main__":
    main()

"""Benchmark: end to end — from the webhook POST to the message being in the archive.

Target (issue 4): at 100 deliveries/s, p95 under 2 s from POST to archive.

Defined as: the moment the generator wrote the request (POST sent) until the moment a poll of
the archive first sees the committed Message row with that wamid. The poll runs every
``--poll-interval`` seconds over every wamid sent and not yet seen; a row is timed when the poll
that found it returned, so the figure is an upper bound by at most one interval plus one query.

What runs (all on 127.0.0.1, bounded; what is started is stopped by its pid): a fresh
``bench-e2e-<n>`` tenant with one consented employee; the intake's granian of its own
(ingestion/serve.py); a Celery worker of its own (``-Q ingestion,default``) on the benchmark's
own Redis database; the open-loop generator of bench/_loadgen.py at ``--rate`` for
``--duration`` seconds, after a short warm-up that waits until the worker archives. Then the
exactly-once check as in bench/webhook_acceptance.py.

Run: make bench   (or: .venv/bin/python bench/end_to_end.py [--rate 100 --duration 60])
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
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
    start_celery,
    start_intake,
)

os.environ.update(bench_environment())

import django

django.setup()

from django.db import connection  # noqa: E402

from archive.models import Message  # noqa: E402
from bench._fixtures import (  # noqa: E402
    BenchTenant,
    check_exactly_once,
    fresh_tenant,
    wait_until_processed,
)
from bench._loadgen import wamid  # noqa: E402
from bench._openloop import Generator, median, percentile, summarise  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402

TARGET_P95_S = 2.0
_SEEN_SQL = f"SELECT wamid FROM {Message._meta.db_table} WHERE tenant_id = %s AND wamid = ANY(%s)"  # noqa: S608


def say(line: str = "") -> None:
    print(line, flush=True)


class ArchivePoller:
    """Times the first sighting of each wamid in the archive (committed rows only)."""

    def __init__(self, bench: BenchTenant) -> None:
        self.bench = bench
        self.seen: dict[str, float] = {}
        self.polls = 0
        self.poll_seconds = 0.0

    def poll(self, wamids: list[str]) -> None:
        if not wamids:
            return
        started = time.monotonic()
        with tenant_scope(self.bench.tenant), connection.cursor() as cursor:
            cursor.execute(_SEEN_SQL, [self.bench.tenant.pk, wamids])
            found = [row[0] for row in cursor.fetchall()]
        now = time.monotonic()
        for w in found:
            self.seen.setdefault(w, now)
        self.polls += 1
        self.poll_seconds += now - started


def send_and_watch(
    *,
    bench: BenchTenant,
    port: int,
    rate: float,
    count: int,
    first_index: int,
    workdir: Path,
    poll_interval: float,
    settle: float,
    meter: CpuMeter | None = None,
) -> tuple[dict, ArchivePoller]:
    """Send ``count`` deliveries at ``rate`` and poll the archive for them until every one that
    was acknowledged is seen, or ``settle`` seconds after the last answer."""
    generator = Generator(
        target=bench,
        port=port,
        rate=rate,
        count=count,
        first_index=first_index,
        max_connections=128,
        workdir=workdir,
    )
    poller = ArchivePoller(bench)
    names = [wamid(bench.wamid_prefix, first_index + i) for i in range(count)]
    if meter is not None:
        meter.start()
    started = time.monotonic()
    generator.go()
    unseen_from = 0
    while generator.running():
        due_now = min(count, int((time.monotonic() - started) * rate) + 1)
        while unseen_from < due_now and names[unseen_from] in poller.seen:
            unseen_from += 1
        poller.poll([n for n in names[unseen_from:due_now] if n not in poller.seen])
        time.sleep(poll_interval)
    result = generator.result()
    acknowledged = {names[i] for i, s in enumerate(result["status"]) if s == 200}
    deadline = time.monotonic() + settle
    while time.monotonic() < deadline and not acknowledged <= poller.seen.keys():
        poller.poll(sorted(acknowledged - poller.seen.keys()))
        time.sleep(poll_interval)
    if meter is not None:
        meter.stop(extra={"load generator": result["cpu_seconds"]})
    return result, poller


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100, help="deliveries/s offered")
    parser.add_argument("--duration", type=float, default=60, help="seconds")
    parser.add_argument("--workers", type=int, default=3, help="intake server worker processes")
    parser.add_argument("--threads", type=int, default=4, help="application threads per worker")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--poll-interval", type=float, default=0.05)
    parser.add_argument("--settle", type=float, default=120, help="seconds to wait at the end")
    parser.add_argument("--repeats", type=int, default=1)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    bench = fresh_tenant("e2e", "75")
    say(f"end-to-end benchmark — tenant {bench.tenant.slug}")
    say(
        f"  offered: {args.rate:,.0f} deliveries/s for {args.duration:.0f} s; granian WSGI "
        f"{args.workers} x {args.threads}; Celery worker -c {args.celery_concurrency}; all on "
        f"{os.cpu_count()} shared cores"
    )
    with BrokerDb() as broker_db:
        runs, acknowledged, seconds = measure(args, bench, broker_db, workdir)
    for line in check_exactly_once(bench.tenant, acknowledged).lines():
        say(line)
    p95 = median([r["p95"] for r in runs])
    met = all(r["clean"] for r in runs) and p95 < TARGET_P95_S
    say()
    say(
        f"  summary ({len(runs)} run(s) of {args.duration:.0f} s at {args.rate:,.0f}/s, medians):"
        f" POST -> archive p50 {median([r['p50'] for r in runs]):.3f} s, p95 {p95:.3f} s, "
        f"p99 {median([r['p99'] for r in runs]):.3f} s"
    )
    if args.rate == 100 and args.duration >= 30:
        say(f"  target (p95 < 2 s at 100/s): {'met' if met else 'NOT met'}")
    say(f"  (files of this run: {workdir}; waited {seconds:.1f} s for the last processing)")


def measure(args, bench: BenchTenant, broker_db: int, workdir: Path):
    port = free_port()
    web = start_intake(
        port=port,
        workers=args.workers,
        threads=args.threads,
        broker_db=broker_db,
        log=workdir / "granian.log",
    )
    worker = start_celery(
        concurrency=args.celery_concurrency, log=workdir / "celery.log", broker_db=broker_db
    )
    try:
        # Warm-up: the worker is up, the consent gate's cache and the conversation exist.
        warm = int(args.rate * 2)
        warm_result, warm_poller = send_and_watch(
            bench=bench,
            port=port,
            rate=args.rate,
            count=warm,
            first_index=0,
            workdir=workdir,
            poll_interval=args.poll_interval,
            settle=args.settle,
        )
        warm_ok = sum(1 for s in warm_result["status"] if s == 200)
        say(f"  warm-up: {warm_ok}/{warm} acknowledged, {len(warm_poller.seen)} archived")

        count = int(args.rate * args.duration)
        acknowledged = {
            wamid(bench.wamid_prefix, i) for i, s in enumerate(warm_result["status"]) if s == 200
        }
        runs = []
        for repeat in range(args.repeats):
            first = warm + repeat * count
            meter = CpuMeter(
                {
                    "web (granian)": web.pid,
                    "Celery worker": worker.pid,
                    "PostgreSQL": postgres_pid(),
                    "Redis": redis_pid(),
                }
            )
            result, poller = send_and_watch(
                bench=bench,
                port=port,
                rate=args.rate,
                count=count,
                first_index=first,
                workdir=workdir,
                poll_interval=args.poll_interval,
                settle=args.settle,
                meter=meter,
            )
            run = report(args, bench, result, poller, meter, first=first, repeat=repeat)
            acknowledged |= run.pop("acknowledged")
            runs.append(run)
        seconds, _ = wait_until_processed([bench.tenant], timeout=args.settle, say=say)
    finally:
        worker.stop(grace=60)
        web.stop()
    return runs, acknowledged, seconds


def report(args, bench, result, poller, meter, *, first: int, repeat: int) -> dict:
    figures = summarise(result, duration=args.duration)
    names = [wamid(bench.wamid_prefix, first + i) for i in range(len(result["status"]))]
    end_to_end, after_ack = [], []
    for i in figures["ok_indices"]:
        seen = poller.seen.get(names[i])
        if seen is not None:
            end_to_end.append(seen - result["sent"][i])
            after_ack.append(seen - result["done"][i])
    not_seen = figures["ok"] - len(end_to_end)
    run = {
        "p50": percentile(end_to_end, 50),
        "p95": percentile(end_to_end, 95),
        "p99": percentile(end_to_end, 99),
        "clean": not_seen == 0 and figures["ok"] == figures["sent"],
        "acknowledged": {names[i] for i in figures["ok_indices"]},
    }
    say(
        f"  run {repeat + 1}: webhook {figures['achieved']:,.0f}/s acknowledged, latency p50 "
        f"{figures['p50']:.1f} / p99 {figures['p99']:.1f} ms; statuses {figures['by_status']}"
    )
    say(
        f"    POST -> in the archive ({len(end_to_end):,} messages): p50 {run['p50']:.3f} s, "
        f"p95 {run['p95']:.3f} s, p99 {run['p99']:.3f} s, "
        f"max {max(end_to_end, default=float('nan')):.3f} s"
    )
    say(
        f"    200 answered -> in the archive: p50 {percentile(after_ack, 50):.3f} s, "
        f"p95 {percentile(after_ack, 95):.3f} s"
    )
    say(f"    acknowledged but not seen in the archive within {args.settle:.0f} s: {not_seen}")
    say(
        f"    poll: every {args.poll_interval * 1e3:.0f} ms, {poller.polls:,} polls, mean query "
        f"{poller.poll_seconds / max(poller.polls, 1) * 1e3:.1f} ms (the timing resolution)"
    )
    say("    CPU during the run:")
    for line in meter.lines(max(figures["ok"], 1)):
        say(line)
    return run


if __name__ == "__main__":
    main()

"""Benchmark: the scoring pipeline behind the webhook (issue 11) — processing with the demo
packs switched on against processing with no active policy, and webhook -> finding latency.

Targets (issue 11, measured in one run on this machine): processing behind the webhook (drain,
consent gate, archive, Merkle log, scan) sustains at least 600 deliveries/s on the 2 cores;
what scanning adds as a share of processing; the end-to-end p95 from webhook to finding (the
PolicyHit row) at 100 deliveries/s.

What runs (all on 127.0.0.1, bounded; what is started is stopped by its pid):
1. the message mix: short chat in pt/en/es that none of the demo packs fires on (the personal-data
   evaluation set's lines without personal data: order and policy numbers, invoices, everyday
   chat), with ``--trip-share`` of lines that do fire (CPF with context, moving to another
   messenger, risky links), each checked with the packs' engine here first;
2. two fresh tenants with one consented employee each: ``bench-pipeline-scan-<n>`` with the demo
   tenant's packs switched on (policies/demo.py), ``bench-pipeline-base-<n>`` with no policy
   (the baseline: the same drain, gate, archive and log, and the scan step that finds nothing to
   run and only marks the messages scanned);
3. a Celery worker of its own (``-c 2``, its own Redis database as broker), warmed on both
   tenants (the classifiers' model loaded in each process);
4. ``--repeats`` rounds, alternating baseline and packs: ``--backlog`` signed deliveries (one
   text message each, exactly the webhook's bodies) inserted as pending, the drain woken as the
   webhook wakes it, timed until every delivery is processed and every message scanned; CPU of
   the worker, PostgreSQL and Redis from /proc;
5. the open loop: the intake's granian of its own, the generator of bench/_loadgen.py sending
   the mix at ``--rate`` for ``--duration`` seconds to the packs tenant (the tables it reads
   ANALYZEd first: its tenants are new). The figures, from the moment each POST was written,
   come from the product's own timestamps, read after the loop: the scan mark's ``scanned_at``,
   the finding's ``created_at`` and, for the lines that trip, the commit of their alert's row
   (or its ``created_at`` where PostgreSQL keeps no commit times), high-severity ones apart
   (issue 12: a new high-severity message visible in the queue within 2 s p95 of the webhook). A
   poller beside them times the first sight of each row, the alert as the queue page reads it
   (``alerts.selectors.alert_queue``, default filters): the cross-check that the rows were
   visible, printed beside the headline. Then every acknowledged delivery is checked archived
   exactly once, every message scanned once and every tripping line found.

Run: ``.venv/bin/python bench/pipeline.py [--backlog 6000 --repeats 3 --rate 100 --duration 60]``
with the local stack up (``scripts/stack.sh start run``). Figures: docs/benchmarks.md
("Detection: the pipeline").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import add_json_option, write_json
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
from django.db.models import Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from alerts.selectors import ACTIVE_STATUSES, QueueFilters, alert_queue  # noqa: E402
from archive.models import Message  # noqa: E402
from bench._fixtures import BenchTenant, fresh_tenant  # noqa: E402
from bench._loadgen import build_body, wamid  # noqa: E402
from bench._openloop import Generator, median, percentile, summarise  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.celery import app as celery_app  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Role  # noqa: E402
from ingestion.models import Delivery  # noqa: E402
from ingestion.wakeup import wake_drain  # noqa: E402
from policies.demo import DEMO_PACKS, seed_demo_policies  # noqa: E402
from policies.detectors.classifier import active_model, classify  # noqa: E402
from policies.engine import Engine, PolicyRun  # noqa: E402
from policies.engine import Message as EngineMessage  # noqa: E402
from policies.ml import corpus  # noqa: E402
from policies.models import MessageScan, PolicyHit  # noqa: E402
from policies.packs import pack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATE = 600
LANGUAGES = ("pt", "en", "es")
# Risky links and links to other messengers, written for this bench (the link detector's own
# tests hold the systematic cases); the engine below keeps only those the packs fire on.
LINK_LINES = (
    "Olá! Atualize seus dados em http://itau-seguranca-app.xyz/login para evitar bloqueio",
    "Verify your account now: http://paypal.com.secure-login.top/signin",
    "Confirma tu acceso aquí http://192.168.14.20/banco/login.php",
    "me chama no t.me/joao_investimentos que lá eu te passo",
    "text me on wa.me/5511987654321, easier there",
    "escríbeme por signal.me/#p/+34600111222 mejor",
    "segue o link bit.ly/3xYz9Qa pra confirmar a senha do banco",
    "log in at http://micros0ft-support.click/account/verify asap",
)

_HIT_SQL = (
    f"SELECT DISTINCT m.wamid FROM {PolicyHit._meta.db_table} h JOIN {Message._meta.db_table} m "  # noqa: S608
    "ON m.id = h.message_id WHERE h.tenant_id = %s AND m.tenant_id = %s AND m.wamid = ANY(%s)"
)
_SCANNED_SQL = (
    f"SELECT m.wamid FROM {MessageScan._meta.db_table} s JOIN {Message._meta.db_table} m "  # noqa: S608
    "ON m.id = s.message_id WHERE s.tenant_id = %s AND m.tenant_id = %s AND m.wamid = ANY(%s)"
)


def say(line: str = "") -> None:
    print(line, flush=True)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


# --- the mix ---------------------------------------------------------------------------------


@dataclass
class Mix:
    texts: list[str]
    trips: list[bool]  # per text: the demo packs fire on it
    ordinary_pool: int = 0
    trip_pool: dict[str, int] = field(default_factory=dict)


def demo_engine() -> Engine:
    runs = [
        PolicyRun(ref=f"{slug}:{d['name']}", document=d)
        for slug in DEMO_PACKS
        for d in pack(slug).documents
    ]
    return Engine(runs, classify=classify)


def fires(engine: Engine, texts: list[str]) -> list[bool]:
    out: list[bool] = []
    for start in range(0, len(texts), 500):
        outcomes = engine.scan([EngineMessage(t) for t in texts[start : start + 500]])
        out.extend(any(v.fired for v in o.verdicts.values()) for o in outcomes)
    return out


def build_mix(*, size: int, trip_share: float, seed: int = 11) -> Mix:
    """``size`` texts, ``trip_share`` of them lines the demo packs fire on, shuffled."""
    rows = [json.loads(line) for line in (ROOT / "tests/policies/data/pii_eval.jsonl").open()]
    ordinary = [r["text"] for r in rows if not r["pii"] and r["lang"] in LANGUAGES]
    cpf = [
        r["text"]
        for r in rows
        if r["lang"] in LANGUAGES and any(p["type"] == "br_cpf" for p in r["pii"])
    ]
    off_channel = [
        e.text
        for e in corpus.load()
        if e.lang in LANGUAGES and e.kind == "positive" and "off_channel" in e.labels
    ]
    engine = demo_engine()
    ordinary = [t for t, hit in zip(ordinary, fires(engine, ordinary), strict=True) if not hit]
    pools = {"CPF": cpf, "off-channel": off_channel, "links": list(LINK_LINES)}
    pools = {
        name: [t for t, hit in zip(texts, fires(engine, texts), strict=True) if hit]
        for name, texts in pools.items()
    }
    rng = random.Random(seed)  # noqa: S311 - a reproducible mix, not a secret
    trip_count = round(size * trip_share)
    tripping = [rng.choice(pools[name]) for name in sorted(pools) for _ in range(trip_count)]
    rng.shuffle(tripping)
    chosen = [(t, True) for t in tripping[:trip_count]]
    chosen += [(rng.choice(ordinary), False) for _ in range(size - trip_count)]
    rng.shuffle(chosen)
    return Mix(
        texts=[t for t, _ in chosen],
        trips=[hit for _, hit in chosen],
        ordinary_pool=len(ordinary),
        trip_pool={name: len(texts) for name, texts in pools.items()},
    )


# --- the backlog -----------------------------------------------------------------------------


def insert_backlog(bench: BenchTenant, mix: Mix, *, count: int, first: int) -> None:
    """``count`` pending deliveries, bodies as the webhook stores them (one INSERT each there;
    here in bulk, so that inserting is not part of what is timed)."""
    # WhatsApp's times are whole seconds: the next one, so that no message of a tenant made a
    # moment ago falls before its employee's consent (as bench/_loadgen.py does).
    timestamp = int(time.time()) + 1
    now = timezone.now()
    rows = []
    for index in range(first, first + count):
        body = build_body(
            prefix=bench.wamid_prefix,
            index=index,
            phone_number_id=bench.phone_number_id,
            timestamp=timestamp,
            text=mix.texts[index % len(mix.texts)],
        )
        rows.append(
            Delivery(
                tenant=bench.tenant,
                body=body,
                body_sha256=hashlib.sha256(body).hexdigest(),
                headers={"Content-Type": "application/json"},
                received_at=now,
            )
        )
    with tenant_scope(bench.tenant):
        Delivery.objects.bulk_create(rows, batch_size=1000)


def progress(bench: BenchTenant, after: int) -> tuple[int, int, int]:
    """(pending deliveries, archived messages, scanned messages) of the tenant, messages counted
    above id ``after`` only: cheap index scans, so polling costs PostgreSQL little."""
    with tenant_scope(bench.tenant):
        pending = Delivery.objects.filter(status=Delivery.Status.PENDING).count()
        messages = Message.objects.filter(pk__gt=after).count()
        scanned = MessageScan.objects.filter(message_id__gt=after).count()
    return pending, messages, scanned


def last_message_id(bench: BenchTenant) -> int:
    with tenant_scope(bench.tenant):
        return Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


_STATEMENTS_SQL = (
    "SELECT queryid, calls, total_exec_time, rows, shared_blks_hit + shared_blks_read, "
    "left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements "
    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


def statements() -> dict[int, tuple]:
    """pg_stat_statements of this database, by query id (empty where the server lacks it: the
    local stack loads it where PostgreSQL's contrib is installed, scripts/stack.sh)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute(_STATEMENTS_SQL)
            return {row[0]: row[1:] for row in cursor.fetchall()}
    except Exception:  # no extension here: no breakdown, the round still counts
        return {}


def statement_lines(before: dict[int, tuple], after: dict[int, tuple], count: int, top: int):
    """The ``top`` statements by execution time in a round, per delivery: what grows."""
    deltas = []
    for key, (calls, spent, rows, blocks, text) in after.items():
        was = before.get(key, (0, 0.0, 0, 0, text))
        if calls > was[0]:
            deltas.append((spent - was[1], calls - was[0], rows - was[2], blocks - was[3], text))
    deltas.sort(reverse=True)
    for spent, calls, rows, blocks, text in deltas[:top]:
        yield (
            f"      {spent / count * 1e3:7.1f} us/delivery {calls / count:5.2f} calls "
            f"{rows / max(calls, 1):8.1f} rows {blocks / max(calls, 1):8.1f} blocks/call  {text}"
        )


def process_backlog(
    bench: BenchTenant, mix: Mix, *, count: int, first: int, roots: dict, timeout: float,
    top_statements: int = 0,
) -> dict:  # fmt: skip
    """Insert a backlog, wake the drain, time it until everything is archived and scanned."""
    insert_backlog(bench, mix, count=count, first=first)
    after = last_message_id(bench)
    seen = statements() if top_statements else {}
    meter = CpuMeter(dict(roots))
    meter.start()
    started = time.monotonic()
    wake_drain(bench.tenant.pk)
    done = False
    scanned = 0
    while time.monotonic() - started < timeout:
        pending, messages, scanned = progress(bench, after)
        if pending == 0 and messages == count and scanned == count:
            done = True
            break
        time.sleep(0.2)
    seconds = time.monotonic() - started
    meter.stop()
    used = {name: meter.used.get(name, 0.0) / count * 1e3 for name in roots}
    if top_statements:
        for line in statement_lines(seen, statements(), count, top_statements):
            say(line)
    return {
        "done": done,
        "seconds": seconds,
        "rate": count / seconds,
        "worker_ms": used["Celery worker"],
        "postgres_ms": used["PostgreSQL"],
        "redis_ms": used["Redis"],
        "machine_cores": meter.used.get("whole machine", 0.0) / seconds,
        "else_cores": meter.used.get("everything else", 0.0) / seconds,
        "scanned": scanned,
    }


# --- the open loop: webhook -> finding -------------------------------------------------------


class Poller:
    """First sightings of scan marks (every message) and findings (the tripping lines)."""

    def __init__(self, bench: BenchTenant) -> None:
        self.bench = bench
        self.scanned: dict[str, float] = {}
        self.found: dict[str, float] = {}
        # Seen in the officers' queue (alerts.selectors.alert_queue, its default filters: the
        # work still to do), with the alert's severity: issue 12's "visible in the queue".
        self.queued: dict[str, float] = {}
        self.severity: dict[str, str] = {}
        self.polls = 0
        self.seconds = 0.0  # spent polling: how slow the observer was

    def _query(self, sql: str, names: list[str], into: dict[str, float]) -> None:
        if not names:
            return
        pk = self.bench.tenant.pk
        # A row this query sees was committed before its snapshot, taken when it starts: the
        # start is the sighting. Stamped after the answer, a slow poll (1.3 s in a database
        # holding other benchmarks' million rows, planned on the new tenant's stale statistics)
        # counted its own time as the pipeline's.
        now = time.monotonic()
        with tenant_scope(self.bench.tenant), connection.cursor() as cursor:
            cursor.execute(sql, [pk, pk, names])
            rows = cursor.fetchall()
        for (name,) in rows:
            into.setdefault(name, now)

    def _queue(self, names: list[str]) -> None:
        if not names:
            return
        tenant = self.bench.tenant
        now = time.monotonic()  # the query's snapshot, as in _query
        with tenant_scope(tenant):
            rows = list(
                alert_queue(tenant=tenant, filters=QueueFilters(), role=Role.ADMIN)
                .filter(message__wamid__in=names)
                .values_list("message__wamid", "severity")
            )
        for name, severity in rows:
            self.queued.setdefault(name, now)
            if severity in ("high", "critical"):
                self.severity[name] = severity
            else:
                self.severity.setdefault(name, severity)

    def poll(self, scan_names: list[str], hit_names: list[str]) -> None:
        started = time.monotonic()
        self._query(_SCANNED_SQL, [n for n in scan_names if n not in self.scanned], self.scanned)
        self._query(_HIT_SQL, [n for n in hit_names if n not in self.found], self.found)
        self._queue([n for n in hit_names if n not in self.queued])
        self.polls += 1
        self.seconds += time.monotonic() - started


HIGH = ("high", "critical")
# The tables the observer reads, analyzed before the open loop (see analyze_observed).
OBSERVED_TABLES = (Message, MessageScan, PolicyHit, Alert)


def analyze_observed() -> str:
    """ANALYZE the tables the observer reads, so that PostgreSQL knows the bench's new tenant.

    The product keeps these tables' statistics with autovacuum thresholds (ingestion 0004/0005,
    archive 0013, policies 0006), which follow a tenant only once it has changed enough rows; a
    bench tenant made a minute ago, in a database that holds another tenant's million alerts, is
    still estimated at a row, and its polls were planned as nested loops over every row of the
    tenant (0.7-1.3 s each, docs/benchmarks.md). There is nothing in the product to call for this
    (autovacuum does it by itself), so the bench says ANALYZE once, after the backlog rounds
    filled the tenant and before the clock of the open loop starts."""
    import dj_database_url
    import psycopg2
    from django.conf import settings

    # The application's role owns nothing, and PostgreSQL skips (with a warning) an ANALYZE by
    # anyone but the owner: the migrations' role says it.
    owner = dj_database_url.parse(bench_environment()["DATABASE_OWNER_URL"])
    started = time.monotonic()
    with (
        psycopg2.connect(
            dbname=settings.DATABASES["default"]["NAME"],
            user=owner["USER"],
            password=owner["PASSWORD"],
            host=owner["HOST"],
            port=owner["PORT"],
        ) as owner_connection,
        owner_connection.cursor() as cursor,
    ):
        for model in OBSERVED_TABLES:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    owner_connection.close()
    return f"ANALYZE {', '.join(m._meta.db_table for m in OBSERVED_TABLES)}: " + (
        f"{time.monotonic() - started:.1f} s"
    )


def commit_timestamps_on() -> bool:
    """Whether PostgreSQL records each commit's time (``track_commit_timestamp``; the local
    run stack turns it on, scripts/stack.sh)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('track_commit_timestamp') = 'on'")
        return bool(cursor.fetchone()[0])


@dataclass
class Stamps:
    """What the product itself wrote, per Meta message id, as wall-clock seconds (time.time()):
    the scan mark's ``scanned_at``, the first finding's ``created_at``, the first alert still to
    review (the queue's default view) and the first high or critical one, each by the alert's
    ``created_at`` and, where PostgreSQL records it, by its row's commit."""

    scanned: dict[str, float] = field(default_factory=dict)
    found: dict[str, float] = field(default_factory=dict)
    queued: dict[str, float] = field(default_factory=dict)
    high: dict[str, float] = field(default_factory=dict)
    queued_commit: dict[str, float] = field(default_factory=dict)
    high_commit: dict[str, float] = field(default_factory=dict)


def product_stamps(bench: BenchTenant, names: list[str], *, commits: bool) -> Stamps:
    """Read once, after the open loop: a few indexed queries over the run's messages, so the
    figures do not depend on how fast the observer was while the run went on.

    ``created_at`` and ``scanned_at`` are Django's ``auto_now_add``: the worker's clock when it
    built the INSERT, inside the transaction, so a lower bound of the moment an officer could see
    the row (it is visible from its commit). The commit's own time (``pg_xact_commit_timestamp``
    of the row's ``xmin``) is that moment exactly; a row updated since (an officer claimed it)
    has a later xmin, which only makes it later, so the figure errs towards slow."""
    stamps = Stamps()
    wamid = "message__wamid"
    with tenant_scope(bench.tenant):
        for start in range(0, len(names), 2000):
            chunk = names[start : start + 2000]
            scans = MessageScan.objects.filter(**{f"{wamid}__in": chunk})
            for name, at in scans.values_list(wamid, "scanned_at"):
                stamps.scanned[name] = at.timestamp()
            hits = PolicyHit.objects.filter(**{f"{wamid}__in": chunk})
            for name, at in (
                hits.values(wamid).annotate(first=Min("created_at")).values_list(wamid, "first")
            ):
                stamps.found[name] = at.timestamp()
            alerts = Alert.objects.filter(**{f"{wamid}__in": chunk}, status__in=ACTIVE_STATUSES)
            for name, severity, at in alerts.values_list(wamid, "severity", "created_at"):
                for into, wanted in ((stamps.queued, True), (stamps.high, severity in HIGH)):
                    if wanted:
                        into[name] = min(into.get(name, at.timestamp()), at.timestamp())
            if commits:
                for name, severity, at in _commits(bench, chunk):
                    for into, wanted in (
                        (stamps.queued_commit, True),
                        (stamps.high_commit, severity in HIGH),
                    ):
                        if wanted and at is not None:
                            into[name] = min(into.get(name, at), at)
    return stamps


_COMMIT_SQL = (
    f"SELECT m.wamid, a.severity, extract(epoch FROM pg_xact_commit_timestamp(a.xmin)) "  # noqa: S608
    f"FROM {Alert._meta.db_table} a JOIN {Message._meta.db_table} m ON m.id = a.message_id "
    "WHERE a.tenant_id = %s AND m.tenant_id = %s AND m.wamid = ANY(%s) AND a.status = ANY(%s)"
)


def _commits(bench: BenchTenant, names: list[str]) -> list[tuple[str, str, float | None]]:
    pk = bench.tenant.pk
    with connection.cursor() as cursor:
        cursor.execute(_COMMIT_SQL, [pk, pk, names, [str(s) for s in ACTIVE_STATUSES]])
        return [(name, severity, float(at) if at is not None else None)
                for name, severity, at in cursor.fetchall()]  # fmt: skip


def wall_minus_monotonic() -> float:
    """time.time() - time.monotonic(), the best of a few reads: the load generator stamps its
    POSTs with time.monotonic() (one clock for every process of this machine) and the product
    stamps its rows with the wall clock of the same machine, so one offset turns the one into
    the other (a run of a minute drifts by microseconds under NTP's slewing)."""
    best = None
    for _ in range(5):
        before = time.monotonic()
        wall = time.time()
        after = time.monotonic()
        if best is None or after - before < best[0]:
            best = (after - before, wall - (before + after) / 2)
    assert best is not None
    return best[1]


def open_loop(args, bench: BenchTenant, mix: Mix, *, port: int, first: int, workdir: Path):
    count = int(args.rate * args.duration)
    names = [wamid(bench.wamid_prefix, first + i) for i in range(count)]
    trips = [mix.trips[(first + i) % len(mix.trips)] for i in range(count)]
    generator = Generator(
        target=bench,
        port=port,
        rate=args.rate,
        count=count,
        first_index=first,
        max_connections=128,
        workdir=workdir,
        texts=mix.texts,
    )
    poller = Poller(bench)
    offset_before = wall_minus_monotonic()
    started = time.monotonic()
    generator.go()
    low = 0
    while generator.running():
        due = min(count, int((time.monotonic() - started) * args.rate) + 1)
        while (
            low < due
            and names[low] in poller.scanned
            and (not trips[low] or (names[low] in poller.found and names[low] in poller.queued))
        ):
            low += 1
        poller.poll(
            names[low:due], [n for n, t in zip(names[low:due], trips[low:due], strict=True) if t]
        )
        time.sleep(args.poll_interval)
    result = generator.result()
    ok = [i for i, s in enumerate(result["status"]) if s == 200]
    deadline = time.monotonic() + args.settle
    while time.monotonic() < deadline:
        scan_left = [names[i] for i in ok if names[i] not in poller.scanned]
        hit_left = [
            names[i]
            for i in ok
            if trips[i] and (names[i] not in poller.found or names[i] not in poller.queued)
        ]
        if not scan_left and not hit_left:
            break
        poller.poll(scan_left, hit_left)
        time.sleep(args.poll_interval)
    offset = (offset_before + wall_minus_monotonic()) / 2
    commits = commit_timestamps_on()
    stamps = product_stamps(bench, [names[i] for i in ok], commits=commits)
    # The POST's send time on the wall clock: the product's stamps are wall-clock times of the
    # same machine (the worker's for created_at and scanned_at, PostgreSQL's for commits).
    posted = {names[i]: result["sent"][i] + offset for i in ok}
    tripping = [names[i] for i in ok if trips[i]]

    def since_post(stamped: dict[str, float], which: list[str]) -> list[float]:
        return [stamped[n] - posted[n] for n in which if n in stamped]

    stamped = {
        "scan": since_post(stamps.scanned, [names[i] for i in ok]),
        "hit": since_post(stamps.found, tripping),
        "queue": since_post(stamps.queued, tripping),
        "high": since_post(stamps.high, tripping),
        "queue_commit": since_post(stamps.queued_commit, tripping),
        "high_commit": since_post(stamps.high_commit, tripping),
    }
    # The headline: when the row became visible (its commit) where PostgreSQL records it, else
    # the alert's created_at (a little earlier: the transaction commits after the INSERT).
    headline = "high_commit" if commits and stamped["high_commit"] else "high"
    queue_headline = "queue_commit" if headline == "high_commit" else "queue"
    to_scan = [
        poller.scanned[names[i]] - result["sent"][i] for i in ok if names[i] in poller.scanned
    ]
    to_hit = [
        poller.found[names[i]] - result["sent"][i]
        for i in ok
        if trips[i] and names[i] in poller.found
    ]
    # From the 200 on: what the pipeline behind the webhook adds, without the webhook's queue.
    after_ack = [
        poller.found[names[i]] - result["done"][i]
        for i in ok
        if trips[i] and names[i] in poller.found
    ]
    to_queue = {
        severity: [
            poller.queued[names[i]] - result["sent"][i]
            for i in ok
            if trips[i]
            and names[i] in poller.queued
            and (severity == "any" or poller.severity[names[i]] in ("high", "critical"))
        ]
        for severity in ("any", "high")
    }
    figures = summarise(result, duration=args.duration)
    high, queue = stamped[headline], stamped[queue_headline]
    return {
        # The product's own timestamps (the headline: independent of the observer's speed).
        "source": "commit" if headline == "high_commit" else "created_at",
        "queue_p50": percentile(queue, 50),
        "queue_p95": percentile(queue, 95),
        "queue_seen": len(queue),
        "high_p50": percentile(high, 50),
        "high_p95": percentile(high, 95),
        "high_p99": percentile(high, 99),
        "high_max": max(high, default=float("nan")),
        "high_seen": len(high),
        "created_high_p50": percentile(stamped["high"], 50),
        "created_high_p95": percentile(stamped["high"], 95),
        "scan_p50": percentile(stamped["scan"], 50),
        "scan_p95": percentile(stamped["scan"], 95),
        "scans_seen": len(stamped["scan"]),
        "hit_p50": percentile(stamped["hit"], 50),
        "hit_p95": percentile(stamped["hit"], 95),
        "hit_p99": percentile(stamped["hit"], 99),
        "hit_max": max(stamped["hit"], default=float("nan")),
        "hits_seen": len(stamped["hit"]),
        # The poller's first sightings: the cross-check that the rows were visible (committed)
        # to a reader of the queue, slower by up to a poll's length.
        "poll_queue_p95": percentile(to_queue["any"], 95),
        "poll_queue_seen": len(to_queue["any"]),
        "poll_high_p50": percentile(to_queue["high"], 50),
        "poll_high_p95": percentile(to_queue["high"], 95),
        "poll_high_seen": len(to_queue["high"]),
        "poll_scan_p95": percentile(to_scan, 95),
        "poll_hit_p95": percentile(to_hit, 95),
        "poll_hits_seen": len(to_hit),
        "ack_hit_p50": percentile(after_ack, 50),
        "ack_hit_p95": percentile(after_ack, 95),
        "webhook": figures,
        "acknowledged": {names[i] for i in ok},
        "hits_expected": sum(1 for i in ok if trips[i]),
        "polls": poller.polls,
        "poll_seconds": poller.seconds,
    }


def check_scan_tenant(bench: BenchTenant, mix: Mix, *, sent: int) -> tuple[bool, list[str]]:
    """Exactly once over everything the packs tenant got: deliveries, archive, scans, findings:
    whether it holds, and the lines that say so."""
    expected_hits = sum(1 for i in range(sent) if mix.trips[i % len(mix.trips)])
    with tenant_scope(bench.tenant):
        deliveries = Delivery.objects.count()
        processed = Delivery.objects.filter(status=Delivery.Status.PROCESSED).count()
        messages = Message.objects.count()
        wamids = Message.objects.values("wamid").distinct().count()
        scans = MessageScan.objects.count()
        hit_messages = PolicyHit.objects.values("message_id").distinct().count()
        hits = PolicyHit.objects.count()
        hit_keys = PolicyHit.objects.values("message_id", "policy_version_id").distinct().count()
    ok = (
        deliveries == processed == messages == wamids == scans
        and hit_messages == expected_hits
        and hits == hit_keys
    )
    return ok, [
        f"  exactly once ({'OK' if ok else 'FAILED'}): {deliveries:,} deliveries ({processed:,} "
        f"processed), {messages:,} archived ({wamids:,} distinct wamids), {scans:,} scanned; "
        f"{hit_messages:,} messages with findings (tripping lines sent: {expected_hits:,}), "
        f"{hits:,} hits ({hit_keys:,} distinct message+version)",
    ]


def timed_in_process(bench: BenchTenant, mix: Mix, *, count: int, first: int) -> dict:
    """The drain of a backlog in this process, the scan step's CPU time apart: the scan
    receiver is wrapped for the duration (same code, same place after each batch's commit)."""
    from archive.hooks import deliveries_archived
    from ingestion.processing import drain_pending
    from policies.scanning import scan_after_deliveries

    spent = [0.0]

    def timed_scan(**kwargs: object) -> None:
        started = time.process_time()
        try:
            scan_after_deliveries(**kwargs)  # type: ignore[arg-type]
        finally:
            spent[0] += time.process_time() - started

    insert_backlog(bench, mix, count=count, first=first)
    deliveries_archived.disconnect(dispatch_uid="policies.scan")
    deliveries_archived.connect(timed_scan, dispatch_uid="bench.timed-scan", weak=False)
    try:
        started = time.process_time()
        drain_pending(tenant=bench.tenant, budget_seconds=3600)
        total = time.process_time() - started
    finally:
        deliveries_archived.disconnect(dispatch_uid="bench.timed-scan")
        deliveries_archived.connect(scan_after_deliveries, dispatch_uid="policies.scan")
    return {"total_ms": total / count * 1e3, "scan_ms": spent[0] / count * 1e3}


def profile(bench: BenchTenant, mix: Mix, *, count: int, first: int, out: Path) -> None:
    """The drain of a backlog in this process under cProfile (the worker's code path, the
    scan included: it runs after each batch's commit), its top functions printed."""
    import cProfile
    import pstats

    from ingestion.processing import drain_pending

    insert_backlog(bench, mix, count=count, first=first)
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    drain_pending(tenant=bench.tenant, budget_seconds=3600)
    profiler.disable()
    cpu = time.process_time() - started
    say(f"  profile of {bench.tenant.slug}: {count:,} deliveries, {cpu / count * 1e3:.2f} ms CPU "
        f"each in this process (the database's not counted); {out}")  # fmt: skip
    profiler.dump_stats(out)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)


# --- the run ---------------------------------------------------------------------------------


def backlog_figures(args: argparse.Namespace, rounds: dict[str, list[dict]]) -> dict[str, object]:
    """The backlog rounds' figures for --json (medians), marked partial until the run ends."""
    p_rate = median([r["rate"] for r in rounds["packs"]])
    return {
        "backlog": args.backlog,
        "repeats": args.repeats,
        "baseline_rate": median([r["rate"] for r in rounds["baseline"]]),
        "packs_rate": p_rate,
        "exactly_once": None,
        "partial": True,
        "target": f">= {TARGET_RATE}/s with scanning",
        "target_met": p_rate >= TARGET_RATE,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog", type=int, default=6000, help="deliveries per round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of each (alternated)")
    parser.add_argument("--trip-share", type=float, default=0.03)
    parser.add_argument("--mix-size", type=int, default=4000, help="distinct lines, cycled")
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--rate", type=float, default=100, help="open loop: deliveries/s")
    parser.add_argument("--duration", type=float, default=60, help="open loop: seconds; 0: none")
    parser.add_argument("--poll-interval", type=float, default=0.05)
    parser.add_argument("--settle", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=600, help="per backlog round")
    parser.add_argument(
        "--statements",
        type=int,
        default=0,
        help="after each round, its N costliest statements per delivery (pg_stat_statements)",
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="no ANALYZE before the open loop (to see the observer's slow polls apart)",
    )
    parser.add_argument(
        "--no-in-process",
        dest="in_process",
        action="store_false",
        help="skip the drain timed in this process (the scan step's share of its CPU)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="instead: profile the drain in this process (both tenants) into this folder",
    )
    add_json_option(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    say(f"pipeline benchmark — load average {load()} at the start; {os.cpu_count()} cores")
    active_model()  # trains (once, cached in MODELS_DIR) what the worker will load
    mix = build_mix(size=args.mix_size, trip_share=args.trip_share)
    say(
        f"  mix: {len(mix.texts):,} lines (pt/en/es), {sum(mix.trips)} trip the demo packs "
        f"({sum(mix.trips) / len(mix.trips):.1%}; pools {mix.trip_pool}); ordinary pool "
        f"{mix.ordinary_pool:,} lines none of the packs fires on"
    )
    scan = fresh_tenant("pipeline-scan", "73")
    base = fresh_tenant("pipeline-base", "72")
    seed_demo_policies(tenant=scan.tenant, actor=Actor.command("bench pipeline"))
    say(f"  tenants: {scan.tenant.slug} (packs {', '.join(DEMO_PACKS)}), {base.tenant.slug} (none)")

    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for name, bench in (("baseline", base), ("packs", scan)):
            profile(bench, mix, count=200, first=0, out=args.profile / f"{name}-warm.prof")
            profile(bench, mix, count=args.backlog, first=200, out=args.profile / f"{name}.prof")
        return
    with BrokerDb() as broker_db:
        redis_base = bench_environment()["REDIS_URL"].rsplit("/", 1)[0]
        celery_app.conf.broker_url = f"{redis_base}/{broker_db}"
        worker = start_celery(
            concurrency=args.celery_concurrency, log=workdir / "celery.log", broker_db=broker_db
        )
        roots = {"Celery worker": worker.pid, "PostgreSQL": postgres_pid(), "Redis": redis_pid()}
        rounds: dict[str, list[dict]] = {"baseline": [], "packs": []}
        next_index = {"baseline": 0, "packs": 0}
        benches = {"baseline": base, "packs": scan}
        try:
            # Warm-up: both worker processes load the model, the gate's cache fills.
            for name in ("packs", "baseline"):
                warm = process_backlog(
                    benches[name], mix, count=400, first=0, roots=roots, timeout=args.timeout
                )
                next_index[name] = 400
                say(f"  warm-up {name}: {warm['rate']:,.0f}/s")
            for repeat in range(args.repeats):
                for name in ("baseline", "packs"):
                    run = process_backlog(
                        benches[name],
                        mix,
                        count=args.backlog,
                        first=next_index[name],
                        roots=roots,
                        timeout=args.timeout,
                        top_statements=args.statements,
                    )
                    next_index[name] += args.backlog
                    rounds[name].append(run)
                    say(
                        f"  round {repeat + 1} {name:<8}: {run['rate']:,.0f} deliveries/s "
                        f"({args.backlog:,} in {run['seconds']:.1f} s"
                        f"{'' if run['done'] else ', NOT DONE'}); "
                        f"CPU per delivery: worker {run['worker_ms']:.2f} ms, PostgreSQL "
                        f"{run['postgres_ms']:.2f} ms, Redis {run['redis_ms']:.2f} ms; "
                        f"machine busy {run['machine_cores']:.2f} "
                        f"cores (others {run['else_cores']:.2f}); load {load()}"
                    )
            in_process: dict[str, list[dict]] = {"baseline": [], "packs": []}
            for _ in range(args.repeats if args.in_process else 0):
                for name in ("baseline", "packs"):
                    timed = timed_in_process(
                        benches[name], mix, count=args.backlog // 2, first=next_index[name]
                    )
                    next_index[name] += args.backlog // 2
                    in_process[name].append(timed)
                    say(
                        f"  in this process, {name:<8}: {timed['total_ms']:.2f} ms CPU per "
                        f"delivery, of which the scan step {timed['scan_ms']:.2f} ms"
                    )
            # Written now too: a run stopped during the open loop still leaves these.
            write_json(args.json, backlog_figures(args, rounds))
            latency = None
            if args.duration > 0:
                if args.analyze:
                    say(f"  {analyze_observed()} (the tenants are new: see analyze_observed)")
                port = free_port()
                web = start_intake(
                    port=port, workers=3, threads=4, broker_db=broker_db,
                    log=workdir / "granian.log",
                )  # fmt: skip
                try:
                    latency = open_loop(
                        args, scan, mix, port=port, first=next_index["packs"], workdir=workdir
                    )
                finally:
                    web.stop()
        finally:
            worker.stop(grace=60)

    say()
    say("  summary (medians of the rounds):")
    b_rate = median([r["rate"] for r in rounds["baseline"]])
    p_rate = median([r["rate"] for r in rounds["packs"]])
    b_cpu = median([r["worker_ms"] for r in rounds["baseline"]])
    p_cpu = median([r["worker_ms"] for r in rounds["packs"]])
    b_pg = median([r["postgres_ms"] for r in rounds["baseline"]])
    p_pg = median([r["postgres_ms"] for r in rounds["packs"]])
    say(f"    no active policy (baseline): {b_rate:,.0f} deliveries/s; worker {b_cpu:.2f} ms, "
        f"PostgreSQL {b_pg:.2f} ms CPU per delivery")  # fmt: skip
    say(f"    demo packs on:               {p_rate:,.0f} deliveries/s; worker {p_cpu:.2f} ms, "
        f"PostgreSQL {p_pg:.2f} ms CPU per delivery")  # fmt: skip
    cores = os.cpu_count() or 1
    for name in ("baseline", "packs"):
        per = median([r["worker_ms"] + r["postgres_ms"] + r["redis_ms"] for r in rounds[name]])
        # What the measured throughput would be with the machine to itself: a shared machine
        # (others' tests) takes cores from the run, not CPU per delivery.
        say(f"    {name}: {per:.2f} ms CPU per delivery (worker + PostgreSQL + Redis), so "
            f"{cores} idle cores could process at most ~{cores * 1e3 / per:,.0f}/s")  # fmt: skip
    say(
        f"    scanning's share of processing: {(p_cpu - b_cpu) / p_cpu:.0%} of the worker's CPU, "
        f"{(p_cpu + p_pg - b_cpu - b_pg) / (p_cpu + p_pg):.0%} of worker + PostgreSQL; "
        f"throughput packs / baseline {p_rate / b_rate:.2f}"
    )
    for name in ("baseline", "packs") if args.in_process else ():
        total = median([t["total_ms"] for t in in_process[name]])
        scan_ms = median([t["scan_ms"] for t in in_process[name]])
        say(f"    in one process (the worker's code, CPU time, the database's not counted), "
            f"{name}: {total:.2f} ms per delivery, the scan step {scan_ms:.2f} ms "
            f"({scan_ms / total:.0%})")  # fmt: skip
    say(
        f"    target (>= {TARGET_RATE}/s with scanning): "
        + ("met" if p_rate >= TARGET_RATE else "NOT met")
    )
    all_done = all(r["done"] for rs in rounds.values() for r in rs)
    say(f"    every round archived and scanned everything: {'yes' if all_done else 'NO'}")
    if latency is not None:
        w = latency["webhook"]
        say(
            f"    open loop {args.rate:,.0f}/s for {args.duration:.0f} s: "
            f"{w['ok']:,}/{w['sent']:,} acknowledged, webhook p99 {w['p99']:.1f} ms"
        )
        source = {
            "commit": "the alert row's commit (pg_xact_commit_timestamp)",
            "created_at": "the alert's created_at (commit timestamps not recorded here)",
        }[latency["source"]]
        say("    from the product's own timestamps, minus the POST's send time (one clock):")
        say(
            f"    POST -> scanned (MessageScan.scanned_at, every message, "
            f"{latency['scans_seen']:,}): p50 {latency['scan_p50']:.3f} s, p95 "
            f"{latency['scan_p95']:.3f} s"
        )
        say(
            f"    POST -> finding (PolicyHit.created_at; {latency['hits_seen']}/"
            f"{latency['hits_expected']} tripping lines found): p50 {latency['hit_p50']:.3f} s, "
            f"p95 {latency['hit_p95']:.3f} s, p99 {latency['hit_p99']:.3f} s, max "
            f"{latency['hit_max']:.3f} s"
        )
        say(
            f"    POST -> alert in the queue, by {source} ({latency['queue_seen']}/"
            f"{latency['hits_expected']}): p50 {latency['queue_p50']:.3f} s, p95 "
            f"{latency['queue_p95']:.3f} s"
        )
        say(
            f"    POST -> high-severity alert in the queue, by {source} ({latency['high_seen']} "
            f"lines; target p95 2 s, issue 12): p50 {latency['high_p50']:.3f} s, p95 "
            f"{latency['high_p95']:.3f} s, p99 {latency['high_p99']:.3f} s, max "
            f"{latency['high_max']:.3f} s (by Alert.created_at: p50 "
            f"{latency['created_high_p50']:.3f} s, p95 {latency['created_high_p95']:.3f} s)"
        )
        polls = max(latency["polls"], 1)
        say(
            f"    the poller's first sightings (cross-check of visibility; {latency['polls']:,} "
            f"polls, {latency['poll_seconds'] / polls * 1e3:.0f} ms each on average): "
            f"high-severity in the queue p50 {latency['poll_high_p50']:.3f} s, p95 "
            f"{latency['poll_high_p95']:.3f} s ({latency['poll_high_seen']} lines); any alert "
            f"p95 {latency['poll_queue_p95']:.3f} s; finding p95 {latency['poll_hit_p95']:.3f} "
            f"s ({latency['poll_hits_seen']} found); scanned p95 {latency['poll_scan_p95']:.3f} s"
        )
        say(
            f"    200 answered -> finding, polled: p50 {latency['ack_hit_p50']:.3f} s, p95 "
            f"{latency['ack_hit_p95']:.3f} s (the webhook's own queue left out)"
        )
    sent = next_index["packs"] + (int(args.rate * args.duration) if latency else 0)
    once, checked = check_scan_tenant(scan, mix, sent=sent)
    for line in checked:
        say(line)
    figures = backlog_figures(args, rounds)
    figures.update(all_done=all_done, exactly_once=once, partial=False)
    if latency is not None:
        figures["open_loop"] = {
            "rate": args.rate,
            "duration_s": args.duration,
            "acknowledged": latency["webhook"]["ok"],
            "sent": latency["webhook"]["sent"],
            "webhook_p99_ms": latency["webhook"]["p99"],
            **{
                key: latency[key]
                for key in (
                    "source", "scan_p50", "scan_p95", "hit_p50", "hit_p95", "hit_p99",
                    "hits_seen", "hits_expected", "queue_p50", "queue_p95", "queue_seen",
                    "high_p50", "high_p95", "high_p99", "high_seen", "created_high_p95",
                    "poll_high_p50", "poll_high_p95", "poll_high_seen", "poll_queue_p95",
                    "poll_hit_p95", "polls", "poll_seconds",
                )
            },
        }  # fmt: skip
    write_json(args.json, figures)
    say(f"  load average at the end {load()}; files of this run: {workdir}")


if __name__ == "__main__":
    main()

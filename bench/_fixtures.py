"""Data for the webhook benchmarks: a fresh tenant connected to WhatsApp with one consented
employee (through the services, as an admin would), the baseline insert loop, and the check that
every acknowledged delivery was archived exactly once. Needs ``django.setup()`` first."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import dj_database_url
import psycopg2
from django.conf import settings
from django.db.models import Count

from archive.models import Message
from bench._stack import stack_env
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.services import create_tenant
from consent import services as consent
from ingestion.models import Delivery
from ingestion.services import save_whatsapp_settings


@dataclass(frozen=True)
class BenchTenant:
    tenant: Tenant
    app_secret: str
    phone_number_id: str
    wamid_prefix: str

    @property
    def path(self) -> str:
        return f"/webhooks/whatsapp/{self.tenant.slug}/"


def fresh_tenant(kind: str, number_prefix: str) -> BenchTenant:
    """A new ``bench-<kind>-<n>`` tenant, so every run counts only its own rows."""
    run = Tenant.objects.filter(slug__startswith=f"bench-{kind}-").count()
    while Tenant.objects.filter(slug=f"bench-{kind}-{run}").exists():
        run += 1
    tenant = create_tenant(
        slug=f"bench-{kind}-{run}", name=f"Benchmark: {kind} run {run}", actor=Actor.system()
    )
    app_secret = secrets.token_hex(16)
    save_whatsapp_settings(
        tenant=tenant,
        app_secret=app_secret,
        verify_token=secrets.token_hex(8),
        actor=Actor.system(),
    )
    phone_number_id = f"{number_prefix}{run:08d}"
    employee = consent.create_employee(
        tenant=tenant,
        data=consent.EmployeeData(
            full_name=f"Bench Webhook {run}",
            email=f"webhook{run}@{kind}.bench.example",
            employee_id=f"W{run:05d}",
            # Valid Indian mobile numbers; claims are platform-wide, so one block per kind.
            phone_number=f"+91{number_prefix[:2]}{run:08d}",
            whatsapp_phone_number_id=phone_number_id,
        ),
        audit=False,
        actor=Actor.system(),
    )
    consent.record_consent(
        employee=employee,
        actor=Actor.system(),
        evidence_reference="benchmark",
        occurred_at=employee.created_at + timedelta(milliseconds=1),
    )
    return BenchTenant(tenant, app_secret, phone_number_id, f"{kind}{run}.{secrets.token_hex(3)}")


# --- the baseline: a plain single-row INSERT loop --------------------------------------------


def insert_baseline(*, rounds: int, seconds: float, body: bytes) -> list[float]:
    """Rows per second of a loop of single-row INSERTs over one connection in autocommit (one
    commit per row, durable as the server is configured), into a scratch table shaped like a
    delivery, over TCP to 127.0.0.1 like the web server. One figure per round."""
    owner = dj_database_url.parse(stack_env()["DATABASE_OWNER_URL"])
    connection = psycopg2.connect(
        dbname=settings.DATABASES["default"]["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"],
        host=owner["HOST"],
        port=owner["PORT"],
    )
    connection.autocommit = True
    table = f"bench_insert_baseline_{secrets.token_hex(4)}"
    rates = []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TABLE {table} (id bigserial PRIMARY KEY, received_at timestamptz "
                "NOT NULL, body bytea NOT NULL, body_sha256 varchar(64) NOT NULL)"
            )
            sql = f"INSERT INTO {table} (received_at, body, body_sha256) VALUES (now(), %s, %s)"  # noqa: S608
            payload = psycopg2.Binary(body)
            digest = "0" * 64
            for _ in range(rounds):
                rows = 0
                started = time.perf_counter()
                stop = started + seconds
                while True:
                    cursor.execute(sql, (payload, digest))
                    rows += 1
                    if rows % 50 == 0 and time.perf_counter() >= stop:
                        break
                rates.append(rows / (time.perf_counter() - started))
            cursor.execute(f"DROP TABLE {table}")
    finally:
        connection.close()
    return rates


# --- after the load: processing and the exactly-once check -----------------------------------


def delivery_counts(tenant: Tenant) -> dict[str, int]:
    with tenant_scope(tenant):
        return dict(
            Delivery.objects.order_by()
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )


def wait_until_processed(tenants: list[Tenant], *, timeout: float, say) -> tuple[float, int]:
    """Wait (bounded) until no delivery of these tenants is pending; (seconds, processed)."""
    started = time.monotonic()
    last_report = started
    total = 0
    while True:
        counts = [delivery_counts(t) for t in tenants]
        pending = sum(c.get(Delivery.Status.PENDING, 0) for c in counts)
        total = sum(sum(c.values()) for c in counts)
        now = time.monotonic()
        if pending == 0:
            return now - started, total
        if now - started > timeout:
            say(f"  gave up waiting after {timeout:.0f} s: {pending} deliveries still pending")
            return now - started, total - pending
        if now - last_report >= 15:
            done = total - pending
            say(f"  processing: {done:,}/{total:,} done, {done / (now - started):,.0f}/s")
            last_report = now
        time.sleep(1.0)


@dataclass
class ExactlyOnce:
    acknowledged: int
    deliveries: int
    distinct_bodies: int
    by_status: dict[str, int]
    messages: int
    distinct_wamids: int
    duplicated_wamids: int
    missing: int  # acknowledged, not archived
    unacknowledged_archived: int  # archived without a 200 (answer lost, e.g. a client timeout)

    @property
    def ok(self) -> bool:
        return (
            self.missing == 0
            and self.duplicated_wamids == 0
            and self.messages == self.distinct_wamids
            and self.deliveries == self.distinct_bodies
            and self.deliveries == self.acknowledged + self.unacknowledged_archived
            and self.by_status.get(Delivery.Status.PROCESSED, 0) == self.deliveries
        )

    def lines(self) -> list[str]:
        verdict = "OK" if self.ok else "FAILED"
        return [
            f"  exactly once: {verdict}",
            f"    acknowledged (200):        {self.acknowledged:,}",
            f"    delivery rows:             {self.deliveries:,} ({self.distinct_bodies:,} "
            f"distinct bodies; by status {self.by_status})",
            f"    archived messages:         {self.messages:,} ({self.distinct_wamids:,} "
            f"distinct wamids, {self.duplicated_wamids} archived twice)",
            f"    acknowledged, not archived: {self.missing}",
            f"    archived without a 200:     {self.unacknowledged_archived}",
        ]


def check_exactly_once(tenant: Tenant, acknowledged: set[str]) -> ExactlyOnce:
    with tenant_scope(tenant):
        deliveries = Delivery.objects.count()
        distinct_bodies = Delivery.objects.values("body_sha256").distinct().count()
        messages = Message.objects.count()
        archived = list(Message.objects.values_list("wamid", flat=True))
        duplicated = (
            Message.objects.order_by()
            .values("wamid")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
    archived_set = set(archived)
    return ExactlyOnce(
        acknowledged=len(acknowledged),
        deliveries=deliveries,
        distinct_bodies=distinct_bodies,
        by_status=delivery_counts(tenant),
        messages=messages,
        distinct_wamids=len(archived_set),
        duplicated_wamids=duplicated,
        missing=len(acknowledged - archived_set),
        unacknowledged_archived=len(archived_set - acknowledged),
    )

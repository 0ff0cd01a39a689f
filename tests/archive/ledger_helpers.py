"""Shared by the Merkle log tests: an archive to log, and hands that change rows the way a
database owner or superuser could, behind the application's back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    archive_events,
    archive_messages,
)
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee
from tests.tenant_rows import make_employee_with_consent

MOMENT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def employee_of(tenant: Tenant) -> Employee:
    make_employee_with_consent(tenant)
    with tenant_scope(tenant):
        return Employee.objects.get(employee_id=f"E-{tenant.slug}")


def message_record(employee: Employee, n: int) -> MessageRecord:
    at = MOMENT + timedelta(minutes=n)
    return MessageRecord(
        conversation=ConversationKey(employee.pk, employee.whatsapp_phone_number_id, "5511999"),
        counterparty={"wa_id": "5511999", "name": "Cliente Silva"},
        business_display_number="5511000",
        wamid=f"wamid.{employee.tenant_id}.{n}",
        direction="inbound" if n % 2 else "outbound",
        type="text",
        whatsapp_timestamp=at,
        received_at=at + timedelta(seconds=2),
        text=f"Mensagem {n}: ações da Petrobras a R$ 37,50",
        structured={"n": n, "price": 37.5, "nested": {"b": [1, 2.25, None], "a": "ç"}},
        context={"forwarded": n % 3 == 0},
        is_history=False,
        flags=[],
        raw={"id": f"wamid.{n}", "type": "text", "text": {"body": f"Mensagem {n}"}},
        delivery_id=None,
    )


def event_record(employee: Employee, n: int) -> EventRecord:
    at = MOMENT + timedelta(minutes=n, seconds=30)
    return EventRecord(
        kind="reaction",
        event_key=f"reaction:{employee.tenant_id}:{n}",
        target_wamid=f"wamid.{employee.tenant_id}.{n}",
        direction="inbound",
        whatsapp_timestamp=at,
        received_at=at,
        payload={"emoji": "👍"},
        raw={"reaction": {"emoji": "👍"}},
        delivery_id=None,
    )


def archive_sample(tenant: Tenant, employee: Employee, *, start: int = 0, count: int = 3) -> None:
    """``count`` messages, each with a reaction, archived as ingestion archives them."""
    numbers = range(start, start + count)
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=[message_record(employee, n) for n in numbers])
        archive_events(tenant=tenant, records=[event_record(employee, n) for n in numbers])


@contextmanager
def as_owner(tenant: Tenant) -> Iterator:
    """A cursor of the tables' owner role (which migrations run as), with the tenant set for
    Row-Level Security (forced, so it binds the owner too)."""
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant.pk)])
        try:
            yield cursor
        finally:
            cursor.execute("SELECT set_config('app.tenant_id', '', true)")
            set_role(connection, settings.DB_APP_ROLE)


def tamper(tenant: Tenant, table: str, sql: str, params: list | tuple = ()) -> int:
    """Change rows as the owner with the table's append-only triggers switched off, as a
    superuser can (``session_replication_role = replica``); returns the rows changed."""
    with as_owner(tenant) as cursor:
        # Deferred foreign-key checks of the test's own inserts would block ALTER TABLE.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        cursor.execute(sql, params)
        changed = cursor.rowcount
        cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
    return changed

"""Archive search looks its words up in the text index under row-level security.

PostgreSQL tests a query's condition inside an index, before the tenant policy, only when the
condition's function is LEAKPROOF; the text-search match (``@@``) is not marked so by default,
and then every search reads each message of its date range (or of the whole tenant) to test the
words: at 10 million messages that is what kept the keyword + dates + employee search over its
300 ms target (docs/scaling.md). scripts/stack.sh marks the function as a superuser; these tests
hold every database the suite runs on to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection

from archive.search.selectors import search_messages
from archive.services import ConversationKey, MessageRecord, archive_messages
from compliance_hub.db_roles import set_role
from compliance_hub.tenancy.context import tenant_scope

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def archive_chat(tenant, employee, texts: list[str]) -> None:
    with tenant_scope(tenant):
        archive_messages(
            tenant=tenant,
            records=[
                MessageRecord(
                    conversation=ConversationKey(
                        employee.pk, employee.whatsapp_phone_number_id, "5511900000001"
                    ),
                    counterparty={"wa_id": "5511900000001"},
                    business_display_number="",
                    wamid=f"wamid.plan.{n}",
                    direction="inbound",
                    type="text",
                    whatsapp_timestamp=START + timedelta(minutes=n),
                    received_at=START + timedelta(minutes=n),
                    text=text,
                    structured={},
                    context={},
                    is_history=False,
                    flags=[],
                    raw={},
                    delivery_id=None,
                )
                for n, text in enumerate(texts)
            ],
        )


def count_plan(tenant, **search) -> tuple[int, str]:
    """The search's exact count, and the plan of its count query run again as the application
    role (row-level security on), with plain table scans ruled out so that the planner shows
    which index it is allowed to use for the words."""
    captured: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with tenant_scope(tenant), connection.execute_wrapper(capture):
        results = search_messages(tenant=tenant, **search)
    sql, params = next(c for c in captured if "COUNT(" in c[0].upper())
    with connection.cursor() as cursor:
        # Statistics, as autovacuum would have gathered them: only the owner may ANALYZE.
        cursor.execute("RESET ROLE")
        cursor.execute("ANALYZE archive_message")
        # New entries wait in the GIN index's pending list until a vacuum; the planner prices
        # a scan of that list high, which tiny test tables would make decisive.
        cursor.execute("SELECT gin_clean_pending_list('message_search')")
    set_role(connection, settings.DB_APP_ROLE)
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == settings.DB_APP_ROLE  # row-level security applies
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    return results.count, plan


def test_the_words_of_a_search_are_found_in_the_text_index(tenant_a, ana):
    texts = [f"Bom dia, reunião número {n} às 10h com o cliente" for n in range(3000)]
    texts[7] = "A fusão é confidencial até o anúncio"
    texts[123] = "Não conte a ninguém sobre a fusão"
    archive_chat(tenant_a, ana, texts)

    count, plan = count_plan(tenant_a, query="fusão")

    assert count == 2
    assert "message_search" in plan, plan


def test_with_an_employee_and_dates_the_text_index_narrows_the_rows_too(tenant_a, ana):
    texts = [f"Bom dia, reunião número {n} às 10h" for n in range(400)]
    texts[7] = "A fusão é confidencial até o anúncio"
    archive_chat(tenant_a, ana, texts)

    count, plan = count_plan(
        tenant_a, query="fusão", employee=ana.pk, since=START, until=START + timedelta(days=1)
    )

    assert count == 1
    assert "message_search" in plan, plan

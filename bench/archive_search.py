"""Benchmark: searching the archive (issue 10, "Search and read"; archive/search/).

1. A bulk generator of realistic multilingual chat messages (English, Portuguese, Spanish; accents,
   typos, emojis, numbers, names): a pool of distinct texts made here and sent once with COPY,
   then every message generated inside PostgreSQL (INSERT ... SELECT from generate_series, its
   conversation, text, time and direction chosen by hashes of the row number), two sessions at
   once, under the tenant's row-level security. The stored search vectors are computed by
   PostgreSQL at that INSERT, as at ingestion; for a big load the secondary indexes are dropped
   first and built once at the end. These rows bypass the Merkle log: the benchmark measures
   search, not capture.
2. At each size: keyword + one month + one employee through ``search_messages`` (exact count,
   first page of 50 with snippets), p50/p95 over random employees, months and keywords; the same
   with a proximity query; and in the same run the baseline: the same filter with no text (count
   + first page by the ORM). EXPLAIN (ANALYZE, BUFFERS) of the slowest search's count query.
3. Once, on a sample: the merged vector against one vector per configuration (size, build time),
   and w/N expanded into <k> alternatives against a post-filter of positions in Python.
4. With --partitioned: the tenant copied into a table partitioned by month (and into one in time
   order), every search replayed on the product's table and on the copy (docs/scaling.md).

Run: make bench   (or: .venv/bin/python bench/archive_search.py [--sizes 200000,1000000]) — needs
the local stack (make run, or scripts/stack.sh start run, then manage.py migrate once). The data
stay in the bench-search tenant; --sizes grows it (rows already there count). 10,000,000
messages were generated in 1,638 s and indexed in 471 s (the old path, COPY of every row from
Python with the indexes maintained, ran at 1,700 to 2,600 a second).

Figures of 2026-12-06 (shared 2-core machine, load average 6 to 10 from other work; 40 searches
each; the full selector: lexicon, exact count, page of 50, snippets):

| messages | search | p50 | p95 | same filter, no text: p50 | p95 |
|---|---|---|---|---|---|
| 1,000,000 | keyword + month + employee | 32 ms | 44 ms | 7 ms | 11 ms |
| 1,000,000 | proximity + month + employee | 46 ms | 66 ms | 13 ms | 21 ms |
| 1,000,000 | keyword + month, every employee | 770 ms | 947 ms | 119 ms | 154 ms |
| 10,000,000 | keyword + month + employee | 426 ms | 841 ms | 31 ms | 47 ms |
| 10,000,000 | proximity + month + employee | 361 ms | 442 ms | 30 ms | 44 ms |
| 10,000,000 | keyword + month, every employee | 5,729 ms | 7,233 ms | 669 ms | 986 ms |

The generator's vocabulary is small, so its keywords are far commoner than in real chat, and
its 50 employees write 550 messages a day each. Plans at 10,000,000: with an employee, the
(tenant, employee, time) index and a heap fetch of the employee's 16,500 messages of the month;
month-wide, a parallel scan of the whole table (a month's rows are spread over it). The
partitioning measurement and decision: docs/scaling.md.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

import django

django.setup()

import psycopg2  # noqa: E402
from django.db import connection  # noqa: E402

from archive.models import Conversation, Message  # noqa: E402
from archive.search.selectors import search_messages  # noqa: E402
from compliance_hub.audit.actors import Actor  # noqa: E402
from compliance_hub.tenancy.context import tenant_scope  # noqa: E402
from compliance_hub.tenancy.models import Tenant  # noqa: E402
from compliance_hub.tenancy.services import create_tenant  # noqa: E402
from consent.models import Employee  # noqa: E402

SLUG = "bench-search"
EMPLOYEES = 50
CONVERSATIONS = 5_000
START = datetime(2025, 1, 1, tzinfo=UTC)
DAYS = 365
CHUNK = 100_000
ROUNDS = 40

EN = [
    "Can you {buy} {n} shares of {stock} before {day}?",
    "The {stock} merger is confidential until the announcement",
    "Don't tell compliance, call me on my personal phone {emoji}",
    "I think {stock} will go up after earnings {emoji}",
    "Investing in {stock} bonds is safer right now",
    "Let's discuss the investment at lunch on {day}",
    "Send me the contract and the price list for {stock}",
    "Client {name} wants to {buy} {n} more, ok?",
    "teh market is crazy today, {buy} {stock} quickly",
    "Thanks {name}, talk {day}",
    "ok",
    "Meeting moved to {hour}, bring the {stock} report",
]
PT = [
    "Você pode {comprar} {n} ações da {stock} antes de {dia}?",
    "A fusão da {stock} é confidencial até o anúncio",
    "Não fala com o compliance, me liga no meu celular {emoji}",
    "Acho que a {stock} vai subir depois do balanço {emoji}",
    "Investimento em títulos da {stock} é mais seguro agora",
    "Reunião às {hour} com o cliente {name}",
    "Manda o contrato e a operação de câmbio da {stock}",
    "acoes da {stock} em queda, {comprar} tudo",
    "Obrigado {name}, falamos {dia}",
    "blz",
]
ES = [
    "¿Puedes {comprar_es} {n} acciones de {stock} antes del {dia_es}?",
    "La fusión de {stock} es confidencial hasta el anuncio",
    "No le digas nada a cumplimiento, llámame al móvil {emoji}",
    "La operación de compra de {stock} está cerrada",
    "Operacion confirmada, {n} acciones de {stock}",
    "La inversión en {stock} es segura, sin riesgo {emoji}",
    "Reunión a las {hour} con {name}",
    "Gracias {name}, hablamos el {dia_es}",
]
SLOTS = {
    "buy": ["buy", "sell", "short", "get"],
    "comprar": ["comprar", "vender", "segurar"],
    "comprar_es": ["comprar", "vender", "mantener"],
    "n": [str(n) for n in (10, 50, 100, 200, 500, 1000, 2500)],
    "stock": ["ACME", "Petrobras", "Vale", "Itaú", "Telefónica", "Iberdrola", "Apple", "Nubank"],
    "day": ["Friday", "Monday", "tomorrow", "next week"],
    "dia": ["sexta", "segunda", "amanhã", "semana que vem"],
    "dia_es": ["viernes", "lunes", "mañana", "jueves"],
    "emoji": ["📈", "🚀", "🤫", "😉", "👍", "💰", ""],
    "name": ["José Álvarez", "María Núñez", "João", "Ana", "Mr. O'Brien", "Zoë"],
    "hour": ["10:30", "14h", "9am", "16:00"],
}
KEYWORDS = ["ações", "acoes", "merger", "confidencial", "operacion", "invest*", "contrato", "fusão"]
PROXIMITY = [
    "buy w/3 shares",
    "comprar w/4 ações",
    "acciones pre/3 stock",
    "(buy OR sell) w/2 shares",
]


def message_text(rng: random.Random) -> str:
    pool = rng.choices([EN, PT, ES], weights=[40, 35, 25])[0]
    parts = [rng.choice(pool) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
    text = " ".join(parts)
    for slot, values in SLOTS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", rng.choice(values), 1)
    if rng.random() < 0.05 and len(text) > 8:  # a typo: two letters swapped
        i = rng.randrange(len(text) - 2)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text


def owner_connection():
    from django.conf import settings

    return psycopg2.connect(settings.DATABASE_OWNER_URL)


def tenant_with_people() -> tuple[Tenant, list[int], list[tuple[int, int]]]:
    tenant = Tenant.objects.filter(slug=SLUG).first() or create_tenant(
        slug=SLUG, name="Bench search", actor=Actor.system()
    )
    with tenant_scope(tenant):
        if not Employee.objects.exists():
            Employee.objects.bulk_create(
                Employee(
                    tenant=tenant,
                    full_name=f"Employee {n}",
                    email=f"e{n}@bench.example",
                    employee_id=f"B{n}",
                    phone_number=f"+55119{n:08d}",
                    whatsapp_phone_number_id=f"9{n:06d}",
                )
                for n in range(EMPLOYEES)
            )
        employees = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
        if not Conversation.objects.exists():
            rng = random.Random(1)  # noqa: S311 - reproducible load, not security
            Conversation.objects.bulk_create(
                Conversation(
                    tenant=tenant,
                    employee_id=employees[n % EMPLOYEES],
                    business_phone_number_id=f"9{n % EMPLOYEES:06d}",
                    counterparty_key=f"55{n:011d}",
                    counterparty_wa_id=f"55{n:011d}",
                    counterparty_name=rng.choice(SLOTS["name"]),
                )
                for n in range(CONVERSATIONS)
            )
        conversations = list(Conversation.objects.values_list("pk", "employee_id"))
    return tenant, employees, conversations


POOL = 200_000  # distinct texts; each row picks one, so the vocabulary stays the generator's
LOADERS = 2  # concurrent INSERT sessions: the stored vector is computed per row, on one core each


def load_sql() -> str:
    """One chunk of messages generated inside PostgreSQL from ``generate_series``: conversation,
    text, time and direction are chosen by hashes of the row number, so a size is reproducible
    and nothing crosses the wire but the statement (the old path sent every row through COPY and
    ran at 2,000 a second)."""
    pick = "((hashint8(g * 7 + {salt}) & 2147483647) %% {modulus})"
    return (
        "INSERT INTO archive_message (tenant_id, conversation_id, employee_id, wamid, direction,"  # noqa: S608
        " type, whatsapp_timestamp, received_at, text, structured, context, is_history, flags,"
        " raw)"
        " SELECT %(tenant)s, c.id, c.employee_id, 'bench.' || g,"
        f" CASE WHEN {pick.format(salt=1, modulus=2)} = 0 THEN 'inbound' ELSE 'outbound' END,"
        f" 'text', t.at, t.at, p.text, '{{}}', '{{}}', false, '[]', '{{}}'"
        " FROM generate_series(%(first)s, %(last)s) g"
        f" JOIN bench_conversation c ON c.n = {pick.format(salt=2, modulus=CONVERSATIONS)}"
        f" JOIN bench_pool p ON p.n = {pick.format(salt=3, modulus=POOL)}"
        f" CROSS JOIN LATERAL (SELECT %(start)s::timestamptz"
        f" + make_interval(secs => {pick.format(salt=4, modulus=DAYS * 86400)})) t(at)"
    )


# The secondary indexes are dropped for a big load and built once at the end (a bulk build of a
# GIN index is many times faster than 10 million insertions into it). Their definitions wait in
# bench_dropped_index, so an interrupted load gets them back at the next run.
REBUILD_ABOVE = 500_000


def restore_indexes(cursor) -> float:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_dropped_index (name text PRIMARY KEY, definition text)"
    )
    cursor.execute("SELECT name, definition FROM bench_dropped_index")
    started = time.perf_counter()
    for name, definition in cursor.fetchall():
        print(f"  building {name}")
        cursor.execute(definition)
        cursor.execute("DELETE FROM bench_dropped_index WHERE name = %s", [name])
        cursor.connection.commit()
    return time.perf_counter() - started


def drop_indexes(cursor) -> None:
    cursor.execute(
        "SELECT i.indexname, i.indexdef, c.conname, pg_get_constraintdef(c.oid)"
        " FROM pg_indexes i LEFT JOIN pg_constraint c ON c.conname = i.indexname"
        " WHERE i.tablename = 'archive_message' AND i.indexname <> 'archive_message_pkey'"
    )
    for index, definition, constraint, constraint_def in cursor.fetchall():
        if constraint:
            definition = f"ALTER TABLE archive_message ADD CONSTRAINT {constraint} {constraint_def}"
        cursor.execute(
            "INSERT INTO bench_dropped_index VALUES (%s, %s)", [constraint or index, definition]
        )
        if constraint:
            cursor.execute(f"ALTER TABLE archive_message DROP CONSTRAINT {constraint}")
        else:
            cursor.execute(f"DROP INDEX {index}")
    cursor.connection.commit()


def grow(tenant: Tenant, conversations: list[tuple[int, int]], target: int) -> None:
    with tenant_scope(tenant):
        have = Message.objects.count()
    if have >= target:
        return
    rng = random.Random(1)  # noqa: S311 - reproducible load, not security
    owners = [owner_connection() for _ in range(LOADERS)]
    cursor = owners[0].cursor()
    cursor.execute("SET maintenance_work_mem = '1GB'")
    restore_indexes(cursor)
    cursor.execute("DROP TABLE IF EXISTS bench_pool, bench_conversation")
    cursor.execute("CREATE UNLOGGED TABLE bench_pool (n int PRIMARY KEY, text text)")
    pool = io.StringIO()
    for n in range(POOL):
        text = message_text(rng).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
        pool.write(f"{n}\t{text}\n")
    pool.seek(0)
    cursor.copy_expert("COPY bench_pool FROM STDIN", pool)
    cursor.execute("CREATE UNLOGGED TABLE bench_conversation (n int PRIMARY KEY, id bigint,"
                   " employee_id bigint)")  # fmt: skip
    cursor.executemany(
        "INSERT INTO bench_conversation VALUES (%s, %s, %s)",
        [(n, pk, employee) for n, (pk, employee) in enumerate(sorted(conversations))],
    )
    if target - have > REBUILD_ABOVE:
        drop_indexes(cursor)
    owners[0].commit()
    started = time.perf_counter()
    chunks = [(first, min(first + CHUNK, target) - 1) for first in range(have, target, CHUNK)]

    def load(owner, mine: list[tuple[int, int]]) -> None:
        with owner.cursor() as cursor:
            for first, last in mine:
                cursor.execute("SELECT set_config('app.tenant_id', %s, false)", [str(tenant.pk)])
                cursor.execute(
                    load_sql(),
                    {
                        "tenant": tenant.pk,
                        "first": first,
                        "last": last,
                        "start": START,
                    },
                )
                owner.commit()
                done = (last + 1 - have) / (time.perf_counter() - started)
                print(f"  loaded up to {last + 1:,} ({done:,.0f} messages/s overall)", flush=True)

    threads = [
        threading.Thread(target=load, args=(owner, chunks[i::LOADERS]))
        for i, owner in enumerate(owners)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    loading = time.perf_counter() - started
    cursor.execute("SET max_parallel_maintenance_workers = 2")
    indexing = restore_indexes(cursor)
    started = time.perf_counter()
    owners[0].commit()
    owners[0].autocommit = True
    cursor.execute("VACUUM (ANALYZE) archive_message")
    vacuum = time.perf_counter() - started
    cursor.execute("DROP TABLE bench_pool, bench_conversation")
    print(
        f"generated {target - have:,} messages in {loading:.0f} s, indexes built in"
        f" {indexing:.0f} s, VACUUM ANALYZE {vacuum:.0f} s"
    )
    for owner in owners:
        owner.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def measure(
    tenant: Tenant, employees: list[int], queries: list[str], *, employee_too: bool = True
) -> tuple[list, list, tuple]:
    rng = random.Random(5)  # noqa: S311 - reproducible load, not security
    searches, baselines, slowest = [], [], (0.0, None)
    for _ in range(ROUNDS):
        employee = rng.choice(employees) if employee_too else None
        month = rng.randrange(12)
        since = START + timedelta(days=30 * month)
        until = since + timedelta(days=30)
        query = rng.choice(queries)
        captured: list = []

        def capture(execute, sql, params, many, context, captured=captured):
            captured.append((sql, params))
            return execute(sql, params, many, context)

        with tenant_scope(tenant), connection.execute_wrapper(capture):
            started = time.perf_counter()
            results = search_messages(
                tenant=tenant, query=query, employee=employee, since=since, until=until
            )
            seconds = time.perf_counter() - started
        searches.append(seconds)
        if seconds > slowest[0]:
            count_sql = next(c for c in captured if "COUNT(" in c[0].upper())
            slowest = (seconds, (query, results.count, count_sql))
        with tenant_scope(tenant):
            started = time.perf_counter()
            rows = Message.objects.filter(
                tenant=tenant, whatsapp_timestamp__gte=since, whatsapp_timestamp__lt=until
            )
            if employee is not None:
                rows = rows.filter(employee_id=employee)
            rows.count()
            list(rows.order_by("-whatsapp_timestamp", "-id")[:50])
            baselines.append(time.perf_counter() - started)
    return searches, baselines, slowest


def report(size: int, label: str, searches: list[float], baselines: list[float]) -> None:
    def ms(x: float) -> str:
        return f"{x * 1000:.0f} ms"

    print(
        f"| {size:,} | {label} | {ms(statistics.median(searches))} | "
        f"{ms(percentile(searches, 0.95))} | {ms(statistics.median(baselines))} | "
        f"{ms(percentile(baselines, 0.95))} |"
    )


def explain(tenant: Tenant, slowest: tuple) -> None:
    seconds, (query, count, (sql, params)) = slowest
    print(f"\nEXPLAIN of the slowest count ({query!r}, {count} hits, {seconds * 1000:.0f} ms):")
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        for (line,) in cursor.fetchall():
            print("    " + line)


def design_figures(tenant: Tenant) -> None:
    """The merged vector against one per configuration, and w/N expanded against post-filtered,
    on a sample of the tenant's messages."""
    with tenant_scope(tenant), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE sample ON COMMIT DROP AS SELECT id, text, search_vector"
            " FROM archive_message WHERE tenant_id = %s ORDER BY id LIMIT 20000",
            [tenant.pk],
        )
        figures = {}
        for name, expression in [
            ("merged (one column, one GIN)", "public.ch_search_vector(text)"),
            ("simple only", "to_tsvector('public.ch_simple', text)"),
            (
                "one per configuration (four columns, four GIN)",
                "to_tsvector('public.ch_simple', text)::text || to_tsvector('public.ch_pt', text)"
                "::text || to_tsvector('public.ch_es', text)::text"
                " || to_tsvector('public.ch_en', text)::text",
            ),
        ]:
            started = time.perf_counter()
            if name.startswith("one per"):
                cursor.execute(
                    "SELECT sum(pg_column_size(to_tsvector('public.ch_simple', text))"
                    " + pg_column_size(to_tsvector('public.ch_pt', text))"
                    " + pg_column_size(to_tsvector('public.ch_es', text))"
                    " + pg_column_size(to_tsvector('public.ch_en', text))) FROM sample"
                )
            else:
                cursor.execute(f"SELECT sum(pg_column_size({expression})) FROM sample")  # noqa: S608
            (size,) = cursor.fetchone()
            figures[name] = (size, time.perf_counter() - started)
        print("\n| 20,000 messages | bytes of vectors | build time |")
        print("|---|---|---|")
        for name, (size, seconds) in figures.items():
            print(f"| {name} | {size:,} | {seconds * 1000:.0f} ms |")

        # w/N: the expanded tsquery (what the compiler writes) against the AND of both words
        # plus a check of positions in Python over every candidate's vector.
        from archive.search.compiler import compile_search, lexicon_keys
        from archive.search.query import parse
        from archive.search.selectors import ORIGINAL, lexicon

        tree = parse("buy w/5 shares")
        known = lexicon(*lexicon_keys(tree))
        compiled = compile_search(tree, known, ORIGINAL)
        started = time.perf_counter()
        sql = f"SELECT count(*) FROM archive_message WHERE tenant_id = %s AND {compiled.sql}"  # noqa: S608
        cursor.execute(sql, [tenant.pk, *compiled.params])
        (expanded,) = cursor.fetchone()
        expanded_s = time.perf_counter() - started
        both = compile_search(parse("buy shares"), known, ORIGINAL)
        buy, shares = known.words["buy"][0][1], known.words["shares"][0][1]
        started = time.perf_counter()
        sql = (
            "SELECT v.lexeme, v.positions, archive_message.id FROM archive_message,"  # noqa: S608
            " unnest(archive_message.search_vector) v WHERE archive_message.tenant_id = %s"
            f" AND {both.sql} AND v.lexeme = ANY(%s)"
        )
        cursor.execute(sql, [tenant.pk, *both.params, sorted(buy | shares)])
        by_message: dict[int, tuple[set, set]] = {}
        for lexeme, positions, pk in cursor.fetchall():
            a, b = by_message.setdefault(pk, (set(), set()))
            if lexeme in buy:
                a.update(positions)
            if lexeme in shares:
                b.update(positions)
        post = sum(
            1 for a, b in by_message.values() if any(1 <= abs(q - p) <= 5 for p in a for q in b)
        )
        post_s = time.perf_counter() - started
        print(f"\nbuy w/5 shares over the whole tenant: expanded {expanded:,} hits in "
              f"{expanded_s * 1000:.0f} ms; post-filtered {post:,} hits "
              f"({len(by_message):,} candidates) in {post_s * 1000:.0f} ms")  # fmt: skip


PARTITIONED = "bench_message_by_month"
# The same rows in one table, written in time order: what capture's appends look like, so the
# partitioned copy's gain can be split into "partitions" and "a month's rows are adjacent".
ORDERED = "bench_message_by_time"
COMPARE_ROUNDS = 20


def build_copy(tenant: Tenant, table: str) -> None:
    """The tenant's messages copied into ``table`` (PARTITIONED: by month of WhatsApp's time;
    ORDERED: one table in time order) with the same secondary indexes and the same row-level
    security. The product's table is left as it is: a migration comes only if a copy wins
    clearly (docs/scaling.md)."""
    owner = owner_connection()
    owner.autocommit = True
    cursor = owner.cursor()
    cursor.execute("SELECT to_regclass(%s)", [table])
    if cursor.fetchone()[0] is not None:
        return
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SET max_parallel_maintenance_workers = 2")
    # LIKE without INCLUDING GENERATED: the stored vector is copied, not computed again.
    partitioned = table == PARTITIONED
    cursor.execute(
        f"CREATE TABLE {table} (LIKE archive_message INCLUDING DEFAULTS)"
        + (" PARTITION BY RANGE (whatsapp_timestamp)" if partitioned else "")
    )
    if partitioned:
        for month in range(12):
            start = datetime(START.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            end = datetime(START.year + (month + 1) // 12, (month + 1) % 12 + 1, 1, tzinfo=UTC)
            cursor.execute(
                f"CREATE TABLE {table}_{start:%Y_%m} PARTITION OF {table}"
                " FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
        cursor.execute(f"CREATE TABLE {table}_other PARTITION OF {table} DEFAULT")
    cursor.execute("SELECT set_config('app.tenant_id', %s, false)", [str(tenant.pk)])
    started = time.perf_counter()
    cursor.execute(
        f"INSERT INTO {table} SELECT * FROM archive_message"  # noqa: S608
        + ("" if partitioned else " ORDER BY whatsapp_timestamp")
    )
    copying = time.perf_counter() - started
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'archive_message'")
    started = time.perf_counter()
    for name, definition in cursor.fetchall():
        # A unique index on a partitioned table must include the partition key, so the primary
        # key and (tenant, wamid) become plain indexes here (the lookups stay as fast; the
        # guarantee is what a migration would have to rebuild: see docs/scaling.md).
        definition = definition.replace("CREATE UNIQUE INDEX", "CREATE INDEX")
        definition = definition.replace(f"INDEX {name} ON", f"INDEX {name}_{table[-4:]} ON")
        cursor.execute(definition.replace("public.archive_message ", f"public.{table} "))
    indexing = time.perf_counter() - started
    cursor.execute("SELECT qual, with_check FROM pg_policies WHERE tablename = 'archive_message'")
    qual, check = cursor.fetchone()
    cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    cursor.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({qual}) WITH CHECK ({check})")
    cursor.execute(
        "SELECT grantee FROM information_schema.role_table_grants WHERE table_name ="
        " 'archive_message' AND privilege_type = 'SELECT' AND grantee <> current_user LIMIT 1"
    )
    (app_role,) = cursor.fetchone()
    cursor.execute(f'GRANT SELECT ON {table} TO "{app_role}"')
    cursor.execute(f"VACUUM (ANALYZE) {table}")
    print(f"{table}: rows copied in {copying:.0f} s, indexes built in {indexing:.0f} s")
    owner.close()


def on_copy(sql: str, table: str) -> str:
    return re.sub(r"\barchive_message\b", table, sql)


def compare_partitioned(
    tenant: Tenant, employees: list[int], copy: str, *, shapes: tuple[str, ...] = ()
) -> None:
    """Every search of the three shapes, replayed statement by statement (the lexicon, the
    exact count, the page, the snippets) on the product's table and on the partitioned copy,
    alternately, so both see the same machine."""
    print("\n| shape | table | p50 | p95 |")
    print("|---|---|---|---|")
    slowest: dict[str, tuple[float, str, list]] = {}
    for label, queries, employee_too in [
        ("keyword + month + employee", KEYWORDS, True),
        ("proximity + month + employee", PROXIMITY, True),
        ("keyword + month (every employee)", KEYWORDS, False),
    ]:
        if shapes and label not in shapes:
            continue
        rng = random.Random(5)  # noqa: S311 - the same searches as measure()
        timings: dict[str, list[float]] = {"archive_message": [], copy: []}
        for n in range(COMPARE_ROUNDS):
            employee = rng.choice(employees) if employee_too else None
            since = START + timedelta(days=30 * rng.randrange(12))
            query = rng.choice(queries)
            captured: list = []

            def capture(execute, sql, params, many, context, captured=captured):
                captured.append((sql, params))
                return execute(sql, params, many, context)

            with tenant_scope(tenant), connection.execute_wrapper(capture):
                search_messages(
                    tenant=tenant, query=query, employee=employee, since=since,
                    until=since + timedelta(days=30),
                )  # fmt: skip
            tables = list(timings)
            for table in tables if n % 2 else tables[::-1]:
                with tenant_scope(tenant), connection.cursor() as cursor:
                    started = time.perf_counter()
                    for sql, params in captured:
                        cursor.execute(on_copy(sql, table), params)
                    seconds = time.perf_counter() - started
                timings[table].append(seconds)
                count_sql = next(c for c in captured if "COUNT(" in c[0].upper())
                key = f"{label} on {table}"
                if seconds > slowest.get(key, (0.0,))[0]:
                    sql, params = count_sql
                    slowest[key] = (seconds, on_copy(sql, table), params)
        for table, values in timings.items():
            print(
                f"| {label} | {table} | {statistics.median(values) * 1000:.0f} ms |"
                f" {percentile(values, 0.95) * 1000:.0f} ms |"
            )
    for key, (seconds, sql, params) in slowest.items():
        if "every employee" not in key:
            continue
        print(f"\nEXPLAIN of the slowest count, {key} ({seconds * 1000:.0f} ms in the replay):")
        with tenant_scope(tenant), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print("    " + line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="after the largest size: copy the tenant into a table partitioned by month and"
        " compare every search on both",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tenant, employees, conversations = tenant_with_people()
    for size in sizes:
        print(f"growing {SLUG} to {size:,} messages")
        grow(tenant, conversations, size)
        if args.partitioned:
            continue  # its comparison measures the product's table too, next to the copy
        print("\n| messages | query | search p50 | search p95 | baseline p50 | baseline p95 |")
        print("|---|---|---|---|---|---|")
        searches, baselines, slowest = measure(tenant, employees, KEYWORDS)
        report(size, "keyword + month + employee", searches, baselines)
        near, near_baselines, _ = measure(tenant, employees, PROXIMITY)
        report(size, "proximity + month + employee", near, near_baselines)
        wide, wide_baselines, wide_slowest = measure(
            tenant, employees, KEYWORDS, employee_too=False
        )
        report(size, "keyword + month (every employee)", wide, wide_baselines)
        explain(tenant, slowest)
        explain(tenant, wide_slowest)
    if args.partitioned:
        build_copy(tenant, PARTITIONED)
        compare_partitioned(tenant, employees, PARTITIONED)
        build_copy(tenant, ORDERED)
        compare_partitioned(
            tenant, employees, ORDERED, shapes=("keyword + month (every employee)",)
        )
        return
    design_figures(tenant)


if __name__ == "__main__":
    main()

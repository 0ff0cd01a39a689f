"""Benchmark: searching the archive (issue 10, "Search and read"; archive/search/).

1. A bulk generator of realistic multilingual chat messages (English, Portuguese, Spanish; accents,
   typos, emojis, numbers, names) loaded with COPY into a temporary table, then one INSERT ...
   SELECT per chunk under the tenant's row-level security (COPY FROM itself is refused on a table
   with RLS). The stored search vectors are computed by PostgreSQL at that INSERT, as at ingestion.
   These rows bypass the Merkle log: the benchmark measures search, not capture.
2. At each size: keyword + one month + one employee through ``search_messages`` (exact count,
   first page of 50 with snippets), p50/p95 over random employees, months and keywords; the same
   with a proximity query; and in the same run the baseline: the same filter with no text (count
   + first page by the ORM). EXPLAIN (ANALYZE, BUFFERS) of the slowest search's count query.
3. Once, on a sample: the merged vector against one vector per configuration (size, build time),
   and w/N expanded into <k> alternatives against a post-filter of positions in Python.

Run: make bench   (or: .venv/bin/python bench/archive_search.py [--sizes 200000,1000000]) — needs
the local stack (make run, or scripts/stack.sh start run, then manage.py migrate once). The data
stay in the bench-search tenant; --sizes grows it (rows already there count). Loading ran at
1,700 to 2,600 messages a second (vectors and indexes built at INSERT), so the first 1,000,000
take about 8 minutes.

Figures of 2026-12-06 (shared 2-core machine, load average 7 to 10 from other work; 40 searches
each; the full selector: lexicon, exact count, page of 50, snippets):

| messages | search | p50 | p95 | same filter, no text: p50 | p95 |
|---|---|---|---|---|---|
| 1,000,000 | keyword + month + employee | 32 ms | 44 ms | 7 ms | 11 ms |
| 1,000,000 | proximity + month + employee | 46 ms | 66 ms | 13 ms | 21 ms |
| 1,000,000 | keyword + month, every employee | 770 ms | 947 ms | 119 ms | 154 ms |

The generator's vocabulary is small, so its keywords are far commoner than in real chat (the
slowest month-wide search counted 7,957 hits among 82,028 messages of the month). Plans: with an
employee, the (tenant, employee, time) index and a recheck of about 1,600 rows (6 ms); month-wide,
a parallel bitmap scan of the month (250 ms for the count). 10,000,000 was not generated here
(the machine was shared), and monthly partitioning was not tried.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
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
    env = Path(__file__).resolve().parent.parent / ".stack" / "env"
    pairs = dict(line.split("=", 1) for line in env.read_text().splitlines() if "=" in line)
    return psycopg2.connect(pairs["DATABASE_OWNER_URL"])


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


COLUMNS = (
    "tenant_id, conversation_id, employee_id, wamid, direction, type, whatsapp_timestamp,"
    " received_at, text, structured, context, is_history, flags, raw"
)


def grow(tenant: Tenant, conversations: list[tuple[int, int]], target: int) -> None:
    with tenant_scope(tenant):
        have = Message.objects.count()
    rng = random.Random(have)  # noqa: S311 - reproducible load, not security
    while have < target:
        n = min(CHUNK, target - have)
        buffer = io.StringIO()
        for i in range(have, have + n):
            conversation, employee = conversations[rng.randrange(len(conversations))]
            at = START + timedelta(seconds=rng.randrange(DAYS * 86400))
            text = message_text(rng).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
            direction = "inbound" if rng.random() < 0.5 else "outbound"
            buffer.write(
                f"{tenant.pk}\t{conversation}\t{employee}\tbench.{i}\t{direction}\ttext\t"
                f"{at.isoformat()}\t{at.isoformat()}\t{text}\t{{}}\t{{}}\tf\t[]\t{{}}\n"
            )
        buffer.seek(0)
        started = time.perf_counter()
        with tenant_scope(tenant), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE bench_load ON COMMIT DROP AS"  # noqa: S608
                f" SELECT {COLUMNS} FROM archive_message WITH NO DATA"
            )
            cursor.copy_expert(f"COPY bench_load ({COLUMNS}) FROM STDIN", buffer)
            cursor.execute(
                f"INSERT INTO archive_message ({COLUMNS}) SELECT {COLUMNS} FROM bench_load"  # noqa: S608
            )
        have += n
        print(f"  loaded {have:,} messages ({n / (time.perf_counter() - started):,.0f}/s)")
    with owner_connection() as owner, owner.cursor() as cursor:
        cursor.execute("ANALYZE archive_message")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tenant, employees, conversations = tenant_with_people()
    for size in sizes:
        print(f"growing {SLUG} to {size:,} messages")
        grow(tenant, conversations, size)
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
    design_figures(tenant)


if __name__ == "__main__":
    main()

"""Benchmark: searching the archive (issue 10, "Search and read"; archive/search/).

1. A bulk generator of multilingual chat messages (English, Portuguese, Spanish; accents, typos,
   emojis, numbers, names) in two shapes, each in a tenant of its own (``Profile``):
   - ``firm`` (the default, realistic): 500 employees over two years, office hours of working
     days, everyday words drawn by Zipf's law and 4% compliance clauses, so a keyword sits in
     0.1% to 1% of messages (reasoning at ``FIRM``);
   - ``stress`` (the earlier generator): 50 employees writing 550 messages every day of one
     year, only compliance templates, each keyword in about 10% of messages.
   ``--employees``, ``--days`` and ``--skew`` make a custom firm. A pool of distinct texts is made
   here and sent once with COPY, then every message is generated inside PostgreSQL (INSERT ...
   SELECT from generate_series, its conversation, text, time slot and direction chosen by hashes
   of the row number), two sessions at once, under the tenant's row-level security. The stored
   search vectors are computed by PostgreSQL at that INSERT, as at ingestion; for a big load the
   secondary indexes are dropped first and built once at the end. These rows bypass the Merkle
   log: the benchmark measures search, not capture.
2. At each size, for both profiles in the same run: keyword + 30 days + one employee through
   ``search_messages`` (exact count, first page of 50 with snippets), p50/p95 over random
   employees, windows and keywords; the same with a proximity query; keyword + 30 days over every
   employee; and the baseline: the same filter with no text (count + first page by the ORM).
   EXPLAIN (ANALYZE, BUFFERS) of the slowest search's count query.
3. Once, on a sample: the merged vector against one vector per configuration (size, build time),
   and w/N expanded into <k> alternatives against a post-filter of positions in Python.
4. With --partitioned: each firm copied into a table partitioned by month and into one in time
   order, every search replayed on the product's table and on the copies (docs/scaling.md).

Run: make bench   (or: .venv/bin/python bench/archive_search.py [--sizes 100000,1000000]
[--stress-size N]) — needs the local stack (make run, or scripts/stack.sh start run, then
manage.py migrate once). The data stay in the bench-search-firm and bench-search tenants;
--sizes grows them (rows already there count). Figures: docs/benchmarks.md, docs/scaling.md.

Figures of 2026-12-06 (shared 2-core machine, load average 10 to 13; --sizes 10000000
--stress-size 2500000 --no-jit; 40 searches per employee shape, 10 month-wide; the full
selector: lexicon, exact count, page of 50, snippets; p50 / p95):

| profile | messages | search | p50 | p95 |
|---|---|---|---|---|
| firm | 10,000,000 | keyword + 30 days + employee | 27 ms | 48 ms |
| firm | 10,000,000 | proximity + 30 days + employee | 12 ms | 21 ms |
| firm | 10,000,000 | keyword + 30 days, every employee | 2,429 ms | 2,803 ms |
| stress | 2,500,000 | keyword + 30 days + employee | 87 ms | 139 ms |
| stress | 2,500,000 | proximity + 30 days + employee | 75 ms | 112 ms |
| stress | 2,500,000 | keyword + 30 days, every employee | 2,315 ms | 2,570 ms |
| stress (previous session, JIT on) | 10,000,000 | keyword + month + employee | 426 ms | 841 ms |

Plans, the row-level security finding and the variants tried: docs/scaling.md section 1.
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
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._results import add_json_option, write_json

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

CHUNK = 100_000
ROUNDS = 40


@dataclass(frozen=True)
class Profile:
    """The shape of a generated firm. Two are named (``PROFILES``); ``--employees``, ``--days``
    and ``--skew`` make a custom one from the firm profile, in a tenant of its own."""

    name: str
    slug: str  # its own tenant: each shape keeps its rows, so a later run reuses them
    employees: int
    days: int  # span of WhatsApp times, from ``start``
    start: datetime
    conversations_per_employee: int
    working_week: bool  # office hours of working days (and a little at weekends), else any hour
    topic_share: float  # share of a message's clauses taken from the compliance templates
    vocabulary: int  # everyday words per language, Zipf-ranked (0: the templates only)
    skew: float  # the Zipf exponent of that vocabulary: a word of rank r weighs 1 / r ** skew
    pool: int = 200_000  # distinct texts; every message takes one

    @property
    def conversations(self) -> int:
        return self.employees * self.conversations_per_employee


# A realistic firm holding 10 million messages: 500 employees over two years, about 40 messages
# each per working day (10,000,000 / 500 / ~500 working days), in office hours (São Paulo:
# 11:00-21:00 UTC) with a tenth of that on weekend days, each with about 60 clients. Their chat
# is mostly everyday talk whose words follow Zipf's law (rank r weighs 1 / r ** 1.07, the
# exponent measured for English and Romance-language text; 20,000 words per language, the
# head real words, the tail made-up words with each language's letters); 4% of clauses are the
# compliance-relevant templates, so a searched keyword sits in 0.1% to 1% of messages instead
# of 10%.
FIRM = Profile(
    name="firm",
    slug="bench-search-firm",
    employees=500,
    days=731,
    start=datetime(2024, 1, 1, tzinfo=UTC),
    conversations_per_employee=60,
    working_week=True,
    topic_share=0.04,
    vocabulary=20_000,
    skew=1.07,
)
# The earlier generator, kept as a stress test: 50 employees writing 550 messages every day of
# one year (16,500 each a month), every clause a compliance template, so each keyword sits in
# about 10% of all messages and an employee's month is 16,500 heap rows to filter.
STRESS = Profile(
    name="stress",
    slug="bench-search",
    employees=50,
    days=365,
    start=datetime(2025, 1, 1, tzinfo=UTC),
    conversations_per_employee=100,
    working_week=False,
    topic_share=1.0,
    vocabulary=0,
    skew=0.0,
)
PROFILES = {p.name: p for p in (FIRM, STRESS)}

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


def template_text(rng: random.Random, pool: list[str]) -> str:
    text = rng.choice(pool)
    for slot, values in SLOTS.items():
        while "{" + slot + "}" in text:
            text = text.replace("{" + slot + "}", rng.choice(values), 1)
    return text


def typo(rng: random.Random, text: str) -> str:
    if rng.random() < 0.05 and len(text) > 8:  # two letters swapped
        i = rng.randrange(len(text) - 2)
        text = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text


def message_text(rng: random.Random) -> str:
    """A text of the stress profile: one to three compliance templates of one language."""
    pool = rng.choices([EN, PT, ES], weights=[40, 35, 25])[0]
    count = rng.choice([1, 1, 1, 2, 3])
    return typo(rng, " ".join(template_text(rng, pool) for _ in range(count)))


# The head of each language's everyday vocabulary, most frequent first (function words and chat
# words); the rest of the ranks are made-up words spelt with the language's syllables, so the
# index sees a long tail of rare lexemes as real chat has (names, slang, typos, jargon).
HEAD = {
    "en": "i you the to a it and is that ok of in for me we on have be can do this will with"
    " not just so what at are my yes no but thanks good time now get know call see when all"
    " there if go about send today tomorrow client please morning need let up back sure"
    " great meeting later one how work new think here week lunch home right done sorry"
    " check email report office team price deal update",
    "pt": "o a de que e do da em um para é com não uma os no se na por mais as dos como mas"
    " foi ao ele das tem à seu sua ou ser quando muito há nos já está eu também só pelo"
    " pela até isso ela entre era depois sem mesmo aos ter seus quem nas me esse eles"
    " estão você tinha foram essa num nem suas meu às minha têm numa pelos elas havia"
    " blz beleza obrigado bom dia tarde amanhã hoje cliente reunião ligo manda valeu ok",
    "es": "de la que el en y a los del se las por un para con no una su al lo como más pero"
    " sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta hay"
    " donde quien desde todo nos durante todos uno les ni contra otros ese eso ante ellos"
    " e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos mucho"
    " gracias hola buenos días mañana hoy cliente reunión llamo vale perfecto",
}
SYLLABLES = {
    "en": "ba be bi bo ter ing ly ver con pro ment tion er ar or st th sh ch ous ful",
    "pt": "ba ca da ção ões nh lh ão ra re ri to ta mente gem dade é á ê ó ú ço ça",
    "es": "ba ca da ción ña ñe ll rr ra re ri to ta mente dad é á ó í ú que gue",
}


def vocabulary(language: str, size: int) -> list[str]:
    """``size`` words of ``language``, most frequent first: the real head, then made-up words
    (deterministic, so a profile always has the same vocabulary)."""
    words = list(dict.fromkeys(HEAD[language].split()))
    rng = random.Random(language)  # noqa: S311 - reproducible load, not security
    seen = set(words)
    syllables = SYLLABLES[language].split()
    while len(words) < size:
        word = "".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:size]


class Chat:
    """Texts of one profile: everyday clauses of Zipf-drawn words, and with ``topic_share`` the
    compliance templates (the only source of the searched keywords and proximity pairs)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.words: dict[str, tuple[list[str], list[float]]] = {}
        if profile.vocabulary:
            for language in HEAD:
                words = vocabulary(language, profile.vocabulary)
                total, cumulative = 0.0, []
                for rank in range(1, len(words) + 1):
                    total += 1 / rank**profile.skew
                    cumulative.append(total)
                self.words[language] = (words, cumulative)

    def text(self, rng: random.Random) -> str:
        if not self.words:
            return message_text(rng)
        language = rng.choices(["en", "pt", "es"], weights=[40, 35, 25])[0]
        words, cumulative = self.words[language]
        clauses = []
        for _ in range(rng.choice([1, 1, 1, 1, 2, 2, 3])):
            if rng.random() < self.profile.topic_share:
                clauses.append(template_text(rng, {"en": EN, "pt": PT, "es": ES}[language]))
                continue
            length = min(40, 1 + int(rng.expovariate(1 / 6)))
            clause = rng.choices(words, cum_weights=cumulative, k=length)
            if rng.random() < 0.1:
                clause.append(rng.choice(SLOTS["name"] + SLOTS["n"] + SLOTS["hour"]))
            if rng.random() < 0.15:
                clause.append(rng.choice(SLOTS["emoji"]))
            clauses.append(" ".join(clause))
        return typo(rng, " ".join(clauses))


def owner_connection():
    from django.conf import settings

    return psycopg2.connect(settings.DATABASE_OWNER_URL)


@dataclass
class Firm:
    profile: Profile
    tenant: Tenant
    employees: list[int]
    conversations: list[tuple[int, int]]  # (id, employee id)


def tenant_with_people(profile: Profile) -> Firm:
    tenant = Tenant.objects.filter(slug=profile.slug).first() or create_tenant(
        slug=profile.slug, name=f"Bench search ({profile.name})", actor=Actor.system()
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
                for n in range(profile.employees)
            )
        employees = list(Employee.objects.order_by("pk").values_list("pk", flat=True))
        if not Conversation.objects.exists():
            rng = random.Random(1)  # noqa: S311 - reproducible load, not security
            Conversation.objects.bulk_create(
                (
                    Conversation(
                        tenant=tenant,
                        employee_id=employees[n % profile.employees],
                        business_phone_number_id=f"9{n % profile.employees:06d}",
                        counterparty_key=f"55{n:011d}",
                        counterparty_wa_id=f"55{n:011d}",
                        counterparty_name=rng.choice(SLOTS["name"]),
                    )
                    for n in range(profile.conversations)
                ),
                batch_size=5_000,
            )
        conversations = list(Conversation.objects.values_list("pk", "employee_id"))
    return Firm(profile, tenant, employees, conversations)


LOADERS = 2  # concurrent INSERT sessions: the stored vector is computed per row, on one core each


def time_slots(profile: Profile) -> list[tuple[datetime, int]]:
    """Stretches of time a message falls in, uniformly by slot then by second: every whole day
    for the stress profile; for a firm, ten office hours of each working day (São Paulo,
    11:00-21:00 UTC) and one stretch of eight hours on a weekend day (a tenth of a weekday)."""
    slots = []
    for n in range(profile.days):
        day = profile.start + timedelta(days=n)
        if not profile.working_week:
            slots.append((day, 86_400))
        elif day.weekday() < 5:
            slots += [(day + timedelta(hours=11 + h), 3_600) for h in range(10)]
        else:
            slots.append((day + timedelta(hours=13), 8 * 3_600))
    return slots


def load_sql(profile: Profile, slots: int) -> str:
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
        f" JOIN bench_conversation c ON c.n = {pick.format(salt=2, modulus=profile.conversations)}"
        f" JOIN bench_pool p ON p.n = {pick.format(salt=3, modulus=profile.pool)}"
        f" JOIN bench_slot s ON s.n = {pick.format(salt=5, modulus=slots)}"
        " CROSS JOIN LATERAL (SELECT s.at"
        f" + make_interval(secs => {pick.format(salt=4, modulus=2**31 - 1)} %% s.span)) t(at)"
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
    dropped = cursor.fetchall()
    if not dropped:
        return 0.0
    started = time.perf_counter()
    for name, definition in dropped:
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


def grow(firms: list[tuple[Firm, int]]) -> None:
    """Each firm's tenant grown to its target size. For a big load the secondary indexes are
    dropped once for every firm and built once at the end."""
    missing = []
    for firm, target in firms:
        with tenant_scope(firm.tenant):
            have = Message.objects.count()
        if have < target:
            missing.append((firm, have, target))
    owners = [owner_connection() for _ in range(LOADERS)]
    cursor = owners[0].cursor()
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SET max_parallel_maintenance_workers = 2")
    # An interrupted load left its indexes dropped: they come back before anything else.
    if restore_indexes(cursor) and not missing:
        owners[0].autocommit = True
        cursor.execute("VACUUM (ANALYZE) archive_message")
    if not missing:
        for owner in owners:
            owner.close()
        return
    if sum(target - have for _, have, target in missing) > REBUILD_ABOVE:
        drop_indexes(cursor)
    started = time.perf_counter()
    for firm, have, target in missing:
        load_firm(owners, firm, have, target)
    loading = time.perf_counter() - started
    indexing = restore_indexes(cursor)
    started = time.perf_counter()
    owners[0].commit()
    owners[0].autocommit = True
    cursor.execute("VACUUM (ANALYZE) archive_message")
    vacuum = time.perf_counter() - started
    generated = sum(target - have for _, have, target in missing)
    print(
        f"generated {generated:,} messages in {loading:.0f} s, indexes built in"
        f" {indexing:.0f} s, VACUUM ANALYZE {vacuum:.0f} s"
    )
    for owner in owners:
        owner.close()


def load_firm(owners: list, firm: Firm, have: int, target: int) -> None:
    # A small load needs no more distinct texts than messages: making the 200,000 of a big one
    # in Python took longer than a 100,000-message run's whole budget on a loaded machine.
    profile = replace(firm.profile, pool=min(firm.profile.pool, max(10_000, target - have)))
    print(f"growing {profile.slug} ({profile.name}) from {have:,} to {target:,} messages")
    rng = random.Random(1)  # noqa: S311 - reproducible load, not security
    chat = Chat(profile)
    cursor = owners[0].cursor()
    cursor.execute("DROP TABLE IF EXISTS bench_pool, bench_conversation, bench_slot")
    cursor.execute("CREATE UNLOGGED TABLE bench_pool (n int PRIMARY KEY, text text)")
    pool = io.StringIO()
    for n in range(profile.pool):
        text = chat.text(rng).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")
        pool.write(f"{n}\t{text}\n")
    pool.seek(0)
    cursor.copy_expert("COPY bench_pool FROM STDIN", pool)
    cursor.execute("CREATE UNLOGGED TABLE bench_conversation (n int PRIMARY KEY, id bigint,"
                   " employee_id bigint)")  # fmt: skip
    cursor.executemany(
        "INSERT INTO bench_conversation VALUES (%s, %s, %s)",
        [(n, pk, employee) for n, (pk, employee) in enumerate(sorted(firm.conversations))],
    )
    slots = time_slots(profile)
    cursor.execute("CREATE UNLOGGED TABLE bench_slot (n int PRIMARY KEY, at timestamptz, span int)")
    cursor.executemany(
        "INSERT INTO bench_slot VALUES (%s, %s, %s)",
        [(n, at, span) for n, (at, span) in enumerate(slots)],
    )
    cursor.execute("ANALYZE bench_pool, bench_conversation, bench_slot")
    owners[0].commit()
    started = time.perf_counter()
    chunks = [(first, min(first + CHUNK, target) - 1) for first in range(have, target, CHUNK)]
    sql = load_sql(profile, len(slots))

    def load(owner, mine: list[tuple[int, int]]) -> None:
        with owner.cursor() as cursor:
            for first, last in mine:
                cursor.execute(
                    "SELECT set_config('app.tenant_id', %s, false)", [str(firm.tenant.pk)]
                )
                cursor.execute(sql, {"tenant": firm.tenant.pk, "first": first, "last": last})
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
    cursor.execute("DROP TABLE bench_pool, bench_conversation, bench_slot")
    owners[0].commit()


def held(firm: Firm) -> int:
    """How many messages the firm's tenant holds now."""
    with tenant_scope(firm.tenant):
        return Message.objects.count()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def window(firm: Firm, rng: random.Random) -> tuple[datetime, datetime]:
    """A random 30-day window inside the firm's span."""
    since = firm.profile.start + timedelta(days=30 * rng.randrange(firm.profile.days // 30))
    return since, since + timedelta(days=30)


def measure(
    firm: Firm, queries: list[str], *, employee_too: bool = True, rounds: int = ROUNDS
) -> tuple[list, list, tuple]:
    tenant = firm.tenant
    rng = random.Random(5)  # noqa: S311 - reproducible load, not security
    searches, baselines, hits, slowest = [], [], [], (0.0, None)
    for _ in range(rounds):
        employee = rng.choice(firm.employees) if employee_too else None
        since, until = window(firm, rng)
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
        hits.append(results.count)
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
    return searches, baselines, hits, slowest


def report(
    firm: Firm,
    size: int,
    label: str,
    searches: list[float],
    baselines: list[float],
    hits: list[int],
) -> dict[str, object]:
    def ms(x: float) -> str:
        return f"{x * 1000:.0f} ms"

    print(
        f"| {firm.profile.name} | {size:,} | {label} | {statistics.median(hits):,.0f} |"
        f" {ms(statistics.median(searches))} | "
        f"{ms(percentile(searches, 0.95))} | {ms(statistics.median(baselines))} | "
        f"{ms(percentile(baselines, 0.95))} |"
    )
    return {
        "profile": firm.profile.name,
        "messages": size,
        "search": label,
        "hits_p50": statistics.median(hits),
        "p50_ms": statistics.median(searches) * 1000,
        "p95_ms": percentile(searches, 0.95) * 1000,
        "baseline_p50_ms": statistics.median(baselines) * 1000,
        "baseline_p95_ms": percentile(baselines, 0.95) * 1000,
    }


def explain(firm: Firm, label: str, slowest: tuple) -> None:
    seconds, (query, count, (sql, params)) = slowest
    print(
        f"\nEXPLAIN of the slowest count, {firm.profile.name} {label} ({query!r}, {count} hits,"
        f" {seconds * 1000:.0f} ms):"
    )
    with tenant_scope(firm.tenant), connection.cursor() as cursor:
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


def copy_name(firm: Firm, kind: str) -> str:
    return f"{kind}_{firm.profile.name}"


def build_copy(firm: Firm, kind: str) -> str:
    """The tenant's messages copied into ``table`` (PARTITIONED: by month of WhatsApp's time;
    ORDERED: one table in time order) with the same secondary indexes and the same row-level
    security. The product's table is left as it is: a migration comes only if a copy wins
    clearly (docs/scaling.md)."""
    tenant, table = firm.tenant, copy_name(firm, kind)
    owner = owner_connection()
    owner.autocommit = True
    cursor = owner.cursor()
    cursor.execute("SELECT to_regclass(%s)", [table])
    if cursor.fetchone()[0] is not None:
        return table
    cursor.execute("SET maintenance_work_mem = '1GB'")
    cursor.execute("SET max_parallel_maintenance_workers = 2")
    # LIKE without INCLUDING GENERATED: the stored vector is copied, not computed again.
    partitioned = kind == PARTITIONED
    cursor.execute(
        f"CREATE TABLE {table} (LIKE archive_message INCLUDING DEFAULTS)"
        + (" PARTITION BY RANGE (whatsapp_timestamp)" if partitioned else "")
    )
    if partitioned:
        first = firm.profile.start
        for month in range((firm.profile.days + 30) // 30):
            start = datetime(first.year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            end = datetime(first.year + (month + 1) // 12, (month + 1) % 12 + 1, 1, tzinfo=UTC)
            if start > first + timedelta(days=firm.profile.days):
                break
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
        definition = definition.replace(
            f"INDEX {name} ON", f"INDEX {name}_{kind[-4:]}_{firm.profile.name} ON"
        )
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
    return table


def on_copy(sql: str, table: str) -> str:
    return re.sub(r"\barchive_message\b", table, sql)


def compare_partitioned(firm: Firm, copy: str, *, shapes: tuple[str, ...] = ()) -> None:
    """Every search of the three shapes, replayed statement by statement (the lexicon, the
    exact count, the page, the snippets) on the product's table and on the partitioned copy,
    alternately, so both see the same machine."""
    tenant = firm.tenant
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
            employee = rng.choice(firm.employees) if employee_too else None
            since, until = window(firm, rng)
            query = rng.choice(queries)
            captured: list = []

            def capture(execute, sql, params, many, context, captured=captured):
                captured.append((sql, params))
                return execute(sql, params, many, context)

            with tenant_scope(tenant), connection.execute_wrapper(capture):
                search_messages(
                    tenant=tenant, query=query, employee=employee, since=since, until=until,
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
    parser.add_argument("--sizes", default="1000000", help="messages per firm, comma-separated")
    parser.add_argument(
        "--profiles",
        default="firm,stress",
        help="which shapes to generate and measure: firm (realistic, the default shape) and"
        " stress (the earlier, harsher one); both are reported in the same run",
    )
    parser.add_argument(
        "--stress-size", type=int, help="cap the stress profile at this many messages"
    )
    parser.add_argument("--employees", type=int, help="a custom firm: this many employees")
    parser.add_argument("--days", type=int, help="a custom firm: this span of days")
    parser.add_argument("--skew", type=float, help="a custom firm: this Zipf exponent")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="searches per shape")
    parser.add_argument(
        "--wide-rounds", type=int, default=ROUNDS, help="searches of the month-wide shape"
    )
    parser.add_argument(
        "--copies",
        default="month,time",
        help="with --partitioned: which copies to build and compare (month: partitioned by"
        " month; time: one table in time order)",
    )
    parser.add_argument(
        "--no-jit",
        action="store_true",
        help="searches run with PostgreSQL's JIT compilation off (SET jit = off)",
    )
    parser.add_argument(
        "--partitioned",
        action="store_true",
        help="after the largest size: copy each firm into a table partitioned by month and one"
        " in time order, and compare every search on them",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="a profile whose tenant already holds more messages than asked is measured at the"
        " size it holds: an earlier run's 10 million rows take half an hour to make",
    )
    parser.add_argument(
        "--no-design", action="store_true", help="skip the vector and proximity design figures"
    )
    add_json_option(parser)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    profiles = [PROFILES[name] for name in args.profiles.split(",")]
    custom = {
        k: v for k, v in (("employees", args.employees), ("days", args.days), ("skew", args.skew))
        if v is not None
    }  # fmt: skip
    if custom:
        shape = "-".join(f"{k[0]}{v}" for k, v in custom.items())
        profiles = [
            replace(FIRM, name=f"custom-{shape}", slug=f"bench-search-{shape}", **custom)
            if p is FIRM
            else p
            for p in profiles
        ]
    firms = [tenant_with_people(profile) for profile in profiles]
    with connection.cursor() as cursor:
        cursor.execute("SELECT proleakproof FROM pg_proc WHERE oid = 'ts_match_vq'::regproc")
        (leakproof,) = cursor.fetchone()
    # docs/operations.md: without it, row-level security keeps the text index out of every plan.
    print(f"text match LEAKPROOF (text index usable under row-level security): {leakproof}")
    if args.no_jit:
        with connection.cursor() as cursor:
            cursor.execute("SET jit = off")  # the session's: Django keeps this one connection
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        print(f"jit: {cursor.fetchone()[0]}")
    rows: list[dict[str, object]] = []
    reused: dict[str, int] = {}
    for size in sizes:
        plan = [
            (f, min(size, args.stress_size or size) if f.profile is STRESS else size) for f in firms
        ]
        if args.reuse:
            # An earlier, bigger data set is measured as it is; a smaller one is grown.
            holding = [
                (f, target, reused.setdefault(f.profile.name, held(f))) for f, target in plan
            ]
            plan = [(f, max(target, have)) for f, target, have in holding]
            reused.update({f.profile.name: 0 for f, target, have in holding if have < target})
        grow(plan)
        if args.partitioned:
            continue  # its comparison measures the product's table too, next to the copy
        print("\n| profile | messages | query | hits p50 | search p50 | search p95 |"
              " baseline p50 | baseline p95 |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        explains = []
        for firm, target in plan:
            for label, queries, employee_too, rounds in [
                ("keyword + month + employee", KEYWORDS, True, args.rounds),
                ("proximity + month + employee", PROXIMITY, True, args.rounds),
                ("keyword + month (every employee)", KEYWORDS, False, args.wide_rounds),
            ]:
                if not rounds:
                    continue
                searches, baselines, hits, slowest = measure(
                    firm, queries, employee_too=employee_too, rounds=rounds
                )
                rows.append(report(firm, target, label, searches, baselines, hits))
                if label.startswith("keyword"):
                    explains.append((firm, label, slowest))
        for firm, label, slowest in explains:
            explain(firm, label, slowest)
    if args.partitioned:
        copies = args.copies.split(",")
        for firm in firms:
            if "month" in copies:
                compare_partitioned(firm, build_copy(firm, PARTITIONED))
            if "time" in copies:
                compare_partitioned(firm, build_copy(firm, ORDERED))
        return
    write_json(
        args.json,
        {
            "rows": rows,
            "reused": {name: count for name, count in reused.items() if count},
            "rounds": args.rounds,
            "jit": "off" if args.no_jit else "on",
            "target": "keyword + 30 days + employee p95 < 300 ms at 10,000,000 messages",
        },
    )
    if not args.no_design:
        design_figures(firms[0].tenant)


if __name__ == "__main__":
    main()

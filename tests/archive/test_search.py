"""Searching the archive (archive/search/) against PostgreSQL: a corpus of a few hundred
multilingual chat messages (English, Portuguese, Spanish; accents, typos, emojis, edits,
deletions, attachments), and a brute-force evaluator written here that the SQL results must
equal exactly.

The evaluator reads each version of each message as the index stores it (lexemes by position,
from the stored vectors) and how the index reads each query word (the selector's lexicon), then
applies the language's meaning in plain Python: so it checks the compiler (boolean logic, NOT,
phrases, prefixes, w/N and pre/N in both orders, fields, edits) rather than PostgreSQL's stemmers,
which the accent and stemming tests below check by example, and the folding test checks against
Python's own Unicode folding.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.models import Attachment, Message
from archive.search.compiler import Lexicon, filename_words, lexicon_keys
from archive.search.query import (
    And,
    Field,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    QueryError,
    Term,
    leaves,
    parse,
)
from archive.search.selectors import lexicon, search_messages
from archive.services import (
    ConversationKey,
    EventRecord,
    MessageRecord,
    archive_events,
    archive_messages,
)
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee, Team

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

ENGLISH = [
    "Can you buy the shares before Friday?",
    "I will sell 200 shares of ACME at market",
    "Please don't tell compliance about the merger",
    "The merger is confidential until the announcement",
    "Investing in bonds is safer right now 📈",
    "We are investigating the invoice from last week",
    "Let's discuss the investment on the phone, not here",
    "buy now buy now!!! 🚀🚀",
    "Shares of the company will rise after the merger news",
    "Meeting moved to 10:30, bring the contract",
    "I'd rather not put it in writing",
    "teh shares are going up, buy quickly",
    "Send me the e-mail with the price list",
    "O'Brien said the deal is off",
    "Shares look cheap, buy them",
    "It's a deal: 5% & no fee | call me !today! \\o/",
]
PORTUGUESE = [
    "As ações da Petrobras vão subir amanhã",
    "Não conte ao compliance sobre a fusão",
    "Comprar ações agora é uma boa operação",
    "Vamos falar por telefone, não por aqui 🤫",
    "A operação de câmbio foi concluída",
    "Investimento garantido, sem risco nenhum",
    "acoes da vale em queda, vende tudo",
    "Reunião às 10:30 com o cliente João",
    "O contrato está confidencial até sexta",
    "Você pode comprar as ações antes de sexta?",
]
SPANISH = [
    "La operación de compra de acciones está cerrada",
    "No le digas nada a cumplimiento sobre la fusión",
    "Las acciones van a subir mañana 😉",
    "Operacion confirmada, compra 500 acciones",
    "Llámame, no lo escribas aquí",
    "La inversión es segura, sin riesgo",
    "El contrato es confidencial hasta el viernes",
    "Comprar ahora antes del anuncio de la fusión",
    "Niño, el año fue bueno para las inversiones",
]
EDITS = [
    "Edited: the merger is off, sell everything",
    "Corrigido: a fusão foi cancelada",
    "Corregido: la operación fue cancelada",
    "never mind, forget the shares",
]
FILENAMES = [
    "Q3_report-final.pdf",
    "contrato_assinado.pdf",
    "operación-acciones.xlsx",
    "photo.jpg",
    "merger.terms.docx",
]


@dataclass
class Corpus:
    tenant: object
    employees: list[Employee]
    teams: list[Team]
    messages: list[Message] = field(default_factory=list)


def _employee(tenant, n: int, name: str, phone: str, team: Team | None) -> Employee:
    return Employee.objects.create(
        tenant=tenant,
        full_name=name,
        email=f"e{n}@{tenant.slug}.example",
        employee_id=f"E{n}",
        phone_number=phone,
        whatsapp_phone_number_id=f"{tenant.pk}0{n}",
        team=team,
    )


CLIENTS = [
    ("5511987001111", "José Álvarez"),
    ("5491155552222", "María Núñez"),
    ("14155550123", "John O'Brien"),
    ("5521999990000", ""),
]


def build_corpus(tenant, *, size: int = 300, seed: int = 7, prefix: str = "w") -> Corpus:
    """``size`` messages over 60 days between three employees and four clients; about one in
    twelve is edited (up to twice), one in twenty deleted, one in fifteen carries a file."""
    rng = random.Random(seed)
    texts = ENGLISH + PORTUGUESE + SPANISH
    with tenant_scope(tenant):
        teams = [Team.objects.create(name="Rates"), Team.objects.create(name="Equities")]
        employees = [
            _employee(tenant, 1, "Ana Souza", "+5511900000001", teams[0]),
            _employee(tenant, 2, "Bruno Díaz", "+5511900000002", teams[1]),
            _employee(tenant, 3, "Carol Smith", "+14155550001", None),
        ]
        records, events = [], []
        media = {}
        for n in range(size):
            employee = employees[n % 3]
            wa_id, name = CLIENTS[rng.randrange(len(CLIENTS))]
            at = START + timedelta(minutes=rng.randrange(60 * 24 * 60))
            text = rng.choice(texts)
            if rng.random() < 0.2:
                text = f"{text} {rng.choice(texts)}"
            wamid = f"{prefix}.{tenant.pk}.{n}"
            kind = "text"
            structured: dict = {}
            if n % 15 == 4:
                kind = "document"
                name = FILENAMES[(n // 15) % len(FILENAMES)]
                structured = {"media": {"id": f"media-{n}", "filename": name}}
                media[wamid] = name
            records.append(
                MessageRecord(
                    conversation=ConversationKey(
                        employee.pk, employee.whatsapp_phone_number_id, wa_id
                    ),
                    counterparty={"wa_id": wa_id, "name": name},
                    business_display_number="",
                    wamid=wamid,
                    direction="inbound" if rng.random() < 0.5 else "outbound",
                    type=kind,
                    whatsapp_timestamp=at,
                    received_at=at,
                    text=text,
                    structured=structured,
                    context={},
                    is_history=False,
                    flags=[],
                    raw={},
                    delivery_id=None,
                )
            )
            for k in range(rng.choice([1, 2]) if n % 12 == 5 else 0):
                events.append(_event("edit", wamid, at + timedelta(minutes=k + 1), k, rng))
            if n % 20 == 7:
                events.append(_event("revoke", wamid, at + timedelta(minutes=9), 9, rng))
        archive_messages(tenant=tenant, records=records)
        archive_events(tenant=tenant, records=events)
        for message in Message.objects.filter(wamid__in=list(media)):
            Attachment.objects.create(
                tenant=tenant,
                message=message,
                media_id=message.structured["media"]["id"],
                filename=media[message.wamid],
            )
        messages = list(Message.objects.filter(tenant=tenant))
    return Corpus(tenant, employees, teams, messages)


def _event(kind: str, wamid: str, at: datetime, k: int, rng: random.Random) -> EventRecord:
    payload = {"message": {"type": "text", "text": rng.choice(EDITS)}} if kind == "edit" else {}
    return EventRecord(
        kind=kind,
        event_key=f"{kind}:{wamid}:{k}",
        target_wamid=wamid,
        direction="outbound",
        whatsapp_timestamp=at,
        received_at=at,
        payload=payload,
        raw={},
        delivery_id=None,
    )


# The brute-force evaluator ---------------------------------------------------------------------

Doc = dict[int, set[str]]  # position -> lexemes


def _docs(sql: str, params: list) -> dict[int, list[Doc]]:
    found: dict[tuple[int, int], Doc] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for owner, version, lexeme, positions in cursor.fetchall():
            doc = found.setdefault((owner, version), {})
            for position in positions or ():
                doc.setdefault(position, set()).add(lexeme)
    grouped: dict[int, list[Doc]] = {}
    for (owner, _), doc in sorted(found.items()):
        grouped.setdefault(owner, []).append(doc)
    return grouped


@dataclass
class Reference:
    """Every message of the tenant as documents: its versions, sender, recipient, files."""

    versions: dict[int, list[Doc]]
    sender: dict[int, Doc]
    recipient: dict[int, Doc]
    files: dict[int, list[Doc]]

    @classmethod
    def load(cls, tenant) -> Reference:
        party = (
            "public.ch_search_vector(concat_ws(' ', c.counterparty_name, c.counterparty_username,"
            " c.counterparty_wa_id, '+' || c.counterparty_wa_id))"
        )
        staff = (
            "public.ch_search_vector(concat_ws(' ', e.full_name, e.phone_number,"
            " ltrim(e.phone_number, '+')))"
        )

        def vectors_of(expression: str) -> str:
            return (
                "SELECT m.id, 0, v.lexeme, v.positions FROM archive_message m"
                " JOIN archive_conversation c ON c.id = m.conversation_id"
                f" JOIN consent_employee e ON e.id = m.employee_id, unnest({expression}) v"
                " WHERE m.tenant_id = %s"
            )

        with tenant_scope(tenant):
            versions = _docs(
                "SELECT m.id, 0, v.lexeme, v.positions FROM archive_message m,"
                " unnest(m.search_vector) v WHERE m.tenant_id = %s UNION ALL"
                " SELECT m.id, 0, '', NULL FROM archive_message m WHERE m.tenant_id = %s"
                " UNION ALL SELECT m.id, ev.id, v.lexeme, v.positions FROM archive_message m"
                " JOIN archive_messageevent ev ON ev.target_wamid = m.wamid AND ev.kind = 'edit'"
                " AND ev.tenant_id = m.tenant_id, unnest(ev.search_vector) v"
                " WHERE m.tenant_id = %s",
                [tenant.pk] * 3,
            )
            client = _docs(vectors_of(party), [tenant.pk])
            employee = _docs(vectors_of(staff), [tenant.pk])
            files = _docs(
                "SELECT a.message_id, a.id, v.lexeme, v.positions FROM archive_attachment a,"
                " unnest(a.filename_vector) v WHERE a.tenant_id = %s",
                [tenant.pk],
            )
            directions = dict(Message.objects.filter(tenant=tenant).values_list("id", "direction"))
        sender, recipient = {}, {}
        for pk, direction in directions.items():
            c, e = client.get(pk, [{}])[0], employee.get(pk, [{}])[0]
            sender[pk], recipient[pk] = (c, e) if direction == "inbound" else (e, c)
        return cls(versions, sender, recipient, files)

    def matches(self, tree: Node, known: Lexicon) -> set[int]:
        return {
            pk
            for pk, versions in self.versions.items()
            if any(_holds(tree, known, self, pk, version) for version in versions)
        }


def _positions(leaf: Term | Phrase, known: Lexicon, doc: Doc) -> set[int]:
    key = filename_words(leaf.text) if leaf.field == Field.FILENAME else leaf.text
    if isinstance(leaf, Term) and leaf.prefix:
        (start,) = known.prefixes[key]
        return {p for p, lexemes in doc.items() if any(x.startswith(start) for x in lexemes)}
    tokens = known.words[key]
    return {p for p in doc if all(doc.get(p + off, set()) & wanted for off, wanted in tokens)}


def _docs_of(field: Field, ref: Reference, pk: int, version: Doc) -> list[Doc]:
    return {
        Field.BODY: [version],
        Field.FROM: [ref.sender[pk]],
        Field.TO: [ref.recipient[pk]],
        Field.FILENAME: ref.files.get(pk, []),
    }[field]


def _side(node: Node, known: Lexicon, doc: Doc) -> set[int]:
    terms = node.operands if isinstance(node, Or) else (node,)
    return set().union(*(_positions(t, known, doc) for t in terms))


def _holds(node: Node, known: Lexicon, ref: Reference, pk: int, version: Doc) -> bool:
    match node:
        case Term() | Phrase():
            docs = _docs_of(node.field, ref, pk, version)
            return any(_positions(node, known, doc) for doc in docs)
        case Not(operand):
            return not _holds(operand, known, ref, pk, version)
        case And(operands):
            return all(_holds(o, known, ref, pk, version) for o in operands)
        case Or(operands):
            return any(_holds(o, known, ref, pk, version) for o in operands)
        case Near(left, right, distance, ordered):
            (field_,) = {t.field for t in (left.operands if isinstance(left, Or) else (left,))}
            for doc in _docs_of(field_, ref, pk, version):
                a, b = _side(left, known, doc), _side(right, known, doc)
                for p in a:
                    for q in b:
                        gap = q - p if ordered else abs(q - p)
                        if 1 <= gap <= distance:
                            return True
            return False
    raise AssertionError(node)


def sql_ids(tenant, query: str, **filters) -> tuple[int, list[int]]:
    """The count and every matching id, page after page (small pages, to walk the keyset)."""
    ids: list[int] = []
    cursor = None
    with tenant_scope(tenant):
        while True:
            results = search_messages(
                tenant=tenant, query=query, cursor=cursor, page_size=37, **filters
            )
            ids += [hit.message.pk for hit in results.hits]
            cursor = results.next_cursor
            if cursor is None:
                return results.count, ids


def expected(tenant, ref: Reference, query: str) -> set[int]:
    tree = parse(query)
    with tenant_scope(tenant):
        words, prefixes = lexicon_keys(tree)
        known = lexicon(words, prefixes)
    # The two refusals the compiler states: a word with nothing to index, only common words.
    if words - set(known.words):
        raise QueryError("nothing to search for")
    terms = leaves(tree)
    if all(isinstance(t, Term) and not t.prefix and t.text in known.common for t in terms):
        raise QueryError("too common")
    return ref.matches(tree, known)


@pytest.fixture
def corpus(tenant_a) -> Corpus:
    return build_corpus(tenant_a)


@pytest.fixture
def reference(corpus) -> Reference:
    return Reference.load(corpus.tenant)


QUERIES = [
    "merger",
    "merger NOT confidential",
    "merger -confidential",
    "NOT merger",
    "(merger OR fusão) AND confidential",
    "merger OR fusão confidential",
    "buy w/3 shares",
    "shares w/3 buy",
    "buy pre/3 shares",
    "shares pre/3 buy",
    "buy w/1 now",
    "(buy OR sell) w/2 shares",
    "(comprar OR compra*) w/4 ações",
    '"buy the shares"',
    '"the shares"',
    '"compra de acciones"',
    "invest*",
    "investing",
    "acoes",
    "operacion",
    "AÇÕES",
    "e-mail",
    "10:30",
    "o'brien",
    "from:josé",
    "from:alvarez merger",
    'from:"ana souza"',
    "from:+5511900000001",
    "to:5511987001111",
    "to:(maria OR john)",
    "from:ana OR to:bruno",
    "filename:report",
    "filename:pdf NOT filename:contrato",
    "filename:operacion",
    "filename:merger.terms.docx",
    "body:cancelada",
    "cancelada OR cancelled",
    "sell everything",
    "NOT (merger OR shares OR ações OR acciones)",
    "the merger",
    "compliance OR cumplimiento",
    "teh shares",
]


def test_every_query_returns_exactly_what_the_brute_force_evaluator_finds(corpus, reference):
    for query in QUERIES:
        want = expected(corpus.tenant, reference, query)
        count, ids = sql_ids(corpus.tenant, query)
        assert set(ids) == want, query
        assert count == len(want) == len(ids), query


def test_the_queries_above_are_not_trivial(corpus, reference):
    """Most of them match something and none matches everything: the comparison means it."""
    sizes = {q: len(expected(corpus.tenant, reference, q)) for q in QUERIES}
    assert [q for q, size in sizes.items() if not size] == []
    assert max(sizes.values()) < len(corpus.messages)


VOCABULARY = [
    "merger",
    "shares",
    "buy",
    "sell",
    "ações",
    "acciones",
    "operación",
    "fusão",
    "the",
    "confidential",
    "contrato",
    "compra",
    "invest",
    "now",
    "de",
    "compliance",
    "cancelada",
]


@st.composite
def queries(draw, depth: int = 2) -> str:
    word = st.sampled_from(VOCABULARY)
    if depth == 0 or draw(st.booleans()):
        kind = draw(st.sampled_from(["word", "prefix", "phrase", "near", "field"]))
        if kind == "word":
            return draw(word)
        if kind == "prefix":
            return draw(st.sampled_from(["invest", "shar", "açõ", "oper", "compr"])) + "*"
        if kind == "phrase":
            return f'"{draw(word)} {draw(word)}"'
        if kind == "near":
            op = draw(st.sampled_from(["w", "pre"]))
            return f"{draw(word)} {op}/{draw(st.integers(1, 6))} {draw(word)}"
        return draw(st.sampled_from(["from:ana", "to:josé", "filename:pdf", "from:maria"]))
    op = draw(st.sampled_from(["AND", "OR", "", "NOT"]))
    left, right = draw(queries(depth=depth - 1)), draw(queries(depth=depth - 1))
    if op == "NOT":
        return f"{left} NOT ({right})"
    return f"({left}) {op} ({right})"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=queries())
def test_generated_queries_return_what_the_brute_force_evaluator_finds(corpus, reference, query):
    try:
        want = expected(corpus.tenant, reference, query)
    except QueryError:
        with pytest.raises(QueryError):
            sql_ids(corpus.tenant, query)
        return
    count, ids = sql_ids(corpus.tenant, query)
    assert set(ids) == want
    assert count == len(ids) == len(want)


def _fold(text: str) -> str:
    return "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )


def test_every_word_of_every_message_is_indexed_accent_folded(corpus, reference):
    """Python's own folding (NFKD, combining marks dropped, lower case) of each word is a
    lexeme of the message's stored vector."""
    for message in corpus.messages:
        lexemes = set().union(*reference.versions[message.pk][0].values())
        for word in re.findall(r"[^\W_]+", message.text):
            assert _fold(word) in lexemes, (word, message.text)


# Accents and stemming in three languages -----------------------------------------------------


def _texts(tenant, query: str, **filters) -> set[str]:
    with tenant_scope(tenant):
        results = search_messages(tenant=tenant, query=query, page_size=200, **filters)
    return {hit.message.text for hit in results.hits}


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("acoes", "As ações da Petrobras vão subir amanhã"),
        ("ACÇÕES", None),
        ("ações", "acoes da vale em queda, vende tudo"),
        ("operacion", "La operación de compra de acciones está cerrada"),
        ("operación", "Operacion confirmada, compra 500 acciones"),
        ("operação", "A operação de câmbio foi concluída"),
        ("nino", "Niño, el año fue bueno para las inversiones"),
        ("investing", "Investing in bonds is safer right now 📈"),
        ("invest*", "We are investigating the invoice from last week"),
        ("invest*", "Investimento garantido, sem risco nenhum"),
        ("invest*", "La inversión es segura, sin riesgo"),
        ("inversiones", "La inversión es segura, sin riesgo"),
        ("investment", "Let's discuss the investment on the phone, not here"),
        ("shares", "teh shares are going up, buy quickly"),
        ("share", "I will sell 200 shares of ACME at market"),
        ("fusao", "Não conte ao compliance sobre a fusão"),
        ("fusion", "No le digas nada a cumplimiento sobre la fusión"),
        ("telefone", "Vamos falar por telefone, não por aqui 🤫"),
        ("reuniao", "Reunião às 10:30 com o cliente João"),
    ],
)
def test_accents_fold_and_words_stem_in_three_languages(tenant_a, query, finds):
    build_corpus(tenant_a, size=120)
    found = _texts(tenant_a, query)
    if finds is None:
        assert found == set()
    else:
        assert any(finds in text for text in found), (query, found)


def test_an_english_stem_does_not_hide_a_portuguese_or_spanish_word(tenant_a):
    """'comprar' (pt/es) and 'compra' both reach each other, and the English stemmer does not
    swallow them: the folded word itself is indexed too."""
    build_corpus(tenant_a, size=120)
    comprar = _texts(tenant_a, "comprar")
    assert any("Comprar ações agora" in t for t in comprar)
    assert any("Comprar ahora antes del anuncio" in t for t in comprar)
    assert _texts(tenant_a, '"compra de acciones"')


# Filters ----------------------------------------------------------------------------------------


def _all(corpus: Corpus) -> dict[int, Message]:
    return {m.pk: m for m in corpus.messages}


def test_each_filter_keeps_exactly_the_messages_it_names(corpus):
    tenant = corpus.tenant
    ana, bruno, _ = corpus.employees
    rows = _all(corpus)
    with tenant_scope(tenant):
        conversation = rows[min(rows)].conversation_id
        edited = set(
            Message.objects.filter(wamid__in=_event_targets(tenant, "edit")).values_list(
                "pk", flat=True
            )
        )
        deleted = set(
            Message.objects.filter(wamid__in=_event_targets(tenant, "revoke")).values_list(
                "pk", flat=True
            )
        )
        with_files = set(Attachment.objects.values_list("message_id", flat=True))
        counterparty = {
            m.pk
            for m in Message.objects.select_related("conversation")
            if m.conversation.counterparty_wa_id == "5491155552222"
        }
    since, until = START + timedelta(days=10), START + timedelta(days=20)
    every = "NOT qqqqzz"
    cases = {
        "employee": ({"employee": ana.pk}, {p for p, m in rows.items() if m.employee_id == ana.pk}),
        "team": (
            {"team": corpus.teams[1].pk},
            {p for p, m in rows.items() if m.employee_id == bruno.pk},
        ),
        "counterparty number": ({"counterparty": "+5491155552222"}, counterparty),
        "counterparty name": ({"counterparty": "Núñez"}, counterparty),
        "direction": (
            {"direction": "inbound"},
            {p for p, m in rows.items() if m.direction == "inbound"},
        ),
        "conversation": (
            {"conversation": conversation},
            {p for p, m in rows.items() if m.conversation_id == conversation},
        ),
        "type": (
            {"message_type": "document"},
            {p for p, m in rows.items() if m.type == "document"},
        ),
        "has attachment": ({"has_attachment": True}, with_files),
        "no attachment": ({"has_attachment": False}, set(rows) - with_files),
        "edited": ({"edited": True}, edited),
        "not edited": ({"edited": False}, set(rows) - edited),
        "deleted": ({"deleted": True}, deleted),
        "dates": (
            {"since": since, "until": until},
            {p for p, m in rows.items() if since <= m.whatsapp_timestamp < until},
        ),
    }
    for name, (filters, want) in cases.items():
        assert want and want != set(rows), name  # each case tells something
        count, ids = sql_ids(tenant, every, **filters)
        assert set(ids) == want and count == len(want), name


def _event_targets(tenant, kind: str) -> list[str]:
    from archive.models import MessageEvent

    return list(MessageEvent.objects.filter(kind=kind).values_list("target_wamid", flat=True))


def test_a_filter_and_a_query_combine(corpus, reference):
    ana = corpus.employees[0]
    want = {
        pk
        for pk in expected(corpus.tenant, reference, "shares OR ações")
        if _all(corpus)[pk].employee_id == ana.pk
    }
    count, ids = sql_ids(corpus.tenant, "shares OR ações", employee=ana.pk)
    assert want and set(ids) == want and count == len(want)


def test_edited_messages_are_found_by_their_original_and_by_every_edit(corpus):
    tenant = corpus.tenant
    with tenant_scope(tenant):
        edited = Message.objects.filter(wamid__in=_event_targets(tenant, "edit"))
        target = next(m for m in edited if "cancelada" not in m.text and "forget" not in m.text)
    original_word = next(w for w in target.text.split() if w.isalpha() and len(w) > 4)
    assert target.pk in sql_ids(tenant, f'"{original_word}"')[1]
    with tenant_scope(tenant):
        from archive.models import MessageEvent

        edit_texts = [
            e.payload["message"]["text"]
            for e in MessageEvent.objects.filter(kind="edit", target_wamid=target.wamid)
        ]
    for text in edit_texts:
        assert target.pk in sql_ids(tenant, f'"{text.split(":")[-1].strip()}"')[1]


# Pages, order, snippets -------------------------------------------------------------------------


def test_keyset_pages_cover_every_result_exactly_once_newest_first(corpus):
    count, ids = sql_ids(corpus.tenant, "NOT qqqqzz")
    assert count == len(ids) == len(corpus.messages) == len(set(ids))
    rows = _all(corpus)
    keys = [(rows[pk].whatsapp_timestamp, pk) for pk in ids]
    assert keys == sorted(keys, reverse=True)


def test_relevance_pages_cover_every_result_exactly_once_best_first(corpus, reference):
    query = "shares OR merger OR ações"
    ids, ranks, cursor = [], [], None
    with tenant_scope(corpus.tenant):
        while True:
            results = search_messages(
                tenant=corpus.tenant, query=query, order="relevance", cursor=cursor, page_size=9
            )
            ids += [h.message.pk for h in results.hits]
            ranks += [h.rank for h in results.hits]
            if (cursor := results.next_cursor) is None:
                break
    assert len(ids) == len(set(ids)) == results.count
    assert set(ids) == expected(corpus.tenant, reference, query)
    assert ranks == sorted(ranks, reverse=True) and ranks[0] > ranks[-1]


def test_a_cursor_of_another_order_or_a_forged_one_is_refused(corpus):
    with tenant_scope(corpus.tenant):
        first = search_messages(tenant=corpus.tenant, query="NOT qqqqzz", page_size=5)
        for cursor in [first.next_cursor, "garbage", "W10"]:
            with pytest.raises(QueryError, match="page link"):
                search_messages(
                    tenant=corpus.tenant, query="shares", order="relevance", cursor=cursor
                )


def test_snippets_mark_the_hits_after_escaping_the_text(tenant_a):
    corpus = build_corpus(tenant_a, size=30)
    hostile = "<script>alert('x')</script> buy <b>shares</b> & \ue000fake\ue001 ações"
    with tenant_scope(tenant_a):
        employee = corpus.employees[0]
        archive_messages(
            tenant=tenant_a,
            records=[
                MessageRecord(
                    conversation=ConversationKey(
                        employee.pk, employee.whatsapp_phone_number_id, "1"
                    ),
                    counterparty={"wa_id": "1"},
                    business_display_number="",
                    wamid="hostile",
                    direction="inbound",
                    type="text",
                    whatsapp_timestamp=START,
                    received_at=START,
                    text=hostile,
                    structured={},
                    context={},
                    is_history=False,
                    flags=[],
                    raw={},
                    delivery_id=None,
                )
            ],
        )
        results = search_messages(tenant=tenant_a, query="shares acoes fake", page_size=5)
    (hit,) = results.hits
    assert hit.snippet == (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; buy &lt;b&gt;<mark>shares</mark>"
        "&lt;/b&gt; &amp; <mark>fake</mark> <mark>ações</mark>"
    )


def test_a_long_message_shows_a_window_around_its_first_hit(tenant_a):
    corpus = build_corpus(tenant_a, size=5)
    employee = corpus.employees[0]
    long_text = "blah " * 120 + "the zorblax & co is on " + "more " * 120
    with tenant_scope(tenant_a):
        archive_messages(
            tenant=tenant_a,
            records=[
                MessageRecord(
                    conversation=ConversationKey(employee.pk, "x", "1"),
                    counterparty={"wa_id": "1"},
                    business_display_number="",
                    wamid="long",
                    direction="inbound",
                    type="text",
                    whatsapp_timestamp=START,
                    received_at=START,
                    text=long_text,
                    structured={},
                    context={},
                    is_history=False,
                    flags=[],
                    raw={},
                    delivery_id=None,
                )
            ],
        )
        (hit,) = search_messages(tenant=tenant_a, query="zorblax", page_size=5).hits
        (first,) = search_messages(tenant=tenant_a, query="zorblax blah", page_size=5).hits
    assert first.snippet.startswith("<mark>blah</mark> <mark>blah</mark>")
    assert first.snippet.endswith("<mark>blah</mark>…") and "<mark></mark>" not in first.snippet
    assert hit.snippet.startswith("…blah ") and hit.snippet.endswith(" more…")
    assert "the <mark>zorblax</mark> &amp; co is on" in hit.snippet
    assert len(hit.snippet.replace("<mark>", "").replace("</mark>", "")) < 340


def test_a_stemmed_hit_is_marked_in_its_own_language(corpus):
    with tenant_scope(corpus.tenant):
        results = search_messages(tenant=corpus.tenant, query="investing", page_size=200)
    assert any("<mark>Investing</mark>" in h.snippet for h in results.hits)
    assert all("<mark>" in h.snippet for h in results.hits)


def test_a_hit_in_an_edit_shows_the_edit_in_the_snippet(corpus):
    with tenant_scope(corpus.tenant):
        results = search_messages(tenant=corpus.tenant, query="cancelada", page_size=200)
    assert results.hits
    assert all("<mark>cancelada</mark>" in h.snippet for h in results.hits)


# Bad input, tenants ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "filters", "message"),
    [
        ("the of", {}, "'the', 'of': too common to search on their own."),
        ("de la", {}, "'de', 'la': too common to search on their own."),
        ("🚀", {}, "'🚀' holds nothing to search for"),
        ('"!!!" shares', {}, "The quotes at character 1 hold no words."),
        ("!!! shares", {}, "'!!!' holds nothing to search for"),
        ("e-ma*", {}, "'e-ma*': a wildcard works on one word"),
        ("e-mail w/2 price", {}, "'e-mail' counts as several words"),
        ("shares", {"since": START, "until": START}, "The end of the date range must come after"),
        ("shares", {"since": START + timedelta(1), "until": START}, "The end of the date range"),
        ("shares", {"since": datetime(2026, 1, 1)}, "The since date needs a time zone."),
        ("shares", {"page_size": 0}, "A page holds 1 to 200 results."),
        ("shares", {"order": "oldest"}, "Order by newest first or by relevance."),
        ("buy w/0 shares", {}, "w/0 at character 5: the distance must be 1 to 100."),
        ("x" * 10_000, {}, "This search is 10,000 characters long"),
    ],
)
def test_bad_searches_get_a_clear_error(tenant_a, query, filters, message):
    with tenant_scope(tenant_a), pytest.raises(QueryError) as caught:
        search_messages(tenant=tenant_a, query=query, **filters)
    assert caught.value.message.startswith(message)


def test_a_phrase_of_common_words_is_specific_enough(corpus, reference):
    for phrase in ['"the shares"', '"of the"', '"de la"']:
        want = expected(corpus.tenant, reference, phrase)
        count, ids = sql_ids(corpus.tenant, phrase)
        assert want and set(ids) == want and count == len(want), phrase


def test_tsquery_syntax_in_a_search_is_just_text(corpus, reference):
    """Characters that mean something to tsquery or SQL are parts of words (or nothing)."""
    for query in [
        "'",
        "it's",
        '"a:b"',
        "x&y",
        "a|b",
        "!x",
        "a<->b",
        "o/",
        "\\o/",
        "5%",
        "';DROP TABLE archive_message;--",
        '"deal: 5%"',
        "!today!",
        "fee|call",
    ]:
        try:
            want = expected(corpus.tenant, reference, query)
        except QueryError as error:
            assert error.message in {"nothing to search for", "too common"}, query
            with pytest.raises(QueryError):
                sql_ids(corpus.tenant, query)
            continue
        count, ids = sql_ids(corpus.tenant, query)
        assert set(ids) == want and count == len(want), query
    for phrase, text in [('"it\'s a deal"', "It's a deal"), ('"fee call"', "fee | call")]:
        want = {m.pk for m in corpus.messages if text in m.text}
        assert want and set(sql_ids(corpus.tenant, phrase)[1]) == want


def test_another_tenants_matching_messages_never_appear(tenant_a, tenant_b):
    mine = build_corpus(tenant_a, size=60, prefix="a")
    theirs = build_corpus(tenant_b, size=60, prefix="b")
    for query in ["shares", "NOT qqqqzz", "from:ana", "filename:pdf", "invest*"]:
        _, ids = sql_ids(tenant_a, query)
        assert ids and set(ids) <= {m.pk for m in mine.messages}, query
        assert not set(ids) & {m.pk for m in theirs.messages}, query
    # Naming the other tenant's employee or conversation as a filter finds nothing.
    _, ids = sql_ids(tenant_a, "NOT qqqqzz", employee=theirs.employees[0].pk)
    assert ids == []

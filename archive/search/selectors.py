"""Searching the archive: the reviewers' query language plus filters, exact counts, highlighted
snippets and keyset pages.

Tenant-scoped like archive/selectors.py: every query names ``tenant`` and runs under Row-Level
Security. Reading content is a human act the audit trail must hold: callers that show results
record the search (query, filters, count, user); this module only reads.
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import connection
from django.db.models import BooleanField, Exists, FloatField, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from compliance_hub.tenancy.models import Tenant

from ..models import Attachment, Message, MessageEvent
from ..selectors import counterparty_q
from .compiler import (
    Columns,
    Lexicon,
    Tokens,
    compile_search,
    highlight_query,
    lexicon_keys,
)
from .query import Field, QueryError, leaves, parse

Order = Literal["newest", "relevance"]
MAX_PAGE_SIZE = 200
SNIPPET_LENGTH = 300

_M = '"archive_message"'
# The sender and the recipient of a message, as searchable vectors: the client's profile name,
# username and number (with and without "+"), or the employee's name and number.
_CLIENT = (
    "(SELECT public.ch_search_vector(concat_ws(' ', c.counterparty_name, c.counterparty_username,"  # nosec B608  # constants; values are bound parameters
    " c.counterparty_wa_id, '+' || c.counterparty_wa_id)) FROM archive_conversation c"
    f" WHERE c.id = {_M}.conversation_id)"
)
_EMPLOYEE = (
    "(SELECT public.ch_search_vector(concat_ws(' ', e.full_name, e.phone_number,"  # nosec B608  # constants; values are bound parameters
    f" ltrim(e.phone_number, '+'))) FROM consent_employee e WHERE e.id = {_M}.employee_id)"
)
_SENDER = f"(CASE WHEN {_M}.direction = 'inbound' THEN {_CLIENT} ELSE {_EMPLOYEE} END)"
_RECIPIENT = f"(CASE WHEN {_M}.direction = 'inbound' THEN {_EMPLOYEE} ELSE {_CLIENT} END)"
_FILENAME = (
    "EXISTS (SELECT 1 FROM archive_attachment a WHERE a.tenant_id = "  # nosec B608  # constants; values are bound parameters
    f"{_M}.tenant_id AND a.message_id = {_M}.id AND a.filename_vector @@ %s::tsquery)"
)
_EDITS = (
    f"SELECT 1 FROM archive_messageevent ev WHERE ev.tenant_id = {_M}.tenant_id"  # nosec B608  # constants; values are bound parameters
    f" AND ev.target_wamid = {_M}.wamid AND ev.kind = 'edit'"
)
ORIGINAL = Columns(f"{_M}.search_vector", _SENDER, _RECIPIENT, _FILENAME)
EDIT = Columns("ev.search_vector", _SENDER, _RECIPIENT, _FILENAME)

# Marks ts_headline puts around a hit: private-use characters, removed from the text first so
# a message cannot forge them; turned into <mark> only after the text is escaped.
_OPEN, _CLOSE = "\ue000", "\ue001"
_HEADLINE_OPTIONS = f"HighlightAll=true, StartSel={_OPEN}, StopSel={_CLOSE}"


@dataclass(frozen=True)
class SearchHit:
    message: Message
    snippet: str  # HTML: the text escaped, the hits in <mark>
    rank: float | None


@dataclass(frozen=True)
class SearchResults:
    count: int  # exact: every match, not an estimate
    hits: list[SearchHit]
    next_cursor: str | None


def lexicon(words: set[str], prefixes: set[str]) -> Lexicon:
    """How the index reads these texts: one query, through the same function that built the
    stored vectors."""
    tokens: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    prefix_tokens: dict[str, dict[int, str]] = defaultdict(dict)
    common: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'w', w, part.lexeme, part.positions"
            " FROM unnest(%s::text[]) AS w, unnest(public.ch_search_vector(w)) AS part"
            " UNION ALL"
            " SELECT 'p', w, part.lexeme, part.positions FROM unnest(%s::text[]) AS w,"
            " unnest(to_tsvector('public.ch_simple'::regconfig, w)) AS part"
            " UNION ALL"
            " SELECT 'c', w, '', NULL FROM unnest(%s::text[]) AS w"
            " WHERE public.ch_search_vector(w) <> ''::tsvector"
            " AND (to_tsvector('public.ch_pt'::regconfig, w) = ''::tsvector"
            " OR to_tsvector('public.ch_es'::regconfig, w) = ''::tsvector"
            " OR to_tsvector('public.ch_en'::regconfig, w) = ''::tsvector)",
            [sorted(words), sorted(prefixes), sorted(words)],
        )
        for kind, text, lexeme, positions in cursor.fetchall():
            if kind == "w":
                for position in positions:
                    tokens[text][position].add(lexeme)
            elif kind == "p":
                for position in positions:
                    prefix_tokens[text][position] = lexeme
            else:
                common.add(text)
    words_out: dict[str, Tokens] = {}
    for text, by_position in tokens.items():
        first = min(by_position)
        words_out[text] = tuple(
            (position - first, frozenset(by_position[position])) for position in sorted(by_position)
        )
    prefixes_out = {
        text: tuple(by_position[p] for p in sorted(by_position))
        for text, by_position in prefix_tokens.items()
    }
    return Lexicon(words_out, prefixes_out, frozenset(common))


@dataclass(frozen=True)
class SearchFilters:
    """What a search narrows to besides its words. Dates are UTC instants (``since`` inclusive,
    ``until`` exclusive) and must carry a time zone; None and "" mean "any"."""

    employee: int | None = None
    team: int | None = None
    counterparty: str = ""
    direction: str = ""
    conversation: int | None = None
    message_type: str = ""
    has_attachment: bool | None = None
    edited: bool | None = None
    deleted: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    legal_hold: int | None = None  # the messages that hold (archive/holds/) freezes now


@dataclass(frozen=True)
class Matches:
    rows: QuerySet[Message]  # every match, unordered
    wanted: str | None  # the tsquery that marks the hits, None when nothing can be marked


def matching_messages(*, tenant: Tenant, query: str, filters: SearchFilters) -> Matches:
    """Every message of the tenant that ``query`` (archive/search/query.py) and ``filters``
    select: the one definition of a search's matches, shared by result pages, exports and
    legal holds. A message matches when one of its versions (the original text or an edit)
    matches; a blank ``query`` searches no words (every message the filters allow). Bad input of
    any kind raises :class:`QueryError` with a message for the reviewer."""
    condition, wanted = matching_condition(tenant=tenant, query=query, filters=filters)
    rows: QuerySet[Message] = Message.objects.filter(tenant=tenant).filter(condition)
    return Matches(rows, wanted)


def matching_condition(
    *, tenant: Tenant, query: str, filters: SearchFilters
) -> tuple[Q, str | None]:
    """:func:`matching_messages` as a condition on a message row, and the tsquery that marks the
    hits. The words are compiled to SQL here, once (one query to read the lexicon), so a caller
    that ORs many searches together (legal holds, over every message of a tenant) pays that once
    per search, not per row. The condition names the message table itself: use it on a query
    of ``Message`` (``Message.objects.filter(...)``), not inside another model's query."""
    for name, value in (("since", filters.since), ("until", filters.until)):
        if value is not None and value.utcoffset() is None:
            raise QueryError(f"The {name} date needs a time zone.")
    if filters.since is not None and filters.until is not None and filters.since >= filters.until:
        raise QueryError("The end of the date range must come after its start.")

    condition = Q()
    wanted = None
    if query.strip():
        sql, params, wanted = _text_condition(tenant=tenant, query=query)
        condition &= Q(RawSQL(sql, params, output_field=BooleanField()))  # nosec B611  # constants; values are bound parameters
    condition &= _filters(tenant=tenant, filters=filters)
    condition &= _flag_filters(tenant=tenant, filters=filters)
    if filters.legal_hold is not None:
        # Holds are built from searches (archive/holds/selectors.py imports this module).
        from ..holds.selectors import hold_condition

        condition &= hold_condition(tenant=tenant, hold_id=filters.legal_hold)
    return condition, wanted


def search_messages(
    *,
    tenant: Tenant,
    query: str,
    employee: int | None = None,
    team: int | None = None,
    counterparty: str = "",
    direction: str = "",
    conversation: int | None = None,
    message_type: str = "",
    has_attachment: bool | None = None,
    edited: bool | None = None,
    deleted: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    legal_hold: int | None = None,
    order: Order = "newest",
    cursor: str | None = None,
    page_size: int = 50,
) -> SearchResults:
    """The tenant's messages that match ``query`` and every filter given (see
    :func:`matching_messages`), with an exact count and one page (``page_size``) after ``cursor``.

    ``order``: ``newest`` first by WhatsApp's time, or ``relevance`` (ts_rank_cd, then newest).
    A blank ``query`` lists every message the filters allow (an auditor's "every edited message
    of this team"), newest first, with the text escaped as its snippet.
    Bad input of any kind raises :class:`QueryError` with a message for the reviewer."""
    if order not in ("newest", "relevance"):
        raise QueryError("Order by newest first or by relevance.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise QueryError(f"A page holds 1 to {MAX_PAGE_SIZE} results.")
    filters = SearchFilters(
        employee=employee,
        team=team,
        counterparty=counterparty,
        direction=direction,
        conversation=conversation,
        message_type=message_type,
        has_attachment=has_attachment,
        edited=edited,
        deleted=deleted,
        since=since,
        until=until,
        legal_hold=legal_hold,
    )
    matches = matching_messages(tenant=tenant, query=query, filters=filters)
    rows, wanted = matches.rows, matches.wanted
    count = rows.count()

    ranked = order == "relevance"
    if ranked:
        rank_sql = "0::float8"
        rank_params: list[str] = []
        if wanted is not None:
            rank_sql = (
                f"GREATEST(ts_rank_cd({_M}.search_vector, %s::tsquery), coalesce((SELECT "  # nosec B608  # constants; values are bound parameters
                f"max(ts_rank_cd(ev.search_vector, %s::tsquery)) FROM archive_messageevent ev"
                f" WHERE ev.tenant_id = {_M}.tenant_id AND ev.target_wamid = {_M}.wamid"
                " AND ev.kind = 'edit'), 0))::float8"
            )
            rank_params = [wanted, wanted]
        rows = rows.annotate(rank=RawSQL(rank_sql, rank_params, output_field=FloatField()))  # nosec B611  # constants; values are bound parameters
        ordering = ["-rank", "-whatsapp_timestamp", "-id"]
    else:
        ordering = ["-whatsapp_timestamp", "-id"]
    if cursor:
        rows = rows.filter(_after(cursor, ranked=ranked))
    page = list(
        rows.select_related("conversation", "employee").order_by(*ordering)[: page_size + 1]
    )
    more = len(page) > page_size
    page = page[:page_size]
    snippets = _snippets(tenant=tenant, messages=page, wanted=wanted)
    hits = [
        SearchHit(m, snippets.get(m.pk, ""), getattr(m, "rank", None) if ranked else None)
        for m in page
    ]
    next_cursor = _cursor(page[-1], ranked=ranked) if more and page else None
    return SearchResults(count=count, hits=hits, next_cursor=next_cursor)


def _text_condition(*, tenant: Tenant, query: str) -> tuple[str, list[object], str | None]:
    """The SQL condition a query asks of a message (any of its versions), its parameters, and
    the tsquery that marks the hits (None when nothing can be marked)."""
    tree = parse(query)
    known = lexicon(*lexicon_keys(tree))
    original = compile_search(tree, known, ORIGINAL)
    condition = original.sql
    params: list[object] = list(original.params)
    fields = {leaf.field for leaf in leaves(tree)}
    if fields == {Field.BODY}:
        # Only text: the matching edits do not depend on the message, so they are found once
        # (their own GIN index) and the planner can OR two index scans, where a correlated
        # EXISTS would make it test the condition on every row of the tenant.
        edit = compile_search(tree, known, EDIT)
        condition = (
            f"({condition} OR ({_M}.tenant_id = %s AND {_M}.wamid = ANY(ARRAY("  # nosec B608  # constants; values are bound parameters
            "SELECT ev.target_wamid FROM archive_messageevent ev WHERE ev.tenant_id = %s"
            f" AND ev.kind = 'edit' AND {edit.sql}))))"
        )
        params += [tenant.pk, tenant.pk, *edit.params]
    elif Field.BODY in fields:
        edit = compile_search(tree, known, EDIT)
        condition = f"({condition} OR EXISTS ({_EDITS} AND {edit.sql}))"
        params += edit.params
    return condition, params, highlight_query(tree, known)


def _filters(*, tenant: Tenant, filters: SearchFilters) -> Q:
    condition = Q()
    if filters.employee is not None:
        condition &= Q(employee_id=filters.employee)
    if filters.team is not None:
        condition &= Q(employee__team_id=filters.team, employee__tenant=tenant)
    if filters.counterparty.strip():
        condition &= counterparty_q(filters.counterparty, prefix="conversation__")
    if filters.direction:
        condition &= Q(direction=filters.direction)
    if filters.conversation is not None:
        condition &= Q(conversation_id=filters.conversation)
    if filters.message_type:
        condition &= Q(type=filters.message_type)
    if filters.since is not None:
        condition &= Q(whatsapp_timestamp__gte=filters.since)
    if filters.until is not None:
        condition &= Q(whatsapp_timestamp__lt=filters.until)
    return condition


def _flag_filters(*, tenant: Tenant, filters: SearchFilters) -> Q:
    def event(kind: str) -> Exists:
        return Exists(
            MessageEvent.objects.filter(tenant=tenant, target_wamid=OuterRef("wamid"), kind=kind)
        )

    checks = {
        "has_attachment": (
            filters.has_attachment,
            Exists(Attachment.objects.filter(tenant=tenant, message=OuterRef("pk"))),
        ),
        "edited": (filters.edited, event(MessageEvent.Kind.EDIT)),
        "deleted": (filters.deleted, event(MessageEvent.Kind.REVOKE)),
    }
    condition = Q()
    for wanted, expression in checks.values():
        if wanted is not None:
            condition &= Q(expression) if wanted else ~Q(expression)
    return condition


# Keyset pages --------------------------------------------------------------------------------


def _cursor(message: Message, *, ranked: bool) -> str:
    key: list[object] = [message.whatsapp_timestamp.isoformat(), message.pk]
    if ranked:
        key.insert(0, message.rank)  # type: ignore[attr-defined]
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str, *, ranked: bool) -> Q:
    stale = QueryError("This page link does not fit this search; start the search again.")
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if ranked:
            rank, at, pk = key
            rank = float(rank)
        else:
            at, pk = key
        at = datetime.fromisoformat(at)
        if not isinstance(pk, int) or at.utcoffset() is None:
            raise stale
    except (ValueError, TypeError) as error:
        raise stale from error
    newer = Q(whatsapp_timestamp__lt=at) | Q(whatsapp_timestamp=at, pk__lt=pk)
    if ranked:
        return Q(rank__lt=rank) | (Q(rank=rank) & newer)
    return newer


# Snippets -------------------------------------------------------------------------------------


def _snippets(*, tenant: Tenant, messages: list[Message], wanted: str | None) -> dict[int, str]:
    """Each message's text, escaped for HTML, with the hits in <mark>: the first version (the
    original, then the edits in order) that holds a hit; a window of it when it is long.
    ts_headline runs once per configuration (the hits of a stem show under that language's
    parse) and only on this page."""
    if not messages:
        return {}
    ids = [m.pk for m in messages]
    text = "translate(v.text, %s, '')"
    marked = text
    params: list[str] = [_OPEN + _CLOSE]
    if wanted is not None:
        for configuration in ("ch_simple", "ch_pt", "ch_es", "ch_en"):
            marked = f"ts_headline('public.{configuration}'::regconfig, {marked}, %s::tsquery, %s)"
            params = [*params, wanted, _HEADLINE_OPTIONS]
    sql = (
        f"SELECT v.message_id, {marked} FROM ("  # nosec B608  # constants; values are bound parameters
        " SELECT m.id AS message_id, 0 AS n, m.whatsapp_timestamp AS at, m.id AS event_id,"
        " m.text AS text FROM archive_message m WHERE m.tenant_id = %s AND m.id = ANY(%s)"
        " UNION ALL"
        " SELECT m.id, 1, ev.whatsapp_timestamp, ev.id, ev.payload -> 'message' ->> 'text'"
        " FROM archive_message m JOIN archive_messageevent ev ON ev.tenant_id = m.tenant_id"
        " AND ev.target_wamid = m.wamid AND ev.kind = 'edit'"
        " WHERE m.tenant_id = %s AND m.id = ANY(%s)"
        " AND ev.payload -> 'message' ->> 'text' IS NOT NULL"
        ") AS v ORDER BY v.message_id, v.n, v.at, v.event_id"
    )
    versions: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, tenant.pk, ids, tenant.pk, ids])
        for message_id, headline in cursor.fetchall():
            versions[message_id].append(headline or "")
    snippets = {}
    for message_id, texts in versions.items():
        chosen = next((t for t in texts if _OPEN in t), texts[0])
        snippets[message_id] = _to_html(_window(chosen))
    return snippets


def _window(text: str) -> str:
    """At most about SNIPPET_LENGTH characters around the first hit, cut between words, marks
    kept balanced."""
    if len(text) <= SNIPPET_LENGTH:
        return text
    first = max(text.find(_OPEN), 0)
    start = max(0, first - SNIPPET_LENGTH // 3)
    end = min(len(text), start + SNIPPET_LENGTH)
    if start:
        start = text.find(" ", start, first) + 1 if " " in text[start:first] else start
    if end < len(text):
        space = text.rfind(" ", max(start, first), end)
        end = space if space > first else end
    piece = text[start:end]
    before = text[:start]
    if before.count(_OPEN) > before.count(_CLOSE):
        piece = _OPEN + piece
    if piece.count(_OPEN) > piece.count(_CLOSE):
        piece += _CLOSE
    return ("…" if start else "") + piece + ("…" if end < len(text) else "")


def _to_html(text: str) -> str:
    escaped = html.escape(text)
    escaped = re.sub(f"{_OPEN}+", "<mark>", escaped)
    escaped = re.sub(f"{_CLOSE}+", "</mark>", escaped)
    return escaped.replace("<mark></mark>", "")

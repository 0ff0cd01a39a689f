"""Which messages legal holds freeze: the one place disposition, erasure, search, exports and the
pages ask.

A hold is compiled to a condition on ``Message`` rows from its stored scope (never to a list of
ids), so a message captured after the hold was placed is held as soon as it is archived. The
conditions of one hold all apply (AND); a list of employees or conversations matches any member.

Cost: disposition asks over every message of a tenant. :func:`held_messages_q` reads the active
holds once and compiles each to plain column conditions (employee and conversation ids, a time
range, a counterparty as one uncorrelated sub-select), and a saved-search hold's words to SQL once
(one lexicon query per hold per call), so the per-row work is PostgreSQL's alone.

Races: a hold placed while disposition runs must not lose. :func:`lock_holds` takes a
transaction-level advisory lock: disposition and erasure take it shared before reading the holds,
placing a hold takes it exclusive, so either the new hold commits first (and is read), or the
disposition finishes before the hold exists.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils.dateparse import parse_datetime

from compliance_hub.digits import parse_id
from compliance_hub.phones import phone_for_display
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee
from consent.pseudonymised import PeopleLens

from ..models import Conversation, Message
from ..search.query import QueryError
from ..search.selectors import SearchFilters, matching_condition
from ..selectors import counterparty_q
from .models import LegalHold

# Matches no row: the condition of "no active hold" (Django compiles it to a false WHERE).
NOTHING = Q(pk__in=[])
# The advisory lock's first key: the same number in every process ("legal holds"), the tenant's
# id the second, so tenants never wait on each other.
_LOCK_SPACE = zlib.crc32(b"archive.legal_hold") & 0x7FFFFFFF


def legal_holds(*, tenant: Tenant) -> QuerySet[LegalHold]:
    """The tenant's holds, active first, newest first within each."""
    return LegalHold.objects.filter(tenant=tenant).select_related("saved_search_version")


def active_holds(*, tenant: Tenant) -> QuerySet[LegalHold]:
    return legal_holds(tenant=tenant).filter(status=LegalHold.Status.ACTIVE)


def lock_holds(*, tenant: Tenant, shared: bool) -> None:
    """Serialize placing holds against disposition and erasure of ``tenant`` until the current
    transaction ends (see the module's docstring). Must run inside a transaction."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [_LOCK_SPACE, tenant.pk])


def saved_filters(filters: Mapping[str, str]) -> SearchFilters:
    """A saved search's filters (the messages search's query parameters, as text) as the search
    selector takes them. The saved-search service and API checked them when they were saved;
    anything unreadable now raises :class:`QueryError` rather than being dropped, so a hold
    never quietly widens or narrows."""

    def number(name: str) -> int | None:
        raw = filters.get(name, "")
        if not raw:
            return None
        value = parse_id(raw.strip())
        if value is None:
            raise QueryError(f"The saved search's {name} filter is not an id.")
        return value

    def flag(name: str) -> bool | None:
        raw = filters.get(name, "").strip().lower()
        if not raw:
            return None
        if raw in {"true", "1"}:
            return True
        if raw in {"false", "0"}:
            return False
        raise QueryError(f"The saved search's {name} filter is not true or false.")

    def instant(name: str) -> datetime | None:
        raw = filters.get(name, "")
        if not raw:
            return None
        value = parse_datetime(raw)
        if value is None or value.utcoffset() is None:
            raise QueryError(f"The saved search's {name} filter is not a time with its offset.")
        return value

    if filters.get("legal_hold"):
        # A hold defined by a search of another hold could loop; services refuse it up front.
        raise QueryError("A saved search that filters by a legal hold cannot define a hold.")
    return SearchFilters(
        employee=number("employee"),
        team=number("team"),
        counterparty=filters.get("counterparty", ""),
        direction=filters.get("direction", ""),
        conversation=number("conversation"),
        message_type=filters.get("type", ""),
        has_attachment=flag("has_attachment"),
        edited=flag("edited"),
        deleted=flag("deleted"),
        since=instant("since"),
        until=instant("until"),
    )


def scope_condition(*, tenant: Tenant, hold: LegalHold) -> Q:
    """The condition a message meets when ``hold``'s scope names it (whether or not the hold is
    still active). Raises :class:`QueryError` if a saved search it pins can no longer be read:
    callers that dispose must then stop, not guess."""
    condition = Q()
    if hold.employee_ids:
        condition &= Q(employee_id__in=hold.employee_ids)
    if hold.conversation_ids:
        condition &= Q(conversation_id__in=hold.conversation_ids)
    if hold.counterparty.strip():
        # One uncorrelated sub-select (conversations are few beside messages), no join per row;
        # a conversation with this client that starts later is matched too.
        condition &= Q(
            conversation_id__in=Conversation.objects.filter(tenant=tenant)
            .filter(counterparty_q(hold.counterparty))
            .values("pk")
        )
    if hold.since is not None:
        condition &= Q(whatsapp_timestamp__gte=hold.since)
    if hold.until is not None:
        condition &= Q(whatsapp_timestamp__lt=hold.until)
    version = hold.saved_search_version
    if version is not None:
        search, _ = matching_condition(
            tenant=tenant, query=version.query, filters=saved_filters(version.filters)
        )
        condition &= search
    if not condition:
        # The model's check constraint makes this unreachable; a hold of nothing holds nothing.
        return NOTHING
    return condition


def hold_messages(*, tenant: Tenant, hold: LegalHold) -> QuerySet[Message]:
    """The messages ``hold`` names now (its scope, active or not), unordered."""
    return Message.objects.filter(tenant=tenant).filter(scope_condition(tenant=tenant, hold=hold))


def hold_condition(*, tenant: Tenant, hold_id: int) -> Q:
    """The search filter "legal hold": the messages of the tenant's hold ``hold_id``. Another
    tenant's hold is "not found", like a missing one."""
    hold = legal_holds(tenant=tenant).filter(pk=hold_id).first()
    if hold is None:
        raise QueryError("There is no such legal hold.")
    return scope_condition(tenant=tenant, hold=hold)


def held_messages_q(*, tenant: Tenant, holds: Iterable[LegalHold] | None = None) -> Q:
    """A condition on ``Message`` rows: held by any active hold of ``tenant`` (``holds``: the
    active holds already read, e.g. after :func:`lock_holds`). Built once per call; use it on a
    query of messages::

        Message.objects.filter(tenant=t).exclude(held_messages_q(tenant=t))

    The saved-search part names the message table itself, so the condition belongs on a query
    of ``Message``, not inside another model's query (select the held message ids first)."""
    if holds is None:
        holds = active_holds(tenant=tenant)
    condition = NOTHING
    for hold in holds:
        condition |= scope_condition(tenant=tenant, hold=hold)
    return condition


def held_by(*, tenant: Tenant, message_ids: Iterable[int]) -> dict[int, list[LegalHold]]:
    """For each of these messages that an active hold names, those holds (oldest first): one
    query for a page of messages, whatever the number of holds."""
    ids = list(message_ids)
    holds = list(active_holds(tenant=tenant).order_by("created_at", "id"))
    if not ids or not holds:
        return {}
    flags = {
        f"hold_{hold.pk}": ExpressionWrapper(
            scope_condition(tenant=tenant, hold=hold), output_field=BooleanField()
        )
        for hold in holds
    }
    rows = Message.objects.filter(tenant=tenant, pk__in=ids).annotate(**flags).values("pk", *flags)
    found: dict[int, list[LegalHold]] = {}
    for row in rows:
        holding = [hold for hold in holds if row[f"hold_{hold.pk}"]]
        if holding:
            found[row["pk"]] = holding
    return found


def holds_on(*, tenant: Tenant, message: Message) -> list[LegalHold]:
    """The active holds that name ``message`` (oldest first); empty when it is not held."""
    return held_by(tenant=tenant, message_ids=[message.pk]).get(message.pk, [])


def _when(moment: datetime) -> str:
    return moment.strftime("%d %b %Y %H:%M UTC")


# What a masked reader reads instead of the client or the saved search's words a hold names.
CLIENT_WITHHELD = "With a client named in the hold (withheld: reviews are pseudonymised)"


def describe_holds(
    *, tenant: Tenant, holds: Iterable[LegalHold], lens: PeopleLens | None = None
) -> dict[int, list[str]]:
    """What each hold covers, in the reviewers' words (one line per condition, all of which
    apply): two queries for any number of holds. A masked reader (``lens.masked``: the wall of
    compliance_hub/tenancy/walls.py) reads employees and clients as the alert pages' pseudonyms,
    and not the client or the words the hold was placed with."""
    holds = list(holds)
    masked = lens is not None and lens.masked
    employee_ids = {pk for hold in holds for pk in hold.employee_ids}
    conversation_ids = {pk for hold in holds for pk in hold.conversation_ids}
    chats_of = (
        Conversation.objects.filter(tenant=tenant, pk__in=conversation_ids)
        .select_related("employee")
        .only("employee_id", "employee__full_name", "counterparty_name", "counterparty_wa_id",
              "counterparty_key")
    )  # fmt: skip
    if lens is not None and masked:
        names = {pk: lens.employee_by_pk(pk) for pk in employee_ids}
        chats = {
            chat.pk: f"{lens.employee_by_pk(chat.employee_id)} with "
            f"{lens.client(chat.counterparty_key)}"
            for chat in chats_of
        }
    else:
        names = dict(
            Employee.objects.filter(tenant=tenant, pk__in=employee_ids).values_list(
                "pk", "full_name"
            )
        )
        chats = {
            chat.pk: f"{chat.employee.full_name} with "
            f"{chat.counterparty_name or chat.counterparty_wa_id or chat.counterparty_key}"
            for chat in chats_of
        }
    described: dict[int, list[str]] = {}
    for hold in holds:
        lines = []
        if hold.employee_ids:
            people = ", ".join(names.get(pk, f"employee {pk}") for pk in hold.employee_ids)
            lines.append(f"Messages of {people}")
        if hold.conversation_ids:
            talks = "; ".join(chats.get(pk, f"conversation {pk}") for pk in hold.conversation_ids)
            lines.append(f"In the conversation{'s' if len(hold.conversation_ids) > 1 else ''} "
                         f"of {talks}")  # fmt: skip
        if hold.counterparty:
            lines.append(
                CLIENT_WITHHELD
                if masked
                else f"With the client “{phone_for_display(hold.counterparty)}”"
            )
        if hold.since and hold.until:
            lines.append(f"Sent from {_when(hold.since)} until {_when(hold.until)}")
        elif hold.since:
            lines.append(f"Sent from {_when(hold.since)} on")
        elif hold.until:
            lines.append(f"Sent before {_when(hold.until)}")
        version = hold.saved_search_version
        if version is not None and masked:
            # Its words and filters may name a person or a number; its name is the firm's.
            lines.append(
                f"Found by the saved search “{version.name}” as it was at version "
                f"{version.number} (its words are withheld: reviews are pseudonymised)"
            )
        elif version is not None:
            words = f"“{version.query}”" if version.query.strip() else "no words"
            filters = ", ".join(f"{key} {value}" for key, value in sorted(version.filters.items()))
            lines.append(
                f"Found by the saved search “{version.name}” as it was at version "
                f"{version.number}: {words}" + (f" ({filters})" if filters else "")
            )
        described[hold.pk] = lines
    return described


def hold_counts(*, tenant: Tenant, holds: Iterable[LegalHold]) -> dict[int, int]:
    """How many messages each hold names now: one count per hold (a tenant has few holds)."""
    return {hold.pk: hold_messages(tenant=tenant, hold=hold).count() for hold in holds}

"""Reads of alerts: the queue, one alert with its context, and the officers' decisions for
policies' backtests. Every read a member makes takes their ``role`` (no default): the
second-level rule (alerts/tiers.py) is applied here, once, for every page, API and bulk path."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from archive.models import Conversation, Message, MessageEvent
from archive.selectors import events_by_target
from archive.thread import type_label
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import Employee

from .models import TRUE_POSITIVES, Alert, Disposition, Status
from .tiers import may_see, visible_to

ACTIVE_STATUSES = (Status.OPEN, Status.IN_REVIEW, Status.ESCALATED)
CONTEXT_MESSAGES = 5  # messages shown before and after the flagged one


@dataclass(frozen=True, kw_only=True)
class QueueFilters:
    """What the queue is narrowed to; empty values filter nothing. ``status`` "" means the
    work still to do (every status but closed), "all" everything."""

    status: str = ""
    severity: str = ""
    policy_id: int | None = None
    category: str = ""
    employee_id: int | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    older_than: timedelta | None = None
    overdue: bool = False
    sort: str = "risk"


# Each sort: its ordering, and how the keyset continues after the last row shown.
SORTS = {
    "risk": ("-risk", "-id"),
    "newest": ("-created_at", "-id"),
    "due": ("due_at", "id"),
}


def alert_queue(
    *, tenant: Tenant, filters: QueueFilters, role: str | None, now: datetime | None = None
) -> QuerySet[Alert]:
    """The queue as a member with ``role`` sees it: second-level alerts only for the roles that
    see them (alerts/tiers.py), applied here so no page, API or export can forget it."""
    now = now or timezone.now()
    rows = visible_to(Alert.objects.filter(tenant=tenant), role)
    if filters.status == "all":
        pass
    elif filters.status:
        rows = rows.filter(status=filters.status)
    else:
        rows = rows.filter(status__in=ACTIVE_STATUSES)
    if filters.severity:
        rows = rows.filter(severity=filters.severity)
    if filters.policy_id is not None:
        rows = rows.filter(policy_id=filters.policy_id)
    if filters.category:
        rows = rows.filter(categories__contains=[filters.category])
    if filters.employee_id is not None:
        rows = rows.filter(employee_id=filters.employee_id)
    if filters.team_id is not None:
        # The team's employees as a list (one small query), not a join or subquery: either made
        # the planner sort every matching alert before the LIMIT (see the note below).
        team = Employee.objects.filter(tenant=tenant, team_id=filters.team_id)
        rows = rows.filter(employee_id__in=list(team.values_list("pk", flat=True)))
    if filters.unassigned:
        rows = rows.filter(assignee__isnull=True)
    elif filters.assignee_id is not None:
        rows = rows.filter(assignee_id=filters.assignee_id)
    if filters.older_than is not None:
        rows = rows.filter(created_at__lte=now - filters.older_than)
    if filters.overdue:
        rows = rows.filter(due_at__lt=now).exclude(status=Status.CLOSED)
    # prefetch, not select_related: joined to the (RLS-filtered) employee and policy tables, the
    # planner sorted every matching alert before the LIMIT (2 s at a million alerts); alone,
    # the page is the first rows of an index in the sort's order (bench/alerts_scale.py).
    return rows.prefetch_related("employee", "policy", "assignee", "claimed_by").order_by(
        *SORTS.get(filters.sort, SORTS["risk"])
    )


def after_cursor(rows: QuerySet[Alert], *, sort: str, last: Alert) -> QuerySet[Alert]:
    """The rows after ``last`` in the queue's order (keyset pagination: no OFFSET, no COUNT)."""
    if sort == "newest":
        return rows.filter(
            Q(created_at__lt=last.created_at) | Q(created_at=last.created_at, id__lt=last.pk)
        )
    if sort == "due":
        return rows.filter(Q(due_at__gt=last.due_at) | Q(due_at=last.due_at, id__gt=last.pk))
    return rows.filter(Q(risk__lt=last.risk) | Q(risk=last.risk, id__lt=last.pk))


def alert_for(*, tenant: Tenant, pk: int, role: str | None) -> Alert | None:
    """One alert of the tenant with what its page shows, as a member with ``role`` reaches it;
    None when missing, another firm's, or of a level the role does not see (the same 404)."""
    # Joined: the rows the page reads most; the other five in small queries of their own. One
    # query joining all eleven tables took PostgreSQL 16 ms to plan for 0.5 ms of work (at a
    # million alerts, bench/alerts_scale.py "alert page"); a few primary-key lookups cost less.
    found = (
        Alert.objects.filter(tenant=tenant, pk=pk)
        .select_related("message", "employee", "employee__team", "conversation", "hit")
        .prefetch_related("policy", "policy_version", "assignee", "claimed_by", "tenant")
        .first()
    )
    return found if found is not None and may_see(found, role) else None


def messages_around(
    *, tenant: Tenant, alert: Alert, n: int = CONTEXT_MESSAGES
) -> tuple[list[Message], list[Message]]:
    """Up to ``n`` messages of the conversation before and after the flagged one."""
    flagged = alert.message
    thread = Message.objects.filter(tenant=tenant, conversation_id=alert.conversation_id)
    before = list(
        thread.filter(
            Q(whatsapp_timestamp__lt=flagged.whatsapp_timestamp)
            | Q(whatsapp_timestamp=flagged.whatsapp_timestamp, id__lt=flagged.pk)
        ).order_by("-whatsapp_timestamp", "-id")[:n]
    )
    after = list(
        thread.filter(
            Q(whatsapp_timestamp__gt=flagged.whatsapp_timestamp)
            | Q(whatsapp_timestamp=flagged.whatsapp_timestamp, id__gt=flagged.pk)
        ).order_by("whatsapp_timestamp", "id")[:n]
    )
    return list(reversed(before)), after


@dataclass(frozen=True)
class ContextLine:
    """A message of the conversation around an alert, as it stands now: an officer must see
    that a message was edited or deleted for everyone (hiding the record is itself a finding),
    and a voice note or a photo named in words, not by WhatsApp's type code."""

    message: Message
    text: str  # the text after the last edit, or what kind of message it is
    edited: bool
    deleted: bool


def context_lines(*, tenant: Tenant, messages: Sequence[Message]) -> dict[int, ContextLine]:
    """Each message's line (by its pk), from its edits and deletions: one query."""
    events = events_by_target(tenant=tenant, wamids=[m.wamid for m in messages])
    lines = {}
    for message in messages:
        text, edited, deleted = message.text, False, False
        for event in events.get(message.wamid, []):
            if event.kind == MessageEvent.Kind.EDIT:
                text = str((event.payload.get("message") or {}).get("text", ""))
                edited = True
            elif event.kind == MessageEvent.Kind.REVOKE:
                deleted = True
        lines[message.pk] = ContextLine(
            message=message, text=text or type_label(message.type), edited=edited, deleted=deleted
        )
    return lines


@dataclass(frozen=True, kw_only=True)
class AlertContext:
    """The conversation around an alert as every view shows it (page and API alike): the lines
    before and after the flagged message and the flagged message's own line."""

    conversation_id: int
    before: list[ContextLine]
    flagged: ContextLine
    after: list[ContextLine]

    @property
    def message_ids(self) -> list[int]:
        """The messages shown, for the archive-read audit entry."""
        return [line.message.pk for line in (*self.before, self.flagged, *self.after)]


def alert_context(*, tenant: Tenant, alert: Alert, n: int = CONTEXT_MESSAGES) -> AlertContext:
    """The messages around ``alert`` with their edits and deletions (:func:`context_lines`)."""
    before, after = messages_around(tenant=tenant, alert=alert, n=n)
    lines = context_lines(tenant=tenant, messages=[*before, alert.message, *after])
    return AlertContext(
        conversation_id=alert.conversation_id,
        before=[lines[m.pk] for m in before],
        flagged=lines[alert.message_id],
        after=[lines[m.pk] for m in after],
    )


# The alert page's lists load their policies in a second query (prefetch), not by a join: with
# the join, PostgreSQL walked the policies and intersected each one's alerts (the policy index,
# 83,000 rows a policy at a million alerts) with the employee's or conversation's, ~50 ms a list;
# alone, the ten newest come from the employee's or conversation's index (bench/alerts_scale.py,
# "alert page").
def earlier_alerts(
    *, tenant: Tenant, alert: Alert, role: str | None, limit: int = 10
) -> list[Alert]:
    """The employee's alerts raised before this one that ``role`` sees, newest first."""
    return list(
        visible_to(Alert.objects.all(), role)
        .filter(tenant=tenant, employee_id=alert.employee_id, created_at__lte=alert.created_at)
        .exclude(pk=alert.pk)
        .prefetch_related("policy")
        .order_by("-created_at", "-id")[:limit]
    )


def counterparty_alerts(
    *, tenant: Tenant, alert: Alert, role: str | None, limit: int = 10
) -> list[Alert]:
    """The alerts raised before this one on messages with the same client, with any of the
    firm's employees, that ``role`` sees, newest first: a client who draws promises from
    several advisers shows up here, not in one employee's list."""
    counterparty = alert.conversation.counterparty_key
    # The client's conversations first (a short list, index conversation_counterparty), then
    # their alerts by the conversation's foreign-key index.
    conversations = list(
        Conversation.objects.filter(tenant=tenant, counterparty_key=counterparty).values_list(
            "pk", flat=True
        )
    )
    return list(
        visible_to(Alert.objects.all(), role)
        .filter(tenant=tenant, conversation_id__in=conversations, created_at__lte=alert.created_at)
        .exclude(pk=alert.pk)
        .prefetch_related("policy")
        .order_by("-created_at", "-id")[:limit]
    )


def group_of(*, tenant: Tenant, alert: Alert, role: str | None) -> list[Alert]:
    """The other alerts of the alert's group (same conversation, same window) ``role`` sees."""
    return list(
        visible_to(Alert.objects.all(), role)
        .filter(tenant=tenant, group_key=alert.group_key)
        .exclude(pk=alert.pk)
        .select_related("policy")
        .order_by("pk")
    )


def decisions_on_messages(tenant: Tenant, message_ids: Sequence[int]) -> dict[int, bool]:
    """policies.decisions' source: per message with a closed alert, True when any of its alerts
    was closed as a true positive, False when only as false positive. Duplicates say nothing
    about a detector's precision, so they are left out."""
    decided: dict[int, bool] = {}
    with tenant_scope(tenant):
        rows = Alert.objects.filter(
            tenant=tenant,
            message_id__in=list(message_ids),
            status=Status.CLOSED,
            disposition__in=[*TRUE_POSITIVES, Disposition.FALSE_POSITIVE],
        ).values_list("message_id", "disposition")
        for message_id, disposition in rows:
            decided[message_id] = decided.get(message_id, False) or disposition in TRUE_POSITIVES
    return decided

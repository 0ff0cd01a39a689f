"""Capture coverage: for each employee who consented or whose WhatsApp number is connected,
whether capture runs (and if not, why), and what the archive can honestly claim to hold.

Coexistence captures 1:1 chats from the moment a number is connected, and a one-shot history
back-fill if the business shared it; it never captures group chats or calls made in the app.
This page says so per employee, so nobody believes in coverage that is not there.

:func:`capture_states` is the one place that decides whether capture runs for an employee; the
consent register asks it too (through consent.capture), so both pages say the same.

One query per table (employees with their consent state and number assignment, messages,
refusals, notices, the connection settings), whatever the number of employees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from archive.models import Message
from compliance_hub.tenancy.models import Tenant
from consent.capture import CaptureState, CaptureStatus
from consent.models import ConsentState, Employee, NumberAssignment
from consent.selectors import with_consent_state

from .models import CaptureNotice, Refusal, WhatsAppSettings

if TYPE_CHECKING:
    from consent.selectors import EmployeeWithConsent

REFUSAL_WINDOW = timedelta(days=7)
CONSENT_LABELS = dict(ConsentState.choices)
STOP_KINDS = (CaptureNotice.Kind.PARTNER_REMOVED, CaptureNotice.Kind.ACCOUNT_EVENT)


def decide_capture(
    *,
    active: bool,
    consent_state: str,
    phone_number_id: str,
    connection_ready: bool,
    covered_since: datetime | None,
    first_seen_at: datetime | None,
    last_seen_at: datetime | None,
    stopped_at: datetime | None,
) -> CaptureState:
    """Whether capture runs for one employee, from the facts; the first reason that holds wins.

    Capture runs only when all hold: the employee is active and covered by consent, has a
    WhatsApp number connected, the firm's connection can verify deliveries, and a delivery for
    the number has been seen (until then nothing proves Meta sends them).
    A stop (partner removed, account ended) counts until a later delivery shows it reconnected.
    """
    if not active:
        return CaptureState(CaptureStatus.DEACTIVATED)
    if consent_state != ConsentState.COVERED:
        return CaptureState(CaptureStatus.NO_CONSENT)
    if not phone_number_id:
        return CaptureState(CaptureStatus.NO_NUMBER)
    if not connection_ready:
        return CaptureState(CaptureStatus.NOT_CONNECTED)
    if stopped_at is not None and (last_seen_at is None or last_seen_at <= stopped_at):
        return CaptureState(CaptureStatus.STOPPED, since=stopped_at)
    if first_seen_at is None:
        return CaptureState(CaptureStatus.NO_DELIVERY)
    starts = [t for t in (first_seen_at, covered_since) if t is not None]
    return CaptureState(CaptureStatus.CAPTURING, since=max(starts))


@dataclass(frozen=True)
class Coverage:
    employee: Employee
    phone_number_id: str
    consent_state: str
    capture: CaptureState
    first_seen_at: datetime | None  # first message or refusal received since the assignment
    assigned_at: datetime | None  # when the number was assigned to the employee
    messages: int
    history_messages: int
    last_message_at: datetime | None
    refusals_recent: int
    notices: tuple[CaptureNotice, ...]  # open ones about this number

    @property
    def connected_since(self) -> datetime | None:
        return self.first_seen_at or self.assigned_at

    @property
    def connected_since_source(self) -> str:
        if self.first_seen_at is not None:
            return "first delivery seen"
        return "number assigned, nothing received yet" if self.assigned_at else ""

    @property
    def consent_label(self) -> str:
        return CONSENT_LABELS.get(self.consent_state, self.consent_state)

    @property
    def history_imported(self) -> bool:
        return self.history_messages > 0

    @property
    def history_declined(self) -> bool:
        return any(n.kind == CaptureNotice.Kind.HISTORY_DECLINED for n in self.notices)


@dataclass(frozen=True)
class _Facts:
    """What ingestion and the archive know about the employees' numbers."""

    connection_ready: bool
    messages: Mapping[int, Mapping[str, Any]]  # by employee pk: first, last, total, history
    # By employee pk (who held the number then): first, last, recent. The column is nullable, but
    # the query filters on the employees' pks, so no row is keyed None.
    refusals: Mapping[int | None, Mapping[str, Any]]
    stops: dict[str, datetime]  # by phone number id: the latest stop notice
    open_notices: dict[str, list[CaptureNotice]]  # by phone number id, newest first


def _facts(tenant: Tenant, employees: Sequence[Employee], now: datetime) -> _Facts:
    numbers = {e.whatsapp_phone_number_id for e in employees if e.whatsapp_phone_number_id}
    connection_ready = (
        WhatsAppSettings.objects.filter(tenant=tenant).exclude(app_secret_encrypted="").exists()
    )
    messages = {
        row["employee_id"]: row
        for row in Message.objects.filter(tenant=tenant, employee__in=[e.pk for e in employees])
        .order_by()
        .values("employee_id")
        .annotate(
            first=Min("received_at"),
            last_received=Max("received_at"),
            last=Max("whatsapp_timestamp"),
            total=Count("pk"),
            history=Count("pk", filter=Q(is_history=True)),
        )
    }
    # The gate names the employee who held the number at the message's time, so a
    # number's earlier holder or unassigned days do not count for the present one.
    refusals = {
        row["employee_pk"]: row
        for row in Refusal.objects.filter(
            tenant=tenant,
            phone_number_id__in=numbers,
            employee_pk__in=[e.pk for e in employees],
        )
        .order_by()
        .values("employee_pk")
        .annotate(
            first=Min("created_at"),
            last=Max("created_at"),
            recent=Count("pk", filter=Q(created_at__gte=now - REFUSAL_WINDOW)),
        )
    }
    stops: dict[str, datetime] = {}
    open_notices: dict[str, list[CaptureNotice]] = {}
    # Open notices of every kind, and stops even once acknowledged: acknowledging a stop
    # does not reconnect the number.
    for notice in CaptureNotice.objects.filter(
        Q(acknowledged_at__isnull=True) | Q(kind__in=STOP_KINDS),
        tenant=tenant,
        phone_number_id__in=numbers,
    ).order_by("-created_at", "-id"):
        if notice.kind in STOP_KINDS:
            stops.setdefault(notice.phone_number_id, notice.created_at)
        if notice.acknowledged_at is None:
            open_notices.setdefault(notice.phone_number_id, []).append(notice)
    return _Facts(
        connection_ready=connection_ready,
        messages=messages,
        refusals=refusals,
        stops=stops,
        open_notices=open_notices,
    )


def _seen(employee: Employee, facts: _Facts) -> tuple[datetime | None, datetime | None]:
    """First and last delivery seen for the employee: archived messages and refused ones."""
    messages = facts.messages.get(employee.pk, {})
    refusals = facts.refusals.get(employee.pk, {})
    firsts = [t for t in (messages.get("first"), refusals.get("first")) if t is not None]
    lasts = [t for t in (messages.get("last_received"), refusals.get("last")) if t is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def _state(employee: EmployeeWithConsent, facts: _Facts) -> CaptureState:
    first_seen, last_seen = _seen(employee, facts)
    covered = employee.consent_state == ConsentState.COVERED
    return decide_capture(
        active=employee.active,
        consent_state=employee.consent_state,
        phone_number_id=employee.whatsapp_phone_number_id,
        connection_ready=facts.connection_ready,
        covered_since=getattr(employee, "last_consent_at", None) if covered else None,
        first_seen_at=first_seen,
        last_seen_at=last_seen,
        stopped_at=facts.stops.get(employee.whatsapp_phone_number_id),
    )


def _with_assignment(employees, tenant: Tenant):
    assignment = NumberAssignment.objects.filter(
        tenant=tenant,
        employee=OuterRef("pk"),
        whatsapp_phone_number_id=OuterRef("whatsapp_phone_number_id"),
        released_at__isnull=True,
    ).order_by("-assigned_at")
    return employees.annotate(assigned_at=Subquery(assignment.values("assigned_at")[:1]))


def capture_states(
    tenant: Tenant, employees: Sequence[EmployeeWithConsent]
) -> dict[int, CaptureState]:
    """The capture state of each employee (annotated with ``consent_state``), by primary key,
    in a fixed number of queries."""
    employees = list(employees)
    if not employees:
        return {}
    facts = _facts(tenant, employees, timezone.now())
    return {employee.pk: _state(employee, facts) for employee in employees}


def capture_coverage(*, tenant: Tenant, now: datetime | None = None) -> list[Coverage]:
    """One row per active employee who is covered by consent or has a WhatsApp number
    connected (refusals show what arrives without consent), by name."""
    now = now or timezone.now()
    employees = list(
        _with_assignment(
            with_consent_state(Employee.objects.filter(tenant=tenant, active=True), tenant=tenant),
            tenant,
        )
        .filter(Q(consent_state=ConsentState.COVERED) | ~Q(whatsapp_phone_number_id=""))
        .order_by("full_name", "id")
    )
    if not employees:
        return []
    facts = _facts(tenant, employees, now)
    rows = []
    for employee in employees:
        number = employee.whatsapp_phone_number_id
        messages = facts.messages.get(employee.pk, {})
        refusals = facts.refusals.get(employee.pk, {})
        first_seen, _ = _seen(employee, facts)
        rows.append(
            Coverage(
                employee=employee,
                phone_number_id=number,
                consent_state=employee.consent_state,
                capture=_state(employee, facts),
                first_seen_at=first_seen,
                assigned_at=employee.assigned_at,
                messages=messages.get("total", 0),
                history_messages=messages.get("history", 0),
                last_message_at=messages.get("last"),
                refusals_recent=refusals.get("recent", 0),
                notices=tuple(facts.open_notices.get(number, ())) if number else (),
            )
        )
    return rows

"""Capture coverage: for each employee whose WhatsApp number is connected, what the archive can
honestly claim to hold.

Coexistence captures 1:1 chats from the moment a number is connected, and a one-shot history
back-fill if the business shared it; it never captures group chats or calls made in the app.
This page says so per employee, so nobody believes in coverage that is not there.

One query per table (employees with their consent state and number assignment, messages,
refusals, open notices), whatever the number of employees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from archive.models import Message
from compliance_hub.tenancy.models import Tenant
from consent.models import ConsentState, Employee, NumberAssignment
from consent.selectors import with_consent_state

from .models import CaptureNotice, Refusal

REFUSAL_WINDOW = timedelta(days=7)
CONSENT_LABELS = dict(ConsentState.choices)


@dataclass(frozen=True)
class Coverage:
    employee: Employee
    phone_number_id: str
    consent_state: str
    first_seen_at: datetime | None  # first message or refusal received for the number
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

    @property
    def capture_stopped(self) -> CaptureNotice | None:
        stopped = (CaptureNotice.Kind.PARTNER_REMOVED, CaptureNotice.Kind.ACCOUNT_EVENT)
        return next((n for n in self.notices if n.kind in stopped), None)


def capture_coverage(*, tenant: Tenant, now: datetime | None = None) -> list[Coverage]:
    """One row per active employee with a WhatsApp phone number id, by name."""
    now = now or timezone.now()
    assignment = NumberAssignment.objects.filter(
        tenant=tenant,
        employee=OuterRef("pk"),
        whatsapp_phone_number_id=OuterRef("whatsapp_phone_number_id"),
        released_at__isnull=True,
    ).order_by("-assigned_at")
    employees = list(
        with_consent_state(
            Employee.objects.filter(tenant=tenant, active=True).exclude(
                whatsapp_phone_number_id=""
            ),
            tenant=tenant,
        )
        .annotate(assigned_at=Subquery(assignment.values("assigned_at")[:1]))
        .order_by("full_name", "id")
    )
    if not employees:
        return []
    numbers = {e.whatsapp_phone_number_id for e in employees}
    archived = {
        row["employee_id"]: row
        for row in Message.objects.filter(tenant=tenant, employee__in=[e.pk for e in employees])
        .order_by()
        .values("employee_id")
        .annotate(
            first=Min("received_at"),
            last=Max("whatsapp_timestamp"),
            total=Count("pk"),
            history=Count("pk", filter=Q(is_history=True)),
        )
    }
    refused = {
        row["phone_number_id"]: row
        for row in Refusal.objects.filter(tenant=tenant, phone_number_id__in=numbers)
        .order_by()
        .values("phone_number_id")
        .annotate(
            first=Min("created_at"),
            recent=Count("pk", filter=Q(created_at__gte=now - REFUSAL_WINDOW)),
        )
    }
    notices: dict[str, list[CaptureNotice]] = {}
    for notice in CaptureNotice.objects.filter(
        tenant=tenant, acknowledged_at__isnull=True, phone_number_id__in=numbers
    ).order_by("-created_at", "-id"):
        notices.setdefault(notice.phone_number_id, []).append(notice)

    rows = []
    for employee in employees:
        number = employee.whatsapp_phone_number_id
        messages = archived.get(employee.pk, {})
        refusals = refused.get(number, {})
        firsts = [t for t in (messages.get("first"), refusals.get("first")) if t is not None]
        rows.append(
            Coverage(
                employee=employee,
                phone_number_id=number,
                consent_state=employee.consent_state,
                first_seen_at=min(firsts) if firsts else None,
                assigned_at=employee.assigned_at,
                messages=messages.get("total", 0),
                history_messages=messages.get("history", 0),
                last_message_at=messages.get("last"),
                refusals_recent=refusals.get("recent", 0),
                notices=tuple(notices.get(number, ())),
            )
        )
    return rows

"""Reads of ingestion: pipeline health for the dashboard, the state of the WhatsApp
connection for its page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min
from django.utils import timezone

from compliance_hub.audit.models import AuditEvent
from compliance_hub.audit.selectors import audit_trail
from compliance_hub.tenancy.models import Tenant
from consent.models import ConsentState, Employee
from consent.selectors import with_consent_state

from .connection_check import CHECK_ACTION, CHECK_AGENT, CHECK_AGENT_HEADER
from .models import Delivery, Refusal, WhatsAppSettings


def pipeline_health(*, tenant: Tenant, window: timedelta = timedelta(hours=24)) -> dict[str, Any]:
    """Deliveries by status in the window, the oldest waiting one (lag), refusals by reason and
    the numbers refused most (an unconsented number in use)."""
    since = timezone.now() - window
    deliveries = Delivery.objects.filter(tenant=tenant, received_at__gte=since)
    by_status = dict(deliveries.order_by().values_list("status").annotate(n=Count("pk")))
    waiting = Delivery.objects.filter(
        tenant=tenant, status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED]
    ).aggregate(oldest=Min("received_at"))["oldest"]
    refusals = Refusal.objects.filter(tenant=tenant, created_at__gte=since)
    by_reason = dict(refusals.order_by().values_list("reason").annotate(n=Count("pk")))
    numbers: list[dict[str, Any]] = [
        dict(row)
        for row in refusals.order_by()
        .values("phone_number_id", "reason", "employee_pk")
        .annotate(n=Count("pk"), last=Max("created_at"))
        .order_by("-n")[:5]
    ]
    # Named as people know them (the employee and their number), not by Meta's number id.
    known = [row["employee_pk"] for row in numbers if row["employee_pk"] is not None]
    people = {
        e.pk: e
        for e in Employee.objects.filter(tenant=tenant, pk__in=known).only(
            "full_name", "phone_number"
        )
    }
    for row in numbers:
        row["employee"] = people.get(row["employee_pk"])
    return {
        "received": sum(by_status.values()),
        "by_status": {status: by_status.get(status, 0) for status in Delivery.Status.values},
        "lag_seconds": (timezone.now() - waiting).total_seconds() if waiting else 0.0,
        "refusals_by_reason": by_reason,
        "refused_numbers": numbers,
    }


# What each setting of the WhatsApp connection is for, in the order an admin sets them up.
REQUIREMENTS = (
    (
        "app_secret",
        "App secret",
        "Proves that each delivery comes from Meta. Without it every delivery is refused and "
        "nothing is captured.",
    ),
    (
        "verify_token",
        "Verify token",
        "Meta sends it back once, when the callback URL is saved in its dashboard. Without it "
        "Meta cannot verify the address and sends nothing.",
    ),
    (
        "access_token",
        "Access token",
        "Downloads the photos, documents and voice notes of messages (Meta keeps them only for "
        "a few days). Without it messages are archived without their attachments.",
    ),
    (
        "waba_ids",
        "WhatsApp Business Account id",
        "Names the firm's account at Meta whose numbers are captured. Meta sends deliveries "
        "only for an account that the app is subscribed to.",
    ),
)


@dataclass(frozen=True)
class Requirement:
    name: str
    label: str
    purpose: str
    is_set: bool


@dataclass(frozen=True)
class ConnectionStatus:
    requirements: tuple[Requirement, ...]
    last_received_at: datetime | None  # the last delivery from Meta (not our own checks)
    last_processed_at: datetime | None  # when the last processed delivery was processed
    last_check: AuditEvent | None  # the last connection check an admin ran

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.is_set]

    @property
    def can_receive(self) -> bool:
        """Meta can verify the callback URL and deliveries can be checked and stored."""
        return all(r.is_set for r in self.requirements if r.name in RECEIVING)

    @property
    def complete(self) -> bool:
        return not self.missing


RECEIVING = ("app_secret", "verify_token")


def connection_status(*, tenant: Tenant, row: WhatsAppSettings | None) -> ConnectionStatus:
    """What the WhatsApp page says about the connection: which settings are missing, when
    deliveries last arrived and were processed, and the last connection check."""
    values = {
        "app_secret": bool(row and row.app_secret_encrypted),
        "verify_token": bool(row and row.verify_token_encrypted),
        "access_token": bool(row and row.access_token_encrypted),
        "waba_ids": bool(row and row.waba_ids),
    }
    deliveries = Delivery.objects.filter(tenant=tenant).exclude(
        headers__contains={CHECK_AGENT_HEADER: CHECK_AGENT}
    )
    last_received = deliveries.order_by("-received_at").values_list("received_at", flat=True)
    last_processed = (
        deliveries.filter(status=Delivery.Status.PROCESSED)
        .order_by("-received_at")
        .values_list("processed_at", flat=True)
    )
    return ConnectionStatus(
        requirements=tuple(
            Requirement(name=name, label=label, purpose=purpose, is_set=values[name])
            for name, label, purpose in REQUIREMENTS
        ),
        last_received_at=last_received.first(),
        last_processed_at=last_processed.first(),
        last_check=audit_trail(tenant=tenant, action=CHECK_ACTION).first(),
    )


@dataclass(frozen=True)
class CaptureRunning:
    """Whether WhatsApp capture runs for the firm at all, for the dashboard."""

    running: bool
    connected: bool  # Meta can verify the callback URL and deliveries are checked
    reason: str  # why not, when it does not run
    since: datetime | None  # the first delivery received from Meta
    last_received_at: datetime | None
    employees: int  # active employees covered by consent with a WhatsApp number connected


def capture_running(*, tenant: Tenant) -> CaptureRunning:
    """Capture runs when Meta can reach and verify us, someone consented with a number
    connected, and deliveries from Meta have arrived. Cheap: no scan of the archive."""
    can_receive = (
        WhatsAppSettings.objects.filter(tenant=tenant)
        .exclude(app_secret_encrypted="")
        .exclude(verify_token_encrypted="")
        .exists()
    )
    employees = (
        with_consent_state(Employee.objects.filter(tenant=tenant, active=True), tenant=tenant)
        .filter(consent_state=ConsentState.COVERED)
        .exclude(whatsapp_phone_number_id="")
        .count()
    )
    deliveries = (
        Delivery.objects.filter(tenant=tenant)
        .exclude(headers__contains={CHECK_AGENT_HEADER: CHECK_AGENT})
        .values_list("received_at", flat=True)
    )
    first = deliveries.order_by("received_at").first()
    last = deliveries.order_by("-received_at").first()
    reason = ""
    if not can_receive:
        reason = "the firm's WhatsApp connection is not set up"
    elif not employees:
        reason = "no employee is covered by consent with a WhatsApp number connected"
    elif first is None:
        reason = "no delivery has been received from Meta yet"
    return CaptureRunning(
        running=not reason,
        connected=can_receive,
        reason=reason,
        since=first if not reason else None,
        last_received_at=last,
        employees=employees,
    )

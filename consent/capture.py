"""Whether WhatsApp capture runs for an employee, in the words the register and the capture
coverage page both show.

Consent alone does not capture anything: the employee's WhatsApp number must be connected and
Meta must be sending its deliveries. The facts behind that live in ingestion and the archive,
which this app may not import (dependencies run one way, DESIGN.md), so ingestion provides the
reader from its AppConfig.ready() and every page asks through :func:`capture_states`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models

from compliance_hub.tenancy.models import Tenant

if TYPE_CHECKING:
    from .selectors import EmployeeWithConsent


class CaptureStatus(models.TextChoices):
    CAPTURING = "capturing", "Capturing"
    NO_DELIVERY = "no_delivery", "No delivery seen yet"
    STOPPED = "stopped", "Capture stopped"
    NOT_CONNECTED = "not_connected", "WhatsApp connection not set up"
    NO_NUMBER = "no_number", "No WhatsApp number connected"
    NO_CONSENT = "no_consent", "No consent"
    DEACTIVATED = "deactivated", "Deactivated"


# Why capture does not run, as a sentence the page can print after "Not capturing:".
REASONS = {
    CaptureStatus.NO_DELIVERY: "no delivery seen yet for this number",
    CaptureStatus.STOPPED: "WhatsApp stopped sending deliveries for this number",
    CaptureStatus.NOT_CONNECTED: "the firm's WhatsApp connection is not set up",
    CaptureStatus.NO_NUMBER: "no WhatsApp number connected",
    CaptureStatus.NO_CONSENT: "no consent, so messages are refused",
    CaptureStatus.DEACTIVATED: "the employee is deactivated",
}


@dataclass(frozen=True)
class CaptureState:
    status: str  # a CaptureStatus value
    since: datetime | None = None  # capturing since, or stopped since

    @property
    def running(self) -> bool:
        return self.status == CaptureStatus.CAPTURING

    @property
    def label(self) -> str:
        return CaptureStatus(self.status).label

    @property
    def reason(self) -> str:
        return REASONS.get(CaptureStatus(self.status), "")


CaptureReader = Callable[[Tenant, Sequence["EmployeeWithConsent"]], dict[int, CaptureState]]
_reader: CaptureReader | None = None


def provide_capture_reader(reader: CaptureReader) -> None:
    """Called once by the app that knows what was delivered (ingestion)."""
    global _reader
    _reader = reader


def capture_states(
    *, tenant: Tenant, employees: Sequence[EmployeeWithConsent]
) -> dict[int, CaptureState]:
    """The capture state of each employee, by primary key. ``employees`` carry the
    ``consent_state`` annotation of :func:`consent.selectors.with_consent_state`. Without a
    reader (ingestion not installed) nothing can be captured, and every employee says so."""
    if _reader is None:
        return {e.pk: CaptureState(CaptureStatus.NOT_CONNECTED) for e in employees}
    return _reader(tenant, employees)

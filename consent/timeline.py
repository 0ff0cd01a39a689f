"""The consent gate's decision, as a pure function of a number's history.

No Django here: the gate loads a :class:`NumberHistory` from the database once, caches it, and
answers every message from it. Everything needed to answer for *any* moment is in the history
(consent events are append-only), so the same history answers past and present alike.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Reason(StrEnum):
    CONSENTED = "consented"
    UNKNOWN_NUMBER = "unknown_number"
    EMPLOYEE_INACTIVE = "employee_inactive"
    NO_CONSENT = "no_consent"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    RECONSENT_OVERDUE = "reconsent_overdue"


REASON_TEXT = {
    Reason.CONSENTED: "The employee had consented.",
    Reason.UNKNOWN_NUMBER: "No employee held this WhatsApp number at that time.",
    Reason.EMPLOYEE_INACTIVE: "The employee holding this number had been deactivated.",
    Reason.NO_CONSENT: "The employee had not consented at that time.",
    Reason.CONSENT_WITHDRAWN: "The employee had withdrawn consent.",
    Reason.RECONSENT_OVERDUE: "A newer notice required re-consent by a deadline that had passed.",
}


@dataclass(frozen=True, slots=True)
class Decision:
    capture: bool
    reason: Reason
    employee_id: int | None = None


@dataclass(frozen=True, slots=True)
class Holding:
    """An employee held the number from ``start`` until ``end`` (None: still holds it)."""

    employee_id: int
    start: datetime
    end: datetime | None
    deactivated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConsentChange:
    at: datetime
    kind: str  # "granted" | "declined" | "withdrawn" | "expired"
    notice_version: int | None


@dataclass(frozen=True, slots=True)
class Deadline:
    """From ``at`` on, consents to versions below ``version`` no longer cover capture."""

    at: datetime
    version: int


@dataclass(slots=True)
class NumberHistory:
    holdings: list[Holding]  # sorted by start
    changes: dict[int, list[ConsentChange]]  # per employee, sorted by time
    deadlines: list[Deadline]  # sorted by time
    _change_times: dict[int, list[datetime]] = field(default_factory=dict, repr=False)
    _holding_starts: list[datetime] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._holding_starts = [h.start for h in self.holdings]
        self._change_times = {
            employee: [change.at for change in changes]
            for employee, changes in self.changes.items()
        }


def _holding_at(history: NumberHistory, at: datetime) -> Holding | None:
    index = bisect_right(history._holding_starts, at) - 1
    if index < 0:
        return None
    holding = history.holdings[index]
    if holding.end is not None and at >= holding.end:
        return None
    return holding


def _overdue_floor(deadlines: list[Deadline], at: datetime) -> int:
    """The lowest notice version a consent must be of at ``at`` (0: any version)."""
    floor = 0
    for deadline in deadlines:
        if deadline.at > at:
            break
        floor = max(floor, deadline.version)
    return floor


def decide(history: NumberHistory, at: datetime) -> Decision:
    """Capture or refuse a message of this number at ``at``, and why."""
    holding = _holding_at(history, at)
    if holding is None:
        # Was the number held before and released by an offboarding? Say so precisely.
        index = bisect_right(history._holding_starts, at) - 1
        if index >= 0:
            previous = history.holdings[index]
            if previous.deactivated_at is not None and at >= previous.deactivated_at:
                return Decision(False, Reason.EMPLOYEE_INACTIVE, previous.employee_id)
        return Decision(False, Reason.UNKNOWN_NUMBER)
    employee = holding.employee_id
    times = history._change_times.get(employee, [])
    index = bisect_right(times, at) - 1
    if index < 0:
        return Decision(False, Reason.NO_CONSENT, employee)
    change = history.changes[employee][index]
    if change.kind == "withdrawn":
        return Decision(False, Reason.CONSENT_WITHDRAWN, employee)
    if change.kind == "expired":
        return Decision(False, Reason.RECONSENT_OVERDUE, employee)
    if change.kind != "granted":
        return Decision(False, Reason.NO_CONSENT, employee)
    if history.deadlines and (change.notice_version or 0) < _overdue_floor(history.deadlines, at):
        return Decision(False, Reason.RECONSENT_OVERDUE, employee)
    return Decision(True, Reason.CONSENTED, employee)

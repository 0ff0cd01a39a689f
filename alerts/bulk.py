"""Bulk review: many alerts moved (or assigned) at once, each through the same verb as one alert
(alerts.services), so the workflow's table, the claims and the versions rule a bulk change
exactly as they rule a single one. What cannot move is skipped and reported with why; the bulk
itself is one audit entry (which alerts, what was asked, what happened) besides each alert's own
history and audit entries.

A selection has a hard cap (settings.ALERTS_BULK_MAX): each alert is its own transaction, and
an officer's click must answer in seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from compliance_hub.accounts.models import User
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Alert
from .services import (
    AlertError,
    ClaimConflict,
    InvalidTransition,
    SeniorReviewOnly,
    StaleAlert,
    assign_alert,
    transition_alert,
)
from .workflow import MOVES, STATUSES, TransitionRefused, check_move


class BulkTooLarge(AlertError):
    """More alerts chosen than one bulk change may move."""


@dataclass(frozen=True)
class Chosen:
    """One alert of a selection, with the version the officer saw (None: not checked)."""

    alert_id: int
    expected_version: int | None = None


@dataclass(frozen=True)
class Skipped:
    alert_id: int
    reason: str  # the sentence the single change would have answered


@dataclass
class BulkOutcome:
    changed: list[int] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence for the officer: how many changed, how many were left and why."""
        done = f"{len(self.changed)} alert{'' if len(self.changed) == 1 else 's'} changed"
        if not self.skipped:
            return f"{done}."
        return f"{done}; {len(self.skipped)} left as they were (see why for each)."


def check_selection(count: int) -> None:
    """Refuse an empty selection or one over the cap (settings.ALERTS_BULK_MAX), with the
    sentence the officer sees; callers may ask before they parse a long list."""
    limit: int = settings.ALERTS_BULK_MAX
    if count < 1:
        raise InvalidTransition("Choose at least one alert.")
    if count > limit:
        raise BulkTooLarge(
            f"At most {limit} alerts can be changed at once; you chose {count}. "
            "Narrow the selection with the filters."
        )


def _check_size(chosen: Sequence[Chosen]) -> None:
    check_selection(len(chosen))
    if len({c.alert_id for c in chosen}) != len(chosen):
        raise InvalidTransition("An alert is chosen twice; choose each alert once.")


def check_bulk_move(to: str, *, disposition: str, rationale: str) -> None:
    """Refuse, before touching any alert, what no alert could do: an unknown status, closing
    without a disposition or a rationale, reopening without a reason. The rule is the workflow
    table's, asked for a status from which the move is allowed."""
    sources = [current for current in STATUSES if (current, to) in MOVES]
    try:
        check_move(sources[0] if sources else to, to, disposition=disposition, rationale=rationale)
    except TransitionRefused as refused:
        raise InvalidTransition(str(refused)) from refused


def _alerts(tenant: Tenant, chosen: Sequence[Chosen]) -> dict[int, Alert]:
    with tenant_scope(tenant):
        rows = Alert.objects.filter(tenant=tenant, pk__in=[c.alert_id for c in chosen])
        return {alert.pk: alert for alert in rows.select_related("tenant")}


NOT_FOUND = "No such alert in your firm."


def _audit(
    tenant: Tenant, actor: Actor, action: str, asked: dict[str, str], outcome: BulkOutcome
) -> None:
    record_event(
        action,
        tenant=tenant,
        actor=actor,
        target_label=f"{len(outcome.changed)} of {len(outcome.changed) + len(outcome.skipped)} "
        "alerts",
        details={
            **asked,
            "changed": outcome.changed,
            "skipped": [{"alert": s.alert_id, "reason": s.reason} for s in outcome.skipped],
        },
    )


def bulk_transition(
    *,
    tenant: Tenant,
    actor: Actor,
    chosen: Sequence[Chosen],
    to: str,
    disposition: str = "",
    rationale: str = "",
) -> BulkOutcome:
    """Move each chosen alert to ``to`` through transition_alert. Alerts held by another
    officer, changed since they were seen, or for which the move is illegal are skipped with
    the reason; another firm's ids are skipped as unknown. One ``alert.bulk_transitioned``
    audit entry records the request and its outcome."""
    _check_size(chosen)
    rationale = rationale.strip()
    check_bulk_move(to, disposition=disposition, rationale=rationale)
    found = _alerts(tenant, chosen)
    outcome = BulkOutcome()
    for choice in chosen:
        alert = found.get(choice.alert_id)
        if alert is None:
            outcome.skipped.append(Skipped(choice.alert_id, NOT_FOUND))
            continue
        try:
            transition_alert(
                alert=alert, actor=actor, to=to, disposition=disposition, rationale=rationale,
                expected_version=choice.expected_version,
            )  # fmt: skip
        except (ClaimConflict, StaleAlert, InvalidTransition, SeniorReviewOnly) as refused:
            outcome.skipped.append(Skipped(alert.pk, str(refused)))
            continue
        outcome.changed.append(alert.pk)
    asked = {"to": to, "disposition": disposition, "rationale": rationale}
    _audit(tenant, actor, "alert.bulk_transitioned", asked, outcome)
    return outcome


def bulk_assign(
    *, tenant: Tenant, actor: Actor, chosen: Sequence[Chosen], assignee: User | None
) -> BulkOutcome:
    """Assign each chosen alert to ``assignee`` through assign_alert (an officer's "assign to
    me" on a page of the queue). Alerts already assigned that way, or changed since seen, are
    skipped with the reason. One ``alert.bulk_assigned`` audit entry."""
    _check_size(chosen)
    found = _alerts(tenant, chosen)
    outcome = BulkOutcome()
    for choice in chosen:
        alert = found.get(choice.alert_id)
        if alert is None:
            outcome.skipped.append(Skipped(choice.alert_id, NOT_FOUND))
            continue
        try:
            assign_alert(
                alert=alert, actor=actor, assignee=assignee,
                expected_version=choice.expected_version,
            )  # fmt: skip
        except AlertError as refused:
            # NotAReviewer is the same for every alert: say it once, as the single change does.
            if not isinstance(refused, ClaimConflict | StaleAlert | InvalidTransition):
                raise
            outcome.skipped.append(Skipped(alert.pk, str(refused)))
            continue
        outcome.changed.append(alert.pk)
    asked = {"assignee": assignee.email if assignee else ""}
    _audit(tenant, actor, "alert.bulk_assigned", asked, outcome)
    return outcome

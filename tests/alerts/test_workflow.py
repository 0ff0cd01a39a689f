"""The review workflow's table, every (from, to) pair: through the pure rules and through
transition_alert on a real alert (the service must agree with the table, and a refused move
changes nothing)."""

from __future__ import annotations

import itertools

import pytest

from alerts.models import Alert, AlertEvent, Status
from alerts.services import InvalidTransition, transition_alert
from alerts.workflow import MOVES, STATUSES, TransitionRefused, allowed_targets, check_move
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope

PAIRS = list(itertools.product(STATUSES, STATUSES))


def _complete(current: str, to: str) -> dict[str, str]:
    """What a careful officer would send for the move: a disposition when closing, a reason
    when closing or reopening."""
    return {
        "disposition": "false_positive" if to == "closed" and current != "closed" else "",
        "rationale": "Looked at the thread: a joke between colleagues.",
    }


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_the_table_allows_exactly_its_moves(current, to):
    if (current, to) in MOVES:
        check_move(current, to, **_complete(current, to))
    else:
        with pytest.raises(TransitionRefused):
            check_move(current, to, **_complete(current, to))


def test_the_workflow_is_the_one_the_issue_describes():
    assert allowed_targets("open") == ["in_review", "escalated", "closed"]
    assert allowed_targets("in_review") == ["open", "escalated", "closed"]
    assert allowed_targets("escalated") == ["closed"]
    assert allowed_targets("closed") == ["open"]


@pytest.mark.parametrize("current", ["open", "in_review", "escalated"])
def test_closing_needs_a_disposition_and_a_rationale(current):
    with pytest.raises(TransitionRefused, match="needs a disposition"):
        check_move(current, "closed", disposition="", rationale="why")
    with pytest.raises(TransitionRefused, match="needs a disposition"):
        check_move(current, "closed", disposition="maybe", rationale="why")
    with pytest.raises(TransitionRefused, match="needs a rationale"):
        check_move(current, "closed", disposition="false_positive", rationale="   ")


def test_reopening_needs_a_reason_and_no_disposition():
    with pytest.raises(TransitionRefused, match="needs a reason"):
        check_move("closed", "open", disposition="", rationale="")
    with pytest.raises(TransitionRefused, match="only when closing"):
        check_move("closed", "open", disposition="duplicate", rationale="new facts")


def test_an_unknown_status_is_refused():
    with pytest.raises(TransitionRefused, match="Choose one"):
        check_move("open", "deleted", disposition="", rationale="")


def _put(alert: Alert, status: str) -> Alert:
    """The alert as if it had reached ``status`` (a closed one with its decision)."""
    closed = status == Status.CLOSED
    with tenant_scope(alert.tenant_id):
        Alert.objects.filter(pk=alert.pk).update(
            status=status,
            disposition="false_positive" if closed else "",
            rationale="earlier decision" if closed else "",
        )
        return Alert.objects.get(pk=alert.pk)


@pytest.mark.parametrize(("current", "to"), PAIRS)
def test_the_service_follows_the_table(alert, oscar, current, to):
    alert = _put(alert, current)
    actor = Actor.for_user(oscar.user)
    with tenant_scope(alert.tenant_id):
        audit_before = AuditEvent.objects.count()
    if (current, to) in MOVES:
        moved = transition_alert(
            alert=alert, actor=actor, to=to, expected_version=alert.version,
            **_complete(current, to),
        )  # fmt: skip
        with tenant_scope(alert.tenant_id):
            stored = Alert.objects.get(pk=alert.pk)
            event = AlertEvent.objects.get(alert=alert)
            audit = AuditEvent.objects.filter(target_type="alert", target_id=str(alert.pk)).get()
        assert stored.status == moved.status == to
        assert stored.version == alert.version + 1
        assert (event.from_status, event.to_status, event.actor_label) == (
            current, to, oscar.email,
        )  # fmt: skip
        assert audit.action.startswith("alert.") and audit.details["to"] == to
        assert (stored.disposition != "") == (to == Status.CLOSED)
        assert (stored.claimed_by_id == oscar.user.pk) == (to == Status.IN_REVIEW)
        assert stored.level == (2 if to == Status.ESCALATED else 1)
    else:
        with pytest.raises(InvalidTransition):
            transition_alert(
                alert=alert, actor=actor, to=to, expected_version=alert.version,
                **_complete(current, to),
            )  # fmt: skip
        with tenant_scope(alert.tenant_id):
            stored = Alert.objects.get(pk=alert.pk)
            assert not AlertEvent.objects.filter(alert=alert).exists()
            assert AuditEvent.objects.count() == audit_before
        assert (stored.status, stored.version) == (current, alert.version)

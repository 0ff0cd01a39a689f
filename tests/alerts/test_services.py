"""The review verbs: claim and release, stale versions, assignment to the firm's reviewers
only, comments with mentions, and claims that expire back into the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, AlertComment, AlertEvent, Status
from alerts.services import (
    ClaimConflict,
    InvalidComment,
    NotAReviewer,
    StaleAlert,
    add_comment,
    assign_alert,
    claim_alert,
    close_group,
    expire_claims,
    release_alert,
    tenants_with_expired_claims,
    transition_alert,
)
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def _actions(alert: Alert) -> list[str]:
    with tenant_scope(alert.tenant_id):
        return list(
            AuditEvent.objects.filter(target_type="alert", target_id=str(alert.pk))
            .order_by("pk")
            .values_list("action", flat=True)
        )


def test_claiming_puts_an_open_alert_in_review_for_its_holder(alert, oscar):
    claimed = claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
    stored = _stored(alert)
    assert (stored.status, stored.claimed_by_id) == (Status.IN_REVIEW, oscar.user.pk)
    assert stored.claimed_at is not None and claimed.version == stored.version > alert.version
    assert _actions(alert) == ["alert.claimed"]


def test_a_held_alert_cannot_be_claimed_or_moved_by_another_officer(
    alert, oscar, person_factory, tenant_a
):
    olga = person_factory("olga@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    held = claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
    with pytest.raises(ClaimConflict, match=r"oscar@firm-a\.example is already working"):
        claim_alert(alert=alert, actor=Actor.for_user(olga.user))
    with pytest.raises(ClaimConflict, match="ask them to release"):
        transition_alert(
            alert=alert, actor=Actor.for_user(olga.user), to="escalated",
            expected_version=held.version,
        )  # fmt: skip
    with pytest.raises(ClaimConflict, match="Only the officer who holds"):
        release_alert(alert=alert, actor=Actor.for_user(olga.user))
    assert _stored(alert).claimed_by_id == oscar.user.pk
    assert _actions(alert) == ["alert.claimed"]


def test_releasing_returns_the_alert_to_the_queue(alert, oscar, alice):
    claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
    release_alert(alert=alert, actor=Actor.for_user(oscar.user))
    stored = _stored(alert)
    assert (stored.status, stored.claimed_by_id) == (Status.OPEN, None)
    # An admin may free an alert an absent officer holds.
    claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
    release_alert(alert=alert, actor=Actor.for_user(alice.user))
    assert _stored(alert).claimed_by_id is None
    with tenant_scope(alert.tenant_id):
        events = list(AlertEvent.objects.filter(alert=alert).values_list("action", "actor_label"))
    assert events == [
        ("claimed", oscar.email), ("released", oscar.email),
        ("claimed", oscar.email), ("released", alice.email),
    ]  # fmt: skip


def test_a_change_made_on_a_stale_page_is_refused_and_changes_nothing(alert, oscar):
    seen = alert.version
    transition_alert(
        alert=alert, actor=Actor.for_user(oscar.user), to="in_review", expected_version=seen
    )
    with pytest.raises(StaleAlert, match="Someone else changed this alert"):
        transition_alert(
            alert=alert, actor=Actor.for_user(oscar.user), to="closed",
            disposition="false_positive", rationale="noise", expected_version=seen,
        )  # fmt: skip
    stored = _stored(alert)
    assert (stored.status, stored.disposition, stored.version) == (Status.IN_REVIEW, "", seen + 1)


def test_closing_keeps_the_decision_and_reopening_keeps_it_in_the_history(alert, oscar):
    actor = Actor.for_user(oscar.user)
    closed = transition_alert(
        alert=alert, actor=actor, to="closed", disposition="false_positive",
        rationale="Quoting the <b>training</b> deck", expected_version=alert.version,
    )  # fmt: skip
    assert (closed.disposition, closed.rationale) == (
        "false_positive",
        "Quoting the <b>training</b> deck",
    )
    assert closed.closed_at is not None
    reopened = transition_alert(
        alert=alert, actor=actor, to="open", rationale="The client called back",
        expected_version=closed.version,
    )  # fmt: skip
    assert (reopened.status, reopened.disposition, reopened.closed_at) == (Status.OPEN, "", None)
    with tenant_scope(alert.tenant_id):
        last = AlertEvent.objects.filter(alert=alert).order_by("pk").last()
    assert last.details == {"rationale": "The client called back", "disposition": "false_positive"}
    assert _actions(alert) == ["alert.closed", "alert.reopened"]


def test_an_api_key_cannot_hold_an_alert(alert):
    with pytest.raises(ClaimConflict, match="signed-in person"):
        claim_alert(alert=alert, actor=Actor.command("cli:test"))


def test_alerts_are_assigned_only_to_the_firms_reviewers(alert, oscar, alice, audrey, bob):
    actor = Actor.for_user(alice.user)
    for outsider in (audrey, bob):  # an auditor; another firm's admin
        with pytest.raises(NotAReviewer, match="only to this firm's compliance officers"):
            assign_alert(alert=alert, actor=actor, assignee=outsider.user, expected_version=None)
    assert _stored(alert).assignee_id is None
    assigned = assign_alert(
        alert=alert, actor=actor, assignee=oscar.user, expected_version=alert.version
    )
    assert assigned.assignee_id == oscar.user.pk
    with tenant_scope(alert.tenant_id):
        event = AlertEvent.objects.get(alert=alert)
    assert event.details == {"assignee": oscar.email, "previous_assignee": ""}
    assert _actions(alert) == ["alert.assigned"]


def test_a_comment_keeps_its_text_and_its_mentions_of_members(alert, oscar, alice, bob):
    body = "<script>alert(1)</script> @alice@firm-a.example please look; @bob@firm-b.example too"
    comment = add_comment(alert=alert, actor=Actor.for_user(oscar.user), body=body)
    with tenant_scope(alert.tenant_id):
        stored = AlertComment.objects.get(pk=comment.pk)
    assert stored.body == body  # stored as typed; escaped where shown (tests/alerts/test_pages.py)
    assert stored.mentions == [alice.user.pk]  # bob is not a member of firm A
    assert _actions(alert) == ["alert.commented"]


@pytest.mark.parametrize("body", ["", "   ", "x" * 5001])
def test_an_empty_or_huge_comment_is_refused(alert, oscar, body):
    with pytest.raises(InvalidComment):
        add_comment(alert=alert, actor=Actor.for_user(oscar.user), body=body)
    with tenant_scope(alert.tenant_id):
        assert not AlertComment.objects.exists()


def test_claims_untouched_past_the_limit_return_to_the_queue(alerts, oscar, tenant_a, settings):
    first, second = alerts
    claim_alert(alert=first, actor=Actor.for_user(oscar.user))
    claim_alert(alert=second, actor=Actor.for_user(oscar.user))
    later = timezone.now() + settings.ALERTS_CLAIM_TIMEOUT + timedelta(minutes=1)
    # The officer is still working on the second one.
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=second.pk).update(updated_at=later - timedelta(minutes=2))
    assert tenants_with_expired_claims(later) == [tenant_a.pk]
    assert expire_claims(tenant=tenant_a, now=later) == 1
    assert (_stored(first).status, _stored(first).claimed_by_id) == (Status.OPEN, None)
    assert _stored(second).claimed_by_id == oscar.user.pk
    assert _actions(first) == ["alert.claimed", "alert.claim_expired"]
    assert expire_claims(tenant=tenant_a, now=later) == 0


def test_a_comment_leaves_the_version_alone_and_keeps_the_holders_claim_alive(alert, oscar, alice):
    held = claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
    add_comment(alert=alert, actor=Actor.for_user(alice.user), body="Any news?")
    assert (_stored(alert).version, _stored(alert).updated_at) == (held.version, held.updated_at)
    add_comment(alert=alert, actor=Actor.for_user(oscar.user), body="Still reading the thread")
    stored = _stored(alert)
    assert stored.version == held.version and stored.updated_at > held.updated_at


def test_a_group_is_closed_together_except_what_another_officer_holds(
    alerts, oscar, alice, tenant_a
):
    first, second = alerts
    assert first.group_key == second.group_key
    closed = transition_alert(
        alert=first, actor=Actor.for_user(alice.user), to="closed", disposition="duplicate",
        rationale="One review of the thread", expected_version=first.version,
    )  # fmt: skip
    claim_alert(alert=second, actor=Actor.for_user(oscar.user))
    assert (
        close_group(
            alert=closed,
            actor=Actor.for_user(alice.user),
            disposition="duplicate",
            rationale="One review of the thread",
        )
        == []
    )
    assert _stored(second).status == Status.IN_REVIEW  # oscar's to decide
    release_alert(alert=second, actor=Actor.for_user(oscar.user))
    [other] = close_group(
        alert=closed,
        actor=Actor.for_user(alice.user),
        disposition="duplicate",
        rationale="One review of the thread",
    )
    assert other.pk == second.pk
    stored = _stored(second)
    assert (stored.status, stored.disposition, stored.rationale) == (
        Status.CLOSED,
        "duplicate",
        "One review of the thread",
    )
    assert _actions(second)[-1] == "alert.closed"

"""Bulk review (alerts/bulk.py) and the queue's bulk bar: each chosen alert goes through the same
verb as one alert, the skipped ones say why, one audit entry records the bulk, and a selection
over the cap is a clear answer that changes nothing."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from alerts.bulk import BulkTooLarge, Chosen, bulk_assign, bulk_transition
from alerts.models import Alert, AlertEvent, Status
from alerts.services import InvalidTransition, NotAReviewer, claim_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def test_bulk_escalation_moves_each_alert_with_its_own_history(alerts, tenant_a, oscar):
    outcome = bulk_transition(
        tenant=tenant_a, actor=Actor.for_user(oscar.user),
        chosen=[Chosen(a.pk, a.version) for a in alerts], to=Status.ESCALATED,
    )  # fmt: skip
    assert outcome.changed == [a.pk for a in alerts] and outcome.skipped == []
    assert outcome.summary() == "2 alerts changed."
    with tenant_scope(tenant_a):
        assert AlertEvent.objects.filter(to_status="escalated").count() == 2
        assert AuditEvent.objects.filter(action="alert.escalated").count() == 2
        bulk = AuditEvent.objects.get(action="alert.bulk_transitioned")
    assert bulk.actor_id == oscar.user.pk and bulk.details["to"] == "escalated"


def test_an_illegal_move_for_one_alert_skips_only_that_one(alerts, tenant_a, oscar, alice):
    first, second = alerts
    bulk_transition(
        tenant=tenant_a, actor=Actor.for_user(oscar.user), chosen=[Chosen(first.pk)],
        to=Status.ESCALATED,
    )  # fmt: skip
    outcome = bulk_transition(
        tenant=tenant_a, actor=Actor.for_user(alice.user),
        chosen=[Chosen(first.pk), Chosen(second.pk)], to=Status.IN_REVIEW,
    )  # fmt: skip
    assert outcome.changed == [second.pk]
    assert [s.alert_id for s in outcome.skipped] == [first.pk]
    assert outcome.skipped[0].reason == "An alert that is escalated cannot be in review directly."
    assert _stored(first).status == Status.ESCALATED


def test_a_plain_officers_bulk_skips_the_second_level_alerts(alerts, tenant_a, oscar):
    first, second = alerts
    actor = Actor.for_user(oscar.user)
    bulk_transition(tenant=tenant_a, actor=actor, chosen=[Chosen(first.pk)], to=Status.ESCALATED)
    outcome = bulk_transition(
        tenant=tenant_a, actor=actor, chosen=[Chosen(first.pk), Chosen(second.pk)],
        to=Status.CLOSED, disposition="false_positive", rationale="noise",
    )  # fmt: skip
    assert outcome.changed == [second.pk]
    assert outcome.skipped[0].reason == "Only senior officers and admins work escalated alerts."
    assert _stored(first).status == Status.ESCALATED


def test_closing_without_a_rationale_is_refused_before_any_change(alerts, tenant_a, oscar):
    with pytest.raises(InvalidTransition, match="Closing an alert needs a rationale"):
        bulk_transition(
            tenant=tenant_a, actor=Actor.for_user(oscar.user),
            chosen=[Chosen(a.pk) for a in alerts], to=Status.CLOSED,
            disposition="false_positive", rationale=" ",
        )  # fmt: skip
    assert [_stored(a).version for a in alerts] == [a.version for a in alerts]
    with tenant_scope(tenant_a):
        assert not AuditEvent.objects.filter(action="alert.bulk_transitioned").exists()


@override_settings(ALERTS_BULK_MAX=1)
def test_a_selection_over_the_cap_is_refused(alerts, tenant_a, oscar):
    with pytest.raises(BulkTooLarge, match="At most 1 alerts can be changed at once; you chose 2"):
        bulk_transition(
            tenant=tenant_a, actor=Actor.for_user(oscar.user),
            chosen=[Chosen(a.pk) for a in alerts], to=Status.ESCALATED,
        )  # fmt: skip
    assert [_stored(a).status for a in alerts] == [Status.OPEN, Status.OPEN]


def test_bulk_assign_to_me_skips_what_is_already_mine(alerts, tenant_a, oscar, audrey):
    actor = Actor.for_user(oscar.user)
    first, second = alerts
    bulk_assign(tenant=tenant_a, actor=actor, chosen=[Chosen(first.pk)], assignee=oscar.user)
    outcome = bulk_assign(
        tenant=tenant_a, actor=actor, chosen=[Chosen(first.pk), Chosen(second.pk)],
        assignee=oscar.user,
    )  # fmt: skip
    assert outcome.changed == [second.pk]
    assert outcome.skipped[0].reason == "The alert is already assigned that way."
    with pytest.raises(NotAReviewer):
        bulk_assign(tenant=tenant_a, actor=actor, chosen=[Chosen(first.pk)], assignee=audrey.user)
    assert _stored(first).assignee_id == oscar.user.pk


# --- the queue's bar ---------------------------------------------------------------------------


def test_the_queue_closes_the_chosen_alerts_and_says_why_one_was_left(
    alerts, login_as, oscar, alice
):
    first, second = alerts
    claim_alert(alert=second, actor=Actor.for_user(alice.user))
    client = login_as(oscar)
    page = client.get(reverse("alerts:queue")).content.decode()
    assert f'value="{first.pk}:{first.version}"' in page and "data-select-all" in page
    answer = client.post(
        reverse("alerts:bulk"),
        {"alert": [f"{first.pk}:{first.version}", f"{second.pk}:{_stored(second).version}"],
         "action": "close", "disposition": "false_positive", "rationale": "Quotes.",
         "query": "severity=high"},
        follow=True,
    )  # fmt: skip
    assert answer.redirect_chain[-1][0] == reverse("alerts:queue") + "?severity=high"
    text = answer.content.decode()
    assert "1 alert changed; 1 left as they were" in text
    assert f"Alert {second.pk}: {alice.email} is working on this alert" in text
    assert _stored(first).status == Status.CLOSED and _stored(second).status == Status.IN_REVIEW


@override_settings(ALERTS_BULK_MAX=1)
def test_too_many_chosen_on_the_queue_is_a_message_not_an_error(alerts, login_as, oscar):
    answer = login_as(oscar).post(
        reverse("alerts:bulk"),
        {"alert": [f"{a.pk}:{a.version}" for a in alerts], "action": "escalate"},
        follow=True,
    )
    assert answer.status_code == 200
    assert "At most 1 alerts can be changed at once; you chose 2." in answer.content.decode()
    assert [_stored(a).status for a in alerts] == [Status.OPEN, Status.OPEN]


@pytest.mark.parametrize(
    "form",
    [
        {"alert": ["x'--"], "action": "escalate"},
        {"alert": ["1:²"], "action": "escalate"},
        {"alert": [], "action": "escalate"},
        {"alert": ["1:1"], "action": "delete"},
        {"alert": ["999999999:1"], "action": "escalate", "query": "a=1\r\nSet-Cookie: x=1"},
    ],
)
def test_a_bad_bulk_form_is_a_message_and_changes_nothing(alerts, login_as, oscar, form):
    answer = login_as(oscar).post(reverse("alerts:bulk"), form, follow=True)
    assert answer.status_code == 200
    assert 'class="messages"' in answer.content.decode()
    assert [_stored(a).version for a in alerts] == [a.version for a in alerts]


def test_auditors_cannot_use_the_bar_and_another_firms_alerts_are_unknown(
    alerts, login_as, audrey, bob
):
    form = {"alert": [f"{alerts[0].pk}:{alerts[0].version}"], "action": "escalate"}
    assert login_as(audrey).post(reverse("alerts:bulk"), form).status_code == 403
    assert "data-select-all" not in login_as(audrey).get(reverse("alerts:queue")).content.decode()
    answer = login_as(bob).post(reverse("alerts:bulk"), form, follow=True)
    assert f"Alert {alerts[0].pk}: No such alert in your firm." in answer.content.decode()
    assert _stored(alerts[0]).status == Status.OPEN

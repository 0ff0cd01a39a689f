"""Policy hits become alerts: one per hit through the scan's signal, never two, and the sweeper
raises what the signal missed; closed alerts feed the backtests' decisions."""

from __future__ import annotations

from datetime import timedelta

from alerts.models import Alert, Disposition, Status
from alerts.raising import raise_alerts, raise_missing_alerts, risk_of
from compliance_hub.tenancy.context import tenant_scope
from policies.decisions import decided
from policies.models import PolicyHit


def test_each_hit_raises_one_alert_with_what_the_queue_needs(alerts, settings):
    assert len(alerts) == 2
    first = alerts[0]
    with tenant_scope(first.tenant_id):
        hit = PolicyHit.objects.get(pk=first.hit_id)
    assert first.status == Status.OPEN and first.level == 1
    assert (first.severity, first.score, first.categories) == ("high", hit.score, ["promise"])
    assert first.risk == risk_of("high", hit.score) == 3.0 * hit.score
    assert first.policy_version_id == hit.policy_version_id
    assert first.due_at - first.created_at < timedelta(hours=24, seconds=1)
    assert first.due_at - first.created_at > timedelta(hours=23, minutes=59)
    # Same conversation, messages two minutes apart: one group.
    assert first.group_key == alerts[1].group_key


def test_raising_again_adds_nothing(alerts, tenant_a):
    with tenant_scope(tenant_a):
        hits = list(PolicyHit.objects.values_list("message_id", "policy_version_id"))
    raise_alerts(
        tenant=tenant_a,
        message_ids=[m for m, _ in hits],
        version_ids=[v for _, v in hits],
    )
    assert raise_missing_alerts(tenant=tenant_a) == 0
    with tenant_scope(tenant_a):
        assert Alert.objects.count() == 2


def test_the_sweeper_raises_alerts_the_signal_missed(
    alerts, tenant_a, django_capture_on_commit_callbacks
):
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=alerts[1].pk).delete()  # as if the receiver had failed
        assert Alert.objects.count() == 1
    assert raise_missing_alerts(tenant=tenant_a) == 1
    with tenant_scope(tenant_a):
        assert Alert.objects.count() == 2


def test_closed_alerts_are_decisions_for_backtests(alerts, tenant_a):
    first, second = alerts
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=first.pk).update(
            status=Status.CLOSED, disposition=Disposition.FALSE_POSITIVE, rationale="noise"
        )
        Alert.objects.filter(pk=second.pk).update(
            status=Status.CLOSED, disposition=Disposition.TRUE_POSITIVE_ACTION, rationale="yes"
        )
    assert decided(tenant_a, [first.message_id, second.message_id, 999999]) == {
        first.message_id: False,
        second.message_id: True,
    }

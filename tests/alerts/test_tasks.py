"""Alerts through a real Celery worker: a signed webhook becomes an alert in the queue (the
receiver rides the drain that archived and scanned the message), and the beat's sweepers reach
each tenant: hits without an alert get one, untouched claims return to the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, Status
from alerts.notify.models import Kind, Notification
from alerts.notify.services import save_preferences
from alerts.services import claim_alert
from alerts.tasks import expire_claims_task, sweep_missing_alerts_task
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from policies.services import create_policy, set_active
from tests.alerts.helpers import DOCUMENT
from tests.polling import wait_until
from tests.webhook_firms import connected_firm, employee_on, post_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_signed_webhook_becomes_an_alert_through_a_real_worker(client, worker):
    secret = "alerts-e2e-app-secret-42"
    firm = connected_firm("firm-alerts", secret)
    employee_on(firm, phone_number_id="555000555", phone_number="+55 11 98765-0202", name="Alerted")
    with tenant_scope(firm):
        policy, _ = create_policy(tenant=firm, actor=Actor.system(), document=dict(DOCUMENT))
        set_active(policy=policy, actor=Actor.system(), active=True)
    response = post_text(
        client, firm, secret, phone_number_id="555000555", wamid="wamid.ALERT.1",
        text="I guarantee you will double it",
    )  # fmt: skip
    assert response.status_code == 200

    def alert():
        with tenant_scope(firm):
            return Alert.objects.select_related("message").first()

    found = wait_until(alert, failure="the worker did not raise the alert in time")
    assert (found.message.wamid, found.status, found.severity) == ("wamid.ALERT.1", "open", "high")
    assert found.categories == ["promise"]


def test_the_beat_sweeps_reach_each_tenant_through_the_worker(worker, alerts, oscar, tenant_a):
    first, second = alerts
    # Oscar wants to hear of new high alerts: the sweeper's alert tells him like the scan's would.
    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user),
                     kinds=[Kind.HIGH_SEVERITY], daily_digest=False)  # fmt: skip
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=second.pk).delete()  # as if the receiver had failed
    claim_alert(alert=first, actor=Actor.for_user(oscar.user))
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=first.pk).update(updated_at=timezone.now() - timedelta(days=1))
    assert sweep_missing_alerts_task() >= 1  # other modules' firms may still be in this database
    assert expire_claims_task() >= 1

    def swept():
        with tenant_scope(tenant_a):
            raised = Alert.objects.count() == 2
            released = Alert.objects.filter(pk=first.pk, claimed_by__isnull=True).exists()
            return raised and released

    wait_until(swept, failure="the sweeps did not reach the firm")
    with tenant_scope(tenant_a):
        assert Alert.objects.get(pk=first.pk).status == Status.OPEN
        raised = Alert.objects.exclude(pk=first.pk).get()
    assert raised.severity == "high"

    def announced():
        with tenant_scope(tenant_a):
            return Notification.objects.filter(
                alert=raised, user=oscar.user, kind=Kind.HIGH_SEVERITY, sent_at__isnull=False
            ).exists()

    wait_until(announced, failure="the sweeper's new alert was not announced")

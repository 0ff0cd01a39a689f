"""Notifications of alert review: each event emails the right people and nobody else (not the
person who acted, not another firm, not someone who opted out), once; the daily digest; the
preference page; watching. Emails name the alert and the employee and link to the alert, never
the message. Mail goes through Django's locmem backend; tasks run in this process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from alerts.masking import employee_pseudonym, unmask_alert
from alerts.models import Alert, AlertEvent
from alerts.notify.hooks import event_saved
from alerts.notify.models import Kind, Notification, NotificationPreference
from alerts.notify.selectors import SUPERVISOR_ROLES, supervisors
from alerts.notify.services import save_preferences, set_watching
from alerts.notify.tasks import (
    notify_event_task,
    notify_overdue_of_tenant_task,
    notify_raised_task,
    send_digests_of_tenant_task,
)
from alerts.review_settings import update_review_settings
from alerts.services import add_comment, assign_alert, claim_alert, transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from tests.alerts.helpers import TEXTS, raise_alerts_for


@pytest.fixture(autouse=True)
def _mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://hub.firm-a.example"


def _deliver(tenant) -> None:
    """What the worker does after each change: the notification task of every new event."""
    with tenant_scope(tenant):
        ids = list(AlertEvent.objects.order_by("pk").values_list("pk", flat=True))
    for event_id in ids:
        notify_event_task.apply(kwargs={"tenant_id": tenant.pk, "event_id": event_id})


def _to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def _assert_leaks_nothing(message: mail.EmailMessage) -> None:
    for text in TEXTS:
        assert text.split(",")[0] not in message.body
    assert "5511999" not in message.body  # the client's number


def test_supervisors_are_the_senior_officers_and_admins(
    tenant_a, alice, oscar, audrey, bob, person_factory
):
    assert SUPERVISOR_ROLES == (Role.SENIOR_OFFICER, Role.ADMIN)
    senior = person_factory("sam@firm-a.example", tenant=tenant_a, role=Role.SENIOR_OFFICER)
    assert sorted(u.email for u in supervisors(tenant_a)) == sorted([alice.email, senior.email])


def test_assignment_emails_the_new_assignee_only(alerts, tenant_a, alice, oscar, audrey, bob):
    alert = alerts[0]
    assign_alert(alert=alert, actor=Actor.for_user(alice.user), assignee=oscar.user,
                 expected_version=None)  # fmt: skip
    _deliver(tenant_a)
    assert [m.to for m in mail.outbox] == [[oscar.email]]
    sent = mail.outbox[0]
    assert f"Alert {alert.pk} on a message from" in sent.subject
    assert f"https://hub.firm-a.example/alerts/{alert.pk}/" in sent.body
    assert "Alice assigned you" in sent.body
    _assert_leaks_nothing(sent)
    _deliver(tenant_a)  # the task retried: nobody is told twice
    assert len(mail.outbox) == 1


def test_assigning_oneself_emails_nobody(alerts, tenant_a, oscar):
    assign_alert(alert=alerts[0], actor=Actor.for_user(oscar.user), assignee=oscar.user,
                 expected_version=None)  # fmt: skip
    _deliver(tenant_a)
    assert mail.outbox == []


def test_escalation_emails_the_supervisors_and_watchers_not_the_actor(
    alerts, tenant_a, alice, oscar, audrey, person_factory, bob
):
    alert = alerts[0]
    watcher = person_factory("wendy@firm-a.example", tenant=tenant_a, role=Role.OFFICER)
    set_watching(alert=alert, actor=Actor.for_user(watcher.user), watching=True)
    set_watching(alert=alert, actor=Actor.for_user(oscar.user), watching=True)
    transition_alert(alert=alert, actor=Actor.for_user(oscar.user), to="escalated",
                     expected_version=None)  # fmt: skip
    _deliver(tenant_a)
    assert sorted(a for m in mail.outbox for a in m.to) == [alice.email, watcher.email]
    sent = _to(alice.email)[0]
    assert "was escalated" in sent.subject and "Oscar escalated" in sent.body
    _assert_leaks_nothing(sent)


def test_a_mention_emails_the_member_named(alerts, tenant_a, alice, oscar, audrey, bob):
    add_comment(alert=alerts[0], actor=Actor.for_user(oscar.user),
                body=f"@{audrey.email} @{bob.email} @{oscar.email} look: guarantee")  # fmt: skip
    _deliver(tenant_a)
    assert [m.to for m in mail.outbox] == [[audrey.email]]  # not another firm, not oneself
    assert "Oscar mentioned you" in mail.outbox[0].subject
    assert "guarantee" not in mail.outbox[0].body  # the comment's text stays on the page


def test_only_changes_that_tell_someone_reach_the_task(
    alerts, tenant_a, oscar, alice, django_capture_on_commit_callbacks
):
    alert = alerts[0]
    with django_capture_on_commit_callbacks() as queued:
        claim_alert(alert=alert, actor=Actor.for_user(oscar.user))
        add_comment(alert=alert, actor=Actor.for_user(oscar.user), body="no one named")
    assert queued == []
    with django_capture_on_commit_callbacks() as queued:
        transition_alert(alert=alert, actor=Actor.for_user(oscar.user), to="escalated",
                         expected_version=None)  # fmt: skip
    assert len(queued) == 1
    assert event_saved is not None


def test_new_high_severity_alerts_email_reviewers_who_opted_in(
    tenant_a, alice, oscar, audrey, bob, django_capture_on_commit_callbacks
):
    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user),
                     kinds=[Kind.HIGH_SEVERITY], daily_digest=False)  # fmt: skip
    save_preferences(tenant=tenant_a, actor=Actor.for_user(audrey.user),
                     kinds=[Kind.HIGH_SEVERITY], daily_digest=False)  # fmt: skip
    alerts = raise_alerts_for(tenant_a, capture=django_capture_on_commit_callbacks)
    notify_raised_task.apply(kwargs={"tenant_id": tenant_a.pk, "alert_ids": [a.pk for a in alerts]})
    # Oscar opted in; Alice kept the defaults; Audrey opted in but reviews nothing (auditor).
    assert sorted(a for m in mail.outbox for a in m.to) == [oscar.email, oscar.email]
    with tenant_scope(tenant_a):
        employee = alerts[0].employee.full_name
    assert mail.outbox[0].subject == f"New high alert on a message from {employee}"
    assert f"a high-severity alert was raised in {tenant_a.name} on a message from" in (
        mail.outbox[0].body.replace("A new", "a")
    )
    _assert_leaks_nothing(mail.outbox[0])
    notify_raised_task.apply(kwargs={"tenant_id": tenant_a.pk, "alert_ids": [alerts[0].pk]})
    assert len(mail.outbox) == 2


def test_opting_out_stops_an_email(alerts, tenant_a, alice, oscar):
    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user), kinds=[],
                     daily_digest=False)  # fmt: skip
    assign_alert(alert=alerts[0], actor=Actor.for_user(alice.user), assignee=oscar.user,
                 expected_version=None)  # fmt: skip
    _deliver(tenant_a)
    assert mail.outbox == []


def test_overdue_tells_the_responsible_once(alerts, tenant_a, alice, oscar, audrey):
    late, on_time = alerts
    assign_alert(alert=late, actor=Actor.for_user(oscar.user), assignee=oscar.user,
                 expected_version=None)  # fmt: skip
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert notify_overdue_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk}).get() == 1
    # Oscar assigned it to himself (no email for that) and is told it is overdue.
    assert [m.to for m in mail.outbox] == [[oscar.email]]
    assert "is overdue" in mail.outbox[0].subject
    assert notify_overdue_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk}).get() == 0
    assert len(mail.outbox) == 1
    with tenant_scope(tenant_a):
        history = list(AlertEvent.objects.filter(alert=late, action="overdue"))
        assert len(history) == 1
        assert not AlertEvent.objects.filter(alert=on_time, action="overdue").exists()


def test_an_overdue_alert_nobody_holds_goes_to_the_supervisors(alerts, tenant_a, alice, oscar):
    with tenant_scope(tenant_a):
        Alert.objects.filter(pk=alerts[0].pk).update(due_at=timezone.now() - timedelta(hours=1))
    notify_overdue_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk})
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_the_daily_digest_lists_what_waited_in_one_email(alerts, tenant_a, alice, oscar):
    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user),
                     kinds=[Kind.ASSIGNED, Kind.MENTIONED], daily_digest=True)  # fmt: skip
    first, second = alerts
    assign_alert(alert=first, actor=Actor.for_user(alice.user), assignee=oscar.user,
                 expected_version=None)  # fmt: skip
    add_comment(alert=second, actor=Actor.for_user(alice.user), body=f"@{oscar.email} see")
    _deliver(tenant_a)
    assert mail.outbox == []  # waiting for the digest
    assert send_digests_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk}).get() == 2
    assert len(mail.outbox) == 1
    digest = mail.outbox[0]
    assert digest.to == [oscar.email] and "2 updates" in digest.subject
    assert f"/alerts/{first.pk}/" in digest.body and f"/alerts/{second.pk}/" in digest.body
    assert "An alert is assigned to me" in digest.body
    _assert_leaks_nothing(digest)
    assert send_digests_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk}).get() == 0
    with tenant_scope(tenant_a):
        assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_another_firms_events_never_reach_this_firm(
    alerts, tenant_a, tenant_b, alice, bob, django_capture_on_commit_callbacks
):
    theirs = raise_alerts_for(tenant_b, capture=django_capture_on_commit_callbacks)
    transition_alert(alert=theirs[0], actor=Actor.for_user(bob.user), to="escalated",
                     expected_version=None)  # fmt: skip
    _deliver(tenant_b)
    _deliver(tenant_a)
    assert mail.outbox == []  # Bob is firm B's only admin, and he acted


def test_the_preference_page_saves_per_firm_choices(login_as, tenant_a, oscar):
    client = login_as(oscar)
    page = client.get(reverse("alerts:notifications"))
    assert page.status_code == 200
    assert "A new high-severity alert is raised" in page.content.decode()
    response = client.post(
        reverse("alerts:notifications"), {"kinds": ["high_severity", "overdue"],
                                          "delivery": "digest"},
    )  # fmt: skip
    assert response.status_code == 302
    with tenant_scope(tenant_a):
        pref = NotificationPreference.objects.get(user=oscar.user)
        assert AuditEvent.objects.filter(action="alert.notifications_chosen").exists()
    assert (sorted(pref.kinds), pref.daily_digest) == (["high_severity", "overdue"], True)
    bad = client.post(reverse("alerts:notifications"), {"kinds": ["<script>"], "delivery": "x"})
    assert bad.status_code == 400
    with tenant_scope(tenant_a):
        assert NotificationPreference.objects.get(user=oscar.user).kinds == pref.kinds


def test_watching_from_the_alert_page(login_as, alerts, tenant_a, oscar, audrey, bob):
    alert = alerts[0]
    url = reverse("alerts:watch", args=[alert.pk])
    client = login_as(oscar)
    assert (
        "Watch this alert" in client.get(reverse("alerts:alert", args=[alert.pk])).content.decode()
    )
    assert client.post(url, {"watch": "1"}).status_code == 302
    assert "Stop watching" in client.get(reverse("alerts:alert", args=[alert.pk])).content.decode()
    assert client.post(url, {"watch": "0"}).status_code == 302
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="alert.watched").count() == 1
        assert AuditEvent.objects.filter(action="alert.unwatched").count() == 1
    assert login_as(audrey).post(url, {"watch": "1"}).status_code == 403
    assert login_as(bob).post(url, {"watch": "1"}).status_code == 404


def test_a_pseudonymising_firm_emails_its_reviewers_the_pseudonym(
    tenant_a, alice, oscar, django_capture_on_commit_callbacks
):
    """Emails named the employee to reviewers who see only a pseudonym on every page."""
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user),
                     kinds=[Kind.HIGH_SEVERITY, Kind.ASSIGNED], daily_digest=False)  # fmt: skip
    first, second = raise_alerts_for(tenant_a, capture=django_capture_on_commit_callbacks)
    with tenant_scope(tenant_a):
        name = first.employee.full_name
    pseudonym = employee_pseudonym(tenant_a.pk, first.employee_id)
    notify_raised_task.apply(kwargs={"tenant_id": tenant_a.pk, "alert_ids": [first.pk]})
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == f"New high alert on a message from {pseudonym}"
    assert name not in mail.outbox[0].body and pseudonym in mail.outbox[0].body

    save_preferences(tenant=tenant_a, actor=Actor.for_user(oscar.user),
                     kinds=[Kind.ASSIGNED], daily_digest=True)  # fmt: skip
    for alert in (first, second):
        assign_alert(alert=alert, actor=Actor.for_user(alice.user), assignee=oscar.user,
                     expected_version=None)  # fmt: skip
    _deliver(tenant_a)
    unmask_alert(alert=second, actor=Actor.for_user(oscar.user), reason="Checking the record")
    assert send_digests_of_tenant_task.apply(kwargs={"tenant_id": tenant_a.pk}).get() == 2
    digest = mail.outbox[-1].body
    # The alert Oscar unmasked names the employee; the other keeps the pseudonym.
    assert f"alert {first.pk}, high-severity, on a message from {pseudonym}" in digest
    assert f"alert {second.pk}, high-severity, on a message from {name}" in digest

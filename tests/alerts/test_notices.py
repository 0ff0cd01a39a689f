"""Telling the employee: from a closed alert an officer sends the firm's notice (the admins'
wording, or the built-in one in English, Portuguese or Spanish) to the employee's email on
record; it is on the alert's history and in the audit trail. Templates are plain text with
named placeholders, never executed as templates; bad input is answered and changes nothing."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from alerts.models import Alert, AlertEvent
from alerts.notify.models import NoticeTemplate
from alerts.notify.notices import DEFAULTS, fill, template_problems, unknown_placeholders
from alerts.notify.services import NoticeRefused, send_employee_notice
from alerts.notify.tasks import send_notice_task
from alerts.services import transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee


@pytest.fixture(autouse=True)
def _mailbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def closed(alert, oscar) -> Alert:
    return transition_alert(
        alert=alert, actor=Actor.for_user(oscar.user), to="closed",
        disposition="true_positive_action", rationale="A promise of returns.",
        expected_version=None,
    )  # fmt: skip


def _notice_events(tenant):
    with tenant_scope(tenant):
        return list(AlertEvent.objects.filter(action="notice_sent"))


def _run_sent_notices(tenant) -> None:
    for event in _notice_events(tenant):
        send_notice_task.apply(kwargs={"tenant_id": tenant.pk, "event_id": event.pk})


def test_the_defaults_cover_both_notices_in_three_languages():
    for kind in ("policy_reminder", "warning"):
        for language in ("en", "pt-br", "es"):
            text = DEFAULTS[(kind, language)]
            assert template_problems(text.subject, text.body) == []


def test_placeholders_are_filled_and_nothing_else_runs():
    text = "Hi {employee} {{ settings.SECRET_KEY }} {% load x %} {unknown} {employee.__class__}"
    assert fill(text, {"employee": "Ana"}) == (
        "Hi Ana {{ settings.SECRET_KEY }} {% load x %} {unknown} {employee.__class__}"
    )
    assert unknown_placeholders("{firm} {boss}") == ["boss"]


def test_an_officer_sends_a_warning_from_a_closed_alert(
    client, login_as, closed, tenant_a, oscar, django_capture_on_commit_callbacks
):
    page = login_as(oscar).get(reverse("alerts:alert", args=[closed.pk])).content.decode()
    assert "Tell the employee" in page and "Send the notice" in page
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(
            reverse("alerts:notice", args=[closed.pk]), {"kind": "warning", "language": "pt-br"}
        )
    assert response.status_code == 302 and len(queued) == 1
    _run_sent_notices(tenant_a)
    with tenant_scope(tenant_a):
        employee = Employee.objects.get(pk=closed.employee_id)
        audit = AuditEvent.objects.get(action="alert.notice_sent")
    assert [m.to for m in mail.outbox] == [[employee.email]]
    sent = mail.outbox[0]
    assert sent.subject == "Uma advertência formal sobre uma mensagem de WhatsApp"
    assert f"Olá, {employee.full_name}" in sent.body and tenant_a.name in sent.body
    assert "Promises of returns" in sent.body and "{" not in sent.body
    assert audit.details == {"notice": "warning", "language": "pt-br", "to": employee.email}
    (event,) = _notice_events(tenant_a)
    assert event.details["body"] == sent.body and event.actor_id == oscar.user.pk
    history = client.get(reverse("alerts:alert", args=[closed.pk])).content.decode()
    assert "Notice sent to the employee" in history


def test_the_firms_own_wording_is_used_and_escaped_on_the_page(
    login_as, closed, tenant_a, alice, oscar, django_capture_on_commit_callbacks
):
    admin = login_as(alice)
    url = reverse("alerts:notice_template_save", args=["policy_reminder", "en"])
    wording = {
        "policy_reminder-en-subject": "Reminder <b>{firm}</b>",
        "policy_reminder-en-body": "Dear {employee}, <script>x</script>",
    }
    response = admin.post(url, wording)
    assert response.status_code == 302
    page = admin.get(reverse("alerts:notice_templates")).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x" not in page
    with django_capture_on_commit_callbacks():
        send_employee_notice(alert=closed, actor=Actor.for_user(oscar.user),
                             kind="policy_reminder", language="en")  # fmt: skip
    _run_sent_notices(tenant_a)
    assert mail.outbox[0].subject == f"Reminder <b>{tenant_a.name}</b>"
    assert mail.outbox[0].body.startswith("Dear ") and "<script>x</script>" in mail.outbox[0].body


def test_a_template_with_an_unknown_placeholder_is_refused(login_as, tenant_a, alice, oscar):
    admin = login_as(alice)
    url = reverse("alerts:notice_template_save", args=["warning", "es"])
    response = admin.post(url, {"warning-es-subject": "Hola", "warning-es-body": "{jefe} dice"})
    assert response.status_code == 400
    assert "Unknown placeholder {jefe}" in response.content.decode()
    with tenant_scope(tenant_a):
        assert not NoticeTemplate.objects.exists()
    assert login_as(oscar).post(url, {"warning-es-subject": "x"}).status_code == 403


def test_no_notice_before_the_alert_is_closed(alert, oscar, tenant_a):
    with pytest.raises(NoticeRefused, match="Close the alert"):
        send_employee_notice(alert=alert, actor=Actor.for_user(oscar.user), kind="warning",
                             language="en")  # fmt: skip
    assert _notice_events(tenant_a) == []


def test_no_email_on_record_is_a_clear_message(client, login_as, closed, tenant_a, oscar):
    with tenant_scope(tenant_a):
        Employee.objects.filter(pk=closed.employee_id).update(email="")
    client = login_as(oscar)
    assert (
        "no email address on record"
        in client.get(reverse("alerts:alert", args=[closed.pk])).content.decode()
    )
    response = client.post(
        reverse("alerts:notice", args=[closed.pk]), {"kind": "warning", "language": "en"},
        follow=True,
    )  # fmt: skip
    assert "has no email address on record" in response.content.decode()
    assert _notice_events(tenant_a) == [] and mail.outbox == []


def test_auditors_and_other_firms_cannot_send(login_as, closed, tenant_a, audrey, bob):
    url = reverse("alerts:notice", args=[closed.pk])
    assert login_as(audrey).post(url, {"kind": "warning", "language": "en"}).status_code == 403
    assert login_as(bob).post(url, {"kind": "warning", "language": "en"}).status_code == 404
    assert _notice_events(tenant_a) == []

"""The queue and the alert page, as officers, admins, auditors and an outsider use them: what
each role sees and may do, the highlighted message, and bad input answered clearly with nothing
changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts import views
from alerts.models import Alert, AlertComment, Status
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope


def _stored(alert: Alert) -> Alert:
    with tenant_scope(alert.tenant_id):
        return Alert.objects.get(pk=alert.pk)


def _url(alert: Alert, name: str = "alert") -> str:
    return reverse(f"alerts:{name}", args=[alert.pk])


def test_the_queue_lists_the_firms_alerts_riskiest_first(
    alerts, login_as, oscar, django_assert_max_num_queries
):
    client = login_as(oscar)
    with tenant_scope(alerts[0].tenant_id):
        Alert.objects.filter(pk=alerts[1].pk).update(risk=9.5)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("alerts:queue"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index(f"Alert {alerts[1].pk}<") < page.index(f"Alert {alerts[0].pk}<")
    assert "Promises of returns" in page and 'href="/alerts/"' in page  # the nav link


def test_the_queue_filters_and_marks_overdue_alerts(alerts, login_as, oscar):
    client = login_as(oscar)
    first, second = alerts
    with tenant_scope(first.tenant_id):
        Alert.objects.filter(pk=first.pk).update(due_at=timezone.now() - timedelta(hours=1))
    page = client.get(reverse("alerts:queue"), {"overdue": "on"}).content.decode()
    assert f"Alert {first.pk}<" in page and f"Alert {second.pk}<" not in page
    assert "Overdue</span>" in page and 'class="overdue"' in page
    page = client.get(reverse("alerts:queue"), {"severity": "low"}).content.decode()
    assert "No alerts match these filters" in page
    page = client.get(
        reverse("alerts:queue"), {"category": "promise", "status": "all"}
    ).content.decode()
    assert f"Alert {first.pk}<" in page and f"Alert {second.pk}<" in page


def test_the_queue_names_categories_in_the_officers_words(alerts, login_as, oscar):
    """Built-in categories by name ("Inside information", not "mnpi"); a firm's own term-rule
    category as the firm wrote it; the filter offers the built-in ones by name."""
    first, _ = alerts
    with tenant_scope(first.tenant_id):
        Alert.objects.filter(pk=first.pk).update(categories=["mnpi", "off_channel", "promise"])
    page = login_as(oscar).get(reverse("alerts:queue"), {"status": "all"}).content.decode()
    assert "Inside information, Moving the conversation off WhatsApp, promise" in page
    assert "mnpi" not in page.split('<datalist id="alert-categories">')[0]
    assert '<option value="mnpi" label="Inside information">' in page
    page = login_as(oscar).get(reverse("alerts:queue"), {"category": "mnpi"}).content.decode()
    assert f"Alert {first.pk}<" in page


def test_bad_filters_get_an_answer_not_an_error(alerts, login_as, oscar):
    response = login_as(oscar).get(
        reverse("alerts:queue"), {"policy": "abc", "age": "forever", "after": "x'--"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("odd", ["²", "١٢", "\uff11", "9" * 30])
def test_ids_in_the_queue_are_read_as_ascii_digits_only(alerts, login_as, oscar, odd):
    # "²".isdigit() is true and int() refuses it: the cursor and the assignee were 500s.
    response = login_as(oscar).get(reverse("alerts:queue"), {"after": odd, "assignee": odd})
    assert response.status_code == 200


def test_the_queue_pages_by_keyset(alerts, login_as, oscar, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    client = login_as(oscar)
    ordered = sorted(alerts, key=lambda a: (-a.risk, -a.pk))
    first_page = client.get(reverse("alerts:queue")).content.decode()
    assert f"Alert {ordered[0].pk}<" in first_page and f"after={ordered[0].pk}" in first_page
    second_page = client.get(reverse("alerts:queue"), {"after": ordered[0].pk}).content.decode()
    assert f"Alert {ordered[1].pk}<" in second_page and f"Alert {ordered[0].pk}<" not in second_page
    assert "Next page" not in second_page


def test_the_alert_page_highlights_the_match_and_escapes_the_message(alert, login_as, audrey):
    response = login_as(audrey).get(_url(alert))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<mark class="hit" title="promise">guarantee</mark>' in page
    assert "&lt;b&gt;trust me&lt;/b&gt;" in page and "<b>trust me</b>" not in page
    assert 'Consent: <span class="badge">Covered</span>' in page
    assert reverse("archive:conversation", args=[alert.conversation_id]) in page
    assert "Guaranteed profit" in page  # the next message of the conversation
    # An auditor reads, without the review's forms; the read is in the audit trail.
    assert "Claim for review" not in page and "officers and admins review them" in page
    with tenant_scope(alert.tenant_id):
        read = AuditEvent.objects.filter(action="archive.read").latest("pk")
    assert read.actor_label == audrey.email and alert.message_id in read.details["message_ids"]


def test_an_auditor_cannot_act_on_an_alert(alert, login_as, audrey):
    client = login_as(audrey)
    for name in ("claim", "release", "transition", "assign", "comment"):
        response = client.post(
            _url(alert, name), {"to": "in_review", "version": alert.version, "body": "x"}
        )
        assert response.status_code == 403, name
    assert _stored(alert).version == alert.version


@pytest.mark.parametrize("name", ["alert", "claim", "transition", "comment"])
def test_another_firms_alert_is_not_found(alert, login_as, bob, name):
    client = login_as(bob)
    response = (
        client.get(_url(alert)) if name == "alert"
        else client.post(_url(alert, name), {"to": "in_review", "version": 1, "body": "x"})
    )  # fmt: skip
    assert response.status_code == 404
    assert _stored(alert).version == alert.version


def test_an_officer_claims_and_closes_as_false_positive(alert, login_as, oscar):
    client = login_as(oscar)
    response = client.post(_url(alert, "claim"), follow=True)
    assert "You are reviewing this alert" in response.content.decode()
    claimed = _stored(alert)
    response = client.post(
        _url(alert, "transition"),
        {
            "to": "closed",
            "disposition": "false_positive",
            "rationale": "Quoting a news article",
            "version": claimed.version,
        },
        follow=True,
    )
    page = response.content.decode()
    assert "The alert is now closed" in page and "False positive" in page
    closed = _stored(alert)
    assert (closed.status, closed.disposition, closed.claimed_by_id) == (
        Status.CLOSED,
        "false_positive",
        None,
    )


def test_closing_without_a_rationale_is_refused_and_changes_nothing(alert, login_as, oscar):
    response = login_as(oscar).post(
        _url(alert, "transition"),
        {
            "to": "closed",
            "disposition": "false_positive",
            "rationale": " ",
            "version": alert.version,
        },
    )
    assert response.status_code == 400
    assert "Closing an alert needs a rationale." in response.content.decode()
    assert (_stored(alert).status, _stored(alert).version) == (Status.OPEN, alert.version)


def test_a_stale_page_gets_a_conflict_and_no_lost_update(alert, login_as, oscar, alice):
    # Alice changes the alert after Oscar opened it (an escalation would take it out of a plain
    # officer's sight altogether: tests/alerts/test_senior_review.py).
    login_as(alice).post(
        _url(alert, "assign"), {"assignee": alice.user.pk, "version": alert.version}
    )
    response = login_as(oscar).post(
        _url(alert, "transition"),
        {
            "to": "closed",
            "disposition": "duplicate",
            "rationale": "seen it",
            "version": alert.version,
        },
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this alert" in page and "seen it" in page  # their text is kept
    stored = _stored(alert)
    assert (stored.status, stored.assignee_id) == (Status.OPEN, alice.user.pk)


def test_assigning_to_another_firms_user_is_refused(alert, login_as, alice, bob, oscar):
    client = login_as(alice)
    response = client.post(
        _url(alert, "assign"), {"assignee": bob.user.pk, "version": alert.version}
    )
    assert response.status_code == 400
    assert "only to this firm&#x27;s compliance officers" in response.content.decode()
    assert _stored(alert).assignee_id is None
    response = client.post(
        _url(alert, "assign"), {"assignee": oscar.user.pk, "version": alert.version}, follow=True
    )
    assert f"Assigned to {oscar.email}" in response.content.decode()
    assert _stored(alert).assignee_id == oscar.user.pk


def test_a_comment_with_a_script_is_shown_as_text(alert, login_as, oscar):
    client = login_as(oscar)
    response = client.post(
        _url(alert, "comment"),
        {"body": "<script>alert('x')</script> @alice@firm-a.example"},
        follow=True,
    )
    page = response.content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<script>alert(" not in page
    response = client.post(_url(alert, "comment"), {"body": "   "})
    assert response.status_code == 400
    with tenant_scope(alert.tenant_id):
        assert AlertComment.objects.count() == 1


def test_closing_with_the_group_closes_its_other_open_alerts(alerts, login_as, oscar):
    first, second = alerts
    client = login_as(oscar)
    page = client.get(_url(first)).content.decode()
    assert "Its group" in page and f"Alert {second.pk}</a>" in page
    response = client.post(
        _url(first, "transition"),
        {
            "to": "closed",
            "disposition": "false_positive",
            "rationale": "Banter",
            "version": first.version,
            "with_group": "on",
        },
        follow=True,
    )
    assert "1 other alert of its group closed too." in response.content.decode()
    assert _stored(second).status == Status.CLOSED and _stored(second).rationale == "Banter"


def test_the_dashboard_says_how_many_alerts_wait_and_how_many_are_overdue(alerts, login_as, oscar):
    first, _second = alerts
    client = login_as(oscar)
    page = " ".join(client.get("/").content.decode().split())
    assert "2 alerts waiting for review." in page and "Open the alert queue" in page
    with tenant_scope(first.tenant_id):
        Alert.objects.filter(pk=first.pk).update(due_at=timezone.now() - timedelta(hours=1))
    page = " ".join(client.get("/").content.decode().split())
    assert "2 alerts waiting for review, 1 overdue." in page

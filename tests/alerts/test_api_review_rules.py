"""The alerts API keeps the review's rules the pages keep: a firm that pseudonymises shows
reviewers pseudonyms (and no id or number that names the person), and a second-level alert is
for a plain officer as if it did not exist, while a senior officer reads it."""

from __future__ import annotations

from alerts.masking import client_pseudonym, employee_pseudonym, unmask_alert
from alerts.models import Status
from alerts.notify.services import send_employee_notice
from alerts.review_settings import update_review_settings
from alerts.services import transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent.models import Employee

LIST = "/api/v1/alerts/?status=all"


def test_a_pseudonymising_firm_gets_pseudonyms_from_the_api(alerts, login_as, oscar, tenant_a):
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    client = login_as(oscar)
    alert = alerts[0]
    body = client.get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["employee"] == {
        "id": None,
        "name": employee_pseudonym(tenant_a.pk, alert.employee_id),
        "employee_id": "",
    }
    assert body["counterparty"]["wa_id"] == ""
    assert body["counterparty"]["name"] == client_pseudonym(
        tenant_a.pk, alert.conversation.counterparty_key
    )
    listed = client.get(LIST).json()["results"]
    assert {row["employee"]["id"] for row in listed} == {None}
    assert "Employee of firm-a" not in client.get(LIST).content.decode()


def test_without_the_setting_the_api_names_people(alerts, login_as, oscar):
    body = login_as(oscar).get(f"/api/v1/alerts/{alerts[0].pk}/").json()
    assert body["employee"]["id"] == alerts[0].employee_id
    assert body["employee"]["name"] == "Employee of firm-a"


def test_a_second_level_alert_is_hidden_from_a_plain_officer_and_read_by_a_senior(
    alerts, client, oscar, tenant_a, person_factory
):
    escalated, other = alerts
    transition_alert(
        alert=escalated, actor=Actor.for_user(oscar.user), to=Status.ESCALATED,
        expected_version=None,
    )  # fmt: skip
    client.force_login(oscar.user, backend="django.contrib.auth.backends.ModelBackend")
    ids = {row["id"] for row in client.get(LIST).json()["results"]}
    assert ids == {other.pk}
    assert client.get(f"/api/v1/alerts/{escalated.pk}/").status_code == 404
    assert client.post(f"/api/v1/alerts/{escalated.pk}/claim/").status_code == 404

    senior = person_factory("sam@firm-a.example", tenant=tenant_a, role=Role.SENIOR_OFFICER)
    client.force_login(senior.user, backend="django.contrib.auth.backends.ModelBackend")
    ids = {row["id"] for row in client.get(LIST).json()["results"]}
    assert ids == {escalated.pk, other.pk}
    assert client.get(f"/api/v1/alerts/{escalated.pk}/").status_code == 200


def test_a_masked_reviewer_gets_no_name_through_the_context_or_the_history(
    alerts, login_as, oscar, audrey, tenant_a
):
    """The notice sent to the employee is kept in the alert's history with their address and a
    text that greets them by name, and the conversation's id opens the archive, which names
    people: the API gave both to a masked reviewer (the page shows neither)."""
    update_review_settings(tenant=tenant_a, actor=Actor.system(), pseudonymise=True, sla_hours={})
    alert = transition_alert(
        alert=alerts[0], actor=Actor.for_user(oscar.user), to=Status.CLOSED,
        disposition="true_positive_action", rationale="A promise of returns.",
        expected_version=None,
    )  # fmt: skip
    send_employee_notice(
        alert=alert, actor=Actor.for_user(oscar.user), kind="warning", language="en"
    )
    with tenant_scope(tenant_a):
        employee = Employee.objects.get(pk=alert.employee_id)
    assert employee.email

    answer = login_as(oscar).get(f"/api/v1/alerts/{alert.pk}/")
    text = answer.content.decode()
    assert employee.full_name not in text and employee.email not in text
    body = answer.json()
    assert body["conversation_context"]["conversation"] is None
    notice = next(e for e in body["history"] if e["action"] == "notice_sent")
    assert notice["details"] == {"notice": "warning", "language": "en"}

    unmask_alert(alert=alert, actor=Actor.for_user(oscar.user), reason="Checking the record")
    body = login_as(oscar).get(f"/api/v1/alerts/{alert.pk}/").json()
    assert body["conversation_context"]["conversation"] == alert.conversation_id
    notice = next(e for e in body["history"] if e["action"] == "notice_sent")
    assert notice["details"]["to"] == employee.email
    assert employee.full_name in notice["details"]["body"]

    body = login_as(audrey).get(f"/api/v1/alerts/{alert.pk}/").json()  # auditors are not masked
    assert body["conversation_context"]["conversation"] == alert.conversation_id

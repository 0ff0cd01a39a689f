"""The alerts API keeps the review's rules the pages keep: a firm that pseudonymises shows
reviewers pseudonyms (and no id or number that names the person), and a second-level alert is
for a plain officer as if it did not exist, while a senior officer reads it."""

from __future__ import annotations

from alerts.masking import client_pseudonym, employee_pseudonym
from alerts.models import Status
from alerts.review_settings import update_review_settings
from alerts.services import transition_alert
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role

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

"""/api/v1/teams/: an HR system keeps the firm's teams in step through the API. Everyone reads;
admins create, rename and delete, under the one team-name rule of the employees page; a team
with employees is not deleted; another firm's teams are a 404; every change is audited."""

from __future__ import annotations

import pytest

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services
from consent.models import Team
from tests.consent.employees import make_employee

URL = "/api/v1/teams/"
READERS = (Role.ADMIN, Role.OFFICER, Role.AUDITOR)
NOT_ADMINS = (Role.OFFICER, Role.AUDITOR)


def team_names(tenant) -> list[str]:
    with tenant_scope(tenant):
        return list(Team.objects.order_by("name").values_list("name", flat=True))


def audited(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- reads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_lists_the_teams_with_their_employee_counts(
    tenant_a, sales, api_client_for, role
):
    services.create_team(tenant=tenant_a, name="Wealth", actor=Actor.system())
    make_employee(tenant_a, team=sales)
    leaver = make_employee(
        tenant_a, employee_id="E-2", email="leaver@firm-a.example", phone_number="+5511987654322",
        whatsapp_phone_number_id="110000002", team=sales,
    )  # fmt: skip
    services.deactivate_employee(employee=leaver, actor=Actor.system())

    response = api_client_for(tenant_a, role).get(URL)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["name"], row["employee_count"], row["active_employee_count"]) for row in rows] == [
        ("Sales", 2, 1),
        ("Wealth", 0, 0),
    ]
    one = api_client_for(tenant_a, role).get(f"{URL}{sales.pk}/")
    assert one.status_code == 200 and one.json()["name"] == "Sales"


def test_the_list_finds_a_team_by_name_in_any_case(tenant_a, sales, api_client_for):
    response = api_client_for(tenant_a, Role.AUDITOR).get(URL, {"name": "SALES"})

    assert [row["id"] for row in response.json()["results"]] == [sales.pk]


def test_the_list_costs_the_same_queries_for_many_teams(
    tenant_a, api_client_for, django_assert_max_num_queries
):
    for n in range(30):
        services.create_team(tenant=tenant_a, name=f"Desk {n}", actor=Actor.system())
    client = api_client_for(tenant_a, Role.OFFICER)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert response.json()["count"] == 30


def test_another_firms_team_is_a_404_for_every_verb(tenant_a, tenant_b, sales, api_client_for):
    outsider = api_client_for(tenant_b, Role.ADMIN)

    assert outsider.get(f"{URL}{sales.pk}/").status_code == 404
    assert outsider.patch(f"{URL}{sales.pk}/", {"name": "Mine"}, format="json").status_code == 404
    assert outsider.delete(f"{URL}{sales.pk}/").status_code == 404
    assert outsider.get(URL).json()["results"] == []
    assert team_names(tenant_a) == ["Sales"]


# --- create ----------------------------------------------------------------------------------


def test_an_admin_creates_a_team_trimmed_and_audited(tenant_a, api_client_for):
    response = api_client_for(tenant_a, Role.ADMIN).post(URL, {"name": "  Wealth  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Wealth"
    assert body["employee_count"] == 0
    assert team_names(tenant_a) == ["Wealth"]
    [event] = audited(tenant_a, "team.created")
    assert event.target_id == str(body["id"])
    assert event.details == {"name": "Wealth"}


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_officers_and_auditors_may_not_change_teams(tenant_a, sales, api_client_for, role):
    client = api_client_for(tenant_a, role)

    assert client.post(URL, {"name": "Wealth"}, format="json").status_code == 403
    assert client.patch(f"{URL}{sales.pk}/", {"name": "X"}, format="json").status_code == 403
    assert client.delete(f"{URL}{sales.pk}/").status_code == 403
    assert team_names(tenant_a) == ["Sales"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("sales", "A team with this name exists."),
        ("  SALES ", "A team with this name exists."),
        ("   ", "A team needs a name."),
        ("Line\nbreak", "A team name may not contain line breaks or control characters."),
        ("x" * 101, "Ensure this field has no more than 100 characters."),
    ],
)
def test_a_bad_or_taken_name_is_refused_and_nothing_changes(
    tenant_a, sales, api_client_for, name, message
):
    response = api_client_for(tenant_a, Role.ADMIN).post(URL, {"name": name}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["details"]["name"] == [message]
    assert team_names(tenant_a) == ["Sales"]
    assert [event.details["name"] for event in audited(tenant_a, "team.created")] == ["Sales"]


def test_the_same_name_in_another_firm_is_fine(tenant_a, tenant_b, sales, api_client_for):
    response = api_client_for(tenant_b, Role.ADMIN).post(URL, {"name": "Sales"}, format="json")

    assert response.status_code == 201
    assert team_names(tenant_b) == ["Sales"]


# --- rename ----------------------------------------------------------------------------------


def test_a_rename_keeps_the_employees_in_the_team(tenant_a, sales, api_client_for):
    maria = make_employee(tenant_a, team=sales)
    client = api_client_for(tenant_a, Role.ADMIN)

    response = client.patch(f"{URL}{sales.pk}/", {"name": "Private Banking"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Private Banking"
    assert response.json()["employee_count"] == 1
    employee = client.get(f"/api/v1/employees/{maria.pk}/").json()
    assert (employee["team"], employee["team_id"]) == ("Private Banking", sales.pk)
    [event] = audited(tenant_a, "team.renamed")
    assert event.details == {"from": "Sales", "to": "Private Banking"}


def test_a_rename_may_change_only_the_case(tenant_a, sales, api_client_for):
    response = api_client_for(tenant_a, Role.ADMIN).patch(
        f"{URL}{sales.pk}/", {"name": "SALES"}, format="json"
    )

    assert response.status_code == 200
    assert team_names(tenant_a) == ["SALES"]


def test_a_rename_to_another_teams_name_is_refused(tenant_a, sales, api_client_for):
    services.create_team(tenant=tenant_a, name="Wealth", actor=Actor.system())

    response = api_client_for(tenant_a, Role.ADMIN).patch(
        f"{URL}{sales.pk}/", {"name": "wealth"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["name"] == ["A team with this name exists."]
    assert team_names(tenant_a) == ["Sales", "Wealth"]
    assert audited(tenant_a, "team.renamed") == []


def test_renaming_to_the_same_name_changes_and_audits_nothing(tenant_a, sales, api_client_for):
    response = api_client_for(tenant_a, Role.ADMIN).patch(
        f"{URL}{sales.pk}/", {"name": " Sales "}, format="json"
    )

    assert response.status_code == 200
    assert audited(tenant_a, "team.renamed") == []


# --- delete ----------------------------------------------------------------------------------


def test_an_empty_team_is_deleted_and_audited(tenant_a, sales, api_client_for):
    response = api_client_for(tenant_a, Role.ADMIN).delete(f"{URL}{sales.pk}/")

    assert response.status_code == 204
    assert team_names(tenant_a) == []
    [event] = audited(tenant_a, "team.deleted")
    assert event.details == {"name": "Sales"}
    assert event.target_id == str(sales.pk)


def test_a_team_with_employees_is_not_deleted(tenant_a, sales, api_client_for):
    make_employee(tenant_a, team=sales)

    response = api_client_for(tenant_a, Role.ADMIN).delete(f"{URL}{sales.pk}/")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert error["message"].startswith("Team Sales has 1 employee ")
    assert team_names(tenant_a) == ["Sales"]
    assert audited(tenant_a, "team.deleted") == []


def test_a_team_of_deactivated_employees_only_is_not_deleted(tenant_a, sales, api_client_for):
    # Their archive stays filed under the team, and a deactivated employee cannot be moved.
    services.deactivate_employee(employee=make_employee(tenant_a, team=sales), actor=Actor.system())

    response = api_client_for(tenant_a, Role.ADMIN).delete(f"{URL}{sales.pk}/")

    assert response.status_code == 409
    assert "deactivated ones count" in response.json()["error"]["message"]
    assert team_names(tenant_a) == ["Sales"]


# --- the employees API names teams the same way ----------------------------------------------


def test_an_hr_sync_creates_a_team_then_files_an_employee_in_it(tenant_a, api_client_for):
    client = api_client_for(tenant_a, Role.ADMIN)
    team = client.post(URL, {"name": "Equities"}, format="json").json()

    created = client.post(
        "/api/v1/employees/",
        {"full_name": "Ana Souza", "email": "ana@firm-a.example", "employee_id": "HR-1",
         "phone_number": "+5511987650001", "team": "equities"},
        format="json",
    )  # fmt: skip

    assert created.status_code == 201, created.content
    assert (created.json()["team"], created.json()["team_id"]) == ("Equities", team["id"])
    listed = client.get("/api/v1/employees/", {"team": "EQUITIES"}).json()["results"]
    assert [row["employee_id"] for row in listed] == ["HR-1"]

""" "Create the teams this file names": an admin imports a CSV whose teams do not exist yet. Only
with the explicit choice (a checkbox on the upload page, ``import_employees --create-teams``,
``create_teams`` in the API) are they created, on confirm, inside the import's all-or-nothing
transaction, each audited; without it the rows are refused one by one, as before."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services
from consent.imports import ImportRejected, confirm_import, preview_import
from consent.models import Employee, EmployeeImport, Team
from tests.fixtures import login

FILE = (
    b"full_name,email,employee_id,phone_number,team\n"
    b"Ana Souza,ana@firm-a.example,N-1,+55 11 98765-4301,Equities\n"
    b"Bruno Lima,bruno@firm-a.example,N-2,+55 11 98765-4302,equities\n"
    b"Carmen Ruiz,carmen@firm-a.example,N-3,+34 612 345 678,Sales\n"
    b"Diego Alves,diego@firm-a.example,N-4,+55 11 98765-4304,Fixed Income\n"
)
UNKNOWN = "Unknown team '{}'. Create it first or leave the column empty."


def team_names(tenant) -> list[str]:
    with tenant_scope(tenant):
        return sorted(Team.objects.values_list("name", flat=True))


def teams_of_employees(tenant) -> dict[str, str]:
    with tenant_scope(tenant):
        return {
            employee.employee_id: employee.team.name if employee.team else ""
            for employee in Employee.objects.select_related("team")
        }


def audited(tenant, action: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action=action).order_by("id"))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- the service -----------------------------------------------------------------------------


def test_confirming_creates_the_new_teams_audited_and_files_everyone(tenant_a, sales, alice):
    upload = preview_import(
        tenant=tenant_a,
        filename="hr.csv",
        data=FILE,
        actor=Actor.for_user(alice.user),
        create_teams=True,
    )
    assert upload.new_teams == ["Equities", "Fixed Income"]
    assert team_names(tenant_a) == ["Sales"]  # nothing until confirmed
    [previewed] = audited(tenant_a, "employee_import.previewed")
    assert previewed.details["new_teams"] == ["Equities", "Fixed Income"]

    assert confirm_import(employee_import=upload, actor=Actor.for_user(alice.user)) == 4

    assert team_names(tenant_a) == ["Equities", "Fixed Income", "Sales"]
    assert teams_of_employees(tenant_a) == {
        "N-1": "Equities", "N-2": "Equities", "N-3": "Sales", "N-4": "Fixed Income",
    }  # fmt: skip
    created = audited(tenant_a, "team.created")[1:]  # after the fixture's Sales
    assert [(event.details["name"], event.actor_id) for event in created] == [
        ("Equities", alice.user.pk),
        ("Fixed Income", alice.user.pk),
    ]
    [confirmed] = audited(tenant_a, "employee_import.confirmed")
    assert confirmed.details["teams_created"] == ["Equities", "Fixed Income"]


def test_without_the_choice_the_rows_are_refused_one_by_one_as_before(tenant_a, sales):
    upload = preview_import(tenant=tenant_a, filename="hr.csv", data=FILE, actor=Actor.system())

    assert upload.new_teams == []
    assert [(e["line"], e["column"], e["message"]) for e in upload.errors] == [
        (2, "team", UNKNOWN.format("Equities")),
        (3, "team", UNKNOWN.format("equities")),
        (5, "team", UNKNOWN.format("Fixed Income")),
    ]
    with pytest.raises(ImportRejected):
        confirm_import(employee_import=upload, actor=Actor.system())
    assert team_names(tenant_a) == ["Sales"]


def test_an_import_refused_at_confirm_creates_no_team(tenant_a, sales):
    upload = preview_import(
        tenant=tenant_a, filename="hr.csv", data=FILE, actor=Actor.system(), create_teams=True
    )
    # Someone takes Diego's id between the preview and the confirm.
    services.create_employee(
        tenant=tenant_a,
        data=services.EmployeeData(
            full_name="Other", email="o@firm-a.example", employee_id="N-4",
            phone_number="+55 11 98765-4399",
        ),
        actor=Actor.system(),
    )  # fmt: skip

    with pytest.raises(ImportRejected) as refused:
        confirm_import(employee_import=upload, actor=Actor.system())

    assert [(e["line"], e["column"]) for e in refused.value.row_errors] == [(5, "employee_id")]
    assert team_names(tenant_a) == ["Sales"]
    assert len(audited(tenant_a, "team.created")) == 1  # the fixture's Sales only
    assert set(teams_of_employees(tenant_a)) == {"N-4"}


def test_a_team_created_by_someone_else_since_the_preview_is_used(tenant_a, sales):
    upload = preview_import(
        tenant=tenant_a, filename="hr.csv", data=FILE, actor=Actor.system(), create_teams=True
    )
    services.create_team(tenant=tenant_a, name="EQUITIES", actor=Actor.system())

    assert confirm_import(employee_import=upload, actor=Actor.system()) == 4

    assert team_names(tenant_a) == ["EQUITIES", "Fixed Income", "Sales"]
    assert teams_of_employees(tenant_a)["N-1"] == "EQUITIES"


# --- the page --------------------------------------------------------------------------------


def upload(client, *, create_teams: bool):
    form = {"file": SimpleUploadedFile("hr.csv", FILE)}
    if create_teams:
        form["create_teams"] = "on"
    return client.post("/employees/import/", form)


def test_the_upload_page_offers_the_choice_off_by_default(client, tenant_a, alice):
    login(client, alice)

    page = client.get("/employees/import/").content.decode()

    checkbox = re.search(r'<input[^>]*name="create_teams"[^>]*>', page)
    assert checkbox is not None and "checked" not in checkbox.group(0)
    assert "Create the teams this file names" in page


def test_the_preview_names_the_teams_and_confirming_creates_them(client, tenant_a, sales, alice):
    login(client, alice)

    response = upload(client, create_teams=True)

    preview = page_text(client.get(response["Location"]))
    assert "These teams will be created when you import: Equities, Fixed Income." in preview
    assert "Import 4 employees" in preview
    assert team_names(tenant_a) == ["Sales"]
    with tenant_scope(tenant_a):
        pk = EmployeeImport.objects.get().pk
    done = client.post(f"/employees/import/{pk}/confirm/")
    assert done.status_code == 302
    assert team_names(tenant_a) == ["Equities", "Fixed Income", "Sales"]
    assert len(teams_of_employees(tenant_a)) == 4


def test_the_page_without_the_choice_refuses_the_rows_naming_unknown_teams(
    client, tenant_a, sales, alice
):
    login(client, alice)

    response = upload(client, create_teams=False)

    preview = page_text(client.get(response["Location"]))
    assert "This file cannot be imported" in preview
    assert UNKNOWN.format("Equities").replace("'", "&#x27;") in preview
    assert "will be created" not in preview


def test_a_team_name_is_escaped_in_the_preview(client, tenant_a, alice):
    login(client, alice)
    data = (
        b"full_name,email,employee_id,phone_number,team\n"
        b"Ana,ana@firm-a.example,N-1,+55 11 98765-4301,<b>Desk</b>\n"
    )

    response = client.post(
        "/employees/import/",
        {"file": SimpleUploadedFile("hr.csv", data), "create_teams": "on"},
    )

    preview = client.get(response["Location"]).content.decode()
    assert "&lt;b&gt;Desk&lt;/b&gt;" in preview and "<b>Desk</b>" not in preview


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def hr_file(tmp_path):
    path = tmp_path / "hr.csv"
    path.write_bytes(FILE)
    return str(path)


def test_the_command_creates_the_teams_with_create_teams(tenant_a, sales, hr_file):
    out = StringIO()
    call_command("import_employees", "firm-a", hr_file, "--create-teams", stdout=out)

    assert "Created teams: Equities, Fixed Income." in out.getvalue()
    assert "Imported 4 employees into firm-a" in out.getvalue()
    assert team_names(tenant_a) == ["Equities", "Fixed Income", "Sales"]


def test_the_commands_dry_run_lists_the_teams_to_create(tenant_a, sales, hr_file):
    out = StringIO()
    call_command("import_employees", "firm-a", hr_file, "--create-teams", "--dry-run", stdout=out)

    assert "Teams to create: Equities, Fixed Income." in out.getvalue()
    assert team_names(tenant_a) == ["Sales"]


def test_the_command_without_create_teams_refuses_as_before(tenant_a, sales, hr_file):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("import_employees", "firm-a", hr_file, stdout=out)

    assert f"line 2, team: {UNKNOWN.format('Equities')}" in out.getvalue()
    assert team_names(tenant_a) == ["Sales"]
    assert teams_of_employees(tenant_a) == {}


# --- the API ---------------------------------------------------------------------------------


def test_the_api_import_creates_the_teams_when_asked(tenant_a, sales, api_client_for):
    client = api_client_for(tenant_a, Role.ADMIN)

    checked = client.post(
        "/api/v1/employees/import/?dry_run=1",
        {"file": SimpleUploadedFile("hr.csv", FILE), "create_teams": "true"},
        format="multipart",
    )
    assert checked.json()["new_teams"] == ["Equities", "Fixed Income"]
    assert team_names(tenant_a) == ["Sales"]
    done = client.post(
        "/api/v1/employees/import/",
        {"file": SimpleUploadedFile("hr.csv", FILE), "create_teams": "true"},
        format="multipart",
    )
    assert done.status_code == 201 and done.json() == {"imported": 4}
    assert team_names(tenant_a) == ["Equities", "Fixed Income", "Sales"]

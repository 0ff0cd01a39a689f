"""/api/v1/employees/ and /api/v1/consent-notices/: every endpoint, every role, the outsider's
404, bad input answered in the one error format with nothing changed."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services
from consent.models import ConsentEvent, ConsentNotice, Employee, EmployeeImport
from tests.fixtures import ANA_PHONE_ID, login

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_CSV = (FIXTURES / "import_good.csv").read_bytes()
EVERY_BAD_ROW = (FIXTURES / "every_bad_row.csv").read_bytes()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EMPLOYEE_FIELDS = {
    "id",
    "full_name",
    "email",
    "employee_id",
    "team",
    "team_id",
    "region",
    "language",
    "phone_number",
    "whatsapp_phone_number_id",
    "active",
    "deactivated_at",
    "consent_state",
    "created_at",
}
READERS = (Role.ADMIN, Role.OFFICER, Role.AUDITOR)
NOT_ADMINS = (Role.OFFICER, Role.AUDITOR)


# --- helpers ---------------------------------------------------------------------------------


def make_employee(tenant, n: int = 1, **overrides) -> Employee:
    values = {
        "full_name": f"Employee {n:03d}",
        "email": f"e{n}@{tenant.slug}.example",
        "employee_id": f"E-{n}",
        "phone_number": f"+55 11 9{87650000 + n}",
        "region": "BR",
    }
    values.update(overrides)
    return services.create_employee(
        tenant=tenant, data=services.EmployeeData(**values), actor=Actor.system()
    )


def snapshot(tenant) -> dict:
    """What a bad request must leave untouched."""
    with tenant_scope(tenant):
        return {
            "employees": sorted(
                Employee.objects.values_list(
                    "pk", "full_name", "email", "team_id", "phone_number", "active"
                )
            ),
            "consent_events": ConsentEvent.objects.count(),
            "notices": sorted(
                ConsentNotice.objects.values_list("pk", "status", "version", "content_sha256")
            ),
            "notice_texts": sorted(str(t) for t in ConsentNotice.objects.values_list("texts")),
            "imports": EmployeeImport.objects.count(),
            "audit": AuditEvent.objects.count(),
        }


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def audit_actions(tenant, prefix: str) -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("id"))


@pytest.fixture
def outsider_api(api_client_for, tenant_b):
    """Bob's firm B, with an admin key: the outsider of every test of firm A."""
    return api_client_for(tenant_b, Role.ADMIN)


@pytest.fixture
def ana_in_sales(ana, sales):
    """Ana (tests/fixtures.py) moved into firm A's Sales team."""
    return services.update_employee(
        employee=ana,
        data=services.EmployeeData(
            full_name=ana.full_name,
            email=ana.email,
            employee_id=ana.employee_id,
            phone_number=ana.phone_number,
            team=sales,
            region=ana.region,
            whatsapp_phone_number_id=ana.whatsapp_phone_number_id,
        ),
        actor=Actor.system(),
    )


# --- employees: list and filters -------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_lists_employees_with_their_consent_state(
    api_client_for, tenant_a, ana_in_sales, role
):
    response = api_client_for(tenant_a, role).get("/api/v1/employees/")

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 1
    [row] = page["results"]
    assert set(row) == EMPLOYEE_FIELDS
    assert row["full_name"] == "Ana Souza"
    assert row["team"] == "Sales"
    assert row["phone_number"] == "+5511987654321"
    assert row["whatsapp_phone_number_id"] == ANA_PHONE_ID
    assert row["language"] == "pt-br"
    assert row["active"] is True and row["deactivated_at"] is None
    assert row["consent_state"] == "none"


def test_the_list_filters_by_team_region_consent_state_active_and_search(
    admin_api, tenant_a, ana_in_sales, sales
):
    ana = ana_in_sales
    bruno = make_employee(tenant_a, 2, full_name="Bruno Lima", region="")
    carmen = make_employee(
        tenant_a,
        3,
        full_name="Carmen Ruiz",
        phone_number="+34 612 345 678",
        region="ES",
        team=sales,
    )
    services.record_consent(
        employee=ana, actor=Actor.system(), evidence_reference="paper form, cabinet 3"
    )
    services.invite_employee(employee=bruno, actor=Actor.system())
    services.deactivate_employee(employee=carmen, actor=Actor.system())

    def names(**query) -> list[str]:
        response = admin_api.get("/api/v1/employees/", query)
        assert response.status_code == 200, response.content
        return [row["full_name"] for row in response.json()["results"]]

    assert names() == ["Ana Souza", "Bruno Lima", "Carmen Ruiz"]
    assert names(team="sales") == ["Ana Souza", "Carmen Ruiz"]
    assert names(region="es") == ["Carmen Ruiz"]
    assert names(consent_state="covered") == ["Ana Souza"]
    assert names(consent_state="pending") == ["Bruno Lima"]
    assert names(consent_state="none") == ["Carmen Ruiz"]
    assert names(active="false") == ["Carmen Ruiz"]
    assert names(active="true", team="Sales") == ["Ana Souza"]
    assert names(search="LIMA") == ["Bruno Lima"]
    assert names(search="a-1") == ["Ana Souza"]


def test_an_unknown_filter_value_is_a_400_in_the_error_format(admin_api, ana):
    error = assert_error(admin_api.get("/api/v1/employees/", {"consent_state": "maybe"}), 400)
    assert "consent_state" in error["details"]
    assert_error(admin_api.get("/api/v1/employees/", {"active": "perhaps"}), 400)


def test_listing_employees_takes_the_same_few_queries_for_3_or_30(
    admin_api, tenant_a, sales, django_assert_max_num_queries
):
    for n in range(1, 4):
        employee = make_employee(tenant_a, n, team=sales)
        services.record_consent(employee=employee, actor=Actor.system(), evidence_reference="paper")
    admin_api.get("/api/v1/employees/")  # the key's last-used write happens once a minute

    # savepoint, key, tenant setting, notice deadlines, count, page, release: no query per row
    with django_assert_max_num_queries(7) as few:
        assert admin_api.get("/api/v1/employees/").json()["count"] == 3

    for n in range(4, 31):
        employee = make_employee(tenant_a, n, team=sales)
        services.invite_employee(employee=employee, actor=Actor.system())
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = admin_api.get("/api/v1/employees/").json()
    assert page["count"] == 30
    assert {row["consent_state"] for row in page["results"]} == {"covered", "pending"}
    assert {row["team"] for row in page["results"]} == {"Sales"}


def test_the_list_pages(admin_api, tenant_a):
    for n in range(1, 6):
        make_employee(tenant_a, n)
    page = admin_api.get("/api/v1/employees/", {"page_size": 2}).json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]


def test_a_session_with_mfa_reads_the_list_too(client, tenant_a, audrey, ana):
    login(client, audrey)
    response = client.get("/api/v1/employees/")
    assert response.status_code == 200
    assert response.json()["results"][0]["employee_id"] == "A-1"


def test_no_credentials_get_the_error_format(db, ana):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/employees/")
    assert response.status_code in (401, 403)
    assert set(response.json()["error"]) >= {"status", "code", "message"}


# --- employees: retrieve, create, update, deactivate -----------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_reads_one_employee(api_client_for, tenant_a, ana, role):
    response = api_client_for(tenant_a, role).get(f"/api/v1/employees/{ana.pk}/")
    assert response.status_code == 200
    assert response.json()["employee_id"] == "A-1"


def test_the_outsider_gets_404_for_every_employee_route_and_nothing_changes(
    outsider_api, tenant_a, ana
):
    before = snapshot(tenant_a)
    base = f"/api/v1/employees/{ana.pk}"

    assert_error(outsider_api.get(f"{base}/"), 404, "not_found")
    assert_error(outsider_api.patch(f"{base}/", {"full_name": "Hacked"}, format="json"), 404)
    assert_error(outsider_api.post(f"{base}/deactivate/", {}, format="json"), 404)
    assert_error(outsider_api.get(f"{base}/consents/"), 404)
    assert_error(
        outsider_api.post(f"{base}/consents/", {"evidence_reference": "x"}, format="json"), 404
    )
    assert_error(outsider_api.post(f"{base}/consents/withdraw/", {}, format="json"), 404)
    assert outsider_api.get("/api/v1/employees/").json()["count"] == 0

    assert snapshot(tenant_a) == before


def test_an_unknown_id_is_the_same_404(admin_api, ana):
    assert_error(admin_api.get("/api/v1/employees/999999999/"), 404, "not_found")
    assert_error(admin_api.get("/api/v1/employees/not-a-number/"), 404, "not_found")


def test_an_admin_adds_an_employee(admin_api, tenant_a, sales):
    response = admin_api.post(
        "/api/v1/employees/",
        {
            "full_name": "Priya Sharma",
            "email": "Priya@Firm-A.example",
            "employee_id": "IN-7",
            "team": "SALES",
            "region": "in",
            "phone_number": "098765 43210",
            "whatsapp_phone_number_id": "123456789012",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == EMPLOYEE_FIELDS
    assert body["email"] == "priya@firm-a.example"
    assert body["team"] == "Sales"
    assert body["region"] == "IN"
    assert body["phone_number"] == "+919876543210"
    assert body["language"] == "en"
    assert body["consent_state"] == "none"
    [event] = audit_actions(tenant_a, "employee.created")
    assert event.actor_label.startswith("api-key:")
    assert event.target_id == str(body["id"])


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admins_add_employees(api_client_for, tenant_a, role):
    api = api_client_for(tenant_a, role)
    before = snapshot(tenant_a)
    response = api.post(
        "/api/v1/employees/",
        {
            "full_name": "X",
            "email": "x@firm-a.example",
            "employee_id": "X-1",
            "phone_number": "+5511987654321",
        },
        format="json",
    )
    assert_error(response, 403, "permission_denied")
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"team": "Nowhere"}, "team", "Unknown team."),
        ({"phone_number": "12345"}, "phone_number", "Not a valid phone number for its country."),
        ({"region": "XX"}, "region", "Not a country code"),
        ({"language": "fr"}, "language", "not a valid choice"),
        ({"whatsapp_phone_number_id": "abc"}, "whatsapp_phone_number_id", "Digits only"),
        ({"employee_id": ""}, "employee_id", "may not be blank"),
        ({"employee_id": "A-1"}, "employee_id", "already exists"),
    ],
)
def test_bad_employee_input_is_a_400_naming_the_field_and_nothing_is_created(
    admin_api, tenant_a, ana, body, field, message
):
    before = snapshot(tenant_a)
    payload = {
        "full_name": "Bruno Lima",
        "email": "bruno@firm-a.example",
        "employee_id": "A-2",
        "phone_number": "+55 11 98765-4322",
        "region": "BR",
        **body,
    }

    error = assert_error(admin_api.post("/api/v1/employees/", payload, format="json"), 400)

    assert error["code"] == "invalid"
    assert message in str(error["details"][field])
    assert snapshot(tenant_a) == before


def test_a_number_of_another_firm_is_already_in_use_and_never_says_whose(
    admin_api, tenant_a, tenant_b
):
    make_employee(tenant_b, 1, phone_number="+55 11 98765-4321", full_name="Bob's trader")
    before = snapshot(tenant_a)

    response = admin_api.post(
        "/api/v1/employees/",
        {
            "full_name": "Ana",
            "email": "ana@firm-a.example",
            "employee_id": "A-1",
            "phone_number": "+55 11 98765-4321",
        },
        format="json",
    )

    error = assert_error(response, 400, "invalid")
    assert error["details"] == {"phone_number": ["This number is already in use."]}
    assert tenant_b.name not in response.content.decode()
    assert snapshot(tenant_a) == before


def test_an_admin_changes_an_employee(admin_api, tenant_a, ana):
    services.create_team(tenant=tenant_a, name="Wealth", actor=Actor.system())

    response = admin_api.patch(
        f"/api/v1/employees/{ana.pk}/",
        {"team": "wealth", "phone_number": "+55 11 98765-4399"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["team"] == "Wealth"
    assert body["phone_number"] == "+5511987654399"
    assert body["full_name"] == "Ana Souza"  # untouched fields stay
    [event] = audit_actions(tenant_a, "employee.updated")
    assert event.details == {"changed": ["phone_number", "team"]}
    # Clearing the team.
    cleared = admin_api.patch(f"/api/v1/employees/{ana.pk}/", {"team": None}, format="json")
    assert cleared.status_code == 200 and cleared.json()["team"] is None


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admins_change_employees(api_client_for, tenant_a, ana, role):
    api = api_client_for(tenant_a, role)
    before = snapshot(tenant_a)
    response = api.patch(f"/api/v1/employees/{ana.pk}/", {"full_name": "X"}, format="json")
    assert_error(response, 403)
    assert_error(api.post(f"/api/v1/employees/{ana.pk}/deactivate/"), 403)
    assert snapshot(tenant_a) == before


def test_a_bad_change_is_a_400_and_nothing_changes(admin_api, tenant_a, ana):
    before = snapshot(tenant_a)
    for body in ({"team": "Nowhere"}, {"email": "nope"}, {"phone_number": "call me"}):
        assert_error(admin_api.patch(f"/api/v1/employees/{ana.pk}/", body, format="json"), 400)
    assert snapshot(tenant_a) == before


def test_deactivation_offboards_once_then_conflicts(admin_api, tenant_a, ana):
    response = admin_api.post(
        f"/api/v1/employees/{ana.pk}/deactivate/", {"reason": "left the firm"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["active"] is False and body["deactivated_at"]
    [event] = audit_actions(tenant_a, "employee.deactivated")
    assert event.details == {"reason": "left the firm"}
    before = snapshot(tenant_a)

    again = admin_api.post(f"/api/v1/employees/{ana.pk}/deactivate/")
    error = assert_error(again, 409, "conflict")
    assert error["message"] == "This employee is already deactivated."
    changed = admin_api.patch(f"/api/v1/employees/{ana.pk}/", {"full_name": "X"}, format="json")
    assert "deactivated employee cannot be changed" in assert_error(changed, 409)["message"]
    assert snapshot(tenant_a) == before


# --- consents --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_every_role_reads_the_consent_history(api_client_for, tenant_a, alice, ana, role):
    services.record_consent(
        employee=ana,
        actor=Actor.for_user(alice.user),
        evidence_reference="paper form",
        signature_name="Ana Souza",
    )
    services.withdraw_consent(
        employee=ana, actor=Actor.for_user(alice.user), reason="changed my mind"
    )

    response = api_client_for(tenant_a, role).get(f"/api/v1/employees/{ana.pk}/consents/")

    assert response.status_code == 200
    granted, withdrawn = response.json()["results"]
    assert granted["kind"] == "granted" and granted["method"] == "recorded"
    assert granted["notice_version"] == 1 and len(granted["notice_sha256"]) == 64
    assert granted["evidence_reference"] == "paper form"
    assert granted["signature_name"] == "Ana Souza"
    assert granted["recorded_by"] == alice.email
    assert withdrawn["kind"] == "withdrawn" and withdrawn["reason"] == "changed my mind"
    assert set(granted) >= {
        "occurred_at",
        "ip_address",
        "user_agent",
        "evidence_sha256",
        "evidence_size",
        "evidence_content_type",
    }


def test_an_admin_records_an_opt_in_with_a_reference(admin_api, tenant_a, ana):
    response = admin_api.post(
        f"/api/v1/employees/{ana.pk}/consents/",
        {"evidence_reference": "Signed form in HR file 2026/114", "signature_name": "Ana Souza"},
        format="json",
        HTTP_USER_AGENT="hr-sync/1.0",
    )

    assert response.status_code == 201, response.content
    event = response.json()
    assert event["kind"] == "granted" and event["method"] == "recorded"
    assert event["notice_version"] == 1
    assert event["evidence_reference"] == "Signed form in HR file 2026/114"
    assert event["user_agent"] == "hr-sync/1.0"
    assert event["recorded_by"] is None  # an API key is not a person; the audit names the key
    assert admin_api.get(f"/api/v1/employees/{ana.pk}/").json()["consent_state"] == "covered"
    [audit] = audit_actions(tenant_a, "consent.recorded")
    assert audit.actor_label.startswith("api-key:")


def test_an_admin_records_an_opt_in_with_the_signed_form(admin_api, tenant_a, ana):
    notice = services.current_notice(tenant=tenant_a)
    # A moment after the employee was added (a consent cannot predate them or the notice).
    signed = ana.created_at + timedelta(seconds=1)

    response = admin_api.post(
        f"/api/v1/employees/{ana.pk}/consents/",
        {
            "evidence": SimpleUploadedFile("form.pdf", PDF, content_type="application/pdf"),
            "notice": str(notice.pk),
            "occurred_at": signed.isoformat(),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    event = response.json()
    assert event["evidence_sha256"] == hashlib.sha256(PDF).hexdigest()
    assert event["evidence_size"] == len(PDF)
    assert event["evidence_content_type"] == "application/pdf"
    assert event["notice_sha256"] == notice.content_sha256
    assert event["occurred_at"].startswith(signed.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize(
    ("payload", "fmt", "status", "needle"),
    [
        ({}, "json", 400, "Attach the signed form"),
        ({"evidence_reference": "   "}, "json", 400, "Attach the signed form"),
        (
            {"evidence": SimpleUploadedFile("form.pdf", b"hello, I am text")},
            "multipart",
            400,
            "Evidence must be a PDF, PNG or JPEG",
        ),
        (
            {"evidence": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024))},
            "multipart",
            400,
            "larger than 10 MB",
        ),
        ({"evidence_reference": "x", "notice": "latest"}, "json", 400, "'current'"),
        ({"evidence_reference": "x", "notice": "9" * 30}, "json", 400, "'current'"),
        ({"evidence_reference": "x", "notice": "999999"}, "json", 400, "No published notice"),
        (
            {"evidence_reference": "x", "occurred_at": "2999-01-01T00:00:00Z"},
            "json",
            400,
            "cannot be dated in the future",
        ),
        ({"evidence_reference": "x", "occurred_at": "yesterday"}, "json", 400, "occurred_at"),
    ],
)
def test_a_bad_opt_in_is_refused_and_nothing_is_recorded(
    admin_api, tenant_a, ana, payload, fmt, status, needle
):
    before = snapshot(tenant_a)

    response = admin_api.post(f"/api/v1/employees/{ana.pk}/consents/", payload, format=fmt)

    assert_error(response, status, "invalid")
    assert needle in response.content.decode()
    assert snapshot(tenant_a) == before


def test_a_notice_that_is_a_draft_or_of_another_firm_cannot_be_consented_to(
    admin_api, tenant_a, tenant_b, ana
):
    draft = services.create_notice_draft(
        tenant=tenant_a, texts={"en": {"title": "t", "body": "b"}}, actor=Actor.system()
    )
    foreign = services.current_notice(tenant=tenant_b)
    before = snapshot(tenant_a)

    for notice in (draft, foreign):
        response = admin_api.post(
            f"/api/v1/employees/{ana.pk}/consents/",
            {"evidence_reference": "x", "notice": str(notice.pk)},
            format="json",
        )
        error = assert_error(response, 400, "invalid")
        assert "No published notice version with this id" in str(error["details"]["notice"])
        assert tenant_b.name not in response.content.decode()

    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admins_record_and_withdraw_consent(api_client_for, tenant_a, ana, role):
    services.record_consent(employee=ana, actor=Actor.system(), evidence_reference="paper")
    api = api_client_for(tenant_a, role)
    before = snapshot(tenant_a)

    recorded = api.post(
        f"/api/v1/employees/{ana.pk}/consents/", {"evidence_reference": "x"}, format="json"
    )
    assert_error(recorded, 403)
    assert_error(api.post(f"/api/v1/employees/{ana.pk}/consents/withdraw/"), 403)
    assert snapshot(tenant_a) == before


def test_a_deactivated_employee_cannot_consent(admin_api, tenant_a, ana):
    services.deactivate_employee(employee=ana, actor=Actor.system())
    before = snapshot(tenant_a)
    response = admin_api.post(
        f"/api/v1/employees/{ana.pk}/consents/", {"evidence_reference": "x"}, format="json"
    )
    assert assert_error(response, 409, "conflict")["message"] == (
        "A deactivated employee cannot consent."
    )
    assert snapshot(tenant_a) == before


def test_an_admin_withdraws_consent_once_and_the_second_time_is_a_conflict(
    admin_api, tenant_a, ana
):
    services.record_consent(employee=ana, actor=Actor.system(), evidence_reference="paper")

    response = admin_api.post(
        f"/api/v1/employees/{ana.pk}/consents/withdraw/",
        {"reason": "asked by phone"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "withdrawn"
    assert response.json()["method"] == "admin"
    assert response.json()["reason"] == "asked by phone"
    assert admin_api.get(f"/api/v1/employees/{ana.pk}/").json()["consent_state"] == "withdrawn"
    [audit] = audit_actions(tenant_a, "consent.withdrawn")
    assert audit.details["reason"] == "asked by phone"
    before = snapshot(tenant_a)

    again = admin_api.post(f"/api/v1/employees/{ana.pk}/consents/withdraw/")

    error = assert_error(again, 409, "conflict")
    assert error["message"] == "There is no active consent to withdraw."
    assert snapshot(tenant_a) == before


def test_withdrawing_what_was_never_given_is_a_conflict(admin_api, tenant_a, ana):
    before = snapshot(tenant_a)
    response = admin_api.post(f"/api/v1/employees/{ana.pk}/consents/withdraw/")
    assert assert_error(response, 409)["message"] == "There is no active consent to withdraw."
    assert snapshot(tenant_a) == before


# --- import ----------------------------------------------------------------------------------


def csv_upload(data: bytes, name: str = "staff.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.mark.parametrize("how", ["query", "form"])
def test_a_dry_run_answers_the_check_and_stores_nothing(admin_api, tenant_a, sales, how):
    before = snapshot(tenant_a)
    url = "/api/v1/employees/import/" + ("?dry_run=1" if how == "query" else "")
    body = {"file": csv_upload(GOOD_CSV)}
    if how == "form":
        body["dry_run"] = "true"

    response = admin_api.post(url, body, format="multipart")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "rows": 3,
        "valid_rows": 3,
        "errors": [],
        "ok": True,
        "new_teams": [],
    }
    assert snapshot(tenant_a) == before


def test_a_dry_run_of_a_bad_file_lists_every_row_error(admin_api, tenant_a, tenant_b):
    make_employee(tenant_b, 1, phone_number="+55 11 91234-5678", full_name="Bob's trader")
    before = snapshot(tenant_a)

    response = admin_api.post(
        "/api/v1/employees/import/?dry_run=true",
        {"file": csv_upload(EVERY_BAD_ROW)},
        format="multipart",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False and body["rows"] == 20
    lines = {error["line"] for error in body["errors"]}
    assert {3, 4, 5, 11, 17} <= lines
    in_use = [e for e in body["errors"] if e["message"] == "This number is already in use."]
    assert [(e["line"], e["column"]) for e in in_use] == [(17, "phone_number")]
    assert tenant_b.name not in response.content.decode()
    assert snapshot(tenant_a) == before


def test_an_import_creates_every_employee(admin_api, tenant_a, sales):
    response = admin_api.post(
        "/api/v1/employees/import/", {"file": csv_upload(GOOD_CSV)}, format="multipart"
    )

    assert response.status_code == 201, response.content
    assert response.json() == {"imported": 3}
    listed = admin_api.get("/api/v1/employees/").json()["results"]
    assert [row["employee_id"] for row in listed] == ["A-1", "A-2", "A-3"]
    assert [e.action for e in audit_actions(tenant_a, "employee_import.")] == [
        "employee_import.previewed",
        "employee_import.confirmed",
    ]


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (EVERY_BAD_ROW, "Not a valid email address."),
        (b"full_name\nAna\n", "Missing required columns"),
        (
            "full_name,email,employee_id,phone_number\nJoão,j@x.example,1,+5511987654321\n".encode(
                "latin-1"
            ),
            "not UTF-8",
        ),
        (b"", "The file is empty."),
    ],
)
def test_an_import_with_errors_is_a_400_and_writes_nothing(admin_api, tenant_a, data, needle):
    before = snapshot(tenant_a)

    response = admin_api.post(
        "/api/v1/employees/import/", {"file": csv_upload(data)}, format="multipart"
    )

    if data:
        error = assert_error(response, 400, "invalid")
        assert error["details"]["errors"]
        assert all(isinstance(e["line"], int) for e in error["details"]["errors"])
        assert needle in str(error["details"]["errors"])
    else:  # an empty upload is refused by the form field itself
        error = assert_error(response, 400, "invalid")
        assert "file" in error["details"]
    assert snapshot(tenant_a) == before


def test_an_import_whose_number_is_taken_elsewhere_writes_nothing(
    admin_api, tenant_a, tenant_b, sales
):
    make_employee(tenant_b, 1, phone_number="+34 612 345 678", full_name="Bob's trader")
    before = snapshot(tenant_a)

    response = admin_api.post(
        "/api/v1/employees/import/", {"file": csv_upload(GOOD_CSV)}, format="multipart"
    )

    error = assert_error(response, 400, "invalid")
    [row_error] = error["details"]["errors"]
    assert (row_error["line"], row_error["column"], row_error["message"]) == (
        4,
        "phone_number",
        "This number is already in use.",
    )
    assert tenant_b.name not in response.content.decode()
    assert snapshot(tenant_a) == before


def test_an_import_without_a_file_is_a_400(admin_api, tenant_a):
    before = snapshot(tenant_a)
    error = assert_error(admin_api.post("/api/v1/employees/import/", {}, format="multipart"), 400)
    assert "file" in error["details"]
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admins_import(api_client_for, tenant_a, sales, role):
    api = api_client_for(tenant_a, role)
    before = snapshot(tenant_a)
    response = api.post(
        "/api/v1/employees/import/?dry_run=1", {"file": csv_upload(GOOD_CSV)}, format="multipart"
    )
    assert_error(response, 403)
    assert snapshot(tenant_a) == before


def test_the_import_route_only_takes_posts(admin_api):
    assert_error(admin_api.get("/api/v1/employees/import/"), 405)


# --- consent notices -------------------------------------------------------------------------


TEXTS = {
    "en": {"title": "Monitoring notice v2", "body": "We capture your WhatsApp Business messages."},
    "es": {"title": "Aviso v2", "body": "Capturamos sus mensajes de WhatsApp Business."},
}


@pytest.mark.parametrize("role", READERS)
def test_every_role_reads_the_notices(api_client_for, tenant_a, role):
    api = api_client_for(tenant_a, role)
    response = api.get("/api/v1/consent-notices/")
    assert response.status_code == 200
    [notice] = response.json()["results"]
    assert notice["status"] == "published" and notice["version"] == 1
    assert set(notice["texts"]) == {"en", "pt-br", "es", "hi"}
    assert len(notice["content_sha256"]) == 64
    detail = api.get(f"/api/v1/consent-notices/{notice['id']}/")
    assert detail.status_code == 200 and detail.json()["version"] == 1


def test_an_admin_drafts_edits_and_publishes_a_notice(admin_api, tenant_a):
    created = admin_api.post("/api/v1/consent-notices/", {"texts": TEXTS}, format="json")
    assert created.status_code == 201, created.content
    draft = created.json()
    assert draft["status"] == "draft" and draft["version"] is None
    assert draft["texts"] == TEXTS

    edited = admin_api.patch(
        f"/api/v1/consent-notices/{draft['id']}/",
        {"texts": {"en": TEXTS["en"]}},
        format="json",
    )
    assert edited.status_code == 200 and set(edited.json()["texts"]) == {"en"}

    deadline = timezone.now() + timedelta(days=30)
    published = admin_api.post(
        f"/api/v1/consent-notices/{draft['id']}/publish/",
        {"reconsent_deadline": deadline.isoformat()},
        format="json",
    )
    assert published.status_code == 200, published.content
    body = published.json()
    assert body["status"] == "published" and body["version"] == 2
    assert body["content_sha256"] == services.notice_hash({"en": TEXTS["en"]})
    assert body["reconsent_deadline"].startswith(deadline.strftime("%Y-%m-%dT%H:%M"))
    assert [e.action for e in audit_actions(tenant_a, "notice.")][-3:] == [
        "notice.draft_created",
        "notice.draft_updated",
        "notice.published",
    ]


def test_a_published_notice_never_changes(admin_api, tenant_a):
    notice = services.current_notice(tenant=tenant_a)
    before = snapshot(tenant_a)

    edited = admin_api.patch(
        f"/api/v1/consent-notices/{notice.pk}/", {"texts": TEXTS}, format="json"
    )
    assert "published notice never changes" in assert_error(edited, 409, "conflict")["message"]
    again = admin_api.post(f"/api/v1/consent-notices/{notice.pk}/publish/")
    assert assert_error(again, 409)["message"] == "This notice is already published."
    assert snapshot(tenant_a) == before


def test_an_empty_notice_cannot_be_published(admin_api, tenant_a):
    draft = services.create_notice_draft(tenant=tenant_a, texts={}, actor=Actor.system())
    half = services.create_notice_draft(
        tenant=tenant_a, texts={"en": {"title": "Only a title"}}, actor=Actor.system()
    )
    before = snapshot(tenant_a)

    empty = admin_api.post(f"/api/v1/consent-notices/{draft.pk}/publish/")
    assert "empty notice cannot be published" in assert_error(empty, 409)["message"]
    titled = admin_api.post(f"/api/v1/consent-notices/{half.pk}/publish/")
    assert "needs a title and a text" in assert_error(titled, 409)["message"]
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("", {"texts": {"fr": {"title": "Avis", "body": "..."}}}, "Unknown languages: fr"),
        ("", {"texts": "hello"}, "texts"),
        ("", {}, "texts"),
        ("publish", {"reconsent_deadline": "2001-01-01T00:00:00Z"}, "must be in the future"),
        ("publish", {"reconsent_deadline": "soon"}, "reconsent_deadline"),
    ],
)
def test_bad_notice_input_is_a_400_and_nothing_changes(admin_api, tenant_a, path, body, needle):
    draft = services.create_notice_draft(tenant=tenant_a, texts=TEXTS, actor=Actor.system())
    before = snapshot(tenant_a)

    if path:
        response = admin_api.post(f"/api/v1/consent-notices/{draft.pk}/{path}/", body, "json")
    else:
        response = admin_api.patch(f"/api/v1/consent-notices/{draft.pk}/", body, format="json")

    assert_error(response, 400, "invalid")
    assert needle in response.content.decode()
    assert snapshot(tenant_a) == before


def test_a_draft_with_an_unknown_language_is_not_created(admin_api, tenant_a):
    before = snapshot(tenant_a)
    response = admin_api.post(
        "/api/v1/consent-notices/", {"texts": {"de": {"title": "x", "body": "y"}}}, format="json"
    )
    assert "Unknown languages: de" in str(assert_error(response, 400)["details"])
    assert snapshot(tenant_a) == before


@pytest.mark.parametrize("role", NOT_ADMINS)
def test_only_admins_write_notices(api_client_for, tenant_a, role):
    draft = services.create_notice_draft(tenant=tenant_a, texts=TEXTS, actor=Actor.system())
    api = api_client_for(tenant_a, role)
    before = snapshot(tenant_a)

    assert_error(api.post("/api/v1/consent-notices/", {"texts": TEXTS}, format="json"), 403)
    assert_error(api.patch(f"/api/v1/consent-notices/{draft.pk}/", {"texts": {}}, "json"), 403)
    assert_error(api.post(f"/api/v1/consent-notices/{draft.pk}/publish/"), 403)
    assert snapshot(tenant_a) == before


def test_the_outsider_gets_404_for_every_notice_route_and_nothing_changes(
    outsider_api, tenant_a, tenant_b
):
    draft = services.create_notice_draft(tenant=tenant_a, texts=TEXTS, actor=Actor.system())
    published = services.current_notice(tenant=tenant_a)
    before = snapshot(tenant_a)

    for notice in (draft, published):
        base = f"/api/v1/consent-notices/{notice.pk}"
        assert_error(outsider_api.get(f"{base}/"), 404, "not_found")
        assert_error(outsider_api.patch(f"{base}/", {"texts": TEXTS}, format="json"), 404)
        assert_error(outsider_api.post(f"{base}/publish/"), 404)
    listed = outsider_api.get("/api/v1/consent-notices/").json()["results"]
    assert {n["id"] for n in listed} == {services.current_notice(tenant=tenant_b).pk}

    assert snapshot(tenant_a) == before


def test_the_schema_lists_the_consent_routes(admin_api):
    schema = admin_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/employees/",
        "/api/v1/employees/{id}/",
        "/api/v1/employees/{id}/deactivate/",
        "/api/v1/employees/{id}/consents/",
        "/api/v1/employees/{id}/consents/withdraw/",
        "/api/v1/employees/import/",
        "/api/v1/consent-notices/",
        "/api/v1/consent-notices/{id}/",
        "/api/v1/consent-notices/{id}/publish/",
    ):
        assert path in paths, path

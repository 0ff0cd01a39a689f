"""Ids, numbers and link tokens accept ASCII digits only, through every path that reads them:
the public link pages, the API, the CSV import, the settings page, the webhook and the parser.

"²" is a digit to ``str.isdigit()`` but not to ``int()`` (a 500 before), and Arabic-Indic and
fullwidth digits are read by ``int()`` as numbers, so they passed for ids that Meta would never
send."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.actors import Actor
from compliance_hub.digits import is_digits, only_digits, parse_count, parse_id, split_token
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import services as consent_services
from consent.employee_csv import parse_employee_csv
from consent.models import Employee
from ingestion.graph import _file_size
from ingestion.models import WhatsAppSettings
from ingestion.services import save_whatsapp_settings
from ingestion.whatsapp._scalars import parse_timestamp
from ingestion.whatsapp.parser import _seconds
from tests.consent.employees import make_employee
from tests.fixtures import login

SUPERSCRIPT = "²"
ARABIC_INDIC = "\u0661\u0662\u0663"  # int() reads it as 123
FULLWIDTH = "\uff11\uff12\uff13"  # int() reads it as 123
NOT_ASCII = (SUPERSCRIPT, ARABIC_INDIC, FULLWIDTH, "²³¹٣")
FULLWIDTH_DIGITS = "".join(chr(0xFF10 + n) for n in range(10))
ARABIC = str.maketrans("0123456789", "".join(chr(0x0660 + n) for n in range(10)))


def as_arabic_indic(digits: str) -> str:
    return digits.translate(ARABIC)


# --- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*NOT_ASCII, "", " 1", "1 ", "1.5", "-1", "+1", "1_000", "1\n"])
def test_only_ascii_digit_strings_are_digits(value):
    assert not is_digits(value)
    assert parse_id(value) is None
    assert parse_count(value) is None
    if "." not in value:  # "1.5.secret" is tenant 1 with the secret "5.secret"
        assert split_token(f"{value}.secret") is None


def test_ascii_digits_are_read_and_bounded():
    assert is_digits("0123") and parse_count("0123") == 123
    assert parse_id("0") is None  # ids start at 1
    assert parse_id(str(2**63 - 1)) == 2**63 - 1
    assert parse_id(str(2**63)) is None  # beyond PostgreSQL's bigint
    assert is_digits("12345", max_length=4) is False
    assert split_token("12.secret.with.dots") == (12, "secret.with.dots")
    assert split_token("12.") is None
    assert only_digits(f"+55 11 {ARABIC_INDIC}98765-4321") == "5511987654321"


def test_every_digit_check_of_the_product_goes_through_the_one_rule():
    """``isdigit``, ``isdecimal``, ``isnumeric`` and the regex ``\\d`` accept non-ASCII digits;
    only compliance_hub/digits.py may use them."""
    root = Path(__file__).resolve().parent.parent
    risky = re.compile(r"\.is(?:digit|decimal|numeric)\(|\\\\?d")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for app in ("compliance_hub", "consent", "ingestion", "archive")
        for path in sorted((root / app).rglob("*.py"))
        if path != root / "compliance_hub" / "digits.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if risky.search(line)
    ]
    assert offenders == []


# --- public link pages (unauthenticated) --------------------------------------------------------


@pytest.mark.parametrize("tenant_part", NOT_ASCII)
@pytest.mark.parametrize(
    ("page", "method", "status"),
    [
        ("/join/", "get", 410),
        ("/consent/r/", "get", 410),
        ("/consent/r/", "post", 410),
        ("/consent/w/", "get", 404),
        ("/consent/w/", "post", 404),
    ],
)
def test_a_link_whose_tenant_part_is_not_ascii_digits_is_the_invalid_link_page(
    client, tenant_a, tenant_part, page, method, status
):
    response = getattr(client, method)(f"{page}{tenant_part}.abc/")
    assert response.status_code == status
    assert "not valid" in response.content.decode()


def test_an_invitation_link_with_its_tenant_in_arabic_indic_digits_is_refused(client, tenant_a):
    _invitation, link = invite_user(
        tenant=tenant_a, email="nina@firm-a.example", role=Role.OFFICER, actor=Actor.system()
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    tenant_part, _, secret = token.partition(".")
    assert client.get(f"/join/{token}/").status_code == 200  # the link itself works
    forged = f"{as_arabic_indic(tenant_part)}.{secret}"
    response = client.get(f"/join/{forged}/")
    assert response.status_code == 410 and "not valid" in response.content.decode()


def test_a_consent_link_with_its_tenant_in_arabic_indic_digits_is_refused(client, tenant_a):
    _invitation, link = consent_services.invite_employee(
        employee=make_employee(tenant_a), actor=Actor.system()
    )
    token = link.rstrip("/").rsplit("/", 1)[1]
    tenant_part, _, secret = token.partition(".")
    assert client.get(f"/consent/r/{token}/").status_code == 200
    response = client.get(f"/consent/r/{as_arabic_indic(tenant_part)}.{secret}/")
    assert response.status_code == 410 and "not valid" in response.content.decode()


# --- the tenant switch -------------------------------------------------------------------------


@pytest.mark.parametrize("membership", ["abc", SUPERSCRIPT, ARABIC_INDIC, "0.5", ""])
def test_switching_to_a_membership_that_is_not_an_id_is_refused_plainly(
    client, tenant_a, alice, membership
):
    login(client, alice)
    response = client.post("/tenant/switch/", {"membership": membership}, follow=True)
    assert response.status_code == 200
    assert "You are not a member of that firm." in response.content.decode()


def test_switching_with_the_membership_id_in_arabic_indic_digits_is_refused(
    client, tenant_a, tenant_b, alice
):
    from compliance_hub.accounts.services import add_member

    other = add_member(tenant=tenant_b, user=alice.user, role=Role.AUDITOR, actor=Actor.system())
    login(client, alice)
    response = client.post(
        "/tenant/switch/", {"membership": as_arabic_indic(str(other.pk))}, follow=True
    )
    assert "You are not a member of that firm." in response.content.decode()


# --- employees: API, page, CSV -------------------------------------------------------------------


def _employee_body(**overrides) -> dict:
    return {
        "full_name": "Bruno Lima",
        "email": "bruno@firm-a.example",
        "employee_id": "A-2",
        "phone_number": "+55 11 98765-4322",
        "region": "BR",
        **overrides,
    }


def _employee_ids(tenant) -> list[int]:
    with tenant_scope(tenant):
        return sorted(Employee.objects.values_list("pk", flat=True))


@pytest.mark.parametrize("phone_id", NOT_ASCII)
def test_the_api_refuses_a_whatsapp_phone_number_id_that_is_not_ascii_digits(
    api_client_for, tenant_a, phone_id
):
    api = api_client_for(tenant_a, Role.ADMIN)
    response = api.post(
        "/api/v1/employees/", _employee_body(whatsapp_phone_number_id=phone_id), format="json"
    )
    assert response.status_code == 400, response.content
    assert "whatsapp_phone_number_id" in response.json()["error"]["details"]
    assert _employee_ids(tenant_a) == []

    created = api.post("/api/v1/employees/", _employee_body(), format="json").json()
    response = api.patch(
        f"/api/v1/employees/{created['id']}/",
        {"whatsapp_phone_number_id": phone_id},
        format="json",
    )
    assert response.status_code == 400, response.content
    with tenant_scope(tenant_a):
        assert Employee.objects.get(pk=created["id"]).whatsapp_phone_number_id == ""


@pytest.mark.parametrize("phone_id", NOT_ASCII)
def test_the_employee_page_refuses_a_whatsapp_phone_number_id_that_is_not_ascii_digits(
    client, tenant_a, alice, phone_id
):
    login(client, alice)
    response = client.post(
        "/employees/",
        {**_employee_body(whatsapp_phone_number_id=phone_id), "language": "", "team": ""},
    )
    assert response.status_code in (200, 400)
    assert "Digits only" in response.content.decode()
    assert _employee_ids(tenant_a) == []


@pytest.mark.parametrize("phone_id", NOT_ASCII)
def test_the_csv_import_refuses_a_whatsapp_phone_number_id_that_is_not_ascii_digits(phone_id):
    data = (
        "full_name,email,employee_id,phone_number,whatsapp_phone_number_id\n"
        f"Bruno Lima,bruno@firm-a.example,A-2,+5511987654322,{phone_id}\n"
    ).encode()
    result = parse_employee_csv(
        data, known_teams=frozenset(), existing_employee_ids=frozenset(), default_region="BR"
    )
    assert not result.ok and not result.rows
    assert [(e.line, e.column) for e in result.errors] == [(2, "whatsapp_phone_number_id")]


@pytest.mark.parametrize("notice", [ARABIC_INDIC, FULLWIDTH, SUPERSCRIPT])
def test_a_consent_record_naming_a_notice_in_other_digits_is_a_400(
    api_client_for, tenant_a, notice
):
    api = api_client_for(tenant_a, Role.ADMIN)
    created = api.post("/api/v1/employees/", _employee_body(), format="json").json()
    response = api.post(
        f"/api/v1/employees/{created['id']}/consents/",
        {"notice": notice, "evidence_reference": "Signed form in HR file 12"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "notice" in response.json()["error"]["details"]


# --- WhatsApp settings: API and page -------------------------------------------------------------


def _saved_waba_ids(tenant) -> list[str] | None:
    with tenant_scope(tenant):
        row = WhatsAppSettings.objects.filter(tenant=tenant).first()
        return None if row is None else list(row.waba_ids)


@pytest.mark.parametrize("waba_id", NOT_ASCII)
def test_the_api_refuses_waba_ids_that_are_not_ascii_digits(api_client_for, tenant_a, waba_id):
    save_whatsapp_settings(tenant=tenant_a, waba_ids=["102290129340398"], actor=Actor.system())
    api = api_client_for(tenant_a, Role.ADMIN)
    response = api.patch("/api/v1/whatsapp-settings/", {"waba_ids": [waba_id]}, format="json")
    assert response.status_code == 400, response.content
    assert "waba_ids" in response.json()["error"]["details"]
    assert _saved_waba_ids(tenant_a) == ["102290129340398"]


@pytest.mark.parametrize("waba_id", NOT_ASCII)
def test_the_settings_page_refuses_waba_ids_that_are_not_ascii_digits(
    client, tenant_a, alice, waba_id
):
    login(client, alice)
    response = client.post("/whatsapp/settings/", {"waba_ids": f"102290129340398\n{waba_id}"})
    assert response.status_code == 400
    assert any("digits only" in error for error in response.context["form"].errors["waba_ids"])
    assert _saved_waba_ids(tenant_a) is None


# --- the webhook and Meta's payloads --------------------------------------------------------------


def test_the_webhook_refuses_a_content_length_in_other_digits(tenant_a):
    response = APIClient().post(
        f"/webhooks/whatsapp/{tenant_a.slug}/",
        data=b"{}",
        content_type="application/json",
        CONTENT_LENGTH=ARABIC_INDIC,
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    "value",
    [
        ARABIC_INDIC,
        FULLWIDTH,
        as_arabic_indic("1700000000"),
        "1700000000".translate(str.maketrans("0123456789", FULLWIDTH_DIGITS)) + ".5",
    ],
)
def test_meta_values_in_other_digits_are_not_numbers(value):
    assert parse_timestamp(value) is None
    assert _seconds(value) is None
    assert _file_size(value) is None


def test_meta_values_in_ascii_digits_are_still_read():
    assert parse_timestamp("1700000000").year == 2023
    assert parse_timestamp("1700000000.5").year == 2023
    assert _seconds("42") == 42 and _seconds(42) == 42
    assert _file_size("1024") == 1024 and _file_size(1024) == 1024


# --- ids chosen in browser forms ----------------------------------------------------------------


def test_the_employee_page_refuses_a_team_chosen_in_other_digits(client, tenant_a, alice):
    team = consent_services.create_team(tenant=tenant_a, name="Sales", actor=Actor.system())
    login(client, alice)
    response = client.post(
        "/employees/",
        {**_employee_body(), "language": "", "team": as_arabic_indic(str(team.pk))},
    )
    assert response.status_code in (200, 400)
    assert "Select a valid choice" in response.content.decode()
    assert _employee_ids(tenant_a) == []


def test_the_paper_opt_in_refuses_a_notice_chosen_in_other_digits(client, tenant_a, alice):
    from consent.models import ConsentEvent

    employee = make_employee(tenant_a)
    notice = consent_services.current_notice(tenant=tenant_a)
    login(client, alice)
    response = client.post(
        f"/employees/{employee.pk}/consent/record/",
        {
            "notice": as_arabic_indic(str(notice.pk)),
            "evidence_reference": "Signed form in HR file 12",
            "signature_name": employee.full_name,
        },
        follow=True,
    )
    assert response.status_code in (200, 400)
    with tenant_scope(tenant_a):
        assert not ConsentEvent.objects.filter(employee=employee).exists()


def test_every_form_choosing_records_by_id_goes_through_the_one_rule():
    """Django's ModelChoiceField and ModelMultipleChoiceField look a key up with int(), which
    reads Arabic-Indic and fullwidth digits; compliance_hub/forms.py's Record(Multiple)ChoiceField
    check the id first, and every form of the product uses them."""
    root = Path(__file__).resolve().parent.parent
    risky = re.compile(r"forms\.Model(?:Multiple)?ChoiceField\s*[(:)]")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for app in ("compliance_hub", "consent", "ingestion", "archive", "policies", "alerts")
        for path in sorted((root / app).rglob("*.py"))
        if path != root / "compliance_hub" / "forms.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if risky.search(line) and "isinstance" not in line and "->" not in line
    ]
    assert offenders == []


def test_the_alert_queue_refuses_a_record_chosen_in_other_digits(tenant_a):
    from alerts.forms import QueueFilterForm

    employee = make_employee(tenant_a)
    with tenant_scope(tenant_a):
        chosen = QueueFilterForm({"employee": str(employee.pk)}, tenant=tenant_a)
        assert chosen.is_valid(), chosen.errors
        assert chosen.filters().employee_id == employee.pk
        other = QueueFilterForm({"employee": as_arabic_indic(str(employee.pk))}, tenant=tenant_a)
        assert not other.is_valid()
        assert "employee" in other.errors


def test_the_legal_hold_form_refuses_employees_chosen_in_other_digits(tenant_a):
    from archive.holds.forms import LegalHoldForm

    employee = make_employee(tenant_a)
    body = {"matter": "Inquiry 7", "reason": "Regulator's request"}
    with tenant_scope(tenant_a):
        chosen = LegalHoldForm({**body, "employees": [str(employee.pk)]}, tenant=tenant_a)
        assert chosen.is_valid(), chosen.errors
        assert chosen.cleaned_data["employees"] == [employee.pk]
        other = LegalHoldForm(
            {**body, "employees": [as_arabic_indic(str(employee.pk))]}, tenant=tenant_a
        )
        assert not other.is_valid()
        assert "employees" in other.errors

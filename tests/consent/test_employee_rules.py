"""One set of employee rules: the same row, fed through every way in (the browser form, the API,
the CSV import, the service and the bulk create), gets the same verdict: accepted, or refused on
the same fields (hypothesis draws the rows; the words may differ between a form and a file).

One difference is by design (consent/employee_rules.py): a file's cells are also refused when a
spreadsheet would evaluate them or break on them; a form keeps what was typed, and exports
neutralise formulas. Those values have their own test below."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from consent import employee_rules, services
from consent.employee_csv import parse_employee_csv
from consent.forms import EmployeeForm
from consent.imports import validate_import
from consent.models import Employee

FIELDS = (
    "full_name",
    "email",
    "employee_id",
    "phone_number",
    "region",
    "whatsapp_phone_number_id",
    "language",
)
# The employee already there: their id and numbers are taken.
TAKEN = {
    "full_name": "Priya Sharma",
    "email": "priya@example.com",
    "employee_id": "TAKEN-1",
    "phone_number": "+91 98765 43210",
    "region": "IN",
    "whatsapp_phone_number_id": "999",
    "language": "",
}

# Each field's values: valid ones, and each way the rules (or a form field's own limits) refuse.
VALID = {
    "full_name": ["Ana Lima", "Zoë Ñúñez"],
    "email": ["ana@example.com", "Ana.Lima@Example.COM", "ana@localhost"],
    "employee_id": ["E-1"],
    "phone_number": ["+55 11 98765-4321"],
    "region": ["", "BR", "br"],
    "whatsapp_phone_number_id": ["", "123456"],
    "language": ["", "en", "pt-br", "hi"],
}
REFUSED = {
    "full_name": ["", "   ", "x" * 201],
    "email": ["", "not-an-email", "ana@@example.com", "a" * 65 + "@example.com"],
    "employee_id": ["", "x" * 65],
    # A national number reads only with a valid region; drawn with "" or "XX" it is refused.
    "phone_number": ["", "12345", "hello", "11 98765-4321"],
    "region": ["XX", "BRA"],
    "whatsapp_phone_number_id": ["١٢٣", "12a", "9" * 33],
    "language": ["xx"],
}
TAKEN_VALUES = {
    "employee_id": ["TAKEN-1"],
    "phone_number": ["+91 98765 43210"],
    "whatsapp_phone_number_id": ["999"],
}


def _rows(choices: dict[str, list[str]]) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {field: st.sampled_from(VALID[field] + choices.get(field, [])) for field in FIELDS}
    )


# A form and the API stop at their own checks (the fields' and the rules'), before the database
# is asked; the file and the services also name what is taken in a row the rules refuse. So a row
# is drawn either with refused values or with taken ones (every other value valid), never both.
rows = st.one_of(_rows(REFUSED), _rows(TAKEN_VALUES))


def _data(row: dict[str, str]) -> services.EmployeeData:
    return services.EmployeeData(**row)


def _refused(error: ValidationError) -> frozenset[str]:
    return frozenset(error.message_dict)


def by_form(tenant, row: dict[str, str]) -> frozenset[str]:
    form = EmployeeForm(data={**row, "team": ""}, tenant=tenant)
    if not form.is_valid():
        return frozenset(form.errors)
    try:
        services.create_employee(tenant=tenant, data=form.to_data(), actor=Actor.system())
    except ValidationError as error:
        return _refused(error)
    return frozenset()


def by_api(api, row: dict[str, str]) -> frozenset[str]:
    response = api.post("/api/v1/employees/", row, format="json")
    if response.status_code == 201:
        return frozenset()
    assert response.status_code == 400, response.content
    return frozenset(response.json()["error"]["details"])


def by_csv(tenant, row: dict[str, str]) -> frozenset[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(FIELDS)
    writer.writerow([row[field] for field in FIELDS])
    result = validate_import(tenant=tenant, data=buffer.getvalue().encode())
    assert all(error.line == 2 for error in result.errors), result.errors
    return frozenset(error.column for error in result.errors)


def by_service(tenant, row: dict[str, str]) -> frozenset[str]:
    try:
        services.create_employee(tenant=tenant, data=_data(row), actor=Actor.system())
    except ValidationError as error:
        return _refused(error)
    return frozenset()


def by_bulk(tenant, row: dict[str, str]) -> frozenset[str]:
    try:
        services.create_employees(tenant=tenant, rows=[_data(row)])
    except services.BulkConflict as error:
        assert {conflict.index for conflict in error.conflicts} == {0}
        return frozenset(conflict.field for conflict in error.conflicts)
    return frozenset()


def _undone(path, *args) -> frozenset[str]:
    """A path's verdict, with whatever it wrote rolled back: every path sees the same state."""
    with transaction.atomic():
        verdict = path(*args)
        transaction.set_rollback(True)
    return verdict


@pytest.fixture
def taken(tenant_a):
    return services.create_employee(tenant=tenant_a, data=_data(TAKEN), actor=Actor.system())


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(row=rows)
def test_every_way_in_gives_the_same_verdict(tenant_a, api_client_for, taken, row):
    note(repr(row))
    api = api_client_for(tenant_a, Role.ADMIN)
    verdicts = {
        "form": _undone(by_form, tenant_a, row),
        "api": _undone(by_api, api, row),
        "csv": _undone(by_csv, tenant_a, row),
        "service": _undone(by_service, tenant_a, row),
        "bulk": _undone(by_bulk, tenant_a, row),
    }
    assert len(set(verdicts.values())) == 1, verdicts
    with tenant_scope(tenant_a):
        assert list(Employee.objects.values_list("employee_id", flat=True)) == ["TAKEN-1"]


def test_the_rules_accept_a_good_row_and_clean_it():
    clean, errors = employee_rules.check_employee(
        {
            "full_name": " Ana Lima ",
            "email": "Ana@Example.COM",
            "employee_id": "E-1",
            "phone_number": "11 98765-4321",
            "region": "br",
        }
    )
    assert errors == {}
    assert clean == employee_rules.CleanEmployee(
        full_name="Ana Lima",
        email="ana@example.com",
        employee_id="E-1",
        region="BR",
        phone_number="+5511987654321",
        whatsapp_phone_number_id="",
        language="pt-br",
    )


def test_a_phone_number_id_in_other_digits_is_refused_on_every_path():
    # "١٢٣" is digits to str.isdigit(); Meta's ids are ASCII digits.
    _clean, errors = employee_rules.check_employee(
        {**TAKEN, "employee_id": "E-2", "whatsapp_phone_number_id": "١٢٣"}
    )
    assert errors == {"whatsapp_phone_number_id": "Digits only, as Meta shows it (at most 32)."}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("full_name", '=HYPERLINK("http://evil")'),
        ("full_name", "Ana\nLima"),
        ("email", "-ana@example.com"),
        ("employee_id", "+1"),
        ("employee_id", "E\t1"),
    ],
)
def test_only_a_file_refuses_what_a_spreadsheet_would_evaluate_or_break_on(field, value):
    row = {**TAKEN, "employee_id": "E-4", field: value}
    _clean, form_errors = employee_rules.check_employee(row, source=employee_rules.FORM)
    _clean, file_errors = employee_rules.check_employee(row, source=employee_rules.FILE)
    assert form_errors == {}
    assert list(file_errors) == [field]


@pytest.mark.django_db
def test_the_bulk_path_refuses_what_the_rules_refuse(tenant_a):
    # Before: create_employees only re-checked uniqueness, so a row that skipped the checks was
    # stored as given (here an unreadable number raised from phonenumbers instead).
    bad = _data({**TAKEN, "employee_id": "E-3", "phone_number": "hello", "email": "nope"})
    with pytest.raises(services.EmployeeRowsRefused) as refused:
        services.create_employees(tenant=tenant_a, rows=[bad])
    assert {(c.index, c.field) for c in refused.value.conflicts} == {
        (0, "phone_number"),
        (0, "email"),
    }
    with tenant_scope(tenant_a):
        assert not Employee.objects.exists()


def test_the_csv_preview_names_a_whatsapp_phone_number_id_already_in_use():
    # Before: only phone numbers were looked up at preview; a taken id failed at confirm.
    data = (
        b"full_name,email,employee_id,phone_number,whatsapp_phone_number_id\n"
        b"Ana Lima,ana@example.com,E-1,+55 11 98765-4321,999\n"
        b"Rui Costa,rui@example.com,E-2,+55 11 98765-4322,1000\n"
    )
    asked: list[list[str]] = []

    def in_use(ids: list[str]) -> set[str]:
        asked.append(ids)
        return {"999"}

    result = parse_employee_csv(
        data, known_teams=frozenset(), existing_employee_ids=frozenset(), phone_ids_in_use=in_use
    )
    assert asked == [["999", "1000"]]
    assert [(e.line, e.column, e.message) for e in result.errors] == [
        (2, "whatsapp_phone_number_id", "This number is already in use.")
    ]
    assert [row.employee_id for row in result.rows] == ["E-2"]

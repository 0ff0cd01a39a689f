"""An admin imports employees from a CSV: preview with every problem named, then all or nothing.

Service tests of consent.imports, against the database (the parser itself is tested purely in
test_employee_csv.py)."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent import services
from consent.imports import (
    MAX_STORED_ERRORS,
    ImportRejected,
    confirm_import,
    discard_import,
    import_employees,
    preview_import,
    validate_import,
)
from consent.models import Employee, EmployeeImport, NumberClaim

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = (FIXTURES / "import_good.csv").read_bytes()
EVERY_BAD_ROW = (FIXTURES / "every_bad_row.csv").read_bytes()
IN_USE = "This number is already in use."
HEADER = "full_name,email,employee_id,phone_number"


def employee_of(tenant, *, employee_id: str, phone: str, name: str = "Someone") -> Employee:
    return services.create_employee(
        tenant=tenant,
        data=services.EmployeeData(
            full_name=name,
            email=f"{employee_id.lower()}@{tenant.slug}.example",
            employee_id=employee_id,
            phone_number=phone,
        ),
        actor=Actor.system(),
    )


def employees(tenant) -> list[Employee]:
    with tenant_scope(tenant):
        return list(Employee.objects.select_related("team").order_by("employee_id"))


def imports(tenant) -> list[EmployeeImport]:
    with tenant_scope(tenant):
        return list(EmployeeImport.objects.all())


def actions(tenant, prefix: str = "") -> list[AuditEvent]:
    with tenant_scope(tenant):
        return list(AuditEvent.objects.filter(action__startswith=prefix).order_by("id"))


def refresh(employee_import: EmployeeImport) -> None:
    with tenant_scope(employee_import.tenant_id):
        employee_import.refresh_from_db()


def problems(errors: list[dict]) -> list[tuple[int, str, str]]:
    return [(e["line"], e["column"], e["message"]) for e in errors]


# --- the happy path ----------------------------------------------------------------------------


def test_a_clean_file_is_held_for_preview_and_nothing_is_imported_yet(tenant_a, alice, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.for_user(alice.user)
    )

    refresh(employee_import)
    assert employee_import.status == EmployeeImport.Status.PREVIEW
    assert employee_import.filename == "staff.csv"
    assert employee_import.sha256 == hashlib.sha256(GOOD).hexdigest()
    assert employee_import.total_lines == 3
    assert employee_import.errors == []
    assert employee_import.uploaded_by == alice.user
    assert employee_import.rows[0] == {
        "line": 2,
        "full_name": "Ana Souza",
        "email": "ana.souza@firm-a.example",
        "employee_id": "A-1",
        "team": "Sales",
        "region": "BR",
        "phone_number": "+5511987654301",
        "whatsapp_phone_number_id": "200000000001",
        "language": "pt-br",
    }
    assert employees(tenant_a) == []
    [event] = actions(tenant_a, "employee_import.")
    assert event.action == "employee_import.previewed"
    assert event.actor_label == alice.email
    assert event.details == {"filename": "staff.csv", "rows": 3, "errors": 0}


def test_confirming_imports_every_row_with_one_audit_event(tenant_a, alice, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )

    count = confirm_import(employee_import=employee_import, actor=Actor.for_user(alice.user))

    assert count == 3
    ana, bruno, carmen = employees(tenant_a)
    assert (ana.full_name, ana.email, ana.phone_number) == (
        "Ana Souza",
        "ana.souza@firm-a.example",
        "+5511987654301",
    )
    assert ana.team == sales and bruno.team == sales  # "sales" in the file: case-insensitive
    assert ana.whatsapp_phone_number_id == "200000000001"
    assert carmen.team is None and carmen.region == "ES" and carmen.language == "en"
    assert bruno.language == "pt-br"
    refresh(employee_import)
    assert employee_import.status == EmployeeImport.Status.IMPORTED
    assert employee_import.imported_at is not None
    [confirmed] = [e for e in actions(tenant_a) if e.action == "employee_import.confirmed"]
    assert confirmed.details["imported"] == 3 and confirmed.actor_label == alice.email
    # One event for the import, not one per employee.
    assert actions(tenant_a, "employee.created") == []
    # The numbers are claimed platform-wide, as for an employee added by hand.
    assert NumberClaim.objects.filter(tenant=tenant_a).count() == 4


def test_a_confirmed_import_cannot_be_confirmed_again(tenant_a, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )
    confirm_import(employee_import=employee_import, actor=Actor.system())

    with pytest.raises(ValidationError, match="already imported"):
        confirm_import(employee_import=employee_import, actor=Actor.system())

    assert len(employees(tenant_a)) == 3
    assert len(actions(tenant_a, "employee_import.confirmed")) == 1


def test_a_discarded_import_is_audited_and_can_never_be_confirmed(tenant_a, alice, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )

    discard_import(employee_import=employee_import, actor=Actor.for_user(alice.user))

    refresh(employee_import)
    assert employee_import.status == EmployeeImport.Status.DISCARDED
    assert [e.action for e in actions(tenant_a, "employee_import.")] == [
        "employee_import.previewed",
        "employee_import.discarded",
    ]
    with pytest.raises(ValidationError, match="already discarded"):
        confirm_import(employee_import=employee_import, actor=Actor.system())
    with pytest.raises(ValidationError, match="already discarded"):
        discard_import(employee_import=employee_import, actor=Actor.system())
    assert employees(tenant_a) == []


# --- every kind of bad row -------------------------------------------------------------------


def test_every_bad_row_is_named_with_its_line_column_and_reason(bad_row_setting, tenant_b):
    tenant_a = bad_row_setting

    employee_import = preview_import(
        tenant=tenant_a, filename="bad.csv", data=EVERY_BAD_ROW, actor=Actor.system()
    )

    refresh(employee_import)
    found = problems(employee_import.errors)
    assert {line for line, _, _ in found} == {
        3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21,
    }  # fmt: skip
    assert (3, "email", "Not a valid email address.") in found
    assert (6, "employee_id", "Duplicate of line 7.") in found
    assert (8, "phone_number", "Same number as line 9.") in found
    assert (10, "employee_id", "An employee with this id already exists.") in found
    assert (11, "team", "Unknown team 'Equities'. Create it first or leave the column empty.") in (
        found
    )
    # The number firm B holds: "already in use", and never whose.
    assert (17, "phone_number", IN_USE) in found
    text = str(employee_import.errors)
    assert tenant_b.name not in text and tenant_b.slug not in text and "Bob" not in text
    assert all(set(e) == {"line", "column", "value", "message"} for e in employee_import.errors)
    # The good rows are kept for the preview page, but the file as a whole cannot be imported.
    assert [row["line"] for row in employee_import.rows] == [2, 22]
    [event] = actions(tenant_a, "employee_import.previewed")
    assert event.details == {"filename": "bad.csv", "rows": 2, "errors": len(found)}

    with pytest.raises(ImportRejected, match="errors") as rejected:
        confirm_import(employee_import=employee_import, actor=Actor.system())

    assert problems(rejected.value.row_errors) == found
    assert [e.employee_id for e in employees(tenant_a)] == ["E900"]
    refresh(employee_import)
    assert employee_import.status == EmployeeImport.Status.PREVIEW


def test_a_number_taken_between_preview_and_confirm_imports_nothing(tenant_a, tenant_b, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )
    assert employee_import.errors == []
    # Meanwhile firm B gives Bruno's number (line 3) to one of its own people.
    employee_of(tenant_b, employee_id="B-7", phone="+55 11 98765-4302", name="Bob's trader")

    with pytest.raises(ImportRejected) as rejected:
        confirm_import(employee_import=employee_import, actor=Actor.system())

    message = str(rejected.value.messages[0])
    assert "line 3" in message and "already in use" in message
    assert tenant_b.name not in message and tenant_b.slug not in message
    assert rejected.value.row_errors == [
        {
            "line": 3,
            "column": "phone_number",
            "value": "+5511987654302",
            "message": IN_USE,
        }
    ]
    # All or nothing: Ana (line 2) and Carmen (line 4) were fine, and are not there either.
    assert employees(tenant_a) == []
    assert not NumberClaim.objects.filter(tenant=tenant_a).exists()
    refresh(employee_import)
    assert employee_import.status == EmployeeImport.Status.PREVIEW
    assert actions(tenant_a, "employee_import.confirmed") == []


def test_an_id_added_since_the_preview_is_caught_at_confirmation(tenant_a, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )
    employee_of(tenant_a, employee_id="A-3", phone="+55 11 90000-0003")

    with pytest.raises(ImportRejected, match="line 4") as rejected:
        confirm_import(employee_import=employee_import, actor=Actor.system())

    assert problems(rejected.value.row_errors) == [
        (4, "employee_id", "An employee with this id already exists.")
    ]
    assert [e.employee_id for e in employees(tenant_a)] == ["A-3"]


def test_a_team_deleted_since_the_preview_is_caught_at_confirmation(tenant_a, sales):
    employee_import = preview_import(
        tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system()
    )
    with tenant_scope(tenant_a):
        sales.delete()

    with pytest.raises(ImportRejected) as rejected:
        confirm_import(employee_import=employee_import, actor=Actor.system())

    assert [(e["line"], e["column"]) for e in rejected.value.row_errors] == [
        (2, "team"),
        (3, "team"),
    ]
    assert employees(tenant_a) == []


# --- refused files ---------------------------------------------------------------------------


def test_a_file_of_100000_rows_is_refused_quickly_without_storing_the_rows(tenant_a):
    lines = [HEADER] + [f"P{n},p{n}@x.example,{n},+5511{900000000 + n}" for n in range(100_000)]
    data = ("\n".join(lines) + "\n").encode()
    assert len(data) < 5 * 1024 * 1024  # refused for its rows, not its size

    started = time.monotonic()
    employee_import = preview_import(
        tenant=tenant_a, filename="everyone.csv", data=data, actor=Actor.system()
    )
    elapsed = time.monotonic() - started

    assert elapsed < 5
    refresh(employee_import)
    assert employee_import.rows == []
    assert problems(employee_import.errors) == [
        (
            0,
            "",
            "The file has 100,000 employee rows; the limit is 10,000 per upload. "
            "Split it into smaller files.",
        )
    ]
    with pytest.raises(ImportRejected):
        confirm_import(employee_import=employee_import, actor=Actor.system())
    assert employees(tenant_a) == []


def test_a_file_over_5_mb_is_refused(tenant_a):
    data = (HEADER + "\n").encode() + b"x" * (5 * 1024 * 1024)

    result = validate_import(tenant=tenant_a, data=data)

    assert not result.ok and result.rows == ()
    assert [(e.line, e.message) for e in result.errors] == [(0, "The file is larger than 5 MB.")]


def test_a_file_in_the_wrong_encoding_is_refused_and_nothing_is_imported(tenant_a):
    data = f"{HEADER}\nJoão Conceição,joao@x.example,J-1,+55 11 98765-4301\n".encode("latin-1")

    with pytest.raises(ImportRejected) as rejected:
        import_employees(tenant=tenant_a, filename="latin1.csv", data=data, actor=Actor.system())

    assert problems(rejected.value.row_errors) == [
        (0, "", "The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again.")
    ]
    assert employees(tenant_a) == []
    assert imports(tenant_a) == []  # not even the preview stays
    assert actions(tenant_a, "employee_import.") == []


def test_a_file_missing_required_columns_is_refused(tenant_a):
    data = b"full_name,email\nAna,ana@x.example\n"

    with pytest.raises(ImportRejected, match="Missing required columns") as rejected:
        import_employees(tenant=tenant_a, filename="short.csv", data=data, actor=Actor.system())

    assert problems(rejected.value.row_errors) == [
        (0, "", "Missing required columns: employee_id, phone_number.")
    ]
    assert employees(tenant_a) == [] and imports(tenant_a) == []


def test_import_in_one_go_writes_everything_or_nothing(tenant_a, tenant_b, alice, sales):
    employee_of(tenant_b, employee_id="B-7", phone="+34 612 345 678")

    with pytest.raises(ImportRejected, match="line 4"):
        import_employees(
            tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.for_user(alice.user)
        )
    assert employees(tenant_a) == [] and imports(tenant_a) == []

    services.deactivate_employee(
        employee=_employee(tenant_b, "B-7"), actor=Actor.system()
    )  # the number is released

    assert (
        import_employees(tenant=tenant_a, filename="staff.csv", data=GOOD, actor=Actor.system())
        == 3
    )
    assert len(employees(tenant_a)) == 3
    [employee_import] = imports(tenant_a)
    assert employee_import.status == EmployeeImport.Status.IMPORTED


def _employee(tenant, employee_id: str) -> Employee:
    with tenant_scope(tenant):
        return Employee.objects.get(employee_id=employee_id)


def test_a_file_full_of_errors_stores_a_bounded_list(tenant_a):
    lines = [HEADER] + [f"P{n},not-an-email,{n},12" for n in range(2_000)]
    data = ("\n".join(lines) + "\n").encode()

    employee_import = preview_import(
        tenant=tenant_a, filename="junk.csv", data=data, actor=Actor.system()
    )

    refresh(employee_import)
    assert len(employee_import.errors) == MAX_STORED_ERRORS + 1
    assert employee_import.errors[-1]["line"] == 0
    assert "3,500 more errors are not shown" in employee_import.errors[-1]["message"]
    [event] = actions(tenant_a, "employee_import.previewed")
    assert event.details["errors"] == 4_000

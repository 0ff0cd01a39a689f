"""``manage.py import_employees SLUG FILE.csv [--dry-run]``: an operator or an admin with shell
access imports a file; bad rows are printed one per line and nothing is written."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee, EmployeeImport

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "import_good.csv"
EVERY_BAD_ROW = FIXTURES / "every_bad_row.csv"


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_employees", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_failing(*args: str) -> tuple[str, str]:
    """(what was printed, the CommandError's message)."""
    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_employees", *args, stdout=out, stderr=StringIO())
    return out.getvalue(), str(failure.value)


def written(tenant) -> dict:
    with tenant_scope(tenant):
        return {
            "employees": sorted(Employee.objects.values_list("employee_id", flat=True)),
            "imports": EmployeeImport.objects.count(),
            "audit": AuditEvent.objects.filter(action__startswith="employee").count(),
        }


def test_a_good_file_is_imported_with_a_summary(tenant_a, sales):
    output = run(tenant_a.slug, str(GOOD))

    assert "Imported 3 employees into firm-a (Firm A Bank)." in output
    after = written(tenant_a)
    assert after["employees"] == ["A-1", "A-2", "A-3"]
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="employee_import.confirmed").count() == 1


def test_a_dry_run_checks_and_writes_nothing(tenant_a, sales):
    before = written(tenant_a)

    output = run(tenant_a.slug, str(GOOD), "--dry-run")

    assert "3 employee rows, 3 without errors, 0 errors (dry run: nothing was written)" in output
    assert "The file is ready: 3 employees to import." in output
    assert written(tenant_a) == before


@pytest.mark.parametrize("dry_run", [False, True])
def test_every_bad_row_is_printed_and_nothing_is_written(bad_row_setting, tenant_b, dry_run):
    tenant_a = bad_row_setting
    before = written(tenant_a)

    args = [tenant_a.slug, str(EVERY_BAD_ROW)] + (["--dry-run"] if dry_run else [])
    output, message = run_failing(*args)

    lines = output.splitlines()
    assert "line 3, email: Not a valid email address. (bruno.bank.com.br)" in lines
    assert "line 4, phone_number: Cannot read this phone number; " in output
    assert (
        "line 11, team: Unknown team 'Equities'. Create it first or leave the column empty. "
        in (output)
    )
    assert any(line.startswith("line 16: This row has 4 fields") for line in lines)
    assert any(
        line.startswith("line 17, phone_number: This number is already in use.") for line in lines
    )
    assert tenant_b.name not in output and tenant_b.slug not in output
    assert any(
        line.startswith("line 10, employee_id: An employee with this id already exists.")
        for line in lines
    )
    assert "problems on 18 rows" in message  # the rows of the file that have errors
    assert written(tenant_a) == before


def test_a_file_missing_columns_is_refused_with_the_columns_named(tenant_a, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("full_name,email\nAna,ana@x.example\n")
    before = written(tenant_a)

    output, message = run_failing(tenant_a.slug, str(path), "--dry-run")

    assert "file: Missing required columns: employee_id, phone_number." in output
    assert "fix the file before importing it" in message
    assert written(tenant_a) == before


def test_a_file_in_the_wrong_encoding_is_refused(tenant_a, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        "full_name,email,employee_id,phone_number\nJoão,j@x.example,1,+5511987654321\n".encode(
            "latin-1"
        )
    )
    before = written(tenant_a)

    output, message = run_failing(tenant_a.slug, str(path))

    assert "file: The file is not UTF-8 text. Save it as 'CSV UTF-8' and upload again." in output
    assert "1 problems; nothing was imported" in message
    assert written(tenant_a) == before


def test_an_unknown_tenant_is_a_clear_error(db):
    _, message = run_failing("ghost", str(GOOD))
    assert "No tenant with slug 'ghost'" in message


def test_a_missing_file_is_a_clear_error(tenant_a, tmp_path):
    before = written(tenant_a)
    _, message = run_failing(tenant_a.slug, str(tmp_path / "nope.csv"))
    assert "Cannot read" in message and "nope.csv" in message
    assert written(tenant_a) == before

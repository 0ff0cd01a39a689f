"""The import summary counts problems and the rows they are in apart, with the right plurals,
and a file that cannot be imported says so (issue 8: "2 problems" for one row with two, and
"Awaiting confirmation" for a file that can never be confirmed)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from compliance_hub.tenancy.context import tenant_scope
from consent.models import EmployeeImport, problem_summary
from tests.fixtures import login

HEADER = "full_name,email,employee_id,phone_number\n"


def _error(line: int) -> dict:
    return {"line": line, "column": "email", "value": "x", "message": "Not an email address."}


def test_problems_are_counted_with_the_rows_they_are_in():
    assert problem_summary([]) == "no problems"
    assert problem_summary([_error(2)]) == "1 problem in 1 row"
    assert problem_summary([_error(2), _error(2)]) == "2 problems in 1 row"
    assert problem_summary([_error(2), _error(2), _error(5)]) == "3 problems in 2 rows"
    assert problem_summary([_error(0)]) == "1 problem with the whole file"
    assert (
        problem_summary([_error(3), _error(0), _error(0)])
        == "1 problem in 1 row and 2 problems with the whole file"
    )


def _upload(client, content: str):
    upload = SimpleUploadedFile("staff.csv", content.encode(), content_type="text/csv")
    return client.post("/employees/import/", {"file": upload})


def test_one_row_with_two_problems_cannot_be_imported_and_the_pages_say_why(
    client, tenant_a, alice
):
    login(client, alice)
    response = _upload(client, HEADER + "Ana Lima,not-an-email,E-1,call me\n")
    preview = client.get(response["Location"]).content.decode()
    assert "This file cannot be imported: 2 problems in 1 row." in preview
    assert "Awaiting confirmation" not in preview
    assert "Status: Cannot be imported: fix the problems and upload the file again" in preview
    listing = client.get("/employees/import/").content.decode()
    assert "0 good, 2 problems in 1 row" in listing
    assert "Awaiting confirmation" not in listing
    with tenant_scope(tenant_a):
        assert EmployeeImport.objects.get().status == EmployeeImport.Status.PREVIEW


def test_a_clean_file_is_still_awaiting_confirmation(client, tenant_a, alice):
    login(client, alice)
    response = _upload(client, HEADER + "Ana Lima,ana@firm-a.example,E-1,+5511987654301\n")
    preview = client.get(response["Location"]).content.decode()
    assert "Status: Awaiting confirmation" in preview
    assert "1 employee ready to import" in preview

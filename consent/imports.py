"""Employee CSV import: check a file, hold it for preview, then import it all or nothing.

The parsing and row checks are the pure :mod:`consent.employee_csv`; this module feeds it the
tenant's facts (teams, employee ids, the platform-wide number register), stores previews, and
turns a confirmed preview into employees in one transaction, re-checking every row against the
state of the moment (an id or a number may have been taken since the preview).

The browser pages, the API and ``manage.py import_employees`` all go through these functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .employee_csv import MAX_BYTES, ParseResult, parse_employee_csv
from .models import Employee, EmployeeImport, Team
from .selectors import numbers_in_use, phone_ids_in_use
from .services import BulkConflict, EmployeeData, create_employees, create_team

# Shown (and stored) at most this many row errors of one file: a 10,000-row file of garbage
# must not become megabytes of JSON; the first few hundred say what is wrong with it.
MAX_STORED_ERRORS = 500


class ImportRejected(ValidationError):
    """The file cannot be imported; ``row_errors`` lists every problem as a dict with ``line``
    (0 for the whole file), ``column``, ``value`` and ``message``. Nothing was written."""

    def __init__(self, message: str, row_errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.row_errors = row_errors


def read_upload(upload: UploadedFile) -> bytes:
    """The uploaded file's bytes, reading no more than the parser accepts (plus one byte, so the
    parser still reports the size): a huge upload is never read into memory whole."""
    return upload.read(MAX_BYTES + 1)


def validate_import(*, tenant: Tenant, data: bytes, create_teams: bool = False) -> ParseResult:
    """Check a file against the tenant's current state without storing anything (dry run).
    ``create_teams``: teams the file names that do not exist yet are to be created (the result
    lists them) instead of refused row by row."""
    with tenant_scope(tenant):
        teams = frozenset(Team.objects.filter(tenant=tenant).values_list("name", flat=True))
        employee_ids = frozenset(
            Employee.objects.filter(tenant=tenant).values_list("employee_id", flat=True)
        )
        return parse_employee_csv(
            data,
            known_teams=teams,
            existing_employee_ids=employee_ids,
            # The platform-wide register: a number of another firm is "already in use", no more.
            numbers_in_use=numbers_in_use,
            phone_ids_in_use=phone_ids_in_use,
            create_teams=create_teams,
        )


def error_dicts(result: ParseResult) -> list[dict[str, Any]]:
    """The parser's errors as plain dicts, at most MAX_STORED_ERRORS of them plus, when there were
    more, a last file-level entry that says how many more."""
    return _capped([asdict(error) for error in result.errors])


def _capped(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(errors) <= MAX_STORED_ERRORS:
        return errors
    more = len(errors) - MAX_STORED_ERRORS
    note = f"{more:,} more errors are not shown. Fix the rows above and upload the file again."
    return [*errors[:MAX_STORED_ERRORS], {"line": 0, "column": "", "value": "", "message": note}]


def preview_import(
    *, tenant: Tenant, filename: str, data: bytes, actor: Actor, create_teams: bool = False
) -> EmployeeImport:
    """Check the file and hold it for an admin to confirm. A file with errors is stored too (the
    preview page lists them) but can never be confirmed. With ``create_teams`` the preview also
    holds the teams that confirming will create."""
    result = validate_import(tenant=tenant, data=data, create_teams=create_teams)
    errors = error_dicts(result)
    with tenant_scope(tenant):
        employee_import = EmployeeImport.objects.create(
            tenant=tenant,
            filename=(filename or "upload.csv")[:255],
            sha256=hashlib.sha256(data).hexdigest(),
            rows=[asdict(row) for row in result.rows],
            errors=errors,
            total_lines=result.total_lines,
            create_teams=create_teams,
            new_teams=list(result.new_teams),
            uploaded_by=actor.user,
        )
        record_event(
            "employee_import.previewed",
            tenant=tenant,
            actor=actor,
            target=employee_import,
            details={
                "filename": employee_import.filename,
                "rows": len(result.rows),
                "errors": len(result.errors),
                # Only with the admin's choice: an import without it is audited as before.
                **({"new_teams": list(result.new_teams)} if create_teams else {}),
            },
        )
    return employee_import


def _describe(row_errors: list[dict[str, Any]], limit: int = 5) -> str:
    parts = [
        f"line {e['line']}" + (f" ({e['column']})" if e["column"] else "") + f": {e['message']}"
        for e in row_errors[:limit]
    ]
    more = len(row_errors) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def confirm_import(*, employee_import: EmployeeImport, actor: Actor) -> int:
    """Create every employee of a clean preview, all or nothing; returns how many.

    Every row is checked again by ``create_employees``, so what changed since the preview (an id
    added, a number claimed by any firm) is caught; then nothing at all is imported and
    :class:`ImportRejected` names every failing line and why. The teams the preview was to
    create (the admin's choice) are created first, each audited, in the same transaction: a
    refused import creates none; a team created by someone else since the preview is used.
    """
    tenant = employee_import.tenant
    with tenant_scope(tenant), transaction.atomic():
        # Locked: two clicks on "confirm" must not import the file twice.
        locked = EmployeeImport.objects.select_for_update().get(pk=employee_import.pk)
        if locked.status != EmployeeImport.Status.PREVIEW:
            raise ValidationError(
                f"This import is already {locked.get_status_display().lower()}; "
                "upload the file again to start over."
            )
        if locked.errors:
            raise ImportRejected(
                "This file has errors, so nothing can be imported from it. "
                "Fix the rows and upload it again.",
                list(locked.errors),
            )
        teams = {team.name.casefold(): team for team in Team.objects.filter(tenant=tenant)}
        failures: list[dict[str, Any]] = []
        created_teams: list[str] = []
        for name in locked.new_teams if locked.create_teams else []:
            if name.casefold() in teams:
                continue
            try:
                teams[name.casefold()] = create_team(tenant=tenant, name=name, actor=actor)
            except ValidationError as error:
                failures.append(
                    {"line": 0, "column": "team", "value": name[:100],
                     "message": f"The team '{name[:60]}' cannot be created: "
                     + " ".join(error.messages)}
                )  # fmt: skip
            else:
                created_teams.append(name)
        accepted: list[tuple[dict[str, Any], EmployeeData]] = []
        for row in locked.rows:
            team = teams.get(row["team"].casefold()) if row["team"] else None
            if row["team"] and team is None:
                failures.append(
                    {
                        "line": row["line"],
                        "column": "team",
                        "value": row["team"],
                        "message": f"Unknown team '{row['team']}'. It was deleted or renamed.",
                    }
                )
                continue
            accepted.append(
                (
                    row,
                    EmployeeData(
                        full_name=row["full_name"],
                        email=row["email"],
                        employee_id=row["employee_id"],
                        phone_number=row["phone_number"],
                        team=team,
                        region=row["region"],
                        whatsapp_phone_number_id=row["whatsapp_phone_number_id"],
                        language=row["language"],
                    ),
                )
            )
        if not failures:
            try:
                # Re-checked against the state of this moment: an id or a number may have been
                # taken (by any firm) since the preview.
                create_employees(tenant=tenant, rows=[data for _, data in accepted])
            except BulkConflict as conflict:
                for item in conflict.conflicts:
                    row = accepted[item.index][0] if item.index >= 0 else {"line": 0}
                    failures.append(
                        {
                            "line": row["line"],
                            "column": item.field,
                            "value": str(row.get(item.field, ""))[:100],
                            "message": item.message,
                        }
                    )
        if failures:
            lines = len({failure["line"] for failure in failures})
            raise ImportRejected(
                f"{lines} row{'s' if lines != 1 else ''} can no longer be imported "
                f"as previewed: {_describe(failures)}.",
                _capped(failures),
            )
        count = len(locked.rows)
        locked.status = EmployeeImport.Status.IMPORTED
        locked.imported_at = timezone.now()
        locked.save(update_fields=["status", "imported_at"])
        record_event(
            "employee_import.confirmed",
            tenant=tenant,
            actor=actor,
            target=locked,
            details={
                "filename": locked.filename,
                "sha256": locked.sha256,
                "imported": count,
                **({"teams_created": created_teams} if locked.create_teams else {}),
            },
        )
    employee_import.status = locked.status
    employee_import.imported_at = locked.imported_at
    return count


def discard_import(*, employee_import: EmployeeImport, actor: Actor) -> EmployeeImport:
    """The admin threw the preview away; nothing is imported from it, ever."""
    with tenant_scope(employee_import.tenant_id), transaction.atomic():
        locked = EmployeeImport.objects.select_for_update().get(pk=employee_import.pk)
        if locked.status != EmployeeImport.Status.PREVIEW:
            raise ValidationError(f"This import is already {locked.get_status_display().lower()}.")
        locked.status = EmployeeImport.Status.DISCARDED
        locked.save(update_fields=["status"])
        record_event(
            "employee_import.discarded",
            tenant=employee_import.tenant,
            actor=actor,
            target=locked,
            details={"filename": locked.filename},
        )
    employee_import.status = locked.status
    return employee_import


def import_employees(
    *, tenant: Tenant, filename: str, data: bytes, actor: Actor, create_teams: bool = False
) -> int:
    """Preview and confirm in one go (API, CLI): every employee of the file, or nothing at all
    (not even the preview) and :class:`ImportRejected` with the row errors. ``create_teams``
    creates the teams the file names that do not exist yet."""
    with transaction.atomic():
        employee_import = preview_import(
            tenant=tenant, filename=filename, data=data, actor=actor, create_teams=create_teams
        )
        if employee_import.errors:
            raise ImportRejected(
                f"The file has errors; nothing was imported: {_describe(employee_import.errors)}.",
                list(employee_import.errors),
            )
        return confirm_import(employee_import=employee_import, actor=actor)

"""``manage.py import_employees SLUG FILE.csv [--dry-run] [--create-teams]``: every row or none;
``--create-teams`` creates the teams the file names that do not exist yet instead of refusing
their rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from compliance_hub.audit.actors import Actor
from compliance_hub.management.commands._helpers import tenant_by_slug
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.employee_csv import MAX_BYTES
from consent.imports import ImportRejected, error_dicts, import_employees, validate_import
from consent.models import Team


def team_names(tenant: Tenant) -> set[str]:
    with tenant_scope(tenant):
        return set(Team.objects.filter(tenant=tenant).values_list("name", flat=True))


def describe(error: dict[str, Any]) -> str:
    """``line 4, email: Not a valid email address. (ana@)``"""
    where = f"line {error['line']}" if error["line"] else "file"
    if error["column"]:
        where += f", {error['column']}"
    value = f" ({error['value']})" if error["value"] else ""
    return f"{where}: {error['message']}{value}"


class Command(BaseCommand):
    help = (
        "Import a tenant's employees from a CSV file (UTF-8; columns full_name, email, "
        "employee_id, phone_number, and optionally team, region, whatsapp_phone_number_id, "
        "language). All rows are imported or none; --dry-run only checks the file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="The tenant")
        parser.add_argument("file", help="Path of the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="Check the file and write nothing"
        )
        parser.add_argument(
            "--create-teams",
            action="store_true",
            help="Create the teams the file names that do not exist yet (default: such rows "
            "are refused)",
        )

    def handle(
        self, *args, slug: str, file: str, dry_run: bool, create_teams: bool = False, **options
    ) -> None:
        tenant = tenant_by_slug(slug)
        path = Path(file)
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)  # the parser refuses anything larger
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror or error}.") from None

        if dry_run:
            result = validate_import(tenant=tenant, data=data, create_teams=create_teams)
            errors = error_dicts(result)
            self.stdout.write(
                f"{path.name}: {result.total_lines} employee rows, {len(result.rows)} without "
                f"errors, {len(result.errors)} errors (dry run: nothing was written)."
            )
            self._fail_with(errors, dry_run=True)
            if result.new_teams:
                self.stdout.write(f"Teams to create: {', '.join(result.new_teams)}.")
            self.stdout.write(
                self.style.SUCCESS(f"The file is ready: {len(result.rows)} employees to import.")
            )
            return

        teams_before = team_names(tenant)
        try:
            imported = import_employees(
                tenant=tenant,
                filename=path.name,
                data=data,
                actor=Actor.command(),
                create_teams=create_teams,
            )
        except ImportRejected as rejected:
            self.stdout.write(f"{path.name}: cannot be imported.")
            self._fail_with(rejected.row_errors, dry_run=False)
            raise CommandError(" ".join(rejected.messages)) from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        created = sorted(team_names(tenant) - teams_before)
        if created:
            self.stdout.write(f"Created teams: {', '.join(created)}.")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {imported} employees into {tenant.slug} ({tenant.name}).")
        )

    def _fail_with(self, errors: list[dict[str, Any]], *, dry_run: bool) -> None:
        if not errors:
            return
        for error in errors:
            self.stdout.write(describe(error))
        bad_lines = len({e["line"] for e in errors if e["line"]})
        summary = f"{len(errors)} problems"
        if bad_lines:
            summary += f" on {bad_lines} rows"
        raise CommandError(
            f"{summary}; nothing was imported. Fix the file and run the command again."
            if not dry_run
            else f"{summary}; fix the file before importing it."
        )

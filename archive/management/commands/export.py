"""``manage.py export SLUG``: write an export bag of a tenant's archive to a zip file, signed
and with the inclusion proofs of every record (see archive/exporting/build.py), audited as
``archive.export_written`` by ``cli:export``.

    manage.py export firm-a --format rsmf,csv --out firm-a.zip
    manage.py export firm-a --q 'petr4 AND comprar' --since 2026-03-01 --until 2026-03-31 \\
        --format rsmf,eml,csv,jsonl,html --matter "SEC inquiry" --out inquiry.zip

``--q`` is a search as the search page reads it (blank: every message in the range); the dates
are whole UTC days, both included. Exit status 1 for an export that cannot be written (bad
query or dates, unknown format, nothing to export, a log that does not verify), 2 for an unknown
or suspended tenant.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from archive.export.records import RecordError
from archive.exporting.build import ExportError, ExportRequest, check_formats
from archive.exporting.feed import NotLogged
from archive.exporting.services import export_to_file, search_selection
from archive.ledger.services import LogIntegrityError
from archive.search.query import QueryError
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant

LABEL = "cli:export"


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--{name} {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Write a signed, provable export bag of a tenant's archive to a zip file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("--q", default="", help="the search (blank: every message)")
        parser.add_argument("--since", default="", help="first day, YYYY-MM-DD (UTC)")
        parser.add_argument("--until", default="", help="last day, YYYY-MM-DD (UTC), included")
        parser.add_argument(
            "--format", required=True, help="comma-separated: rsmf,eml,csv,jsonl,html,media"
        )
        parser.add_argument("--matter", default="", help="the matter the export is for")
        parser.add_argument("--export-id", default="", help="default: cli-<UTC time>")
        parser.add_argument("--out", required=True, help="the zip file to write")

    def handle(self, *args: Any, slug: str, **options: Any) -> None:
        tenant = Tenant.objects.filter(slug=slug.strip().lower()).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}", returncode=2)
        if not tenant.is_active:
            raise CommandError(f"{tenant.slug} is suspended: nothing is exported", returncode=2)
        formats = tuple(f.strip().lower() for f in options["format"].split(",") if f.strip())
        since = _day(options["since"], "since") if options["since"] else None
        until = _day(options["until"], "until") if options["until"] else None
        out = Path(options["out"])
        if not out.parent.is_dir() and str(out.parent):
            raise CommandError(f"the folder of {out} does not exist")
        now = timezone.now()
        request = ExportRequest(
            export_id=options["export_id"] or f"cli-{now:%Y%m%dT%H%M%SZ}",
            requester=LABEL,
            matter=options["matter"],
            query=options["q"],
            date_from=since,
            date_until=until,
            formats=formats,
            created_at=now,
        )
        try:
            check_formats(formats)
            rows = search_selection(tenant=tenant, query=options["q"], date_from=since,
                                    date_until=until)  # fmt: skip
            result = export_to_file(
                tenant=tenant, actor=Actor.command(LABEL), export=request, messages=rows,
                path=out,
            )  # fmt: skip
        except QueryError as error:
            message = str(error)
            raise CommandError(
                f"The search cannot be run: {message[:1].lower()}{message[1:]}"
            ) from None
        except (ExportError, NotLogged, LogIntegrityError, RecordError) as error:
            raise CommandError(str(error)) from None
        counts = result.counts
        self.stdout.write(
            f"Wrote {out} ({result.size} bytes): {counts.messages} messages in "
            f"{counts.conversations} conversations, {counts.events} events, "
            f"{counts.attachments} media files."
        )
        self.stdout.write(
            f"Proved against checkpoint {result.checkpoint_id} (tree size {result.tree_size}); "
            f"tag manifest SHA-256 {result.tag_manifest_sha256}."
        )
        self.stdout.write(
            self.style.SUCCESS(f"Check it: unzip it and run python3 <its folder>/verify.py {out}")
        )

"""``manage.py dispose_records SLUG [--dry-run]``: run retention disposition for one tenant now
(beat runs it daily for every tenant). A dry run changes nothing and says what the next run
would dispose of. Either way a disposition certificate goes to the audit trail.

    manage.py dispose_records firm-a --dry-run
    manage.py dispose_records firm-a
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive.retention.disposition import dispose_records
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Dispose of a tenant's messages past retention and not under a legal hold."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument(
            "--dry-run", action="store_true", help="change nothing; report what would be disposed"
        )

    def handle(self, *args, slug: str, dry_run: bool, **options) -> None:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}", returncode=2)
        outcome = dispose_records(
            tenant=tenant, actor=Actor.command("cli:dispose_records"), dry_run=dry_run
        )
        verb = "The next run would dispose of" if dry_run else "Disposed of"
        span = (
            f" (oldest {outcome.oldest:%Y-%m-%d}, newest {outcome.newest:%Y-%m-%d})"
            if outcome.oldest and outcome.newest
            else ""
        )
        counts = outcome.counts
        self.stdout.write(
            f"{verb} {outcome.messages} messages{span}, "
            f"{counts['archive.messageevent']} events and "
            f"{counts['archive.attachmentfile']} stored attachments; "
            f"{outcome.held} are kept by legal holds."
        )
        if outcome.waiting_for_log:
            self.stdout.write(
                f"{outcome.waiting_for_log} more wait for the archive's next checkpoint."
            )
        self.stdout.write(f"Certificate: audit entry {outcome.certificate_id}.")

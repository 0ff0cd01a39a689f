"""``manage.py checkpoint_log SLUG``: sign (and anchor) a checkpoint of the tenant's Merkle log
now, instead of at the beat's next minute, so that ``verify_archive`` and inclusion proofs cover
every record archived so far.

    manage.py checkpoint_log firm-a
    manage.py checkpoint_log firm-a --force    # sign a new one even when nothing is new

Exit status as ``verify_archive``'s: 0 when a checkpoint covers the log and is anchored, 1 when
the log refuses to be signed (it no longer matches what it signed) or the checkpoint could not be
anchored yet, 2 for a tenant that does not exist or is suspended.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive.ledger.canonical import timestamp
from archive.ledger.services import LogIntegrityError, cut_checkpoint
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Sign and anchor a checkpoint of a tenant's archive log now."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument(
            "--force",
            action="store_true",
            help="sign a new checkpoint even when the latest one already covers every record",
        )

    def handle(self, *args, slug: str, force: bool, **options) -> None:
        tenant = Tenant.objects.filter(slug=slug.strip().lower()).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}", returncode=2)
        if not tenant.is_active:
            # The beat skips suspended tenants too: their log is frozen until reactivated.
            raise CommandError(
                f"{tenant.slug} is suspended: its log is not signed until it is reactivated",
                returncode=2,
            )
        try:
            outcome = cut_checkpoint(
                tenant=tenant, force=force, actor=Actor.command("checkpoint_log")
            )
        except LogIntegrityError as error:
            raise CommandError(
                f"the log of {tenant.slug} was not signed: {error}", returncode=1
            ) from None
        checkpoint = outcome.checkpoint
        described = (
            f"tree size {checkpoint.size}, root {bytes(checkpoint.root_hash).hex()}, "
            f"signed at {timestamp(checkpoint.signed_at)}"
        )
        if outcome.created:
            self.stdout.write(f"Signed checkpoint {checkpoint.pk} of {tenant.slug}: {described}.")
        else:
            self.stdout.write(
                f"Nothing new since checkpoint {checkpoint.pk} of {tenant.slug} ({described}): "
                "it already covers every record. Use --force to sign a new one anyway."
            )
        if not outcome.anchored:
            raise CommandError(
                f"checkpoint {checkpoint.pk} is signed but not anchored outside the database "
                f"yet ({outcome.anchor_error}); the next beat retries",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Anchored outside the database"
                + (
                    ", with an RFC 3161 timestamp."
                    if outcome.timestamped
                    else " (no timestamping authority configured)."
                )
            )
        )

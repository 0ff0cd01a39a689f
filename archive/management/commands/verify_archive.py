"""``manage.py verify_archive SLUG``: recompute the tenant's Merkle log from its records against
its signed, anchored checkpoints. Exit status 0 when everything verifies, 1 when anything does
not (the first bad leaf is named: index, table, record id, why).

    manage.py verify_archive firm-a
    manage.py verify_archive firm-a --all-anchors      # every checkpoint against its copies
    manage.py verify_archive firm-a --files            # and re-read every stored media file
    manage.py verify_archive firm-a --public-key       # print the tenant's public key (PEM)
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from archive.ledger.services import CHUNK, signing_keys
from archive.ledger.signing import public_key_pem
from archive.ledger.verification import verify_log
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.models import Tenant


class Command(BaseCommand):
    help = "Verify a tenant's archive against its signed and anchored Merkle log checkpoints."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument(
            "--all-anchors",
            action="store_true",
            help="compare every checkpoint with its anchored copies (default: the newest ones)",
        )
        parser.add_argument(
            "--files",
            action="store_true",
            help="also re-read every stored attachment against the SHA-256 it was archived with",
        )
        parser.add_argument(
            "--public-key",
            action="store_true",
            help="print the tenant's checkpoint public key (PEM) and exit",
        )
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK,
            help=f"rows read per query while streaming (default {CHUNK})",
        )

    def handle(self, *args, slug: str, all_anchors: bool, public_key: bool, chunk_size: int,
               files: bool = False, **options) -> None:  # fmt: skip
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"no tenant {slug!r}", returncode=2)
        if public_key:
            self._print_public_key(tenant)
            return
        report = verify_log(
            tenant=tenant, chunk_size=max(chunk_size, 1), all_anchors=all_anchors, files=files
        )
        latest = report.latest
        self.stdout.write(
            f"Archive log of {tenant.slug}: {report.leaves} leaves, {report.queued} queued for the "
            f"next checkpoint; {report.checkpoints} checkpoints"
            + (
                f", latest: size {latest['size']}, root {latest['root']}, signed {latest['time']}"
                if latest
                else ", none signed yet"
            )
        )
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        record_event(
            "archive.verified",
            tenant=tenant,
            actor=Actor.command("verify_archive"),
            details={
                "ok": report.ok,
                "leaves": report.leaves,
                "checkpoint": latest,
                "problems": len(report.problems) + report.more_problems,
                "first_bad": str(report.first_bad) if report.first_bad else None,
            },
        )
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    "OK: every record matches its leaf, the records reproduce every signed root, "
                    "and the signatures and anchored copies agree."
                )
            )
            return
        count = len(report.problems) + report.more_problems
        self.stdout.write(self.style.ERROR(f"NOT OK: {count} problem(s)"))
        self.stdout.write(f"first bad leaf: {report.first_bad}")
        for problem in report.problems:
            self.stdout.write(f"  - {problem}")
        if report.more_problems:
            self.stdout.write(f"  ... and {report.more_problems} more")
        raise CommandError(
            f"the archive of {tenant.slug} does not verify: {report.first_bad}", returncode=1
        )

    def _print_public_key(self, tenant: Tenant) -> None:
        keys = signing_keys(tenant=tenant)
        if not keys:
            raise CommandError(f"{tenant.slug} has no checkpoint key yet", returncode=1)
        for key in keys:
            state = "current" if key is keys[-1] else "retired"
            self.stdout.write(
                f"# Ed25519 checkpoint key #{key.sequence} of {tenant.slug} ({state}, from "
                f"{key.created_at:%Y-%m-%d %H:%M:%S}Z), key id {key.key_id}"
            )
            self.stdout.write(public_key_pem(bytes(key.public_key)), ending="")

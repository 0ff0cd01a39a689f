"""``manage.py rotate_log_key SLUG [--reason TEXT]``: retire the tenant's checkpoint key for a new
one, endorsed by the old key, and sign and anchor a checkpoint with it at once. Audited.

Do it when the key may be exposed, or on a schedule. Give auditors the new public key
(``verify_archive SLUG --public-key`` prints the whole chain); what the old key signed stays
verifiable, and every checkpoint of the new key carries the old key's endorsement of it.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from archive.ledger.services import rotate_signing_key
from compliance_hub.audit.actors import Actor
from compliance_hub.management.commands._helpers import tenant_by_slug


class Command(BaseCommand):
    help = "Rotate a tenant's Merkle log checkpoint key (the old key endorses the new one)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the tenant's slug")
        parser.add_argument("--reason", default="", help="why, for the audit trail")

    def handle(self, *args, slug: str, reason: str, **options) -> None:
        tenant = tenant_by_slug(slug)
        key = rotate_signing_key(
            tenant=tenant, actor=Actor.command("cli:rotate_log_key"), reason=reason
        )
        self.stdout.write(self.style.SUCCESS(f"{slug}: checkpoint key #{key.sequence} is current"))
        self.stdout.write(f"key id {key.key_id}")

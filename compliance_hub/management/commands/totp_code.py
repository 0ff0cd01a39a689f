"""Print a local user's current TOTP code (demo and development only)."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Print the current two-factor code of a local user (not available in production)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("email")
        parser.add_argument("--secret", action="store_true", help="Print the base32 secret too")

    def handle(self, *args, email: str, secret: bool, **options) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError("totp_code is for demo and development machines only.")
        authenticator = Authenticator.objects.filter(
            user__email__iexact=email, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"{email} has no authenticator app set up.")
        base32 = decrypt(authenticator.data["secret"])
        period = getattr(settings, "MFA_TOTP_PERIOD", 30)
        counter = int(time.time()) // period
        if secret:
            self.stdout.write(f"secret: {base32}")
        remaining = period - int(time.time()) % period
        self.stderr.write(f"valid for {remaining} more seconds")
        self.stdout.write(format_hotp_value(hotp_value(base32, counter)))

"""Create the demo tenant with an admin, an officer, a senior officer and an auditor, ready to
log in."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from compliance_hub.accounts.models import User
from compliance_hub.accounts.services import add_member
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Role, Tenant
from compliance_hub.tenancy.services import create_tenant
from compliance_hub.tenancy.signals import demo_seeded

DEMO_PASSWORD = "demo-Compliance-2026"
PEOPLE = [
    ("admin@demo.example", "Ana Admin", Role.ADMIN),
    ("officer@demo.example", "Otto Officer", Role.OFFICER),
    ("senior@demo.example", "Sena Senior", Role.SENIOR_OFFICER),
    ("auditor@demo.example", "Aude Auditor", Role.AUDITOR),
]


def ensure_totp(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
        RecoveryCodes.activate(user)


class Command(BaseCommand):
    help = "Create (idempotently) the demo tenant 'demo' and its people. Not in production."

    def handle(self, *args, **options) -> None:
        if settings.IS_PRODUCTION:
            raise CommandError(
                "seed_demo creates known passwords; it refuses to run in production."
            )
        with transaction.atomic():
            tenant = Tenant.objects.filter(slug="demo").first() or create_tenant(
                slug="demo", name="Demo Bank", actor=Actor.command()
            )
            for email, full_name, role in PEOPLE:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
                if not user.memberships.filter(tenant=tenant).exists():
                    add_member(tenant=tenant, user=user, role=role, actor=Actor.command())
                ensure_totp(user)
            admin = User.objects.get(email=PEOPLE[0][0])
            # The demo's data is the demo admin's doing, as if they had entered it.
            demo_seeded.send(sender=self.__class__, tenant=tenant, actor=Actor.for_user(admin))
        self.stdout.write(
            self.style.SUCCESS(f"Demo tenant '{tenant.slug}' ({tenant.name}) is ready.")
        )
        self.stdout.write(f"  Password for everyone: {DEMO_PASSWORD}")
        for email, _name, role in PEOPLE:
            self.stdout.write(f"  {role:<14} {email}")
        self.stdout.write(
            "  Two-factor codes: .venv/bin/python manage.py totp_code EMAIL "
            "(or add the secret it prints with --secret to an authenticator app)."
        )

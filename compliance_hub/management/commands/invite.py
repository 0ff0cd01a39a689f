from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from compliance_hub.accounts.services import invite_user
from compliance_hub.audit.actors import Actor

from ._helpers import ROLE_CHOICES, tenant_by_slug


class Command(BaseCommand):
    help = "Invite a person to a tenant with a role; mails the link and prints it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("email")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)

    def handle(self, *args, slug: str, email: str, role: str, **options) -> None:
        tenant = tenant_by_slug(slug)
        try:
            validate_email(email)
            invitation, link = invite_user(
                tenant=tenant, email=email, role=role, actor=Actor.command()
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Invited {invitation.email} to {tenant.slug} as {role}; "
            f"expires {invitation.expires_at:%Y-%m-%d %H:%M} UTC."
        )
        self.stdout.write(link)

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.services import create_tenant


class Command(BaseCommand):
    help = "Create a tenant (a firm). Then invite its first admin with: manage.py invite"

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", help="Short identifier: lower-case letters, digits, hyphens")
        parser.add_argument("--name", required=True, help="The firm's display name")
        parser.add_argument(
            "--country",
            default="",
            help="Where the firm is established, two letters (DE, GB): EU/EEA firms get "
            "pseudonymised alert review by default",
        )

    def handle(self, *args, slug: str, name: str, country: str, **options) -> None:
        try:
            tenant = create_tenant(slug=slug, name=name, country=country, actor=Actor.command())
        except ValidationError as error:
            messages = [m for msgs in error.message_dict.values() for m in msgs]
            raise CommandError(" ".join(messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Created tenant {tenant.slug} ({tenant.name})."))
        self.stdout.write(
            f"Invite its first admin: manage.py invite {tenant.slug} EMAIL --role admin"
        )

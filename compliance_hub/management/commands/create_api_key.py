from django.core.management.base import BaseCommand, CommandError

from compliance_hub.accounts.models import User
from compliance_hub.api.keys import KeyRefused, issue_api_key
from compliance_hub.audit.actors import Actor

from ._helpers import ROLE_CHOICES, tenant_by_slug


class Command(BaseCommand):
    help = "Issue an API key for a tenant. The key is printed once, as the last line of output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
        parser.add_argument("--name", default="CLI key", help="What uses this key")
        parser.add_argument(
            "--for",
            dest="for_email",
            default="",
            metavar="EMAIL",
            help="The member the key acts for (claims and moves alerts as them; at most their "
            "role; stops working when they leave or their role drops)",
        )

    def handle(self, *args, slug: str, role: str, name: str, for_email: str, **options) -> None:
        tenant = tenant_by_slug(slug)
        member = None
        if for_email:
            member = User.objects.filter(email__iexact=for_email.strip()).first()
            if member is None:
                raise CommandError(f"No user with the email {for_email!r}.")
        try:
            issued = issue_api_key(
                tenant=tenant, role=role, name=name, actor=Actor.command(), for_user=member
            )
        except KeyRefused as error:
            raise CommandError(str(error)) from None
        acting = f", acting for {member.email}" if member is not None else ""
        self.stderr.write(
            f"API key {issued.api_key.name!r} ({role}{acting}) for {tenant.slug}; store it now, "
            "it is not shown again. Use it as: Authorization: Api-Key <key>"
        )
        self.stdout.write(issued.plaintext)

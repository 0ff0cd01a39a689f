from django.core.management.base import BaseCommand

from compliance_hub.api.keys import issue_api_key
from compliance_hub.audit.actors import Actor

from ._helpers import ROLE_CHOICES, tenant_by_slug


class Command(BaseCommand):
    help = "Issue an API key for a tenant. The key is printed once, as the last line of output."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--role", required=True, choices=ROLE_CHOICES)
        parser.add_argument("--name", default="CLI key", help="What uses this key")

    def handle(self, *args, slug: str, role: str, name: str, **options) -> None:
        tenant = tenant_by_slug(slug)
        issued = issue_api_key(tenant=tenant, role=role, name=name, actor=Actor.command())
        self.stderr.write(
            f"API key {issued.api_key.name!r} ({role}) for {tenant.slug}; store it now, it is not "
            "shown again. Use it as: Authorization: Api-Key <key>"
        )
        self.stdout.write(issued.plaintext)

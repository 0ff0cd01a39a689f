from django.core.management.base import BaseCommand, CommandError

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.models import Tenant
from compliance_hub.tenancy.services import set_tenant_status


class Command(BaseCommand):
    help = "Suspend or re-activate a tenant. A suspended tenant's users and API keys are refused."

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug")
        parser.add_argument("status", choices=Tenant.Status.values)

    def handle(self, *args, slug: str, status: str, **options) -> None:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {slug!r}.")
        set_tenant_status(tenant=tenant, status=status, actor=Actor.command())
        self.stdout.write(f"Tenant {slug} is now {status}.")

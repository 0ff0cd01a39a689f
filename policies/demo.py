"""The demo tenant's policies: three built-in packs switched on, and the demo's messages scanned,
so an officer sees what policies found from the first login. Idempotent."""

from __future__ import annotations

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Policy
from .packs import pack
from .scanning import scan_unscanned
from .services import create_policy, set_active

DEMO_PACKS = ("financial_services", "data_protection", "security")


def seed_demo_policies(*, tenant: Tenant, actor: Actor) -> int:
    """Switch the demo packs on and scan the demo's messages; returns the hits raised."""
    with tenant_scope(tenant):
        for slug in DEMO_PACKS:
            for document in pack(slug).documents:
                policy = Policy.objects.filter(name=document["name"]).first()
                if policy is None:
                    policy, _ = create_policy(
                        tenant=tenant, actor=actor, document=document, pack=slug
                    )
                set_active(policy=policy, actor=actor, active=True)
    return scan_unscanned(tenant=tenant)

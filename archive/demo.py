"""The demo tenant's archive settings: a retention policy and a legal hold, so the retention,
holds and export pages show what they are for from the first login. Idempotent."""

from __future__ import annotations

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .holds.models import LegalHold
from .holds.services import place_hold
from .retention.models import RetentionPolicy
from .retention.services import create_policy

DEMO_MATTER = "PETR4 trading inquiry"
DEMO_CLIENT = "5511912345678"  # Carlos Silva, the demo's client (ingestion/demo.py)


def seed_demo_archive(*, tenant: Tenant, actor: Actor) -> None:
    with tenant_scope(tenant):  # as a page's request would be
        if not RetentionPolicy.objects.exists():
            create_policy(tenant=tenant, actor=actor, preset="finra_4511")
        if not LegalHold.objects.filter(matter=DEMO_MATTER).exists():
            place_hold(
                tenant=tenant,
                actor=actor,
                matter=DEMO_MATTER,
                reason="Regulator's request for every conversation with this client.",
                counterparty=DEMO_CLIENT,
            )

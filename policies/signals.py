"""Policies react to platform events: the demo tenant gets its packs switched on."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from compliance_hub.tenancy.signals import demo_seeded

from .demo import seed_demo_policies


@receiver(demo_seeded, dispatch_uid="policies-demo")
def seed_demo_policies_for_demo_tenant(sender: Any, tenant: Any, actor: Any, **kwargs: Any) -> None:
    seed_demo_policies(tenant=tenant, actor=actor)

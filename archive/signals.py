"""The archive reacts to platform events: the demo tenant gets a retention policy and a hold."""

from __future__ import annotations

from django.dispatch import receiver

from compliance_hub.tenancy.signals import demo_seeded

from .demo import seed_demo_archive


@receiver(demo_seeded, dispatch_uid="archive-demo-settings")
def seed_demo_archive_for_demo_tenant(sender, tenant, actor, **kwargs) -> None:
    seed_demo_archive(tenant=tenant, actor=actor)

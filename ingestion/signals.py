"""Ingestion reacts to platform events: the demo tenant gets its WhatsApp capture."""

from __future__ import annotations

from django.dispatch import receiver

from compliance_hub.tenancy.signals import demo_seeded

from .demo import seed_demo_capture


# After consent's receiver (consent comes first in INSTALLED_APPS): the employees exist.
@receiver(demo_seeded, dispatch_uid="ingestion-demo-capture")
def seed_demo_capture_for_demo_tenant(sender, tenant, actor, **kwargs) -> None:
    seed_demo_capture(tenant=tenant, actor=actor)

"""Consent reacts to platform events: a new tenant gets the default notice, the demo employees."""

from __future__ import annotations

from django.dispatch import receiver

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.signals import demo_seeded, tenant_created

from .demo import seed_demo_employees
from .services import publish_default_notice


@receiver(tenant_created, dispatch_uid="consent-default-notice")
def publish_default_notice_for_new_tenant(sender, tenant, **kwargs) -> None:
    # The platform publishes the shipped notice, not whoever created the tenant.
    publish_default_notice(tenant=tenant, actor=Actor.system())


@receiver(demo_seeded, dispatch_uid="consent-demo-employees")
def seed_demo_employees_for_demo_tenant(sender, tenant, actor, **kwargs) -> None:
    seed_demo_employees(tenant=tenant, actor=actor)

"""Every new tenant starts with the default consent notice published as version 1."""

from __future__ import annotations

from django.dispatch import receiver

from compliance_hub.tenancy.signals import tenant_created


@receiver(tenant_created, dispatch_uid="consent-default-notice")
def publish_default_notice_for_new_tenant(sender, tenant, **kwargs) -> None:
    from .services import publish_default_notice

    publish_default_notice(tenant=tenant)

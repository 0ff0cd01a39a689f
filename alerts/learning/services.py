"""Writes of the learning loop on the alerts side: an admin leaves a decided alert out of the
firm's training examples, or puts it back. Each audits itself."""

from __future__ import annotations

from django.db import transaction

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..models import Alert
from .models import ExampleExclusion
from .selectors import decided_alerts


class ExampleError(Exception):
    """A refused change; ``str(error)`` is the sentence the page shows."""


def exclude_example(*, tenant: Tenant, actor: Actor, alert_id: int) -> ExampleExclusion:
    """Leave one decided alert out of retraining (again: nothing changes)."""
    with transaction.atomic(), tenant_scope(tenant):
        alert = decided_alerts(tenant=tenant).filter(pk=alert_id).first()
        if alert is None:
            raise ExampleError(
                "That alert is not a training example (not closed as true or false positive)."
            )
        exclusion, created = ExampleExclusion.objects.get_or_create(
            tenant=tenant,
            alert=alert,
            defaults={"excluded_by": actor.user, "excluded_by_label": actor.label},
        )
        if created:
            record_event("alert.example_excluded", tenant=tenant, actor=actor, target=alert)
    return exclusion


def include_example(*, tenant: Tenant, actor: Actor, alert_id: int) -> bool:
    """Put an excluded alert back among the examples; False when it was not excluded."""
    with transaction.atomic(), tenant_scope(tenant):
        alert = Alert.objects.filter(tenant=tenant, pk=alert_id).first()
        if alert is None:
            raise ExampleError("No such alert.")
        deleted, _ = ExampleExclusion.objects.filter(tenant=tenant, alert=alert).delete()
        if deleted:
            record_event("alert.example_included", tenant=tenant, actor=actor, target=alert)
    return bool(deleted)

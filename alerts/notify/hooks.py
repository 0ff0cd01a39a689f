"""Receivers that hand alert changes to the notification tasks, after the change commits (a
rolled-back change tells nobody; a task never runs inside the officer's request or the scan)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from ..models import Alert, AlertEvent
from .reactions import NOTIFYING_ACTIONS
from .selectors import HIGH_SEVERITIES

log = logging.getLogger(__name__)
# Alerts of the announced hits raised longer ago than this were announced before.
RAISED_RECENTLY = timedelta(hours=1)


def event_saved(*, instance: AlertEvent, created: bool, **_: object) -> None:
    """post_save of AlertEvent: the changes that tell someone go to notify_event_task."""
    if not created or instance.action not in NOTIFYING_ACTIONS:
        return
    if instance.action == AlertEvent.Action.TRANSITIONED and instance.to_status != "escalated":
        return
    if instance.action == AlertEvent.Action.COMMENTED and not instance.details.get("mentions"):
        return
    from .tasks import notify_event_task

    tenant_id, event_id = instance.tenant_id, instance.pk
    transaction.on_commit(lambda: notify_event_task.delay(tenant_id=tenant_id, event_id=event_id))


def alerts_raised(
    *, tenant: Tenant, message_ids: Sequence[int], version_ids: Sequence[int], **_: object
) -> None:
    """Receiver of policies.hooks.hits_raised, connected after the one that raises the alerts:
    the new high-severity ones among them go to notify_raised_task. Never raises into the scan."""
    from .tasks import notify_raised_task

    try:
        with tenant_scope(tenant):
            ids = list(
                Alert.objects.filter(
                    tenant=tenant, message_id__in=message_ids, policy_version_id__in=version_ids,
                    severity__in=HIGH_SEVERITIES,
                    created_at__gte=timezone.now() - RAISED_RECENTLY,
                ).values_list("pk", flat=True)
            )  # fmt: skip
        if ids:
            tenant_id = tenant.pk
            transaction.on_commit(
                lambda: notify_raised_task.delay(tenant_id=tenant_id, alert_ids=ids)
            )
    except Exception:
        log.exception("new-alert notifications of tenant %s not queued", tenant.pk)

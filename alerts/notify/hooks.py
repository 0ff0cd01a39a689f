"""Receivers that hand alert changes to the notification tasks, after the change commits (a
rolled-back change tells nobody; a task never runs inside the officer's request or the scan)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from ..models import Alert, AlertEvent
from .reactions import NOTIFYING_ACTIONS
from .selectors import HIGH_SEVERITIES

log = logging.getLogger(__name__)


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


def announce_raised(*, tenant_id: int, hit_ids: Sequence[int], since: datetime) -> None:
    """The new high-severity alerts among those of ``hit_ids`` raised at ``since`` or later go to
    notify_raised_task after the raise commits. Called by alerts/raising.py's one raising step,
    so every path that raises an alert (the scan's receiver, the sweeper, a retried task) tells
    people the same way; the notification is keyed per alert, so two raisers racing on the same
    hits tell nobody twice. Never raises into the scan or the sweep."""
    from .tasks import notify_raised_task

    try:
        ids = list(
            Alert.objects.filter(
                tenant_id=tenant_id, hit_id__in=hit_ids, severity__in=HIGH_SEVERITIES,
                created_at__gte=since,
            ).values_list("pk", flat=True)
        )  # fmt: skip
        if ids:
            transaction.on_commit(
                lambda: notify_raised_task.delay(tenant_id=tenant_id, alert_ids=ids)
            )
    except Exception:
        log.exception("new-alert notifications of tenant %s not queued", tenant_id)

"""Platform tasks (scheduled by beat)."""

from __future__ import annotations

import time

from celery import shared_task
from django.core.cache import cache

HEARTBEAT_KEY = "celery:heartbeat"


@shared_task(name="compliance_hub.heartbeat", queue="default")
def heartbeat_task() -> float:
    """Beat sends this every minute; /readyz?worker=1 reports how old the last beat is."""
    now = time.time()
    cache.set(HEARTBEAT_KEY, now, timeout=None)
    return now

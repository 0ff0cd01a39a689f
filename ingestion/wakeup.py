"""Waking the drain: at most one drain task waits in the queue per tenant, however many
deliveries arrive.

Publishing a Celery task per delivery cost the webhook more CPU than everything else it does
(docs/benchmarks.md, webhook acceptance); a Redis ``SET NX`` costs a tenth of that. The order
that makes it safe: the drain forgets the mark *before* it looks for pending deliveries, and
the webhook sets it *after* its delivery committed. So either the mark was still set, and the
drain that is about to start (or running) finds the delivery, or the webhook sets it and queues
a new drain. The mark expires, so a lost task never blocks the tenant for long; the sweeper
(ingestion/tasks.py) is the net under all of it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

MARK_SECONDS = 30


def _mark(tenant_id: int) -> str:
    return f"{settings.CACHES['default']['KEY_PREFIX']}:ingestion:drain-queued:{tenant_id}"


def _redis():
    # The cache's Redis, spoken to directly: Django's cache API pickles and versions the value,
    # which cost as much again as the round trip itself (this runs on every delivery).
    return get_redis_connection("default")


def wake_drain(tenant_id: int) -> bool:
    """Queue a drain of the tenant's pending deliveries unless one is already waiting. Never
    raises: with Redis down the deliveries stay pending and the sweeper queues them."""
    from .tasks import drain_deliveries_task  # the tasks module imports processing, and this

    try:
        if not _redis().set(_mark(tenant_id), 1, nx=True, ex=MARK_SECONDS):
            return False
    except Exception:  # the cache is down; the sweeper covers it
        logger.warning(
            "no drain mark for tenant %s (cache down); the sweeper will queue it", tenant_id
        )
        return False
    try:
        drain_deliveries_task.delay(tenant_id=tenant_id)
    except Exception as error:  # the broker is down; the sweeper covers it
        logger.warning(
            "could not queue a drain for tenant %s (%s); the sweeper will", tenant_id, error
        )
        drain_starting(tenant_id)  # no drain is queued: the next delivery may try again
        return False
    return True


def drain_starting(tenant_id: int) -> None:
    """Called by a drain before it claims anything (see the module's docstring)."""
    try:
        _redis().delete(_mark(tenant_id))
    except Exception:  # the mark expires by itself
        logger.warning("could not clear the drain mark of tenant %s", tenant_id)

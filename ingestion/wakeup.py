"""Waking the drain: at most one drain task waits in the queue per tenant, however many
deliveries arrive.

Publishing a Celery task per delivery cost the webhook more CPU than everything else it does
(docs/benchmarks.md, webhook acceptance); a Redis ``SET NX`` costs a tenth of that. The order
that makes it safe: the drain forgets the mark *before* it looks for pending deliveries, and
the webhook sets it *after* its delivery committed. So either the mark was still set, and the
drain that is about to start (or running) finds the delivery, or the webhook sets it and queues
a new drain. The mark expires, so a lost task never blocks the tenant for long; the sweeper
(ingestion/tasks.py) is the net under all of it.

At 1,000 deliveries/s even the ``SET NX`` was a third of the webhook's own CPU (redis-py's
command building and the round trip: docs/benchmarks.md, headroom on the webhook), and nearly
every one found the mark already set. So the webhook calls :func:`wake_drain_soon`, which keeps
the order above while making at most one ``SET NX`` per tenant per window in each process: a
delivery committed within the window of the last attempt is noted, and a thread of the process
makes one attempt for all of them when the window ends. Every committed delivery is still
followed by an attempt made after its commit, only up to a window later.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

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


class _CoalescedWakeups:
    """Per process: when each tenant's last wake-up attempt was made, and the tenants with a
    delivery committed since (due when the window after that attempt ends)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.attempted: dict[int, float] = {}
        self.pending: set[int] = set()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.window = 0.0

    def soon(self, tenant_id: int, window: float) -> None:
        now = time.monotonic()
        with self.lock:
            self.window = window
            if now - self.attempted.get(tenant_id, -window) >= window:
                self.attempted[tenant_id] = now
                self.pending.discard(tenant_id)  # the attempt below covers them
                now_due = True
            else:
                self.pending.add(tenant_id)
                self._ensure_thread()
                self.changed.notify()
                now_due = False
        if now_due:
            wake_drain(tenant_id)

    def _ensure_thread(self) -> None:
        # Started in the process that needs it (a forked server worker has no thread of its
        # parent's).
        if self.thread is not None and self.thread.is_alive() and self.pid == os.getpid():
            return
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._run, name="drain-wakeups", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.pending:
                    self.changed.wait()
                window, now = self.window, time.monotonic()
                due = {t for t in self.pending if now - self.attempted[t] >= window}
                if not due:
                    first = min(self.attempted[t] for t in self.pending)
                    self.changed.wait(timeout=first + window - now)
                    continue
                self.pending -= due
                for tenant_id in due:
                    self.attempted[tenant_id] = now
            for tenant_id in due:
                wake_drain(tenant_id)

    def flush(self) -> None:
        """The attempts still waiting, now (when the process exits)."""
        with self.lock:
            due, self.pending = self.pending, set()
        for tenant_id in due:
            wake_drain(tenant_id)


_coalesced = _CoalescedWakeups()
atexit.register(_coalesced.flush)


def wake_drain_soon(tenant_id: int) -> None:
    """:func:`wake_drain`, for a delivery that has just committed: now, or at the end of the
    tenant's window (``WEBHOOK_WAKE_WINDOW_SECONDS``) if this process made an attempt within
    it. Never raises, never waits for Redis longer than the attempt itself."""
    window = settings.WEBHOOK_WAKE_WINDOW_SECONDS
    if window <= 0:
        wake_drain(tenant_id)
    else:
        _coalesced.soon(tenant_id, window)

"""The consent gate: capture or refuse, for a tenant, a WhatsApp phone number id and a moment.

Ingestion calls :func:`decide` for every message, so it answers from a per-process cache of
each number's history (see consent/timeline.py for the decision itself). Any change that can
alter a decision (consent events, number assignments, offboarding, notice deadlines) calls
:func:`invalidate` after commit: it bumps the tenant's generation in Redis and publishes it, and
every process drops that tenant's cached histories when the message arrives. A process that lost
its subscription clears its whole cache when it reconnects, and cached histories also age out,
so a missed message can never keep a stale answer for long.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.conf import settings
from django.db import transaction

from compliance_hub.tenancy.context import tenant_scope

from .models import ConsentEvent, NumberAssignment
from .selectors import reconsent_deadlines
from .timeline import ConsentChange, Decision, Holding, NumberHistory
from .timeline import decide as decide_from_history

logger = logging.getLogger(__name__)

# Pub/sub channels are not per Redis database: parallel test workers each have a prefix (settings).
CHANNEL = f"{settings.REDIS_CHANNEL_PREFIX}consent-gate:invalidate"
CACHE_TTL_SECONDS = 60.0


class _GateCache:
    """Histories by (tenant id, phone number id), dropped per tenant on invalidation."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], tuple[float, NumberHistory]] = {}
        self._lock = threading.Lock()
        self._listener: threading.Thread | None = None
        self._listening = threading.Event()

    def get(self, tenant_id: int, phone_number_id: str) -> NumberHistory | None:
        entry = self._entries.get((tenant_id, phone_number_id))
        if entry is None:
            return None
        loaded_at, history = entry
        if time.monotonic() - loaded_at > CACHE_TTL_SECONDS:
            return None
        return history

    def put(self, tenant_id: int, phone_number_id: str, history: NumberHistory) -> None:
        # Only cache while invalidations can reach us; otherwise every call reads the database.
        if self._listening.is_set():
            self._entries[(tenant_id, phone_number_id)] = (time.monotonic(), history)

    def drop_tenant(self, tenant_id: int) -> None:
        with self._lock:
            for key in [key for key in self._entries if key[0] == tenant_id]:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def ensure_listening(self) -> None:
        if self._listener is not None and self._listener.is_alive():
            return
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._listener = threading.Thread(
                target=self._listen, name="consent-gate-invalidation", daemon=True
            )
            self._listener.start()
        self._listening.wait(timeout=2.0)

    def _listen(self) -> None:
        import redis

        while True:
            try:
                client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                self.clear()  # whatever was cached before (re)subscribing may be stale
                self._listening.set()
                for message in pubsub.listen():
                    try:
                        self.drop_tenant(int(message["data"]))
                    except (TypeError, ValueError):
                        self.clear()
            except Exception:  # keep listening whatever Redis does
                self._listening.clear()
                self.clear()
                logger.warning(
                    "consent gate lost its invalidation channel; retrying", exc_info=True
                )
                time.sleep(1.0)


_cache = _GateCache()


def load_history(*, tenant_id: int, phone_number_id: str) -> NumberHistory:
    """Everything the decision needs about one number, read within the tenant's scope."""
    with tenant_scope(tenant_id):
        assignments = list(
            NumberAssignment.objects.filter(whatsapp_phone_number_id=phone_number_id)
            .select_related("employee")
            .order_by("assigned_at", "id")
        )
        employee_ids = {a.employee_id for a in assignments}
        events = list(
            ConsentEvent.objects.filter(employee_id__in=employee_ids)
            .order_by("occurred_at", "id")
            .values_list("employee_id", "occurred_at", "kind", "notice_version")
        )
        deadlines = reconsent_deadlines()
    holdings = [
        Holding(
            employee_id=a.employee_id,
            start=a.assigned_at,
            end=a.released_at,
            deactivated_at=a.employee.deactivated_at,
        )
        for a in assignments
    ]
    changes: dict[int, list[ConsentChange]] = {}
    for employee_id, at, kind, version in events:
        changes.setdefault(employee_id, []).append(ConsentChange(at, kind, version))
    return NumberHistory(
        holdings=holdings,
        changes=changes,
        deadlines=deadlines,
    )


def decide(*, tenant_id: int, phone_number_id: str, at: datetime) -> Decision:
    """Capture or refuse a message of ``phone_number_id`` in ``tenant_id`` sent at ``at``."""
    _cache.ensure_listening()
    history = _cache.get(tenant_id, phone_number_id)
    if history is None:
        history = load_history(tenant_id=tenant_id, phone_number_id=phone_number_id)
        _cache.put(tenant_id, phone_number_id, history)
    return decide_from_history(history, at)


class _Commits(threading.local):
    """Which tenants this thread's current commit has already published.

    Each invalidation is stamped with the number of the commit it will run after (``epoch``);
    the first callback of a commit to run moves the number on, so callbacks registered later
    belong to the next commit. A rolled-back transaction or savepoint needs no clean-up: Django
    discards its callbacks, and the ones that survive still publish once per tenant."""

    def __init__(self) -> None:
        self.epoch = 0
        self.published: dict[int, int] = {}  # tenant id -> epoch in which it was published


_commits = _Commits()


class _Publish:
    """The after-commit work of :func:`invalidate`; runs its publish once per tenant per commit."""

    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.epoch = _commits.epoch

    def __call__(self) -> None:
        _commits.epoch = max(_commits.epoch, self.epoch + 1)
        if _commits.published.get(self.tenant_id) == self.epoch:
            return  # another change of the same commit already told everyone
        _commits.published[self.tenant_id] = self.epoch
        _cache.drop_tenant(self.tenant_id)
        try:
            _redis().publish(CHANNEL, str(self.tenant_id))
        except Exception:
            # Other processes then rely on the cache's age limit; say so loudly.
            logger.error("consent gate invalidation for tenant %s not published", self.tenant_id)


_redis_client = None


def _redis():
    global _redis_client
    if _redis_client is None:
        import redis

        _redis_client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
    return _redis_client


def invalidate(tenant_id: int) -> None:
    """Tell every process that this tenant's decisions may have changed (after commit).

    Called once per change; a transaction that changes many things (a CSV import) still
    publishes once per tenant. Each call adds a small callback (Django offers no public way to
    see what a transaction already holds, nor a hook on rollback); the callbacks of one commit
    share a stamp, and only the first of them per tenant publishes."""
    transaction.on_commit(_Publish(tenant_id))


def clear_cache() -> None:
    _cache.clear()


__all__ = ["Decision", "clear_cache", "decide", "invalidate", "load_history"]

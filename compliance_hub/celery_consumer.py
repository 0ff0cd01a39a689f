"""The worker's broker consumer, with one defect of Celery 5.7 worked around.

When Redis goes away, Celery's reconnect path ``collect()``s the broken connection, which
detaches its transport from the connection's address (``transport.client = None``), and only
then closes it. Everything that later touches a channel of that connection needs the address
to open a Redis client: putting back the messages the worker held unacknowledged (on close),
and acknowledging a task that was running across the reconnect and ends after it. Both then
raise an ``AttributeError`` that Celery does not treat as a connection error, and the worker
logs "Unrecoverable error" and exits instead of reconnecting (found by tests/faults, Redis
stopped while webhooks arrive; no release of Celery or kombu fixes it yet).

Here the broken connection's transport keeps its address through ``collect()``, as it did
before Celery's new close step: the put-back either reaches Redis or fails with a connection
error that Celery ignores, and a late acknowledgement opens a fresh client to Redis (or, with
Redis still down, fails as a connection error and the message comes back after the visibility
timeout). Every task is idempotent, so a message both put back and acknowledged late costs
one repeated run.
"""

from __future__ import annotations

from collections.abc import Callable

from celery.worker.consumer import Consumer as CeleryConsumer
from kombu import Connection


def keep_the_address(connection: Connection) -> None:
    """Make this connection's ``collect()`` leave its transport able to reach the broker."""
    transport = connection.transport
    collect: Callable[..., object] = connection.collect

    def collect_keeping_the_address(*args: object, **kwargs: object) -> object:
        try:
            return collect(*args, **kwargs)
        finally:
            if transport.client is None:
                transport.client = connection

    # Celery looks the method up when it calls it, so this instance's collect is the one used.
    connection.collect = collect_keeping_the_address  # type: ignore[method-assign]


class Consumer(CeleryConsumer):
    """``CELERY_WORKER_CONSUMER``: Celery's consumer whose reconnect survives the defect above."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        if self.connection is not None:
            keep_the_address(self.connection)
        super().on_connection_error_after_connected(exc)

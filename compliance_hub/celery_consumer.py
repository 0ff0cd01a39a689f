"""The worker's broker consumer, with one defect of Celery 5.7 worked around.

When Redis goes away while the worker holds messages it has not acknowledged yet (a task
running, or one reserved by the prefetch), Celery's reconnect path first ``collect()``s the
broken connection, which detaches its transport, and then ``close()``s it. Closing tries to put
the unacknowledged messages back, which needs the detached transport's address, and raises an
``AttributeError`` that Celery does not treat as a connection error: the worker logs
"Unrecoverable error" and exits instead of reconnecting (found by tests/faults, Redis stopped
while webhooks arrive; no release of Celery or kombu fixes it yet).

Here the close of that broken connection may fail that way and the reconnect goes on. Nothing
is lost: the messages stay in Redis's unacknowledged set and Redis's transport restores them
after the visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS), every task is idempotent, and
the sweepers queue whatever is still pending long before that.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery.worker.consumer import Consumer as CeleryConsumer

logger = logging.getLogger(__name__)


def _tolerant(close: Callable[[], object]) -> Callable[[], object]:
    def close_detached() -> object:
        try:
            return close()
        except AttributeError as error:
            logger.warning(
                "the broken broker connection could not put back its unacknowledged messages "
                "(%s); Redis restores them after the visibility timeout",
                error,
            )
            return None

    return close_detached


class Consumer(CeleryConsumer):
    """``CELERY_WORKER_CONSUMER``: Celery's consumer whose reconnect survives the defect above."""

    def on_connection_error_after_connected(self, exc: Exception) -> None:
        connection = self.connection
        if connection is not None:
            # Celery looks the method up when it calls it, so this instance's close is the one
            # used; only the broken connection's close tolerates the detached transport.
            connection.close = _tolerant(connection.close)
        super().on_connection_error_after_connected(exc)

"""Waiting for something another process does (a Celery worker, a server starting up): the one
polling loop the tests share, so every wait has the same deadline and the same failure."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

WORKER_TIMEOUT = 60.0  # seconds; a cold worker on a busy two-core machine needs this much


def wait_until(
    condition: Callable[[], T],
    *,
    failure: str | Callable[[], str],
    timeout: float = WORKER_TIMEOUT,
    interval: float = 0.05,
) -> T:
    """Call ``condition`` until it returns something truthy and return that; fail the test with
    ``failure`` (a callable is asked only then, e.g. to read a server's log) after ``timeout``
    seconds. ``condition`` may itself fail the test early, e.g. when the process it waits for
    has exited."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            pytest.fail(failure() if callable(failure) else failure)
        time.sleep(interval)

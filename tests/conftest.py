"""Test set-up: real PostgreSQL and Redis, every ORM query under the application's role.

The suite connects as the owner (pytest-django creates the test database as the connection's
user), then switches to the application role with SET ROLE, so Row-Level Security and the
withheld privileges apply to the tests exactly as to the product
(shared/reference/postgres-tenancy.md, fact 13).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.backends.postgresql.operations import DatabaseOperations

from compliance_hub.db_roles import set_role
from consent import gate

pytest_plugins = ["tests.fixtures", "tests.browser", "tests.connected"]


def _flush_as_owner(original):
    """Transactional tests end with a TRUNCATE of every table: the owner does that (the app role
    may not, and the append-only trigger lets only the owner through, with app.allow_flush)."""

    def execute_sql_flush(ops, sql_list):
        connection = ops.connection
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
            cursor.execute("SELECT set_config('app.allow_flush', 'on', false)")
        try:
            return _retrying_deadlocks(lambda: original(ops, sql_list))
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('app.allow_flush', '', false)")
            set_role(connection, settings.DB_APP_ROLE)

    return execute_sql_flush


def _retrying_deadlocks(flush, attempts: int = 5):
    """A real Celery worker may still be finishing a test's follow-up tasks (notifications, the
    sweeps) while the TRUNCATE takes its locks; PostgreSQL then breaks the deadlock by failing
    one side, sometimes the TRUNCATE (seen in CI). The flush runs in its own transaction, so
    running it again once the worker's transaction is gone is safe."""
    import time

    from psycopg2 import errors

    for attempt in range(attempts):
        try:
            return flush()
        except Exception as exc:  # Django wraps nothing here: psycopg2's error arrives as is
            cause = exc.__cause__ or exc
            retriable = isinstance(cause, (errors.DeadlockDetected, errors.LockNotAvailable))
            if not retriable or attempt == attempts - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        settings.DB_SET_ROLE = settings.DB_APP_ROLE
        set_role(connection, settings.DB_APP_ROLE)
        # Patched on the class: Playwright's greenlets get connections of their own.
        original_flush = DatabaseOperations.execute_sql_flush
        DatabaseOperations.execute_sql_flush = _flush_as_owner(original_flush)
    yield
    with django_db_blocker.unblock():
        # The owner drops the test database at the end.
        settings.DB_SET_ROLE = ""
        DatabaseOperations.execute_sql_flush = original_flush
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


@pytest.fixture(autouse=True)
def _clean_cache(request):
    """Rate limits and TOTP replay marks live in Redis; each database test starts with none.
    Pure tests (no database) need no Redis either."""
    if {"db", "transactional_db", "django_db_setup"} & set(request.fixturenames) or (
        request.node.get_closest_marker("django_db")
    ):
        cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_gate():
    """The consent gate caches numbers' histories per process: each test starts and ends
    without that cache (a pure dictionary; clearing it needs neither Redis nor the database)."""
    gate.clear_cache()
    yield
    gate.clear_cache()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's result to fixtures (browser tests screenshot on failure)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)

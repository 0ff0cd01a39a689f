"""Tests that speak to PostgreSQL past the ORM: a statement tried in a savepoint (what the
database refuses), a second connection that holds locks (another drain, someone else's long
transaction), and jobs run side by side, each in its own thread, connection and transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg2
from django.db import connection
from django.db.utils import DatabaseError


def attempt(sql: str, params: list | tuple = ()) -> str:
    """Run a statement on Django's connection in a savepoint: "allowed", or the database's
    error (the savepoint rolled back, so the test's transaction goes on)."""
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT attempt")
        try:
            cursor.execute(sql, params)
        except DatabaseError as error:
            cursor.execute("ROLLBACK TO SAVEPOINT attempt")
            return str(error)
        cursor.execute("RELEASE SAVEPOINT attempt")
    return "allowed"


@contextmanager
def owner_connection() -> Iterator[psycopg2.extensions.connection]:
    """A second connection to the test database as its owner (not Django's; RLS still applies:
    set ``app.tenant_id`` to see a tenant's rows). Whatever it did is rolled back at the end,
    which releases its locks."""
    params = connection.settings_dict
    other = psycopg2.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"],
    )
    try:
        yield other
    finally:
        other.rollback()
        other.close()


Meet = Callable[[], None]


def side_by_side(*jobs: Callable[[Meet], object], timeout: float = 60) -> list[BaseException]:
    """Run each job in a thread of its own (Django gives each thread its own connection, closed
    when the job ends). A job is given ``meet``: where it calls it, it waits until every job has
    arrived, so the racing steps start together. Returns what the jobs raised (empty when all
    finished); a job still running after ``timeout`` seconds fails the test."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def meet() -> None:
        barrier.wait(timeout=10)

    def run(job: Callable[[Meet], object]) -> None:
        try:
            job(meet)
        except BaseException as error:  # returned to the test, which says what it expects
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert not any(thread.is_alive() for thread in threads), "a job is still running (deadlock?)"
    return errors

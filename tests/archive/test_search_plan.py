"""How archive search's queries are planned and run (measured in docs/scaling.md)."""

from __future__ import annotations

from django.db import connection


def test_searches_run_without_jit_compilation(db):
    """PostgreSQL compiles any plan that looks expensive; a month of search over every employee
    spent 1 to 2 s of its 3 to 4 s doing so at 10 million messages (docs/scaling.md), so the
    application's connections turn JIT off."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"

"""Switching connections to the application role (the test suite connects as the owner)."""

from __future__ import annotations

from django.conf import settings
from psycopg2 import sql


def set_role(connection, role: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))


def on_connection_created(sender, connection, **kwargs) -> None:
    if settings.DB_SET_ROLE and connection.vendor == "postgresql":
        set_role(connection, settings.DB_SET_ROLE)

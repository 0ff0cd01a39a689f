"""Privileges of the application's database role, derived from the models."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from psycopg2 import sql

# Withheld from PUBLIC, called by the application role: archive's ch_blank_disposed is the one
# narrow path of retention disposition (archive/migrations/0010_retention.py).
APPLICATION_FUNCTIONS = ("ch_blank_disposed(text, bigint[])",)


def append_only_tables() -> set[str]:
    """Tables of models that declare ``append_only = True`` (and get MakeAppendOnly in their
    migration): the application role may insert and read them, never update or delete."""
    return {m._meta.db_table for m in apps.get_models() if getattr(m, "append_only", False)}


def grant_application_role(connection, *, verbosity: int = 1, stdout=None) -> None:
    role = settings.DB_APP_ROLE
    if connection.settings_dict["USER"] == role:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            if stdout is not None:
                stdout.write(f"Application role {role!r} does not exist; no grants made.")
            return
        role_id = sql.Identifier(role)
        cursor.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role_id))
        cursor.execute(
            sql.SQL(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}"
            ).format(role_id)
        )
        cursor.execute(
            sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role_id)
        )
        cursor.execute(
            sql.SQL("REVOKE TRUNCATE ON ALL TABLES IN SCHEMA public FROM {}").format(role_id)
        )
        # Functions a migration withheld from PUBLIC that the application still calls, by name:
        # granting every function would hand the role any function withheld later on purpose.
        for signature in APPLICATION_FUNCTIONS:
            cursor.execute("SELECT to_regprocedure(%s) IS NOT NULL", [signature])
            if cursor.fetchone()[0]:
                cursor.execute(
                    sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(
                        sql.SQL(signature), role_id
                    )
                )
        for table in sorted(append_only_tables()):
            cursor.execute(
                sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {}").format(
                    sql.Identifier(table), role_id
                )
            )
    if verbosity and stdout is not None:
        stdout.write(
            f"Granted the application role {role!r}; append-only: "
            f"{', '.join(sorted(append_only_tables()))}"
        )

"""Privileges of the application's database role, derived from the models."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from psycopg2 import sql

# Tables whose rows are never updated or deleted by the application. Apps add theirs here
# (archive records, the Merkle log) next to the MakeAppendOnly trigger in their migration.
APPEND_ONLY_MODELS = {"compliance_hub.AuditEvent"}


def append_only_tables() -> set[str]:
    return {apps.get_model(label)._meta.db_table for label in APPEND_ONLY_MODELS}


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

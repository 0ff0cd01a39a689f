"""Row-Level Security for tenant-owned tables, as one migration operation.

A new tenant-owned model adds one line to its migration: ``EnableTenantRLS("modelname")``.
"""

from __future__ import annotations

from django.db import migrations

TENANT_SETTING = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
# Platform code that must span tenants (operator CLIs, the sweeper) sets app.unscoped locally
# through compliance_hub.tenancy.context.unscoped(); a tenant request never does.
UNSCOPED_SETTING = "current_setting('app.unscoped', true) = 'on'"
POLICY_NAME = "tenant_isolation"


def policy_sql(table: str) -> str:
    condition = f"(tenant_id = {TENANT_SETTING} OR {UNSCOPED_SETTING})"
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;'
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;'
        f'CREATE POLICY {POLICY_NAME} ON "{table}" USING {condition} WITH CHECK {condition};'
    )


def drop_policy_sql(table: str) -> str:
    return (
        f'DROP POLICY IF EXISTS {POLICY_NAME} ON "{table}";'
        f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;'
        f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;'
    )


class EnableTenantRLS(migrations.operations.base.Operation):
    """Enable and FORCE RLS on a tenant-owned model's table, keyed on ``app.tenant_id``."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label, state) -> None:
        pass

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        schema_editor.execute(policy_sql(self._table(app_label, to_state)))

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        schema_editor.execute(drop_policy_sql(self._table(app_label, from_state)))

    def describe(self) -> str:
        return f"Enable tenant row-level security on {self.model_name}"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.model_name], {})


class MakeAppendOnly(migrations.operations.base.Operation):
    """Reject UPDATE, DELETE and TRUNCATE on a table with triggers (the grants, set after every
    migrate, withhold the same privileges from the application role as a second lock)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        schema_editor.execute(
            f'CREATE TRIGGER "{table}_append_only" BEFORE UPDATE OR DELETE ON "{table}" '
            "FOR EACH ROW EXECUTE FUNCTION ch_reject_change();"
            f'CREATE TRIGGER "{table}_no_truncate" BEFORE TRUNCATE ON "{table}" '
            "FOR EACH STATEMENT EXECUTE FUNCTION ch_reject_change();"
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        table = from_state.apps.get_model(app_label, self.model_name)._meta.db_table
        schema_editor.execute(
            f'DROP TRIGGER IF EXISTS "{table}_append_only" ON "{table}";'
            f'DROP TRIGGER IF EXISTS "{table}_no_truncate" ON "{table}";'
        )

    def describe(self) -> str:
        return f"Make {self.model_name} append-only"

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.model_name], {})


REJECT_CHANGE_FUNCTION = """
CREATE OR REPLACE FUNCTION ch_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The test suite empties tables between tests as the owner, who could drop this trigger
    -- anyway; nobody else may, whatever they set.
    IF current_setting('app.allow_flush', true) = 'on'
       AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
        IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'append-only table %: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

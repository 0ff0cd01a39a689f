"""The database wall: Row-Level Security on every tenant-owned table, under the app's role."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.utils import ProgrammingError

from compliance_hub.tenancy.context import TenantNotSet, tenant_scope
from compliance_hub.tenancy.models import TenantOwnedModel, TenantScopedManager
from tests.tenant_rows import ROW_MAKERS, make_rows_for


def tenant_owned_models() -> list[type]:
    return [m for m in apps.get_models() if issubclass(m, TenantOwnedModel)]


def _set_tenant(cursor, value: str) -> None:
    cursor.execute("SELECT set_config('app.tenant_id', %s, true)", [value])


def test_the_suite_runs_as_the_application_role_which_can_bypass_nothing(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        user, superuser, bypass = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM pg_tables"
            " WHERE schemaname = 'public' AND tableowner = current_user"
        )
        owned = cursor.fetchone()[0]
    assert user == settings.DB_APP_ROLE
    assert (superuser, bypass, owned) == (False, False, 0)


def test_there_are_tenant_owned_models_and_each_has_a_row_maker():
    labels = {m._meta.label for m in tenant_owned_models()}
    assert "compliance_hub.AuditEvent" in labels
    missing = labels - set(ROW_MAKERS)
    assert not missing, f"add a row maker in tests/tenant_rows.py for {sorted(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("model", tenant_owned_models(), ids=lambda m: m._meta.label)
def test_table_has_forced_rls_with_the_tenant_policy(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]
        )
        assert cursor.fetchone() == (True, True), f"{table} lacks ENABLE/FORCE RLS"
        cursor.execute("SELECT qual, with_check FROM pg_policies WHERE tablename = %s", [table])
        policies = cursor.fetchall()
    assert policies, f"{table} has no policy: add EnableTenantRLS to its migration"
    for using, check in policies:
        assert "app.tenant_id" in using and "app.tenant_id" in check


@pytest.mark.parametrize("model", tenant_owned_models(), ids=lambda m: m._meta.label)
def test_model_uses_the_fail_closed_manager(model):
    assert isinstance(model._default_manager, TenantScopedManager)


def test_raw_sql_sees_nothing_without_a_tenant_and_only_its_own_rows_with_one(tenant_a, tenant_b):
    make_rows_for(tenant_a)
    make_rows_for(tenant_b)
    with connection.cursor() as cursor:
        for model in tenant_owned_models():
            table = model._meta.db_table
            _set_tenant(cursor, "")
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            assert cursor.fetchone()[0] == 0, f"{table} visible without a tenant"

            _set_tenant(cursor, str(tenant_a.pk))
            cursor.execute(f'SELECT DISTINCT tenant_id FROM "{table}"')
            seen = {row[0] for row in cursor.fetchall()}
            assert seen == {tenant_a.pk}, f"{table} under tenant A shows tenants {seen}"
        _set_tenant(cursor, "")


def test_inserting_a_row_for_another_tenant_is_refused_by_the_database(tenant_a, tenant_b):
    with connection.cursor() as cursor:
        _set_tenant(cursor, str(tenant_a.pk))
        cursor.execute("SAVEPOINT s1")
        with pytest.raises(ProgrammingError, match="row-level security"):
            cursor.execute(
                "INSERT INTO compliance_hub_auditevent (tenant_id, occurred_at, actor_label,"
                " action, target_type, target_id, target_label, user_agent, details)"
                " VALUES (%s, now(), 'x', 'x', '', '', '', '', '{}')",
                [tenant_b.pk],
            )
        cursor.execute("ROLLBACK TO SAVEPOINT s1")
        _set_tenant(cursor, str(tenant_b.pk))
        cursor.execute("SELECT count(*) FROM compliance_hub_auditevent WHERE action = 'x'")
        assert cursor.fetchone()[0] == 0


def test_orm_without_a_tenant_fails_closed(tenant_a):
    make_rows_for(tenant_a)
    for model in tenant_owned_models():
        with pytest.raises(TenantNotSet):
            list(model.objects.all())
        with pytest.raises(TenantNotSet):
            model.objects.count()
    with tenant_scope(tenant_a):
        assert all(model.objects.count() >= 1 for model in tenant_owned_models())


def test_truncate_is_denied_to_the_application_role(tenant_a):
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT s2")
        with pytest.raises(ProgrammingError, match="permission denied"):
            cursor.execute("TRUNCATE compliance_hub_invitation")
        cursor.execute("ROLLBACK TO SAVEPOINT s2")


APPEND_ONLY = [m for m in apps.get_models() if getattr(m, "append_only", False)]


@pytest.mark.django_db
@pytest.mark.parametrize("model", APPEND_ONLY, ids=lambda m: m._meta.label)
def test_append_only_tables_have_triggers_and_no_change_privileges(model):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
            [table],
        )
        triggers = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT has_table_privilege(current_user, %s, 'INSERT'),"
            " has_table_privilege(current_user, %s, 'UPDATE'),"
            " has_table_privilege(current_user, %s, 'DELETE'),"
            " has_table_privilege(current_user, %s, 'TRUNCATE')",
            [table] * 4,
        )
        privileges = cursor.fetchone()
    assert {f"{table}_append_only", f"{table}_no_truncate"} <= triggers
    assert privileges == (True, False, False, False)


def test_the_append_only_list_is_not_empty():
    assert {m._meta.label for m in APPEND_ONLY} >= {
        "compliance_hub.AuditEvent",
        "consent.ConsentEvent",
    }

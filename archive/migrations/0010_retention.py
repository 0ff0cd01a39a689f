"""Retention policies, erasure requests and restrictions (archive/retention/), and the one narrow
path by which retention disposition may blank an archive row's content.

Messages and events are append-only: the application role has no UPDATE or DELETE on them, and
the ch_reject_change() trigger rejects both for everyone else. Disposition must still replace
the content of records past retention (the issue, DESIGN.md's invariants). The path:

- ``ch_blank_disposed(record_table text, ids bigint[])`` is a SECURITY DEFINER function owned by
  the tables' owner. It blanks ONLY the content columns (message: text, structured, context,
  raw; event: payload, raw) and ONLY of rows that already have a tombstone (which keeps the
  leaf hash, so the Merkle log still verifies). It never deletes and touches no other column.
  Row-Level Security is forced, so it only sees the calling tenant's rows. EXECUTE is revoked
  from PUBLIC; compliance_hub/db_grants.py grants it to the application role.
- ch_reject_change() lets an UPDATE through only when all three hold: the session's transaction
  set ``app.disposing`` (the function does, and clears it before returning), the current user
  is the table's owner (true inside the SECURITY DEFINER function, never for the application
  role, which may set app.disposing but holds no UPDATE privilege anyway), and the row differs
  from its old self in the content columns only. Anything else is rejected as before.
"""

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from psycopg2 import sql

from compliance_hub.tenancy.rls import EnableTenantRLS

# The content columns disposition may blank are named in the trigger (with the stored generated
# search vectors computed from them, which PostgreSQL recomputes).
REJECT_CHANGE = """
CREATE OR REPLACE FUNCTION ch_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner text := (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID);
BEGIN
    -- The test suite empties tables between tests as the owner, who could drop this trigger
    -- anyway; nobody else may, whatever they set.
    IF current_setting('app.allow_flush', true) = 'on' AND current_user = owner THEN
        IF TG_LEVEL = 'ROW' THEN RETURN OLD; END IF;
        RETURN NULL;
    END IF;
    -- Retention disposition: only ch_blank_disposed() runs as the owner with app.disposing on,
    -- and only the content columns may change.
    IF TG_OP = 'UPDATE' AND current_setting('app.disposing', true) = 'on'
       AND current_user = owner
       AND (to_jsonb(NEW) - ARRAY['text', 'structured', 'context', 'raw', 'payload', 'search_vector']) = (to_jsonb(OLD) - ARRAY['text', 'structured', 'context', 'raw', 'payload', 'search_vector']) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'append-only table %: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

REJECT_CHANGE_BEFORE = """
CREATE OR REPLACE FUNCTION ch_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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

BLANK_DISPOSED = """
CREATE FUNCTION ch_blank_disposed(record_table text, ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    blanked integer := 0;
BEGIN
    PERFORM set_config('app.disposing', 'on', true);
    IF record_table = 'archive.message' THEN
        UPDATE archive_message AS m
           SET text = '', structured = '{}'::jsonb, context = '{}'::jsonb, raw = '{}'::jsonb
         WHERE m.id = ANY(ids)
           AND EXISTS (SELECT 1 FROM archive_tombstone AS t
                        WHERE t.tenant_id = m.tenant_id AND t.record_table = 'archive.message'
                          AND t.record_id = m.id);
    ELSIF record_table = 'archive.messageevent' THEN
        UPDATE archive_messageevent AS e
           SET payload = '{}'::jsonb, raw = '{}'::jsonb
         WHERE e.id = ANY(ids)
           AND EXISTS (SELECT 1 FROM archive_tombstone AS t
                        WHERE t.tenant_id = e.tenant_id
                          AND t.record_table = 'archive.messageevent' AND t.record_id = e.id);
    ELSE
        RAISE EXCEPTION 'ch_blank_disposed: % has no content to blank', record_table
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    GET DIAGNOSTICS blanked = ROW_COUNT;
    PERFORM set_config('app.disposing', '', true);
    RETURN blanked;
END;
$$;
REVOKE ALL ON FUNCTION ch_blank_disposed(text, bigint[]) FROM PUBLIC;
"""


def grant_blanking(apps, schema_editor) -> None:
    """The application role may call the function (db_grants.py repeats it after every
    migrate, for a role created later)."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [settings.DB_APP_ROLE])
        if cursor.fetchone() is not None:
            cursor.execute(
                sql.SQL("GRANT EXECUTE ON FUNCTION ch_blank_disposed(text, bigint[]) TO {}").format(
                    sql.Identifier(settings.DB_APP_ROLE)
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0009_export"),
        ("compliance_hub", "0001_initial"),
        ("consent", "0004_employee_import_new_teams"),
    ]

    operations = [
        migrations.CreateModel(
            name="ErasureRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "subject_kind",
                    models.CharField(
                        choices=[
                            ("counterparty", "A client (by WhatsApp number)"),
                            ("employee", "An employee"),
                        ],
                        max_length=16,
                    ),
                ),
                ("counterparty_wa_id", models.CharField(blank=True, max_length=32)),
                (
                    "law",
                    models.CharField(
                        choices=[
                            ("gdpr", "GDPR Art. 17 (right to erasure)"),
                            ("lgpd", "LGPD Art. 18 (elimination)"),
                        ],
                        max_length=8,
                    ),
                ),
                ("requested_by", models.CharField(max_length=200)),
                ("requested_on", models.DateField()),
                ("recorded_by_label", models.CharField(max_length=254)),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "decision",
                    models.CharField(
                        choices=[
                            ("refused", "Refused: records must be kept (data restricted)"),
                            ("carried_out", "Carried out: content erased, tombstones kept"),
                        ],
                        max_length=16,
                    ),
                ),
                ("basis", models.TextField(blank=True)),
                ("message_count", models.PositiveIntegerField(default=0)),
                ("disposed", models.JSONField(blank=True, default=dict)),
            ],
            options={
                "ordering": ["-recorded_at", "-id"],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_tenants", django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name="RetentionPolicy",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "preset",
                    models.CharField(
                        choices=[
                            ("sec_17a4_b4", "SEC 17a-4(b)(4): business communications"),
                            ("sec_17a4_a", "SEC 17a-4(a): blotters and ledgers"),
                            ("finra_4511", "FINRA 4511: books and records"),
                            ("mifid_ii", "MiFID II: recorded communications"),
                            ("cftc_1_31", "CFTC 1.31: regulatory records"),
                            ("firm", "The firm's own policy"),
                        ],
                        max_length=32,
                    ),
                ),
                ("years", models.PositiveSmallIntegerField()),
                (
                    "scope",
                    models.CharField(
                        choices=[
                            ("tenant", "The whole firm"),
                            ("team", "One team"),
                            ("region", "One country"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "region",
                    models.CharField(blank=True, help_text="ISO 3166-1 alpha-2", max_length=2),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("created_by_label", models.CharField(blank=True, max_length=254)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["scope", "region", "team_id", "id"],
            },
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_tenants", django.db.models.manager.Manager()),
            ],
        ),
        migrations.CreateModel(
            name="SubjectRestriction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "subject_kind",
                    models.CharField(
                        choices=[
                            ("counterparty", "A client (by WhatsApp number)"),
                            ("employee", "An employee"),
                        ],
                        max_length=16,
                    ),
                ),
                ("counterparty_wa_id", models.CharField(blank=True, max_length=32)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_tenants", django.db.models.manager.Manager()),
            ],
        ),
        migrations.AddIndex(
            model_name="tombstone",
            index=models.Index(
                fields=["tenant", "record_table", "record_id"], name="tombstone_record"
            ),
        ),
        migrations.AddField(
            model_name="erasurerequest",
            name="employee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.employee",
            ),
        ),
        migrations.AddField(
            model_name="erasurerequest",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="compliance_hub.tenant",
            ),
        ),
        migrations.AddField(
            model_name="retentionpolicy",
            name="team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.team",
            ),
        ),
        migrations.AddField(
            model_name="retentionpolicy",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="compliance_hub.tenant",
            ),
        ),
        migrations.AddField(
            model_name="subjectrestriction",
            name="employee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.employee",
            ),
        ),
        migrations.AddField(
            model_name="subjectrestriction",
            name="erasure_request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="restrictions",
                to="archive.erasurerequest",
            ),
        ),
        migrations.AddField(
            model_name="subjectrestriction",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="compliance_hub.tenant",
            ),
        ),
        migrations.AddConstraint(
            model_name="erasurerequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("employee__isnull", True),
                        ("subject_kind", "counterparty"),
                        models.Q(("counterparty_wa_id", ""), _negated=True),
                    ),
                    models.Q(
                        ("counterparty_wa_id", ""),
                        ("employee__isnull", False),
                        ("subject_kind", "employee"),
                    ),
                    _connector="OR",
                ),
                name="erasure_request_subject_shape",
            ),
        ),
        migrations.AddIndex(
            model_name="retentionpolicy",
            index=models.Index(fields=["tenant", "scope"], name="retention_policy_scope"),
        ),
        migrations.AddConstraint(
            model_name="retentionpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("region", ""), ("scope", "tenant"), ("team__isnull", True)),
                    models.Q(("region", ""), ("scope", "team"), ("team__isnull", False)),
                    models.Q(
                        ("region__regex", "^[A-Z]{2}$"), ("scope", "region"), ("team__isnull", True)
                    ),
                    _connector="OR",
                ),
                name="retention_policy_scope_shape",
            ),
        ),
        migrations.AddIndex(
            model_name="subjectrestriction",
            index=models.Index(
                fields=["tenant", "counterparty_wa_id"], name="restriction_counterparty"
            ),
        ),
        migrations.AddIndex(
            model_name="subjectrestriction",
            index=models.Index(fields=["tenant", "employee"], name="restriction_employee"),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Waiting to be fetched"),
                    ("stored", "Stored"),
                    ("missing", "Missing (retrying)"),
                    ("failed", "Failed for good"),
                    ("disposed", "Disposed of (retention or erasure)"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        EnableTenantRLS("retentionpolicy"),
        EnableTenantRLS("erasurerequest"),
        EnableTenantRLS("subjectrestriction"),
        migrations.RunSQL(sql=REJECT_CHANGE, reverse_sql=REJECT_CHANGE_BEFORE),
        migrations.RunSQL(
            sql=BLANK_DISPOSED,
            reverse_sql="DROP FUNCTION ch_blank_disposed(text, bigint[])",
        ),
        migrations.RunPython(grant_blanking, migrations.RunPython.noop),
    ]

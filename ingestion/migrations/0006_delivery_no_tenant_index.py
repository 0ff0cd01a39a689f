"""One index fewer for every webhook to write: the single-column tenant index of deliveries.

The two composite indexes (delivery_claim, delivery_recent) lead with the tenant and serve every
by-tenant lookup, the tenant's PROTECT check included, so the single-column one only cost the
intake an index insert per delivery (docs/benchmarks.md, the webhook's headroom).

Django's own AlterField would drop and re-add the foreign key, validating it over the whole
table under lock; only the index goes here, dropped without blocking the webhook's inserts.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "ingestion_delivery_tenant_id_f0b3cc69"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("compliance_hub", "0004_api_key_for_member"),
        ("ingestion", "0005_delivery_claim"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="tenant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="compliance_hub.tenant",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}",
                    reverse_sql=(
                        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
                        "ON ingestion_delivery (tenant_id)"
                    ),
                ),
            ],
        ),
    ]

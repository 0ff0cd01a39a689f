"""The messages of a drain's batch by their deliveries, and statistics that follow a tenant.

The scan after each batch (policies/scanning.py) finds the batch's messages by delivery id;
without an index it read every message of the tenant, a cost that grew with the archive
(docs/benchmarks.md, the pipeline). Built without blocking the capture's writes (CONCURRENTLY).

Autoanalyze's default trigger is a tenth of the table: a tenant that started (or grew) since the
last analyze is estimated at one row, and PostgreSQL then reads a batch's hundred messages by id
through an index of all the tenant's messages. A fixed threshold analyzes after ten thousand new
rows, whatever the table's size.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

TABLES = ("archive_message", "archive_conversation")
ANALYZE = [
    f"ALTER TABLE {table} SET (autovacuum_analyze_scale_factor = 0, "
    "autovacuum_analyze_threshold = 10000)"
    for table in TABLES
]
DEFAULT_ANALYZE = [
    f"ALTER TABLE {table} RESET (autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)"
    for table in TABLES
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("archive", "0012_conversation_counterparty"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="message",
            index=models.Index(fields=["tenant", "delivery_id"], name="message_delivery"),
        ),
        migrations.RunSQL(sql=ANALYZE, reverse_sql=DEFAULT_ANALYZE),
    ]

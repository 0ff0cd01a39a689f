"""The drain's claim in one index walk, and vacuum that keeps pace with it.

The claim (ingestion/processing.py) takes the oldest pending deliveries in (received_at, id)
order. The delivery_queue index ended at received_at, so PostgreSQL read every pending row of
the tenant and sorted them for each batch, through a bitmap scan that also visited every dead
row version the drain's own updates left behind (a processed delivery leaves its pending version
in the index until vacuum). That cost grew round after round (docs/benchmarks.md, the pipeline).
With the id in the key, the claim is an index scan that stops after a batch, and it marks the
dead entries it passes so later claims skip them without reading the table.

Autovacuum's default triggers are a share of the table (a fifth to vacuum, a tenth to analyze):
on a table that only grows (deliveries are the source of truth and are kept), that is millions
of dead versions between two vacuums, and statistics that do not know a tenant that started
since the last analyze. PostgreSQL then estimates that tenant at one row and prefers any index
that leads with the tenant to the one the query needs: fetching a claimed batch's bodies by id
read every delivery of the tenant (archive 0013 tells the same of messages). Fixed thresholds
vacuum and analyze after a few thousand changes instead, whatever the table's size (an analyze
of this table costs ~26 ms since 0004). Both indexes are built and dropped without blocking the
webhook's inserts (CONCURRENTLY).
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models

VACUUM = (
    "ALTER TABLE ingestion_delivery SET (autovacuum_vacuum_scale_factor = 0, "
    "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, "
    "autovacuum_analyze_threshold = 5000)"
)
DEFAULT_VACUUM = (
    "ALTER TABLE ingestion_delivery RESET (autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_threshold, autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)"
)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ingestion", "0004_delivery_statistics")]

    operations = [
        AddIndexConcurrently(
            model_name="delivery",
            index=models.Index(
                fields=["tenant", "status", "received_at", "id"], name="delivery_claim"
            ),
        ),
        RemoveIndexConcurrently(model_name="delivery", name="delivery_queue"),
        migrations.RunSQL(sql=VACUUM, reverse_sql=DEFAULT_VACUUM),
    ]

"""Cheap ANALYZE for ingestion_delivery.

Autoanalyze of this table sampled 30,000 rows and detoasted their bodies to build statistics no
query uses (deliveries are found by tenant, status and time, or by id): 0.53 s of CPU, every
100,000 or so deliveries, which on the 2-core benchmark machine stalled the webhook for a second
or two (docs/benchmarks.md, webhook acceptance). Payload columns get no statistics; the others
a target of 10 (a 3,000-row sample), plenty for a tenant id, a status and a time. ANALYZE then
takes 26 ms, and the drain's claim still uses the delivery_queue index.
"""

from django.db import migrations

PAYLOAD_COLUMNS = ("body", "headers", "summary", "last_error")
QUERIED_COLUMNS = (
    "id", "tenant_id", "received_at", "status", "attempts", "processed_at", "body_sha256",
    "redacted",
)  # fmt: skip


def _alter(payload: int, queried: int) -> list[str]:
    return [
        f"ALTER TABLE ingestion_delivery ALTER COLUMN {column} SET STATISTICS {target}"
        for columns, target in ((PAYLOAD_COLUMNS, payload), (QUERIED_COLUMNS, queried))
        for column in columns
    ]


class Migration(migrations.Migration):
    dependencies = [("ingestion", "0003_media_lost_notice")]

    operations = [migrations.RunSQL(sql=_alter(0, 10), reverse_sql=_alter(-1, -1))]

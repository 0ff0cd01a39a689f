"""Statistics of the scan marks that follow a tenant (see archive 0013): a batch's marks are
looked up by message id, and with a tenant unknown to the last analyze PostgreSQL read all of
the tenant's marks through the tenant's index instead."""

from django.db import migrations

ANALYZE = (
    "ALTER TABLE policies_messagescan SET (autovacuum_analyze_scale_factor = 0, "
    "autovacuum_analyze_threshold = 10000)"
)
DEFAULT_ANALYZE = (
    "ALTER TABLE policies_messagescan RESET (autovacuum_analyze_scale_factor, "
    "autovacuum_analyze_threshold)"
)


class Migration(migrations.Migration):
    dependencies = [("policies", "0005_messagescan_recent")]

    operations = [migrations.RunSQL(sql=ANALYZE, reverse_sql=DEFAULT_ANALYZE)]

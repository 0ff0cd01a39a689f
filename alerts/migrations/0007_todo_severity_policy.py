from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # The queue's "to do" pages of one severity or one policy, riskiest first (bench/alerts_scale.py
    # at a million alerts), built without blocking the alerts raised meanwhile.
    atomic = False

    dependencies = [
        ("alerts", "0006_stats_days"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "in_review", "escalated"])),
                fields=["tenant", "severity", "-risk", "-id"],
                name="alert_todo_severity",
            ),
        ),
        AddIndexConcurrently(
            model_name="alert",
            index=models.Index(
                condition=models.Q(("status__in", ["open", "in_review", "escalated"])),
                fields=["tenant", "policy", "-risk", "-id"],
                name="alert_todo_policy",
            ),
        ),
    ]

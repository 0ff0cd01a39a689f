from __future__ import annotations

from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from compliance_hub.tenancy.walls import register_wall_source
        from policies.decisions import register_decision_source, register_example_source
        from policies.hooks import hits_raised

        from . import dashboard  # noqa: F401  (the dashboard's "Alerts" line)
        from .learning.selectors import firm_decisions
        from .masking import reader_wall_of
        from .raising import alerts_after_hits
        from .selectors import decisions_on_messages

        # Alerts follow the scan in the same worker, right after the hits commit.
        hits_raised.connect(alerts_after_hits, dispatch_uid="alerts.raise")
        register_decision_source("alerts", decisions_on_messages)
        # Closed alerts are the firm's training examples (the learning loop, alerts/learning/).
        register_example_source("alerts", firm_decisions)
        # Pseudonymised review is a wall: the archive and employee pages ask it (tenancy/walls.py).
        register_wall_source("alerts", reader_wall_of)

        from django.db.models.signals import post_save

        from .models import AlertEvent
        from .notify import tasks  # noqa: F401  (the notification tasks, for the worker)
        from .notify.hooks import event_saved

        # New alerts are announced by alerts/raising.py itself (every raising path), not here.
        post_save.connect(event_saved, sender=AlertEvent, dispatch_uid="alerts.notify_event")

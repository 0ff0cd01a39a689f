from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from archive.hooks import deliveries_archived, messages_disposed

        from . import dashboard, signals  # noqa: F401  (the dashboard line, the demo seed)
        from .disposal import scrub_disposed
        from .ml import runtime
        from .scanning import scan_after_deliveries

        # Scanning rides on the drain that archives: the same worker, right after the commit.
        deliveries_archived.connect(scan_after_deliveries, dispatch_uid="policies.scan")
        # No copy of a message's words outlives its disposal (hits, backtest samples).
        messages_disposed.connect(scrub_disposed, dispatch_uid="policies.scrub")
        # Light on purpose: the model itself loads on the first batch scored, not at startup.
        runtime.configure(
            Path(settings.MODELS_DIR),
            Path(settings.ML_CORPUS_DIR) if settings.ML_CORPUS_DIR else None,
        )

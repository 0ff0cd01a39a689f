from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    name = "policies"
    verbose_name = "Policies"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from policies.ml import runtime

        # Light on purpose: the model itself loads on the first batch scored, not at startup.
        runtime.configure(Path(settings.MODELS_DIR))

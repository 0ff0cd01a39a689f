from __future__ import annotations

from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Merkle log's hook on the audit trail, its beat tasks, the exports' and retention's
        # tasks: Celery's autodiscovery looks for archive/tasks.py only, not inside the packages.
        from . import signals  # noqa: F401  (the demo tenant's archive settings)
        from .exporting import tasks as exporting_tasks  # noqa: F401
        from .ledger import receivers, tasks  # noqa: F401
        from .retention import tasks as retention_tasks  # noqa: F401

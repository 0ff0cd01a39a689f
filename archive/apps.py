from __future__ import annotations

from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Archive"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The Merkle log's hook on the audit trail, and its beat tasks: Celery's autodiscovery
        # looks for archive/tasks.py only, not inside the ledger package (nor retention's).
        from .ledger import receivers, tasks  # noqa: F401
        from .retention import tasks as retention_tasks  # noqa: F401

from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "WhatsApp capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from consent.capture import provide_capture_reader

        # media_tasks: Celery's autodiscovery finds tasks.py only.
        from . import dashboard, media_tasks, signals  # noqa: F401
        from .coverage import capture_states

        provide_capture_reader(capture_states)

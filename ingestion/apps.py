from django.apps import AppConfig


class IngestionConfig(AppConfig):
    name = "ingestion"
    verbose_name = "WhatsApp capture"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import dashboard, signals  # noqa: F401

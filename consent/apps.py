from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Employees and consent"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import dashboard, signals  # noqa: F401

from django.apps import AppConfig


class ComplianceHubConfig(AppConfig):
    name = "compliance_hub"
    verbose_name = "Compliance Hub platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from compliance_hub import celery  # noqa: F401  (the app every shared_task binds to)
        from compliance_hub.accounts import signals  # noqa: F401
        from compliance_hub.db_roles import on_connection_created

        connection_created.connect(on_connection_created, dispatch_uid="ch-set-role")

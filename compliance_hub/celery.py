"""The Celery app. Redis is the broker; tasks are acknowledged late and re-queued when a worker
dies mid-task, so every task must be idempotent (see ../shared/STYLE.md, Celery)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

app = Celery("compliance_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def tenant_task(*args, **options):
    """``@tenant_task(name=..., queue=...)``: a task that runs inside its tenant's scope."""
    from compliance_hub.tenancy.tasks import TenantTask

    options.setdefault("base", TenantTask)
    return app.task(*args, **options)

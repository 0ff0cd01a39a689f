"""The Celery app. Redis is the broker; tasks are acknowledged late and re-queued when a worker
dies mid-task, so every task must be idempotent (see ../shared/STYLE.md, Celery)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "compliance_hub.settings")

app = Celery("compliance_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def tenant_task(*args, **options):
    """``@tenant_task(name=..., queue=...)``: a task that runs inside its tenant's scope."""
    from compliance_hub.tenancy.tasks import TenantTask

    options.setdefault("base", TenantTask)
    return app.task(*args, **options)


@task_prerun.connect
def _drop_broken_connections(task=None, **_kwargs) -> None:
    """Database connections are kept across tasks (CELERY_DB_REUSE_MAX); like Django between
    requests, drop one that saw an unrecoverable error or outlived CONN_MAX_AGE first. Not for
    a task run eagerly: it runs inside its caller, whose connection is the caller's business."""
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()

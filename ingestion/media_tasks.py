"""Celery entry points for media: fetch one attachment; re-queue the ones still missing.

Not ``tenant_task``: its base runs the whole body in one transaction, and a download must not hold
one open (nor may a retry roll back the attempt it records). ``fetch_attachment`` opens its own
short tenant scopes. Imported by IngestionConfig.ready() (ingestion/apps.py), since Celery's
autodiscovery finds ingestion/tasks.py only.
"""

from __future__ import annotations

import random

from celery import shared_task

from compliance_hub.tenancy.models import Tenant

from .media import (
    QUICK_RETRIES,
    Status,
    attachments_to_fetch,
    expire_attachments,
    fetch_attachment,
    quick_retry_delay,
)


@shared_task(bind=True, name="ingestion.fetch_media", queue="ingestion",
             max_retries=QUICK_RETRIES)  # fmt: skip
def fetch_media_task(self, *, tenant_id: int, attachment_id: int) -> str | None:
    """Idempotent (a stored attachment is skipped; storage is content-addressed), so it may be
    acknowledged late. A missing outcome is retried soon (15, 30, 60, 120 s, with jitter) while
    the attachment is young; later ones are left to ``requeue_missing_media_task``."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return None
    result = fetch_attachment(tenant=tenant, attachment_id=attachment_id)
    if result.status == Status.MISSING and result.attempts <= QUICK_RETRIES:
        delay = quick_retry_delay(self.request.retries)
        if delay is not None:
            raise self.retry(countdown=delay + random.uniform(0, delay / 5))  # noqa: S311
    return result.status


@shared_task(name="ingestion.requeue_missing_media", queue="ingestion")
def requeue_missing_media_task() -> int:
    """Beat: give up on media past its 7 days; queue a fetch of every attachment due again
    (missing, on a doubling schedule) or never queued (pending past a grace period)."""
    expire_attachments()
    due = attachments_to_fetch()
    for tenant_id, attachment_id in due:
        fetch_media_task.delay(tenant_id=tenant_id, attachment_id=attachment_id)
    return len(due)

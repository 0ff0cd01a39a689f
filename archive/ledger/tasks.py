"""Celery entry points of the Merkle log: beat checkpoints every tenant's log."""

from __future__ import annotations

import logging

from celery import shared_task

from compliance_hub.tenancy.models import Tenant

from .services import LogIntegrityError, checkpoint_and_anchor

logger = logging.getLogger(__name__)


@shared_task(name="archive.checkpoint_log", queue="default")
def checkpoint_log_task(*, tenant_id: int) -> int | None:
    """Sequence, sign and anchor one tenant's log; returns the checkpoint's size, if it signed
    one. Idempotent: a second run finds nothing queued and signs only when one is due."""
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return None
    try:
        checkpoint = checkpoint_and_anchor(tenant=tenant)
    except LogIntegrityError:
        # Not retried: a person must look (verify_archive names what changed).
        logger.critical("archive log of %s refused to checkpoint", tenant.slug, exc_info=True)
        raise
    return checkpoint.size if checkpoint is not None else None


@shared_task(name="archive.checkpoint_all_logs", queue="default")
def checkpoint_all_logs_task() -> int:
    """Beat (every LEDGER_CHECKPOINT_INTERVAL): one checkpoint task per active tenant."""
    tenant_ids = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE).values_list("pk", flat=True)
    )
    for tenant_id in tenant_ids:
        checkpoint_log_task.delay(tenant_id=tenant_id)
    return len(tenant_ids)

"""Celery entry points of ingestion: process a delivery; sweep up what was not processed."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from compliance_hub.celery import tenant_task
from compliance_hub.tenancy.context import unscoped
from compliance_hub.tenancy.models import Tenant

from .models import Delivery
from .processing import drain_pending, process_delivery_by_id
from .wakeup import drain_starting, wake_drain

# A delivery still pending after this was probably never queued (Redis down) or its worker
# died; failed ones are retried with a growing pause, up to MAX_ATTEMPTS.
SWEEP_GRACE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
SWEEP_BATCH = 500


@tenant_task(name="ingestion.process_delivery", queue="ingestion")
def process_delivery_task(*, tenant_id: int, delivery_id: int) -> None:
    process_delivery_by_id(tenant=Tenant.objects.get(pk=tenant_id), delivery_id=delivery_id)


@shared_task(name="ingestion.drain_deliveries", queue="ingestion")
def drain_deliveries_task(*, tenant_id: int) -> int:
    """Process the tenant's pending deliveries in batches (queued by ingestion/wakeup.py). Not a
    tenant task: it commits batch by batch, each in its own tenant scope."""
    drain_starting(tenant_id)
    tenant = Tenant.objects.filter(pk=tenant_id, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return 0
    # A backlog gets help: another drain is queued (at most one waits), and a second worker
    # process takes it while this one goes on; when the budget is spent, it is the successor.
    return drain_pending(tenant=tenant, on_backlog=lambda: wake_drain(tenant_id))


class Overdue(NamedTuple):
    tenant_id: int
    delivery_id: int
    pending: bool  # never processed (else: failed and due for another attempt)


def deliveries_to_sweep(now=None) -> list[Overdue]:
    """Deliveries stored but not processed: pending past the grace period, or failed and due for
    another attempt. Platform code: spans tenants, reads no body."""
    now = now or timezone.now()
    with unscoped():
        stale = Delivery.all_tenants.filter(
            Q(status=Delivery.Status.PENDING, received_at__lt=now - SWEEP_GRACE)
            | Q(status=Delivery.Status.FAILED, attempts__lt=MAX_ATTEMPTS)
        ).filter(tenant__status=Tenant.Status.ACTIVE)
        rows = list(
            stale.order_by("received_at").values_list("tenant_id", "pk", "status", "attempts",
                                                      "received_at")[:SWEEP_BATCH * 4]
        )  # fmt: skip
    due = []
    for tenant_id, pk, status, attempts, received_at in rows:
        # Failed: wait 1, 2, 4 ... minutes (capped at 4 h) after reception before trying again.
        if status == Delivery.Status.FAILED:
            pause = timedelta(minutes=min(2 ** max(attempts - 1, 0), 240))
            if received_at > now - pause:
                continue
        due.append(Overdue(tenant_id, pk, pending=status == Delivery.Status.PENDING))
        if len(due) >= SWEEP_BATCH:
            break
    return due


@shared_task(name="ingestion.sweep_deliveries", queue="ingestion")
def sweep_deliveries_task() -> int:
    """Beat: re-queue every delivery that was acknowledged but not processed. Pending ones are
    left to a drain of their tenant (batched: after a Redis outage, thousands may wait); failed
    ones are retried one by one, on their own backoff."""
    due = deliveries_to_sweep()
    for tenant_id in {item.tenant_id for item in due if item.pending}:
        wake_drain(tenant_id)
    for item in due:
        if not item.pending:
            process_delivery_task.delay(tenant_id=item.tenant_id, delivery_id=item.delivery_id)
    return len(due)

"""What backtests and lookbacks share (policies/backtests.py, policies/lookback.py): checking the
date range a person asked for, creating the job row (one open run of a kind per policy), the
worker's claim, walking the range's messages in batches, progress, cancelling and finishing.

A job's range is whole days in the requester's time zone (the pages use the person's own; the
API says UTC), kept as UTC instants: [starts_at, ends_at).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from archive.models import Message
from archive.retention.selectors import restricted_q
from compliance_hub.accounts.time_zones import is_time_zone, zone
from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .documents.schema import Problem
from .models import Policy, PolicyVersion, ScanJob
from .scanning import SCAN_BATCH

logger = logging.getLogger(__name__)

FAILED_MESSAGE = (
    "The run stopped because of a problem on our side. Start it again; if it fails again, tell "
    "your administrator (the details are in the server's log)."
)


class ScanJobRefused(ValueError):
    """A backtest or lookback that cannot start as asked, with what is wrong (`field`: the input
    at fault, empty for the request as a whole; `problems`: a draft's errors; `conflict`: the
    state forbids it, not the input: another run is open, the run has finished). Nothing kept."""

    def __init__(
        self, message: str, *, field: str = "", problems: Sequence[Problem] | None = None,
        conflict: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = list(problems or [])
        self.conflict = conflict


@dataclass(frozen=True, slots=True)
class Window:
    date_from: date
    date_to: date
    time_zone: str
    starts_at: datetime
    ends_at: datetime


def max_days() -> int:
    return int(settings.POLICY_RUN_MAX_DAYS)


def max_messages() -> int:
    return int(settings.POLICY_RUN_MAX_MESSAGES)


def window(
    *, date_from: date | None, date_to: date | None, time_zone: str = "UTC",
    today: date | None = None,
) -> Window:  # fmt: skip
    """The checked range: both days given, in order, at most POLICY_RUN_MAX_DAYS long, not
    ending after today (in `time_zone`). Raises ScanJobRefused."""
    if not is_time_zone(time_zone):
        raise ScanJobRefused("That is not a time zone we know.", field="time_zone")
    tz = zone(time_zone)
    if date_from is None:
        raise ScanJobRefused("Give the first day of the range.", field="date_from")
    if date_to is None:
        raise ScanJobRefused("Give the last day of the range.", field="date_to")
    if date_to < date_from:
        raise ScanJobRefused(
            f"The last day ({date_to}) comes before the first ({date_from}).", field="date_to"
        )
    today = today or timezone.now().astimezone(tz).date()
    if date_from > today:
        raise ScanJobRefused(
            "The range lies in the future: there are no messages to run over yet.",
            field="date_from",
        )
    if date_to > today:
        raise ScanJobRefused(
            f"The last day ({date_to}) is after today ({today}): end the range today at the "
            "latest.",
            field="date_to",
        )
    days = (date_to - date_from).days + 1
    if days > max_days():
        raise ScanJobRefused(
            f"The range covers {days} days; at most {max_days()} can be run at once. Split it.",
            field="date_to",
        )
    return Window(
        date_from=date_from, date_to=date_to, time_zone=time_zone,
        starts_at=datetime.combine(date_from, time(), tz),
        ends_at=datetime.combine(date_to + timedelta(days=1), time(), tz),
    )  # fmt: skip


def range_messages(*, tenant: Tenant, starts_at: datetime, ends_at: datetime) -> QuerySet[Message]:
    """The tenant's messages sent in [starts_at, ends_at) (a queryset; call inside a scope)."""
    return Message.objects.filter(
        tenant=tenant, whatsapp_timestamp__gte=starts_at, whatsapp_timestamp__lt=ends_at
    )


def create_job(
    *, tenant: Tenant, actor: Actor, kind: str, policy: Policy, span: Window,
    version: PolicyVersion | None, document: Mapping[str, object] | None = None,
) -> ScanJob:  # fmt: skip
    """The job row, queued after commit, audited as `policy.<kind>_requested`. Raises
    ScanJobRefused for too many messages or an open run of the kind on the policy."""
    with tenant_scope(tenant):
        selected = range_messages(tenant=tenant, starts_at=span.starts_at, ends_at=span.ends_at)
        total = selected.count()
        if total > max_messages():
            raise ScanJobRefused(
                f"The range holds {total:,} messages; at most {max_messages():,} can be run at "
                "once. Choose a shorter range.",
                field="date_to",
            )
        if total == 0:
            raise ScanJobRefused("There are no archived messages in this range.", field="date_to")
        try:
            with transaction.atomic():
                job = ScanJob.objects.create(
                    tenant=tenant, kind=kind, policy=policy, version=version,
                    document=dict(document or {}), date_from=span.date_from, date_to=span.date_to,
                    time_zone=span.time_zone, starts_at=span.starts_at, ends_at=span.ends_at,
                    progress_total=total, requested_by=actor.user,
                    requested_by_label=actor.label,
                )  # fmt: skip
        except IntegrityError:
            what = ScanJob.Kind(kind).label.lower()
            raise ScanJobRefused(
                f"A {what} of this policy is already running. Wait for it to finish, or cancel "
                "it, before starting another.",
                conflict=True,
            ) from None
        record_event(
            f"policy.{kind}_requested", tenant=tenant, actor=actor, target=policy,
            details={
                "job": job.pk, "from": str(span.date_from), "to": str(span.date_to),
                "time_zone": span.time_zone, "messages": total,
                "version": version.number if version else None,
            },
        )  # fmt: skip
        transaction.on_commit(lambda: _queue(job))
    return job


def _queue(job: ScanJob) -> None:
    from .tasks import run_scan_job_task  # the task module imports the services

    run_scan_job_task.delay(tenant_id=job.tenant_id, job_id=job.pk)


def cancel_job(*, tenant: Tenant, actor: Actor, job: ScanJob) -> ScanJob:
    """Stop a queued or running job (the worker stops at its next batch, keeping what it had
    done); audited as `policy.<kind>_cancelled`. Raises ScanJobRefused when it has finished."""
    with tenant_scope(tenant):
        stopped = ScanJob.objects.filter(tenant=tenant, pk=job.pk, status__in=ScanJob.OPEN).update(
            status=ScanJob.Status.CANCELLED, finished_at=timezone.now()
        )
        job.refresh_from_db()
        if not stopped:
            ended: dict[str, str] = {
                ScanJob.Status.DONE: "finished",
                ScanJob.Status.FAILED: "failed",
            }
            raise ScanJobRefused(
                f"This {job.get_kind_display().lower()} has already "
                f"{ended.get(job.status, 'been cancelled')}: there is nothing to cancel.",
                conflict=True,
            )
        record_event(
            f"policy.{job.kind}_cancelled", tenant=tenant, actor=actor, target=job.policy,
            details={"job": job.pk, "done": job.progress_done, "total": job.progress_total},
        )  # fmt: skip
    return job


def claim(*, tenant: Tenant, job_id: int) -> ScanJob | None:
    """Mark the job running; None when it is gone, cancelled or finished (a redelivered task)."""
    with tenant_scope(tenant):
        claimed = ScanJob.objects.filter(tenant=tenant, pk=job_id, status__in=ScanJob.OPEN).update(
            status=ScanJob.Status.RUNNING,
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
            error="",
        )
        if not claimed:
            return None
        return ScanJob.objects.select_related("policy", "version").get(tenant=tenant, pk=job_id)


def batches(job: ScanJob, *, size: int = SCAN_BATCH) -> Iterator[list[int]]:
    """The ids of the range's messages, in batches, in id order (keyset on the id, so each batch
    is one indexed query however far in). Restricted subjects are left to the caller."""
    after = 0
    while True:
        with tenant_scope(job.tenant_id):
            ids = list(
                range_messages(tenant=job.tenant, starts_at=job.starts_at, ends_at=job.ends_at)
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
        if not ids:
            return
        yield ids
        after = ids[-1]


def restricted_ids(*, tenant: Tenant, ids: list[int]) -> set[int]:
    with tenant_scope(tenant):
        return set(
            Message.objects.filter(tenant=tenant, pk__in=ids)
            .filter(restricted_q(tenant=tenant))
            .values_list("pk", flat=True)
        )


def advance(job: ScanJob, *, done: int, results: dict[str, object]) -> bool:
    """Save the progress and the results so far; False when the job was cancelled meanwhile
    (the worker then stops)."""
    with tenant_scope(job.tenant_id):
        moved = ScanJob.objects.filter(
            tenant=job.tenant_id, pk=job.pk, status=ScanJob.Status.RUNNING
        ).update(progress_done=done, results=results, heartbeat_at=timezone.now())
    job.progress_done, job.results = done, results
    return bool(moved)


def finish(job: ScanJob, *, status: str, results: dict[str, object], error: str = "") -> ScanJob:
    """Close a running job (a cancelled one keeps its status and gets the results so far)."""
    with tenant_scope(job.tenant_id):
        ScanJob.objects.filter(
            tenant=job.tenant_id, pk=job.pk, status=ScanJob.Status.RUNNING
        ).update(status=status, results=results, error=error, finished_at=timezone.now())
        ScanJob.objects.filter(
            tenant=job.tenant_id, pk=job.pk, status=ScanJob.Status.CANCELLED
        ).update(results=results, progress_done=job.progress_done)
        job.refresh_from_db()
    return job


STALE_MESSAGE = (
    "The worker running this stopped before it finished (no progress for {minutes} minutes). "
    "Nothing more will happen to it: start it again."
)


def stale_after() -> timedelta:
    """How long a running job may go without a batch done before it counts as lost. A batch of
    SCAN_BATCH messages takes seconds; the first one also loads the model (up to a minute)."""
    return timedelta(minutes=int(getattr(settings, "POLICY_RUN_STALE_MINUTES", 15)))


def fail_stale_jobs(*, tenant: Tenant, now: datetime | None = None) -> int:
    """Fail the tenant's running jobs whose worker went silent (killed, its task lost), so they
    do not show "running" forever and the policy's next run is not refused; returns how many.
    Failed, not queued again: a job that kills its worker would otherwise do so forever, and a
    lookback run again from the start would redo work the person can see was cut short. A
    worker that was only slow finds its job failed at its next batch and stops."""
    limit = (now or timezone.now()) - stale_after()
    minutes = int(stale_after().total_seconds() // 60)
    silent = Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, started_at__lt=limit)
    with tenant_scope(tenant):
        stale = list(
            ScanJob.objects.filter(tenant=tenant, status=ScanJob.Status.RUNNING)
            .filter(silent)
            .values_list("pk", flat=True)
        )
        failed = ScanJob.objects.filter(
            tenant=tenant, pk__in=stale, status=ScanJob.Status.RUNNING
        ).update(
            status=ScanJob.Status.FAILED, error=STALE_MESSAGE.format(minutes=minutes),
            finished_at=timezone.now(),
        )  # fmt: skip
    if failed:
        logger.warning("policies: %d run(s) of tenant %s lost their worker", failed, tenant.slug)
    return failed

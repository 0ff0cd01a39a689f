"""A backtest or lookback whose worker went silent (its task lost, the worker killed) is failed
by the beat's sweeper with words the person understands, instead of showing "running" forever
and refusing the policy's next run."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from compliance_hub.tenancy.context import tenant_scope
from policies.backtests import request_backtest
from policies.models import ScanJob
from policies.runs import advance, claim
from policies.tasks import sweep_stale_jobs_task
from tests.policies.run_helpers import (
    ADMIN,
    AFTER,
    BEFORE,
    DRAFT_DOCUMENT,
    GUARANTEE,
    PLAIN,
    archived,
    policy_of,
)


def _running(tenant, policy) -> ScanJob:
    with tenant_scope(tenant):
        job = request_backtest(
            tenant=tenant, actor=ADMIN, policy=policy, document=DRAFT_DOCUMENT,
            date_from=BEFORE, date_to=AFTER,
        )  # fmt: skip
    claimed = claim(tenant=tenant, job_id=job.pk)
    assert claimed is not None and claimed.heartbeat_at is not None
    return claimed


def _silent_for(tenant, job: ScanJob, minutes: int) -> None:
    with tenant_scope(tenant):
        ScanJob.objects.filter(pk=job.pk).update(
            heartbeat_at=timezone.now() - timedelta(minutes=minutes)
        )


def test_a_run_whose_worker_went_silent_is_failed_and_the_policy_can_run_again(tenant_a):
    archived(tenant_a, [GUARANTEE, PLAIN])  # a run is asked for a range that holds messages
    policy = policy_of(tenant_a)
    job = _running(tenant_a, policy)
    _silent_for(tenant_a, job, 20)

    assert sweep_stale_jobs_task() == 1
    with tenant_scope(tenant_a):
        job.refresh_from_db()
        assert job.status == ScanJob.Status.FAILED
        assert "stopped before it finished" in job.error and "start it again" in job.error
        assert job.finished_at is not None
    # The one-open-run rule no longer holds the policy: the next backtest is accepted.
    again = _running(tenant_a, policy)
    assert again.status == ScanJob.Status.RUNNING
    # The worker, if it was only slow, stops at its next batch.
    assert advance(job, done=1, results={}) is False


def test_a_run_that_makes_progress_is_left_alone(tenant_a):
    archived(tenant_a, [GUARANTEE, PLAIN])
    job = _running(tenant_a, policy_of(tenant_a))
    _silent_for(tenant_a, job, 20)
    assert advance(job, done=500, results={}) is True  # a batch done: a new heartbeat

    assert sweep_stale_jobs_task() == 0
    with tenant_scope(tenant_a):
        job.refresh_from_db()
    assert job.status == ScanJob.Status.RUNNING
    assert job.heartbeat_at > timezone.now() - timedelta(minutes=1)

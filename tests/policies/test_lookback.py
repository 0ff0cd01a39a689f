"""Lookbacks (policies/lookback.py): a saved version over earlier messages raising real hits
marked lookback, never twice for one message and policy; audited; progress; cancel; and the
whole path through a real Celery worker."""

from __future__ import annotations

import pytest

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.lookback import request_lookback, run_lookback
from policies.models import PolicyHit, ScanJob
from policies.runs import ScanJobRefused, cancel_job
from policies.scanning import scan_messages
from policies.services import save_version
from tests.policies.run_helpers import (
    ADMIN,
    AFTER,
    BEFORE,
    GUARANTEE,
    PLAIN,
    SECRET,
    archived,
    policy_of,
    rules_document,
)
from tests.polling import wait_until


def start(tenant, policy, **extra) -> ScanJob:
    with tenant_scope(tenant):
        return request_lookback(
            tenant=tenant, actor=ADMIN, policy=policy, date_from=BEFORE, date_to=AFTER, **extra
        )


def run(tenant, job: ScanJob) -> ScanJob:
    finished = run_lookback(tenant=tenant, actor=ADMIN, job_id=job.pk)
    assert finished is not None
    return finished


def test_a_lookback_raises_real_hits_once_and_a_second_raises_nothing_new(tenant_a):
    policy = policy_of(tenant_a, active=False)  # written after the messages: not scanned yet
    ids = archived(tenant_a, [GUARANTEE, PLAIN, GUARANTEE])
    job = run(tenant_a, start(tenant_a, policy))

    assert job.status == ScanJob.Status.DONE
    assert job.results == {"scanned": 3, "hits": 2}
    assert (job.progress_done, job.percent) == (3, 100)
    with tenant_scope(tenant_a):
        hits = list(PolicyHit.objects.order_by("message_id"))
    assert [hit.message_id for hit in hits] == [ids[0], ids[2]]
    assert all(hit.lookback and hit.policy_id == policy.pk for hit in hits)

    again = run(tenant_a, start(tenant_a, policy))
    assert again.results == {"scanned": 3, "hits": 0}
    with tenant_scope(tenant_a):
        assert PolicyHit.objects.count() == 2


def test_a_newer_version_looks_back_without_raising_twice_for_the_same_policy(tenant_a):
    policy = policy_of(tenant_a)
    ids = archived(tenant_a, [GUARANTEE, SECRET])
    assert scan_messages(tenant=tenant_a, message_ids=ids) == 1  # the live scan: the promise
    with tenant_scope(tenant_a):
        version, _ = save_version(
            policy=policy, actor=ADMIN, document=rules_document("Promises", "garantid*", "apaga*")
        )
    job = run(tenant_a, start(tenant_a, policy))
    assert job.version_id == version.pk
    assert job.results["hits"] == 1  # only the secrecy message is new
    with tenant_scope(tenant_a):
        lookback = PolicyHit.objects.get(lookback=True)
    assert lookback.message_id == ids[1] and lookback.policy_version_id == version.pk


def test_a_lookback_is_audited_with_who_the_range_and_what_it_raised(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    run(tenant_a, start(tenant_a, policy))
    with tenant_scope(tenant_a):
        asked = AuditEvent.objects.get(action="policy.lookback_requested")
        finished = AuditEvent.objects.get(action="policy.lookback_finished")
    assert asked.actor_label == ADMIN.label
    assert (asked.details["from"], asked.details["to"]) == (str(BEFORE), str(AFTER))
    assert finished.details["hits"] == 1 and finished.details["status"] == "done"


def test_a_version_of_another_policy_is_refused(tenant_a):
    policy = policy_of(tenant_a)
    other = policy_of(tenant_a, rules_document("Other", "apaga*"))
    archived(tenant_a, [GUARANTEE])
    with tenant_scope(tenant_a):
        foreign = other.versions.get()
    with pytest.raises(ScanJobRefused, match="not one of this policy"):
        start(tenant_a, policy, version=foreign)


def test_a_cancelled_lookback_raises_nothing(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    job = start(tenant_a, policy)
    cancel_job(tenant=tenant_a, actor=ADMIN, job=job)
    assert run_lookback(tenant=tenant_a, actor=ADMIN, job_id=job.pk) is None
    with tenant_scope(tenant_a):
        assert not PolicyHit.objects.exists()


def test_lookbacks_of_one_policy_run_one_at_a_time(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    start(tenant_a, policy)
    with pytest.raises(ScanJobRefused, match="lookback of this policy is already running"):
        start(tenant_a, policy)


@pytest.mark.django_db(transaction=True)
def test_a_lookback_and_a_backtest_run_through_a_real_worker(worker, tenant_a):
    from policies.backtests import request_backtest

    policy = policy_of(tenant_a, active=False)
    archived(tenant_a, [GUARANTEE, SECRET, PLAIN])
    lookback = start(tenant_a, policy)
    with tenant_scope(tenant_a):
        backtest = request_backtest(
            tenant=tenant_a, actor=ADMIN, policy=policy, date_from=BEFORE, date_to=AFTER,
            document=rules_document("Promises", "garantid*", "apaga*"),
        )  # fmt: skip

    def finished():
        with tenant_scope(tenant_a):
            jobs = ScanJob.objects.filter(pk__in=[lookback.pk, backtest.pk])
            return [job.status for job in jobs] == [ScanJob.Status.DONE] * 2

    wait_until(finished, failure="the worker did not finish the lookback and the backtest")
    with tenant_scope(tenant_a):
        lookback.refresh_from_db()
        backtest.refresh_from_db()
    assert lookback.results == {"scanned": 3, "hits": 1}
    assert (backtest.results["flagged"], backtest.results["saved_flagged"]) == (2, 1)
    with tenant_scope(tenant_a):
        assert PolicyHit.objects.filter(lookback=True).count() == 1

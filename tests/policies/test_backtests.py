"""Backtests (policies/backtests.py): a draft over a date range of the archive, raising nothing;
what it would alert on (counts, share, categories, a sample with spans), the precision it would
have had on decided messages, the saved version side by side; limits, cancel, bad input."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies import decisions
from policies.backtests import SAMPLE_SIZE, request_backtest, run_backtest, snippet_pieces
from policies.models import PolicyHit, ScanJob
from policies.runs import ScanJobRefused, cancel_job
from tests.policies.run_helpers import (
    ADMIN,
    AFTER,
    BEFORE,
    DAY,
    DRAFT_DOCUMENT,
    GUARANTEE,
    PLAIN,
    SECRET,
    archived,
    policy_of,
    rules_document,
)


@pytest.fixture
def officers_decided(monkeypatch):
    """Decisions as alerts will give them: a test source registered for the test only."""
    monkeypatch.setattr(decisions, "_sources", {})
    chosen: dict[int, bool] = {}
    decisions.register_decision_source(
        "test", lambda tenant, ids: {i: chosen[i] for i in ids if i in chosen}
    )
    return chosen


def start(tenant, policy, document=DRAFT_DOCUMENT, **dates) -> ScanJob:
    dates = {"date_from": BEFORE, "date_to": AFTER, **dates}
    with tenant_scope(tenant):
        return request_backtest(tenant=tenant, actor=ADMIN, policy=policy, document=document,
                                **dates)  # fmt: skip


def run(tenant, job: ScanJob) -> ScanJob:
    finished = run_backtest(tenant=tenant, job_id=job.pk)
    assert finished is not None
    return finished


def test_a_backtest_counts_what_the_draft_would_alert_on_and_raises_nothing(tenant_a):
    policy = policy_of(tenant_a)
    ids = archived(tenant_a, [GUARANTEE, SECRET, PLAIN, PLAIN])
    job = run(tenant_a, start(tenant_a, policy))

    results = job.results
    assert job.status == ScanJob.Status.DONE
    assert (job.progress_done, job.progress_total, job.percent) == (4, 4, 100)
    assert (results["scanned"], results["flagged"], results["share"]) == (4, 2, 0.5)
    assert results["saved_flagged"] == 1  # the saved version, same messages: only the promise
    assert results["categories"] == {"promise": 2}
    assert [entry["message_id"] for entry in results["sample"]] == ids[:2]
    with tenant_scope(tenant_a):
        assert not PolicyHit.objects.exists()


def test_a_sample_shows_the_employee_the_time_and_the_words_that_matched(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    [entry] = run(tenant_a, start(tenant_a, policy)).results["sample"]

    assert entry["employee"] == "Employee of firm-a"
    assert entry["at"].startswith(DAY.isoformat())
    highlighted = [text for text, marked in snippet_pieces(entry) if marked]
    assert highlighted == ["garantido"]
    assert "promise" in entry["categories"] and entry["explanation"]


def test_the_sample_stops_at_fifty(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE] * (SAMPLE_SIZE + 5))
    results = run(tenant_a, start(tenant_a, policy)).results
    assert results["flagged"] == SAMPLE_SIZE + 5
    assert len(results["sample"]) == SAMPLE_SIZE


def test_precision_and_recall_on_messages_officers_decided(tenant_a, officers_decided):
    policy = policy_of(tenant_a)
    guarantee, secret, plain, _undecided = archived(tenant_a, [GUARANTEE, SECRET, PLAIN, GUARANTEE])
    # The promise was a real problem, the secrecy one a false alarm; the plain message was a
    # true problem no word of the draft catches; the second promise is undecided.
    officers_decided.update({guarantee: True, secret: False, plain: True})
    results = run(tenant_a, start(tenant_a, policy)).results

    draft = results["precision"]
    assert (draft["true_positives"], draft["false_positives"], draft["decided_true"]) == (1, 1, 2)
    assert draft["precision"] == 0.5 and draft["recall"] == 0.5
    saved = results["saved_precision"]
    assert saved["precision"] == 1.0 and saved["recall"] == 0.5


def test_with_nothing_decided_precision_is_unknown(tenant_a, officers_decided):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    precision = run(tenant_a, start(tenant_a, policy)).results["precision"]
    assert precision["precision"] is None and precision["recall"] is None


def test_only_the_range_is_scanned(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    with pytest.raises(ScanJobRefused, match="no archived messages"):
        start(tenant_a, policy, date_from=AFTER, date_to=AFTER)
    # The same day read in São Paulo's time: 09:30 UTC is 06:30 there, still March 2.
    job = start(tenant_a, policy, date_from=DAY, date_to=DAY, time_zone="America/Sao_Paulo")
    assert run(tenant_a, job).results["scanned"] == 1


def test_a_backtest_is_audited_with_its_range(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    job = start(tenant_a, policy)
    with tenant_scope(tenant_a):
        event = AuditEvent.objects.get(action="policy.backtest_requested")
    assert event.actor_label == ADMIN.label
    assert event.details["from"] == str(BEFORE) and event.details["to"] == str(AFTER)
    assert event.details["job"] == job.pk


def test_a_second_backtest_of_the_policy_waits_for_the_first(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    first = start(tenant_a, policy)
    with pytest.raises(ScanJobRefused, match="already running"):
        start(tenant_a, policy)
    run(tenant_a, first)
    assert start(tenant_a, policy).status == ScanJob.Status.QUEUED  # once it is done


def test_a_cancelled_backtest_is_not_run_and_cannot_be_cancelled_twice(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    job = start(tenant_a, policy)
    cancelled = cancel_job(tenant=tenant_a, actor=ADMIN, job=job)
    assert cancelled.status == ScanJob.Status.CANCELLED
    assert run_backtest(tenant=tenant_a, job_id=job.pk) is None
    with pytest.raises(ScanJobRefused, match="nothing to cancel"):
        cancel_job(tenant=tenant_a, actor=ADMIN, job=job)
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="policy.backtest_cancelled").count() == 1


def test_a_backtest_of_a_first_draft_compares_with_nothing(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    job = start(tenant_a, policy)
    with tenant_scope(tenant_a):
        ScanJob.objects.filter(pk=job.pk).update(version=None)
    results = run(tenant_a, job).results
    assert results["saved_flagged"] is None and results["flagged"] == 1


@pytest.mark.parametrize(
    ("dates", "field", "words"),
    [
        ({"date_from": AFTER, "date_to": BEFORE}, "date_to", "comes before"),
        ({"date_from": date(2025, 1, 1), "date_to": date(2026, 3, 2)}, "date_to", "at most 366"),
        ({"date_from": None}, "date_from", "first day"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "time zone"),
    ],
)
def test_a_bad_range_is_refused_and_nothing_kept(tenant_a, dates, field, words):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    with pytest.raises(ScanJobRefused, match=words) as refused:
        start(tenant_a, policy, **dates)
    assert refused.value.field == field
    with tenant_scope(tenant_a):
        assert not ScanJob.objects.exists()
        assert not AuditEvent.objects.filter(action="policy.backtest_requested").exists()


def test_a_range_in_the_future_is_refused(tenant_a):
    policy = policy_of(tenant_a)
    tomorrow = timezone.now().date() + timedelta(days=2)
    with pytest.raises(ScanJobRefused, match="future"):
        start(tenant_a, policy, date_from=tomorrow, date_to=tomorrow)
    with pytest.raises(ScanJobRefused, match="after today"):
        start(tenant_a, policy, date_to=tomorrow)


def test_a_draft_with_errors_is_refused_with_its_problems(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE])
    broken = {**rules_document("Promises", "garantid*"), "severity": "enormous"}
    with pytest.raises(ScanJobRefused) as refused:
        start(tenant_a, policy, document=broken)
    assert refused.value.field == "document"
    assert any("severity" in str(problem) for problem in refused.value.problems)
    with tenant_scope(tenant_a):
        assert not ScanJob.objects.exists()


@override_settings(POLICY_RUN_MAX_MESSAGES=2)
def test_too_many_messages_are_refused_with_the_cap(tenant_a):
    policy = policy_of(tenant_a)
    archived(tenant_a, [PLAIN, PLAIN, PLAIN])
    with pytest.raises(ScanJobRefused, match="at most 2 can be run"):
        start(tenant_a, policy)


def test_cancelling_a_running_backtest_stops_it_at_the_next_batch(tenant_a, monkeypatch):
    from policies.scanning import SCAN_BATCH

    policy = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE] * (SCAN_BATCH + 20))
    job = start(tenant_a, policy)
    # The officer presses "Cancel" while the first batch is being read (the decision source is
    # asked once per batch, so it is the moment to do it from).
    monkeypatch.setattr(decisions, "_sources", {})
    decisions.register_decision_source(
        "canceller", lambda tenant, ids: cancel_job(tenant=tenant, actor=ADMIN, job=job) and {}
    )
    finished = run_backtest(tenant=tenant_a, job_id=job.pk)

    assert finished is not None and finished.status == ScanJob.Status.CANCELLED
    assert finished.progress_done == SCAN_BATCH < finished.progress_total
    assert finished.results["scanned"] == SCAN_BATCH  # what it had done is kept

"""The backtest and lookback pages: an officer starts a backtest of a draft and reads what it
found (a sample with the matched words marked, the read audited); a lookback asks for a
confirmation first; auditors read but start nothing; another firm gets 404; bad input gets its
answer on the form and changes nothing."""

from __future__ import annotations

import json

import pytest

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from policies.backtests import run_backtest
from policies.models import ScanJob
from tests.fixtures import login
from tests.policies.run_helpers import (
    AFTER,
    BEFORE,
    DRAFT_DOCUMENT,
    GUARANTEE,
    PLAIN,
    SECRET,
    archived,
    policy_of,
)


@pytest.fixture
def policy(tenant_a):
    made = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE, SECRET, PLAIN])
    return made


def backtest_form(document=DRAFT_DOCUMENT, **dates) -> dict:
    return {"date_from": str(BEFORE), "date_to": str(AFTER), "document": json.dumps(document),
            **dates}  # fmt: skip


def jobs(tenant) -> list[ScanJob]:
    with tenant_scope(tenant):
        return list(ScanJob.objects.all())


def test_an_officer_backtests_a_draft_and_reads_what_it_would_raise(
    client, oscar, tenant_a, policy
):
    login(client, oscar)
    form = client.get(f"/policies/{policy.pk}/backtest/")
    assert form.status_code == 200
    assert "garantid*" in form.content.decode()  # prefilled with the saved version

    started = client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    [job] = jobs(tenant_a)
    assert started.status_code == 302 and started["Location"] == f"/policies/runs/{job.pk}/"
    assert job.requested_by_id == oscar.user.pk and job.document == DRAFT_DOCUMENT

    waiting = client.get(started["Location"]).content.decode()
    assert "waiting for a worker" in waiting and "js/job-progress.js" in waiting
    run_backtest(tenant=tenant_a, job_id=job.pk)
    page = client.get(started["Location"]).content.decode()
    assert "Backtest finished: 3 messages read." in page
    assert "2 (66.67% of the messages read)" in page
    assert "<mark>garantido</mark>" in page and "<mark>Apaga</mark>" in page
    assert "No decided alerts in this range yet" in page
    with tenant_scope(tenant_a):
        read = AuditEvent.objects.get(action="archive.read")
    assert read.details["count"] == 2 and read.actor_label == oscar.user.email


def test_the_status_answers_the_pages_script(client, oscar, tenant_a, policy):
    login(client, oscar)
    client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    [job] = jobs(tenant_a)
    status = client.get(f"/policies/runs/{job.pk}/status/").json()
    assert status == {"status": "queued", "status_text": "Backtest waiting for a worker.",
                      "done": 0, "total": 3, "percent": 0}  # fmt: skip


def test_a_lookback_needs_the_confirmation_that_real_alerts_follow(client, alice, tenant_a, policy):
    login(client, alice)
    page = client.get(f"/policies/{policy.pk}/lookback/").content.decode()
    assert "This raises real alerts." in page
    dates = {"date_from": str(BEFORE), "date_to": str(AFTER)}
    refused = client.post(f"/policies/{policy.pk}/lookback/", dates)
    assert "Tick the box to confirm" in refused.content.decode() and not jobs(tenant_a)
    started = client.post(f"/policies/{policy.pk}/lookback/", {**dates, "confirm": "on"})
    [job] = jobs(tenant_a)
    assert started.status_code == 302 and job.kind == ScanJob.Kind.LOOKBACK


def test_a_running_run_can_be_cancelled_once(client, oscar, tenant_a, policy):
    login(client, oscar)
    client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    [job] = jobs(tenant_a)
    assert "Cancel the backtest" in client.get(f"/policies/runs/{job.pk}/").content.decode()
    client.post(f"/policies/runs/{job.pk}/cancel/")
    [job] = jobs(tenant_a)
    assert job.status == ScanJob.Status.CANCELLED
    again = client.post(f"/policies/runs/{job.pk}/cancel/", follow=True)
    assert "already been cancelled" in again.content.decode()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"date_from": str(AFTER), "date_to": str(BEFORE)}, "comes before"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-02"}, "at most 366"),
        ({"date_from": "2999-01-01", "date_to": "2999-01-02"}, "in the future"),
        ({"date_from": "yesterday"}, "Enter a valid date"),
        ({"document": "{not json"}, "This is not valid JSON"),
        ({"document": "[" * 5000 + "]" * 5000}, "nested"),
        ({"document": json.dumps({**DRAFT_DOCUMENT, "severity": "enormous"})}, "severity"),
    ],
)
def test_bad_input_is_answered_on_the_form_and_starts_nothing(
    client, oscar, tenant_a, policy, changes, words
):
    login(client, oscar)
    answer = client.post(f"/policies/{policy.pk}/backtest/", {**backtest_form(), **changes})
    assert answer.status_code == 200
    assert words in answer.content.decode()
    assert not jobs(tenant_a)


def test_a_second_backtest_while_one_runs_is_refused_clearly(client, oscar, tenant_a, policy):
    login(client, oscar)
    client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    second = client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    assert second.status_code == 200
    assert "already running" in second.content.decode()
    assert len(jobs(tenant_a)) == 1


def test_an_auditor_reads_runs_but_starts_and_cancels_none(client, audrey, tenant_a, policy):
    login(client, audrey)
    runs = client.get(f"/policies/{policy.pk}/runs/")
    assert runs.status_code == 200 and "Run lookback" not in runs.content.decode()
    assert client.get(f"/policies/{policy.pk}/backtest/").status_code == 403
    assert client.post(f"/policies/{policy.pk}/lookback/", {}).status_code == 403
    assert not jobs(tenant_a)


def test_another_firm_gets_404_for_the_policy_and_its_runs(client, oscar, bob, tenant_a, policy):
    login(client, oscar)
    client.post(f"/policies/{policy.pk}/backtest/", backtest_form())
    [job] = jobs(tenant_a)
    login(client, bob)
    for url in [f"/policies/{policy.pk}/runs/", f"/policies/{policy.pk}/backtest/",
                f"/policies/{policy.pk}/lookback/", f"/policies/runs/{job.pk}/",
                f"/policies/runs/{job.pk}/status/"]:  # fmt: skip
        assert client.get(url).status_code == 404, url
    assert client.post(f"/policies/runs/{job.pk}/cancel/").status_code == 404
    assert client.post(f"/policies/{policy.pk}/backtest/", backtest_form()).status_code == 404
    [job] = jobs(tenant_a)
    assert job.status == ScanJob.Status.QUEUED


def test_the_range_is_prefilled_with_the_last_thirty_days_in_the_persons_time_zone(
    client, oscar, policy
):
    from datetime import timedelta

    from django.utils import timezone

    login(client, oscar)
    today = timezone.localdate()
    for page in ("backtest", "lookback"):
        html = client.get(f"/policies/{policy.pk}/{page}/").content.decode()
        assert f'name="date_to" value="{today:%Y-%m-%d}"' in html
        assert f'name="date_from" value="{today - timedelta(days=29):%Y-%m-%d}"' in html

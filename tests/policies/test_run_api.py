"""The API of backtests and lookbacks: start one of a policy (officers and admins), read it
(auditors too), cancel it; bad input and a second open run answered clearly (400/409, nothing
queued); another firm's policy and runs are 404."""

from __future__ import annotations

import pytest

from compliance_hub.audit.models import AuditEvent
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from policies.backtests import run_backtest
from policies.models import ScanJob
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

RANGE = {"date_from": str(BEFORE), "date_to": str(AFTER)}


@pytest.fixture
def policy(tenant_a):
    made = policy_of(tenant_a)
    archived(tenant_a, [GUARANTEE, SECRET, PLAIN])
    return made


def jobs(tenant) -> list[ScanJob]:
    with tenant_scope(tenant):
        return list(ScanJob.objects.all())


def test_an_officer_starts_a_backtest_and_reads_it_with_its_sample(
    api_client_for, tenant_a, policy
):
    api = api_client_for(tenant_a, Role.OFFICER)
    started = api.post(
        f"/api/v1/policies/{policy.pk}/backtests/", {**RANGE, "document": DRAFT_DOCUMENT},
        format="json",
    )  # fmt: skip
    assert started.status_code == 201, started.json()
    body = started.json()
    assert (body["kind"], body["status"], body["version"]) == ("backtest", "queued", 1)
    assert body["progress"] == {"done": 0, "total": 3, "percent": 0}

    run_backtest(tenant=tenant_a, job_id=body["id"])
    one = api.get(f"/api/v1/backtests/{body['id']}/").json()
    assert one["status"] == "done" and one["results"]["flagged"] == 2
    assert len(one["results"]["sample"]) == 2
    [listed] = api.get(f"/api/v1/policies/{policy.pk}/backtests/").json()["results"]
    assert listed["id"] == body["id"] and "sample" not in listed["results"]
    with tenant_scope(tenant_a):
        assert AuditEvent.objects.filter(action="archive.read").count() == 1  # the one read


def test_a_lookback_is_started_of_a_chosen_version_and_cancelled(api_client_for, tenant_a, policy):
    api = api_client_for(tenant_a, Role.ADMIN)
    started = api.post(
        f"/api/v1/policies/{policy.pk}/lookbacks/", {**RANGE, "version": 1}, format="json"
    )
    assert started.status_code == 201 and started.json()["kind"] == "lookback"
    job_id = started.json()["id"]
    assert api.get(f"/api/v1/backtests/{job_id}/").status_code == 404  # not a backtest
    cancelled = api.post(f"/api/v1/lookbacks/{job_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/lookbacks/{job_id}/cancel/")
    assert again.status_code == 409 and "nothing to cancel" in str(again.json())


def test_a_second_open_backtest_is_a_conflict(api_client_for, tenant_a, policy):
    api = api_client_for(tenant_a, Role.OFFICER)
    url = f"/api/v1/policies/{policy.pk}/backtests/"
    assert api.post(url, {**RANGE, "document": DRAFT_DOCUMENT}, format="json").status_code == 201
    second = api.post(url, {**RANGE, "document": DRAFT_DOCUMENT}, format="json")
    assert second.status_code == 409 and "already running" in str(second.json())
    assert len(jobs(tenant_a)) == 1


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"date_from": str(AFTER), "date_to": str(BEFORE)}, "date_to", "comes before"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-02"}, "date_to", "at most 366"),
        ({"date_from": "2999-01-01", "date_to": "2999-01-02"}, "date_from", "future"),
        ({"time_zone": "Nowhere/Atlantis"}, "time_zone", "time zone"),
        ({"document": {"name": "x"}}, "document", "severity"),
        ({"document": "not an object"}, "document", ""),
    ],
)
def test_bad_input_is_a_400_that_queues_nothing(api_client_for, tenant_a, policy, body, field,
                                                words):  # fmt: skip
    api = api_client_for(tenant_a, Role.OFFICER)
    answer = api.post(
        f"/api/v1/policies/{policy.pk}/backtests/",
        {**RANGE, "document": DRAFT_DOCUMENT, **body}, format="json",
    )  # fmt: skip
    assert answer.status_code == 400
    assert field in str(answer.json()) and words in str(answer.json())
    assert not jobs(tenant_a)


def test_an_unknown_version_is_refused(api_client_for, tenant_a, policy):
    api = api_client_for(tenant_a, Role.OFFICER)
    answer = api.post(
        f"/api/v1/policies/{policy.pk}/lookbacks/", {**RANGE, "version": 7}, format="json"
    )
    assert answer.status_code == 400 and "no such version" in str(answer.json())


def test_an_auditor_reads_but_cannot_start_or_cancel(api_client_for, tenant_a, policy):
    officer = api_client_for(tenant_a, Role.OFFICER)
    job_id = officer.post(
        f"/api/v1/policies/{policy.pk}/backtests/", {**RANGE, "document": DRAFT_DOCUMENT},
        format="json",
    ).json()["id"]  # fmt: skip
    auditor = api_client_for(tenant_a, Role.AUDITOR)
    assert auditor.get(f"/api/v1/backtests/{job_id}/").status_code == 200
    assert auditor.get(f"/api/v1/policies/{policy.pk}/backtests/").status_code == 200
    assert auditor.post(f"/api/v1/backtests/{job_id}/cancel/").status_code == 403
    refused = auditor.post(f"/api/v1/policies/{policy.pk}/lookbacks/", RANGE, format="json")
    assert refused.status_code == 403
    assert [job.status for job in jobs(tenant_a)] == ["queued"]


def test_another_firm_gets_404_for_the_policy_and_its_runs(
    api_client_for, tenant_a, tenant_b, policy
):
    officer = api_client_for(tenant_a, Role.OFFICER)
    job_id = officer.post(
        f"/api/v1/policies/{policy.pk}/backtests/", {**RANGE, "document": DRAFT_DOCUMENT},
        format="json",
    ).json()["id"]  # fmt: skip
    outsider = api_client_for(tenant_b, Role.ADMIN)
    assert outsider.get(f"/api/v1/policies/{policy.pk}/backtests/").status_code == 404
    assert outsider.post(
        f"/api/v1/policies/{policy.pk}/lookbacks/", RANGE, format="json"
    ).status_code == 404  # fmt: skip
    assert outsider.get(f"/api/v1/backtests/{job_id}/").status_code == 404
    assert outsider.post(f"/api/v1/backtests/{job_id}/cancel/").status_code == 404
    assert [job.status for job in jobs(tenant_a)] == ["queued"]

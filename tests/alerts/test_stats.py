"""The dashboard's series (alerts/stats.py) on a few alerts counted by hand: days in the user's
time zone, open alerts by age, who closed what, false-positive rates and the threshold
suggestion, coverage; one firm never sees another's figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Max, Min
from django.utils import timezone

from alerts.models import TO_DO, Alert, Disposition, Status
from alerts.selectors import ACTIVE_STATUSES
from alerts.services import transition_alert
from alerts.stats import (
    StatsError,
    StatsRange,
    ThresholdCounts,
    alerts_over_time,
    coverage,
    default_range,
    false_positive_rates,
    open_by_age,
    reviewer_throughput,
    series,
    suggest_threshold,
)
from archive.models import Message
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from tests.alerts.helpers import raise_alerts_for

UTC_ZONE = ZoneInfo("UTC")


def _today_range(zone: ZoneInfo = UTC_ZONE, days: int = 30) -> StatsRange:
    return default_range(zone=zone, days=days)


def _set(alert: Alert, **fields) -> None:
    with tenant_scope(alert.tenant_id):
        Alert.objects.filter(pk=alert.pk).update(**fields)


def _close(alert: Alert, person, disposition: str) -> None:
    with tenant_scope(alert.tenant_id):
        alert = Alert.objects.get(pk=alert.pk)
    transition_alert(
        alert=alert,
        expected_version=alert.version,
        actor=Actor.for_user(person.user),
        to=Status.CLOSED,
        disposition=disposition,
        rationale="Checked by hand.",
    )


def test_alerts_over_time_counts_each_day_of_the_users_time_zone(alerts, tenant_a):
    first, second = alerts
    # 23:30 UTC on 1 March is 08:30 on 2 March in Tokyo.
    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    _set(first, created_at=late)
    _set(second, created_at=late - timedelta(days=1))
    span = StatsRange(first=date(2026, 2, 20), last=date(2026, 3, 5), zone=UTC_ZONE)
    with tenant_scope(tenant_a):
        rows = alerts_over_time(tenant=tenant_a, span=span).rows
    assert rows == [
        {
            "period": date(2026, 2, 28),
            "policy": "Promises of returns",
            "severity": "high",
            "alerts": 1,
        },
        {
            "period": date(2026, 3, 1),
            "policy": "Promises of returns",
            "severity": "high",
            "alerts": 1,
        },
    ]
    tokyo = StatsRange(first=date(2026, 2, 20), last=date(2026, 3, 5), zone=ZoneInfo("Asia/Tokyo"))
    with tenant_scope(tenant_a):
        rows = alerts_over_time(tenant=tenant_a, span=tokyo).rows
    assert [(r["period"], r["alerts"]) for r in rows] == [
        (date(2026, 3, 1), 1),
        (date(2026, 3, 2), 1),
    ]
    by_month = StatsRange(
        first=date(2026, 1, 1), last=date(2026, 3, 31), zone=UTC_ZONE, bucket="month"
    )
    with tenant_scope(tenant_a):
        rows = alerts_over_time(tenant=tenant_a, span=by_month).rows
    assert [(r["period"], r["alerts"]) for r in rows] == [
        (date(2026, 2, 1), 1),
        (date(2026, 3, 1), 1),
    ]
    # The range's last day is whole: an alert at 23:59 of it counts, one a minute later not.
    edge = StatsRange(first=date(2026, 3, 1), last=date(2026, 3, 1), zone=UTC_ZONE)
    with tenant_scope(tenant_a):
        assert [r["alerts"] for r in alerts_over_time(tenant=tenant_a, span=edge).rows] == [1]


def test_open_alerts_are_counted_by_how_long_they_have_waited(alerts, tenant_a, oscar):
    first, second = alerts
    now = timezone.now()
    _set(first, created_at=now - timedelta(hours=2))
    _set(second, created_at=now - timedelta(days=10))
    with tenant_scope(tenant_a):
        rows = open_by_age(tenant=tenant_a, span=_today_range(), now=now).rows
    assert rows == [
        {"age": "Under a day", "severity": "high", "alerts": 1},
        {"age": "1 to 4 weeks", "severity": "high", "alerts": 1},
    ]
    _close(second, oscar, Disposition.FALSE_POSITIVE)
    with tenant_scope(tenant_a):
        rows = open_by_age(tenant=tenant_a, span=_today_range(), now=now).rows
    assert rows == [{"age": "Under a day", "severity": "high", "alerts": 1}]


def test_reviewer_throughput_counts_who_closed_what_each_day(alerts, tenant_a, oscar, alice):
    first, second = alerts
    _close(first, oscar, Disposition.FALSE_POSITIVE)
    _close(second, alice, Disposition.TRUE_POSITIVE_ACTION)
    with tenant_scope(tenant_a):
        rows = reviewer_throughput(tenant=tenant_a, span=_today_range()).rows
    today = timezone.now().astimezone(UTC).date()
    labels = {r["reviewer"]: r["closed"] for r in rows}
    assert {r["period"] for r in rows} == {today}
    assert len(labels) == 2 and set(labels.values()) == {1}
    assert any("oscar" in label for label in labels) and any("alice" in label for label in labels)
    # Yesterday's range holds none of it.
    yesterday = StatsRange(
        first=today - timedelta(days=1), last=today - timedelta(days=1), zone=UTC_ZONE
    )
    with tenant_scope(tenant_a):
        assert reviewer_throughput(tenant=tenant_a, span=yesterday).rows == []


def test_false_positive_rate_per_policy_leaves_duplicates_out(
    tenant_a, oscar, django_capture_on_commit_callbacks
):
    texts = [f"I guarantee returns, number {n}" for n in range(4)]
    alerts = raise_alerts_for(tenant_a, texts=texts, capture=django_capture_on_commit_callbacks)
    for alert, disposition in zip(
        alerts,
        [
            Disposition.FALSE_POSITIVE,
            Disposition.FALSE_POSITIVE,
            Disposition.TRUE_POSITIVE_NO_ACTION,
            Disposition.DUPLICATE,
        ],
        strict=True,
    ):
        _close(alert, oscar, disposition)
    with tenant_scope(tenant_a):
        rows = false_positive_rates(tenant=tenant_a, span=_today_range()).rows
    assert rows == [
        {
            "policy": "Promises of returns",
            "closed": 4,
            "false_positives": 2,
            "true_positives": 1,
            "false_positive_rate": round(2 / 3, 4),
            "suggestion": "",  # three decisions say nothing yet
        }
    ]


def _counts(current, fp, tp, fp_below, tp_below) -> ThresholdCounts:
    thresholds = (0.5, 0.6, 0.7, 0.8, 0.9)
    return ThresholdCounts(
        current=current,
        false_positives=fp,
        true_positives=tp,
        false_below=dict(zip(thresholds, fp_below, strict=True)),
        true_below=dict(zip(thresholds, tp_below, strict=True)),
    )


def test_a_high_false_positive_rate_suggests_the_threshold_the_scores_support():
    # 0.8 removes 41 of 60 false positives and no true positive; 0.9 more, but 10 of 40 TPs.
    counts = _counts(0.7, 60, 40, [0, 0, 0, 41, 55], [0, 0, 0, 0, 10])
    assert suggest_threshold(counts) == (
        "Raising the minimum score from 0.7 to 0.8 would have removed 41 of 60 false positives."
    )
    # A true positive or two may go (at most 5 %), and the text says so.
    counts = _counts(0.7, 60, 40, [0, 0, 0, 41, 55], [0, 0, 0, 2, 10])
    assert suggest_threshold(counts).endswith("(and 2 of 40 true positives).")
    # Rate low, too few decisions, or nothing a higher threshold would remove: no suggestion.
    assert suggest_threshold(_counts(0.7, 2, 40, [0, 0, 0, 2, 2], [0] * 5)) == ""
    assert suggest_threshold(_counts(0.7, 5, 2, [0, 0, 0, 5, 5], [0] * 5)) == ""
    assert suggest_threshold(_counts(0.7, 60, 40, [0] * 5, [0] * 5)) == ""
    # No minimum score in the document: any candidate may be suggested.
    text = suggest_threshold(_counts(None, 20, 10, [12, 12, 12, 12, 12], [0] * 5))
    assert text.startswith("Raising the minimum score to 0.5 would have removed 12 of 20")


def test_coverage_counts_employees_messages_and_the_pipelines_lag(alerts, tenant_a):
    with tenant_scope(tenant_a):
        sent = Message.objects.filter(tenant=tenant_a).aggregate(
            first=Min("whatsapp_timestamp"), last=Max("whatsapp_timestamp")
        )
    span = StatsRange(first=sent["first"].date(), last=sent["last"].date(), zone=UTC_ZONE)
    with tenant_scope(tenant_a):
        rows = {r["measure"]: r for r in coverage(tenant=tenant_a, span=span).rows}
    assert rows["Employees covered by consent"]["value"] == 1
    assert rows["Employees covered by consent"]["of"] == 1
    assert rows["Messages captured"]["value"] == 3
    assert (rows["Messages scanned"]["value"], rows["Messages scanned"]["of"]) == (3, 3)
    assert rows["Oldest delivery waiting to be processed (seconds)"]["value"] == 0
    assert rows["Oldest message waiting to be scanned (seconds)"]["value"] == 0
    # A range without the messages captures none of them.
    before = StatsRange(
        first=span.first - timedelta(days=9), last=span.first - timedelta(days=1), zone=UTC_ZONE
    )
    with tenant_scope(tenant_a):
        rows = {r["measure"]: r for r in coverage(tenant=tenant_a, span=before).rows}
    assert rows["Messages captured"]["value"] == 0


def test_the_dashboards_partial_indexes_cover_the_queues_statuses():
    # alerts.models.TO_DO must stay the queue's `status IN (...)`, or the planner ignores them.
    assert TO_DO.children == [("status__in", [s.value for s in ACTIVE_STATUSES])]


def test_a_firm_sees_only_its_own_figures(alerts, tenant_a, tenant_b):
    span = _today_range()
    for name in ("alerts-over-time", "open-by-age", "false-positives", "reviewer-throughput"):
        assert series(tenant=tenant_b, name=name, span=span).rows == [], name
    assert series(tenant=tenant_a, name="open-by-age", span=span).rows != []
    rows = {
        r["measure"]: r["value"] for r in series(tenant=tenant_b, name="coverage", span=span).rows
    }
    assert rows["Messages captured"] == 0 and rows["Employees covered by consent"] == 0


@pytest.mark.parametrize(
    ("first", "last", "bucket", "error"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "day", "before its start"),
        (date(2024, 1, 1), date(2026, 3, 1), "month", "at most two years"),
        (date(2025, 1, 1), date(2026, 3, 1), "day", "group by week or month"),
        (date(2026, 1, 1), date(2026, 3, 1), "hour", "day, week or month"),
    ],
)
def test_a_range_the_dashboard_cannot_show_says_why(first, last, bucket, error):
    with pytest.raises(StatsError, match=error):
        StatsRange(first=first, last=last, zone=UTC_ZONE, bucket=bucket)

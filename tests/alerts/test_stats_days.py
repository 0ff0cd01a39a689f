"""The dashboard's kept days (alerts/stats_days.py): a day that is over is counted once and
kept, today is counted live, and what changes an old day later drops it (a reopened alert, a
message scanned late) so the figures never stay wrong."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from alerts.models import Alert, Disposition, StatsDay, Status
from alerts.services import transition_alert
from alerts.stats import StatsRange, alerts_over_time, coverage, false_positive_rates, period_of
from alerts.stats_days import SETTLE, forget_scanned
from archive.models import Message
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from consent.models import Employee
from policies.scanning import scan_messages
from tests.archive.ledger_helpers import MOMENT, message_record

UTC_ZONE = ZoneInfo("UTC")


def _set(alert: Alert, **fields) -> None:
    with tenant_scope(alert.tenant_id):
        Alert.objects.filter(pk=alert.pk).update(**fields)


def _move(alert: Alert, person, to: str, **fields) -> None:
    with tenant_scope(alert.tenant_id):
        alert = Alert.objects.get(pk=alert.pk)
    transition_alert(alert=alert, expected_version=alert.version,
                     actor=Actor.for_user(person.user), to=to, **fields)  # fmt: skip


def test_periods_are_postgresqls_weeks_and_months():
    assert period_of(date(2026, 12, 6), "week") == date(2026, 11, 30)  # a Sunday: Monday before
    assert period_of(date(2026, 11, 30), "week") == date(2026, 11, 30)
    assert period_of(date(2026, 12, 6), "month") == date(2026, 12, 1)
    assert period_of(date(2026, 12, 6), "day") == date(2026, 12, 6)


def test_days_that_are_over_are_kept_and_today_is_counted_live(alerts, tenant_a):
    old, new = alerts
    now = timezone.now()
    _set(old, created_at=now - timedelta(days=20))
    _set(new, created_at=now)
    today = now.astimezone(UTC_ZONE).date()
    year = StatsRange(first=today - timedelta(days=364), last=today, zone=UTC_ZONE, bucket="week")
    with tenant_scope(tenant_a):
        rows = alerts_over_time(tenant=tenant_a, span=year).rows
        kept = dict(StatsDay.objects.filter(series="alerts-over-time").values_list("day", "rows"))
    assert sum(r["alerts"] for r in rows) == 2
    old_day = (now - timedelta(days=20)).date()
    assert {r["period"] for r in rows} == {period_of(old_day, "week"), period_of(today, "week")}
    # Every day over for SETTLE is kept (most of them empty); today is not.
    settled_last = (now - SETTLE).date() - timedelta(days=1)
    assert max(kept) == settled_last and min(kept) == year.first
    assert len(kept) == (settled_last - year.first).days + 1
    assert today not in kept
    assert kept[old_day] == [[old.policy_id, "high", 1]]
    # The next view reads the kept day (here made to say 5) instead of counting the alerts.
    with tenant_scope(tenant_a):
        StatsDay.objects.filter(series="alerts-over-time", day=old_day).update(
            rows=[[old.policy_id, "high", 5]]
        )
        again = alerts_over_time(tenant=tenant_a, span=year).rows
    assert sum(r["alerts"] for r in again) == 6


def test_reopening_an_alert_closed_on_a_kept_day_drops_that_day(alerts, tenant_a, oscar):
    closed = alerts[0]
    _move(closed, oscar, Status.CLOSED, disposition=Disposition.FALSE_POSITIVE,
          rationale="Checked by hand.")  # fmt: skip
    _set(closed, closed_at=timezone.now() - timedelta(days=10))
    today = timezone.now().astimezone(UTC_ZONE).date()
    month = StatsRange(first=today - timedelta(days=29), last=today, zone=UTC_ZONE)
    with tenant_scope(tenant_a):
        before = false_positive_rates(tenant=tenant_a, span=month).rows
    assert [(r["closed"], r["false_positives"]) for r in before] == [(1, 1)]
    _move(closed, oscar, Status.OPEN, rationale="Looked again: not so sure.")
    with tenant_scope(tenant_a):
        assert false_positive_rates(tenant=tenant_a, span=month).rows == []


def test_a_message_scanned_late_is_counted_once_the_beat_drops_its_day(
    alerts, tenant_a, django_capture_on_commit_callbacks
):
    day = StatsRange(first=MOMENT.date(), last=MOMENT.date(), zone=UTC_ZONE)

    def captured_and_scanned() -> tuple[int, int]:
        with tenant_scope(tenant_a):
            rows = {r["measure"]: r for r in coverage(tenant=tenant_a, span=day).rows}
        return rows["Messages captured"]["value"], rows["Messages scanned"]["value"]

    with django_capture_on_commit_callbacks(execute=True):
        forget_scanned(tenant=tenant_a)  # the beat's first step: it has seen nothing yet
    assert captured_and_scanned() == (3, 3)
    with tenant_scope(tenant_a):
        assert StatsDay.objects.filter(series="coverage", day=MOMENT.date()).exists()
    # A history back-fill months later: a message of that day, archived and scanned now.
    with tenant_scope(tenant_a):
        employee = Employee.objects.get(employee_id=f"E-{tenant_a.slug}")
    late = replace(message_record(employee, 60), text="Back-filled", is_history=True)
    with tenant_scope(tenant_a):
        archive_messages(tenant=tenant_a, records=[late])
        message_id = Message.objects.get(wamid=late.wamid).pk
    with django_capture_on_commit_callbacks(execute=True):
        scan_messages(tenant=tenant_a, message_ids=[message_id])
    assert captured_and_scanned() == (3, 3)  # the kept day, until the beat looks
    with django_capture_on_commit_callbacks(execute=True):
        assert forget_scanned(tenant=tenant_a) == 1
    assert captured_and_scanned() == (4, 4)

"""The dashboard's days, kept: a series over a year reads one small row per settled day
(alerts.models.StatsDay) and computes only the days still going on, so a page view costs the
days of the range, not the alerts (or messages) in it. alerts/stats.py says what each series
counts per day; this module only keeps and forgets those days.

Why a day cache and not per-hour or per-tenant-zone rollups written with each alert: the
dashboard takes any time zone, so a "day" is only known when someone asks, and hour rows
(half-hour and quarter-hour zones aside) are nearly one per alert at a firm's rates. A day is
kept per (series, zone) the first time it is shown after it settled, and dropped when a late
change touches it:

- alerts raised (by ``created_at``) and closings (``AlertEvent.at``) are stamped when written,
  so a settled day never changes;
- closed alerts (false positives) change when one is reopened: alerts/services.py drops the
  days around its old ``closed_at`` (``forget``), in the reopening's transaction;
- coverage counts messages by their WhatsApp time, so a message archived or scanned late (a
  history back-fill, a stalled pipeline) changes an old day: the beat (``forget_scanned``)
  drops the days of the messages scanned since its last run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import TruncDate
from django.utils import timezone

from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope, unscoped
from compliance_hub.tenancy.models import Tenant
from policies.models import MessageScan

from .models import StatsDay

# A day is kept once it ended this long ago: a write stamped before the day's end and
# committed later than this (no transaction of ours lasts that long) would be missed.
SETTLE = timedelta(hours=2)
# The beat looks this far behind its last run too, for scans committed after their stamp.
OVERLAP = timedelta(minutes=15)
COVERAGE = "coverage"
FALSE_POSITIVES = "false-positives"

DayRows = dict[date, list[list[Any]]]
# compute(start, end): the series' rows of each local day in [start, end), one query.
Compute = Callable[[datetime, datetime], DayRows]


def day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _runs(days: list[date]) -> Iterable[tuple[date, date]]:
    """Consecutive stretches (first, last) of sorted ``days``: one query per stretch."""
    first = previous = days[0]
    for day in days[1:]:
        if day != previous + timedelta(days=1):
            yield first, previous
            first = day
        previous = day
    yield first, previous


def by_day(
    *,
    tenant: Tenant,
    series: str,
    first: date,
    last: date,
    zone: ZoneInfo,
    compute: Compute,
    now: datetime | None = None,
) -> DayRows:
    """The rows of each day ``first``..``last`` in ``zone``: settled days from the kept ones
    (computing and keeping those not kept yet), the rest computed now."""
    now = now or timezone.now()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    settled = [d for d in days if day_start(d + timedelta(days=1), zone) <= now - SETTLE]
    going_on = days[len(settled) :]
    found: DayRows = {}
    if settled:
        kept = StatsDay.objects.filter(
            tenant=tenant, series=series, zone=zone.key, day__gte=settled[0], day__lte=settled[-1]
        ).values_list("day", "rows")
        found.update(kept)
        missing = [d for d in settled if d not in found]
        for run_first, run_last in _runs(missing) if missing else ():
            computed = compute(
                day_start(run_first, zone), day_start(run_last + timedelta(days=1), zone)
            )
            new = {day: computed.get(day, []) for day in missing if run_first <= day <= run_last}
            StatsDay.objects.bulk_create(
                [
                    StatsDay(tenant=tenant, series=series, zone=zone.key, day=day, rows=rows)
                    for day, rows in new.items()
                ],
                ignore_conflicts=True,  # two views of the same new day: one row, same figures
            )
            found.update(new)
    if going_on:
        found.update(
            compute(day_start(going_on[0], zone), day_start(going_on[-1] + timedelta(days=1), zone))
        )
    return found


def _around(days: Iterable[date]) -> set[date]:
    """A UTC date's day in any zone is that date or the one either side (UTC-12..UTC+14)."""
    return {d + timedelta(days=shift) for d in days for shift in (-1, 0, 1)}


def forget(*, tenant: Tenant, series: str, at: datetime) -> int:
    """Drop the kept days of ``series`` that may hold the instant ``at`` (every zone)."""
    days = _around([at.astimezone(UTC).date()])
    deleted, _ = StatsDay.objects.filter(tenant=tenant, series=series, day__in=days).delete()
    return deleted


def _seen_key(tenant_id: int) -> str:
    return f"alerts:stats-days:scans-seen:{tenant_id}"


def forget_scanned(*, tenant: Tenant, now: datetime | None = None) -> int:
    """The beat's step for one tenant: drop the kept coverage days of the messages scanned
    since the last step (all of them when the last step is not known, e.g. the cache was
    emptied). Returns how many kept days were dropped."""
    now = now or timezone.now()
    seen = cache.get(_seen_key(tenant.pk))
    with tenant_scope(tenant):
        kept = StatsDay.objects.filter(tenant=tenant, series=COVERAGE)
        if not isinstance(seen, datetime):
            deleted, _ = kept.delete()
        else:
            scanned = MessageScan.objects.filter(tenant=tenant, scanned_at__gte=seen - OVERLAP)
            dates = (
                Message.objects.filter(tenant=tenant, pk__in=scanned.values("message_id"))
                .annotate(utc_day=TruncDate("whatsapp_timestamp", tzinfo=UTC))
                .order_by()
                .values_list("utc_day", flat=True)
                .distinct()
            )
            days = _around(dates)
            deleted, _ = kept.filter(day__in=days).delete() if days else (0, {})
    # Marked seen once the drops are committed: a rolled-back step is looked at again.
    transaction.on_commit(lambda: cache.set(_seen_key(tenant.pk), now, timeout=None))
    return deleted


def tenants_with_kept_coverage() -> list[int]:
    """The tenants forget_scanned has anything to do for (platform code: ids only)."""
    with unscoped():
        return list(
            StatsDay.all_tenants.filter(series=COVERAGE)
            .values_list("tenant_id", flat=True)
            .distinct()
        )

"""The dashboard's series: aggregates of alerts, reviews, consent and capture, counted per day
of the user's time zone (one SQL statement per stretch of days, GROUP BY date_trunc) and summed
into the chosen periods. Days that are over are kept (alerts/stats_days.py), so a view costs
the days of its range and today's alerts, whether the firm has a thousand alerts or a million.
Every series is a table (``columns`` and ``rows``) that the page draws as a chart, shows as a
table and offers as CSV.

Read by ``alerts/api_stats.py`` (``/api/v1/stats/<series>/``); figures at scale in
docs/benchmarks.md ("Alerts: 1M alerts").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    When,
)
from django.db.models import Value as V
from django.db.models.functions import Trunc
from django.utils import timezone

from archive.models import Message
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent.models import ConsentState, Employee
from consent.selectors import consent_state_counts
from ingestion.models import Delivery
from policies.models import MessageScan, Policy, PolicyVersion

from .models import TRUE_POSITIVES, Alert, AlertEvent, Disposition, Status
from .stats_days import COVERAGE, FALSE_POSITIVES, Compute, DayRows, by_day, day_start

BUCKETS = ("day", "week", "month")
MAX_RANGE_DAYS = 731  # two years: what the firm's regulator asks about at most in one view
MAX_POINTS = 400  # periods on one chart; past it, ask for weeks or months
# A policy whose closed alerts were false positives this often gets a threshold suggestion.
HIGH_FALSE_POSITIVE_RATE = 0.3
MIN_DECISIONS = 10  # fewer decisions than this say nothing about a rate
# The minimum scores a suggestion may propose (finer steps would read as false precision).
CANDIDATE_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)
# A suggestion may cost at most this share of the policy's true positives.
TRUE_POSITIVE_LOSS = 0.05
# Open alerts' ages: (label, lower bound); the last bucket has no upper bound.
AGE_BUCKETS = (
    ("Under a day", timedelta(0)),
    ("1 to 3 days", timedelta(days=1)),
    ("3 to 7 days", timedelta(days=3)),
    ("1 to 4 weeks", timedelta(days=7)),
    ("Over 4 weeks", timedelta(days=28)),
)
SEVERITY_ORDER = ("critical", "high", "medium", "low")
TITLES = {
    "alerts-over-time": "Alerts raised",
    "open-by-age": "Open alerts by age",
    "reviewer-throughput": "Reviewer throughput",
    "false-positives": "False-positive rate per policy",
    "coverage": "Coverage",
}


class StatsError(ValueError):
    """A time range or option the dashboard cannot show; the text says why, in the user's words."""


@dataclass(frozen=True, kw_only=True)
class StatsRange:
    """Whole days ``first``..``last`` (both included) in the user's time zone, grouped by
    ``bucket``."""

    first: date
    last: date
    zone: ZoneInfo
    bucket: str = "day"

    def __post_init__(self) -> None:
        if self.bucket not in BUCKETS:
            raise StatsError("Group by day, week or month.")
        if self.last < self.first:
            raise StatsError("The end of the range is before its start.")
        days = (self.last - self.first).days + 1
        if days > MAX_RANGE_DAYS:
            raise StatsError("Choose a range of at most two years.")
        per_point = {"day": 1, "week": 7, "month": 28}[self.bucket]
        if days / per_point > MAX_POINTS:
            raise StatsError("Too many days for one chart: group by week or month.")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the range (exclusive): midnight after ``last``."""
        return datetime.combine(self.last + timedelta(days=1), time.min, tzinfo=self.zone)

    def period(self, field_name: str) -> Trunc:
        return Trunc(field_name, self.bucket, output_field=DateField(), tzinfo=self.zone)


def default_range(*, zone: ZoneInfo, today: date | None = None, days: int = 30) -> StatsRange:
    """The last ``days`` days up to today in ``zone``, by day."""
    today = today or timezone.now().astimezone(zone).date()
    return StatsRange(first=today - timedelta(days=days - 1), last=today, zone=zone)


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True, kw_only=True)
class Chart:
    """How the page draws a series: ``kind`` bars, stacked (bars), line or table; ``x`` and
    ``y`` name columns; ``groups`` the columns a chart may be split by (the first by default)."""

    kind: str
    x: str = ""
    y: str = ""
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Series:
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    chart: Chart
    rows: list[dict[str, Any]] = field(default_factory=list)


# --- the series ----------------------------------------------------------------------------------


def _policy_names(tenant: Tenant, ids: Iterable[int]) -> dict[int, str]:
    return dict(Policy.objects.filter(tenant=tenant, pk__in=set(ids)).values_list("pk", "name"))


def _severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _day(field_name: str, zone: ZoneInfo) -> Trunc:
    return Trunc(field_name, "day", output_field=DateField(), tzinfo=zone)


def period_of(day: date, bucket: str) -> date:
    """The period a local day falls in, as PostgreSQL's date_trunc names it (weeks start on
    Monday). Pure."""
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def _days(*, tenant: Tenant, span: StatsRange, series: str, compute: Compute) -> DayRows:
    return by_day(
        tenant=tenant, series=series, first=span.first, last=span.last, zone=span.zone,
        compute=compute,
    )  # fmt: skip


def alerts_over_time(*, tenant: Tenant, span: StatsRange) -> Series:
    """Alerts raised per period, by policy and severity."""

    def per_day(start: datetime, end: datetime) -> DayRows:
        grouped = (
            Alert.objects.filter(tenant=tenant, created_at__gte=start, created_at__lt=end)
            .annotate(day=_day("created_at", span.zone))
            .order_by()
            .values_list("day", "policy_id", "severity")
            # "*" (and "tenant" where filtered), not "pk": read from the index alone
            .annotate(n=Count("*"))
        )
        found: DayRows = defaultdict(list)
        for day, policy_id, severity, n in grouped:
            found[day].append([policy_id, severity, n])
        return found

    counts: Counter[tuple[date, int, str]] = Counter()
    for day, day_rows in _days(
        tenant=tenant, span=span, series="alerts-over-time", compute=per_day
    ).items():
        for policy_id, severity, n in day_rows:
            counts[(period_of(day, span.bucket), policy_id, severity)] += n
    names = _policy_names(tenant, (policy_id for _, policy_id, _ in counts))
    rows: list[dict[str, Any]] = [
        {
            "period": period,
            "policy": names.get(policy_id, ""),
            "severity": severity,
            "alerts": n,
        }
        for (period, policy_id, severity), n in counts.items()
    ]
    rows.sort(key=lambda r: (r["period"], _severity_rank(r["severity"]), r["policy"]))
    return Series(
        name="alerts-over-time",
        title=TITLES["alerts-over-time"],
        description="New alerts per period, by severity or by policy.",
        columns=(
            Column("period", "Period"),
            Column("policy", "Policy"),
            Column("severity", "Severity"),
            Column("alerts", "Alerts"),
        ),
        chart=Chart(kind="stacked", x="period", y="alerts", groups=("severity", "policy")),
        rows=rows,
    )


def open_by_age(*, tenant: Tenant, span: StatsRange, now: datetime | None = None) -> Series:
    """Alerts not closed yet, by how long they have waited (now, whatever the range) and
    severity."""
    now = now or timezone.now()
    age = Case(
        *[
            # Newest bucket first: the first bound the alert is younger than wins.
            When(created_at__gt=now - AGE_BUCKETS[i + 1][1], then=V(i))
            for i in range(len(AGE_BUCKETS) - 1)
        ],
        default=V(len(AGE_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    grouped = (
        Alert.objects.filter(tenant=tenant)
        .exclude(status=Status.CLOSED)
        .annotate(age=age)
        .order_by()
        .values("age", "severity")
        .annotate(n=Count("*"))
    )
    rows = [
        {"age": AGE_BUCKETS[row["age"]][0], "severity": row["severity"], "alerts": row["n"]}
        for row in sorted(grouped, key=lambda r: (r["age"], _severity_rank(r["severity"])))
    ]
    return Series(
        name="open-by-age",
        title=TITLES["open-by-age"],
        description="Alerts still to review now, by how long they have waited.",
        columns=(
            Column("age", "Waiting"),
            Column("severity", "Severity"),
            Column("alerts", "Alerts"),
        ),
        chart=Chart(kind="stacked", x="age", y="alerts", groups=("severity",)),
        rows=rows,
    )


def reviewer_throughput(*, tenant: Tenant, span: StatsRange) -> Series:
    """Alerts each reviewer closed per period (from the alerts' histories: a reopened alert
    closed again counts twice, as the work was done twice)."""

    def per_day(start: datetime, end: datetime) -> DayRows:
        grouped = (
            AlertEvent.objects.filter(
                tenant=tenant, to_status=Status.CLOSED, at__gte=start, at__lt=end
            )
            .annotate(day=_day("at", span.zone))
            .order_by()
            .values_list("day", "actor_id")
            .annotate(n=Count("*"), label=Max("actor_label"))
        )
        found: DayRows = defaultdict(list)
        for day, actor_id, n, label in grouped:
            found[day].append([actor_id, label, n])
        return found

    closed: Counter[tuple[date, int | None]] = Counter()
    labels: dict[tuple[date, int | None], str] = {}
    for day, day_rows in _days(
        tenant=tenant, span=span, series="reviewer-throughput", compute=per_day
    ).items():
        for actor_id, label, n in day_rows:
            key = (period_of(day, span.bucket), actor_id)
            closed[key] += n
            labels[key] = max(labels.get(key, ""), label)
    rows = [
        {"period": period, "reviewer": labels[(period, actor)], "closed": n}
        for (period, actor), n in closed.items()
    ]
    rows.sort(key=lambda r: (r["period"], r["reviewer"]))
    return Series(
        name="reviewer-throughput",
        title=TITLES["reviewer-throughput"],
        description="Alerts closed per period by each reviewer.",
        columns=(
            Column("period", "Period"),
            Column("reviewer", "Reviewer"),
            Column("closed", "Alerts closed"),
        ),
        chart=Chart(kind="line", x="period", y="closed", groups=("reviewer",)),
        rows=rows,
    )


def _min_score(document: Any) -> float | None:
    """The lowest ``min_score`` anywhere in a policy document (a policy combining detectors may
    set one per detector); None when the document sets none."""
    found: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            value = node.get("min_score")
            if isinstance(value, int | float) and not isinstance(value, bool):
                found.append(float(value))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
    return min(found) if found else None


@dataclass(frozen=True, kw_only=True)
class ThresholdCounts:
    """A policy's decided alerts, and how many of each scored below each candidate."""

    current: float | None
    false_positives: int
    true_positives: int
    false_below: dict[float, int]
    true_below: dict[float, int]


def suggest_threshold(counts: ThresholdCounts) -> str:
    """The suggestion the false-positive chart shows for one policy, or "" when its rate is
    fine, its decisions are too few, or no higher minimum score would have helped. Pure."""
    decided = counts.false_positives + counts.true_positives
    if decided < MIN_DECISIONS or counts.false_positives / decided < HIGH_FALSE_POSITIVE_RATE:
        return ""
    floor = counts.current if counts.current is not None else 0.0
    best: tuple[int, float] | None = None
    for threshold in CANDIDATE_THRESHOLDS:
        if threshold <= floor + 1e-9:
            continue
        removed = counts.false_below[threshold]
        lost = counts.true_below[threshold]
        affordable = lost <= TRUE_POSITIVE_LOSS * counts.true_positives
        if removed and affordable and (best is None or removed > best[0]):
            best = (removed, threshold)
    if best is None:
        return ""
    removed, threshold = best
    lost = counts.true_below[threshold]
    start = f"from {floor:.1f} " if counts.current is not None else ""
    text = (
        f"Raising the minimum score {start}to {threshold:.1f} would have removed {removed} of "
        f"{counts.false_positives} false positives"
    )
    if lost:
        text += f" (and {lost} of {counts.true_positives} true positives)"
    return text + "."


def false_positive_rates(*, tenant: Tenant, span: StatsRange) -> Series:
    """Per policy, of the alerts closed in the range: how many were false positives, the rate
    (duplicates left out: they say nothing about the detector), and a higher minimum score when
    the stored scores show one would have removed most of them."""
    closed = Q(disposition=Disposition.FALSE_POSITIVE)
    true = Q(disposition__in=list(TRUE_POSITIVES))
    key = {t: f"{t:.2f}".replace(".", "_") for t in CANDIDATE_THRESHOLDS}
    below = {}
    for threshold in CANDIDATE_THRESHOLDS:
        below[f"fp_{key[threshold]}"] = Count("tenant", filter=closed & Q(score__lt=threshold))
        below[f"tp_{key[threshold]}"] = Count("tenant", filter=true & Q(score__lt=threshold))
    counted = ["closed", "false_positives", "true_positives", *below]

    def per_day(start: datetime, end: datetime) -> DayRows:
        # Typed loosely: the threshold columns are named at run time.
        grouped = cast(
            list[dict[str, Any]],
            list(
                Alert.objects.filter(
                    tenant=tenant, status=Status.CLOSED, closed_at__gte=start, closed_at__lt=end
                )
                .annotate(day=_day("closed_at", span.zone))
                .order_by()
                .values("day", "policy_id")
                .annotate(
                    closed=Count("*"),
                    false_positives=Count("tenant", filter=closed),
                    true_positives=Count("tenant", filter=true),
                    **below,
                )
            ),
        )
        found: DayRows = defaultdict(list)
        for row in grouped:
            found[row["day"]].append([row["policy_id"], *(row[c] for c in counted)])
        return found

    totals: dict[int, dict[str, int]] = {}
    for day_rows in _days(
        tenant=tenant, span=span, series=FALSE_POSITIVES, compute=per_day
    ).values():
        for policy_id, *values in day_rows:
            total = totals.setdefault(policy_id, dict.fromkeys(counted, 0))
            for column, value in zip(counted, values, strict=True):
                total[column] += value
    grouped = [{"policy_id": policy_id, **total} for policy_id, total in totals.items()]
    policy_ids = [row["policy_id"] for row in grouped]
    names = _policy_names(tenant, policy_ids)
    current = _current_min_scores(tenant, policy_ids)
    rows: list[dict[str, Any]] = []
    for row in grouped:
        decided = row["false_positives"] + row["true_positives"]
        counts = ThresholdCounts(
            current=current.get(row["policy_id"]),
            false_positives=row["false_positives"],
            true_positives=row["true_positives"],
            false_below={t: row[f"fp_{key[t]}"] for t in CANDIDATE_THRESHOLDS},
            true_below={t: row[f"tp_{key[t]}"] for t in CANDIDATE_THRESHOLDS},
        )
        rows.append(
            {
                "policy": names.get(row["policy_id"], ""),
                "closed": row["closed"],
                "false_positives": row["false_positives"],
                "true_positives": row["true_positives"],
                "false_positive_rate": round(row["false_positives"] / decided, 4)
                if decided
                else None,
                "suggestion": suggest_threshold(counts),
            }
        )
    rows.sort(key=lambda r: (-(r["false_positive_rate"] or 0), r["policy"]))
    return Series(
        name="false-positives",
        title=TITLES["false-positives"],
        description="Of the alerts closed in the range, the share closed as false positives "
        "(duplicates left out), with a higher minimum score where the scores show one helps.",
        columns=(
            Column("policy", "Policy"),
            Column("closed", "Closed"),
            Column("false_positives", "False positives"),
            Column("true_positives", "True positives"),
            Column("false_positive_rate", "False-positive rate"),
            Column("suggestion", "Suggestion"),
        ),
        chart=Chart(kind="bars", x="policy", y="false_positive_rate"),
        rows=rows,
    )


def _current_min_scores(tenant: Tenant, policy_ids: list[int]) -> dict[int, float | None]:
    """Each policy's minimum score in its latest version (one query; the documents are few)."""
    latest = (
        PolicyVersion.objects.filter(tenant=tenant, policy_id__in=policy_ids)
        .order_by("policy_id", "-number")
        .distinct("policy_id")
        .values_list("policy_id", "document")
    )
    return {policy_id: _min_score(document) for policy_id, document in latest}


def coverage(*, tenant: Tenant, span: StatsRange, now: datetime | None = None) -> Series:
    """Who and what is watched: employees covered by consent, messages captured and scanned in
    the range, and how far behind the pipeline is now (the oldest delivery not processed yet,
    the oldest message of the range not scanned yet)."""
    now = now or timezone.now()
    states = consent_state_counts(tenant=tenant)
    employees = Employee.objects.filter(tenant=tenant, active=True).count()
    scanned = MessageScan.objects.filter(tenant=tenant, message_id=OuterRef("pk"))

    def per_day(start: datetime, end: datetime) -> DayRows:
        grouped = (
            Message.objects.filter(
                tenant=tenant, whatsapp_timestamp__gte=start, whatsapp_timestamp__lt=end
            )
            .annotate(day=_day("whatsapp_timestamp", span.zone))
            .order_by()
            .values_list("day")
            .annotate(captured=Count("*"), scanned=Count("tenant", filter=Exists(scanned)))
        )
        return {day: [[captured, n]] for day, captured, n in grouped}

    days = _days(tenant=tenant, span=span, series=COVERAGE, compute=per_day)
    captured = sum(r[0] for day_rows in days.values() for r in day_rows)
    scanned_count = sum(r[1] for day_rows in days.values() for r in day_rows)
    # Only the days with a message not scanned yet are searched for the oldest one: nothing
    # when the pipeline keeps up, however many messages the range holds.
    behind = sorted(d for d, day_rows in days.items() if any(r[0] > r[1] for r in day_rows))
    oldest_unscanned = None
    if behind:
        waiting = Q()
        for day in behind:
            waiting |= Q(
                whatsapp_timestamp__gte=day_start(day, span.zone),
                whatsapp_timestamp__lt=day_start(day + timedelta(days=1), span.zone),
            )
        oldest_unscanned = (
            Message.objects.filter(tenant=tenant)
            .filter(waiting)
            .filter(~Exists(scanned))
            .aggregate(oldest=Min("received_at"))["oldest"]
        )
    oldest_delivery = (
        Delivery.objects.filter(tenant=tenant, status=Delivery.Status.PENDING)
        .order_by("received_at")
        .values_list("received_at", flat=True)
        .first()
    )

    def lag(since: datetime | None) -> int:
        return max(0, int((now - since).total_seconds())) if since is not None else 0

    rows = [
        {
            "measure": "Employees covered by consent",
            "value": states[ConsentState.COVERED],
            "of": employees,
        },
        {"measure": "Messages captured", "value": captured, "of": None},
        {"measure": "Messages scanned", "value": scanned_count, "of": captured},
        {
            "measure": "Oldest delivery waiting to be processed (seconds)",
            "value": lag(oldest_delivery),
            "of": None,
        },
        {
            "measure": "Oldest message waiting to be scanned (seconds)",
            "value": lag(oldest_unscanned),
            "of": None,
        },
    ]
    return Series(
        name="coverage",
        title=TITLES["coverage"],
        description="Employees covered by consent (now), messages captured and scanned in the "
        "range, and how far behind processing is now.",
        columns=(Column("measure", "Measure"), Column("value", "Value"), Column("of", "Out of")),
        chart=Chart(kind="table"),
        rows=rows,
    )


SERIES: dict[str, Callable[..., Series]] = {
    "alerts-over-time": alerts_over_time,
    "open-by-age": open_by_age,
    "reviewer-throughput": reviewer_throughput,
    "false-positives": false_positive_rates,
    "coverage": coverage,
}


def series(*, tenant: Tenant, name: str, span: StatsRange) -> Series:
    """One series of the tenant; ``KeyError`` for a name not in SERIES."""
    build = SERIES[name]
    with tenant_scope(tenant):
        return build(tenant=tenant, span=span)

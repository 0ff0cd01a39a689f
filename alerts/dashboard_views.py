"""The alerts dashboard page: charts of the dashboard's series over a range of days in the
user's time zone. The page itself holds no figures: each chart fetches its series from
``/api/v1/stats/<series>/`` (alerts/stats_api.py) and links to its CSV, so the page, the API and
the download always show the same numbers."""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from archive.selectors import READ_ROLES
from compliance_hub.tenancy.requests import TenantRequest
from compliance_hub.tenancy.roles import role_required

from .stats import BUCKETS, SERIES, TITLES, StatsError, StatsRange, default_range


class DashboardRangeForm(forms.Form):
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    bucket = forms.ChoiceField(
        label="Group by",
        required=False,
        choices=[(b, {"day": "Day", "week": "Week", "month": "Month"}[b]) for b in BUCKETS],
    )
    time_zone = forms.CharField(
        label="Time zone",
        required=False,
        max_length=64,
        help_text="Days start at midnight here, e.g. Europe/London or America/New_York.",
    )

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"] or timezone.get_current_timezone_name()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise forms.ValidationError("Not a time zone we know (e.g. Europe/London).") from error
        return value

    def span(self) -> StatsRange:
        """The chosen range (call after is_valid); the last 30 days by default."""
        data = self.cleaned_data
        zone = ZoneInfo(data["time_zone"])
        fallback = default_range(zone=zone)
        end = data.get("end") or fallback.last
        start = data.get("start") or end - (fallback.last - fallback.first)
        return StatsRange(first=start, last=end, zone=zone, bucket=data.get("bucket") or "day")


@role_required(*READ_ROLES)
@require_GET
def dashboard_page(request: TenantRequest) -> HttpResponse:
    form = DashboardRangeForm(request.GET or None)
    if not form.is_bound:
        shown = default_range(zone=ZoneInfo(timezone.get_current_timezone_name()))
        form.initial = {
            "start": shown.first,
            "end": shown.last,
            "bucket": shown.bucket,
            "time_zone": shown.zone.key,
        }
    span: StatsRange | None = None
    if form.is_bound:
        if form.is_valid():
            try:
                span = form.span()
            except StatsError as error:
                form.add_error(None, str(error))
    else:
        span = default_range(zone=ZoneInfo(timezone.get_current_timezone_name()))
    charts = []
    if span is not None:
        query = {
            "start": span.first.isoformat(),
            "end": span.last.isoformat(),
            "bucket": span.bucket,
            "time_zone": span.zone.key,
        }
        for name in SERIES:
            url = reverse("stats-series", kwargs={"series": name})
            charts.append(
                {
                    "name": name,
                    "title": TITLES[name],
                    "url": f"{url}?{urlencode(query)}",
                    "csv_url": f"{url}?{urlencode({**query, 'format': 'csv'})}",
                }
            )
    return render(
        request,
        "alerts/dashboard.html",
        {"form": form, "span": span, "charts": charts},
        status=200 if span is not None else 400,
    )

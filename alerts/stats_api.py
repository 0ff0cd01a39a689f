"""``/api/v1/stats/`` (the dashboard's series) and ``/api/v1/stats/<series>/`` (one series as a
table, in JSON or, with ``?format=csv``, as a CSV a spreadsheet opens safely). Officers,
auditors and admins read them; every figure is of the caller's own firm."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from archive.selectors import READ_ROLES
from compliance_hub.api.base import TenantAPIMixin, TenantGenericAPIView
from compliance_hub.api.responses import INVALID
from compliance_hub.csv_cells import spreadsheet_safe

from .stats import BUCKETS, SERIES, Series, StatsError, StatsRange, default_range
from .stats import series as _read

DEFAULT_DAYS = 30


class CSVRenderer(BaseRenderer):
    """One series as CSV: a header of the columns' labels, then its rows. Text cells a person
    could have written (policy names, reviewer labels) are neutralised against spreadsheet
    formulas; numbers stay numbers."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        columns = data.get("columns", []) if isinstance(data, dict) else []
        writer.writerow([spreadsheet_safe(column["label"]) for column in columns])
        for row in data.get("rows", []) if isinstance(data, dict) else []:
            writer.writerow([_cell(row.get(column["key"])) for column in columns])
        return buffer.getvalue().encode("utf-8")


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    return spreadsheet_safe(value)


# --- input and output ---------------------------------------------------------------------------


class StatsQuerySerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, help_text="First day (YYYY-MM-DD, in time_zone); default 30 days ago"
    )
    end = serializers.DateField(
        required=False, help_text="Last day, included (YYYY-MM-DD); default today"
    )
    time_zone = serializers.CharField(
        required=False, max_length=64, help_text="IANA time zone of the days, e.g. Europe/Paris"
    )
    bucket = serializers.ChoiceField(
        choices=list(BUCKETS), required=False, help_text="Period of each point; default day"
    )

    def validate_time_zone(self, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise serializers.ValidationError("Not a time zone we know.") from error
        return value

    def span(self) -> StatsRange:
        data = self.validated_data
        zone = ZoneInfo(data.get("time_zone") or timezone.get_current_timezone_name())
        fallback = default_range(zone=zone, days=DEFAULT_DAYS)
        end: date = data.get("end") or fallback.last
        start: date = data.get("start") or end - (fallback.last - fallback.first)
        try:
            return StatsRange(first=start, last=end, zone=zone, bucket=data.get("bucket", "day"))
        except StatsError as error:
            raise serializers.ValidationError({"non_field_errors": [str(error)]}) from error


class StatsColumnSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The key of this column in each row")
    # A field named like Field.label: the serializer's metaclass takes it as a field.
    label = serializers.CharField(help_text="The column's heading, in words")  # type: ignore[assignment]


class StatsChartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["bars", "stacked", "line", "table"])
    x = serializers.CharField(help_text="The column along the horizontal axis")
    y = serializers.CharField(help_text="The column of the values")
    groups = serializers.ListField(
        child=serializers.CharField(), help_text="Columns the chart may be split by"
    )


class StatsSeriesSerializer(serializers.Serializer):
    series = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    time_zone = serializers.CharField()
    bucket = serializers.CharField()
    columns = StatsColumnSerializer(many=True)
    chart = StatsChartSerializer()
    rows = serializers.ListField(
        child=serializers.DictField(),
        help_text="One object per row, keyed by the columns' keys (numbers, text, dates, null)",
    )


class StatsIndexEntrySerializer(serializers.Serializer):
    series = serializers.CharField()
    url = serializers.CharField()


def series_payload(found: Series, span: StatsRange) -> dict[str, Any]:
    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value

    return {
        "series": found.name,
        "title": found.title,
        "description": found.description,
        "start": span.first,
        "end": span.last,
        "time_zone": span.zone.key,
        "bucket": span.bucket,
        "columns": [{"key": c.key, "label": c.label} for c in found.columns],
        "chart": {
            "kind": found.chart.kind,
            "x": found.chart.x,
            "y": found.chart.y,
            "groups": list(found.chart.groups),
        },
        "rows": [{key: plain(value) for key, value in row.items()} for row in found.rows],
    }


# --- views ---------------------------------------------------------------------------


class StatsIndexView(TenantAPIMixin):
    """The dashboard's series, each at its own address. A plain view (no queryset): what it
    lists is the code's, not the database's."""

    allowed_roles = READ_ROLES

    @extend_schema(responses=StatsIndexEntrySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            [
                {"series": name, "url": reverse("stats-series", kwargs={"series": name})}
                for name in SERIES
            ]
        )


class StatsSeriesView(TenantGenericAPIView):
    """One series of the dashboard over a range of days: a table of ``columns`` and ``rows``,
    with how the page draws it. ``?format=csv`` gives the same table as a CSV file."""

    allowed_roles = READ_ROLES
    serializer_class = StatsSeriesSerializer
    renderer_classes = [JSONRenderer, CSVRenderer]
    pagination_class = None

    @extend_schema(
        parameters=[
            StatsQuerySerializer,
            OpenApiParameter("series", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(SERIES)),
            OpenApiParameter(
                "format",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=["json", "csv"],
                description="csv: the table as a CSV file",
            ),
        ],
        responses={
            (200, "application/json"): StatsSeriesSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: INVALID,
        },
    )
    def get(self, request: Request, series: str) -> Response:
        query = StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        span = query.span()
        found = series_payload(_read(tenant=self.tenant, name=series, span=span), span)
        response = Response(StatsSeriesSerializer(found).data)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            filename = f"{series}-{span.first.isoformat()}-{span.last.isoformat()}.csv"
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        # An error is always the API's JSON error, even when the caller asked for CSV.
        if response.status_code >= 400 and hasattr(request, "accepted_renderer"):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        return super().finalize_response(request, response, *args, **kwargs)

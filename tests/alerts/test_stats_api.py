"""``/api/v1/stats/`` and ``/api/v1/stats/<series>/``: each role reads its own firm's series,
as JSON or as a CSV a spreadsheet opens safely; bad input gets the API's JSON error (even when
CSV was asked for); another firm's key sees none of it. And the dashboard page that draws them."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Role
from policies.models import Policy

SERIES = ["alerts-over-time", "open-by-age", "reviewer-throughput", "false-positives", "coverage"]


def _url(name: str) -> str:
    return reverse("stats-series", kwargs={"series": name})


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OFFICER, Role.AUDITOR])
def test_every_role_reads_every_series(alerts, tenant_a, api_client_for, role):
    client = api_client_for(tenant_a, role)
    index = client.get("/api/v1/stats/")
    assert index.status_code == 200
    assert [entry["series"] for entry in index.json()] == SERIES
    for name in SERIES:
        response = client.get(_url(name))
        assert response.status_code == 200, (name, response.content)
        body = response.json()
        assert body["series"] == name and body["columns"] and "kind" in body["chart"]
    opened = client.get(_url("open-by-age")).json()
    assert opened["rows"] == [{"age": "Under a day", "severity": "high", "alerts": 2}]


def test_another_firms_key_sees_none_of_the_figures(alerts, tenant_b, api_client_for):
    client = api_client_for(tenant_b, Role.ADMIN)
    for name in ("alerts-over-time", "open-by-age", "false-positives", "reviewer-throughput"):
        assert client.get(_url(name)).json()["rows"] == [], name


def test_the_range_and_time_zone_come_from_the_caller(alerts, tenant_a, api_client_for):
    client = api_client_for(tenant_a, Role.OFFICER)
    body = client.get(
        _url("alerts-over-time"),
        {"start": "2020-01-01", "end": "2020-03-31", "bucket": "week", "time_zone": "Asia/Tokyo"},
    ).json()
    assert (body["start"], body["end"], body["bucket"], body["time_zone"]) == (
        "2020-01-01",
        "2020-03-31",
        "week",
        "Asia/Tokyo",
    )
    assert body["rows"] == []  # the alerts were raised today, not in 2020


@pytest.mark.parametrize(
    "query",
    [
        {"time_zone": "Mars/Olympus"},
        {"start": "2026-03-02", "end": "2026-03-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"bucket": "hour"},
        {"start": "yesterday"},
        {"start": "2026-01-01", "end": "2026-12-31", "format": "csv"},  # 365 days by day: fine
    ],
)
def test_bad_input_is_a_json_error_even_when_csv_was_asked(alerts, tenant_a, api_client_for, query):
    client = api_client_for(tenant_a, Role.OFFICER)
    response = client.get(_url("alerts-over-time"), {**query, "format": "csv"})
    if query.get("format") == "csv":
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        return
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "invalid" and error["details"]


def test_an_unknown_series_is_the_apis_404(tenant_a, api_client_for):
    response = api_client_for(tenant_a, Role.OFFICER).get("/api/v1/stats/everything/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_without_credentials_nothing_is_read(client, alerts):
    response = client.get(_url("open-by-age"), {"format": "csv"})
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"


def test_csv_is_escaped_and_safe_in_a_spreadsheet(alerts, tenant_a, api_client_for):
    with tenant_scope(tenant_a):
        Policy.objects.filter(tenant=tenant_a).update(
            name='=HYPERLINK("http://evil.example","Click"), "quoted"'
        )
    response = api_client_for(tenant_a, Role.AUDITOR).get(
        _url("alerts-over-time"), {"format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="alerts-over-time-')
    text = response.content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Period", "Policy", "Severity", "Alerts"]
    assert len(rows) == 2
    _period, policy, severity, count = rows[1]
    # The formula is text (a leading apostrophe), the comma and quotes survive the round trip.
    assert policy == '\'=HYPERLINK("http://evil.example","Click"), "quoted"'
    assert (severity, count) == ("high", "2")
    assert '"\'=HYPERLINK(""http://evil.example"",""Click""), ""quoted"""' in text
    assert text.endswith("\r\n")


def test_the_dashboard_page_links_each_chart_to_its_series_and_csv(alerts, login_as, oscar):
    response = login_as(oscar).get(reverse("alerts:dashboard"))
    page = response.content.decode()
    assert response.status_code == 200
    for name in SERIES:
        assert f'data-stats-url="/api/v1/stats/{name}/?start=' in page
        assert f'href="/api/v1/stats/{name}/?start=' in page
    assert page.count("Download CSV") == len(SERIES)
    assert "alerts/charts" in page and "<script>" not in page  # a static file, no inline script


def test_the_dashboard_refuses_a_range_it_cannot_show(alerts, login_as, audrey):
    response = login_as(audrey).get(
        reverse("alerts:dashboard"), {"start": "2020-01-01", "end": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "at most two years" in response.content.decode()
    response = login_as(audrey).get(reverse("alerts:dashboard"), {"time_zone": "Nowhere/Else"})
    assert response.status_code == 400
    assert "Not a time zone we know" in response.content.decode()


def test_the_dashboard_needs_a_signed_in_member(client, alerts):
    response = client.get(reverse("alerts:dashboard"))
    assert response.status_code == 302

"""``/api/v1/stats/``: the dashboard's series (alerts/stats_api.py)."""

from django.urls import path, re_path

from .stats import SERIES
from .stats_api import StatsIndexView, StatsSeriesView

# Only the known series' names: anything else is the API's JSON 404.
NAMES = "|".join(SERIES)

urlpatterns = [
    path("stats/", StatsIndexView.as_view(), name="stats-index"),
    re_path(rf"^stats/(?P<series>{NAMES})/$", StatsSeriesView.as_view(), name="stats-series"),
]

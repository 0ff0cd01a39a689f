"""API routes of backtests and lookbacks, mounted under /api/v1/ (a list of their own, beside the
policies API's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from .api_runs import BacktestViewSet, LookbackViewSet, PolicyBacktestViewSet, PolicyLookbackViewSet

router = SimpleRouter(trailing_slash=True)
router.register("backtests", BacktestViewSet, basename="backtest")
router.register("lookbacks", LookbackViewSet, basename="lookback")

run_api_patterns = [
    path(
        "policies/<int:policy_pk>/backtests/",
        PolicyBacktestViewSet.as_view({"get": "list", "post": "create"}),
        name="policy-backtests",
    ),
    path(
        "policies/<int:policy_pk>/lookbacks/",
        PolicyLookbackViewSet.as_view({"get": "list", "post": "create"}),
        name="policy-lookbacks",
    ),
    *router.urls,
]

urlpatterns = run_api_patterns

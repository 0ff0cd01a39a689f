"""Addresses of the backtest and lookback pages, included by policies/urls.py (a list of their
own, so the policy pages and these merge as one line)."""

from __future__ import annotations

from django.urls import path

from . import run_views

run_patterns = [
    path("policies/<int:pk>/runs/", run_views.policy_runs_page, name="runs"),
    path("policies/<int:pk>/backtest/", run_views.backtest_new_page, name="backtest_new"),
    path("policies/<int:pk>/lookback/", run_views.lookback_new_page, name="lookback_new"),
    path("policies/runs/<int:pk>/", run_views.run_page, name="run"),
    path("policies/runs/<int:pk>/status/", run_views.run_status, name="run_status"),
    path("policies/runs/<int:pk>/cancel/", run_views.run_cancel, name="run_cancel"),
]

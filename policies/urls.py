from __future__ import annotations

from .run_urls import run_patterns

app_name = "policies"

urlpatterns = [*run_patterns]

"""Dashboard panels and "What is running" lines contributed by the apps.

The platform app may not import the feature apps (dependencies run one way, DESIGN.md), so each
app registers the panels and lines it wants on the dashboard from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


PanelProvider = Callable[[HttpRequest], Panel | None]
_providers: list[PanelProvider] = []


def register_panel(provider: PanelProvider) -> PanelProvider:
    """Decorator: ``provider(request)`` returns a Panel, or None to show nothing to this user."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def panels_for(request: HttpRequest) -> list[Panel]:
    panels = [panel for provider in _providers if (panel := provider(request)) is not None]
    return sorted(panels, key=lambda panel: panel.order)


@dataclass(frozen=True)
class Activity:
    """One line of "What is running" on the dashboard: a part of the product, whether it runs
    for this firm (and since when), in plain words."""

    name: str
    running: bool
    detail: str
    since: datetime | None = None
    link: str = ""
    link_text: str = ""
    order: int = 100
    available: bool = True  # False: that part of the product is not built yet


ActivityProvider = Callable[[HttpRequest], Activity | None]
_activity_providers: list[ActivityProvider] = []

# Parts of the product whose app is not built yet: said plainly until the app is installed and
# registers its own line, so nobody takes an empty alert queue for a clean bill of health.
NOT_YET_AVAILABLE = (
    (
        "policies",
        "Policy scanning",
        "Captured messages are archived but not checked against any policy.",
    ),
    (
        "alerts",
        "Alerts",
        "No alerts are raised, so nothing reaches a review queue.",
    ),
)


def register_activity(provider: ActivityProvider) -> ActivityProvider:
    """Decorator: ``provider(request)`` returns the app's Activity, or None to show nothing."""
    if provider not in _activity_providers:
        _activity_providers.append(provider)
    return provider


def activities_for(request: HttpRequest) -> list[Activity]:
    lines = [line for provider in _activity_providers if (line := provider(request)) is not None]
    for order, (app_label, name, detail) in enumerate(NOT_YET_AVAILABLE, start=200):
        if not apps.is_installed(app_label):
            lines.append(
                Activity(name=name, running=False, detail=detail, order=order, available=False)
            )
    return sorted(lines, key=lambda line: line.order)

"""Dashboard panels contributed by the apps.

The platform app may not import the feature apps (dependencies run one way, DESIGN.md), so each
app registers the panels it wants on the dashboard from its AppConfig.ready().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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

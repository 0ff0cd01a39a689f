"""Pseudonymised review as a wall: what a masked reader may open outside the alert pages.

In a firm that pseudonymises its review (alerts/review_settings.py), officers and senior officers
(``WALLED_ROLES``) see people as pseudonyms on the alert pages until they unmask one alert with a
reason. The archive and the employee pages name people, so for these readers they are closed:
the only way through is the conversation of an alert the reader unmasked. Auditors and admins
are not walled (auditors examine the review; admins onboard the employees by name).

Whether the firm pseudonymises, and which alerts a reader unmasked, are the alerts app's facts;
the archive and consent sit below it and may not import it (DESIGN.md). So alerts registers the
source (:func:`register_wall_source`, as policies' ``register_decision_source``) and every page
and API view below asks :func:`reader_wall`: one rule, read in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import HttpRequest
from django.template.response import TemplateResponse

from .models import Tenant
from .roles import WALLED_ROLES

# The sentence every refused page and API answer gives.
REFUSAL = (
    "In this firm reviews are pseudonymised: officers open a conversation from an alert they "
    "have unmasked; auditors search the archive."
)


@dataclass(frozen=True)
class ReaderWall:
    """One reader's wall in one firm: ``closed`` when they are masked; the conversations they
    may open all the same (those of the alerts they unmasked)."""

    closed: bool = False
    open_conversations: frozenset[int] = field(default_factory=frozenset)

    def opens(self, conversation_id: int | None) -> bool:
        return not self.closed or conversation_id in self.open_conversations


OPEN = ReaderWall()

# (tenant, user id or None) -> the wall of a reader of a walled role in that firm.
WallSource = Callable[[Tenant, "int | None"], ReaderWall]
_sources: dict[str, WallSource] = {}


def register_wall_source(name: str, source: WallSource) -> None:
    """Called once by the app that owns pseudonymised review (alerts, in its ``ready``)."""
    _sources[name] = source


def reader_wall(*, tenant: Tenant, role: str | None, user_id: int | None) -> ReaderWall:
    """The wall for a reader of ``role`` (their membership's or their API key's) who is the
    person ``user_id`` (None: a key acting for nobody, which unmasks nothing)."""
    if role not in WALLED_ROLES:
        return OPEN
    for source in _sources.values():
        wall = source(tenant, user_id)
        if wall.closed:
            return wall
    return OPEN


def request_wall(request: HttpRequest) -> ReaderWall:
    """The wall of a page's signed-in member (TenantMiddleware set the membership); asked once
    per request, since the page and its menu both ask."""
    cached = getattr(request, "_reader_wall", None)
    if cached is not None:
        return cached
    membership = getattr(request, "membership", None)
    tenant = getattr(request, "tenant", None)
    if membership is None or tenant is None:
        return OPEN
    wall = reader_wall(tenant=tenant, role=membership.role, user_id=membership.user_id)
    setattr(request, "_reader_wall", wall)  # noqa: B010  # HttpRequest declares no such slot
    return wall


def walled_page(request: HttpRequest) -> TemplateResponse:
    """The 403 page a masked reader gets instead of a page that names people."""
    return TemplateResponse(request, "tenancy/walled.html", {"reason": REFUSAL}, status=403)

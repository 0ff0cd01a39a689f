"""Two-factor authentication is required for every tenant role: a signed-in person who has not
set up an authenticator app can only reach the pages that set one up (or log out).

Only a page the person opens is sent to the set-up page. Everything else a browser fetches on its
own (the favicon, images, fetch/XHR calls) and every form post is answered plainly instead: a
redirect would open the set-up page behind the person's back, and a stray request to it must
never be what decides which secret the QR code on screen shows."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from compliance_hub.api.errors import json_error
from compliance_hub.tenancy.middleware import EXEMPT_PREFIXES

from .time_zones import zone

# Pages a person without MFA may still open.
ALLOWED_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/static/",
    "/favicon.ico",
    "/healthz",
    "/readyz",
    "/join/",
    # The monitored employee's consent and withdrawal links (public, the token is the key).
    "/consent/r/",
    "/consent/w/",
)
MFA_REQUIRED = "Two-factor authentication is required. Set up your authenticator app first."


def is_page_visit(request: HttpRequest) -> bool:
    """True when a person is opening a page (a top-level GET that wants HTML), as opposed to
    a request the browser makes by itself or a script makes."""
    if request.method not in ("GET", "HEAD"):
        return False
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return False
    # Fetch metadata (every current browser sends it) says exactly what the request is for.
    if request.headers.get("Sec-Fetch-Dest", "document") not in ("document", "iframe"):
        return False
    if request.headers.get("Sec-Fetch-Mode", "navigate") not in ("navigate", "nested-navigate"):
        return False
    return "text/html" in request.headers.get("Accept", "")


class RequireMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(ALLOWED_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not is_mfa_enabled(user):
            if request.path.startswith("/api/"):
                return json_error(403, "mfa_required", "Set up two-factor authentication first.")
            if is_page_visit(request):
                messages.info(
                    request,
                    "Two-factor authentication is required. Scan the code with your "
                    "authenticator app to continue.",
                )
                return redirect("mfa_activate_totp")
            if "text/html" in request.headers.get("Accept", ""):
                return render(
                    request, "error.html", {"status": 403, "message": MFA_REQUIRED}, status=403
                )
            return HttpResponse(MFA_REQUIRED, status=403, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


class TimeZoneMiddleware:
    """Pages show times, and read the dates typed into their filters, in the signed-in person's
    own time zone; the API (and anyone signed out) stays in UTC, the settings' zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # Probes, static files and webhooks show no times and run outside the tenant
        # middleware's guard: reading the person (a query) is left to the pages.
        skipped = request.path.startswith(("/api/", *EXEMPT_PREFIXES))
        if skipped or user is None or not user.is_authenticated:
            return self.get_response(request)
        timezone.activate(zone(user.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

"""Two-factor authentication is required for every tenant role: a signed-in person who has not
set up an authenticator app can only reach the pages that set one up (or log out)."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from compliance_hub.api.errors import json_error

# Pages a person without MFA may still open.
ALLOWED_PREFIXES = (
    "/accounts/2fa/",
    "/accounts/logout/",
    "/accounts/reauthenticate/",
    "/static/",
    "/healthz",
    "/readyz",
    "/join/",
    # The monitored employee's consent and withdrawal links (public, the token is the key).
    "/consent/r/",
    "/consent/w/",
)


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
            messages.info(
                request,
                "Two-factor authentication is required. Scan the code with your authenticator "
                "app to continue.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

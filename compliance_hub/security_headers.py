"""The security headers of every answer: Content-Security-Policy, plus Django's own headers for
the answers that leave the middleware chain early (the webhook's fast lane).

The product serves every script, style and font itself (whitenoise; Swagger UI from
drf-spectacular-sidecar), so one strict ``'self'`` policy fits every page: no inline scripts,
styles or event handlers, no plugins, no framing. The QR code of the authenticator set-up is a
``data:`` image, hence ``img-src data:``.

A small middleware rather than django-csp: there is one fixed policy (no nonces, no per-view
policies), and the webhook's fast lane needs the same headers from a plain function, outside
any middleware.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

HEADER = "Content-Security-Policy"


def content_security_policy() -> str:
    return "; ".join(
        f"{directive} {' '.join(sources)}"
        for directive, sources in settings.CONTENT_SECURITY_POLICY.items()
    )


class ContentSecurityPolicyMiddleware:
    """Adds the policy to every answer that has none of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(HEADER, self.policy)
        return response


def _no_next_step(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    raise AssertionError("only process_response is used")


class FastLaneHeaders:
    """The headers SecurityMiddleware, XFrameOptionsMiddleware and the policy above add, for an
    answer made without them (Django's own code, so both lanes always agree)."""

    def __init__(self) -> None:
        self.security = SecurityMiddleware(_no_next_step)
        self.frames = XFrameOptionsMiddleware(_no_next_step)
        self.policy = content_security_policy()

    def apply(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        response = self.security.process_response(request, response)
        response = self.frames.process_response(request, response)
        response.headers.setdefault(HEADER, self.policy)
        return response

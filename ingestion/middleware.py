"""The webhook's fast lane: Meta's deliveries go straight to their view.

They are machine-to-machine POSTs, authenticated by their signature alone: nothing of the
browser's middleware (sessions, CSRF, authentication, messages, MFA, static files, tenant from
membership) applies to them, and together those cost a fifth of the webhook's CPU at 1,000
deliveries/s (docs/benchmarks.md). First in MIDDLEWARE; every other path goes on down the chain.
HTTPS is the TLS-terminating proxy's job for this path, as Meta calls only https URLs. Its
answers still carry the security headers every other answer has (nosniff, referrer policy,
frame denial, CSP, HSTS over HTTPS): they are cheap, and an answer without them is one a
scanner or a browser could be led to treat as a page.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from compliance_hub.security_headers import FastLaneHeaders

from .webhook import whatsapp_webhook

# The same path as ingestion/urls.py's "whatsapp_webhook" (Django's slug converter); a test
# checks that the two agree.
WEBHOOK_PATH = re.compile(r"/webhooks/whatsapp/(?P<tenant_slug>[-a-zA-Z0-9_]+)/")


class WebhookFastLaneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.headers = FastLaneHeaders()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = WEBHOOK_PATH.fullmatch(request.path_info)
        if found is None:
            return self.get_response(request)
        response = whatsapp_webhook(request, tenant_slug=found["tenant_slug"])
        return self.headers.apply(request, response)

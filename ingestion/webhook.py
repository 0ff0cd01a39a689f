"""``GET/POST /webhooks/whatsapp/<tenant-slug>/``: Meta's verification handshake and deliveries.

The one place where the URL names the tenant; every POST is authenticated by that tenant's own
app secret. A 200 means the delivery is durably stored (committed before the answer leaves); if
the database cannot be written the answer is 503, so Meta retries. The checks and the store of a
delivery are ingestion/intake.py's, which the intake server's lean path (ingestion/wsgi.py)
calls too; this view is the door of every other server (and of the test client).
"""

from __future__ import annotations

import hmac
import logging

from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from compliance_hub.tenancy.context import activated_by_caller, deactivate
from compliance_hub.tenancy.models import Tenant

from .intake import RETRY_LATER, UNKNOWN_TENANT, Answer, accept_delivery, active_tenant, plain
from .services import whatsapp_settings

logger = logging.getLogger(__name__)


def http_response(answer: Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    if answer.retry_after is not None:
        response["Retry-After"] = answer.retry_after
    return response


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Owns its database work (ingestion/middleware.py sends these requests here directly, past
    TenantMiddleware): a delivery commits before its answer leaves."""
    if request.method == "POST":
        answer = accept_delivery(
            tenant_slug=tenant_slug,
            content_length=request.META.get("CONTENT_LENGTH"),
            read_body=lambda _announced: request.body,
            headers=request.headers,
        )
        return http_response(answer)
    try:
        with transaction.atomic():
            try:
                return _handshake_or_refusal(request, tenant_slug)
            finally:
                deactivate()
    except (OperationalError, InterfaceError):
        logger.exception("webhook for %s: database unavailable; asking Meta to retry", tenant_slug)
        return http_response(RETRY_LATER)


def _handshake_or_refusal(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    found = active_tenant(tenant_slug)
    if found is None:
        return http_response(UNKNOWN_TENANT)
    # The lookup set the tenant for the rest of this transaction (RLS); say so to the ORM.
    activated_by_caller(found[0])
    if request.method != "GET":
        return http_response(plain("Method not allowed.", 405))
    # The fields read, the others deferred (loaded on access, which the handshake never needs).
    tenant = Tenant.from_db(
        connection.alias, ["id", "slug", "status"], [found[0], tenant_slug, Tenant.Status.ACTIVE]
    )
    connected = whatsapp_settings(tenant=tenant)
    expected = connected.verify_token if connected else ""
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return http_response(plain(request.GET.get("hub.challenge", ""), 200))
    return http_response(plain("Verification failed.", 403))

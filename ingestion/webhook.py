"""``GET/POST /webhooks/whatsapp/<tenant-slug>/``: Meta's verification handshake and deliveries.

The one place where the URL names the tenant; every POST is authenticated by that tenant's own
app secret. A 200 means the delivery is durably stored (the request's transaction commits before
the response leaves); if the database cannot be written the answer is 503, so Meta retries.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from compliance_hub.tenancy.models import Tenant

from .services import receive_delivery, whatsapp_settings
from .whatsapp.signature import signature_is_valid

logger = logging.getLogger(__name__)


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = Tenant.objects.filter(slug=tenant_slug, status=Tenant.Status.ACTIVE).first()
    if tenant is None:
        return _plain("Unknown or suspended tenant.", 404)
    if request.method == "GET":
        return _verify_subscription(request, tenant)
    if request.method != "POST":
        return _plain("Method not allowed.", 405)
    return _accept_delivery(request, tenant)


def _verify_subscription(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    connection = whatsapp_settings(tenant=tenant)
    expected = connection.verify_token if connection else ""
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return _plain(request.GET.get("hub.challenge", ""), 200)
    return _plain("Verification failed.", 403)


def _accept_delivery(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain("Invalid Content-Length.", 400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return _plain("Body too large.", 413)
    body = request.body
    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return _plain("Missing X-Hub-Signature-256.", 401)
    connection = whatsapp_settings(tenant=tenant)
    if connection is None or not connection.app_secret:
        # Nothing can be verified, so nothing is stored; Meta retries once it is configured.
        return _plain("WhatsApp is not configured for this tenant.", 403)
    if not signature_is_valid(body, header, connection.app_secret):
        return _plain("Invalid signature.", 403)
    try:
        receive_delivery(tenant=tenant, body=body, headers=dict(request.headers))
    except DatabaseError:
        logger.exception("delivery for tenant %s not stored; asking Meta to retry", tenant.pk)
        return _plain("Temporarily unable to store the delivery; retry.", 503)
    return JsonResponse({"status": "received"})

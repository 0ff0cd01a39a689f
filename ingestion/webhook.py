"""``GET/POST /webhooks/whatsapp/<tenant-slug>/``: Meta's verification handshake and deliveries.

The one place where the URL names the tenant; every POST is authenticated by that tenant's own
app secret. A 200 means the delivery is durably stored (the request's transaction commits before
the response leaves); if the database cannot be written the answer is 503, so Meta retries.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from compliance_hub.crypto import decrypt_text
from compliance_hub.digits import parse_count
from compliance_hub.tenancy.context import activate_in_transaction, deactivate
from compliance_hub.tenancy.models import Tenant

from .models import WhatsAppSettings
from .services import receive_delivery, whatsapp_settings
from .whatsapp.signature import signature_is_valid

logger = logging.getLogger(__name__)

# The hot path reads the tenant and its app secret with two plain statements: through the ORM's
# query compiler they cost ~1 ms of CPU per delivery, a third of the whole request
# (docs/benchmarks.md, webhook acceptance). Both are read on every delivery, never cached, so a
# suspended tenant or a changed secret takes effect with the next delivery.
_ACTIVE_TENANT_SQL = f"SELECT id FROM {Tenant._meta.db_table} WHERE slug = %s AND status = %s"  # noqa: S608  # nosec B608  # our table's name
_APP_SECRET_SQL = (
    f"SELECT app_secret_encrypted FROM {WhatsAppSettings._meta.db_table} WHERE tenant_id = %s"  # noqa: S608  # nosec B608  # our table's name
)


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _retry_later() -> HttpResponse:
    response = _plain("Temporarily unable to store the delivery; retry.", 503)
    response["Retry-After"] = "30"
    return response


def _active_tenant(slug: str) -> Tenant | None:
    with connection.cursor() as cursor:
        cursor.execute(_ACTIVE_TENANT_SQL, [slug, Tenant.Status.ACTIVE])
        row = cursor.fetchone()
    if row is None:
        return None
    # The fields read, the others deferred (loaded on access, which the webhook never needs).
    return Tenant.from_db(
        connection.alias, ["id", "slug", "status"], [row[0], slug, Tenant.Status.ACTIVE]
    )


def _app_secret(tenant: Tenant) -> str:
    """The tenant's Meta app secret ("" when not configured), read inside its scope: the rest of
    the request (the delivery's insert) runs in that tenant too; the view opened the transaction
    and deactivates the tenant when the request ends."""
    activate_in_transaction(tenant.pk)
    with connection.cursor() as cursor:
        cursor.execute(_APP_SECRET_SQL, [tenant.pk])
        row = cursor.fetchone()
    return decrypt_text(row[0]) if row and row[0] else ""


@csrf_exempt
def whatsapp_webhook(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    """Owns its transaction (ingestion/middleware.py sends these requests here directly, past
    TenantMiddleware): the tenant is set inside it, and it commits before the answer leaves."""
    try:
        with transaction.atomic():
            try:
                return _handle(request, tenant_slug)
            finally:
                deactivate()
    except (OperationalError, InterfaceError):
        # The database is unreachable, or the commit failed: nothing is stored, Meta retries.
        logger.exception("webhook for %s: database unavailable; asking Meta to retry", tenant_slug)
        return _retry_later()


def _handle(request: HttpRequest, tenant_slug: str) -> HttpResponse:
    tenant = _active_tenant(tenant_slug)
    if tenant is None:
        return _plain("Unknown or suspended tenant.", 404)
    if request.method == "GET":
        return _verify_subscription(request, tenant)
    if request.method != "POST":
        return _plain("Method not allowed.", 405)
    return _accept_delivery(request, tenant)


def _verify_subscription(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    connected = whatsapp_settings(tenant=tenant)
    expected = connected.verify_token if connected else ""
    given = request.GET.get("hub.verify_token", "")
    if (
        request.GET.get("hub.mode") == "subscribe"
        and expected
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return _plain(request.GET.get("hub.challenge", ""), 200)
    return _plain("Verification failed.", 403)


def _accept_delivery(request: HttpRequest, tenant: Tenant) -> HttpResponse:
    length = parse_count(request.META.get("CONTENT_LENGTH") or "0")
    if length is None:
        return _plain("Invalid Content-Length.", 400)
    if length > settings.WEBHOOK_MAX_BODY_BYTES:
        return _plain("Body too large.", 413)
    body = request.body
    header = request.headers.get("X-Hub-Signature-256")
    if not header:
        return _plain("Missing X-Hub-Signature-256.", 401)
    app_secret = _app_secret(tenant)
    if not app_secret:
        # Nothing can be verified, so nothing is stored; Meta retries once it is configured.
        return _plain("WhatsApp is not configured for this tenant.", 403)
    if not signature_is_valid(body, header, app_secret):
        return _plain("Invalid signature.", 403)
    try:
        receive_delivery(tenant=tenant, body=body, headers=dict(request.headers))
    except DatabaseError:
        # Nothing of this request may commit, and the failed statement left the transaction
        # unusable: roll it back whole (TenantMiddleware then touches it no more).
        transaction.set_rollback(True)
        logger.exception("delivery for tenant %s not stored; asking Meta to retry", tenant.pk)
        return _retry_later()
    return JsonResponse({"status": "received"})

"""The connection check an admin runs from the WhatsApp page, so that nobody believes in capture
that is not there.

It goes through the front door, as Meta does: over HTTP to the callback URL shown on the page
(so the reverse proxy, TLS and routing are part of what is checked), first Meta's verification
handshake with the saved verify token, then a test delivery signed with the saved app secret.
It then reads back that the delivery was stored, and waits a little for a worker to process it.

The test delivery carries one change of our own field (``CONNECTION_CHECK_FIELD``), which the
parser turns into nothing: no message, no refusal, no notice, nothing archived. Every check is
in the audit trail with each step's outcome in plain words.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import httpx
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from compliance_hub.audit.actors import Actor
from compliance_hub.audit.services import record_event
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Delivery, WhatsAppSettings
from .whatsapp.parser import CONNECTION_CHECK_FIELD
from .whatsapp.signature import sign

CHECK_ACTION = "whatsapp.connection_checked"
# Kept with the stored delivery (ingestion.services.KEPT_HEADERS), so the page's "last delivery
# received" can leave our own checks out. The body is signed; this header only labels it.
CHECK_AGENT_HEADER = "User-Agent"
CHECK_AGENT = "ComplianceHub-ConnectionCheck/1"
HTTP_TIMEOUT = 10.0  # seconds per request: an answer slower than this is a problem to report
POLL_INTERVAL = 0.25

PASSED, FAILED, WARNING, SKIPPED = "passed", "failed", "warning", "skipped"


@dataclass(frozen=True)
class Step:
    name: str
    outcome: str  # passed, failed, warning, skipped
    detail: str  # what happened, in plain words


@dataclass(frozen=True)
class CheckResult:
    steps: tuple[Step, ...]

    @property
    def passed(self) -> bool:
        """Meta can verify the address and a signed delivery reaches storage (processing may
        lag behind: a warning, not a failure)."""
        return all(step.outcome in (PASSED, WARNING) for step in self.steps)


def callback_url(*, tenant: Tenant, base_url: str) -> str:
    return base_url.rstrip("/") + reverse("ingestion:whatsapp_webhook", args=[tenant.slug])


def check_delivery_body(*, check_id: str) -> bytes:
    """A delivery shaped like Meta's, with one change of our own field and no message."""
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "0",
                "time": int(time.time()),
                "changes": [{"field": CONNECTION_CHECK_FIELD, "value": {"check_id": check_id}}],
            }
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _unreachable(url: str, error: httpx.HTTPError) -> str:
    if isinstance(error, httpx.TimeoutException):
        return f"No answer from {url} within {HTTP_TIMEOUT:.0f} seconds."
    return f"Could not reach {url}: {error.__class__.__name__.lower()} ({error})."


def _handshake(http: httpx.Client, url: str, verify_token: str) -> Step:
    name = "Meta's verification handshake"
    if not verify_token:
        return Step(name, SKIPPED, "Not sent: no verify token is saved.")
    challenge = str(secrets.randbelow(10**9))
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    try:
        answer = http.get(url, params=params)
    except httpx.HTTPError as error:
        return Step(name, FAILED, _unreachable(url, error))
    if answer.status_code == 200 and answer.text == challenge:
        return Step(name, PASSED, "The callback URL answered the challenge, as Meta expects.")
    if answer.status_code == 403:
        return Step(name, FAILED, "The callback URL refused the saved verify token.")
    if answer.is_redirect:
        where = answer.headers.get("Location", "another address")
        return Step(name, FAILED, f"The callback URL redirects to {where}; Meta does not follow.")
    return Step(
        name, FAILED, f"The callback URL answered {answer.status_code} instead of the challenge."
    )


def _send_test_delivery(http: httpx.Client, url: str, body: bytes, app_secret: str) -> Step:
    name = "Signed test delivery"
    if not app_secret:
        return Step(name, SKIPPED, "Not sent: no app secret is saved.")
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, app_secret)}
    try:
        answer = http.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Step(name, FAILED, _unreachable(url, error))
    if answer.status_code == 200:
        return Step(name, PASSED, "Signed with the saved app secret and accepted.")
    if answer.status_code in (401, 403):
        return Step(name, FAILED, f"Refused ({answer.status_code}): {answer.text.strip()[:200]}")
    return Step(name, FAILED, f"The callback URL answered {answer.status_code}.")


def _read_back(
    *, tenant: Tenant, digest: str, since: datetime, sent: Step
) -> tuple[Step, Delivery | None]:
    name = "Test delivery stored"
    if sent.outcome != PASSED:
        return Step(name, SKIPPED, "Nothing to look for: the test delivery was not accepted."), None
    with tenant_scope(tenant):
        delivery = (
            Delivery.objects.filter(tenant=tenant, body_sha256=digest, received_at__gte=since)
            .order_by("-received_at")
            .first()
        )
    if delivery is None:
        return Step(name, FAILED, "Accepted, but not found among the stored deliveries."), None
    at = delivery.received_at.astimezone(UTC)
    return Step(name, PASSED, f"Found, received at {at:%H:%M:%S} UTC."), delivery


def processing_step(*, tenant: Tenant, delivery: Delivery | None, wait: float) -> Step:
    """The check's last step: did the workers process ``delivery`` within ``wait`` seconds."""
    name = "Processed by the background workers"
    if delivery is None:
        return Step(name, SKIPPED, "Nothing to process.")
    deadline = time.monotonic() + wait
    while True:
        with tenant_scope(tenant):
            status = (
                Delivery.objects.filter(tenant=tenant, pk=delivery.pk)
                .values_list("status", flat=True)
                .first()
            )
        if status == Delivery.Status.PROCESSED or time.monotonic() >= deadline:
            break
        time.sleep(POLL_INTERVAL)
    if status == Delivery.Status.PROCESSED:
        return Step(name, PASSED, "Processed; it carried nothing to archive.")
    return Step(
        name,
        WARNING,
        f"Not processed within {wait:g} seconds: the background workers may be stopped or busy. "
        "Deliveries wait safely until they run.",
    )


def check_connection(
    *,
    tenant: Tenant,
    base_url: str,
    actor: Actor,
    processing_wait: float | None = None,
) -> CheckResult:
    """Run the check against ``base_url`` (where this site is reached from outside), audit it,
    and return its steps."""
    with tenant_scope(tenant):
        row = WhatsAppSettings.objects.filter(tenant=tenant).first()
    verify_token = row.verify_token if row else ""
    app_secret = row.app_secret if row else ""
    wait = settings.WHATSAPP_CHECK_PROCESSING_WAIT if processing_wait is None else processing_wait
    url = callback_url(tenant=tenant, base_url=base_url)
    body = check_delivery_body(check_id=secrets.token_hex(8))
    digest = hashlib.sha256(body).hexdigest()
    started = timezone.now()
    with httpx.Client(
        timeout=HTTP_TIMEOUT, follow_redirects=False, headers={CHECK_AGENT_HEADER: CHECK_AGENT}
    ) as http:
        handshake = _handshake(http, url, verify_token)
        sent = _send_test_delivery(http, url, body, app_secret)
    stored, delivery = _read_back(tenant=tenant, digest=digest, since=started, sent=sent)
    result = CheckResult(
        steps=(
            handshake,
            sent,
            stored,
            processing_step(tenant=tenant, delivery=delivery, wait=wait),
        )
    )
    record_event(
        CHECK_ACTION,
        tenant=tenant,
        actor=actor,
        target=row,
        target_label="WhatsApp connection",
        details={
            "callback_url": url,
            "passed": result.passed,
            "steps": [asdict(step) for step in result.steps],
        },
    )
    return result

"""Capture for the demo tenant: WhatsApp connected, and a few conversations delivered through the
same path as Meta's (signed body, stored delivery, the drain, the consent gate), so the
dashboard, the coverage page and the archive API show what they are for from the first login.

Built on consent/demo.py's employees: Ana and Priya consented, Rahul withdrew, and one number
belongs to nobody, so the refusals and the notice they raise are there too.
"""

from __future__ import annotations

import json
import time
from typing import Any

from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant

from .models import Delivery, WhatsAppSettings
from .processing import drain_pending
from .services import receive_delivery, save_whatsapp_settings
from .simulation import shapes
from .whatsapp.signature import sign

DEMO_APP_SECRET = "demo-app-secret-not-for-production"
DEMO_VERIFY_TOKEN = "demo-verify-token"
# Sent only to the simulator's loopback media server (manage.py simulate): the demo has no Meta.
DEMO_ACCESS_TOKEN = "demo-access-token-not-for-production"
DISPLAY = {"105550000001": "5511987654321", "105550000003": "919876543210",
           "105550000004": "919123456789", "105559999999": "5511900000000"}  # fmt: skip


def _inbound(phone_id: str, wamid: str, at: int, client: tuple[str, str], kind: str,
             body: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return shapes.inbound(phone_id, DISPLAY[phone_id], wamid, at, client, kind, body)


def _echo(phone_id: str, wamid: str, at: int, to: str, kind: str,
          body: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return shapes.echo(phone_id, DISPLAY[phone_id], wamid, at, to, kind, body)


def _status(phone_id: str, target: str, at: int, to: str, state: str) -> dict[str, Any]:
    return shapes.status(phone_id, DISPLAY[phone_id], target, at, to, state)


def demo_payloads(now: int) -> list[dict[str, Any]]:
    """The demo's deliveries, as Meta would send them, starting at ``now`` (epoch seconds) and
    over the next half minute: the demo's numbers and consents begin when it is seeded, so the
    gate would refuse anything dated before."""
    silva, mehta_client = ("5511912345678", "Carlos Silva"), ("919811122233", "Anil Kapoor")
    kumar, stranger = ("919822233344", "Meera Kumar"), ("5511933334444", "Paula Reis")
    ana, priya, rahul, nobody = "105550000001", "105550000003", "105550000004", "105559999999"
    return [
        _inbound(ana, "wamid.demo.ana.1", now, silva, "text",
                 {"body": "Bom dia, Ana. Posso aumentar minha posição em PETR4 hoje?"}),
        _echo(ana, "wamid.demo.ana.2", now + 4, silva[0], "text",
              {"body": "Bom dia, Carlos! Vou verificar o seu perfil de risco e te retorno."}),
        _status(ana, "wamid.demo.ana.2", now + 5, silva[0], "delivered"),
        _status(ana, "wamid.demo.ana.2", now + 6, silva[0], "read"),
        _inbound(ana, "wamid.demo.ana.3", now + 8, silva, "reaction",
                 {"message_id": "wamid.demo.ana.2", "emoji": "\U0001f44d"}),
        _inbound(ana, "wamid.demo.ana.4", now + 10, silva, "edit", {
            "original_message_id": "wamid.demo.ana.1",
            "message": {"type": "text", "text": {"body": "Bom dia, Ana. Posso dobrar minha "
                                                         "posição em PETR4 hoje?"}},
        }),
        # The employee deleted, in the app, a message sent before capture began.
        _echo(ana, "wamid.demo.ana.5", now + 12, silva[0], "revoke",
              {"original_message_id": "wamid.demo.before-capture"}),
        # A message sent, then deleted for everyone: the archive keeps the original.
        _echo(ana, "wamid.demo.ana.6", now + 14, silva[0], "text",
              {"body": "Carlos, posso te adiantar uma informação sobre a PETR4 antes do anúncio."}),
        _echo(ana, "wamid.demo.ana.7", now + 16, silva[0], "revoke",
              {"original_message_id": "wamid.demo.ana.6"}),
        _inbound(priya, "wamid.demo.priya.1", now + 20, kumar, "text",
                 {"body": "Hi Priya, can you guarantee 12% returns on the new fund?"}),
        _echo(priya, "wamid.demo.priya.2", now + 26, kumar[0], "text",
              {"body": "No one can guarantee returns; I will send you the factsheet and risks."}),
        # A colleague's promise that is a breach (the client's question above is not one).
        _echo(priya, "wamid.demo.priya.3", now + 28, kumar[0], "text",
              {"body": "Off the record: I guarantee you 12% returns, zero risk."}),
        _inbound(rahul, "wamid.demo.rahul.1", now + 30, mehta_client, "text",
                 {"body": "Rahul, please call me about the transfer."}),
        _inbound(nobody, "wamid.demo.nobody.1", now + 33, stranger, "text",
                 {"body": "Olá, é o número do banco?"}),
    ]  # fmt: skip


def seed_demo_capture(*, tenant: Tenant, actor: Actor) -> int:
    """Connect the demo tenant's WhatsApp and deliver the demo conversations once (skipped when
    the tenant already has deliveries). Processed at once by a drain in this process, as the
    worker would. Returns how many deliveries were stored."""
    with tenant_scope(tenant):
        delivered = Delivery.objects.exists()
        settings_row = WhatsAppSettings.objects.filter(tenant=tenant).first()
    if settings_row is not None and not settings_row.access_token_encrypted:
        # Demos seeded before the simulator served media had no token to fetch it with.
        save_whatsapp_settings(tenant=tenant, actor=actor, access_token=DEMO_ACCESS_TOKEN)
    if delivered:
        return 0
    save_whatsapp_settings(
        tenant=tenant, actor=actor, app_secret=DEMO_APP_SECRET, verify_token=DEMO_VERIFY_TOKEN,
        access_token=DEMO_ACCESS_TOKEN,
    )  # fmt: skip
    stored = 0
    for payload in demo_payloads(int(time.time()) + 1):
        body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
        headers = {
            "X-Hub-Signature-256": sign(body, DEMO_APP_SECRET),
            "Content-Type": "application/json",
            "User-Agent": "facebookexternalua",
        }
        receive_delivery(tenant=tenant, body=body, headers=headers)
        stored += 1
    drain_pending(tenant=tenant)
    return stored

"""The demo tenant's capture: seeded through the real path (signed deliveries, the drain, the
consent gate), once, so every capture page has something true to show."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from archive.models import Message, MessageEvent
from archive.selectors import message_events
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from consent import gate
from ingestion.demo import DEMO_APP_SECRET, demo_payloads
from ingestion.models import CaptureNotice, Delivery, Refusal
from ingestion.services import whatsapp_settings
from ingestion.whatsapp.signature import signature_is_valid


def test_seed_demo_connects_whatsapp_and_captures_through_the_gate_once(db):
    gate.clear_cache()
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent
    demo = Tenant.objects.get(slug="demo")
    with tenant_scope(demo):
        deliveries = list(Delivery.objects.all())
        assert len(deliveries) == len(demo_payloads(0))  # each once, though seeded twice
        assert {d.status for d in deliveries} == {Delivery.Status.PROCESSED}
        # Each stored exactly as signed, as the webhook would have kept it; the two refused
        # ones had their content redacted since, so their signature no longer matches.
        redacted = [d for d in deliveries if d.redacted]
        assert len(redacted) == 2
        for delivery in deliveries:
            valid = signature_is_valid(
                bytes(delivery.body), delivery.headers["X-Hub-Signature-256"], DEMO_APP_SECRET
            )
            assert valid is (not delivery.redacted)
        assert sorted(Message.objects.values_list("wamid", flat=True)) == [
            "wamid.demo.ana.1", "wamid.demo.ana.2", "wamid.demo.ana.6", "wamid.demo.priya.1",
            "wamid.demo.priya.2", "wamid.demo.priya.3",
        ]  # fmt: skip
        kinds = sorted(MessageEvent.objects.values_list("kind", flat=True))
        assert kinds == ["edit", "reaction", "revoke", "revoke", "status", "status"]
        unseen = [e.target_wamid for e in message_events(tenant=demo) if not e.original_seen]
        assert unseen == ["wamid.demo.before-capture"]
        # Rahul withdrew and one number is nobody's: metadata only, and the admin is told.
        refusals = sorted(Refusal.objects.values_list("reason", flat=True))
        assert refusals == ["consent_withdrawn", "unknown_number"]
        assert not Message.objects.filter(wamid__in=["wamid.demo.rahul.1", "wamid.demo.nobody.1"])
        assert CaptureNotice.objects.filter(kind=CaptureNotice.Kind.UNCONSENTED_NUMBER).count() == 1
        assert whatsapp_settings(tenant=demo).verify_token == "demo-verify-token"
    gate.clear_cache()

"""Alerts for the alerts tests: a term policy that fires on "guarantee" and a
conversation of three messages, two of which it fires on (raised through the scan's signal,
as in production)."""

from __future__ import annotations

from dataclasses import replace

from alerts.models import Alert
from archive.models import Message
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from policies.scanning import scan_messages
from policies.services import create_policy, set_active
from tests.archive.ledger_helpers import employee_of, message_record

ADMIN = Actor.command("test-admin")
TEXTS = [
    "I guarantee returns of 20% a month, <b>trust me</b>",
    "Bom dia, reunião às 15h",
    "Guaranteed profit, keep it between us",
]
DOCUMENT = {
    "name": "Promises of returns",
    "severity": "high",
    "detect": {"detector": "lexicon", "rule": "promise"},
    "lexicon": {"rules": [{"name": "promise", "category": "promise", "any": ["guarantee*"]}]},
}


def raise_alerts_for(tenant, texts=TEXTS, capture=None) -> list[Alert]:
    employee = employee_of(tenant)
    records = [replace(message_record(employee, n), text=t) for n, t in enumerate(texts)]
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=ADMIN, document=dict(DOCUMENT))
        set_active(policy=policy, actor=ADMIN, active=True)
        archive_messages(tenant=tenant, records=records)
        ids = list(Message.objects.order_by("pk").values_list("pk", flat=True))
    with capture(execute=True):
        scan_messages(tenant=tenant, message_ids=ids)
    with tenant_scope(tenant):
        return list(Alert.objects.order_by("message_id"))

"""Shared makings of the backtest and lookback tests: a firm's policy with term rules, archived
messages on a known day, and officers' decisions from a test source."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from archive.models import Message
from archive.services import archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from policies.models import Policy
from policies.services import create_policy, set_active
from tests.archive.ledger_helpers import MOMENT, employee_of, message_record

ADMIN = Actor.command("test-admin")
DAY = MOMENT.date()  # every message below is sent on this day (UTC), a minute apart
BEFORE, AFTER = date(2026, 3, 1), date(2026, 3, 3)

GUARANTEE = "Rendimento garantido de 3% ao mês, pode confiar"
SECRET = "Apaga essa conversa depois, ninguém pode saber"
PLAIN = "Bom dia, reunião às 15h"


def rules_document(name: str, *words: str, severity: str = "high") -> dict:
    return {
        "name": name,
        "severity": severity,
        "detect": {"detector": "lexicon", "rule": "words"},
        "lexicon": {"rules": [{"name": "words", "category": "promise", "any": list(words)}]},
    }


SAVED_DOCUMENT = rules_document("Promises", "garantid*")
# The draft adds secrecy words: it flags what the saved version does, and more.
DRAFT_DOCUMENT = rules_document("Promises", "garantid*", "apaga*")


def policy_of(tenant: Tenant, document: dict | None = None, *, active: bool = True) -> Policy:
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=ADMIN, document=document or SAVED_DOCUMENT)
        if active:
            policy = set_active(policy=policy, actor=ADMIN, active=True)
    return policy


def archived(tenant: Tenant, texts: list[str]) -> list[int]:
    """The texts archived as messages of one employee, in order; their ids."""
    employee = employee_of(tenant)
    records = [replace(message_record(employee, n), text=text) for n, text in enumerate(texts)]
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=records)
        return list(Message.objects.order_by("pk").values_list("pk", flat=True))

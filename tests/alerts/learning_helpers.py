"""A tiny corpus (two categories, a second to train) and a firm's decided alerts, for the
learning loop's tests. The corpus lines are built from parts here, which the shipped corpus
forbids; it is a test fixture, not training material."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from alerts.models import Alert, Disposition, Status
from alerts.services import claim_alert, transition_alert
from archive.models import Message
from archive.services import ConversationKey, archive_messages
from compliance_hub.audit.actors import Actor
from compliance_hub.tenancy.context import tenant_scope
from compliance_hub.tenancy.models import Tenant
from policies.scanning import scan_messages
from policies.services import create_policy, set_active
from tests.archive.ledger_helpers import employee_of, message_record

ADMIN = Actor.command("test-admin")

_PROMISES = [
    "I guarantee you {n} percent returns",
    "returns of {n}% are guaranteed, zero risk",
    "this fund cannot lose, guaranteed {n} percent",
    "risk free profit of {n}% every month, I promise",
    "you will double your money in {n} weeks, guaranteed",
]
_SECRETS = [
    "keep this between us, delete the chat after {n} minutes",
    "dont tell compliance about the {n} trades",
    "erase these messages, nobody should see the {n} orders",
    "lets keep the {n} deal off the record",
    "wipe the thread before the audit, {n} files in there",
]
_ORDINARY = [
    "the meeting moved to {n} pm, see you there",
    "can you send the {n} slides for tomorrow",
    "lunch at {n}? the usual place",
    "the invoice {n} was paid yesterday",
    "thanks for the call, I will send the report by {n}",
    "the train is late, arriving around {n}",
]
_HARD = [
    "the warranty on the laptop lasts {n} years",
    "please keep the {n} receipts for the expense report",
]


def corpus_promises() -> list[str]:
    """The tiny corpus's own promises, word for word."""
    return [template.format(n=7 + n * 3) for template in _PROMISES for n in range(5)]


def write_tiny_corpus(root: Path) -> Path:
    """root/train/tiny.jsonl (about 130 lines) and an empty root/unseen/."""
    lines = []
    for label, templates in (("guarantee", _PROMISES), ("secrecy", _SECRETS)):
        for t, template in enumerate(templates):
            for n in range(5):
                lines.append(
                    {"text": template.format(n=7 + n * 3), "lang": "en", "labels": [label],
                     "group": f"tiny-{label}-{t}-{n}", "kind": "positive"}
                )  # fmt: skip
    for kind, templates in (("ordinary", _ORDINARY), ("hard_negative", _HARD)):
        for t, template in enumerate(templates):
            for n in range(6):
                lines.append(
                    {"text": template.format(n=2 + n * 5), "lang": "en", "labels": [],
                     "group": f"tiny-{kind}-{t}-{n}", "kind": kind}
                )  # fmt: skip
    (root / "train").mkdir(parents=True, exist_ok=True)
    (root / "unseen").mkdir(parents=True, exist_ok=True)
    (root / "train" / "tiny.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )
    return root


def archive_texts(tenant: Tenant, texts: list[str], *, first: int = 0) -> list[Message]:
    """One message per text, each in a conversation of its own (a client per message), so the
    learning loop's split by conversation has something to split."""
    employee = employee_of(tenant) if first == 0 else _employee(tenant)
    records = []
    for n, text in enumerate(texts, start=first):
        client = f"55119{n:05d}"
        key = ConversationKey(employee.pk, employee.whatsapp_phone_number_id, client)
        records.append(
            replace(
                message_record(employee, n), text=text, conversation=key,
                counterparty={"wa_id": client, "name": f"Client {n}"},
            )
        )  # fmt: skip
    with tenant_scope(tenant):
        archive_messages(tenant=tenant, records=records)
        wamids = [r.wamid for r in records]
        return list(Message.objects.filter(wamid__in=wamids).order_by("pk"))


def _employee(tenant: Tenant):  # type: ignore[no-untyped-def]
    from consent.models import Employee

    with tenant_scope(tenant):
        return Employee.objects.get(employee_id=f"E-{tenant.slug}")


def switch_on(tenant: Tenant, document: dict) -> None:
    with tenant_scope(tenant):
        policy, _ = create_policy(tenant=tenant, actor=ADMIN, document=document)
        set_active(policy=policy, actor=ADMIN, active=True)


def scan(tenant: Tenant, messages: list[Message], capture) -> list[Alert]:  # type: ignore[no-untyped-def]
    """Scan the messages as the pipeline does; the alerts raised on them, by message."""
    ids = [m.pk for m in messages]
    if capture is None:
        scan_messages(tenant=tenant, message_ids=ids)
    else:
        with capture(execute=True):
            scan_messages(tenant=tenant, message_ids=ids)
    with tenant_scope(tenant):
        return list(Alert.objects.filter(message_id__in=ids).order_by("message_id"))


def close(alert: Alert, user, disposition: str) -> None:  # type: ignore[no-untyped-def]
    actor = Actor.for_user(user)
    claim_alert(alert=alert, actor=actor)
    with tenant_scope(alert.tenant_id):
        version = Alert.objects.get(pk=alert.pk).version
    transition_alert(
        alert=alert, actor=actor, to=Status.CLOSED, disposition=disposition,
        rationale="decided in a test", expected_version=version,
    )  # fmt: skip


TRUE_POSITIVE = Disposition.TRUE_POSITIVE_ACTION
FALSE_POSITIVE = Disposition.FALSE_POSITIVE

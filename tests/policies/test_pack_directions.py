"""Pack policies that only an employee can breach look at what the firm's side sends: a client
asking "can you guarantee 12% returns?" or a doctor asking about an off-label use is not a
breach; an employee promising the return, or promoting the use, is."""

from __future__ import annotations

from functools import cache

import pytest

from policies.documents.evaluate import MessageContext
from policies.engine import Engine, Message, PolicyRun
from policies.packs import packs

INBOUND = MessageContext(direction="inbound")
OUTBOUND = MessageContext(direction="outbound")


@cache
def _engine() -> Engine:
    return Engine([PolicyRun(ref=d["name"], document=d) for p in packs() for d in p.documents])


def _fired(text: str, context: MessageContext) -> set[str]:
    [outcome] = _engine().scan([Message(text, context)])
    return {ref for ref, verdict in outcome.verdicts.items() if verdict.fired}


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("can you guarantee 12% returns?", "Guaranteed or risk-free returns"),
        ("Eu garanto retorno de 12% ao mês, sem risco?", "Guaranteed or risk-free returns"),
        ("can it be used off label for migraine?", "Off-label promotion"),
        ("pode usar esse remédio para emagrecer? é off label?", "Off-label promotion"),
    ],
)
def test_a_clients_words_do_not_breach_what_only_an_employee_can(text, policy):
    assert policy not in _fired(text, INBOUND)
    assert policy in _fired(text, OUTBOUND)


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("me chama no telegram que aqui é monitorado", "Moving the conversation off WhatsApp"),
        ("Segue meu CPF 529.982.247-25 pra abertura da conta", "Brazilian CPF and CNPJ"),
    ],
)
def test_what_either_side_can_breach_still_fires_on_a_clients_message(text, policy):
    assert policy in _fired(text, INBOUND)


def test_the_employee_only_policies_are_scoped_to_outbound_messages():
    scoped = {
        d["name"]
        for p in packs()
        for d in p.documents
        if d.get("scope", {}).get("direction") == "outbound"
    }
    assert scoped == {"Guaranteed or risk-free returns", "Off-label promotion"}

"""The built-in packs are valid policies, and the engine runs each detector once per batch and
gives each policy its own verdict."""

from __future__ import annotations

import pytest

from policies.documents.evaluate import MessageContext
from policies.documents.schema import validate_document
from policies.engine import Engine, Message, PolicyRun
from policies.packs import pack, packs


def test_every_pack_is_a_set_of_valid_policies_without_warnings():
    slugs = [p.slug for p in packs()]
    assert slugs == [
        "financial_services",
        "life_sciences",
        "data_protection",
        "security",
        "conduct",
    ]
    for each in packs():
        assert each.documents
        for document in each.documents:
            assert validate_document(document) == [], (each.slug, document["name"])


def test_a_pack_handed_out_can_be_changed_without_changing_the_next_one():
    first = pack("security").documents[0]
    first["severity"] = "low"
    assert pack("security").documents[0]["severity"] == "high"


def test_an_unknown_pack_is_a_key_error():
    with pytest.raises(KeyError):
        pack("astrology")


def engine_of(*slugs: str) -> Engine:
    runs = [
        PolicyRun(ref=document["name"], document=document, seed="tenant-secret")
        for slug in slugs
        for document in pack(slug).documents
    ]
    return Engine(runs)


def test_the_engine_gives_each_policy_its_verdict_with_the_findings_behind_it():
    engine = engine_of("data_protection", "security", "financial_services")
    texts = [
        "Segue meu CPF 529.982.247-25 pra abertura da conta",
        "Confirme seus dados em http://itau-seguranca.login-verificar.xyz/entrar",
        "me chama no telegram que aqui é monitorado",
        "Bom dia! Reunião às 15h confirmada.",
    ]
    outcomes = engine.scan([Message(text) for text in texts])
    fired = [sorted(ref for ref, v in o.verdicts.items() if v.fired) for o in outcomes]
    assert fired[0] == ["Brazilian CPF and CNPJ"]
    assert fired[1] == ["Suspicious links"]
    assert "Moving the conversation off WhatsApp" in fired[2]
    assert fired[3] == []
    [cpf] = outcomes[0].fired
    assert (cpf.attributes["type"], texts[0][cpf.spans[0].start : cpf.spans[0].end]) == (
        "br_cpf",
        "529.982.247-25",
    )


def test_a_policys_scope_is_applied_per_message():
    document = {
        "name": "Card numbers from the Equities desk",
        "severity": "high",
        "scope": {"teams": ["Equities"]},
        "detect": {"detector": "pii", "types": ["credit_card"], "min_score": 0.5},
    }
    engine = Engine([PolicyRun("cards", document)])
    text = "o número do cartão é 4111 1111 1111 1111"
    inside, outside = engine.scan(
        [
            Message(text, MessageContext(team="Equities")),
            Message(text, MessageContext(team="Rates")),
        ]
    )
    assert inside.verdicts["cards"].fired
    assert outside.verdicts["cards"].reason == "out of scope: team"


def test_a_sample_draws_only_messages_with_ids_and_reproducibly():
    document = {
        "name": "Routine review",
        "severity": "low",
        "detect": {"detector": "sampling", "rate": 0.5},
    }
    engine = Engine([PolicyRun("sample", document, seed="firm-secret")])
    batch = [Message("ok", key=("E-1", n)) for n in range(400)] + [Message("no ids")]
    first = [o.verdicts["sample"].fired for o in engine.scan(batch)]
    again = [o.verdicts["sample"].fired for o in engine.scan(batch)]
    assert first == again
    assert 140 < sum(first[:400]) < 260
    assert first[400] is False


def test_bad_and_huge_input_is_scanned_without_error():
    engine = engine_of("data_protection", "security", "financial_services", "conduct")
    texts = ["", "😀" * 500, "\x00\x01\ufffd" * 100, "a" * 100_000, "مرحبا hello नमस्ते 你好"]
    outcomes = engine.scan([Message(text) for text in texts])
    assert len(outcomes) == len(texts)
    assert not any(v.fired for o in outcomes for v in o.verdicts.values())


def test_policies_with_rules_of_the_same_name_each_get_their_own_findings():
    def policy(name: str, term: str) -> dict:
        return {
            "name": name,
            "severity": "low",
            "detect": {"detector": "lexicon", "rule": "hush"},
            "lexicon": {"rules": [{"name": "hush", "category": "secrecy", "any": [term]}]},
        }

    engine = Engine(
        [PolicyRun("a", policy("A", "between us")), PolicyRun("b", policy("B", "apaga"))]
    )
    first, second = engine.scan([Message("keep it between us"), Message("apaga essa conversa")])
    assert (first.verdicts["a"].fired, first.verdicts["b"].fired) == (True, False)
    assert (second.verdicts["a"].fired, second.verdicts["b"].fired) == (False, True)
    [finding] = first.verdicts["a"].findings
    assert finding.attributes["rule"] == "hush" and "'hush'" in finding.explanation

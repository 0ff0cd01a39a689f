from __future__ import annotations

import json

import pytest

from policies.detectors.findings import ML_CATEGORIES
from policies.detectors.lexicon import SEED_DIR, compile_lexicon, match, seed_lexicon


def categories_of(text: str) -> set[str]:
    (found,) = match(compile_lexicon(seed_lexicon()), [text])
    return {finding.category for finding in found}


def test_every_ml_category_has_a_seed_lexicon_in_every_language() -> None:
    for category in ML_CATEGORIES:
        document = json.loads((SEED_DIR / f"{category}.json").read_text(encoding="utf-8"))
        languages = {rule["language"] for rule in document["rules"]}
        assert languages == {"en", "pt", "es", "hi-Latn"}, category
        assert {rule["category"] for rule in document["rules"]} == {category}


def test_the_seed_lexicons_compile_without_errors_or_warnings() -> None:
    compiled = compile_lexicon(seed_lexicon())
    assert compiled.warnings == ()
    assert {rule.category for rule in compiled.rules} == set(ML_CATEGORIES)


def test_a_seed_lexicon_can_be_taken_by_category() -> None:
    document = seed_lexicon(["guarantee"])
    assert {rule["category"] for rule in document["rules"]} == {"guarantee"}


POSITIVES: dict[str, list[str]] = {
    "off_channel": [
        "let's move this to Signal",
        "text me on telegram later",
        "call me on my personal number pls",
        "me chama no Telegram que eu te explico",
        "manda no meu número pessoal",
        "escríbeme por Signal mejor",
        "te paso mi número personal",
        "signal pe baat karte hain",
        "mere personal number pe call karo",
    ],
    "secrecy": [
        "keep this between us ok?",
        "pls delete this chat after reading",
        "dont tell compliance about the fee",
        "isso fica entre nós, beleza?",
        "apaga essa conversa depois",
        "que quede entre nosotros",
        "borra este chat cuando lo leas",
        "kisi ko mat batana yaar",
        "chat delete kar do abhi",
    ],
    "guarantee": [
        "GU4R4NT33D returns of 12% a year",
        "gu\u0430r\u0430nteed returns",  # a Cyrillic a: looks Latin, reads Latin
        "this is a risk-free investment",
        "we guarantee returns above the index",
        "retorno garantido de 2% ao mês",
        "investimento sem risco nenhum",
        "rentabilidad garantizada del 10%",
        "es una inversión sin riesgo",
        "pakka return milega bhai",
        "paisa double in 6 months",
    ],
    "mnpi": [
        "got some inside info on the merger",
        "buy before the announcement tomorrow",
        "tenho uma informação privilegiada sobre a fusão",
        "compra antes do fato relevante",
        "tengo información privilegiada de la OPA",
        "compra antes del anuncio",
        "andar ki khabar hai, kal result hai",
    ],
    "bribery": [
        "he wants a kickback for the contract",
        "if she prescribes more we pay for the trip to Cancun",
        "ele cobrou propina para liberar",
        "dá um por fora pro fiscal",
        "le pagaron un soborno al inspector",
        "la coima ya está lista",
        "officer ko rishwat deni padegi",
    ],
    "off_label": [
        "doctors use it off-label for weight loss",
        "pode usar fora da bula para enxaqueca",
        "se usa fuera de indicación en niños",
        "label ke bahar bhi kaam karta hai",
    ],
    "harassment": [
        "fuck you, you idiot",
        "i know where you live",
        "vai se foder",
        "vou te matar",
        "eres un idiota",
        "te voy a matar",
        "chutiya hai tu",
        "jaan se maar dunga",
    ],
    "complaint": [
        "I want to file a complaint",
        "I still haven't received my money",
        "I will report you to FINRA",
        "vou reclamar no Procon",
        "ainda não recebi o resgate",
        "voy a poner una queja formal",
        "nunca recibí la transferencia",
        "complaint karunga sebi mein",
        "mera paisa wapas karo abhi",
    ],
}


@pytest.mark.parametrize(
    ("category", "text"),
    [(category, text) for category, texts in POSITIVES.items() for text in texts],
)
def test_seed_positive(category: str, text: str) -> None:
    assert category in categories_of(text)


# Hard negatives share words with the positives; the seeds must stay quiet on all of them.
HARD_NEGATIVES = [
    "Signal processing review at 3pm",
    "the buy signal on PETR4 looks weak",
    "no signal in the elevator, call you back",
    "guaranteed delivery by Friday",
    "satisfaction guaranteed or your money back",
    "returns are not guaranteed",
    "past performance does not guarantee future returns",
    "o retorno não é garantido",
    "la rentabilidad no está garantizada",
    "return guarantee nahi hai",
    "please delete the duplicate slide",
    "delete the spam messages from the queue",
    "apaga a mensagem duplicada",
    "entrega garantida amanhã",
    "can you send the telegram template to legal",
    "the announcement is public now, see the press release",
    "we had a tax return meeting",
    "the kickoff is on Monday",
    "deixa uma propina pro garçom",
    "labels for the boxes are off",
    "what an idiot proof design",
    "I have no complaints, great service",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_seed_hard_negative(text: str) -> None:
    assert categories_of(text) == set()


ORDINARY_CHAT = [
    "Bom dia! Segue o relatório de ontem",
    "Can we move the call to 4pm?",
    "Hola, ¿recibiste el contrato?",
    "bhai kal meeting hai kya?",
    "Thanks, I'll review the portfolio and get back to you",
    "Preciso do CPF para o cadastro",
    "La transferencia sale mañana",
    "ok 👍",
    "Sent the deck, see slide 4 for the fees",
    "Vamos marcar um café semana que vem?",
]


def test_ordinary_business_chat_raises_nothing() -> None:
    compiled = compile_lexicon(seed_lexicon())
    assert match(compiled, ORDINARY_CHAT) == [[] for _ in ORDINARY_CHAT]

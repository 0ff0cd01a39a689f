"""The personal-data detector (policies/detectors/pii.py): each type found in English, Portuguese,
Spanish and Hinglish chat, its look-alikes (orders, invoices, tracking codes, dates, amounts) kept
below the default threshold, and bad input answered without a crash."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path

import pytest

from policies.detectors.findings import PII, PII_TYPES
from policies.detectors.pii import DEFAULT_THRESHOLD, detect

DATA = Path(__file__).with_name("data")

# (language, text, type, value) — every value carries valid check digits where its type has them.
# fmt: off
POSITIVES = [
    ("en", "my card is 4111 1111 1111 1111 exp 09/27", "credit_card", "4111 1111 1111 1111"),
    ("pt", "o número do cartão é 5555 5555 5555 4444", "credit_card", "5555 5555 5555 4444"),
    ("es", "te paso la tarjeta 3782 822463 10005 ok?", "credit_card", "3782 822463 10005"),
    ("hi", "bhai card number 4012 8888 8888 1881 hai", "credit_card", "4012 8888 8888 1881"),
    ("en", "wire it to IBAN GB82 WEST 1234 5698 7654 32 please", "iban",
     "GB82 WEST 1234 5698 7654 32"),
    ("pt", "minha conta PT50 0002 0123 1234 5678 9015 4", "iban",
     "PT50 0002 0123 1234 5678 9015 4"),
    ("es", "mi cuenta ES91 2100 0418 4502 0005 1332 para la transferencia", "iban",
     "ES91 2100 0418 4502 0005 1332"),
    ("hi", "khata GB29NWBK60161331926819 pe bhej do", "iban", "GB29NWBK60161331926819"),
    ("en", "my ssn is 536-90-4399", "us_ssn", "536-90-4399"),
    ("pt", "o SSN dele é 536-90-4399", "us_ssn", "536-90-4399"),
    ("es", "su número de seguro social 536-90-4399", "us_ssn", "536-90-4399"),
    ("hi", "mera ssn 536904399 hai", "us_ssn", "536904399"),
    ("pt", "meu cpf é 529.982.247-25", "br_cpf", "529.982.247-25"),
    ("en", "her CPF: 123.456.789-09", "br_cpf", "123.456.789-09"),
    ("es", "el CPF del cliente es 11144477735", "br_cpf", "11144477735"),
    ("hi", "uska cpf 111.444.777-35 bhejo", "br_cpf", "111.444.777-35"),
    ("pt", "CNPJ da empresa 11.222.333/0001-81", "br_cnpj", "11.222.333/0001-81"),
    ("en", "their cnpj is 11222333000181", "br_cnpj", "11222333000181"),
    ("es", "el CNPJ nuevo 12.ABC.345/01DE-35", "br_cnpj", "12.ABC.345/01DE-35"),
    ("hi", "company ka cnpj 12ABC34501DE35 hai", "br_cnpj", "12ABC34501DE35"),
    ("hi", "mera aadhaar 2341 2341 2346 hai", "in_aadhaar", "2341 2341 2346"),
    ("en", "aadhaar no. 499900001113", "in_aadhaar", "499900001113"),
    ("pt", "o aadhaar dela é 2341-2341-2346", "in_aadhaar", "2341-2341-2346"),
    ("es", "su número aadhaar 499900001113", "in_aadhaar", "499900001113"),
    ("hi", "PAN card ABCPD1234F hai mera", "in_pan", "ABCPD1234F"),
    ("en", "my pan is abcpd1234f", "in_pan", "abcpd1234f"),
    ("pt", "o PAN dele: ABCPD1234F", "in_pan", "ABCPD1234F"),
    ("es", "su PAN es ABCPD1234F", "in_pan", "ABCPD1234F"),
    ("en", "email me at john.doe+deals@example.co.uk", "email", "john.doe+deals@example.co.uk"),
    ("pt", "manda pro joao.silva@empresa.com.br", "email", "joao.silva@empresa.com.br"),
    ("es", "escríbeme a maria_lopez@correo.es mañana", "email", "maria_lopez@correo.es"),
    ("hi", "mail kar do raj.k@firm.in pe", "email", "raj.k@firm.in"),
    ("pt", "me liga no (11) 98765-4321", "phone", "(11) 98765-4321"),
    ("en", "call me on +1 (415) 555-0134", "phone", "+1 (415) 555-0134"),
    ("es", "mi móvil es +34 612 345 678", "phone", "+34 612 345 678"),
    ("hi", "mera number +91 98765 43210 hai", "phone", "+91 98765 43210"),
    ("en", "I was diagnosed with diabetes last year", "health", "diabetes"),
    ("pt", "minha mãe está fazendo quimioterapia", "health", "quimioterapia"),
    ("es", "estoy embarazada de tres meses", "health", "embarazada"),
    ("hi", "mujhe sugar ki bimari hai", "health", "sugar ki bimari"),
]

# fmt: on

# (language, the type it looks like, text): look-alikes that must stay below the default threshold.
# fmt: off
HARD_NEGATIVES = [
    ("en", "credit_card", "order 4111111111111111 shipped today"),
    ("pt", "credit_card", "pedido 5555555555554444 saiu para entrega"),
    ("es", "credit_card", "factura 4012888888881881 pagada ayer"),
    ("hi", "credit_card", "order id 4111111111111111 deliver ho gaya"),
    ("pt", "credit_card", "cartão 4111 1111 1111 1112 recusado"),  # Luhn fails
    ("en", "iban", "IBAN GB82 WEST 1234 5698 7654 33"),  # mod 97 fails
    ("pt", "iban", "minha conta PT50 0002 0123 1234 5678 9015 5"),
    ("es", "iban", "mi cuenta ES91 2100 0418 4502 0005 1333"),
    ("hi", "iban", "khata GB29NWBK60161331926818 pe bhejo"),
    ("en", "iban", "tracking BR123456789BR arrives Monday"),
    ("en", "us_ssn", "batch 536-90-4399 shipped"),
    ("pt", "us_ssn", "lote 536904399 despachado"),
    ("es", "us_ssn", "lote 536-90-4399 en camino"),
    ("hi", "us_ssn", "invoice 536-90-4399 ka payment done"),
    ("en", "us_ssn", "my ssn is 666-12-3456"),  # never issued
    ("pt", "br_cpf", "nota fiscal 52998224725 emitida"),
    ("en", "br_cpf", "invoice 11144477735 attached"),
    ("es", "br_cpf", "pedido 12345678909 enviado"),
    ("hi", "br_cpf", "rastreio 11144477735 check karo"),
    ("pt", "br_cpf", "meu cpf é 123.456.789-00"),  # check digits fail
    ("pt", "br_cnpj", "protocolo 11222333000181 aberto"),
    ("en", "br_cnpj", "ref 11.222.333/0001-82 (not a CNPJ)"),
    ("es", "br_cnpj", "referencia 11222333000181 del envío"),
    ("hi", "br_cnpj", "ticket 11222333000181 close karo"),
    ("en", "in_aadhaar", "order 234123412346 delivered"),
    ("pt", "in_aadhaar", "pedido 2341 2341 2346 chegou"),
    ("es", "in_aadhaar", "factura 499900001113 pagada"),
    ("hi", "in_aadhaar", "ticket 499900001113 close karo"),
    ("en", "in_pan", "sku ABCPD1234F back in stock"),
    ("pt", "in_pan", "cupom ABCPD1234F aplicado"),
    ("es", "in_pan", "código ABCPD1234F del producto"),
    ("hi", "in_pan", "code ABCXD1234F lagao"),  # 4th letter is no holder type
    ("en", "email", "write to ana at empresa dot com"),
    ("pt", "email", "usuario@localhost não existe"),
    ("es", "email", "sígueme en @maria_lopez"),
    ("hi", "email", "mera handle @raj.k hai"),
    ("en", "phone", "order 4155550134 confirmed"),
    ("pt", "phone", "pedido 11987654321 despachado"),
    ("es", "phone", "factura 612345678 pagada"),
    ("hi", "phone", "utr 9876543210 check karo"),
    ("en", "health", "diabetes market grew 5% this quarter"),
    ("pt", "health", "vendas de insulina no mercado subiram"),
    ("es", "health", "campaña de ventas de antidepresivos"),
    ("hi", "health", "cancer drug ka launch next week"),
    ("en", "date", "paid on 2024-05-12 and 12/05/2024"),
    ("pt", "amount", "valor R$ 11987654321"),
    ("en", "amount", "total $ 4111111111111111"),
]
# fmt: on


def _findings(text: str, region: str = "BR") -> list[tuple[str, float, str]]:
    [found] = detect([text], region=region)
    return [(f.attributes["type"], f.score, f.attributes["value"]) for f in found]


@pytest.mark.parametrize(("language", "text", "kind", "value"), POSITIVES)
def test_each_type_is_found_in_each_language(
    language: str, text: str, kind: str, value: str
) -> None:
    [found] = detect([text])
    hits = [f for f in found if f.score >= DEFAULT_THRESHOLD]
    assert [(f.attributes["type"], f.attributes["value"]) for f in hits] == [(kind, value)]
    [finding] = hits
    assert finding.category == PII and finding.detector == "pii"
    [span] = finding.spans
    assert text[span.start : span.end] == value
    assert finding.explanation  # a sentence, checked for its words below


def test_every_type_and_language_has_a_positive_and_a_hard_negative() -> None:
    assert {kind for _, _, kind, _ in POSITIVES} == set(PII_TYPES)
    for language in ("en", "pt", "es", "hi"):
        assert {kind for lang, _, kind, _ in POSITIVES if lang == language} == set(PII_TYPES)
        assert {kind for lang, kind, _ in HARD_NEGATIVES if lang == language} >= set(PII_TYPES)


@pytest.mark.parametrize(("language", "looks_like", "text"), HARD_NEGATIVES)
def test_look_alikes_stay_below_the_default_threshold(
    language: str, looks_like: str, text: str
) -> None:
    assert [hit for hit in _findings(text) if hit[1] >= DEFAULT_THRESHOLD] == []


def test_a_number_that_only_passes_its_check_scores_low_without_a_context_word() -> None:
    # Bare numbers with valid CPF, card and Aadhaar digits, an SSN-shaped number, a PAN-shaped
    # code and a bare run of digits that is a valid Brazilian mobile number.
    for text in (
        "52998224725",
        "encomenda 4111111111111111 chegou",
        "seguimos 499900001113",
        "536-90-4399",
        "ABCPD1234F",
        "matrícula 11987654321",
    ):
        assert all(score < DEFAULT_THRESHOLD for _, score, _ in _findings(text)), text


def test_the_same_numbers_written_as_people_write_them_are_reported() -> None:
    [[card], [phone]] = detect(["4111 1111 1111 1111", "11 98765-4321"])
    assert card.score >= DEFAULT_THRESHOLD and card.attributes["type"] == "credit_card"
    assert phone.score >= DEFAULT_THRESHOLD and phone.attributes["type"] == "phone"


def test_the_evaluation_set_is_regenerated_byte_for_byte() -> None:
    # tests/policies/data/make_pii_eval.py is a script beside its data, not a test module.
    generator = runpy.run_path(str(DATA / "make_pii_eval.py"))
    render, generate = generator["render"], generator["generate"]
    assert render(generate()) == (DATA / "pii_eval.jsonl").read_text(encoding="utf-8")
    held_out = (DATA / "pii_eval_holdout.jsonl").read_text(encoding="utf-8")
    assert render(generate(holdout=True)) == held_out


def test_the_explanation_names_the_type_the_check_and_the_context_word() -> None:
    [[cpf], [order]] = detect(["meu cpf é 529.982.247-25", "pedido 4111111111111111 enviado"])
    assert cpf.explanation == "Brazilian CPF with valid check digits, next to 'cpf'"
    assert "Luhn" in order.explanation and "'pedido'" in order.explanation
    assert order.score < DEFAULT_THRESHOLD


def test_the_nearest_context_word_speaks_for_each_number() -> None:
    text = "cpf 529.982.247-25 e o pedido 4111111111111111"
    [found] = detect([text])
    by_type = {f.attributes["type"]: f.score for f in found}
    assert by_type["br_cpf"] >= 0.9
    assert by_type["credit_card"] < DEFAULT_THRESHOLD


def test_the_tenants_default_region_reads_national_phone_numbers() -> None:
    text = "call me at 415 555 0134"
    assert [kind for kind, score, _ in _findings(text, region="US") if score >= 0.5] == ["phone"]
    assert _findings("ligue 415 555 0134", region="US")[0][1] >= DEFAULT_THRESHOLD
    # Without a telling word, a number valid only in another region of the list scores lower.
    [(_, in_brazil, _)] = _findings("503 555 0134", region="BR")
    [(_, in_the_us, _)] = _findings("503 555 0134", region="US")
    assert in_brazil < DEFAULT_THRESHOLD <= in_the_us


def test_a_batch_returns_one_list_per_text_in_order() -> None:
    texts = ["nothing here", "meu cpf é 529.982.247-25", "", "email a@b.io"]
    found = detect(texts)
    assert len(found) == 4
    assert [[f.attributes["type"] for f in fs] for fs in found] == [[], ["br_cpf"], [], ["email"]]


def test_values_are_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    detect([text for _, text, _, _ in POSITIVES])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not any(value in logged for _, _, _, value in POSITIVES)


# --- bad input -----------------------------------------------------------------------------------


def test_empty_and_blank_texts_have_no_findings() -> None:
    assert detect(["", " ", "\n\t"]) == [[], [], []]
    assert detect([]) == []


def test_a_100_kb_message_is_scanned_whole_with_offsets_into_it() -> None:
    filler = "segue a planilha do trimestre, 12 abas, revisar até 5a feira. " * 1700
    text = filler + "meu cpf é 529.982.247-25"
    assert len(text) > 100_000
    [found] = detect([text])
    [cpf] = [f for f in found if f.score >= DEFAULT_THRESHOLD]
    assert text[cpf.spans[0].start : cpf.spans[0].end] == "529.982.247-25"


@pytest.mark.parametrize(
    "text",
    [
        "9" * 100_000,  # one endless number
        "1 " * 50_000,  # numbers that run together through their separators
        "a@" * 50_000,
        "GB82 " * 20_000,
    ],
)
def test_huge_degenerate_texts_are_answered_without_findings(text: str) -> None:
    [found] = detect([text])
    assert [f for f in found if f.score >= DEFAULT_THRESHOLD] == []


def test_binary_looking_text_is_read_as_text() -> None:
    text = "\x00\x01\x02\xff\ufffd\x7f" * 200 + " cpf 529.982.247-25 \x00"
    [found] = detect([text])
    assert [(f.attributes["type"], f.attributes["value"]) for f in found] == [
        ("br_cpf", "529.982.247-25")
    ]


def test_emoji_only_texts_have_no_findings() -> None:
    assert detect(["😀😀😀", "👍🏽🔥💯", "🇧🇷🇮🇳"]) == [[], [], []]


def test_mixed_scripts_keep_offsets_into_the_original_text() -> None:
    text = "İstanbul मेरा आधार 2341 2341 2346 है 😀 и телефон +55 11 98765-4321"
    [found] = detect([text])
    got = {f.attributes["type"]: text[f.spans[0].start : f.spans[0].end] for f in found}
    assert got == {"in_aadhaar": "2341 2341 2346", "phone": "+55 11 98765-4321"}


def test_a_text_that_is_not_a_string_is_refused_clearly() -> None:
    with pytest.raises(TypeError, match="str"):
        detect([b"cpf 529.982.247-25"])  # type: ignore[list-item]


def test_an_unknown_region_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="region"):
        detect(["hi"], region="XX")

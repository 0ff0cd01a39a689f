"""Writes pii_eval.jsonl: the labelled chat messages the PII detector and Presidio are measured on.

    .venv/bin/python tests/policies/data/make_pii_eval.py    (same seed, same bytes)

The phrasings below were written by hand (English, Portuguese, Spanish, Hinglish; typos, emojis,
abbreviations as people type them). The values are drawn from one seeded `random.Random` and made
valid by the libraries the detector itself trusts: card and Aadhaar check digits from
python-stdnum's `luhn` and `verhoeff`, CNPJ check digits from `stdnum.br.cnpj.calc_check_digits`,
IBAN check digits from `stdnum.iban.calc_check_digits` (kept only when `stdnum.iban` accepts the
country's format), CPFs drawn until `stdnum.br.cpf` accepts one, phone numbers drawn per region
until `phonenumbers.is_valid_number` accepts one. Hard negatives (order, invoice, tracking,
protocol numbers, dates, amounts, product codes; some next to words the detector does not know:
'shipment', 'encomenda', 'póliza', 'challan') carry random digits; a third of them are made to
pass the check of the type they look like, because one random number in ten does in real traffic
and those are the ones that need the context words.

Each line: {"id", "lang", "group" (positive | hard_negative | plain), "text",
"pii": [{"type", "start", "end", "value"}]} with offsets into "text".
"""

from __future__ import annotations

import json
import random
import string
import sys
from pathlib import Path

import phonenumbers
from stdnum import iban, luhn, verhoeff
from stdnum.br import cnpj, cpf
from stdnum.in_ import aadhaar, pan

OUT = Path(__file__).with_name("pii_eval.jsonl")
HOLDOUT = Path(__file__).with_name("pii_eval_holdout.jsonl")
SEED = 11
LANGS = ("en", "pt", "es", "hi")
POSITIVES_PER_TYPE_AND_LANG = 40
HARD_NEGATIVES_PER_LANG = 260
PLAIN_PER_LANG = 140

# --- values ---------------------------------------------------------------------------------------


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def card(rng: random.Random) -> str:
    prefix, length = rng.choice(
        [("4", 16), ("4", 16), ("51", 16), ("53", 16), ("55", 16), ("2221", 16), ("37", 15),
         ("34", 15), ("509", 16), ("606282", 16), ("6011", 16), ("3528", 16)]
    )  # fmt: skip
    body = prefix + _digits(rng, length - len(prefix) - 1)
    number = body + luhn.calc_check_digit(body)
    style = rng.random()
    if length == 15:
        return f"{number[:4]} {number[4:10]} {number[10:]}" if style < 0.7 else number
    if style < 0.5:
        return " ".join(number[i : i + 4] for i in range(0, 16, 4))
    if style < 0.7:
        return "-".join(number[i : i + 4] for i in range(0, 16, 4))
    return number


# Country: (letters, digits) of its account part (BBAN); stdnum.iban then checks the details.
_IBAN_SHAPES = {"ES": (0, 20), "PT": (0, 21), "DE": (0, 18), "GB": (4, 14), "FR": (0, 23),
                "IT": (1, 22)}  # fmt: skip


def iban_number(rng: random.Random) -> str:
    while True:
        country = rng.choice(list(_IBAN_SHAPES))
        letters, digits = _IBAN_SHAPES[country]
        bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(letters))
        bban += _digits(rng, digits)
        number = country + iban.calc_check_digits(country + "00" + bban) + bban
        if iban.is_valid(number):
            break
    if rng.random() < 0.6:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def ssn(rng: random.Random, *, bare: bool = False) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    number = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
    return number if bare else f"{number[:3]}-{number[3:5]}-{number[5:]}"


def cpf_number(rng: random.Random, *, bare: bool | None = None) -> str:
    while True:
        number = _digits(rng, 11)
        if cpf.is_valid(number):
            break
    if bare is None:
        bare = rng.random() < 0.3
    return number if bare else cpf.format(number)


def cnpj_number(rng: random.Random) -> str:
    if rng.random() < 0.2:  # the alphanumeric CNPJ, issued from July 2026
        head = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(12))
    else:
        head = _digits(rng, 8) + "0001"
    number = head + cnpj.calc_check_digits(head)
    return cnpj.format(number) if rng.random() < 0.75 else number


def aadhaar_number(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(2, 9)) + _digits(rng, 10)
        number = body + verhoeff.calc_check_digit(body)
        if aadhaar.is_valid(number):
            break
    style = rng.random()
    if style < 0.6:
        return f"{number[:4]} {number[4:8]} {number[8:]}"
    return number if style < 0.9 else f"{number[:4]}-{number[4:8]}-{number[8:]}"


def pan_number(rng: random.Random) -> str:
    letters = string.ascii_uppercase
    while True:
        number = (
            "".join(rng.choice(letters) for _ in range(3))
            + rng.choice("PPPPPCHFAT")
            + rng.choice(letters)
            + f"{rng.randint(1, 9999):04d}"
            + rng.choice(letters)
        )
        if pan.is_valid(number):
            return number


_FIRST = ["ana", "joao", "maria", "raj", "priya", "carlos", "lucia", "john", "emma", "amit"]
_LAST = ["silva", "souza", "garcia", "lopez", "sharma", "patel", "smith", "costa", "mehta"]
_DOMAINS = ["gmail.com", "empresa.com.br", "correo.es", "firm.in", "example.co.uk", "uol.com.br",
            "outlook.com", "banco.mx", "hotmail.es", "corp.io"]  # fmt: skip


def email(rng: random.Random) -> str:
    sep = rng.choice([".", "_", "", "."])
    name = rng.choice(_FIRST) + sep + rng.choice(_LAST)
    if rng.random() < 0.3:
        name += str(rng.randint(1, 99))
    return f"{name}@{rng.choice(_DOMAINS)}"


_DDD = [11, 12, 13, 19, 21, 27, 31, 41, 47, 48, 51, 61, 62, 71, 81, 85, 91, 98]


def _national(rng: random.Random, region: str) -> str:
    if region == "BR":
        return f"{rng.choice(_DDD)}9{_digits(rng, 8)}"
    if region == "IN":
        return rng.choice("6789") + _digits(rng, 9)
    if region == "US":
        return str(rng.randint(2, 9)) + _digits(rng, 2) + str(rng.randint(2, 9)) + _digits(rng, 6)
    if region == "ES":
        return rng.choice("67") + _digits(rng, 8)
    if region == "MX":
        return rng.choice(["55", "33", "81"]) + _digits(rng, 8)
    if region == "PT":
        return "9" + rng.choice("1236") + _digits(rng, 7)
    return "7" + rng.choice("45789") + _digits(rng, 8)  # GB mobile


def phone(rng: random.Random, region: str) -> str:
    while True:
        parsed = phonenumbers.parse(_national(rng, region), region)
        if phonenumbers.is_valid_number(parsed):
            break
    style = rng.random()
    fmt = phonenumbers.PhoneNumberFormat
    if style < 0.45:
        return phonenumbers.format_number(parsed, fmt.INTERNATIONAL)
    if style < 0.55:
        return phonenumbers.format_number(parsed, fmt.E164)
    return phonenumbers.format_number(parsed, fmt.NATIONAL)


_REGION_OF_LANG = {"en": ["US", "GB", "US"], "pt": ["BR", "BR", "PT"], "es": ["ES", "MX"],
                   "hi": ["IN"]}  # fmt: skip
# Health terms per language; about one in six is outside the detector's conservative list, so the
# recall measured here is not a list checked against itself.
_HEALTH = {
    "en": ["diabetes", "cancer", "chemotherapy", "HIV", "insulin", "hypertension", "asthma",
           "epilepsy", "dialysis", "sertraline", "bipolar disorder", "panic attacks", "pregnant",
           "migraines", "a herniated disc", "gastritis"],
    "pt": ["diabetes", "câncer", "quimioterapia", "hipertensão", "depressão", "insulina",
           "asma", "epilepsia", "diálise", "fluoxetina", "rivotril", "grávida", "gastrite",
           "hérnia de disco", "enxaqueca"],
    "es": ["diabetes", "cáncer", "quimioterapia", "hipertensión", "depresión", "insulina",
           "asma", "epilepsia", "diálisis", "embarazada", "VIH", "sertralina", "gastritis",
           "migraña", "hernia discal"],
    "hi": ["diabetes", "sugar ki bimari", "cancer", "BP ki dawai", "asthma", "insulin",
           "dialysis", "chemotherapy", "depression", "thyroid", "pregnant", "TB"],
}  # fmt: skip

# --- phrasings: {v} is the value ---------------------------------------------------------------

POSITIVE = {
    "credit_card": {
        "en": ["my card is {v} exp 08/28", "card no {v}, cvv in the next msg", "use my visa {v}",
               "charge it to {v} pls", "credit card: {v} 👍", "here's the card {v} for the deposit",
               "{v} is my debit card, expires 11/27", "cc {v}"],
        "pt": ["meu cartão é {v} validade 09/29", "cartao de credito {v}",
               "passa no cartão {v} pfv",
               "o número do cartão: {v} 🙏", "{v} é o cartão da empresa, cvv 123",
               "cartão final 4821? nao, o certo é {v}", "segue o cartão {v} pra reserva"],
        "es": ["mi tarjeta es {v}", "tarjeta de crédito {v} vence 03/28", "te paso la tarjeta: {v}",
               "cobra en la tarjeta {v} porfa", "{v} es la tarjeta de débito",
               "número de tarjeta {v} 🙏"],
        "hi": ["bhai card number {v} hai", "mera card {v}, cvv baad me bhejta hu",
               "is card pe charge karo {v}", "card {v} use kar lo yaar",
               "{v} wala card block hai kya"],
    },
    "iban": {
        "en": ["IBAN {v}", "please wire to {v}", "my bank account IBAN: {v}",
               "transfer the fees to {v} thanks", "account {v} (Deutsche Bank)"],
        "pt": ["meu IBAN é {v}", "transferência para a conta {v}", "conta {v} em nome da Ana",
               "faz a transferencia pro IBAN {v} hj"],
        "es": ["mi IBAN: {v}", "haz la transferencia a la cuenta {v}", "cuenta bancaria {v}",
               "el IBAN de la empresa es {v} 👍"],
        "hi": ["IBAN {v} pe transfer kar do", "mera bank account {v} hai", "account {v} me bhejo",
               "uska IBAN {v} hai"],
    },
    "us_ssn": {
        "en": ["my ssn is {v}", "SSN: {v}", "social security number {v} for the form",
               "her social security is {v}", "ssn {v} dob 04/12/1980"],
        "pt": ["o SSN dele é {v}", "número do social security: {v}", "ssn do cliente {v}"],
        "es": ["su número de seguro social es {v}", "SSN {v} para el formulario",
               "el seguro social del cliente: {v}"],
        "hi": ["mera ssn {v} hai", "uska social security number {v}", "SSN {v} form me daal do"],
    },
    "br_cpf": {
        "en": ["her CPF is {v}", "client's cpf: {v}", "CPF {v} for the brazilian account"],
        "pt": ["meu cpf é {v}", "cpf {v}", "segue o CPF: {v}", "CPF do titular {v} 🙏",
               "o cpf dela é {v}, pode cadastrar", "manda no cpf {v}"],
        "es": ["el CPF del cliente es {v}", "CPF: {v}", "su cpf {v}"],
        "hi": ["uska cpf {v} hai", "CPF {v} bhejo", "client ka cpf {v}"],
    },
    "br_cnpj": {
        "en": ["the company's CNPJ is {v}", "cnpj {v}", "invoice to CNPJ {v} please"],
        "pt": ["CNPJ da empresa {v}", "o cnpj é {v}", "faturar no CNPJ {v}",
               "cnpj: {v} razão social ACME"],
        "es": ["el CNPJ de la empresa es {v}", "CNPJ {v}", "factura al CNPJ {v}"],
        "hi": ["company ka cnpj {v} hai", "CNPJ {v} pe bill banao", "cnpj {v} bhej diya"],
    },
    "in_aadhaar": {
        "en": ["my aadhaar is {v}", "aadhaar no {v}", "Aadhaar: {v} for KYC", "her aadhar {v}"],
        "pt": ["o aadhaar dele é {v}", "número aadhaar {v}"],
        "es": ["su número aadhaar es {v}", "aadhaar {v} para el KYC"],
        "hi": ["mera aadhaar {v} hai", "aadhar card number {v}", "aadhaar {v} bhej raha hu",
               "uska adhaar {v} hai, KYC kar do", "आधार {v}"],
    },
    "in_pan": {
        "en": ["my PAN is {v}", "PAN: {v}", "pan card {v} for the KYC", "his pan no {v}"],
        "pt": ["o PAN dele é {v}", "PAN {v} do cliente"],
        "es": ["su PAN es {v}", "PAN {v} del cliente"],
        "hi": ["mera pan {v} hai", "PAN card {v}", "pan number {v} bhejo", "uska PAN {v}"],
    },
    "email": {
        "en": ["email me at {v}", "{v}", "send it to {v} pls", "my mail is {v}", "cc {v} on that"],
        "pt": ["manda pro {v}", "meu email é {v}", "envia no {v} por favor", "{v} esse é o meu"],
        "es": ["escríbeme a {v}", "mi correo es {v}", "mándalo a {v} porfa"],
        "hi": ["mail kar do {v} pe", "mera email {v} hai", "{v} pe bhej do"],
    },
    "phone": {
        "en": ["call me on {v}", "my number is {v}", "text me at {v}", "{v} is my cell",
               "reach me at {v} after 6", "ring me {v}", "new phone: {v}"],
        "pt": ["me liga no {v}", "meu número é {v}", "chama no zap {v}", "meu celular {v}",
               "liga {v} depois das 18h", "tel {v}", "{v} é meu whats"],
        "es": ["llámame al {v}", "mi móvil es {v}", "mi número: {v}", "escríbeme al whatsapp {v}",
               "mi teléfono {v}", "{v} es mi cel"],
        "hi": ["mera number {v} hai", "call karo {v} pe", "mobile {v}", "whatsapp {v} pe msg karo",
               "mera no {v}", "{v} pe call kar lena"],
    },
    "health": {
        "en": ["I was diagnosed with {v} last year", "my mom has {v}",
               "he is being treated for {v}",
               "sorry, I'm in hospital, {v} again", "my doctor says it's {v}",
               "she's been treated for {v}"],
        "pt": ["fui diagnosticado com {v}", "minha mãe tem {v}", "to tratando {v} desde março",
               "o médico disse que é {v}", "tenho {v}, não posso ir hj"],
        "es": ["me diagnosticaron {v}", "mi madre tiene {v}", "estoy en tratamiento por {v}",
               "el médico dice que es {v}", "tengo {v}, no puedo ir"],
        "hi": ["mujhe {v} hai", "meri maa ko {v} hai", "doctor ne bola {v} hai",
               "papa ki {v} ki dawai chal rahi hai"],
    },
}  # fmt: skip

# Look-alikes: ("type it looks like", phrasing). {v} gets a number of that shape.
HARD = {
    "en": [("card", "order {v} shipped today"), ("card", "order id {v} is delayed"),
           ("card", "tracking {v}"), ("cpf", "invoice {v} attached"), ("cpf", "invoice no {v}"),
           ("ssn", "batch {v} passed QA"), ("ssn", "part {v} back in stock"),
           ("aadhaar", "ticket {v} closed"), ("aadhaar", "ref {v} for the wire"),
           ("pan", "sku {v} is out of stock"), ("pan", "promo code {v} gives 10%"),
           ("phone", "order {v} confirmed"), ("phone", "transaction id {v}"),
           ("cnpj", "reference {v}"), ("amount", "total {v}"), ("date", "due {v}"),
           ("track", "tracking {v} arrives Monday"), ("iban", "booking ref {v}"),
           ("card", "shipment {v} left the warehouse"), ("phone", "account manager id {v}"),
           ("cpf", "membership {v} renewed"), ("aadhaar", "case {v} escalated"),
           ("ssn", "room {v}"), ("pan", "voucher {v} redeemed")],
    "pt": [("card", "pedido {v} saiu para entrega"), ("card", "nº do pedido {v}"),
           ("cpf", "nota fiscal {v} emitida"), ("cpf", "NF {v} em anexo"),
           ("cpf", "protocolo {v}"), ("cnpj", "protocolo {v} aberto"), ("ssn", "lote {v} liberado"),
           ("aadhaar", "boleto {v} vence amanhã"), ("pan", "código {v} do produto"),
           ("phone", "pedido {v} confirmado"), ("phone", "protocolo de atendimento {v}"),
           ("amount", "valor {v} pago"), ("date", "vence {v}"), ("track", "rastreio {v}"),
           ("track", "código de rastreamento {v}"), ("iban", "referência {v}"),
           ("card", "encomenda {v} chegou"), ("cpf", "matrícula {v} ativa"),
           ("phone", "compra {v} aprovada"), ("aadhaar", "apólice {v} renovada"),
           ("cnpj", "contrato {v} assinado"), ("ssn", "placa {v}")],
    "es": [("card", "pedido {v} enviado"), ("card", "factura {v} pagada"),
           ("cpf", "factura {v} adjunta"), ("ssn", "lote {v} en camino"),
           ("aadhaar", "ticket {v} resuelto"), ("pan", "código {v} del producto"),
           ("phone", "pedido {v} confirmado"), ("phone", "referencia {v}"),
           ("amount", "total {v}"), ("date", "vence el {v}"), ("track", "seguimiento {v}"),
           ("cnpj", "referencia {v}"), ("iban", "reserva {v}"),
           ("card", "envío {v} en reparto"), ("cpf", "expediente {v} abierto"),
           ("phone", "póliza {v} renovada"), ("aadhaar", "matrícula {v} activa")],
    "hi": [("card", "order id {v} deliver ho gaya"), ("card", "order {v} cancel karo"),
           ("cpf", "invoice {v} bhej diya"), ("ssn", "batch {v} ready hai"),
           ("aadhaar", "ticket {v} close karo"), ("aadhaar", "txn id {v} fail ho gaya"),
           ("pan", "code {v} lagao discount ke liye"), ("phone", "order {v} kab aayega"),
           ("phone", "utr {v} check karo"), ("amount", "total {v} ho gaya"),
           ("date", "{v} tak payment karo"), ("track", "tracking {v} dekho"),
           ("card", "parcel {v} aaya kya"), ("phone", "policy {v} renew karo"),
           ("aadhaar", "consignment {v} pahuncha"), ("cpf", "challan {v} bhara")],
}  # fmt: skip

# Ordinary chat, with numbers of every kind that are no one's personal data.
PLAIN = {
    "en": ["can you send me the deck before the call?", "meeting moved to 3pm 😀",
           "ok, will check tomorrow", "the Q3 numbers look good, revenue up 12%",
           "let's do lunch at 12:30", "I'll be 10 min late 🙏", "room 1204, 2nd floor",
           "thanks!! 👍👍", "can we push the review to Friday?", "price is 249.99 for the pack",
           "we sold 1,250 units in May", "flight AA 1043 lands 18:05", "call at 9 tomorrow?",
           "the drug launch went well, sales team happy", "diabetes franchise grew 8% this year"],
    "pt": ["blz, falo contigo amanhã", "a reunião foi pra 15h", "segue a planilha 📎",
           "vou atrasar uns 10 min", "valeu!!", "o relatório tá na pasta do drive",
           "fechamos 3 contratos essa semana 🎉", "bom dia, tudo certo?", "sala 304, 3º andar",
           "o preço ficou 1.250,00 por unidade", "vendas de insulina subiram no trimestre",
           "amanhã 9h30 na sede", "pode revisar a proposta?",
           "quimioterapia é o foco do congresso"],
    "es": ["vale, lo reviso mañana", "la reunión pasó a las 16h", "gracias!! 🙌",
           "llego 10 min tarde", "te mando el informe luego", "cerramos 4 contratos 🎉",
           "sala 502, planta 5", "el precio es 349,90", "mañana a las 9:30 en la oficina",
           "campaña de ventas de antidepresivos en marzo", "¿puedes revisar la propuesta?"],
    "hi": ["kal milte hai bhai", "meeting 4 baje shift ho gayi", "ok done 👍",
           "thoda late ho jaunga",
           "report bhej diya hai", "aaj 3 deal close hui 🎉", "price 1499 rakha hai",
           "kal subah 10 baje call karte hai", "cancer drug ka launch next week hai",
           "floor 7 pe aa jao"],
}  # fmt: skip

_NOISE = ["", "", "", " 😀", " 🙏", " pls", " ok?", " !!", " thx", " 👍", " rs", " hehe"]


def _shape(rng: random.Random, kind: str) -> str:
    """A number shaped like `kind` that is not personal data; a third pass that type's check."""
    valid = rng.random() < 1 / 3
    if kind == "card":
        body = rng.choice("4456") + _digits(rng, 14)
        return body + (luhn.calc_check_digit(body) if valid else rng.choice(string.digits))
    if kind == "cpf":
        return cpf_number(rng, bare=True) if valid else _digits(rng, 11)
    if kind == "cnpj":
        if valid:
            head = _digits(rng, 12)
            return head + cnpj.calc_check_digits(head)
        return _digits(rng, 14)
    if kind == "ssn":
        number = ssn(rng)
        return number if rng.random() < 0.7 else number.replace("-", "")
    if kind == "aadhaar":
        body = str(rng.randint(2, 9)) + _digits(rng, 10)
        return body + (verhoeff.calc_check_digit(body) if valid else rng.choice(string.digits))
    if kind == "pan":
        return pan_number(rng)
    if kind == "phone":
        return str(rng.randint(1, 9)) + _digits(rng, rng.choice([9, 10, 10, 11]))
    if kind == "amount":
        return rng.choice(["R$ ", "$ ", "₹ ", "€ ", "Rs. "]) + rng.choice(
            ["1.234.567,89", "45,00,000", "12,500.00", "98765432,10", "1.200", "11987654321"]
        )
    if kind == "date":
        return rng.choice(["12/05/2024", "2024-05-12", "05.12.24", "31/12/2025", "2026-01-09"])
    if kind == "track":
        return rng.choice(
            [
                "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
                + _digits(rng, 9)
                + "BR",
                "1Z"
                + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                _digits(rng, 12),
                _digits(rng, 10),
            ]
        )
    # "iban": booking references shaped like an IBAN, never passing mod 97 by construction
    while True:
        ref = "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) + _digits(rng, 16)
        if not iban.is_valid(ref):
            return ref


def _value(rng: random.Random, kind: str, lang: str) -> str:
    if kind == "credit_card":
        return card(rng)
    if kind == "iban":
        return iban_number(rng)
    if kind == "us_ssn":
        return ssn(rng, bare=rng.random() < 0.15)
    if kind == "br_cpf":
        return cpf_number(rng)
    if kind == "br_cnpj":
        return cnpj_number(rng)
    if kind == "in_aadhaar":
        return aadhaar_number(rng)
    if kind == "in_pan":
        return pan_number(rng)
    if kind == "email":
        return email(rng)
    if kind == "phone":
        return phone(rng, rng.choice(_REGION_OF_LANG[lang]))
    return rng.choice(_HEALTH[lang])


def _fill(template: str, value: str, rng: random.Random) -> tuple[str, int, int]:
    head, tail = template.split("{v}")
    if rng.random() < 0.15:
        head = head.capitalize() if head else head
    text = head + value + tail + rng.choice(_NOISE)
    return text, len(head), len(head) + len(value)


# A second, smaller set written after the detector's rules were frozen (and never tuned against):
# new phrasings, some with no telling word at all, and look-alikes next to everyday words.
HOLDOUT_POSITIVE = {
    "credit_card": {
        "en": ["pay with this one: {v}", "the number on the front is {v}", "try {v} instead"],
        "pt": ["paga com esse: {v}", "anota aí, {v}", "usa o da minha esposa {v}"],
        "es": ["paga con esta {v}", "apunta {v}", "los números son {v}"],
        "hi": ["is wale se payment karo {v}", "ye lo {v}", "naya wala {v} hai"],
    },
    "iban": {
        "en": ["bank details: {v}", "send the refund here {v}"],
        "pt": ["dados bancários {v}", "deposita aqui: {v}"],
        "es": ["datos bancarios {v}", "ingresa el dinero en {v}"],
        "hi": ["refund yaha bhejo {v}", "bank details {v}"],
    },
    "us_ssn": {
        "en": ["for the tax form: {v}", "social is {v}"],
        "pt": ["pro formulário americano: {v}"],
        "es": ["para el formulario del IRS: {v}"],
        "hi": ["tax form ke liye {v}"],
    },
    "br_cpf": {
        "en": ["his Brazilian tax id {v}", "tax number {v}"],
        "pt": ["documento: {v}", "segue meus dados, {v}", "{v} esse é o meu"],
        "es": ["su documento brasileño {v}"],
        "hi": ["Brazil wala tax id {v}"],
    },
    "br_cnpj": {
        "en": ["supplier tax id {v}", "bill it to {v}"],
        "pt": ["dados da firma: {v}", "emite a nota pra {v}"],
        "es": ["datos de la empresa {v}"],
        "hi": ["firm ka tax id {v}"],
    },
    "in_aadhaar": {
        "en": ["for KYC: {v}", "UID {v}"],
        "pt": ["identidade indiana dele: {v}"],
        "es": ["su identificación india {v}"],
        "hi": ["KYC ke liye {v}", "ye mera UID hai {v}"],
    },
    "in_pan": {
        "en": ["tax id for India: {v}", "income tax no {v}"],
        "pt": ["o número fiscal indiano: {v}"],
        "es": ["número fiscal de India {v}"],
        "hi": ["ITR ke liye {v}", "tax wala number {v}"],
    },
    "email": {
        "en": ["reach out to {v}", "forward to {v} and me"],
        "pt": ["encaminha pra {v}"],
        "es": ["reenvíalo a {v}"],
        "hi": ["{v} ko forward karo"],
    },
    "phone": {
        "en": ["ping me {v}", "{v} anytime", "here's my cell {v}"],
        "pt": ["anota meu contato {v}", "{v} qualquer hora", "me chama {v}"],
        "es": ["apunta mi contacto {v}", "{v} a cualquier hora"],
        "hi": ["{v} pe baat karte hai", "ye mera contact {v}"],
    },
}  # fmt: skip
HOLDOUT_HARD = {
    "en": [("card", "gift card balance ref {v}"), ("phone", "meter reading {v}"),
           ("ssn", "flight locator {v}"), ("aadhaar", "account statement line {v}"),
           ("cpf", "container {v} at the port"), ("pan", "model {v} discontinued"),
           ("track", "parcel {v} out for delivery"), ("amount", "we paid {v}")],
    "pt": [("card", "boleto linha digitável {v}"), ("phone", "senha do wifi {v}"),
           ("cpf", "conta de luz {v}"), ("aadhaar", "chassi {v}"), ("ssn", "série {v}"),
           ("cnpj", "processo {v}"), ("track", "objeto {v} postado")],
    "es": [("card", "albarán {v}"), ("phone", "contador de agua {v}"), ("cpf", "socio {v}"),
           ("aadhaar", "recibo {v}"), ("pan", "modelo {v}"), ("track", "paquete {v}")],
    "hi": [("card", "bill no {v}"), ("phone", "meter {v} ki reading"), ("aadhaar", "receipt {v}"),
           ("cpf", "roll no {v}"), ("pan", "model {v} ka stock"), ("track", "courier {v}")],
}  # fmt: skip


def generate(*, holdout: bool = False) -> list[dict[str, object]]:
    rng = random.Random(SEED + 1 if holdout else SEED)
    positive, hard = (HOLDOUT_POSITIVE, HOLDOUT_HARD) if holdout else (POSITIVE, HARD)
    per_type = 12 if holdout else POSITIVES_PER_TYPE_AND_LANG
    rows: list[dict[str, object]] = []
    for lang in LANGS:
        for kind, phrasings in positive.items():
            for i in range(per_type):
                template = phrasings[lang][i % len(phrasings[lang])]
                value = _value(rng, kind, lang)
                text, start, end = _fill(template, value, rng)
                label = {"type": kind, "start": start, "end": end, "value": value}
                rows.append({"lang": lang, "group": "positive", "text": text, "pii": [label]})
        for i in range(100 if holdout else HARD_NEGATIVES_PER_LANG):
            kind, template = hard[lang][i % len(hard[lang])]
            text, _, _ = _fill(template, _shape(rng, kind), rng)
            rows.append({"lang": lang, "group": "hard_negative", "text": text, "pii": []})
        for i in range(0 if holdout else PLAIN_PER_LANG):
            text = PLAIN[lang][i % len(PLAIN[lang])] + rng.choice(_NOISE)
            rows.append({"lang": lang, "group": "plain", "text": text, "pii": []})
    rng.shuffle(rows)
    prefix = "pii-holdout" if holdout else "pii"
    return [{"id": f"{prefix}-{n:05d}", **row} for n, row in enumerate(rows)]


def render(rows: list[dict[str, object]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)


if __name__ == "__main__":
    OUT.write_text(render(generate()), encoding="utf-8")
    HOLDOUT.write_text(render(generate(holdout=True)), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT} and {HOLDOUT}\n")

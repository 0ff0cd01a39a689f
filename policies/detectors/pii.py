"""Personal data in chat text: cards, IBAN, US SSN, Brazil CPF/CNPJ, India Aadhaar/PAN, emails,
phones and health terms (issue 11, detector 2).

One compiled regex finds every candidate in a single pass; each candidate is then checked by a
maintained library (python-stdnum's check digits and formats, phonenumbers' numbering plans) and
scored by the words around it. A check digit alone lets about one random number in ten through
(Luhn, Verhoeff) and SSN, PAN and phone numbers have none, so a number that only passes its check
scores below `DEFAULT_THRESHOLD` unless a word such as 'cpf', 'cartão' or 'aadhaar' is near it, and
a nearer word such as 'pedido', 'invoice' or 'rastreio' pushes it down further.

Values are returned in the findings (the officer needs them) and never logged here.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ahocorasick
import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn, verhoeff
from stdnum.br import cnpj as std_cnpj
from stdnum.br import cpf as std_cpf
from stdnum.in_ import aadhaar as std_aadhaar
from stdnum.in_ import pan as std_pan
from stdnum.us import ssn as std_ssn

from policies.detectors.findings import PII, Finding, Span

DETECTOR = "pii"
# The score at which the built-in packs raise a pii finding; numbers that only pass a check digit
# (or have none) without a context word stay below it.
DEFAULT_THRESHOLD = 0.5
# The regions whose national phone formats are tried; the tenant's default region comes first.
PHONE_REGIONS: tuple[str, ...] = ("BR", "IN", "US", "ES", "MX", "PT", "GB")
# How far (in characters) a context word may be from the value it speaks about.
WINDOW_BEFORE = 48
WINDOW_AFTER = 32

_TYPE_NAMES = {
    "credit_card": "Payment card number",
    "iban": "IBAN (international bank account number)",
    "us_ssn": "US Social Security number",
    "br_cpf": "Brazilian CPF",
    "br_cnpj": "Brazilian CNPJ",
    "in_aadhaar": "Indian Aadhaar number",
    "in_pan": "Indian PAN",
    "email": "Email address",
    "phone": "Phone number",
    "health": "Health term",
}

# --- context words --------------------------------------------------------------------------
# Written in lower case with their accents; the unaccented spelling people type in chat is added
# automatically. Currency signs are not context words: an amount is skipped by its sign before the
# number, and "rs" after a message is Brazilian laughter as often as rupees. "neg" words are those
# of orders, invoices, tracking and amounts: they speak of a number that is not a person's.
# fmt: off
_CONTEXT: dict[str, tuple[str, ...]] = {
    "credit_card": (
        "card", "credit card", "debit card", "cc", "cvv", "cvc", "visa", "mastercard", "amex",
        "cartão", "cartao de credito", "cartão de crédito", "crédito", "débito", "validade",
        "tarjeta", "tarjeta de crédito", "vencimiento", "expiry", "expires", "kaard",
    ),
    "iban": (
        "iban", "bank account", "account", "conta", "conta bancária", "cuenta", "cuenta bancaria",
        "transfer", "transferência", "transferencia", "wire", "swift", "bic", "banco", "bank",
        "khata",
    ),
    "us_ssn": ("ssn", "social security", "social security number", "seguro social", "tin"),
    "br_cpf": ("cpf", "cadastro de pessoa", "contribuinte", "documento", "meu doc"),
    "br_cnpj": ("cnpj", "razão social", "empresa", "cadastro nacional"),
    "in_aadhaar": ("aadhaar", "aadhar", "adhaar", "aadhaar card", "uid", "uidai", "आधार"),
    "in_pan": ("pan", "pan card", "pan no", "pan number", "income tax", "permanent account"),
    "phone": (
        "tel", "telefone", "telefono", "teléfono", "phone", "cel", "celular", "cell", "mobile",
        "mob", "móvil", "whatsapp", "whats", "wpp", "zap", "ligar", "liga", "ligue", "me liga",
        "call", "call me", "text me", "ring", "llamar", "llámame", "llama", "contato", "contacto",
        "contact", "reach me", "fone", "my number", "meu número", "mi número", "mera number",
        "mera no",
        "numero dela", "número dele", "número dela", "his number", "her number", "ph", "phn",
    ),
    "health": (
        "diagnosed", "diagnosis", "diagnosticado", "diagnosticada", "diagnóstico", "prescribed",
        "prescription", "receita", "receta", "receitou", "prescrito", "prescrita", "tratamento",
        "tratamiento", "treatment", "patient", "paciente", "hospital", "internado", "internada",
        "hospitalizado", "hospitalizada", "médico", "médica", "doctor", "dr", "exame", "examen",
        "exam", "consulta", "laudo", "atestado", "sofre", "sufre", "suffers", "suffering",
        "tomando", "taking", "takes", "tenho", "tengo", "tem", "tiene", "has", "have", "my", "meu",
        "minha", "mi", "mis", "mujhe", "meri", "mera", "mere", "uski", "uska", "unko", "dawai",
        "dawa", "ilaaj", "bimari", "his", "her", "sua", "seu", "su", "i'm", "i am", "estou",
        "estoy", "está", "ela está", "she is", "he is",
    ),
    "neg": (
        "pedido", "order", "order id", "ord", "invoice", "inv", "fatura", "factura", "nota fiscal",
        "nf", "nfe", "rastreio", "rastreamento", "tracking", "track", "seguimiento", "awb",
        "protocolo", "protocol", "ticket", "chamado", "ref", "referência", "referencia",
        "reference", "código", "codigo", "code", "sku", "lote", "batch", "serial", "guia",
        "boleto", "transação",
        "transaction", "txn", "utr", "id do pedido", "número do pedido", "booking", "reserva",
        "pnr", "valor", "amount", "total", "preço", "precio", "price", "reais", "pesos",
        "dólares", "dollars", "rupees",
        "extensão", "extension", "ramal", "ext", "cep", "zip", "pin code", "pincode",
    ),
    # Business talk: a health term next to these is a product or a market, not someone's health
    # (they push numbers down too).
    "business": (
        "market", "mercado", "sales", "vendas", "ventas", "launch", "lançamento", "lanzamiento",
        "portfolio", "portfólio", "campaign", "campanha", "campaña", "stock", "ações",
    ),
}
# fmt: on

# --- health terms (PHI) -----------------------------------------------------------------------
# Conservative on purpose: diagnoses, conditions and prescription drugs. A term alone scores below
# the threshold; it takes a word of someone's own health near it ("diagnosed", "minha mãe",
# "mujhe") to report it. Words that mostly mean something else ("stroke" of luck, "aids" for
# hearing) are left out.
# fmt: off
_HEALTH_TERMS: tuple[str, ...] = (
    # en
    "diabetes", "diabetic", "cancer", "leukemia", "leukaemia", "chemotherapy", "radiotherapy",
    "hiv", "hiv positive", "depression", "hepatitis", "tuberculosis", "schizophrenia",
    "bipolar disorder",
    "alzheimer", "alzheimer's", "parkinson's", "epilepsy", "asthma", "hypertension",
    "heart attack", "dialysis", "insulin", "antidepressant", "antidepressants", "pregnant",
    "miscarriage", "autism", "adhd", "anxiety disorder", "panic attacks", "covid positive",
    "metformin", "sertraline", "fluoxetine", "clonazepam", "methotrexate", "antiretroviral",
    "chronic kidney disease", "multiple sclerosis", "lupus",
    # pt
    "diabético", "diabética", "câncer", "leucemia", "quimioterapia", "radioterapia",
    "soropositivo", "soropositiva", "hepatite", "tuberculose", "esquizofrenia",
    "transtorno bipolar", "epilepsia", "asma", "hipertensão", "infarto", "diálise", "insulina",
    "antidepressivo", "antidepressivos", "grávida", "gravidez", "aborto espontâneo", "autismo",
    "tdah", "transtorno de ansiedade", "crise de pânico", "depressão", "metformina",
    "sertralina", "fluoxetina", "rivotril", "metotrexato", "antirretroviral", "esclerose múltipla",
    "covid positivo",
    # es
    "cáncer", "diálisis", "hipertensión", "embarazada", "embarazo", "aborto espontáneo",
    "trastorno bipolar", "trastorno de ansiedad", "ataque de pánico", "depresión",
    "antidepresivo", "antidepresivos", "seropositivo", "seropositiva", "esclerosis múltiple",
    "tuberculosis", "hepatitis", "vih",
    # hi (Latin and Devanagari)
    "sugar ki bimari", "madhumeh", "मधुमेह", "कैंसर",
)
# fmt: on


def _fold(text: str) -> str:
    """Lower case without accents: how context words and health terms are looked up."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _spellings(word: str) -> set[str]:
    """A word as written and without accents, in lower case."""
    return {word.lower(), _fold(word)}


def _lowered(text: str) -> str:
    """`text` in lower case, letter for letter, so offsets into it are offsets into `text`."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters ('İ') grow when lowered
        lowered = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
    return lowered


def _automaton(entries: dict[str, frozenset[str]]) -> Any:
    # Word lists, not patterns: an Aho-Corasick automaton finds all of them in one pass about ten
    # times faster than the same list as a regex alternation (measured here on chat messages).
    automaton = ahocorasick.Automaton()
    for spelling, kinds in entries.items():
        automaton.add_word(spelling, (len(spelling), kinds))
    automaton.make_automaton()
    return automaton


def _whole_words(automaton: Any, lowered: str) -> list[tuple[int, int, frozenset[str]]]:
    """(start, end, kinds) of the automaton's words that stand as whole words in `lowered`."""
    found = []
    size = len(lowered)
    for last, (length, kinds) in automaton.iter(lowered):
        start, end = last - length + 1, last + 1
        if (start and lowered[start - 1].isalnum()) or (end < size and lowered[end].isalnum()):
            continue
        found.append((start, end, kinds))
    return found


def _context_entries() -> dict[str, frozenset[str]]:
    entries: dict[str, frozenset[str]] = {}
    for kind, words in _CONTEXT.items():
        kinds = {"neg", "neg_health"} if kind == "business" else {kind}
        for word in words:
            for spelling in _spellings(word):
                entries[spelling] = entries.get(spelling, frozenset()) | kinds
    return entries


_CONTEXT_WORDS = _automaton(_context_entries())
_HEALTH_WORDS = _automaton(
    {spelling: frozenset({"health"}) for term in _HEALTH_TERMS for spelling in _spellings(term)}
)

# --- the one candidate pass -------------------------------------------------------------------
# Every alternative starts where no word, number or address continues to the left, so the engine
# gives up at a position inside a word after one look-behind instead of trying each alternative.
_EMAIL = r"""
    (?P<email>[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}
        (?![\w-]))
    |"""
_IDENTIFIERS = r"""
    (?P<cnpj>[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2}(?![\w/-])
        |(?=[0-9]{0,11}[A-Z])[0-9A-Z]{12}[0-9]{2}(?![\w/-]))
    |(?P<iban>(?i:[a-z]{2}[0-9]{2}(?:\ ?[a-z0-9]{4}){2,7}(?:\ ?[a-z0-9]{1,4})?)(?![\w/-]))
    |(?P<pan>(?i:[a-z]{3}[abcfghljptk][a-z][0-9]{4}[a-z])(?![\w/-]))
    |(?P<number>(?:\+[0-9]{1,3}[\ .-]?)?(?:\([0-9]{1,4}\)[\ .-]?)?[0-9]+(?:[\ .\-/][0-9]+)*
        (?![\w/]))
    """
_CANDIDATES = re.compile(r"(?<![\w.%+/-])(?:" + _EMAIL + _IDENTIFIERS + ")", re.VERBOSE)
# The same without the email alternative, for the texts without an '@' (most): at the start of
# every word the email alternative read the whole word before giving up.
_CANDIDATES_WITHOUT_EMAIL = re.compile(r"(?<![\w.%+/-])(?:" + _IDENTIFIERS + ")", re.VERBOSE)
# Identifiers all hold a digit or an '@': most chat messages hold neither and skip the regex.
_MAY_HOLD_IDENTIFIER = re.compile(r"[0-9@]")


def _health_terms(lowered: str) -> list[tuple[int, int]]:
    """Spans of the health terms standing as whole words, the longest where they overlap."""
    spans = sorted(((start, end) for start, end, _ in _whole_words(_HEALTH_WORDS, lowered)),
                   key=lambda span: (span[0], -span[1]))  # fmt: skip
    kept: list[tuple[int, int]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
    return kept


_DATE = re.compile(
    r"[0-9]{1,2}([/.-])[0-9]{1,2}\1(?:[0-9]{2}|[0-9]{4})|[0-9]{4}([/.-])[0-9]{1,2}\2[0-9]{1,2}"
)
_CURRENCY_BEFORE = re.compile(r"(?:R\$|\$|€|£|₹|(?<!\w)(?:Rs\.?|INR|USD|BRL|MXN|EUR))\s*$", re.I)
_CARD_FORMATS = (
    re.compile(r"[0-9]{13,19}"),
    re.compile(r"[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{4}(?:\1[0-9]{1,3})?"),
    re.compile(r"[0-9]{4}([ -])[0-9]{6}\1[0-9]{4,5}"),  # Amex and Diners
)
_CPF_FORMATTED = re.compile(r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}-[0-9]{2}|[0-9]{3}\.[0-9]{3}\.[0-9]{5}")
# What the number candidate may hold besides digits (see _CANDIDATES' "number"): deleted, the
# digits are left, by one C call instead of a test per character.
_SEPARATORS = str.maketrans("", "", " .-/()+")
_SSN_FORMATTED = re.compile(r"[0-9]{3}([ -])[0-9]{2}\1[0-9]{4}")
_AADHAAR_FORMATTED = re.compile(r"[0-9]{4}([ -])[0-9]{4}\1[0-9]{4}")

# Issuer identification number ranges (the card's first digits): (brand, low, high, lengths).
# Written here because neither python-stdnum nor another library we depend on carries them; a
# Luhn-valid number outside every range is not a card anyone issues.
_IIN_RANGES: tuple[tuple[str, int, int, frozenset[int]], ...] = (
    ("Elo", 506699, 506778, frozenset({16})),
    ("Elo", 509000, 509999, frozenset({16})),
    ("Elo", 636297, 636368, frozenset({16})),
    ("Elo", 650031, 650978, frozenset({16})),
    ("Hipercard", 606282, 606282, frozenset({16, 19})),
    ("Visa", 4, 4, frozenset({13, 16, 19})),
    ("Mastercard", 51, 55, frozenset({16})),
    ("Mastercard", 2221, 2720, frozenset({16})),
    ("American Express", 34, 34, frozenset({15})),
    ("American Express", 37, 37, frozenset({15})),
    ("Diners Club", 300, 305, frozenset({14, 16, 19})),
    ("Diners Club", 36, 36, frozenset({14, 16, 19})),
    ("Diners Club", 38, 39, frozenset({14, 16, 19})),
    ("JCB", 3528, 3589, frozenset({16, 17, 18, 19})),
    ("Discover", 6011, 6011, frozenset({16, 19})),
    ("Discover", 644, 649, frozenset({16, 19})),
    ("Discover", 65, 65, frozenset({16, 19})),
    ("RuPay", 60, 60, frozenset({16})),
    ("RuPay", 81, 82, frozenset({16})),
    ("UnionPay", 62, 62, frozenset({16, 17, 18, 19})),
)


# The ranges with their prefix widths, worked out once (the scan checks thousands of numbers).
_IIN_TABLE = tuple(
    (brand, len(str(low)), low, high, lengths) for brand, low, high, lengths in _IIN_RANGES
)


def _card_brand(digits: str) -> str | None:
    size = len(digits)
    for brand, width, low, high, lengths in _IIN_TABLE:
        if size in lengths and low <= int(digits[:width]) <= high:
            return brand
    return None


# --- quick refusals before python-stdnum ----------------------------------------------------------
# stdnum stays the judge of every number reported; these only refuse early, by a condition
# every valid number meets (tests/policies/test_pii_refusals.py compares them with stdnum on
# random numbers). stdnum cleans each number again character by character in Python before its
# check, which cost more than the check: most numbers in chat fail the check digit.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # 2d, less 9 when it has two digits


def _luhn_valid(digits: str) -> bool:
    """Whether a run of digits passes Luhn (stdnum's `luhn.checksum(digits) == 0`)."""
    return sum(map(int, digits[-1::-2] + digits[-2::-2].translate(_LUHN_DOUBLED))) % 10 == 0


def _cpf_digits_match(digits: str) -> bool:
    """Whether 11 digits carry the CPF's two check digits (stdnum's own formula)."""
    values = [int(digit) for digit in digits]
    head = values[:9]
    first: int = (11 - sum(map(operator.mul, head, range(10, 1, -1)))) % 11 % 10
    second: int = (11 - sum(map(operator.mul, head, range(11, 2, -1))) - 2 * first) % 11 % 10
    return values[9] == first and values[10] == second


def _ssn_components_possible(digits: str) -> bool:
    """Whether 9 digits could be an issued SSN (stdnum's refusals of area, group and serial)."""
    area = digits[:3]
    return (
        area != "000"
        and area != "666"
        and area[0] != "9"
        and digits[3:5] != "00"
        and digits[5:] != "0000"
    )


# --- scoring ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    """The context words of one text: (start, end, word as written, kinds)."""

    hits: tuple[tuple[int, int, str, frozenset[str]], ...]

    def nearest(self, start: int, end: int, kind: str) -> tuple[str, str] | None:
        """The nearest word in the window that speaks for `kind` or against it.

        Returns ("pos" | "neg", word) or None. A word for the kind wins a tie: "cpf do pedido"
        still names the CPF.
        """
        best: tuple[int, int, str, str] | None = None
        for hit_start, hit_end, word, kinds in self.hits:
            if hit_end <= start:
                gap = start - hit_end
                if gap > WINDOW_BEFORE:
                    continue
            elif hit_start >= end:
                gap = hit_start - end
                if gap > WINDOW_AFTER:
                    continue
            else:
                continue  # inside the value itself ("Rs" in a PAN, "ext" in an email)
            if kind in kinds:
                rank = (gap, 0, "pos", word)
            elif ("neg" if kind != "health" else "neg_health") in kinds:
                rank = (gap, 1, "neg", word)
            else:
                continue
            if best is None or rank[:2] < best[:2]:
                best = rank
        return None if best is None else (best[2], best[3])


def _context_of(text: str, lowered: str) -> _Context:
    hits = _whole_words(_CONTEXT_WORDS, lowered)
    return _Context(tuple((start, end, text[start:end], kinds) for start, end, kinds in hits))


@dataclass(frozen=True, slots=True)
class _Reading:
    """One way to read a candidate: its type, base score and what the check said."""

    kind: str
    base: float
    strong: float  # the score with a context word for the kind
    check: str  # "with valid check digits", ...


def _score(reading: _Reading, context: _Context, start: int, end: int) -> tuple[float, str]:
    name = _TYPE_NAMES[reading.kind]
    if reading.kind == "email":
        return reading.base, f"{name} {reading.check}"
    near = context.nearest(start, end, reading.kind)
    if near is None:
        return reading.base, f"{name} {reading.check}, with no telling word nearby"
    polarity, word = near
    if polarity == "pos":
        return reading.strong, f"{name} {reading.check}, next to '{word}'"
    low = min(reading.base, 0.25)
    return low, f"{name} {reading.check}, but next to '{word}', so probably not a person's"


@lru_cache(maxsize=4096)
def _phone_reading(raw: str, region: str) -> _Reading | None:
    """The phone reading of a number, by phonenumbers' numbering plans (cached: ids repeat)."""
    regions = (region, *(r for r in PHONE_REGIONS if r != region))
    for index, candidate in enumerate((None,) if raw.startswith("+") else regions):
        try:
            parsed = phonenumbers.parse(raw, candidate)
        except phonenumbers.NumberParseException:
            continue
        if not phonenumbers.is_valid_number(parsed):
            continue
        country = phonenumbers.region_code_for_number(parsed) or "?"
        if candidate is None:
            return _Reading("phone", 0.65, 0.95, f"valid in {country}, with its country code")
        if index == 0:
            # Written as people write phones (spaces, dashes, brackets) it reads as one; a bare
            # run of digits is as often an order or protocol number.
            grouped = not raw.isdigit()
            return _Reading("phone", 0.55 if grouped else 0.45, 0.9, f"valid in {country}")
        return _Reading("phone", 0.4, 0.9, f"valid in {country} (not the default region)")
    return None


def _number_readings(raw: str, region: str) -> list[_Reading]:
    """Every reading of a run of digits (with its separators) that passes its checks."""
    digits = raw.translate(_SEPARATORS)
    n = len(digits)
    readings: list[_Reading] = []
    if n < 8 or n > 19:
        return readings
    bare = raw == digits
    if "/" not in raw and "(" not in raw and not raw.startswith("+"):
        # The checks cheapest to refuse on come first: the written format, then the check
        # digit by stdnum's own checksum over the digits already cleaned (its is_valid cleans
        # the text again, character by character, which cost more than the check itself), then
        # the rest of stdnum's validation. Most numbers in chat are refused by the first two.
        if (
            13 <= n <= 19
            and any(f.fullmatch(raw) for f in _CARD_FORMATS)
            and _luhn_valid(digits)
            and luhn.checksum(digits) == 0
        ):
            brand = _card_brand(digits)
            if brand:
                readings.append(
                    _Reading(
                        "credit_card",
                        # In groups of four it reads as a card; bare, one order number in ten
                        # passes Luhn, so it needs a card word to be reported.
                        0.45 if bare else 0.6,
                        0.95,
                        f"({brand}) with a valid Luhn check digit",
                    )
                )
        cpf_formatted = bool(_CPF_FORMATTED.fullmatch(raw))
        if (
            n == 11
            and (cpf_formatted or bare)
            and _cpf_digits_match(digits)
            and std_cpf.is_valid(digits)
        ):
            if cpf_formatted:
                readings.append(_Reading("br_cpf", 0.75, 0.97, "with valid check digits"))
            else:
                readings.append(_Reading("br_cpf", 0.4, 0.9, "with valid check digits"))
        if n == 14 and bare and std_cnpj.is_valid(digits):
            readings.append(_Reading("br_cnpj", 0.45, 0.93, "with valid check digits"))
        if (
            n == 12
            and digits[0] not in "01"  # Aadhaar numbers start with 2 to 9
            and (bare or _AADHAAR_FORMATTED.fullmatch(raw))
            and verhoeff.checksum(digits) == 0
            and std_aadhaar.is_valid(digits)
        ):
            base = 0.45 if bare else 0.5
            readings.append(_Reading("in_aadhaar", base, 0.95, "with a valid Verhoeff check digit"))
        if (
            n == 9
            and (bare or _SSN_FORMATTED.fullmatch(raw))
            and _ssn_components_possible(digits)
            and std_ssn.is_valid(digits)
        ):
            base = 0.2 if bare else 0.4
            readings.append(
                _Reading("us_ssn", base, 0.9, "(in the issued ranges; SSNs have no check digit)")
            )
    if n <= 15 and "/" not in raw and not _CPF_FORMATTED.fullmatch(raw):
        phone = _phone_reading(raw, region)
        if phone is not None:
            readings.append(phone)
    return readings


def _trim_iban(raw: str, start: int) -> tuple[str, int]:
    """The longest valid IBAN at the start of `raw`: a spaced IBAN's pattern can take in the
    next short word ("... 1332 para")."""
    candidate = raw
    for _ in range(3):
        if std_iban.is_valid(candidate.replace(" ", "").upper()):
            return candidate, start + len(candidate)
        head, _sep, _tail = candidate.rpartition(" ")
        if not head:
            break
        candidate = head
    return raw, start + len(raw)


def _candidates(text: str, lowered: str) -> list[tuple[str, int, int]]:
    """(kind of candidate, start, end) in the order they appear."""
    found: list[tuple[str, int, int]] = []
    if _MAY_HOLD_IDENTIFIER.search(text):
        pattern = _CANDIDATES if "@" in text else _CANDIDATES_WITHOUT_EMAIL
        for m in pattern.finditer(text):
            start, end = m.span()
            # A number needs 8 digits to be any of the types: most numbers in chat are shorter.
            if end - start >= 8 or m.lastgroup != "number":
                found.append((m.lastgroup or "", start, end))
    health = _health_terms(lowered)
    if health:
        found.extend(("health", start, end) for start, end in health)
        found.sort(key=lambda candidate: candidate[1])
    return found


def _detect_one(text: str, region: str) -> list[Finding]:
    findings: list[Finding] = []
    context: _Context | None = None
    lowered = _lowered(text)
    for group, start, end in _candidates(text, lowered):
        raw = text[start:end]
        readings: list[_Reading] = []
        if group == "email":
            readings.append(_Reading("email", 0.9, 0.9, "(well formed, with a domain)"))
        elif group == "cnpj":
            if std_cnpj.is_valid(raw):
                formatted = "/" in raw
                alnum = any(ch.isalpha() for ch in raw)
                check = "in the alphanumeric format, " if alnum else ""
                readings.append(
                    _Reading(
                        "br_cnpj",
                        0.8 if formatted else 0.4,
                        0.97,
                        f"{check}with valid check digits",
                    )
                )
        elif group == "iban":
            raw, end = _trim_iban(raw, start)
            compact = raw.replace(" ", "").upper()
            if std_iban.is_valid(compact):
                readings.append(
                    _Reading("iban", 0.85, 0.98, "with a valid check (ISO 13616, mod 97)")
                )
            elif raw == raw.upper() and len(compact) == 14 and std_cnpj.is_valid(compact):
                readings.append(_Reading("br_cnpj", 0.4, 0.97, "with valid check digits"))
        elif group == "pan":
            if std_pan.is_valid(raw.upper()):
                readings.append(
                    _Reading("in_pan", 0.35, 0.9, "(the PAN's shape; PANs have no public check)")
                )
        elif group == "number":
            if _DATE.fullmatch(raw) or _CURRENCY_BEFORE.search(text, max(0, start - 6), start):
                continue
            readings = _number_readings(raw, region)
        elif group == "health":
            readings.append(_Reading("health", 0.35, 0.8, f"'{raw}'"))
        if not readings:
            continue
        if context is None:
            context = _context_of(text, lowered)
        best: tuple[float, str, str] | None = None
        for reading in readings:
            score, explanation = _score(reading, context, start, end)
            if best is None or score > best[0]:
                best = (score, explanation, reading.kind)
        assert best is not None
        score, explanation, kind = best
        findings.append(
            Finding(
                category=PII,
                detector=DETECTOR,
                score=score,
                spans=(Span(start, end),),
                explanation=explanation,
                attributes={"type": kind, "value": raw},
            )
        )
    return findings


def detect(texts: Sequence[str], *, region: str = "BR") -> list[list[Finding]]:
    """The personal data in each text of a batch, one list of findings per text, in order.

    `region` (ISO 3166 alpha-2) is the tenant's default region for phone numbers written without
    a country code; the other regions of PHONE_REGIONS are tried after it at a lower score.
    Findings below DEFAULT_THRESHOLD are returned too (policies set their own thresholds).
    """
    region = region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unknown phone region {region!r}: use an ISO 3166 code such as 'BR'")
    out: list[list[Finding]] = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"detect takes texts (str); got {type(text).__name__}")
        out.append(_detect_one(text, region) if text else [])
    return out

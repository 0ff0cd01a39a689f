"""The personal-data detector's quick refusals (policies/detectors/pii.py) refuse only numbers
python-stdnum refuses too, and the candidate pass without the email alternative finds what the
whole pass finds in a text without an '@': the speed work changes no finding."""

from __future__ import annotations

import json
import random
from pathlib import Path

from stdnum import luhn
from stdnum.br import cpf as std_cpf
from stdnum.in_ import aadhaar as std_aadhaar
from stdnum.us import ssn as std_ssn

from policies.detectors import pii

DATA = Path(__file__).with_name("data")
RNG_SEED = 20261207


def _random_digits(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(size))


def test_luhn_refusal_agrees_with_stdnum() -> None:
    rng = random.Random(RNG_SEED)
    numbers = [_random_digits(rng, rng.randint(13, 19)) for _ in range(3000)]
    # A tenth of random numbers pass Luhn; add as many made valid so both answers are tried.
    numbers += [body + luhn.calc_check_digit(body) for body in numbers[:1000]]
    for number in numbers:
        assert pii._luhn_valid(number) == (luhn.checksum(number) == 0), number


def test_cpf_refusal_never_refuses_a_valid_cpf() -> None:
    rng = random.Random(RNG_SEED)
    numbers = [_random_digits(rng, 11) for _ in range(3000)]
    valid = []
    for number in numbers[:1000]:
        body = number[:9]
        for check in range(100):  # the one pair of check digits stdnum accepts
            if std_cpf.is_valid(body + f"{check:02d}"):
                valid.append(body + f"{check:02d}")
                break
    assert len(valid) > 990  # bodies of all zeros are the only ones without a valid CPF
    for number in numbers + valid + ["00000000000", "11111111111"]:
        if std_cpf.is_valid(number):
            assert pii._cpf_digits_match(number), number
        elif int(number) > 0:
            # Every other refusal of stdnum (a zero number) is its own: the check is the same.
            assert not pii._cpf_digits_match(number), number


def test_ssn_and_aadhaar_refusals_never_refuse_a_valid_number() -> None:
    rng = random.Random(RNG_SEED)
    ssns = [_random_digits(rng, 9) for _ in range(3000)] + ["000123456", "666123456", "123004567"]
    for number in ssns:
        if std_ssn.is_valid(number):
            assert pii._ssn_components_possible(number), number
        else:
            # The only refusals beyond these are stdnum's three blacklisted numbers.
            assert not pii._ssn_components_possible(number) or number in {
                "078051120",
                "457555462",
                "219099999",
            }, number
    for number in [_random_digits(rng, 12) for _ in range(3000)]:
        if std_aadhaar.is_valid(number):
            assert number[0] not in "01", number


def test_candidates_without_email_alternative_are_the_same() -> None:
    texts = [
        json.loads(line)["text"]
        for name in ("pii_eval.jsonl", "pii_eval_holdout.jsonl")
        for line in (DATA / name).open(encoding="utf-8")
    ]
    without_at = [text for text in texts if "@" not in text]
    assert len(without_at) > 2000
    for text in without_at:
        whole = [(m.lastgroup, m.span()) for m in pii._CANDIDATES.finditer(text)]
        quick = [(m.lastgroup, m.span()) for m in pii._CANDIDATES_WITHOUT_EMAIL.finditer(text)]
        assert quick == whole, text

"""Built-in policy packs a firm can switch on and copy: each is a list of policy documents in the
format of policies/documents/schema.py. The term rules come from the seed lexicons
(policies/detectors/lexicons/), inserted when a pack is read, so each rule lives in one place.

Defaults lean to precision (under 1% of ordinary business chat should raise anything): the
classifiers fire at a calibrated probability of 0.7 (CLASSIFIER_MIN), links at the detector's
default, personal data at 0.5 (a number with a valid check digit alone scores lower; see pii.py),
and e-mail addresses and phone numbers, which clients share all day, are left to the firm's own
policies.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from .detectors.lexicon import seed_lexicon

# The classifiers' own cut (best F1, about 0.5) flags 1.38% of ordinary chat they never trained
# on; at 0.7 it is 0.12%, keeping 0.62 of held-out and 0.80 of unseen positives (measured with the
# built-in model, 2026-12-06 20:30; docs/benchmarks.md "Detection: the whole set"). The packs take
# the quieter setting; a firm can lower it in its copy.
CLASSIFIER_MIN = 0.7


@dataclass(frozen=True, slots=True)
class Pack:
    slug: str
    name: str
    description: str
    documents: tuple[dict[str, Any], ...]


# What only the firm's side can breach (a promise of returns, promoting an unapproved use) is
# looked for in what employees send: a client asking "can you guarantee 12%?" is a question, not
# a breach. Both sides can move a chat off the record, hide things, tip or bribe, complain.
EMPLOYEE_ONLY = {"direction": "outbound"}


def _category_policy(
    name: str, category: str, severity: str, description: str, *, extra: tuple[Any, ...] = (),
    scope: dict[str, str] | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {
        "name": name,
        "description": description,
        "severity": severity,
        **({"scope": dict(scope)} if scope else {}),
        "detect": {
            "any": [
                {"detector": "classifier", "category": category, "min_score": CLASSIFIER_MIN},
                {"detector": "lexicon", "category": category},
                *extra,
            ]
        },
        "lexicon": seed_lexicon([category]),
        "action": {"alert": True, "notify": ["assignees"]},
    }


def _pii_policy(name: str, types: list[str], severity: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "severity": severity,
        "detect": {"detector": "pii", "types": types, "min_score": 0.5},
        "action": {"alert": True, "notify": ["assignees"]},
    }


def _packs() -> tuple[Pack, ...]:
    return (
        Pack(
            "financial_services",
            "Financial services",
            "Off-channel communication, secrecy, guaranteed returns, inside information and "
            "customer complaints: what securities regulators examine.",
            (
                _category_policy(
                    "Moving the conversation off WhatsApp",
                    "off_channel",
                    "high",
                    "A client or employee asks to continue on a channel the firm does not "
                    "record (Telegram, Signal, a personal phone).",
                    extra=({"detector": "links", "category": "off_channel"},),
                ),
                _category_policy(
                    "Hiding things from the records",
                    "secrecy",
                    "high",
                    "Asking to delete messages, keep something between us, or stay out of "
                    "compliance's sight.",
                ),
                _category_policy(
                    "Guaranteed or risk-free returns",
                    "guarantee",
                    "medium",
                    "Promises of guaranteed returns or misleading performance claims by the "
                    "firm's people.",
                    scope=EMPLOYEE_ONLY,
                ),
                _category_policy(
                    "Inside information",
                    "mnpi",
                    "critical",
                    "Sharing or asking for material non-public information before it is announced.",
                ),
                _category_policy(
                    "Customer complaints",
                    "complaint",
                    "medium",
                    "A client complains or threatens to go to the regulator: complaints must "
                    "be recorded and answered.",
                ),
            ),
        ),
        Pack(
            "life_sciences",
            "Life sciences",
            "Inducements to healthcare professionals, off-label promotion and health information.",
            (
                _category_policy(
                    "Gifts and kickbacks",
                    "bribery",
                    "critical",
                    "Gifts, payments or favours offered to officials or healthcare "
                    "professionals in return for business.",
                ),
                _category_policy(
                    "Off-label promotion",
                    "off_label",
                    "high",
                    "The firm's people promoting a medicine for a use it is not approved for.",
                    scope=EMPLOYEE_ONLY,
                ),
                _pii_policy(
                    "Patient health information",
                    ["health"],
                    "medium",
                    "Diagnoses, prescriptions and conditions of identifiable people.",
                ),
            ),
        ),
        Pack(
            "data_protection",
            "Data protection",
            "Identity numbers and financial account numbers, by country.",
            (
                _pii_policy(
                    "Payment cards and bank accounts",
                    ["credit_card", "iban"],
                    "high",
                    "Card numbers (valid check digit) and IBANs sent in a chat.",
                ),
                _pii_policy(
                    "Brazilian CPF and CNPJ",
                    ["br_cpf", "br_cnpj"],
                    "medium",
                    "Brazilian taxpayer numbers with valid check digits (LGPD).",
                ),
                _pii_policy(
                    "Indian Aadhaar and PAN",
                    ["in_aadhaar", "in_pan"],
                    "medium",
                    "Indian identity and tax numbers (DPDP Act).",
                ),
                _pii_policy(
                    "US Social Security numbers",
                    ["us_ssn"],
                    "high",
                    "US Social Security numbers next to words that name them.",
                ),
            ),
        ),
        Pack(
            "security",
            "Security",
            "Links that look like phishing: look-alike domains, IP addresses, log-in pages.",
            (
                {
                    "name": "Suspicious links",
                    "description": "Links that imitate a known brand, hide their destination, "
                    "or lead to a log-in page on a free host.",
                    "severity": "high",
                    "detect": {"detector": "links", "category": "malicious_link"},
                    "action": {"alert": True, "notify": ["assignees"]},
                },
            ),
        ),
        Pack(
            "conduct",
            "Conduct",
            "Abusive, threatening or discriminatory messages.",
            (
                _category_policy(
                    "Harassment",
                    "harassment",
                    "high",
                    "Abusive, threatening or discriminatory messages, from or to an employee.",
                ),
            ),
        ),
    )


_PACKS: tuple[Pack, ...] | None = None


def packs() -> tuple[Pack, ...]:
    """Every built-in pack (read once per process; callers get copies they may change)."""
    global _PACKS
    if _PACKS is None:
        _PACKS = _packs()
    return tuple(
        Pack(p.slug, p.name, p.description, tuple(copy.deepcopy(d) for d in p.documents))
        for p in _PACKS
    )


def pack(slug: str) -> Pack:
    for candidate in packs():
        if candidate.slug == slug:
            return candidate
    raise KeyError(slug)
